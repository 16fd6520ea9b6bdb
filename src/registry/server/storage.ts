// Storage behind a small driver interface. Paths are driver-relative, built only from validated
// parts (names.ts); the filesystem driver still refuses anything that resolves outside its root.
import { promises as fsp, createReadStream, constants } from 'node:fs';
import { join, resolve, dirname, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { fsyncDir } from '../../util/fs.js';

export interface StatInfo { size: number; mtimeMs: number; isDir: boolean }

export interface AppendWriter {
  writev(chunks: Buffer[]): Promise<void>;
  /** Flush what is written so far to disk (data only). */
  datasync(): Promise<void>;
  close(): Promise<void>;
  /** Bytes that went to the disk directly rather than through the page cache (FsDriver; for
   *  tests and diagnostics, drivers without such a path leave it out). */
  readonly directBytes?: number;
}

/**
 * Wait for every promise, then fail with the first rejection, if any. Writers use it: the caller
 * cuts the file back on error, and a write still in flight would extend it again afterwards.
 */
export async function allThenThrow(ps: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(ps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** File offsets and memory addresses a direct (O_DIRECT) write must be a multiple of. 4 KiB
 *  covers every common logical block size (512 B and 4 KiB). */
export const DIRECT_ALIGN = 4096;
/** Smaller writes gain nothing from skipping the page cache: a direct write waits for the device. */
const DIRECT_MIN = 64 << 10;

/**
 * Shared memory whose first byte sits on a page boundary, so a Buffer over it can feed a direct
 * write. WebAssembly memories are page-allocated by V8; a SharedArrayBuffer from `new` comes from
 * malloc and is only 16-byte aligned.
 */
export function alignedSharedBuffer(size: number): Buffer {
  const pages = Math.max(1, Math.ceil(size / 65536));
  let mem: WebAssembly.Memory;
  try {
    mem = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    // No WebAssembly (node --jitless) or no address space left for it: unaligned memory, which
    // the writer detects (EINVAL) and then writes through the page cache.
    return Buffer.from(new SharedArrayBuffer(size));
  }
  return Buffer.from(mem.buffer as ArrayBuffer, 0, size);
}

export interface StorageDriver {
  /** Small files (links, tags, metadata); undefined when missing. */
  read(path: string): Promise<Buffer | undefined>;
  /** temp → fsync → rename → fsync(dir). */
  writeAtomic(path: string, data: string | Uint8Array): Promise<void>;
  /** Create a file that must not exist yet, without fsync: only for state whose loss or truncation
   *  in a crash is harmless (upload sessions — the client starts over). */
  writeNew(path: string, data: string | Uint8Array): Promise<void>;
  stat(path: string): Promise<StatInfo | undefined>;
  /** Entry names in a directory; [] when missing. */
  list(path: string): Promise<string[]>;
  /** Remove a file or tree (rename aside first, so a crash never leaves a half-deleted entry). */
  remove(path: string): Promise<void>;
  readStream(path: string, start?: number, end?: number): Readable;
  /** Appends to upload data with vectored writes (few syscalls on the hot path); writev calls may
   *  overlap: each takes the next offset when called. */
  appendWriter(path: string): Promise<AppendWriter>;
  truncate(path: string, size: number): Promise<void>;
  /** fsync a file's data, then rename it into place and fsync the target directory. */
  commit(from: string, to: string): Promise<void>;
  mkdirp(path: string): Promise<void>;
  /** Absolute path on disk if the driver is file-backed (for diagnostics and tests). */
  localPath?(path: string): string;
}

// Fault injection for crash-consistency tests: SIGKILL ourselves after fsync, before the rename
// that would publish a path containing this substring.
const CRASH_BEFORE_RENAME = process.env.BERTH_REGISTRY_CRASH_BEFORE_RENAME;
function crashPoint(path: string): void {
  if (CRASH_BEFORE_RENAME && path.includes(CRASH_BEFORE_RENAME)) process.kill(process.pid, 'SIGKILL');
}

export class FsDriver implements StorageDriver {
  readonly root: string;
  constructor(root: string) { this.root = resolve(root); }

  localPath(p: string): string {
    const full = resolve(this.root, p);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`path escapes storage root: ${p}`);
    return full;
  }
  async read(p: string): Promise<Buffer | undefined> {
    try { return await fsp.readFile(this.localPath(p)); } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }
  async writeAtomic(p: string, data: string | Uint8Array): Promise<void> {
    const full = this.localPath(p);
    await fsp.mkdir(dirname(full), { recursive: true });
    const tmp = join(dirname(full), `.${randomBytes(8).toString('hex')}.tmp`);
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
      await fh.close();
      crashPoint(p);
      await fsp.rename(tmp, full);
    } catch (e) {
      await fh.close().catch(() => {});
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    await fsyncDir(dirname(full));
  }
  async writeNew(p: string, data: string | Uint8Array): Promise<void> {
    const full = this.localPath(p);
    await fsp.mkdir(dirname(full), { recursive: true });
    await fsp.writeFile(full, data, { flag: 'wx', mode: 0o644 });
  }
  async stat(p: string): Promise<StatInfo | undefined> {
    try {
      const st = await fsp.stat(this.localPath(p));
      return { size: st.size, mtimeMs: st.mtimeMs, isDir: st.isDirectory() };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }
  async list(p: string): Promise<string[]> {
    try { return await fsp.readdir(this.localPath(p)); } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }
  async remove(p: string): Promise<void> {
    const full = this.localPath(p);
    const aside = join(dirname(full), `.${randomBytes(6).toString('hex')}-removing`);
    try { await fsp.rename(full, aside); } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    await fsp.rm(aside, { recursive: true, force: true });
  }
  readStream(p: string, start?: number, end?: number): Readable {
    return createReadStream(this.localPath(p), { start, end, highWaterMark: 1 << 20 });
  }
  async appendWriter(p: string): Promise<AppendWriter> {
    const path = this.localPath(p);
    const fh = await fsp.open(path, 'r+');
    // Positional writes, each taking its offset when called, so several may run at once in the
    // thread pool and still land in order (O_APPEND would let them race).
    let end: number;
    try { end = (await fh.stat()).size; } catch (e) { await fh.close(); throw e; }
    // A second descriptor that bypasses the page cache, for the block-aligned middle of large
    // writes. Uploads are written once and seldom read back soon, and filling the page cache is not
    // free: where the kernel has to find fresh pages for every write (a VM handing memory back to
    // its host, or a busy host reclaiming), buffered writes of a few GB went from ~1 GB/s to
    // ~250 MB/s at 8-10x the CPU per byte on the test machine, while direct ones held ~1.2 GB/s.
    // Filesystems without O_DIRECT (tmpfs) refuse the open: everything stays buffered.
    let direct = await fsp.open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
    let directBytes = 0;
    const buffered = async (chunks: Buffer[], pos: number) => {
      while (chunks.length) {
        const { bytesWritten } = await fh.writev(chunks, pos);
        pos += bytesWritten;
        let off = bytesWritten;
        // Drop what was written; keep any partial remainder (short writes are legal).
        while (chunks.length && off >= chunks[0]!.length) { off -= chunks[0]!.length; chunks.shift(); }
        if (chunks.length && off > 0) { chunks[0] = chunks[0]!.subarray(off); }
      }
    };
    // The aligned middle of `buf` (file offset `pos`), straight to the disk. What it cannot write
    // directly (memory not aligned: EINVAL; a short write) goes through the page cache instead.
    const directly = async (buf: Buffer, pos: number) => {
      let done = 0;
      while (direct && done < buf.length) {
        let n: number;
        try {
          n = (await direct.write(buf, done, buf.length - done, pos + done)).bytesWritten;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
          // Not aligned after all (the caller's memory): no more direct writes on this file.
          const d = direct;
          direct = undefined;
          await d?.close().catch(() => {});
          break;
        }
        directBytes += n;
        done += n;
        if (n === 0 || n % DIRECT_ALIGN !== 0) break;
      }
      if (done < buf.length) await buffered([buf.subarray(done)], pos + done);
    };
    return {
      async writev(chunks: Buffer[]) {
        const pos = end;
        let total = 0;
        for (const c of chunks) total += c.length;
        end += total;
        if (direct && chunks.length === 1 && total >= DIRECT_MIN) {
          // Split at block boundaries of the file: head and tail through the page cache, the middle
          // direct. The caller lays its memory out so the middle is aligned there too.
          const buf = chunks[0]!;
          const head = Math.min(total, (DIRECT_ALIGN - (pos % DIRECT_ALIGN)) % DIRECT_ALIGN);
          const mid = Math.floor((total - head) / DIRECT_ALIGN) * DIRECT_ALIGN;
          if (mid >= DIRECT_MIN) {
            const parts: Promise<void>[] = [directly(buf.subarray(head, head + mid), pos + head)];
            if (head) parts.push(buffered([buf.subarray(0, head)], pos));
            if (head + mid < total) parts.push(buffered([buf.subarray(head + mid)], pos + head + mid));
            await allThenThrow(parts);
            return;
          }
        }
        await buffered(chunks, pos);
      },
      datasync: () => fh.datasync(),
      async close() {
        const d = direct;
        direct = undefined;
        await Promise.all([fh.close(), d?.close()]);
      },
      get directBytes() { return directBytes; },
    };
  }
  async truncate(p: string, size: number): Promise<void> {
    await fsp.truncate(this.localPath(p), size);
  }
  async commit(from: string, to: string): Promise<void> {
    const src = this.localPath(from);
    const dst = this.localPath(to);
    const fh = await fsp.open(src, constants.O_RDONLY);
    try { await fh.sync(); } finally { await fh.close(); }
    await fsp.mkdir(dirname(dst), { recursive: true });
    crashPoint(to);
    await fsp.rename(src, dst);
    await fsyncDir(dirname(dst));
  }
  async mkdirp(p: string): Promise<void> {
    await fsp.mkdir(this.localPath(p), { recursive: true });
  }
}

function isMissing(e: unknown): boolean {
  const c = (e as NodeJS.ErrnoException).code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}
