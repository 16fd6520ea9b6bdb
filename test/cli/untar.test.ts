// Host-side extraction for `berth cp`: archives from the daemon cannot write outside the
// destination, whatever names and links they carry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { entryParts, extractTar } from '../../src/cli/untar.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device'; body?: string; linkname?: string; mode?: number };

async function tarOf(entries: Entry[]): Promise<Readable> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    await new Promise<void>((res, rej) => {
      const h = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), linkname: e.linkname };
      if (type === 'file') pack.entry(h, e.body ?? '', (err) => (err ? rej(err) : res()));
      else pack.entry(h, (err) => (err ? rej(err) : res()));
    });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

async function withDirs(fn: (dest: string, outside: string) => Promise<void>): Promise<void> {
  const base = await fsp.mkdtemp(join(tmpdir(), 'berth-untar-'));
  const dest = join(base, 'dest');
  const outside = join(base, 'outside');
  await fsp.mkdir(dest);
  await fsp.mkdir(outside);
  try { await fn(dest, outside); } finally { await fsp.rm(base, { recursive: true, force: true }); }
}

const listAll = async (dir: string): Promise<string[]> => (await fsp.readdir(dir, { recursive: true })).map(String).sort();

test('a FIFO is made again, as the docker CLI does; a device node is not', async () => {
  await withDirs(async (dest) => {
    const src = await tarOf([{ name: 'd', type: 'directory' }, { name: 'd/p', type: 'fifo', mode: 0o640 }, { name: 'd/null', type: 'character-device' }]);
    await extractTar(src, { target: join(dest, 'copy'), chown: false });
    const st = await fsp.lstat(join(dest, 'copy', 'p'));
    assert.ok(st.isFIFO());
    assert.equal(st.mode & 0o777, 0o640);
    assert.deepEqual(await listAll(join(dest, 'copy')), ['p']);
  });
});

test('entry names that are absolute or climb out are refused', () => {
  assert.deepEqual(entryParts('d/sub/f'), ['d', 'sub', 'f']);
  assert.deepEqual(entryParts('./d/'), ['.', 'd']);
  assert.throws(() => entryParts('/etc/passwd'), /absolute/);
  assert.throws(() => entryParts('d/../../x'), /leaves the destination/);
  assert.throws(() => entryParts('..'), /leaves the destination/);
});

test('a directory archive lands at the target with contents and modes', async () => {
  await withDirs(async (dest) => {
    const src = await tarOf([
      { name: 'd', type: 'directory', mode: 0o750 },
      { name: 'd/sub', type: 'directory' },
      { name: 'd/sub/y', body: 'why\n', mode: 0o600 },
      { name: 'd/l', type: 'symlink', linkname: 'sub/y' },
      { name: 'd/h', type: 'link', linkname: 'd/sub/y' },
    ]);
    await extractTar(src, { target: join(dest, 'copy'), chown: false });
    assert.deepEqual(await listAll(dest), ['copy', 'copy/h', 'copy/l', 'copy/sub', 'copy/sub/y']);
    assert.equal(await fsp.readFile(join(dest, 'copy/l'), 'utf8'), 'why\n');
    assert.equal((await fsp.stat(join(dest, 'copy/sub/y'))).mode & 0o777, 0o600);
    assert.equal((await fsp.stat(join(dest, 'copy'))).mode & 0o777, 0o750);
    assert.equal((await fsp.stat(join(dest, 'copy/h'))).ino, (await fsp.stat(join(dest, 'copy/sub/y'))).ino);
  });
});

test('".." and absolute entries are refused and nothing is written outside', async () => {
  await withDirs(async (dest, outside) => {
    const climb = await tarOf([{ name: 'd', type: 'directory' }, { name: `d/../../outside/pwned`, body: 'x' }]);
    await assert.rejects(extractTar(climb, { target: join(dest, 'd'), chown: false }), /leaves the destination/);
    const abs = await tarOf([{ name: join(outside, 'pwned'), body: 'x' }]);
    await assert.rejects(extractTar(abs, { target: join(dest, 'e'), chown: false }), /absolute/);
    assert.deepEqual(await listAll(outside), []);
  });
});

test('symlinks in the archive or on disk cannot lead writes outside the target', async () => {
  await withDirs(async (dest, outside) => {
    // The archive plants links to the outside directory, then writes through them.
    const src = await tarOf([
      { name: 'd', type: 'directory' },
      { name: 'd/abs', type: 'symlink', linkname: outside },
      { name: 'd/rel', type: 'symlink', linkname: '../../outside' },
      { name: 'd/abs/pwned1', body: 'x' },
      { name: 'd/rel/pwned2', body: 'x' },
      { name: 'd/hard', type: 'link', linkname: 'd/abs/pwned1' },
    ]);
    await extractTar(src, { target: join(dest, 'd'), chown: false });
    assert.deepEqual(await listAll(outside), []);
    // Both landed inside the target, where the links point when the target is the root.
    assert.equal(await fsp.readFile(join(dest, 'd', outside, 'pwned1'), 'utf8'), 'x');
    assert.equal(await fsp.readFile(join(dest, 'd/outside/pwned2'), 'utf8'), 'x');
    // An entry that replaces an existing link replaces the link, not what it points to.
    await fsp.writeFile(join(outside, 'keep'), 'original');
    await fsp.symlink(join(outside, 'keep'), join(dest, 'f'));
    await extractTar(await tarOf([{ name: 'f', body: 'new' }]), { target: join(dest, 'f'), chown: false });
    assert.equal(await fsp.readFile(join(outside, 'keep'), 'utf8'), 'original');
    assert.equal(await fsp.readFile(join(dest, 'f'), 'utf8'), 'new');
    assert.equal((await fsp.lstat(join(dest, 'f'))).isSymbolicLink(), false);
  });
});

test('entries outside the top entry and entries below a file are refused', async () => {
  await withDirs(async (dest, outside) => {
    const two = await tarOf([{ name: 'a', body: '1' }, { name: 'b', body: '2' }]);
    await assert.rejects(extractTar(two, { target: join(dest, 'a'), chown: false }), /outside "a"/);
    const below = await tarOf([{ name: 'f', body: '1' }, { name: 'f/x', body: '2' }]);
    await assert.rejects(extractTar(below, { target: join(dest, 'g'), chown: false }), /below non-directory/);
    assert.deepEqual(await listAll(outside), []);
  });
});
