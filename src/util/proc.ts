// /proc/<pid>/stat, read the one way the engine needs it: a process's state and start time.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** Field 22, clock ticks since boot: with the pid, names one process even after pid reuse. */
  startTime: string;
}

/** Undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // The fields after the ")" that closes the command name (which may hold spaces and parentheses).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '', startTime: rest[19] ?? '' };
}
