// Daemon process behaviour: one daemon per root, lock survives kill -9, socket mode, refusal to
// replace a non-socket, clean SIGTERM shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonCommand, startDaemon } from '../helpers/daemon.js';
import { lockRoot } from '../../src/daemon/lock.js';
import { procStat } from '../../src/util/proc.js';

function runDaemonOnce(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const { cmd, args: pre } = daemonCommand();
    const c = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('exit', (code) => { clearTimeout(t); resolve({ code, stderr }); });
  });
}

test('lock: a second daemon on the same root fails clearly; kill -9 does not wedge the root', async () => {
  const d = await startDaemon();
  try {
    const st = statSync(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    // Same root, other socket: refused because of the root lock.
    const second = await runDaemonOnce(['--root', d.root, '--exec-root', d.execRoot, '--host', `unix://${d.socket}.2`]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /another berth daemon \(pid \d+\) is already running with root/);
    await d.kill9();
    assert.ok(existsSync(join(d.root, 'daemon.lock')), 'the dead daemon left its lock');
    await d.restart();
    const pid = Number(readFileSync(join(d.root, 'daemon.lock'), 'utf8').split(' ')[0]);
    assert.notEqual(pid, process.pid);
  } finally {
    await d.stop();
  }
});

test('lockRoot in-process: stale lock taken over, live lock refused', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  try {
    writeFileSync(join(root, 'daemon.lock'), '999999999 1\n');
    const l = await lockRoot(root);
    await assert.rejects(lockRoot(root).then(() => { throw new Error('x'); }), /./);
    await l.release();
    assert.equal(existsSync(join(root, 'daemon.lock')), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('lockRoot: a lock held by a killed daemon not yet reaped (a zombie) is stale', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  // The backgrounded child exits at once; its parent then execs a sleep that never reaps it.
  const holder = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((r) => holder.stdout!.once('data', (d: Buffer) => r(d.toString()))));
    let st = procStat(pid);
    while (st && st.state !== 'Z') { await new Promise((r) => setTimeout(r, 20)); st = procStat(pid); }
    assert.equal(st?.state, 'Z');
    writeFileSync(join(root, 'daemon.lock'), `${pid} ${st!.startTime}\n`);
    const l = await lockRoot(root);
    await l.release();
  } finally {
    holder.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test('never replaces a non-socket (or symlink) at the socket path', async () => {
  const base = mkdtempSync(join(tmpdir(), 'berth-sock-'));
  try {
    const target = join(base, 'precious');
    writeFileSync(target, 'keep');
    const link = join(base, 'api.sock');
    symlinkSync(target, link);
    const r = await runDaemonOnce(['--root', join(base, 'root'), '--exec-root', join(base, 'exec'), '--host', `unix://${link}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists and is not a socket/);
    assert.equal(readFileSync(target, 'utf8'), 'keep');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
