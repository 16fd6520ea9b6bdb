#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js with every command, the client and their npm
// packages) into one CommonJS file, dist/src/cli/main.cjs, which bin/berth loads with a V8 code
// cache. Why: node 20 spends ~20 ms of every command in its ES module loader (its own start-up,
// then resolving, reading and linking each of the ~15 files a command needs); one CommonJS file
// skips all of it (bench/README.md has the numbers). The daemon and the registry server stay
// ES modules, imported from the bundle only by `berth daemon` and `berth registry`.
// Writes temp → rename; removes the code caches of earlier builds; then runs one CLI command that
// fails fast (no daemon at that socket) so the cache covers the code every client command runs.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliDir = join(root, 'dist', 'src', 'cli');
const out = join(cliDir, 'main.cjs');
// Imported lazily by `berth daemon` / `berth registry`: these load the engine and stay outside.
const SEPARATE = [join(root, 'dist', 'src', 'daemon', 'index.js'), join(root, 'dist', 'src', 'registry', 'server', 'main.js')];

const result = await build({
  entryPoints: [join(cliDir, 'main.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  outfile: out,
  logLevel: 'warning',
  // util/package-root.js finds the installation from its own URL; in the bundle that is main.cjs.
  // A getter: node:url's pathToFileURL costs ~0.6 ms, and most commands never ask.
  define: { 'import.meta.url': '__berthBundle.url' },
  banner: { js: "const __berthBundle = { get url() { return require('node:url').pathToFileURL(__filename).href; } };" },
  plugins: [{
    // `import('…/daemon/index.js')` in the commands becomes `__berthImport('../daemon/index.js')`,
    // a function bin/berth passes in: node 20 loses the module loader of a script compiled from a
    // code cache, so the bundle itself must not contain import().
    name: 'separate',
    setup(b) {
      b.onLoad({ filter: /\/dist\/src\/cli\/.*\.js$/ }, async (a) => {
        let text = await readFile(a.path, 'utf8');
        text = text.replace(/\bimport\((['"])(\.[^'"]+)\1\)/g, (call, _q, spec) => {
          const target = resolve(dirname(a.path), spec);
          return SEPARATE.includes(target) ? `__berthImport(${JSON.stringify(relative(cliDir, target))})` : call;
        });
        return { contents: text, loader: 'js' };
      });
    },
  }],
});

const code = result.outputFiles[0].text;
if (/\bimport\(/.test(code)) {
  console.error('bundle-cli: the bundle still contains import(); only the modules in SEPARATE may be loaded lazily from outside');
  process.exit(1);
}
const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
// bin/berth reads the build id from the first line and keys the code cache by it.
const text = `// berth-cli ${id}\n${code}`;
const tmp = `${out}.${process.pid}.tmp`;
writeFileSync(tmp, text);
renameSync(tmp, out);
for (const f of readdirSync(cliDir)) if (/^main\.cjs\..*\.cache$/.test(f)) rmSync(join(cliDir, f), { force: true });

// Warm the code cache: bin/berth writes it when a command exits and none was there.
const warm = spawnSync(process.execPath, [join(root, 'bin', 'berth'), '-H', 'unix:///nonexistent/berth-cache-warm.sock', 'run', '--rm', 'busybox', 'true'], {
  stdio: 'ignore', env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
});
const cached = readdirSync(cliDir).some((f) => f === `main.cjs.${id}.cache`);
if (warm.error || !cached) console.error(`bundle-cli: the code cache was not written (${warm.error?.message ?? `exit ${warm.status}`}); bin/berth writes it on first use`);
if (process.env.npm_config_loglevel !== 'silent') console.log(`bundle-cli: ${relative(root, out)} (${Math.round(text.length / 1024)} KiB, build ${id})`);
