import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readdir, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { ContentStore } from '../../src/store/content/index.js';
import { isBerthError } from '../../src/errors/index.js';
import { EMPTY_SHA256 } from '../../src/util/digest.js';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function withStore(fn: (s: ContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try {
    const s = new ContentStore(root);
    await s.init();
    await fn(s, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('ingest, commit, read back, list, delete', () => withStore(async (s, root) => {
  const data = Buffer.from('hello berth '.repeat(1000));
  const d = sha(data);
  const ing = await s.ingest(d, data.length);
  assert.equal(ing.offset, 0);
  await pipeline(Readable.from([data.subarray(0, 5000), data.subarray(5000)]), ing.writable());
  assert.equal(await s.has(d), false, 'invisible before commit');
  await ing.commit();
  assert.equal(await s.has(d), true);
  assert.equal(await s.size(d), data.length);
  assert.equal(s.path(d), join(root, 'blobs', 'sha256', d.slice(7)));
  assert.deepEqual(await readAll(s.createReadStream(d)), data);
  assert.deepEqual(await readAll(s.createReadStream(d, { start: 100 })), data.subarray(100));
  assert.deepEqual(await s.readBuffer(d), data);
  const listed: { digest: string; size: number }[] = [];
  for await (const x of s.list()) listed.push(x);
  assert.deepEqual(listed, [{ digest: d, size: data.length }]);
  assert.deepEqual(await readdir(join(root, 'ingest')), [], 'ingest area cleaned');
  await s.delete(d);
  assert.equal(await s.has(d), false);
  await s.delete(d); // idempotent
}));

test('writeBuffer returns the digest, checks an expected one, and dedups', () => withStore(async (s) => {
  const data = Buffer.from('{"a":1}');
  assert.equal(await s.writeBuffer(data), sha(data));
  assert.equal(await s.writeBuffer(data, sha(data)), sha(data));
  await assert.rejects(s.writeBuffer(Buffer.from('other'), sha(data)), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  const d512 = 'sha512:' + createHash('sha512').update(data).digest('hex');
  assert.equal(await s.writeBuffer(data, d512), d512);
  assert.deepEqual(await s.readBuffer(d512), data);
  await assert.rejects(s.readBuffer(sha(data), 3), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  await assert.rejects(s.readBuffer(sha('missing')), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
}));

test('wrong digest: ERR_DIGEST_MISMATCH and nothing visible', () => withStore(async (s, root) => {
  const want = sha('expected content');
  const ing = await s.ingest(want);
  await pipeline(Readable.from([Buffer.from('something else!!')]), ing.writable());
  await assert.rejects(ing.commit(), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  assert.equal(await s.has(want), false);
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(root, 'ingest')), []);
  // The lock is released: a new ingest starts from scratch.
  const again = await s.ingest(want);
  assert.equal(again.offset, 0);
  await again.abort();
}));

test('more bytes than the expected size fail while writing', () => withStore(async (s) => {
  const data = Buffer.from('0123456789');
  const ing = await s.ingest(sha(data), 5);
  await assert.rejects(pipeline(Readable.from([data]), ing.writable()), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  await ing.abort();
  assert.equal(await s.has(sha(data)), false);
}));

test('resume after a partial write (in process and after a restart)', () => withStore(async (s, root) => {
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const d = sha(data);
  const a = await s.ingest(d, data.length);
  await pipeline(Readable.from([data.subarray(0, 100_000)]), a.writable());
  await a.suspend();
  // A new store object over the same root, as after a daemon restart.
  const s2 = new ContentStore(root);
  await s2.init();
  const b = await s2.ingest(d, data.length);
  assert.equal(b.offset, 100_000);
  await pipeline(Readable.from([data.subarray(b.offset, 200_000)]), b.writable());
  assert.equal(b.offset, 200_000);
  await pipeline(Readable.from([data.subarray(b.offset)]), b.writable());
  await b.commit();
  assert.deepEqual(await readAll(s2.createReadStream(d)), data);
}));

test('abort discards the partial', () => withStore(async (s) => {
  const data = Buffer.from('abcdef');
  const a = await s.ingest(sha(data), data.length);
  await pipeline(Readable.from([data.subarray(0, 3)]), a.writable());
  await a.abort();
  const b = await s.ingest(sha(data), data.length);
  assert.equal(b.offset, 0);
  await b.abort();
}));

test('concurrent ingests of one digest: the second waits and finds it done', () => withStore(async (s) => {
  const data = Buffer.from('x'.repeat(50_000));
  const d = sha(data);
  const first = await s.ingest(d, data.length);
  let secondResolved = false;
  const secondP = s.ingest(d, data.length).then((i) => { secondResolved = true; return i; });
  await new Promise((r) => setImmediate(r));
  await pipeline(Readable.from([data]), first.writable());
  assert.equal(secondResolved, false, 'second ingest must wait for the first');
  await first.commit();
  const second = await secondP;
  assert.equal(second.done, true);
  assert.equal(second.offset, data.length);
  await second.commit();
  assert.deepEqual(await s.readBuffer(d), data);
}));

test('two writers racing through writeBuffer do not corrupt each other', () => withStore(async (s) => {
  const data = Buffer.from('race'.repeat(10_000));
  const results = await Promise.all([s.writeBuffer(data), s.writeBuffer(data), s.writeBuffer(data)]);
  assert.deepEqual(results, [sha(data), sha(data), sha(data)]);
  assert.deepEqual(await s.readBuffer(sha(data)), data);
}));

test('no 0-byte commit except the empty digest', () => withStore(async (s) => {
  const d = sha('not empty');
  await assert.rejects(s.ingest(d, 0), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  const ing = await s.ingest(d);
  await assert.rejects(ing.commit(), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  assert.equal(await s.has(d), false);
  const e = await s.ingest(EMPTY_SHA256, 0);
  await e.commit();
  assert.equal(await s.size(EMPTY_SHA256), 0);
}));

test('malformed digests are refused before touching the filesystem', () => withStore(async (s) => {
  const bad = [
    'sha256:../../x', 'sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'sha256:' + 'a'.repeat(65),
    'md5:' + 'a'.repeat(32), 'sha256:', '', 'sha256:' + 'a'.repeat(64) + '/..', 'SHA256:' + 'a'.repeat(64),
  ];
  for (const d of bad) {
    assert.throws(() => s.path(d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
    assert.throws(() => s.createReadStream(d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
    await assert.rejects(s.has(d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
    await assert.rejects(s.ingest(d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
    await assert.rejects(s.delete(d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
    await assert.rejects(s.writeBuffer(Buffer.from('x'), d), (e) => isBerthError(e, 'ERR_INVALID_DIGEST'), d);
  }
}));

test('init sweeps stale temp files and dead ingests, keeps resumable partials', () => withStore(async (s, root) => {
  const blobs = join(root, 'blobs', 'sha256');
  await writeFile(join(blobs, '.abc.123.tmp'), 'junk');
  const junkIngest = join(root, 'ingest', 'sha256-' + 'b'.repeat(64));
  await mkdir(junkIngest);
  await writeFile(join(junkIngest, 'lock'), '999999999'); // dead pid, no meta: unusable
  const data = Buffer.from('resumable data');
  const a = await s.ingest(sha(data), data.length);
  await pipeline(Readable.from([data.subarray(0, 4)]), a.writable());
  await a.suspend();
  const live = join(root, 'ingest', 'sha256-' + sha(data).slice(7));
  await writeFile(join(live, 'lock'), '999999999'); // as if the writer crashed
  await new ContentStore(root).init();
  assert.deepEqual(await readdir(blobs), []);
  assert.deepEqual(await readdir(join(root, 'ingest')), ['sha256-' + sha(data).slice(7)]);
  assert.deepEqual((await readdir(live)).sort(), ['data', 'meta.json']);
  assert.equal((await readFile(join(live, 'data'))).toString(), 'resu');
  const b = await s.ingest(sha(data), data.length);
  assert.equal(b.offset, 4);
  await b.abort();
}));

test('an ingest lock held by another live process makes ingest wait', () => withStore(async (s, root) => {
  const data = Buffer.from('cross-process');
  const d = sha(data);
  const dir = join(root, 'ingest', 'sha256-' + d.slice(7));
  await mkdir(dir, { recursive: true });
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await writeFile(join(dir, 'lock'), String(holder.pid));
    let resolved = false;
    const p = s.ingest(d, data.length).then((i) => { resolved = true; return i; });
    // Give the ingest time to reach the lock (it polls); it must still be waiting.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(resolved, false, 'waits while the holder lives');
    await rm(join(dir, 'lock'));
    const ing = await p;
    assert.equal(ing.offset, 0);
    await ing.abort();
  } finally {
    holder.kill('SIGKILL');
  }
}));
