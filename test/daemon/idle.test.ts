// The daemon's idle heap trim: one trim per quiet spell of the API, re-armed by every request, none
// during a burst; a full collection first only when the old generation grew, then one more trim once
// it settled; and the real addon (build/berth-trim.node) loads and runs where it was built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { trimWhenIdle, loadTrim } from '../../src/daemon/idle.js';
import { packageRoot } from '../../src/util/package-root.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
}

test('idle trim: once after the API goes quiet, not while requests keep coming', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let trims = 0;
  const idle = trimWhenIdle([server], 150, () => { trims++; return true; });
  try {
    await sleep(300);
    assert.equal(trims, 0, 'no trim before any request');
    // A burst with gaps shorter than the quiet period: no trim in between.
    for (let i = 0; i < 6; i++) { await get(port); await sleep(50); }
    assert.equal(trims, 0);
    await sleep(300);
    assert.equal(trims, 1, 'one trim after the burst');
    assert.equal(idle.count, 1);
    await sleep(300);
    assert.equal(trims, 1, 'not repeated while idle');
    await get(port);
    await sleep(300);
    assert.equal(trims, 2, 'the next quiet spell trims again');
    idle.stop();
    await get(port);
    await sleep(300);
    assert.equal(trims, 2, 'stopped: no more trims');
  } finally {
    idle.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('idle collection: a full GC only when the old generation grew by more than 1 MiB since the last one', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let trims = 0;
  let gcs = 0;
  // Keeps what the "requests" allocate alive until the collection drops it, as garbage would be.
  let held: unknown[] = [];
  const idle = trimWhenIdle([server], 150, () => { trims++; return true; }, () => { gcs++; held = []; });
  try {
    await get(port);
    await sleep(300);
    assert.equal(trims, 1);
    assert.equal(gcs, 0, 'a quiet spell after a small request does not collect');
    // Half a million small objects (tens of MiB, promoted to the old generation), then quiet: one
    // collection, then the trim.
    for (let i = 0; i < 64; i++) held.push(Array.from({ length: 8192 }, (_, k) => ({ k })));
    await get(port);
    await sleep(300);
    assert.equal(trims, 2);
    assert.equal(gcs, 2, 'the grown heap is collected in one spell, twice (the second compacts)');
    assert.equal(idle.collections, 1);
    // A request before the follow-up trim (settleMs, 250 ms by default) cancels it: that spell trims anyway.
    await get(port);
    await sleep(300);
    assert.equal(trims, 3);
    assert.equal(gcs, 2, 'no growth since: no second collection');
  } finally {
    idle.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('idle trim after a collection: once more when the collection has settled, unless a request came', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let trims = 0;
  let held: unknown[] = [];
  const grow = () => { for (let i = 0; i < 64; i++) held.push(Array.from({ length: 8192 }, (_, k) => ({ k }))); };
  const idle = trimWhenIdle([server], 100, () => { trims++; return true; }, () => { held = []; }, 400);
  try {
    grow();
    await get(port);
    await sleep(250);
    assert.equal(trims, 1, 'the spell: collection and trim');
    await sleep(450);
    assert.equal(trims, 2, 'the follow-up trim');
    await sleep(600);
    assert.equal(trims, 2, 'only one follow-up');
    // A spell without a collection has no follow-up.
    await get(port);
    await sleep(700);
    assert.equal(trims, 3);
    // A request before the follow-up cancels it; its own spell trims.
    grow();
    await get(port);
    await sleep(250);
    assert.equal(trims, 4);
    await get(port);
    await sleep(700);
    assert.equal(trims, 5, 'the request\'s spell, no follow-up of the earlier one');
    assert.equal(idle.collections, 2);
  } finally {
    idle.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('server heap, for a daemon started without bin/berth\'s flags: the collector is exposed, the young generation stays small', () => {
  const mod = new URL('../../src/util/server-heap.js', import.meta.url).href;
  // No flags on node's command line, as bin/berth starts it.
  const probe = `import(${JSON.stringify(mod)}).then((m) => { const c = m.fullCollector(); c(); console.log(typeof c, typeof globalThis.gc); })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), 'function undefined', r.stderr);
  // Allocation with survivors: V8 grows the semi-spaces to its maximum unless tuned.
  const load = (tune: boolean) => `import(${JSON.stringify(mod)}).then(async (m) => {
    ${tune ? 'm.tuneServerHeap();' : ''}
    let keep = [];
    for (let round = 0; round < 400; round++) {
      for (let i = 0; i < 10000; i++) { const o = { a: i, b: 'x' + i }; if (i % 5 === 0) keep.push(o); }
      if (keep.length > 200000) keep = [];
    }
    const ns = (await import('node:v8')).getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(ns.space_size);
  })`;
  const tuned = spawnSync(process.execPath, ['--input-type=module', '-e', load(true)], { encoding: 'utf8' });
  const plain = spawnSync(process.execPath, ['--input-type=module', '-e', load(false)], { encoding: 'utf8' });
  assert.ok(Number(tuned.stdout) > 0 && Number(tuned.stdout) <= 2 * 1024 * 1024, `tuned new space ${tuned.stdout} ${tuned.stderr}`);
  assert.ok(Number(plain.stdout) > 4 * 1024 * 1024, `untuned new space ${plain.stdout} ${plain.stderr}`);
});

const built = existsSync(join(packageRoot(), 'build', 'berth-trim.node'));
test('idle trim: the built addon loads and trims', { skip: built ? false : 'build/berth-trim.node was not built (no node_api.h or compiler)' }, () => {
  const trim = loadTrim();
  assert.equal(typeof trim, 'function');
  // malloc_trim's answer (whether anything was released) comes back as a boolean.
  assert.equal(typeof trim!(), 'boolean');
});
