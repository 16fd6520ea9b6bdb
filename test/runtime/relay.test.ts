// The daemon's side of the attach relay protocol (runtime/relay.ts), against a relay played by a
// plain socket here; the C relay itself is exercised by every attach and exec in the container tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame, relaySocketPath, relayStreams, RelayHub } from '../../src/runtime/relay.js';
import { isBerthError } from '../../src/errors/index.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { IS_ROOT } from './helpers.js';

const TOKEN = 'ab'.repeat(16);

/** Connect as a relay named `token`; collects what the daemon sends. */
function fakeRelay(path: string, token: string) {
  const c = net.connect(path);
  let got = Buffer.alloc(0);
  c.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); });
  c.write(`${token}\n`);
  return { c, got: () => got, closed: new Promise<void>((r) => c.once('close', () => r())) };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}

/** A hub on a fresh socket for `fn`, closed and removed after. */
async function withHub(fn: (hub: RelayHub) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-relay-'));
  const hub = new RelayHub(join(dir, 'relay.sock'));
  try {
    await fn(hub);
  } finally {
    hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function collect(s: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let t = '';
    s.on('data', (d: Buffer) => { t += d.toString(); });
    s.on('end', () => resolve(t));
  });
}

test('relay hub: frames become stdout and stderr, stdin goes out framed, the relay closing ends the streams', () => withHub(async (hub) => {
  const x = await hub.expect(TOKEN);
  const r = fakeRelay(hub.path, TOKEN);
  const sock = await x.socket;
  sock.write(frame('g'));
  await until(() => r.got().length === 5);
  assert.deepEqual([...r.got()], [0x67, 0, 0, 0, 0]);
  // Status, then frames split across writes at odd places.
  const out = Buffer.concat([Buffer.from('1'), frame('\x01', Buffer.from('hello ')), frame('\x02', Buffer.from('oops')), frame('\x01', Buffer.from('world'))]);
  const streams = relayStreams(sock, true);
  r.c.write(out.subarray(0, 3));
  await new Promise((res) => setTimeout(res, 20));
  r.c.write(out.subarray(3, 13));
  r.c.write(out.subarray(13));
  const s = await streams;
  const so = collect(s.stdout);
  const se = collect(s.stderr);
  s.stdin!.write(Buffer.from('input'));
  s.stdin!.end();
  await until(() => r.got().length === 5 + 10 + 5);
  assert.deepEqual(r.got().subarray(5), Buffer.concat([frame('i', Buffer.from('input')), frame('e')]));
  r.c.end();
  assert.equal(await so, 'hello world');
  assert.equal(await se, 'oops');
  await s.done;
}));

test('relay hub: a relay that cannot reach conmon is a conflict; unknown tokens and close() hang up', () => withHub(async (hub) => {
  const x = await hub.expect(TOKEN);
  const r = fakeRelay(hub.path, TOKEN);
  const sock = await x.socket;
  r.c.write('0');
  await assert.rejects(relayStreams(sock, false), (e: unknown) => isBerthError(e, 'ERR_CONFLICT') && /not running/.test((e as Error).message));
  await r.closed;

  // Nobody waits for this token (or it was cancelled): the connection is closed at once.
  const stray = fakeRelay(hub.path, 'cd'.repeat(16));
  await stray.closed;
  const y = await hub.expect(TOKEN);
  y.cancel();
  await assert.rejects(y.socket);
  const late = fakeRelay(hub.path, TOKEN);
  await late.closed;

  // close() of the streams hangs up on the relay.
  const z = await hub.expect(TOKEN);
  const r2 = fakeRelay(hub.path, TOKEN);
  const s2 = relayStreams(await z.socket, false);
  r2.c.write('1');
  const s = await s2;
  assert.equal(s.stdin, null);
  s.close();
  await r2.closed;
  await s.done;
}));

test('relay hub: a reader that falls behind pauses the relay (backpressure), nothing is lost', () => withHub(async (hub) => {
  const x = await hub.expect(TOKEN);
  const r = fakeRelay(hub.path, TOKEN);
  const sock = await x.socket;
  const sp = relayStreams(sock, false);
  r.c.write('1');
  const s = await sp;
  const chunk = Buffer.alloc(65536, 0x61);
  const frames = 64;
  for (let i = 0; i < frames; i++) r.c.write(frame('\x01', chunk));
  r.c.end();
  // Nobody reads stdout: the daemon stops reading from the relay instead of buffering 4 MB.
  await until(() => sock.isPaused());
  await new Promise((res) => setTimeout(res, 100));
  assert.ok(sock.isPaused());
  assert.ok(s.stdout.readableLength < 4 * chunk.length, `buffered ${s.stdout.readableLength}`);
  s.stderr.resume();
  const text = await collect(s.stdout);
  assert.equal(text.length, frames * chunk.length);
  await s.done;
}));

test('relaySocketPath: in the exec root, or in a private temp directory when that is too long', async () => {
  assert.equal(await relaySocketPath('/run/berth'), '/run/berth/relay.sock');
  const long = `/tmp/${'x'.repeat(120)}`;
  const p = await relaySocketPath(long);
  assert.ok(p.startsWith(join(tmpdir(), 'berth-relay-')) && Buffer.byteLength(p) < 108, p);
  rmSync(join(p, '..'), { recursive: true, force: true });
});

test('Runtime: attaches started together before the first one is set up share one relay hub', { skip: !IS_ROOT || !existsSync('/usr/bin/cc') ? 'needs root and a C compiler' : undefined }, async () => {
  const execRoot = mkdtempSync(join(tmpdir(), 'berth-relay-rt-'));
  try {
    const rt = new Runtime({ execRoot });
    // No container behind these bundles: each relay connects to the hub, is told to go, and then
    // reports that there is no attach socket. A relay that reached a hub nobody waits on (a second
    // hub made by the second attach) would end without reporting instead.
    const dirs = [1, 2, 3].map((i) => join(execRoot, `none${i}`));
    const preps = await Promise.all(dirs.map((d) => rt.prepareAttach(d, false)));
    const results = await Promise.allSettled(preps.map((p) => p.go()));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason?.message), /no attach socket/);
    }
  } finally {
    rmSync(execRoot, { recursive: true, force: true });
  }
});
