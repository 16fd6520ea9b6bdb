// Layer extraction through the native helper (build/berth-unpack): Node streams the tar into the
// helper's stdin and the diff ID comes out of the same single pass. A gzip layer goes in as is when
// the helper was built with zlib (it inflates and hashes, on its own core); otherwise Node inflates
// and hashes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { BerthError, isBerthError } from '../../errors/index.js';
import { DigestStream } from '../../util/digest.js';
import { log } from '../../util/log.js';
import { packageRoot } from '../../util/package-root.js';

export interface ApplyResult {
  /** sha256 of the uncompressed tar */
  diffId: string;
  /** its byte count */
  size: number;
}

export interface ExtractOptions {
  /** overlay (default): whiteouts become overlayfs whiteouts; apply: whiteouts delete what they name */
  mode?: 'overlay' | 'apply';
  /** syncfs() the target's filesystem before resolving (the snapshotter sets it before its rename) */
  sync?: boolean;
  /** refuse archives with more entries than this */
  maxEntries?: number;
  /** refuse archives whose regular files hold more bytes than this */
  maxBytes?: number;
  /** the stream is gzip: inflated (and hashed) inside the helper when it was built with zlib */
  gzip?: boolean;
  /**
   * Place the archive under this directory of `dir` while resolving every path (including symlinks
   * met on the way to the prefix) inside `dir`: docker cp into a container passes the rootfs as
   * `dir` and the destination path as `prefix`.
   */
  prefix?: string;
}

/** What the helper reports on success. */
export interface UnpackStats {
  entries: number;
  files: number;
  dirs: number;
  hardlinks: number;
  symlinks: number;
  devices: number;
  whiteouts: number;
  fileBytes: number;
  bytes: number;
  /** milliseconds the helper spent in syncfs() (0 without `sync`) */
  syncMs?: number;
  /** bytes read from stdin (the compressed size with --gzip) */
  rawBytes?: number;
  /** sha256 of the tar bytes, when the helper computed it (--digest) */
  diffId?: string;
}

/** Path of the native helper: $BERTH_UNPACK, else build/berth-unpack in the package root. */
export function helperPath(): string {
  return process.env.BERTH_UNPACK || join(packageRoot(), 'build', 'berth-unpack');
}

const CAP = 64 * 1024;

let features: Promise<Set<string>> | undefined;

/** What the helper binary can do beyond unpacking ("gzip", "digest"), asked once. */
export function helperFeatures(): Promise<Set<string>> {
  features ??= new Promise((resolve) => {
    const bin = helperPath();
    if (!existsSync(bin)) { resolve(new Set()); return; }
    let out = '';
    const child = spawn(bin, ['--features'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.once('error', () => resolve(new Set()));
    child.once('close', (code) => resolve(new Set(code === 0 ? out.split(/\s+/).filter(Boolean) : [])));
  });
  return features;
}

/**
 * Marks `dir` as the top of directory hierarchies (chattr +T) so each snapshot under it gets its own
 * block group on ext4 (see native/berth-unpack.c --topdir). Best effort: failures only cost speed.
 */
export async function markTopDir(dir: string): Promise<void> {
  const bin = helperPath();
  if (!existsSync(bin)) return;
  await new Promise<void>((resolve) => {
    const child = spawn(bin, ['--topdir', dir], { stdio: 'ignore' });
    child.once('error', (e) => { log.debug('cannot mark snapshot root', { dir, error: e.message }); resolve(); });
    child.once('close', () => resolve());
  });
}

/**
 * Gathers small chunks (network reads are ~64 KiB) into writes of at least 1 MiB to the helper:
 * fewer syscalls and far fewer wake-ups of the helper and of this process on a busy machine.
 */
class Coalesce extends Transform {
  private parts: Buffer[] = [];
  private n = 0;
  constructor() { super({ highWaterMark: 2 << 20 }); }
  override _transform(c: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(c);
    this.n += c.length;
    if (this.n >= 1 << 20) this.out();
    cb();
  }
  override _flush(cb: TransformCallback): void {
    if (this.n > 0) this.out();
    cb();
  }
  private out(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.n));
    this.parts = [];
    this.n = 0;
  }
}

/** Counts the bytes passing through. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(c: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += c.length;
    cb(null, c);
  }
}

/**
 * Extracts a tar stream (gzip-compressed with `opts.gzip`) into `dir` (which must exist). Resolves
 * with the diff ID and size of the tar; a tar the helper refuses rejects with ERR_BAD_ARCHIVE and
 * may leave a partial tree in `dir` (callers extract into a temp dir and discard it).
 */
export async function extractTar(dir: string, tar: Readable, opts: ExtractOptions = {}): Promise<ApplyResult & { stats: UnpackStats }> {
  const bin = helperPath();
  if (!existsSync(bin)) {
    tar.destroy();
    throw new BerthError('ERR_INTERNAL', `layer extractor ${bin} is missing: run "npm run build:native"`);
  }
  // gzip inflated by the helper when it can (compressed bytes only through this process), else here
  const inHelper = opts.gzip === true && (await helperFeatures()).has('gzip');
  if (opts.gzip && !inHelper) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    tar.on('error', (e) => gunzip.destroy(e));
    tar = tar.pipe(gunzip);
  }
  const args: string[] = [];
  if (inHelper) args.push('--gzip', '--digest');
  if (opts.mode === 'apply') args.push('--apply');
  if (opts.sync) args.push('--sync');
  if (opts.maxEntries) args.push('--max-entries', String(Math.floor(opts.maxEntries)));
  if (opts.maxBytes) args.push('--max-bytes', String(Math.floor(opts.maxBytes)));
  if (opts.prefix) args.push('--prefix', opts.prefix);
  args.push(dir);

  const t0 = performance.now();
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { if (out.length < CAP) out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < CAP) err += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  // With --digest the helper hashes the tar bytes; here only the count of what was sent.
  const ds = inHelper ? new ByteCounter() : new DigestStream('sha256');
  let sourceError: unknown;
  tar.on('error', (e) => { sourceError ??= e; });
  // A helper that gave up must stop the feed now, not at the next write.
  const stop = new Error('layer extractor stopped');
  exited.then((r) => { if (r.code !== 0) ds.destroy(stop); }, () => ds.destroy(stop));

  // pipeline() destroys child.stdin on a feed error, so the helper sees EOF and exits: both settle.
  const [p, x] = await Promise.allSettled([pipeline(tar, ds, new Coalesce(), child.stdin), exited]);

  const readError = (): BerthError => {
    if (isBerthError(sourceError)) return sourceError;
    const m = sourceError instanceof Error ? sourceError.message : String(sourceError);
    // zlib's complaints are about the archive, as when the helper inflates it
    if (/^Z_/.test(String((sourceError as { code?: unknown })?.code))) return new BerthError('ERR_BAD_ARCHIVE', `failed to extract layer: invalid gzip data: ${m}`, { cause: sourceError });
    return new BerthError('ERR_INTERNAL', `failed to read layer: ${m}`, { cause: sourceError });
  };
  if (x.status === 'rejected') {
    throw new BerthError('ERR_INTERNAL', `cannot run layer extractor: ${(x.reason as Error)?.message}`, { cause: x.reason });
  }
  const { code, signal } = x.value;
  if (code !== 0) {
    const msg = err.trim().replace(/^berth-unpack: /, '') || (signal ? `killed by ${signal}` : `exit status ${code}`);
    // A broken source (e.g. corrupt gzip) shows up in the helper as a truncated archive: report the cause.
    if (sourceError !== undefined && sourceError !== stop && /unexpected end of archive/.test(msg)) throw readError();
    // the helper's own I/O failures are not the archive's fault
    if (/No space left on device|Disk quota exceeded/.test(msg)) throw new BerthError('ERR_NO_SPACE', `failed to extract layer: ${msg}`);
    if (/out of memory|Too many open files/.test(msg)) throw new BerthError('ERR_INTERNAL', `failed to extract layer: ${msg}`);
    throw new BerthError('ERR_BAD_ARCHIVE', `failed to extract layer: ${msg}`);
  }
  if (sourceError !== undefined && sourceError !== stop) throw readError();
  if (p.status === 'rejected') {
    throw new BerthError('ERR_INTERNAL', `failed to feed layer extractor: ${(p.reason as Error)?.message ?? String(p.reason)}`, { cause: p.reason });
  }
  let stats: UnpackStats;
  try { stats = JSON.parse(out.trim()) as UnpackStats; } catch {
    throw new BerthError('ERR_INTERNAL', `layer extractor printed no result: ${out.slice(0, 200)}`);
  }
  const read = inHelper ? stats.rawBytes : stats.bytes;
  if (read !== ds.bytes) {
    throw new BerthError('ERR_INTERNAL', `layer extractor read ${read} bytes, ${ds.bytes} were sent`);
  }
  let diffId: string;
  if (ds instanceof DigestStream) diffId = ds.digest();
  else if (typeof stats.diffId === 'string' && /^sha256:[a-f0-9]{64}$/.test(stats.diffId)) diffId = stats.diffId;
  else throw new BerthError('ERR_INTERNAL', 'layer extractor reported no diff ID');
  log.debug('layer extracted', { dir, ms: Math.round(performance.now() - t0), syncMs: stats.syncMs ?? 0, bytes: stats.bytes, rawBytes: read, entries: stats.entries });
  return { diffId, size: stats.bytes, stats };
}
