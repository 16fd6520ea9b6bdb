// The daemon's idle heap trim: one trim per quiet spell of the API, re-armed by every request, none
// during a burst; a full collection first only when the old generation grew; and the real addon
// (build/berth-trim.node) loads and runs where it was built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { trimWhenIdle, loadTrim, exposedGc } from '../../src/daemon/idle.js';
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
    assert.equal(gcs, 1, 'the grown heap is collected once');
    assert.equal(idle.collections, 1);
    await get(port);
    await sleep(300);
    assert.equal(trims, 3);
    assert.equal(gcs, 1, 'no growth since: no second collection');
  } finally {
    idle.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('idle collection: node started as bin/berth starts it exposes the collector; plain node does not', () => {
  const mod = new URL('../../src/daemon/idle.js', import.meta.url).href;
  const probe = `import(${JSON.stringify(mod)}).then((m) => { const c = m.exposedGc(); if (c) c(); console.log(typeof c); })`;
  const flags = /^#!.*node (.*)$/m.exec(readFileSync(join(packageRoot(), 'bin', 'berth'), 'utf8'))![1]!.split(/\s+/);
  assert.ok(flags.includes('--expose-gc'), 'bin/berth gives node --expose-gc');
  const withFlags = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(withFlags.stdout.trim(), 'function', withFlags.stderr);
  const plain = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(plain.stdout.trim(), 'undefined', plain.stderr);
});

const built = existsSync(join(packageRoot(), 'build', 'berth-trim.node'));
test('idle trim: the built addon loads and trims', { skip: built ? false : 'build/berth-trim.node was not built (no node_api.h or compiler)' }, () => {
  const trim = loadTrim();
  assert.equal(typeof trim, 'function');
  // malloc_trim's answer (whether anything was released) comes back as a boolean.
  assert.equal(typeof trim!(), 'boolean');
});
