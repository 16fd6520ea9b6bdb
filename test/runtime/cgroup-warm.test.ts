// The cgroup lock warm-up before the runtime's cgroup writes (runtime/cgroup-warm.ts and the
// helper's `cgroup-warm`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOwnCgroupProcs, ownCgroupProcs } from '../../src/runtime/cgroup-warm.js';
import { ensureHelper } from '../../src/runtime/helper.js';
import { IS_ROOT } from './helpers.js';

// This host's layout: v1 controllers, a named systemd hierarchy, and a cgroup2 mount beside them.
const HYBRID_MOUNTINFO = [
  '24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '28 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '29 28 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
  '30 28 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
  '33 28 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct',
  '34 28 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids',
].join('\n');

test('ownCgroupProcs: the first hierarchy of ours that is mounted, v1 and v2', () => {
  const cg = '12:pids:/system.slice/berth.service\n4:cpu,cpuacct:/system.slice/berth.service\n1:name=systemd:/system.slice/berth.service\n0::/system.slice/berth.service\n';
  assert.equal(ownCgroupProcs(cg, HYBRID_MOUNTINFO), '/sys/fs/cgroup/pids/system.slice/berth.service/cgroup.procs');
  // Controllers mounted together are matched by all of their names.
  assert.equal(ownCgroupProcs('4:cpu,cpuacct:/a\n', HYBRID_MOUNTINFO), '/sys/fs/cgroup/cpu,cpuacct/a/cgroup.procs');
  assert.equal(ownCgroupProcs('1:name=systemd:/\n', HYBRID_MOUNTINFO), '/sys/fs/cgroup/systemd/cgroup.procs');
  // A hierarchy that is not mounted is skipped for the next line.
  assert.equal(ownCgroupProcs('7:memory:/x\n0::/user.slice\n', HYBRID_MOUNTINFO), '/sys/fs/cgroup/unified/user.slice/cgroup.procs');
  // cgroup v2 only.
  const v2 = '40 28 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';
  assert.equal(ownCgroupProcs('0::/\n', v2), '/sys/fs/cgroup/cgroup.procs');
});

test('ownCgroupProcs: mount roots, escapes, and nothing usable', () => {
  // A mount of a sub-tree (as inside a container): paths are relative to its root.
  const sub = '50 40 0:27 /docker/abc /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw';
  assert.equal(ownCgroupProcs('0::/docker/abc/inner\n', sub), '/sys/fs/cgroup/inner/cgroup.procs');
  assert.equal(ownCgroupProcs('0::/docker/abc\n', sub), '/sys/fs/cgroup/cgroup.procs');
  // Outside the mounted sub-tree (or only sharing a name prefix with it): not reachable.
  assert.equal(ownCgroupProcs('0::/docker/abcdef\n', sub), undefined);
  assert.equal(ownCgroupProcs('0::/other\n', sub), undefined);
  // mountinfo's octal escapes.
  const spaced = '51 40 0:27 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw';
  assert.equal(ownCgroupProcs('0::/a\n', spaced), '/mnt/cg two/a/cgroup.procs');
  // Parent-directory steps are refused, whatever they would resolve to.
  assert.equal(ownCgroupProcs('0::/a/../..\n', spaced), undefined);
  assert.equal(ownCgroupProcs('', HYBRID_MOUNTINFO), undefined);
  assert.equal(ownCgroupProcs('0::/\n', ''), undefined);
  assert.equal(ownCgroupProcs('garbage\n', HYBRID_MOUNTINFO), undefined);
});

test('helper cgroup-warm: writes "0" again and again for the time asked, then stops; errors are reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-warm-'));
  try {
    const helper = await ensureHelper(join(dir, 'bin'));
    // A plain file stands in for cgroup.procs: what the helper writes is all that lands in it.
    const file = join(dir, 'procs');
    writeFileSync(file, '');
    const r = spawnSync(helper, ['cgroup-warm', file, '30'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const written = readFileSync(file, 'utf8');
    assert.match(written, /^0+$/);
    assert.ok(written.length >= 2, `wrote ${written.length} times`);
    const missing = spawnSync(helper, ['cgroup-warm', join(dir, 'nope'), '10'], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /open cgroup\.procs: No such file or directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helper cgroup-warm on our own cgroup: the process stays where it was', { skip: !IS_ROOT && 'needs root' }, async (t) => {
  const procs = await findOwnCgroupProcs();
  if (!procs || !existsSync(procs)) { t.skip('no cgroup hierarchy of ours is mounted here'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'berth-warm-'));
  try {
    const helper = await ensureHelper(join(dir, 'bin'));
    const own = readFileSync('/proc/self/cgroup', 'utf8');
    const child = spawn(helper, ['cgroup-warm', procs, '400'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Sampled while it rewrites "0" into its cgroup.procs: every hierarchy still shows our cgroups.
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), own);
    assert.ok(readFileSync(procs, 'utf8').split('\n').includes(String(child.pid)), 'listed in the cgroup it rejoins');
    assert.equal(await exited, 0, stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
