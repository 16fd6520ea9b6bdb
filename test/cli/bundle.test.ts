// bin/berth runs CLI commands from the CommonJS bundle (dist/src/cli/main.cjs, scripts/bundle-cli.mjs)
// with a V8 code cache beside it, and falls back to the ES modules when the bundle is stale or
// missing; the daemon (V8 flags) always runs from the ES modules. Each case works on a copy of the
// installation, so it can replace the bundle with one that only throws: a command that still
// succeeds proves which code ran.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth, cliBuilt, repoRoot } from './helpers.js';

const skip = cliBuilt() ? false : 'run `npm run build` first';
const made: string[] = [];
after(async () => { for (const d of made) await rm(d, { recursive: true, force: true }); });

/** A copy of this installation: bin/, package.json, dist/src and a link to node_modules. */
async function install(): Promise<{ dir: string; cliDir: string; id: string }> {
  const root = repoRoot();
  const dir = await mkdtemp(join(tmpdir(), 'berth-bundle-'));
  made.push(dir);
  await cp(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
  await cp(join(root, 'package.json'), join(dir, 'package.json'));
  await cp(join(root, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true, preserveTimestamps: true });
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  const cliDir = join(dir, 'dist', 'src', 'cli');
  for (const f of await readdir(cliDir)) if (f.endsWith('.cache')) await rm(join(cliDir, f));
  const first = (await readFile(join(cliDir, 'main.cjs'), 'utf8')).split('\n', 1)[0]!;
  const id = /^\/\/ berth-cli ([0-9a-f]{16})$/.exec(first)?.[1];
  assert.ok(id, `first line of main.cjs: ${first}`);
  return { dir, cliDir, id };
}

/** bin/berth of the copy in `dir`, with HOME there too. */
function run(dir: string, args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}) {
  return berth(args, { bin: join(dir, 'bin', 'berth'), nodeArgs, env: { HOME: dir, ...env } });
}

const caches = async (cliDir: string) => (await readdir(cliDir)).filter((f) => f.includes('.cache')).sort();

/** Replace the bundle with one that throws when run, keeping the build id line; mtime as given. */
async function throwingBundle(cliDir: string, id: string, mtime: Date): Promise<void> {
  const file = join(cliDir, 'main.cjs');
  await writeFile(file, `// berth-cli ${id}\nthrow new Error('the bundle ran');\n`);
  await utimes(file, mtime, mtime);
}

test('CLI commands run from the bundle, which writes its code cache once and keeps it', { skip }, async () => {
  const { dir, cliDir, id } = await install();
  const v = await run(dir, ['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^Berth version \d+\.\d+\.\d+/);
  assert.deepEqual(await caches(cliDir), [`main.cjs.${id}.cache`]);
  const cacheFile = join(cliDir, `main.cjs.${id}.cache`);
  const before = await stat(cacheFile);
  assert.ok(before.size > 10_000, `cache of ${before.size} bytes`);

  // An accepted cache is not written again.
  const again = await run(dir, ['-H', 'unix:///nonexistent/b.sock', 'ps']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /Cannot connect to the Berth daemon|nonexistent/);
  const after2 = await stat(cacheFile);
  assert.equal(after2.ino, before.ino);
  assert.equal(after2.mtimeMs, before.mtimeMs);

  // It is the bundle that runs: one that throws makes the command fail.
  await throwingBundle(cliDir, id, new Date(Date.now() + 60_000));
  const thrown = await run(dir, ['--version']);
  assert.notEqual(thrown.code, 0);
  assert.match(thrown.stderr, /the bundle ran/);
});

test('a code cache V8 rejects is replaced by a good one', { skip }, async () => {
  const { dir, cliDir, id } = await install();
  const cacheFile = join(cliDir, `main.cjs.${id}.cache`);
  const garbage = Buffer.alloc(4096, 0x5a);
  await writeFile(cacheFile, garbage);
  const r = await run(dir, ['--version']);
  assert.equal(r.code, 0, r.stderr);
  const written = await readFile(cacheFile);
  assert.notDeepEqual(written, garbage);
  assert.ok(written.length > 10_000);
  // …and that one is accepted: the next command leaves it alone.
  const ino = (await stat(cacheFile)).ino;
  assert.equal((await run(dir, ['--version'])).code, 0);
  assert.equal((await stat(cacheFile)).ino, ino);
  assert.deepEqual(await caches(cliDir), [`main.cjs.${id}.cache`], 'no temp files left');
});

test('a bundle older than the compiled modules is not used; no cache is written for it', { skip }, async () => {
  const { dir, cliDir, id } = await install();
  const mainJs = await stat(join(cliDir, 'main.js'));
  await throwingBundle(cliDir, id, new Date(mainJs.mtimeMs - 60_000));
  const r = await run(dir, ['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Berth version/);
  assert.deepEqual(await caches(cliDir), []);

  // Without a bundle at all the ES modules serve too.
  await rm(join(cliDir, 'main.cjs'));
  const r2 = await run(dir, ['--version']);
  assert.equal(r2.code, 0, r2.stderr);
});

test('node with V8 flags (the daemon) runs the ES modules; NODE_OPTIONS writes no cache', { skip }, async () => {
  const { dir, cliDir, id } = await install();
  const withOptions = await run(dir, ['--version'], [], { NODE_OPTIONS: '--max-semi-space-size=1' });
  assert.equal(withOptions.code, 0, withOptions.stderr);
  assert.deepEqual(await caches(cliDir), []);

  await throwingBundle(cliDir, id, new Date(Date.now() + 60_000));
  const r = await run(dir, ['--version'], ['--max-semi-space-size=1', '--expose-gc']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Berth version/);
});

test('the bundle reaches the modules it leaves out (berth registry)', { skip }, async () => {
  const { dir, cliDir, id } = await install();
  const src = await readFile(join(cliDir, 'main.cjs'), 'utf8');
  assert.doesNotMatch(src, /\bimport\(/);
  // Twice: without and then with the code cache.
  for (let i = 0; i < 2; i++) {
    const r = await run(dir, ['registry', 'gc', '--root', join(dir, 'reg')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 repositories, 0 blobs marked/);
    assert.equal(r.stderr, '');
  }
  assert.deepEqual(await caches(cliDir), [`main.cjs.${id}.cache`]);
});
