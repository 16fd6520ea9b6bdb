// Runs every compiled test file with node's test runner (dist/test/**/*.test.js).
// Usage: node scripts/run-tests.mjs [substring-filter...]
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'dist', 'test');
if (!existsSync(dir)) {
  console.error('no dist/test: run `npm run build` first');
  process.exit(1);
}
function walk(d) {
  const out = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(dir)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
console.log(`running ${files.length} test files`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files.map((f) => relative(root, f))], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
