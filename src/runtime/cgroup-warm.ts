// Every write to a cgroup.procs file takes the kernel's global cgroup_threadgroup_rwsem for
// writing. When no such write happened within the last RCU grace period, taking it first waits
// for a full grace period (rcu_sync: the lock's readers, fork/exec/exit, must leave their fast
// path). On the 2-core test host that wait is 5-16 ms, and `runc create` pays it when it moves
// the container's init process into its cgroups, on the start path of every container.
//
// A write that happened a moment earlier leaves the lock in its "recently written" state for
// another grace period, during which the runtime's write is immediate. So just before the
// runtime starts, a throwaway helper process rejoins its own cgroup (writes "0", i.e. itself, to
// the cgroup.procs of the cgroup it is already in: a migration that changes nothing) every 2 ms
// for a short while. The grace period is then waited for in parallel with conmon's and runc's own
// start-up instead of after it. Measured with `runc create` alone: 62 ms median before, 45 after.
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';

/** How long the helper keeps rejoining (covers runc's start-up to its cgroup writes, under load). */
export const WARM_MS = 60;

/**
 * The cgroup.procs file of the cgroup this process is in, from /proc/self/cgroup and
 * /proc/self/mountinfo; undefined when no hierarchy of ours is mounted where we can see it.
 * Any hierarchy will do: the lock is one for all of them.
 */
export function ownCgroupProcs(cgroupText: string, mountinfoText: string): string | undefined {
  const mounts = parseCgroupMounts(mountinfoText);
  for (const line of cgroupText.split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    const [, , ctl = '', path = ''] = m;
    if (path.includes('/../') || path.endsWith('/..') || path.includes('\0')) continue;
    const want = ctl === '' ? undefined : ctl.split(',');
    for (const mt of mounts) {
      if (want ? mt.fstype !== 'cgroup' || !want.every((c) => mt.options.includes(c)) : mt.fstype !== 'cgroup2') continue;
      const rel = mt.root === '/' ? path : path === mt.root ? '/' : path.startsWith(`${mt.root}/`) ? path.slice(mt.root.length) : undefined;
      if (rel === undefined) continue;
      return posix.join(mt.mountPoint, rel, 'cgroup.procs');
    }
  }
  return undefined;
}

interface CgroupMount { root: string; mountPoint: string; fstype: string; options: string[] }

function parseCgroupMounts(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype = '', , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const root = unescapeMountinfo(pre[3] ?? '');
    const mountPoint = unescapeMountinfo(pre[4] ?? '');
    if (!root.startsWith('/') || !mountPoint.startsWith('/')) continue;
    out.push({ root, mountPoint, fstype, options: superOpts.split(',') });
  }
  return out;
}

/** mountinfo writes space, tab, newline and backslash as \ooo. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** ownCgroupProcs for this process, read once. */
export async function findOwnCgroupProcs(): Promise<string | undefined> {
  try {
    const [cg, mi] = await Promise.all([readFile('/proc/self/cgroup', 'utf8'), readFile('/proc/self/mountinfo', 'utf8')]);
    return ownCgroupProcs(cg, mi);
  } catch {
    return undefined;
  }
}
