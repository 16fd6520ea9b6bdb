// Resource flags shared by `run`/`create` and `update` (same names, types and help as docker's).
import { cliError, type FlagSpec } from './args.js';

export const RESOURCE_FLAGS: FlagSpec[] = [
  { long: 'blkio-weight', type: 'int', valueName: 'uint16', description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
  { long: 'cpu-period', type: 'int', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { long: 'cpu-quota', type: 'int', valueName: 'int', description: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { long: 'cpu-shares', short: 'c', type: 'int', valueName: 'int', description: 'CPU shares (relative weight)' },
  { long: 'cpus', type: 'string', valueName: 'decimal', description: 'Number of CPUs' },
  { long: 'cpuset-cpus', type: 'string', valueName: 'string', description: 'CPUs in which to allow execution (0-3, 0,1)' },
  { long: 'cpuset-mems', type: 'string', valueName: 'string', description: 'MEMs in which to allow execution (0-3, 0,1)' },
  { long: 'memory', short: 'm', type: 'string', valueName: 'bytes', description: 'Memory limit' },
  { long: 'memory-reservation', type: 'string', valueName: 'bytes', description: 'Memory soft limit' },
  { long: 'memory-swap', type: 'string', valueName: 'bytes', description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { long: 'pids-limit', type: 'int', valueName: 'int', description: 'Tune container pids limit (set -1 for unlimited)' },
];

/**
 * `--cpus` as the docker CLI reads it: a rational number ("1.5", "3/2", "2e-1"), in billionths of
 * a CPU, refused in its words when unreadable or finer than that.
 */
export function nanoCpus(v: string): number {
  const bad = (why: string) => cliError(`invalid argument "${v}" for "--cpus" flag: ${why}`, 125, true);
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\/(\d+))?$/.exec(v);
  if (!m || (m[2] !== undefined && (/[.eE]/.test(m[1]!) || Number(m[2]) === 0))) throw bad(`failed to parse ${v} as a rational number`);
  const n = (Number(m[1]) * 1e9) / Number(m[2] ?? 1);
  if (!Number.isFinite(n)) throw bad(`failed to parse ${v} as a rational number`);
  if (Math.abs(n - Math.round(n)) > 1e-6) throw bad('value is too precise');
  return Math.round(n);
}
