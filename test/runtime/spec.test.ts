// Unit tests of the generated OCI config (security.md R8) and of the confined USER resolution (R2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { buildSpec, computeCapabilities, parseBind, serializeSpec } from '../../src/runtime/spec.js';
import {
  DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS, DEFAULT_SECCOMP_PROFILE, dockerSeccompToOci, hostHardLimits,
} from '../../src/runtime/defaults.js';
import { resolveUser } from '../../src/runtime/user.js';
import { isBerthError } from '../../src/errors/index.js';
import { tempDir } from './helpers.js';

const base = { id: 'abc123', rootfs: '/tmp/rootfs', image: { Cmd: ['sh'], Env: ['FOO=bar'] } };

test('default spec: Docker capability set, none inheritable or ambient', () => {
  const s = buildSpec(base);
  const caps = s.process.capabilities!;
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  for (const set of [caps.bounding, caps.effective, caps.permitted]) assert.deepEqual([...set!].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.deepEqual(caps.inheritable, []);
  assert.deepEqual(caps.ambient, []);
  assert.ok(!caps.bounding!.includes('CAP_SYS_ADMIN'));
});

test('default spec: masked and read-only paths', () => {
  const s = buildSpec(base);
  for (const p of ['/proc/kcore', '/proc/keys', '/proc/acpi', '/sys/firmware', '/proc/timer_list', '/sys/devices/virtual/powercap']) {
    assert.ok(s.linux.maskedPaths!.includes(p), p);
  }
  assert.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
  assert.deepEqual(s.linux.readonlyPaths, [...READONLY_PATHS, '/sys/fs/cgroup']);
  assert.ok(s.linux.readonlyPaths!.includes('/proc/sys'));
  assert.ok(s.linux.readonlyPaths!.includes('/proc/sysrq-trigger'));
});

test('default spec: seccomp present, errno by default, converted for this arch and cap set', () => {
  const s = buildSpec(base);
  const sc = s.linux.seccomp!;
  assert.ok(sc, 'seccomp present');
  assert.equal(sc.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(sc.defaultErrnoRet, 1);
  if (process.arch === 'x64') assert.deepEqual(sc.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = new Set(sc.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  for (const n of ['read', 'write', 'execve', 'openat']) assert.ok(allowed.has(n), n);
  // CAP_SYS_ADMIN-only syscalls are not allowed without that capability.
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'keyctl', 'open_by_handle_at']) assert.ok(!allowed.has(n), n);
  // clone3 gets ENOSYS without CAP_SYS_ADMIN (excludes.caps).
  const clone3 = sc.syscalls!.find((r) => r.names.includes('clone3'));
  assert.equal(clone3?.action, 'SCMP_ACT_ERRNO');
  assert.equal(clone3?.errnoRet, 38);
  // No Docker-format keys leak into the OCI shape.
  assert.ok(!('archMap' in sc));
  for (const r of sc.syscalls!) assert.ok(!('includes' in r) && !('excludes' in r));
});

test('seccomp: CAP_SYS_ADMIN unlocks its syscalls; unconfined drops the filter; custom profile', () => {
  const s = buildSpec({ ...base, capAdd: ['SYS_ADMIN'] });
  const allowed = new Set(s.linux.seccomp!.syscalls!.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names));
  assert.ok(allowed.has('mount'));
  assert.ok(!s.linux.seccomp!.syscalls!.some((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'));
  assert.equal(buildSpec({ ...base, seccomp: 'unconfined' }).linux.seccomp, undefined);
  const custom = buildSpec({ ...base, seccomp: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] }) });
  assert.equal(custom.linux.seccomp!.defaultAction, 'SCMP_ACT_ALLOW');
  assert.deepEqual(custom.linux.seccomp!.syscalls, [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }]);
  assert.throws(() => buildSpec({ ...base, seccomp: '{not json' }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  // The converter itself on the bundled profile keeps its default.
  assert.equal(dockerSeccompToOci(DEFAULT_SECCOMP_PROFILE, []).defaultAction, 'SCMP_ACT_ERRNO');
});

test('devices cgroup: deny all first, then the allow list; default device nodes', () => {
  const s = buildSpec(base);
  const d = s.linux.resources!.devices!;
  assert.deepEqual(d[0], { allow: false, access: 'rwm' });
  const allows = d.slice(1);
  assert.ok(allows.every((x) => x.allow));
  const has = (type: string, major?: number, minor?: number, access = 'rwm') =>
    allows.some((x) => x.type === type && x.major === major && x.minor === minor && x.access === access);
  assert.ok(has('c', 1, 3)); // null
  assert.ok(has('c', 1, 5)); // zero
  assert.ok(has('c', 1, 9)); // urandom
  assert.ok(has('c', 5, 2)); // ptmx
  assert.ok(has('c', 5, 1)); // console, as Docker's daemon allows it
  assert.ok(has('c', 136, undefined)); // pts
  assert.ok(has('c', undefined, undefined, 'm') && has('b', undefined, undefined, 'm'));
  assert.ok(!allows.some((x) => x.type === 'b' && x.access!.includes('r')), 'no block device readable');
  assert.deepEqual(s.linux.devices!.map((x) => x.path).sort(), ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero']);
});

test('mounts: proc, dev tmpfs, pts, shm 64 MB, mqueue, sys ro, cgroup ro', () => {
  const s = buildSpec(base);
  const m = (dst: string) => s.mounts.find((x) => x.destination === dst);
  assert.equal(m('/proc')?.type, 'proc');
  assert.equal(m('/dev')?.type, 'tmpfs');
  assert.equal(m('/dev/pts')?.type, 'devpts');
  assert.ok(m('/dev/shm')?.options?.includes('size=67108864'));
  assert.equal(m('/dev/mqueue')?.type, 'mqueue');
  assert.ok(m('/sys')?.options?.includes('ro'));
  assert.equal(m('/sys/fs/cgroup')?.type, 'cgroup');
  assert.ok(m('/sys/fs/cgroup')?.options?.includes('ro'));
  assert.ok(buildSpec({ ...base, shmSize: 1 << 20 }).mounts.find((x) => x.destination === '/dev/shm')!.options!.includes('size=1048576'));
});

test('namespaces, hostname, env, cwd, rlimits clamped to the host', () => {
  const s = buildSpec({ ...base, hostname: 'web', env: ['A=1'], cwd: '/srv', tty: true });
  const types = s.linux.namespaces.map((n) => n.type);
  for (const t of ['pid', 'network', 'ipc', 'uts', 'mount']) assert.ok(types.includes(t), t);
  assert.equal(s.hostname, 'web');
  assert.ok(s.process.env!.includes('FOO=bar') && s.process.env!.includes('A=1') && s.process.env!.includes('HOSTNAME=web') && s.process.env!.includes('TERM=xterm'));
  assert.ok(s.process.env![0]!.startsWith('PATH='));
  assert.equal(s.process.cwd, '/srv');
  assert.equal(s.process.terminal, true);
  const nofile = s.process.rlimits!.find((r) => r.type === 'RLIMIT_NOFILE')!;
  const hard = hostHardLimits().get('RLIMIT_NOFILE') ?? Infinity;
  assert.equal(nofile.hard, Math.min(1048576, hard));
  assert.ok(nofile.soft <= nofile.hard);
  const withNet = buildSpec({ ...base, networkNamespace: '/proc/1/ns/net' });
  assert.deepEqual(withNet.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/proc/1/ns/net' });
  assert.ok(!buildSpec({ ...base, networkNamespace: 'host' }).linux.namespaces.some((n) => n.type === 'network'));
  const ul = buildSpec({ ...base, ulimits: [{ name: 'nproc', soft: 100, hard: 200 }] }).process.rlimits!;
  assert.deepEqual(ul.find((r) => r.type === 'RLIMIT_NPROC'), { type: 'RLIMIT_NPROC', soft: 100, hard: 200 });
  // -1 is written as RLIM_INFINITY, the spec's uint64 all-ones, which no JS number holds.
  const text = serializeSpec(buildSpec({ ...base, ulimits: [{ name: 'core', soft: -1, hard: -1 }, { name: 'nproc', soft: 5, hard: 9 }] }));
  assert.match(text, /\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}/);
  assert.match(text, /\{"type":"RLIMIT_NPROC","hard":9,"soft":5\}/);
  assert.ok(!text.includes(String(Number.MAX_SAFE_INTEGER)));
});

test('/dev/shm per IPC mode; block I/O limits and real-time CPU in the resources', () => {
  const shm = (o: Partial<Parameters<typeof buildSpec>[0]>) => buildSpec({ ...base, ...o }).mounts.filter((m) => m.destination === '/dev/shm');
  assert.deepEqual(shm({}).map((m) => m.type), ['tmpfs']);
  assert.deepEqual(shm({ ipcNamespace: 'host' }), [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] }]);
  assert.deepEqual(shm({ shmSource: '/var/x/shm' }).map((m) => [m.type, m.source]), [['bind', '/var/x/shm']]);
  assert.deepEqual(shm({ shmSource: null }), []);
  const r = buildSpec({ ...base, resources: {
    blkioWeightDevice: [{ major: 8, minor: 0, weight: 300 }], blkioThrottle: { readBps: [{ major: 8, minor: 0, rate: 1048576 }], writeIOps: [{ major: 8, minor: 0, rate: 77 }] },
    cpuRealtimeRuntime: 950000, cpuRealtimePeriod: 1000000,
  } }).linux.resources!;
  assert.deepEqual(r.blockIO, { weightDevice: [{ major: 8, minor: 0, weight: 300 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 77 }] });
  assert.equal(r.cpu?.realtimeRuntime, 950000);
  assert.equal(r.cpu?.realtimePeriod, 1000000);
  assert.throws(() => buildSpec({ ...base, resources: { blkioWeightDevice: [{ major: 8, minor: 0, weight: 5 }] } }), /Range of blkio weight is from 10 to 1000/);
});

test('capAdd/capDrop with and without CAP_ prefix, ALL, privileged', () => {
  const c1 = computeCapabilities({ capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'MKNOD'] });
  assert.ok(c1.includes('CAP_NET_ADMIN'));
  assert.ok(!c1.includes('CAP_CHOWN') && !c1.includes('CAP_MKNOD'));
  assert.deepEqual(computeCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
  assert.ok(computeCapabilities({ capAdd: ['ALL'] }).includes('CAP_SYS_ADMIN'));
  assert.throws(() => computeCapabilities({ capAdd: ['NOT_A_CAP'] }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  const p = buildSpec({ ...base, privileged: true });
  assert.ok(p.process.capabilities!.bounding!.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(p.process.capabilities!.inheritable, []);
  assert.equal(p.linux.seccomp, undefined);
  assert.equal(p.linux.maskedPaths, undefined);
  assert.deepEqual(p.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
});

test('noNewPrivileges, readonly rootfs, numeric user, user range checks', () => {
  assert.equal(buildSpec(base).process.noNewPrivileges, false);
  const s = buildSpec({ ...base, noNewPrivileges: true, readonlyRootfs: true, user: { uid: 1000, gid: 50, additionalGids: [7] } });
  assert.equal(s.process.noNewPrivileges, true);
  assert.equal(s.root.readonly, true);
  // As Docker: with a read-only root fs, /etc/{hosts,hostname,resolv.conf} are bound read-only too.
  const ro = buildSpec({ ...base, readonlyRootfs: true, hostsPath: '/c/hosts', hostnamePath: '/c/hostname', resolvConfPath: '/c/resolv.conf' });
  for (const d of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) assert.ok(ro.mounts.find((m) => m.destination === d)!.options!.includes('ro'), d);
  assert.ok(!buildSpec({ ...base, hostsPath: '/c/hosts' }).mounts.find((m) => m.destination === '/etc/hosts')!.options!.includes('ro'));
  assert.deepEqual(s.process.user, { uid: 1000, gid: 50, additionalGids: [7] });
  assert.throws(() => buildSpec({ ...base, user: { uid: 2147483648, gid: 0 } }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => buildSpec({ ...base, user: { uid: 0, gid: 4294967296 } }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
});

test('binds, tmpfs, sysctls, resources, init, command rules', () => {
  assert.deepEqual(parseBind('/data:/mnt:ro'), { destination: '/mnt', type: 'bind', source: '/data', options: ['rbind', 'rprivate', 'ro'] });
  assert.throws(() => parseBind('/data:/proc/x'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => parseBind('rel:/x'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => parseBind('/a:/'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  const s = buildSpec({
    ...base, binds: ['/data:/mnt'], tmpfs: { '/run': 'size=1m' }, sysctls: { 'net.ipv4.ip_forward': '1' },
    resources: { memory: 64 << 20, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100 },
  });
  assert.ok(s.mounts.some((m) => m.destination === '/mnt' && m.type === 'bind'));
  assert.ok(s.mounts.some((m) => m.destination === '/run' && m.type === 'tmpfs' && m.options!.includes('size=1m')));
  assert.equal(s.linux.sysctl!['net.ipv4.ip_forward'], '1');
  assert.throws(() => buildSpec({ ...base, sysctls: { 'kernel.core_pattern': 'x' } }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  const r = s.linux.resources!;
  assert.deepEqual(r.memory, { limit: 64 << 20, swap: 128 << 20 });
  assert.deepEqual(r.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '0' });
  assert.deepEqual(r.pids, { limit: 100 });
  assert.throws(() => buildSpec({ ...base, resources: { cpusetMems: '1-9223372036854775807' } }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.equal(s.linux.cgroupsPath, '/berth/abc123');
  // The root's propagation follows the binds', as Docker's: shared for a shared one, else rslave for a slave one.
  assert.equal(s.linux.rootfsPropagation, 'rprivate');
  assert.equal(buildSpec({ ...base, binds: ['/a:/a:rslave', '/b:/b:shared'] }).linux.rootfsPropagation, 'shared');
  assert.equal(buildSpec({ ...base, mounts: [{ destination: '/a', type: 'bind', source: '/a', options: ['rbind', 'slave'] }] }).linux.rootfsPropagation, 'rslave');
  const i = buildSpec({ ...base, init: '/usr/bin/tini-static' });
  assert.deepEqual(i.process.args.slice(0, 2), ['/sbin/docker-init', '--']);
  assert.ok(i.mounts.some((m) => m.destination === '/sbin/docker-init' && m.source === '/usr/bin/tini-static'));
  assert.deepEqual(buildSpec({ ...base, image: { Entrypoint: ['/ep'], Cmd: ['a'] } }).process.args, ['/ep', 'a']);
  assert.deepEqual(buildSpec({ ...base, image: { Entrypoint: ['/ep'], Cmd: ['a'] }, cmd: ['b'] }).process.args, ['/ep', 'b']);
  assert.deepEqual(buildSpec({ ...base, image: { Entrypoint: ['/ep'], Cmd: ['a'] }, entrypoint: ['/x'] }).process.args, ['/x']);
  assert.throws(() => buildSpec({ ...base, image: {} }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  // CVE-2024-21626: WORKDIR / --workdir under /proc is refused.
  for (let n = 3; n <= 20; n++) {
    assert.throws(() => buildSpec({ ...base, cwd: `/proc/self/fd/${n}` }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
    assert.throws(() => buildSpec({ ...base, image: { Cmd: ['sh'], WorkingDir: `/proc/self/fd/${n}/..` } }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  }
});

// The primary group always leads the supplementary ones (Docker's process.user since CVE-2022-36109).
test('resolveUser: names, numeric ids, groups, supplementary groups', async (t) => {
  const root = await tempDir('berth-user-');
  t.after(() => fsp.rm(root, { recursive: true, force: true }));
  await fsp.mkdir(join(root, 'etc'));
  await fsp.writeFile(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  await fsp.writeFile(join(root, 'etc/group'), 'root:x:0:\nalice:x:1000:\nstaff:x:50:alice,bob\n');
  assert.deepEqual(await resolveUser(root, ''), { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(await resolveUser(root, 'alice'), { uid: 1000, gid: 1000, additionalGids: [1000, 50] });
  assert.deepEqual(await resolveUser(root, 'alice:staff'), { uid: 1000, gid: 50, additionalGids: [50] });
  assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1000, additionalGids: [1000, 50] });
  assert.deepEqual(await resolveUser(root, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [4343] });
  await assert.rejects(resolveUser(root, 'bob'), /unable to find user bob: no matching entries in passwd file/);
  assert.deepEqual(await resolveUser(root, '', ['staff', '77']), { uid: 0, gid: 0, additionalGids: [0, 50, 77] });
  // A scratch image without /etc/passwd: default root, and --group-add still applies (numeric only).
  const bare = await tempDir('berth-user-');
  t.after(() => fsp.rm(bare, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(bare, ''), { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(await resolveUser(bare, undefined, ['10']), { uid: 0, gid: 0, additionalGids: [0, 10] });
  await assert.rejects(resolveUser(bare, undefined, ['wheel']), /Unable to find group wheel/);
  // CVE-2024-40635: ids past int32 never wrap to root.
  await assert.rejects(resolveUser(root, '2147483648:2147483648'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await assert.rejects(resolveUser(root, '4294967296'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
});

test('resolveUser: confined reads (symlinks out, /dev/zero, oversized files) are refused', async (t) => {
  const root = await tempDir('berth-user-');
  t.after(() => fsp.rm(root, { recursive: true, force: true }));
  // etc -> / : the host's /etc/passwd must not be read.
  await fsp.symlink('/etc', join(root, 'etc'));
  await assert.rejects(resolveUser(root, 'root:root'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await fsp.rm(join(root, 'etc'));
  await fsp.mkdir(join(root, 'etc'));
  await fsp.symlink('/etc/passwd', join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'alice'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await fsp.rm(join(root, 'etc/passwd'));
  await fsp.symlink('/dev/zero', join(root, 'etc/passwd'));
  await assert.rejects(resolveUser(root, 'alice'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await fsp.rm(join(root, 'etc/passwd'));
  await fsp.writeFile(join(root, 'etc/passwd'), 'alice:x:1000:1000::/:/bin/sh\n');
  const fh = await fsp.open(join(root, 'etc/group'), 'w');
  await fh.truncate(5 * 1024 * 1024); // sparse: cheap to make, larger than the cap
  await fh.close();
  await assert.rejects(resolveUser(root, 'alice'), /larger than/);
});
