// Path resolution as if chrooted: symlinks (absolute ones included) and '..' are interpreted
// inside `root`, so the result never names a place outside it. Used for container rootfs paths
// (archive endpoints) and by the CLI when it extracts a container's tar on the host.
import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';
import { errors } from '../errors/index.js';

/** Resolve `p` inside `root` without leaving it: symlinks are followed as if chrooted. */
export async function resolveInRoot(root: string, p: string, followLast = true): Promise<string> {
  const parts = posix.normalize('/' + p).split('/').filter(Boolean);
  let cur = '/';
  let hops = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '..') { cur = posix.dirname(cur); continue; }
    const next = posix.join(cur, part);
    const last = i === parts.length - 1;
    const st = await fsp.lstat(join(root, next)).catch(() => undefined);
    if (st?.isSymbolicLink() && (!last || followLast)) {
      if (++hops > 40) throw errors.invalid(`too many levels of symbolic links: ${p}`);
      const target = await fsp.readlink(join(root, next));
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
  return join(root, cur);
}

