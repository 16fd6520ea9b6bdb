import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Snapshotter, chainIds } from '../../src/store/snapshots/index.js';
import { isBerthError } from '../../src/errors/index.js';
import { ensureHelper, entry, sha256, streamOf, tarOf, tmpBase } from './helpers.js';

let base: string;
let n = 0;
async function fresh(): Promise<Snapshotter> {
  const s = new Snapshotter(join(base, `s${n++}`));
  await s.init();
  return s;
}

before(async () => {
  ensureHelper();
  base = await tmpBase('berth-snap-');
});
after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

test('chainIds follows the OCI definition', () => {
  const d = ['a', 'b', 'c'].map((x) => sha256(x));
  const c = chainIds(d);
  assert.equal(c[0], d[0]);
  const h = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
  assert.equal(c[1], h(`${d[0]} ${d[1]}`));
  assert.equal(c[2], h(`${c[1]} ${d[2]}`));
  assert.deepEqual(chainIds([]), []);
  assert.throws(() => chainIds(['sha256:nothex']), (e: unknown) => isBerthError(e, 'ERR_INVALID_DIGEST'));
});

test('apply, has, path, info, parent, list, usage and remove', async () => {
  const s = await fresh();
  const l1 = tarOf(entry({ name: 'etc/', type: '5' }), entry({ name: 'etc/hostname', body: 'one' }), entry({ name: 'data', body: Buffer.alloc(100_000, 1) }));
  const l2 = tarOf(entry({ name: 'etc/.wh.hostname', body: '' }), entry({ name: 'two', body: '2' }), entry({ name: 'data-link', type: '1', linkname: 'two' }));
  const [c1, c2] = chainIds([sha256(l1), sha256(l2)]) as [string, string];

  assert.equal(await s.has(c1), false);
  const r1 = await s.apply(c1, undefined, streamOf(l1), sha256(l1));
  assert.deepEqual(r1, { diffId: sha256(l1), size: l1.length });
  const r2 = await s.apply(c2, c1, streamOf(l2));
  assert.equal(r2.diffId, sha256(l2));

  assert.equal(await s.has(c1), true);
  assert.equal(s.path(c1), join(s.root, c1.slice(7), 'fs'));
  assert.equal(await fsp.readFile(join(s.path(c1), 'etc/hostname'), 'utf8'), 'one');
  assert.ok((await fsp.lstat(join(s.path(c2), 'etc/hostname'))).isCharacterDevice());
  assert.equal(await s.parent(c1), undefined);
  assert.equal(await s.parent(c2), c1);
  const info = await s.info(c2);
  assert.equal(info?.diffId, sha256(l2));
  assert.equal(info?.size, l2.length);
  assert.deepEqual(await s.list(), [c1, c2].sort());

  const u1 = await s.usage(c1);
  assert.ok(u1 >= 100_000, `usage ${u1}`);
  assert.ok((await s.usage(c2)) < u1);

  // already present: input drained, nothing re-extracted
  const again = streamOf(l1);
  assert.deepEqual(await s.apply(c1, undefined, again), r1);
  assert.ok(again.readableEnded);
  assert.equal(s.unpacked, 2);

  await s.remove(c2);
  assert.equal(await s.has(c2), false);
  assert.deepEqual(await s.list(), [c1]);
  await s.remove(c2); // idempotent
  await assert.rejects(s.parent(c2), (e: unknown) => isBerthError(e, 'ERR_NOT_FOUND'));
  await assert.rejects(s.usage(c2), (e: unknown) => isBerthError(e, 'ERR_NOT_FOUND'));
});

test('a diff ID mismatch keeps nothing (ERR_DIGEST_MISMATCH)', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'f', body: 'content' }));
  const wrong = sha256('something else');
  await assert.rejects(s.apply(wrong, undefined, streamOf(tar), wrong), (e: unknown) => {
    assert.ok(isBerthError(e, 'ERR_DIGEST_MISMATCH'));
    assert.match(e.message, /diff ID mismatch/);
    return true;
  });
  // chain ID that does not match parent + content
  await assert.rejects(s.apply(wrong, undefined, streamOf(tar)), (e: unknown) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  assert.equal(await s.has(wrong), false);
  assert.deepEqual(await s.list(), []);
  assert.deepEqual(await fsp.readdir(s.root), []);
});

test('a bad archive keeps nothing and reports ERR_BAD_ARCHIVE', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'f', body: 'x', badChecksum: true }));
  await assert.rejects(s.apply(sha256(tar), undefined, streamOf(tar)), (e: unknown) => isBerthError(e, 'ERR_BAD_ARCHIVE'));
  assert.deepEqual(await fsp.readdir(s.root), []);
});

test('a missing parent is ERR_NOT_FOUND; malformed IDs are ERR_INVALID_DIGEST', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'f', body: 'x' }));
  const [, c2] = chainIds([sha256('p'), sha256(tar)]) as [string, string];
  await assert.rejects(s.apply(c2, sha256('p'), streamOf(tar)), (e: unknown) => isBerthError(e, 'ERR_NOT_FOUND'));
  await assert.rejects(s.apply('sha256:../../etc', undefined, streamOf(tar)), (e: unknown) => isBerthError(e, 'ERR_INVALID_DIGEST'));
  assert.throws(() => s.path('../x'), (e: unknown) => isBerthError(e, 'ERR_INVALID_DIGEST'));
});

test('with `ready`, a layer unpacks before its parent exists but commits only after it', async () => {
  const s = await fresh();
  const l1 = tarOf(entry({ name: 'a', body: 'one' }));
  const l2 = tarOf(entry({ name: 'b', body: 'two' }));
  const [c1, c2] = chainIds([sha256(l1), sha256(l2)]) as [string, string];
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  let committed = false;
  const child = s.apply(c2, c1, streamOf(l2), sha256(l2), { ready: gate }).then((r) => { committed = true; return r; });
  // the child's extraction runs now; it must stay invisible while the gate is closed
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(committed, false);
  assert.equal(await s.has(c2), false);
  assert.ok((await fsp.readdir(s.root)).every((n) => n.startsWith('.tmp-')), 'only a temp dir exists');
  await s.apply(c1, undefined, streamOf(l1), sha256(l1));
  open();
  assert.deepEqual(await child, { diffId: sha256(l2), size: l2.length });
  assert.equal(await s.parent(c2), c1);
  assert.equal(await fsp.readFile(join(s.path(c2), 'b'), 'utf8'), 'two');
});

test('a `ready` that rejects, or a parent still missing when it settles, keeps nothing', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'f', body: 'x' }));
  const [, c2] = chainIds([sha256('p'), sha256(tar)]) as [string, string];
  const boom = new Error('parent failed');
  await assert.rejects(s.apply(c2, sha256('p'), streamOf(tar), sha256(tar), { ready: Promise.reject(boom) }), (e: unknown) => e === boom);
  assert.deepEqual(await fsp.readdir(s.root), []);
  await assert.rejects(s.apply(c2, sha256('p'), streamOf(tar), sha256(tar), { ready: Promise.resolve() }), (e: unknown) => isBerthError(e, 'ERR_NOT_FOUND'));
  assert.deepEqual(await fsp.readdir(s.root), []);
});

test('gzip layers: same diff ID and tree as the plain tar; corrupt or truncated gzip keeps nothing', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'etc/', type: '5' }), entry({ name: 'etc/motd', body: 'hi' }), entry({ name: 'big', body: Buffer.alloc(3 << 20, 7) }));
  const gz = gzipSync(tar);
  const c = sha256(tar);
  assert.deepEqual(await s.apply(c, undefined, streamOf(gz), c, { gzip: true }), { diffId: c, size: tar.length });
  assert.equal(await fsp.readFile(join(s.path(c), 'etc/motd'), 'utf8'), 'hi');
  assert.equal((await fsp.stat(join(s.path(c), 'big'))).size, 3 << 20);
  // already there: the input is still checked against the expected diff ID
  assert.deepEqual(await s.apply(c, undefined, streamOf(gz), c, { gzip: true }), { diffId: c, size: tar.length });

  const s2 = await fresh();
  const bad = Buffer.from(gz);
  bad[bad.length >> 1] ^= 0xff;
  await assert.rejects(s2.apply(c, undefined, streamOf(bad), c, { gzip: true }), (e: unknown) => isBerthError(e, 'ERR_BAD_ARCHIVE') || isBerthError(e, 'ERR_DIGEST_MISMATCH'));
  await assert.rejects(s2.apply(c, undefined, streamOf(gz.subarray(0, gz.length - 100)), c, { gzip: true }), (e: unknown) => isBerthError(e));
  assert.deepEqual(await fsp.readdir(s2.root), []);
});

test('init() sweeps half-extracted and half-removed leftovers of a crash', async () => {
  const s = await fresh();
  const tar = tarOf(entry({ name: 'f', body: 'x' }));
  const c = sha256(tar);
  await s.apply(c, undefined, streamOf(tar));
  const hex = 'ab'.repeat(32);
  await fsp.mkdir(join(s.root, `.tmp-${hex}-123456/fs/deep`), { recursive: true });
  await fsp.mkdir(join(s.root, `${hex}-removing-abcd/fs`), { recursive: true });
  await fsp.mkdir(join(s.root, hex, 'fs'), { recursive: true }); // no meta.json: never committed
  await new Snapshotter(s.root).init();
  assert.deepEqual(await fsp.readdir(s.root), [c.slice(7)]);
  assert.ok(existsSync(join(s.path(c), 'f')));
});

test('snapshots stack as overlayfs lowerdirs: whiteouts hide and opaque dirs mask lower content', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount overlayfs');
  const s = await fresh();
  const l1 = tarOf(
    entry({ name: 'etc/', type: '5', mode: 0o755 }),
    entry({ name: 'etc/motd', body: 'hello' }),
    entry({ name: 'etc/keep', body: 'keep' }),
    entry({ name: 'var/', type: '5', mode: 0o755 }),
    entry({ name: 'var/cache/', type: '5', mode: 0o755 }),
    entry({ name: 'var/cache/old', body: 'old' }),
  );
  const l2 = tarOf(
    entry({ name: 'etc/.wh.motd', body: '' }),
    entry({ name: 'var/cache/', type: '5', mode: 0o755 }),
    entry({ name: 'var/cache/.wh..wh..opq', body: '' }),
    entry({ name: 'var/cache/new', body: 'new' }),
  );
  const [c1, c2] = chainIds([sha256(l1), sha256(l2)]) as [string, string];
  await s.apply(c1, undefined, streamOf(l1));
  await s.apply(c2, c1, streamOf(l2));
  const mnt = join(base, `mnt${n++}`);
  await fsp.mkdir(mnt);
  const { spawnSync } = await import('node:child_process');
  const m = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${s.path(c2)}:${s.path(c1)}`, mnt], { encoding: 'utf8' });
  if (m.status !== 0) return t.skip(`overlay mount unavailable: ${m.stderr.trim()}`);
  try {
    assert.deepEqual((await fsp.readdir(join(mnt, 'etc'))).sort(), ['keep']);
    assert.deepEqual((await fsp.readdir(join(mnt, 'var/cache'))).sort(), ['new']);
    assert.equal(await fsp.readFile(join(mnt, 'etc/keep'), 'utf8'), 'keep');
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('disk full (security.md 24): ERR_NO_SPACE, nothing committed, works again after freeing space', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs');
  const mnt = join(base, `full${n++}`);
  await fsp.mkdir(mnt);
  const { spawnSync } = await import('node:child_process');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) return t.skip(`tmpfs mount unavailable: ${m.stderr.trim()}`);
  try {
    const s = new Snapshotter(join(mnt, 'snapshots'));
    await s.init();
    const big = tarOf(entry({ name: 'big', body: Buffer.alloc(4 << 20, 1) }));
    await assert.rejects(s.apply(sha256(big), undefined, streamOf(big)), (e: unknown) => isBerthError(e, 'ERR_NO_SPACE'));
    assert.deepEqual(await fsp.readdir(s.root), []);
    const small = tarOf(entry({ name: 'small', body: 'ok' }));
    await s.apply(sha256(small), undefined, streamOf(small));
    assert.deepEqual(await s.list(), [sha256(small)]);
  } finally {
    spawnSync('umount', [mnt]);
  }
});
