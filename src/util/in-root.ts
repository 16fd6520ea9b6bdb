// Path resolution as if chrooted: symlinks (absolute ones included) and '..' are interpreted
// inside `root`, so the result never names a place outside it. Used for container rootfs paths
// (archive endpoints) and by the CLI when it extracts a container's tar on the host.
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { errors } from '../errors/index.js';

/**
 * A container's filesystem as the host reaches it: its root, and what is mounted over it (bind
 * sources, the /etc files) at container paths. Mounts are where the container sees them: a path
 * under one is looked up in its source, and symlinks found there still resolve in the container.
 */
export interface RootView {
  root: string;
  mounts?: readonly { dest: string; source: string; readOnly?: boolean }[];
}

/** The mount of `view` holding container path `cp` (the innermost), if any. */
export function mountAt(view: RootView, cp: string): { dest: string; source: string; readOnly?: boolean } | undefined {
  let best: { dest: string; source: string; readOnly?: boolean } | undefined;
  for (const m of view.mounts ?? []) {
    const inside = cp === m.dest || cp.startsWith(m.dest === '/' ? '/' : `${m.dest}/`);
    if (inside && (!best || m.dest.length > best.dest.length)) best = m;
  }
  return best;
}

/** Host path of container path `cp` (absolute, normalized, free of symlinks). */
export function hostPathOf(view: RootView, cp: string): string {
  const m = mountAt(view, cp);
  const [base, rest] = m ? [m.source, cp.slice(m.dest.length)] : [view.root, cp];
  return rest === '' || rest === '/' ? base : join(base, rest);
}

/** Resolve `p` inside `root` without leaving it: symlinks are followed as if chrooted. */
export async function resolveInRoot(root: string, p: string, followLast = true): Promise<string> {
  return (await resolveInView({ root }, p, followLast)).host;
}

/** As resolveInRoot, through a view with mounts; gives the container path too. */
export async function resolveInView(view: RootView, p: string, followLast = true): Promise<{ path: string; host: string }> {
  const parts = posix.normalize('/' + p).split('/').filter(Boolean);
  let cur = '/';
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '..') { cur = posix.dirname(cur); continue; }
    const next = posix.join(cur, part);
    const last = i === parts.length - 1;
    const st = await fsp.lstat(hostPathOf(view, next)).catch(() => undefined);
    if (st?.isSymbolicLink() && (!last || followLast)) {
      if (++hops > 40) throw errors.invalid(`too many levels of symbolic links: ${p}`);
      const target = await fsp.readlink(hostPathOf(view, next));
      const rest = parts.slice(i + 1);
      const base = target.startsWith('/') ? [] : cur.split('/').filter(Boolean);
      const np = [...base, ...target.split('/').filter(Boolean), ...rest];
      parts.splice(0, parts.length, ...np);
      cur = '/';
      i = -1;
      continue;
    }
    cur = next;
  }
  return { path: cur, host: hostPathOf(view, cur) };
}

