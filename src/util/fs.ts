import { promises as fsp, constants, renameSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** fsync a directory so a rename inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try { await fh.sync(); } finally { await fh.close(); }
}

export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Write temp → fsync → rename → fsync(dir): readers see the old file or the new one, never half.
 * `durable: false` skips both fsyncs, for state that a host crash makes stale anyway (a container's
 * running state): still whole for readers and across a daemon crash, only not across a power cut.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, opts: { durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tempName(path);
  const fh = await fsp.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

export async function writeJsonAtomic(path: string, value: unknown, opts: { durable?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value), 0o644, opts);
}

/** Read and parse JSON; returns undefined when the file is missing. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try { text = await fsp.readFile(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

export async function exists(path: string): Promise<boolean> {
  try { await fsp.lstat(path); return true; } catch { return false; }
}

/** Remove a tree by first renaming it aside, so a crash never leaves a half-deleted live entry. */
export async function removeTree(path: string): Promise<void> {
  const aside = await setAside(path);
  if (aside) await fsp.rm(aside, { recursive: true, force: true });
}

/** Rename `path` to `<path>-removing-<hex>` (the first half of removeTree); undefined if it is missing. */
export async function setAside(path: string): Promise<string | undefined> {
  const aside = `${path}-removing-${randomBytes(4).toString('hex')}`;
  // One metadata syscall, made synchronously: through libuv's thread pool it would queue behind
  // whatever cleanup is running there (a `run --rm` exit waits on this rename for its reply).
  try { renameSync(path, aside); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return aside;
}

/**
 * Bytes used by the files under `dir` (directories themselves not counted, each inode once), as
 * Docker reports a container's writable layer. A missing directory is 0.
 */
export async function dirSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try { entries = await fsp.readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) { await walk(p); continue; }
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) { if (seen.has(key)) continue; seen.add(key); }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}

/** glibc's major()/minor() of a device number (st_rdev). */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  return {
    major: Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn),
    minor: Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn),
  };
}
