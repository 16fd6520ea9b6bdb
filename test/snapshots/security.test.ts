// Hostile layer tars, one test per advisory (security.md tests 1, 2, 3, 18, 25).
// Oracle: a sentinel tree beside the extraction root (and the real /etc/passwd) is hashed before
// and after; extraction may succeed (everything clamped inside the root) or fail with
// ERR_BAD_ARCHIVE, but nothing outside the root may change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extractTar, Snapshotter, chainIds } from '../../src/store/snapshots/index.js';
import { isBerthError } from '../../src/errors/index.js';
import { END, ensureHelper, entry, hashTree, header, paxRecords, sha256, streamOf, tarOf, tmpBase, xattrs, pythonAvailable } from './helpers.js';

let base: string;
let n = 0;

before(async () => {
  ensureHelper();
  base = await tmpBase('berth-sec-');
});
after(async () => {
  await fsp.rm(base, { recursive: true, force: true });
});

interface Arena {
  top: string;
  /** extraction root, nested so that `../` chains land in the sentinel */
  root: string;
  /** sentinel host tree beside the root */
  host: string;
  /** prefix sibling of the root: <root>-sibling */
  sibling: string;
}

async function arena(): Promise<Arena> {
  const top = join(base, `a${n++}`);
  const root = join(top, 'x', 'y', 'root');
  const host = join(top, 'host');
  const sibling = `${root}-sibling`;
  await fsp.mkdir(root, { recursive: true });
  await fsp.mkdir(join(host, 'etc'), { recursive: true });
  await fsp.mkdir(join(host, 'tmp'), { recursive: true });
  await fsp.mkdir(sibling, { recursive: true });
  await fsp.writeFile(join(host, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
  await fsp.writeFile(join(host, 'secret'), 'top secret', { mode: 0o600 });
  await fsp.writeFile(join(sibling, 'file'), 'sibling', { mode: 0o644 });
  await fsp.utimes(join(host, 'secret'), 1_000_000, 1_000_000);
  return { top, root, host, sibling };
}

/** Hash of everything outside the root that a breakout could reach. */
async function outside(a: Arena): Promise<string> {
  const parts = [await hashTree(a.host, a.sibling, '/etc/passwd')];
  // the directories between top and root, without descending into root
  for (const d of [a.top, join(a.top, 'x'), join(a.top, 'x', 'y')]) {
    parts.push((await fsp.readdir(d)).sort().join(','));
  }
  return parts.join('|');
}

/** Runs the tar and asserts the oracle. Returns whether extraction succeeded. */
async function expectContained(a: Arena, tar: Buffer | Buffer[], mode: 'overlay' | 'apply' = 'overlay'): Promise<boolean> {
  const before = await outside(a);
  let ok = true;
  for (const layer of Array.isArray(tar) ? tar : [tar]) {
    try {
      await extractTar(a.root, streamOf(layer), { mode });
    } catch (e) {
      assert.ok(isBerthError(e, 'ERR_BAD_ARCHIVE'), `unexpected error: ${String(e)}`);
      ok = false;
    }
  }
  assert.equal(await outside(a), before, 'something outside the root changed');
  return ok;
}

const ABS_ETC = `/etc/berth-breakout-${process.pid}`;

// ---------------------------------------------------------------- 1. layer breakout table

test('breakout: zip-slip "../" file paths are clamped inside the root (containerd TestBreakouts, moby TestUntarInvalidFilenames)', async () => {
  const a = await arena();
  const ok = await expectContained(a, tarOf(
    entry({ name: '../../../host/pwn', body: 'pwn' }),
    entry({ name: '../root-sibling/pwn', body: 'pwn' }),
    entry({ name: 'dir/../../../../../host/etc/passwd', body: 'pwn' }),
  ));
  assert.ok(ok);
  assert.equal(await fsp.readFile(join(a.root, 'host/pwn'), 'utf8'), 'pwn');
  assert.equal(await fsp.readFile(join(a.root, 'root-sibling/pwn'), 'utf8'), 'pwn');
});

test('breakout: absolute "////etc/x" lands under the root (node-tar / tar-fs absolute path vector)', async () => {
  const a = await arena();
  const ok = await expectContained(a, tarOf(
    entry({ name: `////${ABS_ETC.slice(1)}`, body: 'abs' }),
    entry({ name: `${a.host}/secret`, body: 'overwritten?' }),
    entry({ name: 'x', pax: { path: `/${a.host}/etc/passwd` }, body: 'pax abs' }),
  ));
  assert.ok(ok);
  assert.equal(existsSync(ABS_ETC), false);
  assert.equal(await fsp.readFile(join(a.root, ABS_ETC), 'utf8'), 'abs');
  assert.equal(await fsp.readFile(join(a.root, a.host, 'secret'), 'utf8'), 'overwritten?');
});

test('breakout: symlink then write through it stays inside (moby TestUntarInvalidSymlink, CVE-2018-15664 class)', async () => {
  const a = await arena();
  // each vector is its own layer so one refusal does not hide the next
  const results = await Promise.resolve().then(async () => {
    const out: boolean[] = [];
    for (const tar of [
      // the in-root twin of the host path exists, so writes through the absolute link land there
      tarOf(entry({ name: `${a.host.slice(1)}/`, type: '5' }), entry({ name: 'abs', type: '2', linkname: a.host }), entry({ name: 'abs/pwn', body: 'pwn' })),
      tarOf(entry({ name: 'rel', type: '2', linkname: '../../../host' }), entry({ name: 'rel/pwn2', body: 'pwn' })),
      tarOf(entry({ name: 'relsib', type: '2', linkname: '../root-sibling' }), entry({ name: 'relsib/file', body: 'pwn' })),
      tarOf(entry({ name: 'etcdir', type: '2', linkname: '/etc' }), entry({ name: `etcdir/berth-breakout-${process.pid}`, body: 'pwn' })),
      tarOf(entry({ name: 'passwdlink', type: '2', linkname: join(a.host, 'etc/passwd') }), entry({ name: 'passwdlink', body: 'replaced the link' })),
      tarOf(entry({ name: 'nested/', type: '5' }), entry({ name: 'nested/up', type: '2', linkname: '../../../../../..' }), entry({ name: 'nested/up/nested/f', body: 'in root' })),
    ]) out.push(await expectContained(a, tar));
    return out;
  });
  assert.deepEqual(results, [true, false, false, false, true, true]);
  assert.equal(existsSync(ABS_ETC), false);
  assert.equal(await fsp.readFile(join(a.root, a.host, 'pwn'), 'utf8'), 'pwn');
  assert.equal(await fsp.readFile(join(a.root, 'passwdlink'), 'utf8'), 'replaced the link');
  assert.equal(await fsp.readFile(join(a.root, 'nested/f'), 'utf8'), 'in root');
});

test('breakout: hardlink a/b/c/d/x -> ../../../../etc/passwd is resolved in the root and refused (moby TestUntarInvalidHardlink)', async () => {
  const a = await arena();
  const ok = await expectContained(a, tarOf(
    entry({ name: 'a/b/c/d/', type: '5' }),
    entry({ name: 'a/b/c/d/x', type: '1', linkname: '../../../../etc/passwd' }),
    entry({ name: 'a/b/c/d/x', body: 'write through the link' }),
  ));
  assert.equal(ok, false);
});

test('breakout: hardlink to an absolute host path or through a symlinked dir is refused (oras-go CVE-2026-50163, node-tar CVE-2026-24842)', async () => {
  const a = await arena();
  const secret = join(a.host, 'secret');
  for (const tar of [
    tarOf(entry({ name: 'x', type: '1', linkname: secret }), entry({ name: 'x', body: 'pwn' })),
    tarOf(entry({ name: 'l', type: '2', linkname: '/' }), entry({ name: 'y', type: '1', linkname: `l${secret}` }), entry({ name: 'y', body: 'pwn' })),
    tarOf(entry({ name: 'm', type: '2', linkname: '../../..' }), entry({ name: 'z', type: '1', linkname: 'm/host/secret' }), entry({ name: 'z', body: 'pwn' })),
  ]) {
    assert.equal(await expectContained(a, tar), false);
  }
});

test('breakout: hardlink to a symlink is the symlink itself, never its target (linkat without AT_SYMLINK_FOLLOW)', async () => {
  const a = await arena();
  const ok = await expectContained(a, tarOf(
    entry({ name: 's', type: '2', linkname: join(a.host, 'secret') }),
    entry({ name: 'h', type: '1', linkname: 's' }),
  ));
  assert.ok(ok);
  assert.ok((await fsp.lstat(join(a.root, 'h'))).isSymbolicLink());
});

test('breakout: prefix-sibling destination (<root>-sibling) is unreachable (tar-fs / go-archive prefix check bug)', async () => {
  const a = await arena();
  await expectContained(a, tarOf(
    entry({ name: '../root-sibling/file', body: 'pwn' }),
    entry({ name: 'sib', type: '2', linkname: a.sibling }),
    entry({ name: 'sib/file', body: 'pwn' }),
    entry({ name: 'sib2', type: '2', linkname: '../root-sibling/file' }),
    entry({ name: 'h', type: '1', linkname: '../root-sibling/file' }),
  ));
});

test('breakout: extractor cwd containing "secret" with hardlink x -> secret (node-tar CVE-2026-26960)', async () => {
  const a = await arena();
  const cwd = process.cwd();
  process.chdir(a.host);
  try {
    const ok = await expectContained(a, tarOf(
      entry({ name: 'x', type: '1', linkname: 'secret' }),
      entry({ name: 'x', body: 'overwrite the cwd secret' }),
    ));
    assert.equal(ok, false);
  } finally {
    process.chdir(cwd);
  }
  assert.equal(existsSync(join(a.root, 'x')), false);
});

test('breakout: a directory entry replacing a symlink does not chmod the symlink target (containerd TestBreakouts dir-over-symlink)', async () => {
  const a = await arena();
  const res = [];
  for (const tar of [
    tarOf(entry({ name: 'd', type: '2', linkname: a.host }), entry({ name: 'd/', type: '5', mode: 0o777, uid: 1234, mtime: 5 })),
    tarOf(entry({ name: 'dev', type: '2', linkname: join(a.host, 'etc') }), entry({ name: 'dev/null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 })),
    tarOf(entry({ name: 'fifo', type: '2', linkname: join(a.host, 'secret') }), entry({ name: 'fifo', type: '6', mode: 0o666 })),
  ]) res.push(await expectContained(a, tar));
  assert.deepEqual(res, [true, false, true]);
  assert.ok((await fsp.lstat(join(a.root, 'fifo'))).isFIFO());
  assert.ok((await fsp.lstat(join(a.root, 'd'))).isDirectory());
});

test('breakout: SymlinkOverridePath — a directory swapped for a symlink mid-archive (CVE-2025-47290)', async () => {
  const a = await arena();
  const res = [];
  for (const tar of [
    tarOf(
      entry({ name: 'a/', type: '5' }), entry({ name: 'a/b/', type: '5' }), entry({ name: 'a/b/f', body: 'first' }),
      entry({ name: 'a/b', type: '2', linkname: join(a.host, 'etc') }), entry({ name: 'a/b/passwd', body: 'pwn' }),
    ),
    tarOf(entry({ name: 'a', type: '2', linkname: '../../..' }), entry({ name: 'a/host/secret', body: 'pwn' })),
    tarOf(entry({ name: 'c/', type: '5' }), entry({ name: 'c', type: '2', linkname: '/' }), entry({ name: 'c/c2', body: 'in root' })),
  ]) res.push(await expectContained(a, tar));
  // layer 2: `a` now points at the root (clamped), so a/host/secret is created as root/host/secret
  assert.deepEqual(res, [false, true, true]);
  assert.equal(await fsp.readFile(join(a.root, 'host/secret'), 'utf8'), 'pwn');
  assert.equal(await fsp.readFile(join(a.root, 'c2'), 'utf8'), 'in root');
});

// ---------------------------------------------------------------- 2. cross-layer symlink plant

test('CVE-2025-45582: layer 1 "x -> ../../../..", layer 2 "x/tmp/pwn" — separate overlay snapshots', async () => {
  const a = await arena();
  const l1 = tarOf(entry({ name: 'x', type: '2', linkname: '../../../..' }));
  const l2 = tarOf(entry({ name: 'x/', type: '5' }), entry({ name: 'x/tmp/pwn', body: 'pwn' }), entry({ name: 'x/host/secret', body: 'pwn' }));
  const snaps = new Snapshotter(join(a.root, 'snapshots'));
  await snaps.init();
  const before = await outside(a);
  const [c1, c2] = chainIds([sha256(l1), sha256(l2)]);
  await snaps.apply(c1!, undefined, streamOf(l1), sha256(l1));
  await snaps.apply(c2!, c1, streamOf(l2), sha256(l2));
  assert.equal(await outside(a), before);
  assert.equal(existsSync(join(a.top, 'tmp')), false);
  assert.equal(await fsp.readlink(join(snaps.path(c1!), 'x')), '../../../..');
  assert.equal(await fsp.readFile(join(snaps.path(c2!), 'x/tmp/pwn'), 'utf8'), 'pwn');
});

test('CVE-2025-45582: the same two layers applied into one directory (apply mode, docker cp path)', async () => {
  const a = await arena();
  const l1 = tarOf(entry({ name: 'x', type: '2', linkname: '../../../..' }));
  const l2 = tarOf(entry({ name: 'x/tmp/pwn', body: 'pwn' }), entry({ name: 'x/host/secret', body: 'pwn' }));
  await expectContained(a, [l1, l2], 'apply');
  assert.equal(existsSync(join(a.top, 'tmp', 'pwn')), false);
  // x resolved to the root itself
  assert.equal(await fsp.readFile(join(a.root, 'tmp/pwn'), 'utf8'), 'pwn');
});

// ---------------------------------------------------------------- 3. metadata through links

test('CVE-2021-32760: chmod/chown/utimes/xattrs on a symlink or hardlink never reach the host file', async (t) => {
  const a = await arena();
  const secret = join(a.host, 'secret');
  const pax = pythonAvailable() ? { 'SCHILY.xattr.user.pwn': 'y', 'SCHILY.xattr.trusted.pwn': 'y' } : undefined;
  await expectContained(a, [
    tarOf(
      // symlink carrying metadata of its own
      entry({ name: 's', type: '2', linkname: secret, mode: 0o777, uid: 4321, gid: 4321, mtime: 7, pax }),
      // hardlink to that symlink with a mode (the original HardlinkSymlinkChmod case)
      entry({ name: 'h', type: '1', linkname: 's', mode: 0o4777, uid: 99, mtime: 8, pax }),
    ),
    // a directory entry whose name is a symlink to a host dir
    tarOf(entry({ name: 'etc', type: '2', linkname: join(a.host, 'etc') }), entry({ name: 'etc/', type: '5', mode: 0o777, uid: 4321, mtime: 9, pax })),
    // a hardlink placed through a symlinked parent
    tarOf(entry({ name: 'hostdir', type: '2', linkname: a.host }), entry({ name: 'hostdir/secret', type: '1', linkname: 's', mode: 0o777 })),
  ]);
  const st = await fsp.stat(secret);
  assert.equal(st.mode & 0o7777, 0o600);
  assert.equal(st.uid, process.getuid?.() ?? st.uid);
  assert.equal(st.mtimeMs, 1_000_000_000);
  if (pythonAvailable()) assert.deepEqual(xattrs(secret), {});
  else t.diagnostic('python3 missing: xattrs not checked');
});

// ---------------------------------------------------------------- 18. tar resource bombs

function lazy(head: Buffer, total: number, chunk = 1 << 20): Readable {
  let sent = 0;
  let first = true;
  return new Readable({
    read() {
      if (first) { first = false; this.push(head); return; }
      if (sent >= total) { this.push(null); return; }
      const n = Math.min(chunk, total - sent);
      sent += n;
      this.push(Buffer.alloc(n));
    },
  });
}

test('CVE-2017-14992 tar bomb: a 1 GB PAX header is refused before it is read (bounded memory)', async () => {
  const a = await arena();
  const src = lazy(header({ name: 'PaxHeaders/x', type: 'x', size: 1 << 30 }), 1 << 30);
  await assert.rejects(extractTar(a.root, src), (e: unknown) => {
    assert.ok(isBerthError(e, 'ERR_BAD_ARCHIVE'), String(e));
    assert.match(e.message, /PAX header/);
    return true;
  });
  // and one just over the 1 MiB bound
  const recs = paxRecords({ comment: 'c'.repeat((1 << 20) + 10) });
  await assert.rejects(extractTar(a.root, streamOf(tarOf(header({ name: 'p', type: 'x', size: recs.length }), recs))), /PAX header/);
  // GNU long name beyond the path bound
  const long = Buffer.alloc(8192, 0x61);
  await assert.rejects(extractTar(a.root, streamOf(tarOf(header({ name: '././@LongLink', type: 'L', size: long.length }), long))), /GNU long name/);
});

test('CVE-2025-58183: GNU sparse (type S and a PAX 1.0 sparse map with 10^7 regions) fails cleanly', async () => {
  const a = await arena();
  await assert.rejects(extractTar(a.root, streamOf(tarOf(entry({ name: 'sparse', type: 'S', size: 0 })))), (e: unknown) => {
    assert.ok(isBerthError(e, 'ERR_BAD_ARCHIVE'));
    assert.match(e.message, /sparse/);
    return true;
  });
  // PAX 1.0: the map is in the data; 10^7 regions declared
  const map = `10000000\n${'0\n1\n'.repeat(1000)}`;
  const tar = tarOf(entry({
    name: 'GNUSparseFile.0/sparse', body: map,
    pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'sparse', 'GNU.sparse.realsize': String(1e12) },
  }));
  await assert.rejects(extractTar(a.root, streamOf(tar)), /sparse/);
  // PAX 0.1 map in the header
  await assert.rejects(extractTar(a.root, streamOf(tarOf(entry({ name: 's', body: '', pax: { 'GNU.sparse.numblocks': '10000000', 'GNU.sparse.map': '0,1' } })))), /sparse/);
});

test('CVE-2017-14992: an empty tar followed by lots of zero padding succeeds and is fully hashed', async () => {
  const a = await arena();
  const total = 64 << 20;
  const rssBefore = process.memoryUsage().rss;
  const res = await extractTar(a.root, lazy(END, total));
  assert.equal(res.size, END.length + total);
  assert.deepEqual(await fsp.readdir(a.root), []);
  assert.ok(process.memoryUsage().rss - rssBefore < 256 << 20, 'memory grew with the input');
});

// ---------------------------------------------------------------- 25. concurrent applies

test('concurrent pulls of shared layers (moby "failed to rename … file exists", security.md 25): 10 applies of one chain ID unpack once, no "file exists"', async () => {
  const a = await arena();
  const snaps = new Snapshotter(join(a.top, 'snapshots'));
  await snaps.init();
  const tar = tarOf(entry({ name: 'etc/', type: '5' }), entry({ name: 'etc/os-release', body: 'ID=berth\n' }), entry({ name: 'big', body: Buffer.alloc(3 << 20, 1) }));
  const diff = sha256(tar);
  const inputs = Array.from({ length: 10 }, () => streamOf(tar));
  const results = await Promise.all(inputs.map((s) => snaps.apply(diff, undefined, s, diff)));
  for (const r of results) assert.deepEqual(r, { diffId: diff, size: tar.length });
  assert.equal(snaps.unpacked, 1);
  for (const s of inputs) assert.ok(s.readableEnded, 'every input was drained');
  assert.deepEqual(await snaps.list(), [diff]);
  assert.deepEqual((await fsp.readdir(snaps.root)).filter((x) => x.startsWith('.tmp-')), []);

  // two snapshotters on one root (two processes racing) also end with one snapshot and no error
  const other = new Snapshotter(snaps.root);
  const t2 = tarOf(entry({ name: 'two', body: '2' }));
  const d2 = sha256(t2);
  await Promise.all([snaps.apply(d2, undefined, streamOf(t2)), other.apply(d2, undefined, streamOf(t2))]);
  assert.deepEqual((await snaps.list()).sort(), [diff, d2].sort());
});
