// Extract a tar stream (from a container) onto the host for `berth cp`. The daemon is not trusted
// with host paths: entry names that are absolute or contain '..' are refused, everything below the
// archive's top entry is resolved as if the destination were the filesystem root (a symlink in the
// archive or already on disk cannot lead outside it), and files are created O_EXCL|O_NOFOLLOW.
import { execFile } from 'node:child_process';
import { constants, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError } from '../errors/index.js';
import { resolveInRoot } from '../util/in-root.js';

export interface ExtractOptions {
  /** Host path the archive's top entry becomes (an existing directory receives its contents). */
  target: string;
  /** Apply the archive's uid/gid (docker does when running as root). */
  chown: boolean;
}

/** Components of an entry name; refuses names that could address anything outside the archive. */
export function entryParts(name: string): string[] {
  if (name.startsWith('/')) throw new BerthError('ERR_BAD_ARCHIVE', `refusing to extract absolute path "${name}"`);
  const parts = name.split('/').filter((p) => p !== '');
  if (parts.includes('..')) throw new BerthError('ERR_BAD_ARCHIVE', `refusing to extract "${name}": it leaves the destination`);
  if (parts.length === 0) throw new BerthError('ERR_BAD_ARCHIVE', 'refusing to extract an entry with an empty name');
  return parts;
}

/**
 * Extract `src` so that its top entry (the first entry's first component, as the archive endpoint
 * produces it) lands at opts.target and everything else inside it; other entries are refused.
 */
export async function extractTar(src: Readable, opts: ExtractOptions): Promise<void> {
  const ex = tar.extract();
  let top: string | undefined;
  /** Components below the top entry ([] for the top entry itself). */
  const below = (name: string): string[] => {
    const parts = entryParts(name);
    top ??= parts[0];
    if (parts[0] !== top) throw new BerthError('ERR_BAD_ARCHIVE', `unexpected archive entry "${name}" outside "${top}"`);
    return parts.slice(1).filter((p) => p !== '.');
  };
  /** The top entry as a real directory (entries go inside it), made if the archive did not. */
  const topDir = async (): Promise<string> => {
    const st = await fsp.lstat(opts.target).catch(() => undefined);
    if (!st) await fsp.mkdir(opts.target, { mode: 0o755 });
    else if (!st.isDirectory()) throw new BerthError('ERR_BAD_ARCHIVE', `archive entries below non-directory "${opts.target}"`);
    return opts.target;
  };
  // Directory modes and times are set last: entries may still be written into them.
  const dirs: { path: string; mode: number; mtime?: Date; uid: number; gid: number }[] = [];
  const work = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const rest = below(h.name);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;
      let target: string;
      if (rest.length === 0) target = opts.target;
      else {
        const root = await topDir();
        const parent = await resolveInRoot(root, rest.slice(0, -1).join('/'), true);
        await fsp.mkdir(parent, { recursive: true });
        target = join(parent, rest[rest.length - 1]!);
      }
      const existing = await fsp.lstat(target).catch(() => undefined);
      if (h.type === 'directory') {
        if (existing && !existing.isDirectory()) throw new BerthError('ERR_CONFLICT', `cannot overwrite non-directory "${target}" with directory`);
        if (!existing) await fsp.mkdir(target, { mode: 0o700 });
        // A directory that already is the destination keeps its own mode and owner.
        if (!(existing && rest.length === 0)) dirs.push({ path: target, mode, mtime: h.mtime, uid, gid });
        entry.resume();
        continue;
      }
      if (existing?.isDirectory()) throw new BerthError('ERR_CONFLICT', `cannot overwrite directory "${target}" with non-directory`);
      if (existing) await fsp.rm(target, { force: true });
      if (h.type === 'file' || h.type === 'contiguous-file') {
        const fh = await fsp.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry) await fh.write(chunk as Buffer);
          if (opts.chown) await fh.chown(uid, gid);
          await fh.chmod(mode);
          if (h.mtime) await fh.utimes(h.mtime, h.mtime);
        } finally { await fh.close(); }
      } else if (h.type === 'symlink') {
        // Stored as is: later entries only ever pass through it via resolveInRoot.
        await fsp.symlink(h.linkname ?? '', target);
        if (opts.chown) await fsp.lchown(target, uid, gid).catch(() => {});
        if (h.mtime) await fsp.lutimes(target, h.mtime, h.mtime).catch(() => {});
        entry.resume();
      } else if (h.type === 'link') {
        const linkRest = below(h.linkname ?? '');
        const from = linkRest.length === 0 ? opts.target : await resolveInRoot(await topDir(), linkRest.join('/'), false);
        await fsp.link(from, target);
        entry.resume();
      } else if (h.type === 'fifo') {
        // A FIFO is made again, as the docker CLI does (node has no mkfifo of its own).
        await new Promise<void>((resolve, reject) => execFile('mkfifo', ['-m', (mode & 0o777).toString(8), target], (e) => (e ? reject(e) : resolve())));
        if (opts.chown) await fsp.lchown(target, uid, gid).catch(() => {});
        entry.resume();
      } else {
        // Device nodes are not recreated on the host.
        entry.resume();
      }
    }
  })();
  // A refused entry stops the stream; the entry's error is the one to report.
  const [piped, done] = await Promise.allSettled([pipeline(src, ex), work.catch((e: unknown) => { ex.destroy(e as Error); throw e; })]);
  if (done.status === 'rejected') throw done.reason;
  if (piped.status === 'rejected') throw piped.reason;
  for (const d of dirs.reverse()) {
    if (opts.chown) await fsp.lchown(d.path, d.uid, d.gid).catch(() => {});
    await fsp.chmod(d.path, d.mode);
    if (d.mtime) await fsp.utimes(d.path, d.mtime, d.mtime).catch(() => {});
  }
}
