// Shared helpers for the side-by-side benchmarks: run a command N times, report medians and ratios.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function sh(cmd, opts = {}) {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`command failed (${r.status}): ${cmd}\n${r.stderr}`);
  }
  return r;
}

/** Wall time of one command in milliseconds. */
export function timeOnce(cmd) {
  const t0 = process.hrtime.bigint();
  sh(cmd);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs each engine's {before, cmd} `runs` times, interleaved, and prints a table with ratios to `base`. */
export function compare(title, engines, { runs = 5, base = 'docker' } = {}) {
  const times = Object.fromEntries(engines.map((e) => [e.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const e of engines) {
      if (e.before) sh(e.before, { allowFail: true });
      times[e.name].push(timeOnce(e.cmd));
    }
  }
  const med = Object.fromEntries(engines.map((e) => [e.name, median(times[e.name])]));
  console.log(`\n${title} (${runs} runs each, interleaved; median ms)`);
  for (const e of engines) {
    const ratio = med[base] ? (med[e.name] / med[base]).toFixed(2) + 'x ' + base : '';
    console.log(`  ${e.name.padEnd(8)} median ${med[e.name].toFixed(0).padStart(6)} ms  ${ratio.padEnd(12)} runs: ${times[e.name].map((t) => t.toFixed(0)).join(' ')}`);
  }
  return med;
}

/** Resident set size (kB) of a pid and, optionally, its descendants. */
export function rssKb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
  } catch { return 0; }
}

export function have(cmd) {
  return sh(`command -v ${cmd}`, { allowFail: true }).status === 0;
}
