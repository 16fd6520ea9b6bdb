// Throughput of the native extractor through extractTar() (pipe + sha256 in Node) vs `tar -xf`.
// Usage: npx tsx test/snapshots/bench.ts <file.tar> [runs]   (not part of the test suite)
import { spawnSync } from 'node:child_process';
import { createReadStream, promises as fsp, statSync } from 'node:fs';
import { join } from 'node:path';
import { extractTar, helperPath } from '../../src/store/snapshots/index.js';

const file = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
if (!file) throw new Error('usage: bench.ts <file.tar> [runs]');
const size = statSync(file).size;
const work = await fsp.mkdtemp(join(process.env.BENCH_DIR ?? '/tmp', 'berth-bench-'));

async function time(what: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = join(work, `${what}-${i}`);
    await fsp.mkdir(dir);
    spawnSync('sync');
    const t0 = process.hrtime.bigint();
    await fn(dir);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    await fsp.rm(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  console.log(`${what.padEnd(22)} median ${med.toFixed(3)} s  ${(size / 1e6 / med).toFixed(0)} MB/s  (runs: ${times.map((t) => t.toFixed(2)).join(', ')})`);
}

console.log(`${file}: ${(size / 1e6).toFixed(1)} MB`);
await time('tar -xf', async (dir) => { if (spawnSync('tar', ['-xf', file, '-C', dir]).status !== 0) throw new Error('tar failed'); });
await time('berth-unpack (stdin)', async (dir) => {
  const r = spawnSync('sh', ['-c', `"${helperPath()}" "${dir}" < "${file}"`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('helper failed');
});
await time('extractTar (node+sha256)', async (dir) => { await extractTar(dir, createReadStream(file, { highWaterMark: 1 << 20 })); });
await fsp.rm(work, { recursive: true, force: true });
