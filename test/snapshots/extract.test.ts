// Functional tests of the native extractor: metadata preservation, whiteouts, tar dialects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractTar } from '../../src/store/snapshots/index.js';
import { isBerthError } from '../../src/errors/index.js';
import { END, ensureHelper, entry, gnuLong, header, sha256, streamOf, tarOf, tmpBase, xattrs, pythonAvailable } from './helpers.js';

let base: string;
let n = 0;
async function freshDir(): Promise<string> {
  const d = join(base, `t${n++}`);
  await fsp.mkdir(d);
  return d;
}

before(async () => {
  ensureHelper();
  base = await tmpBase('berth-extract-');
});
after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

test('ownership, modes (setuid, sticky), mtimes, hard links, devices, fifos and symlinks are preserved', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for chown and mknod');
  const dir = await freshDir();
  const tar = tarOf(
    entry({ name: 'bin/', type: '5', mode: 0o755, mtime: 1_000_000_000 }),
    entry({ name: 'bin/su', mode: 0o4755, uid: 1000, gid: 2000, mtime: 1_100_000_000, body: 'setuid binary' }),
    entry({ name: 'bin/sg', mode: 0o2711, uid: 0, gid: 50, body: 'setgid' }),
    entry({ name: 'tmp/', type: '5', mode: 0o1777, uid: 7, gid: 8, mtime: 1_200_000_000 }),
    entry({ name: 'bin/su-link', type: '1', linkname: 'bin/su' }),
    entry({ name: 'dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3 }),
    entry({ name: 'dev/loop9', type: '4', mode: 0o660, gid: 6, devmajor: 7, devminor: 9 }),
    entry({ name: 'run/fifo', type: '6', mode: 0o600, uid: 33 }),
    entry({ name: 'bin/sh', type: '2', linkname: '/bin/busybox', uid: 5, gid: 6, mtime: 1_300_000_000 }),
    entry({ name: 'frac', body: 'x', pax: { mtime: '1234567890.5', atime: '1234567000.25', uid: '4000000', gid: '4000001' } }),
  );
  const res = await extractTar(dir, streamOf(tar));
  assert.equal(res.diffId, sha256(tar));
  assert.equal(res.size, tar.length);

  const su = await fsp.lstat(join(dir, 'bin/su'));
  assert.equal(su.mode & 0o7777, 0o4755);
  assert.equal(su.uid, 1000);
  assert.equal(su.gid, 2000);
  assert.equal(su.mtimeMs, 1_100_000_000_000);
  assert.equal(su.nlink, 2);
  assert.equal((await fsp.readFile(join(dir, 'bin/su'), 'utf8')), 'setuid binary');
  assert.equal((await fsp.lstat(join(dir, 'bin/su-link'))).ino, su.ino);
  assert.equal((await fsp.lstat(join(dir, 'bin/sg'))).mode & 0o7777, 0o2711);

  const tmp = await fsp.lstat(join(dir, 'tmp'));
  assert.ok(tmp.isDirectory());
  assert.equal(tmp.mode & 0o7777, 0o1777);
  assert.deepEqual([tmp.uid, tmp.gid], [7, 8]);
  assert.equal(tmp.mtimeMs, 1_200_000_000_000);
  // directory times are set after its children were written
  assert.equal((await fsp.lstat(join(dir, 'bin'))).mtimeMs, 1_000_000_000_000);

  const nul = await fsp.lstat(join(dir, 'dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  assert.equal(nul.mode & 0o7777, 0o666);
  const loop = await fsp.lstat(join(dir, 'dev/loop9'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, (7 << 8) | 9);
  assert.equal(loop.gid, 6);
  const fifo = await fsp.lstat(join(dir, 'run/fifo'));
  assert.ok(fifo.isFIFO());
  assert.equal(fifo.uid, 33);

  const sh = await fsp.lstat(join(dir, 'bin/sh'));
  assert.ok(sh.isSymbolicLink());
  assert.equal(await fsp.readlink(join(dir, 'bin/sh')), '/bin/busybox');
  assert.deepEqual([sh.uid, sh.gid], [5, 6]);
  assert.equal(sh.mtimeMs, 1_300_000_000_000);

  const frac = await fsp.stat(join(dir, 'frac'), { bigint: true });
  assert.equal(frac.mtimeNs, 1_234_567_890_500_000_000n);
  assert.equal(frac.atimeNs, 1_234_567_000_250_000_000n);
  assert.equal(frac.uid, 4_000_000n);
  assert.equal(frac.gid, 4_000_001n);
});

test('xattrs from SCHILY.xattr PAX records are set (binary values too); trusted.overlay.* from the image is not', async (t) => {
  if (!pythonAvailable()) return t.skip('python3 needed to read xattrs');
  const dir = await freshDir();
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
  const tar = tarOf(
    entry({ name: 'd/', type: '5', mode: 0o755, pax: { 'SCHILY.xattr.user.dir': 'yes' } }),
    entry({ name: 'd/ping', mode: 0o755, body: 'ping', pax: { 'SCHILY.xattr.security.capability': cap, 'SCHILY.xattr.user.a': 'b=c' } }),
    entry({ name: 'd/sneaky', body: '', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }),
  );
  await extractTar(dir, streamOf(tar));
  assert.deepEqual(xattrs(join(dir, 'd')), { 'user.dir': Buffer.from('yes').toString('hex') });
  const x = xattrs(join(dir, 'd/ping'))!;
  assert.equal(x['security.capability'], cap.toString('hex'));
  assert.equal(x['user.a'], Buffer.from('b=c').toString('hex'));
  assert.deepEqual(xattrs(join(dir, 'd/sneaky')), {});
});

test('overlay mode: .wh.NAME becomes a 0/0 char device and .wh..wh..opq the opaque xattr', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for mknod and trusted.* xattrs');
  const dir = await freshDir();
  const tar = tarOf(
    entry({ name: 'etc/', type: '5', mode: 0o755 }),
    entry({ name: 'etc/.wh.motd', body: '' }),
    entry({ name: 'var/cache/', type: '5', mode: 0o755 }),
    entry({ name: 'var/cache/.wh..wh..opq', body: '' }),
    entry({ name: 'var/cache/new', body: 'new' }),
  );
  const res = await extractTar(dir, streamOf(tar), { mode: 'overlay' });
  const wh = await fsp.lstat(join(dir, 'etc/motd'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  await assert.rejects(fsp.lstat(join(dir, 'etc/.wh.motd')), { code: 'ENOENT' });
  await assert.rejects(fsp.lstat(join(dir, 'var/cache/.wh..wh..opq')), { code: 'ENOENT' });
  assert.equal(await fsp.readFile(join(dir, 'var/cache/new'), 'utf8'), 'new');
  if (pythonAvailable()) assert.equal(xattrs(join(dir, 'var/cache'))!['trusted.overlay.opaque'], Buffer.from('y').toString('hex'));
  assert.equal((res as { stats: { whiteouts: number } }).stats.whiteouts, 2);
});

test('apply mode: .wh.NAME deletes NAME, .wh..wh..opq clears lower content but keeps this layer\'s', async () => {
  const dir = await freshDir();
  const lower = tarOf(
    entry({ name: 'etc/', type: '5', mode: 0o755 }),
    entry({ name: 'etc/motd', body: 'old' }),
    entry({ name: 'etc/keep', body: 'keep' }),
    entry({ name: 'srv/', type: '5', mode: 0o755 }),
    entry({ name: 'srv/a/', type: '5', mode: 0o755 }),
    entry({ name: 'srv/a/deep', body: 'x' }),
    entry({ name: 'srv/b', body: 'b' }),
    entry({ name: 'gone/', type: '5' }),
    entry({ name: 'gone/inner', body: 'i' }),
  );
  await extractTar(dir, streamOf(lower), { mode: 'apply' });
  const upper = tarOf(
    entry({ name: 'etc/.wh.motd', body: '' }),
    entry({ name: 'srv/mine', body: 'mine' }), // same layer, before the opaque marker
    entry({ name: 'srv/.wh..wh..opq', body: '' }),
    entry({ name: '.wh.gone', body: '' }),
  );
  await extractTar(dir, streamOf(upper), { mode: 'apply' });
  await assert.rejects(fsp.lstat(join(dir, 'etc/motd')), { code: 'ENOENT' });
  assert.equal(await fsp.readFile(join(dir, 'etc/keep'), 'utf8'), 'keep');
  assert.deepEqual((await fsp.readdir(join(dir, 'srv'))).sort(), ['mine']);
  await assert.rejects(fsp.lstat(join(dir, 'gone')), { code: 'ENOENT' });
});

test('GNU long names/links, ustar prefix, PAX path/linkpath and old-style directories', async () => {
  const dir = await freshDir();
  const longDir = 'l'.repeat(120);
  const longName = `${longDir}/${'f'.repeat(150)}`;
  const prefixName = Buffer.alloc(512);
  const h = header({ name: 'short-name', body: 'p' });
  h.copy(prefixName);
  // ustar prefix field "pre/fix" + name "short-name", checksum recomputed
  prefixName.write('pre/fix', 345, 'latin1');
  prefixName.fill(' ', 148, 156);
  let sum = 0;
  for (const c of prefixName) sum += c;
  prefixName.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const tar = tarOf(
    gnuLong('L', longName), entry({ name: 'ignored', body: 'long' }),
    gnuLong('K', longName), entry({ name: 'hl', type: '1', linkname: 'ignored' }),
    prefixName, Buffer.concat([Buffer.from('p'), Buffer.alloc(511)]),
    entry({ name: 'ignored2', type: '2', linkname: 'x', pax: { path: 'pax/' + 'p'.repeat(200), linkpath: 't'.repeat(300) } }),
    entry({ name: 'olddir/', type: '0', mode: 0o750 }),
  );
  await extractTar(dir, streamOf(tar));
  assert.equal(await fsp.readFile(join(dir, longName), 'utf8'), 'long');
  assert.equal((await fsp.lstat(join(dir, 'hl'))).ino, (await fsp.lstat(join(dir, longName))).ino);
  assert.equal(await fsp.readFile(join(dir, 'pre/fix/short-name'), 'utf8'), 'p');
  assert.equal(await fsp.readlink(join(dir, 'pax/' + 'p'.repeat(200))), 't'.repeat(300));
  const od = await fsp.lstat(join(dir, 'olddir'));
  assert.ok(od.isDirectory());
  assert.equal(od.mode & 0o777, 0o750);
});

test('an entry of another type is replaced (dir by file, file by dir, symlink by file), never written through', async () => {
  const dir = await freshDir();
  const outside = join(base, `outside-${n}`);
  await fsp.writeFile(outside, 'host');
  const tar = tarOf(
    entry({ name: 'a/', type: '5' }),
    entry({ name: 'a/child', body: 'c' }),
    entry({ name: 'a', body: 'now a file' }),
    entry({ name: 'b', body: 'file' }),
    entry({ name: 'b/', type: '5', mode: 0o700 }),
    entry({ name: 'c', type: '2', linkname: outside }),
    entry({ name: 'c', body: 'replaced' }),
    entry({ name: 'same', body: 'v1' }),
    entry({ name: 'same', body: 'v2' }),
  );
  await extractTar(dir, streamOf(tar));
  assert.equal(await fsp.readFile(join(dir, 'a'), 'utf8'), 'now a file');
  assert.ok((await fsp.lstat(join(dir, 'b'))).isDirectory());
  assert.ok((await fsp.lstat(join(dir, 'c'))).isFile());
  assert.equal(await fsp.readFile(join(dir, 'c'), 'utf8'), 'replaced');
  assert.equal(await fsp.readFile(join(dir, 'same'), 'utf8'), 'v2');
  assert.equal(await fsp.readFile(outside, 'utf8'), 'host');
});

test('bad archives fail cleanly with ERR_BAD_ARCHIVE: checksum, truncation, unknown type', async () => {
  const cases: [string, Buffer, RegExp][] = [
    ['checksum', tarOf(entry({ name: 'x', body: 'x', badChecksum: true })), /checksum/],
    ['truncated body', entry({ name: 'x', body: Buffer.alloc(5000) }).subarray(0, 2000), /unexpected end/],
    ['truncated header', entry({ name: 'x', body: 'x' }).subarray(0, 100), /unexpected end/],
    ['multi-volume', tarOf(entry({ name: 'x', type: 'M' })), /multi-volume/],
    ['unknown type', tarOf(entry({ name: 'x', type: 'Z' })), /unsupported tar entry type/],
  ];
  for (const [what, tar, re] of cases) {
    const dir = await freshDir();
    await assert.rejects(extractTar(dir, streamOf(tar)), (e: unknown) => {
      assert.ok(isBerthError(e, 'ERR_BAD_ARCHIVE'), `${what}: ${String(e)}`);
      assert.match(e.message, re, what);
      return true;
    });
  }
});

test('a source stream error is reported as the cause, not as a tar error', async () => {
  const dir = await freshDir();
  const src = new Readable({ read() {} });
  src.push(entry({ name: 'x', body: Buffer.alloc(100_000) }).subarray(0, 5000));
  setImmediate(() => src.destroy(new Error('incorrect header check')));
  await assert.rejects(extractTar(dir, src), (e: unknown) => {
    assert.ok(isBerthError(e, 'ERR_INTERNAL'));
    assert.match(e.message, /incorrect header check/);
    return true;
  });
});

test('data after the end-of-archive marker is drained and hashed', async () => {
  const dir = await freshDir();
  const tar = Buffer.concat([entry({ name: 'f', body: 'f' }), END, Buffer.alloc(10_000, 7)]);
  const res = await extractTar(dir, streamOf(tar));
  assert.equal(res.diffId, sha256(tar));
  assert.equal(res.size, tar.length);
});

test('limits: more entries or file bytes than allowed fail with ERR_BAD_ARCHIVE (security.md R6)', async () => {
  const many = tarOf(...Array.from({ length: 20 }, (_, i) => entry({ name: `f${i}`, body: 'x' })));
  await assert.rejects(extractTar(await freshDir(), streamOf(many), { maxEntries: 10 }), (e: unknown) => isBerthError(e, 'ERR_BAD_ARCHIVE') && /more than 10 entries/.test(e.message));
  await extractTar(await freshDir(), streamOf(many), { maxEntries: 20 });
  const big = tarOf(entry({ name: 'big', body: Buffer.alloc(100_000) }));
  await assert.rejects(extractTar(await freshDir(), streamOf(big), { maxBytes: 99_999 }), /size limit/);
});

test('AUFS bookkeeping entries (.wh..wh.plnk) are skipped; apply-mode opaque keeps implicit parents of this layer', async () => {
  const dir = await freshDir();
  await extractTar(dir, streamOf(tarOf(entry({ name: 'srv/old/x', body: 'old' }))), { mode: 'apply' });
  await extractTar(dir, streamOf(tarOf(
    entry({ name: '.wh..wh.plnk/', type: '5' }),
    entry({ name: '.wh..wh.plnk/1234.5', body: 'link store' }),
    entry({ name: 'srv/new/deep/f', body: 'new' }), // srv/new and srv/new/deep are implicit
    entry({ name: 'srv/.wh..wh..opq', body: '' }),
  )), { mode: 'apply' });
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['srv']);
  assert.deepEqual(await fsp.readdir(join(dir, 'srv')), ['new']);
  assert.equal(await fsp.readFile(join(dir, 'srv/new/deep/f'), 'utf8'), 'new');
});

test('prefix (docker cp into a container dir): paths and hard-link targets go under it, symlinks on the way resolve in the root', async () => {
  const dir = await freshDir();
  const outside = join(base, `outside-prefix-${n}`);
  await fsp.mkdir(outside);
  // the container made its destination a symlink to a host path (CVE-2018-15664 shape)
  await fsp.mkdir(join(dir, 'var'));
  await fsp.symlink(outside, join(dir, 'var/dest'));
  await fsp.mkdir(join(dir, outside), { recursive: true });
  await extractTar(dir, streamOf(tarOf(
    entry({ name: 'f', body: 'file' }),
    entry({ name: 'h', type: '1', linkname: 'f' }),
  )), { mode: 'apply', prefix: '/var/dest' });
  assert.deepEqual(await fsp.readdir(outside), []);
  assert.equal(await fsp.readFile(join(dir, outside, 'f'), 'utf8'), 'file');
  assert.equal((await fsp.lstat(join(dir, outside, 'h'))).ino, (await fsp.lstat(join(dir, outside, 'f'))).ino);
});
