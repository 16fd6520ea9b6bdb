// `runc delete` of a container whose init process has exited, done here instead of by starting
// runc (a Go binary: ~20 ms of CPU per container on the 2-core test host, on every container's
// exit). For a stopped container runc 1.1 does three things: kill what is left in the container's
// cgroups when it had no PID namespace of its own, remove those cgroups, remove its state
// directory. Here a cgroup that still holds a process cannot be removed (rmdir fails with EBUSY),
// and so can one with child cgroups: in those cases, and for anything else unexpected, nothing
// more is done here and the caller runs `runc delete`, which kills and cleans up as before.
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { procStat } from '../util/proc.js';

/** What we read of runc's state.json. */
interface RuncState {
  id?: string;
  init_process_pid?: number;
  init_process_start?: number | string;
  cgroup_paths?: Record<string, string>;
  config?: { Hooks?: Record<string, unknown[] | null> | null };
}

/**
 * Delete runc container `id` from runc root `root` if its init process is gone and nothing in it
 * needs runc. True: deleted (or already gone); false: the caller must run `runc delete`.
 */
export async function deleteStoppedRunc(root: string, id: string, cgroupRoot = '/sys/fs/cgroup'): Promise<boolean> {
  const dir = join(root, id);
  let st: RuncState;
  try {
    st = JSON.parse(await fsp.readFile(join(dir, 'state.json'), 'utf8')) as RuncState;
  } catch (e) {
    // No state: runc has nothing to delete either (unless the directory holds something else).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return !(await exists(dir));
    return false;
  }
  if (st.id !== id) return false;
  // Hooks (poststop) are runc's to run; Berth sets none, but a state it did not write may have them.
  if (Object.values(st.config?.Hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0)) return false;
  if (initAlive(st.init_process_pid, st.init_process_start)) return false;
  const paths = [...new Set(Object.values(st.cgroup_paths ?? {}))];
  for (const p of paths) {
    // Only cgroup directories, named as runc recorded them; anything else is runc's to judge.
    if (typeof p !== 'string' || posix.normalize(p) !== p || !p.startsWith(`${cgroupRoot}/`)) return false;
  }
  for (const p of paths) {
    try {
      await fsp.rmdir(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false; // busy: processes or child cgroups left
    }
  }
  await fsp.rm(dir, { recursive: true, force: true });
  return true;
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}

/** Is `pid` still the container's init process (same start time, not a zombie)? */
function initAlive(pid: number | undefined, start: number | string | undefined): boolean {
  const st = procStat(pid ?? 0);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return start === undefined || st.startTime === String(start);
}
