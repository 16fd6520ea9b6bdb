#!/usr/bin/env node
// Builds the native layer extractor native/berth-unpack.c into build/berth-unpack, and the
// optional Node-API addon native/berth-trim.c into build/berth-trim.node (see there).
// Static first (the helper must not load NSS modules or shared libraries at run time); dynamic
// only when the static libc is missing. Writes temp → rename so concurrent builds never expose a
// half-written binary.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'native', 'berth-unpack.c');
const outDir = join(root, 'build');
const out = join(outDir, 'berth-unpack');
const tmp = `${out}.${process.pid}.tmp`;
const cc = process.env.CC || 'gcc';
const base = ['-O2', '-Wall', '-Wextra', '-D_FORTIFY_SOURCE=2', '-o', tmp, src];
// With zlib and libcrypto the helper also inflates gzip layers and computes their diff IDs itself
// (--gzip --digest); without them the daemon does both and the helper only unpacks.
const zlib = ['-DBERTH_ZLIB', ...base, '-lz', '-lcrypto'];

mkdirSync(outDir, { recursive: true });
let r;
let linked = '';
for (const [how, args] of [['static', ['-static', ...zlib]], ['static, no zlib', ['-static', ...base]], ['dynamic', zlib], ['dynamic, no zlib', base]]) {
  r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.error) { console.error(`build-native: cannot run ${cc}: ${r.error.message}`); process.exit(1); }
  linked = how;
  if (r.status === 0) break;
}
if (r.status !== 0) {
  process.stderr.write(r.stderr ?? '');
  if (existsSync(tmp)) rmSync(tmp, { force: true });
  console.error('build-native: compiling native/berth-unpack.c failed');
  process.exit(1);
}
if (r.stderr) process.stderr.write(r.stderr);
renameSync(tmp, out);
const quiet = process.env.npm_config_loglevel === 'silent';
if (!quiet) console.log(`build-native: ${out} (${linked})`);

// The addon is optional: without Node's headers (node_api.h) or glibc's malloc_trim the daemon
// simply does not trim, so a failure here is reported and the build goes on.
const addon = join(outDir, 'berth-trim.node');
const addonTmp = `${addon}.${process.pid}.tmp`;
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
if (!headers) {
  console.error('build-native: node_api.h not found; building without build/berth-trim.node');
} else {
  const a = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', `-I${headers}`, '-o', addonTmp, join(root, 'native', 'berth-trim.c')], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (a.status === 0) {
    renameSync(addonTmp, addon);
    if (!quiet) console.log(`build-native: ${addon}`);
  } else {
    if (existsSync(addonTmp)) rmSync(addonTmp, { force: true });
    console.error(`build-native: building ${addon} failed; the daemon will not trim its heap when idle\n${a.stderr ?? ''}`);
  }
}
