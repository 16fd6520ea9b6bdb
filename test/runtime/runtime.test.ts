// Integration tests of the runtime driver with real runc/crun + conmon and a busybox rootfs:
// lifecycle, logs, exit codes, tty, exec, attach, stats, default confinement (security.md tests 7,
// 8, 11, 21) and re-adoption of containers after the daemon dies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Runtime, probeRuntime, type CreateOptions } from '../../src/runtime/runtime.js';
import { which } from '../../src/runtime/binaries.js';
import { prepareRootfs, releaseRootfs, createInitLayer, writeEtcFiles, copyLayers, checkSpecialPaths, overlaySupported } from '../../src/runtime/rootfs.js';
import type { SpecOptions } from '../../src/runtime/spec.js';
import { isBerthError } from '../../src/errors/index.js';
import { hostsFile } from '../../src/network/etc.js';
import { HAVE_TOOLS, IS_ROOT, makeBusyboxRootfs, randomId, tempDir, writeBundle } from './helpers.js';

const skip = !HAVE_TOOLS ? 'runc, conmon or busybox-static missing' : !IS_ROOT ? 'needs root' : false;

let work = '';
let rootfs = '';
let rt: Runtime;
const started: string[] = [];

before(async () => {
  if (skip) return;
  work = await tempDir('berth-rt-');
  rootfs = join(work, 'busybox');
  await makeBusyboxRootfs(rootfs);
  rt = new Runtime({ execRoot: join(work, 'exec') });
});

after(async () => {
  if (skip) return;
  for (const id of started) await rt.delete(id, { force: true }).catch(() => {});
  await fsp.rm(work, { recursive: true, force: true });
});

type Extra = Partial<SpecOptions> & { cmd: string[] };

async function createContainer(extra: Extra, create: Partial<CreateOptions> = {}, r = rt) {
  const id = randomId();
  const bundle = join(work, id);
  await fsp.mkdir(bundle);
  await writeBundle(bundle, { id, rootfs, ...extra });
  const logPath = join(bundle, 'ctr.log');
  started.push(id);
  const { pid } = await r.create({ id, bundle, tty: extra.tty ?? false, stdin: false, logPath, ...create });
  return { id, bundle, logPath, pid };
}

/** Content of a k8s-file log: "TIME STREAM F|P text". */
function logLines(path: string): { stream: string; text: string }[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => {
    const [, stream = '', , ...rest] = l.split(' ');
    return { stream, text: rest.join(' ') };
  });
}

async function run(extra: Extra) {
  const c = await createContainer(extra);
  await rt.start(c.id);
  const exit = await rt.waitExit(c.id);
  const lines = logLines(c.logPath);
  await rt.delete(c.id);
  return { ...c, exit, lines, out: lines.filter((l) => l.stream === 'stdout').map((l) => l.text) };
}

test('runtime selection (crun only where it really works, else runc); numeric user', { skip }, async () => {
  const info = await rt.runtimeInfo();
  assert.ok(info.name === 'runc' || info.name === 'crun');
  if (info.name === 'runc') {
    assert.match(info.version ?? '', /^1\./);
    if (info.reason) process.stderr.write(`# runtime: runc ${info.version} (${info.reason})\n`);
  }
  const r = await run({ cmd: ['id'], user: { uid: 1000, gid: 50, additionalGids: [7] } });
  assert.match(r.out.join('\n'), /^uid=1000\(alice\) gid=50\(staff\) groups=7$/);
});

test('the runtime probe: runc passes it; crun passes or fails for a reason of the host, not of the probe', { skip }, async () => {
  const runc = which('runc');
  if (runc) assert.equal(await probeRuntime(runc), undefined);
  const crun = which('crun');
  if (!crun) return;
  const reason = await probeRuntime(crun);
  // crun resolves the command at create (runc only at start), so the probe's own command must exist.
  if (reason !== undefined) assert.doesNotMatch(reason, /probe|not found|No such file/, reason);
  const info = await rt.runtimeInfo();
  assert.equal(info.name, reason === undefined ? 'crun' : 'runc');
  if (reason !== undefined) assert.equal(info.reason, `crun unusable here: ${reason}`);
});

test('echo hi: log file in k8s-file format, exit 0, state lifecycle', { skip }, async () => {
  const c = await createContainer({ cmd: ['sh', '-c', 'echo hi; echo oops >&2'] });
  assert.deepEqual(await rt.state(c.id), { status: 'created', pid: c.pid });
  // Stopped at create: its network namespace already exists for the network setup.
  assert.ok(readlinkSync(`/proc/${c.pid}/ns/net`).startsWith('net:'));
  await rt.start(c.id);
  const exit = await rt.waitExit(c.id);
  assert.equal(exit.exitCode, 0);
  assert.ok(exit.finishedAt instanceof Date);
  assert.equal((await rt.state(c.id))?.status, 'stopped');
  assert.deepEqual(await rt.exitStatus(c.id), exit);
  const raw = readFileSync(c.logPath, 'utf8');
  assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d stdout F hi$/m);
  assert.match(raw, / stderr F oops$/m);
  await rt.delete(c.id);
  assert.equal(await rt.state(c.id), undefined);
  assert.ok(!(await rt.list()).includes(c.id));
});

test('exit code 3 is recorded', { skip }, async () => {
  const r = await run({ cmd: ['sh', '-c', 'exit 3'] });
  assert.equal(r.exit.exitCode, 3);
});

test('a failing create is a clean error and leaves no record', { skip }, async () => {
  const id = randomId();
  const bundle = join(work, id);
  await fsp.mkdir(bundle);
  await writeBundle(bundle, { id, rootfs: join(work, 'no-such-rootfs'), cmd: ['true'] });
  await assert.rejects(rt.create({ id, bundle, tty: false, stdin: false, logPath: join(bundle, 'log') }), (e) => {
    assert.ok(isBerthError(e, 'ERR_INTERNAL'), String(e));
    assert.match((e as Error).message, /OCI runtime create failed/);
    return true;
  });
  assert.ok(!(await rt.list()).includes(id));
  assert.equal(await rt.state(id), undefined);
  await assert.rejects(rt.start(id), (e) => isBerthError(e, 'ERR_NO_SUCH_CONTAINER'));
});

test('sleep then kill: 137; pause/resume; delete needs force while running', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'] });
  await rt.start(c.id);
  assert.equal((await rt.state(c.id))?.status, 'running');
  await rt.pause(c.id);
  assert.equal((await rt.state(c.id))?.status, 'paused');
  await rt.resume(c.id);
  assert.equal((await rt.state(c.id))?.status, 'running');
  await assert.rejects(rt.delete(c.id), (e) => isBerthError(e, 'ERR_CONTAINER_RUNNING'));
  await rt.kill(c.id, 'SIGKILL');
  assert.equal((await rt.waitExit(c.id)).exitCode, 137);
  await assert.rejects(rt.kill(c.id, 'KILL'), (e) => isBerthError(e, 'ERR_CONFLICT'));
  await assert.rejects(rt.kill(c.id, 'NOPE'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await rt.delete(c.id);
});

test('stop: SIGTERM ignored by PID 1, SIGKILL after the timeout', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'] });
  await rt.start(c.id);
  const exit = await rt.stop(c.id, { timeoutSeconds: 0.2 });
  assert.equal(exit.exitCode, 137, 'SIGKILL after the timeout');
  assert.equal((await rt.stop(c.id)).exitCode, 137, 'stopping a stopped container returns its status');
  const c2 = await createContainer({ cmd: ['sh', '-c', 'trap "exit 42" TERM; echo ready; while true; do sleep 1 & wait $!; done'] });
  const a = await rt.attach(c2.id);
  const ready = new Promise<void>((resolve) => a.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
  await rt.start(c2.id);
  await ready; // the trap is installed
  assert.equal((await rt.stop(c2.id, { timeoutSeconds: 30 })).exitCode, 42, 'the TERM trap ran');
  await rt.delete(c.id);
  await rt.delete(c2.id);
});

test('force delete of a running container', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'] });
  await rt.start(c.id);
  await rt.delete(c.id, { force: true });
  assert.equal(await rt.state(c.id), undefined);
  // A container that was created but never started can be removed without force.
  const c2 = await createContainer({ cmd: ['true'] });
  await rt.delete(c2.id);
  assert.equal(await rt.state(c2.id), undefined);
});

test('tty mode: the process has a terminal; attach with stdin; resize', { skip }, async () => {
  const c = await createContainer({ tty: true, cmd: ['sh', '-c', 'tty; stty size; read line; echo got:$line'] }, { stdin: true });
  const a = await rt.attach(c.id);
  let out = '';
  a.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await rt.resize(c.id, 33, 77);
  await rt.start(c.id);
  a.stdin!.write('ping\n');
  assert.equal((await rt.waitExit(c.id)).exitCode, 0);
  await a.done;
  assert.match(out, /\/dev\/pts\/0\r\n/);
  assert.match(out, /33 77\r\n/);
  assert.match(out, /got:ping\r\n/);
  assert.ok(logLines(c.logPath).some((l) => l.text.includes('got:ping')));
  await rt.delete(c.id);
});

test('attach without tty: stdout and stderr apart, stdin EOF reaches the process', { skip }, async () => {
  const c = await createContainer({ cmd: ['sh', '-c', 'cat; echo done >&2'] }, { stdin: true });
  const a = await rt.attach(c.id);
  let out = '';
  let err = '';
  a.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  a.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  await rt.start(c.id);
  a.stdin!.end('abc\n');
  assert.equal((await rt.waitExit(c.id)).exitCode, 0);
  await a.done;
  assert.equal(out, 'abc\n');
  assert.equal(err, 'done\n');
  await rt.delete(c.id);
});

test('exec: exit codes, stdin, tty, detached; stats have numbers', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'] });
  await rt.start(c.id);
  const e1 = await rt.exec(c.id, { args: ['sh', '-c', 'cat; echo err >&2; exit 7'] }, { tty: false, stdin: true, detach: false });
  let out = '';
  let err = '';
  e1.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  e1.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  e1.stdin!.end('in\n');
  assert.equal((await e1.exit).exitCode, 7);
  assert.equal(out, 'in\n');
  assert.equal(err, 'err\n');
  assert.ok(e1.pid > 0);

  const e2 = await rt.exec(c.id, { args: ['sh', '-c', 'tty; stty size'] }, { tty: true, stdin: false, detach: false, consoleSize: { height: 11, width: 22 } });
  let tout = '';
  e2.stdout.on('data', (d: Buffer) => { tout += d.toString(); });
  assert.equal((await e2.exit).exitCode, 0);
  assert.match(tout, /\/dev\/pts\/\d+\r\n11 22\r\n/);

  const e3 = await rt.exec(c.id, { args: ['sh', '-c', 'exit 9'] }, { tty: false, stdin: false, detach: true });
  assert.equal((await e3.exit).exitCode, 9);

  const e4 = await rt.exec(c.id, { args: ['/does/not/exist'] }, { tty: false, stdin: false, detach: false }).then(
    async (s) => (await s.exit).exitCode, () => -1);
  assert.notEqual(e4, 0);

  // CVE-2024-21626: exec -w /proc/self/fd/N is refused.
  await assert.rejects(rt.exec(c.id, { args: ['true'], cwd: '/proc/self/fd/7' }, { tty: false, stdin: false, detach: true }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));

  const s = await rt.stats(c.id);
  assert.ok(s.memory.usage > 0, 'memory usage');
  assert.ok(s.memory.limit > 0, 'memory limit');
  assert.ok(s.cpu.totalUsage > 0, 'cpu usage');
  assert.ok(s.cpu.systemUsage > 0);
  assert.ok(s.pids.current >= 1, 'pids');
  await rt.kill(c.id, 'KILL');
  await rt.waitExit(c.id);
  await rt.delete(c.id);
});

test('stats reflect cgroup limits', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'], resources: { memory: 64 << 20, pidsLimit: 50 } });
  await rt.start(c.id);
  // CVE-2024-21626: exec -w /proc/self/fd/N is refused.
  await assert.rejects(rt.exec(c.id, { args: ['true'], cwd: '/proc/self/fd/7' }, { tty: false, stdin: false, detach: true }), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));

  const s = await rt.stats(c.id);
  assert.equal(s.memory.limit, 64 << 20);
  assert.equal(s.pids.limit, 50);
  await rt.delete(c.id, { force: true });
});

test('OOM kill is reported', { skip }, async () => {
  const r = await run({ cmd: ['sh', '-c', 'head -c 200000000 /dev/zero | tail > /dev/null'], resources: { memory: 8 << 20, memorySwap: 8 << 20 } });
  assert.equal(r.exit.exitCode, 137);
  assert.equal(r.exit.oomKilled, true);
  const ok = await run({ cmd: ['true'] });
  assert.equal(ok.exit.oomKilled, false);
});

const PROBE = [
  'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status',
  'echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c)',
  'echo keys=$(cat /proc/keys 2>/dev/null | wc -c)',
  'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo procsys=rw || echo procsys=ro',
  'echo x > /proc/sysrq-trigger 2>/dev/null && echo sysrq=rw || echo sysrq=ro',
  'touch /sys/fs/cgroup/x 2>/dev/null && echo cgroup=rw || echo cgroup=ro',
  'mknod /dev/sda b 8 0 && (head -c 1 /dev/sda >/dev/null 2>&1 && echo blockread=ok || echo blockread=denied)',
  'mount -t tmpfs none /tmp 2>/dev/null && echo mount=ok || echo mount=denied',
  'unshare -U true 2>/dev/null && echo unshare=ok || echo unshare=denied',
].join('; ');

function parseProbe(lines: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of lines) {
    const m = /^([A-Za-z]+)[:=]\s*(.*)$/.exec(l);
    if (m) o[m[1]!] = m[2]!.trim();
  }
  return o;
}

test('default confinement inside a container (security.md test 11)', { skip }, async () => {
  const r = await run({ cmd: ['sh', '-c', PROBE] });
  const p = parseProbe(r.out);
  assert.equal(r.exit.exitCode, 0, JSON.stringify(r.lines));
  // Docker's 14 capabilities: bits 0,1,3,4,5,6,7,8,10,13,18,27,29,31 = 0xa80425fb.
  assert.equal(p.CapEff, '00000000a80425fb');
  assert.equal(p.CapBnd, '00000000a80425fb');
  assert.equal(p.CapPrm, '00000000a80425fb');
  assert.equal(p.CapInh, '0000000000000000');
  assert.equal(p.CapAmb, '0000000000000000');
  assert.equal(p.Seccomp, '2');
  assert.equal(p.NoNewPrivs, '0');
  assert.equal(p.kcore, '0');
  assert.equal(p.keys, '0');
  assert.equal(p.procsys, 'ro');
  assert.equal(p.sysrq, 'ro');
  assert.equal(p.cgroup, 'ro');
  assert.equal(p.blockread, 'denied');
  assert.equal(p.mount, 'denied');
  assert.equal(p.unshare, 'denied');
  const n = await run({ cmd: ['sh', '-c', 'grep NoNewPrivs /proc/self/status'], noNewPrivileges: true, capDrop: ['ALL'] });
  assert.deepEqual(parseProbe(n.out).NoNewPrivs, '1');
});

test('fd audit: container pid 1 holds only 0-2; conmon only its own fds (security.md R9, test 8)', { skip }, async () => {
  const c = await createContainer({ cmd: ['sleep', '100'] });
  await rt.start(c.id);
  // `runc start` returns once the process is released; wait for runc init to exec the command.
  for (let i = 0; i < 500 && readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 5));
  const fds = readdirSync(`/proc/${c.pid}/fd`).map(Number).sort((a, b) => a - b);
  assert.deepEqual(fds, [0, 1, 2]);
  const conmonPid = Number(readFileSync(join(work, 'exec', 'containers', c.id, 'conmon.pid'), 'utf8'));
  const allowed = (target: string) =>
    target === '/dev/null' || /^(pipe|socket|anon_inode):/.test(target) || target === c.logPath ||
    target.startsWith(`${c.bundle}/`) || target.startsWith('/sys/fs/cgroup/');
  for (const fd of readdirSync(`/proc/${conmonPid}/fd`)) {
    const target = readlinkSync(`/proc/${conmonPid}/fd/${fd}`);
    assert.ok(allowed(target), `conmon fd ${fd} -> ${target}`);
  }
  // conmon is detached from us: its own session, not our child.
  const stat = readFileSync(`/proc/${conmonPid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  assert.notEqual(Number(fields[1]), process.pid, 'conmon is not our child');
  assert.notEqual(Number(fields[3]), Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[3]), 'own session');
  await rt.delete(c.id, { force: true });
});

test('hostile image symlinks at /dev, /proc, /sys, /etc/hosts are neutralised (security.md test 7)', { skip: skip || (!overlaySupported() && 'no overlayfs') }, async (t) => {
  const dir = join(work, `hostile-${randomId()}`);
  const hostile = join(dir, 'layer-hostile');
  const hostDir = join(dir, 'hostdir');
  await fsp.mkdir(join(hostile, 'etc'), { recursive: true });
  await fsp.mkdir(hostDir, { recursive: true });
  await fsp.writeFile(join(hostDir, 'sentinel'), 'host');
  await fsp.symlink(hostDir, join(hostile, 'dev'));
  await fsp.symlink('/', join(hostile, 'proc'));
  await fsp.symlink('/', join(hostile, 'sys'));
  await fsp.symlink('/etc/shadow', join(hostile, 'etc/hosts'));
  await fsp.symlink('/etc/passwd', join(hostile, 'etc/resolv.conf'));
  const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  const shadowBefore = hash('/etc/shadow');
  const init = join(dir, 'init');
  await createInitLayer(init);
  const ctrDir = join(dir, 'ctr');
  await fsp.mkdir(ctrDir);
  const { rootfs: merged, mode } = await prepareRootfs({ layers: [hostile, rootfs], initLayer: init, containerDir: ctrDir });
  t.after(() => releaseRootfs(ctrDir));
  assert.equal(mode, 'overlay');
  const etc = await writeEtcFiles(ctrDir, { hostname: 'hostile', hosts: hostsFile({ hostname: 'hostile' }), resolvConf: 'nameserver 192.0.2.1\n' });
  const id = randomId();
  await writeBundle(dir, { id, rootfs: merged, ...etc, hostname: 'hostile', cmd: ['sh', '-c', [
    'echo pwned > /dev/pwn', 'echo hosts=$(grep -c "^127.0.0.1" /etc/hosts)', 'echo resolv=$(cat /etc/resolv.conf)',
    'echo x >> /etc/hosts', 'ls /dev/null >/dev/null && echo devnull=ok',
    'echo x > /proc/sys/kernel/hostname 2>/dev/null && echo procsys=rw || echo procsys=ro',
    'echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c)', 'echo hostname=$(cat /etc/hostname)',
  ].join('; ')] });
  started.push(id);
  await rt.create({ id, bundle: dir, tty: false, stdin: false, logPath: join(dir, 'log') });
  await rt.start(id);
  assert.equal((await rt.waitExit(id)).exitCode, 0);
  const p = parseProbe(logLines(join(dir, 'log')).map((l) => l.text));
  await rt.delete(id);
  assert.equal(p.hosts, '1');
  assert.equal(p.resolv, 'nameserver 192.0.2.1');
  assert.equal(p.devnull, 'ok');
  assert.equal(p.procsys, 'ro');
  assert.equal(p.kcore, '0');
  assert.equal(p.hostname, 'hostile');
  assert.deepEqual(readdirSync(hostDir), ['sentinel'], 'host dir untouched');
  assert.equal(hash('/etc/shadow'), shadowBefore, '/etc/shadow untouched');
  assert.match(readFileSync(etc.hostsPath, 'utf8'), /^x$/m, 'the write landed in the container file');
});

test('copy fallback: whiteouts applied, hostile symlinks replaced by the init layer', { skip }, async () => {
  const dir = join(work, `copy-${randomId()}`);
  const lower = join(dir, 'lower');
  const upper = join(dir, 'upper');
  await fsp.mkdir(join(lower, 'etc'), { recursive: true });
  await fsp.writeFile(join(lower, 'etc/gone'), 'x');
  await fsp.writeFile(join(lower, 'keep'), 'k');
  await fsp.symlink('/etc', join(lower, 'proc'));
  await fsp.mkdir(join(upper, 'etc'), { recursive: true });
  spawnSync('mknod', [join(upper, 'etc/gone'), 'c', '0', '0']);
  await fsp.symlink('/tmp', join(upper, 'dev'));
  const init = join(dir, 'init');
  await createInitLayer(init);
  const target = join(dir, 'merged');
  await copyLayers([init, upper, lower], target);
  await checkSpecialPaths(target);
  assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'k');
  await assert.rejects(fsp.lstat(join(target, 'etc/gone')));
  assert.ok((await fsp.lstat(join(target, 'dev'))).isDirectory());
  assert.ok((await fsp.lstat(join(target, 'proc'))).isDirectory());
  // Without the init layer the same image is refused.
  const bad = join(dir, 'bad');
  await copyLayers([upper, lower], bad);
  await assert.rejects(checkSpecialPaths(bad), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  // A container runs on a copied rootfs.
  const ctrDir = join(dir, 'ctr');
  await fsp.mkdir(ctrDir);
  const prepared = await prepareRootfs({ layers: [upper, rootfs], initLayer: init, containerDir: ctrDir, mode: 'copy' });
  assert.equal(prepared.mode, 'copy');
  const r = await run({ rootfs: prepared.rootfs, cmd: ['sh', '-c', 'test -d /dev && test ! -e /etc/gone && echo ok'] });
  assert.deepEqual(r.out, ['ok']);
});

test('long layer chains fit the mount option page', { skip: skip || (!overlaySupported() && 'no overlayfs') }, async (t) => {
  const dir = join(work, `chain-${randomId()}`);
  const layers: string[] = [];
  for (let i = 0; i < 120; i++) {
    const l = join(dir, 'layers', createHash('sha256').update(String(i)).digest('hex'), 'fs');
    await fsp.mkdir(l, { recursive: true });
    await fsp.writeFile(join(l, `f${i}`), String(i));
    layers.push(l);
  }
  const init = join(dir, 'init');
  await createInitLayer(init);
  const ctrDir = join(dir, 'ctr');
  await fsp.mkdir(ctrDir);
  const { rootfs: merged } = await prepareRootfs({ layers, initLayer: init, containerDir: ctrDir, mode: 'overlay' });
  t.after(() => releaseRootfs(ctrDir));
  assert.equal(readFileSync(join(merged, 'f0'), 'utf8'), '0');
  assert.equal(readFileSync(join(merged, 'f119'), 'utf8'), '119');
});

test('init: docker-init is PID 1 when requested', { skip }, async (t) => {
  let init: string;
  try { init = (await import('../../src/runtime/spec.js')).findInitBinary(); } catch { t.skip('no catatonit/tini installed'); return; }
  void init;
  const r = await run({ cmd: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo'], init: true });
  assert.equal(r.exit.exitCode, 0);
  assert.match(r.out.join('\n'), /^\/sbin\/docker-init -- sh/);
});

test('re-adoption: containers outlive a kill -9 of the daemon and a new Runtime finds them (test 21)', { skip }, async () => {
  const execRoot = join(work, 'exec-adopt');
  const running = randomId();
  const exited = randomId();
  for (const [id, cmd] of [[running, ['sleep', '100']], [exited, ['sh', '-c', 'sleep 0.3; echo bye; exit 4']]] as const) {
    const b = join(work, id);
    await fsp.mkdir(b);
    await writeBundle(b, { id, rootfs, cmd: [...cmd] });
  }
  // A separate "daemon" process creates and starts both, reports, then is SIGKILLed.
  const mod = new URL('../../src/runtime/runtime.js', import.meta.url).href;
  const script = `
    const { Runtime } = await import(${JSON.stringify(mod)});
    const rt = new Runtime({ execRoot: ${JSON.stringify(execRoot)} });
    for (const id of ${JSON.stringify([running, exited])}) {
      await rt.create({ id, bundle: ${JSON.stringify(work)} + '/' + id, tty: false, stdin: false, logPath: ${JSON.stringify(work)} + '/' + id + '/log' });
      await rt.start(id);
    }
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const daemon = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    daemon.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    daemon.on('exit', (code) => reject(new Error(`daemon exited early (${code})`)));
  });
  daemon.kill('SIGKILL');
  await new Promise((r) => daemon.once('exit', r));

  const rt2 = new Runtime({ execRoot });
  try {
    const ids = await rt2.list();
    assert.ok(ids.includes(running) && ids.includes(exited));
    assert.equal((await rt2.state(running))?.status, 'running');
    assert.equal((await rt2.waitExit(exited)).exitCode, 4);
    assert.ok(logLines(join(work, exited, 'log')).some((l) => l.text === 'bye'));
    await rt2.kill(running, 'KILL');
    assert.equal((await rt2.waitExit(running)).exitCode, 137);
  } finally {
    for (const id of [running, exited]) await rt2.delete(id, { force: true }).catch(() => {});
  }
});

test('performance: create+start+wait of `true` vs plain `runc run` (reported, not asserted)', { skip }, async () => {
  const N = 5;
  let ours = 0;
  for (let i = 0; i < N; i++) {
    const id = randomId();
    const b = join(work, id);
    await fsp.mkdir(b);
    await writeBundle(b, { id, rootfs, cmd: ['true'] });
    const t0 = performance.now();
    await rt.create({ id, bundle: b, tty: false, stdin: false, logPath: join(b, 'log') });
    await rt.start(id);
    await rt.waitExit(id);
    ours += performance.now() - t0;
    await rt.delete(id);
  }
  const info = await rt.runtimeInfo();
  let plain = 0;
  for (let i = 0; i < N; i++) {
    const id = randomId();
    const b = join(work, id);
    await fsp.mkdir(b);
    await writeBundle(b, { id, rootfs, cmd: ['true'] });
    const t0 = performance.now();
    const r = spawnSync(info.path, ['--root', join(work, 'plain-root'), 'run', '--bundle', b, id], { stdio: 'ignore' });
    plain += performance.now() - t0;
    spawnSync(info.path, ['--root', join(work, 'plain-root'), 'delete', '--force', id], { stdio: 'ignore' });
    assert.equal(r.status, 0);
  }
  process.stderr.write(`# create+start+wait(true): driver ${(ours / N).toFixed(1)} ms, plain ${info.name} run ${(plain / N).toFixed(1)} ms\n`);
});
