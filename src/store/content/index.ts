// Content-addressable blob store: blobs/<alg>/<hex>, written only through an ingest that verifies
// size and digest before the blob becomes visible. Partial ingests survive a crash and resume.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream as fsCreateReadStream, promises as fsp, constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { assertDigest, splitDigest, isDigest, type Algorithm } from '../../util/digest.js';
import { fsyncDir } from '../../util/fs.js';

export const DEFAULT_READ_CAP = 4 << 20;
const ALGORITHMS: Algorithm[] = ['sha256', 'sha512'];
const EMPTY: Record<Algorithm, string> = {
  sha256: 'sha256:' + createHash('sha256').digest('hex'),
  sha512: 'sha512:' + createHash('sha512').digest('hex'),
};

export interface Ingest {
  /** Bytes already held for this blob; the caller resumes the download from here (Range). */
  readonly offset: number;
  /** True when the blob was already committed (e.g. by a concurrent ingest): write nothing, commit is a no-op. */
  readonly done: boolean;
  /** Appends at `offset`. May be called again after a failed stream to continue (offset moves on). */
  writable(): Writable;
  /** Verify size and digest, then make the blob visible. Throws ERR_DIGEST_MISMATCH and discards on mismatch. */
  commit(): Promise<void>;
  /** Give up and discard the partial data. */
  abort(): Promise<void>;
  /** Give up but keep the partial data so a later ingest resumes from it. */
  suspend(): Promise<void>;
}

interface IngestMeta { expected: string; size?: number }

function mismatch(msg: string): BerthError {
  return new BerthError('ERR_DIGEST_MISMATCH', msg);
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ContentStore {
  readonly root: string;
  // One writer per digest inside this process; the O_EXCL lock file covers other processes.
  private locks = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.root = root;
  }

  async init(): Promise<void> {
    for (const a of ALGORITHMS) await fsp.mkdir(join(this.root, 'blobs', a), { recursive: true });
    await fsp.mkdir(join(this.root, 'ingest'), { recursive: true });
    // Temp files left by a crash between write and rename.
    for (const a of ALGORITHMS) {
      const dir = join(this.root, 'blobs', a);
      for (const name of await fsp.readdir(dir)) {
        if (name.startsWith('.') || !/^[a-f0-9]+$/.test(name)) await fsp.rm(join(dir, name), { force: true, recursive: true });
      }
    }
    // Ingests: drop dead locks, unusable dirs and ingests whose blob already landed; keep partials to resume.
    const idir = join(this.root, 'ingest');
    for (const name of await fsp.readdir(idir)) {
      const d = join(idir, name);
      const digest = name.replace('-', ':');
      if (!isDigest(digest)) { await fsp.rm(d, { recursive: true, force: true }); continue; }
      const lockPid = Number.parseInt(await fsp.readFile(join(d, 'lock'), 'utf8').catch(() => ''), 10);
      if (pidAlive(lockPid) && lockPid !== process.pid) continue;
      await fsp.rm(join(d, 'lock'), { force: true });
      const meta = await fsp.readFile(join(d, 'meta.json'), 'utf8').catch(() => undefined);
      if (meta === undefined || (await this.has(digest))) await fsp.rm(d, { recursive: true, force: true });
    }
  }

  /** Validated path of a blob (it may not exist). */
  path(digest: string): string {
    const { algorithm, hex } = splitDigest(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  async has(digest: string): Promise<boolean> {
    return (await this.size(digest)) !== undefined;
  }

  async size(digest: string): Promise<number | undefined> {
    try {
      const st = await fsp.stat(this.path(digest));
      return st.isFile() ? st.size : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  createReadStream(digest: string, opts: { start?: number } = {}): Readable {
    const p = this.path(digest);
    const out = new PassThrough();
    const src = fsCreateReadStream(p, { start: opts.start });
    src.on('error', (e: NodeJS.ErrnoException) => {
      out.destroy(e.code === 'ENOENT' ? new BerthError('ERR_NOT_FOUND', `content ${digest} not found`, { cause: e }) : e);
    });
    out.on('close', () => src.destroy());
    src.pipe(out);
    return out;
  }

  /** Reads a small blob (configs, manifests) fully and re-checks its digest. */
  async readBuffer(digest: string, max = DEFAULT_READ_CAP): Promise<Buffer> {
    const p = this.path(digest);
    let fh: FileHandle;
    try { fh = await fsp.open(p, 'r'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BerthError('ERR_NOT_FOUND', `content ${digest} not found`);
      throw e;
    }
    try {
      const st = await fh.stat();
      if (st.size > max) throw new BerthError('ERR_INVALID_ARGUMENT', `content ${digest} is too large (${st.size} bytes, limit ${max})`);
      const buf = await fh.readFile();
      const { algorithm } = splitDigest(digest);
      if (`${algorithm}:${createHash(algorithm).update(buf).digest('hex')}` !== digest) {
        throw mismatch(`content ${digest} is corrupt on disk`);
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  async writeBuffer(data: Buffer, expected?: string): Promise<string> {
    const algorithm: Algorithm = expected !== undefined ? splitDigest(expected).algorithm : 'sha256';
    const actual = `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
    if (expected !== undefined && expected !== actual) throw mismatch(`digest mismatch: expected ${expected}, got ${actual}`);
    if (await this.has(actual)) return actual;
    const ing = await this.ingest(actual, data.length);
    if (ing.done) return actual;
    try {
      if (ing.offset > 0) { await ing.abort(); return await this.writeBuffer(data, actual); }
      const w = ing.writable();
      await new Promise<void>((res, rej) => {
        w.once('error', rej);
        w.end(data, () => res());
      });
      await ing.commit();
    } catch (e) {
      await ing.abort().catch(() => {});
      throw e;
    }
    return actual;
  }

  /**
   * Start (or resume) writing the blob `expected`. Waits while another writer holds the same digest.
   * `size`, when given, is enforced while writing and at commit.
   */
  async ingest(expected: string, size?: number): Promise<Ingest> {
    const { algorithm, hex } = splitDigest(expected);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid size ${size}`);
    if (size === 0 && expected !== EMPTY[algorithm]) throw mismatch(`refusing 0-byte content for ${expected}`);
    const release = await this.lockLocal(expected);
    const dir = join(this.root, 'ingest', `${algorithm}-${hex}`);
    let lockHeld = false;
    try {
      await fsp.mkdir(dir, { recursive: true });
      await this.lockFile(join(dir, 'lock'));
      lockHeld = true;
      const existing = await this.size(expected);
      if (existing !== undefined) {
        await fsp.rm(dir, { recursive: true, force: true });
        release();
        return doneIngest(existing);
      }
      return await this.openIngest(dir, { expected, size }, algorithm, release);
    } catch (e) {
      if (lockHeld) await fsp.rm(join(dir, 'lock'), { force: true }).catch(() => {});
      release();
      throw e;
    }
  }

  private async openIngest(dir: string, meta: IngestMeta, algorithm: Algorithm, release: () => void): Promise<Ingest> {
    const dataPath = join(dir, 'data');
    const metaPath = join(dir, 'meta.json');
    // Resume only a partial made for the same expectation; anything else starts over.
    const old = await fsp.readFile(metaPath, 'utf8').then((t) => JSON.parse(t) as IngestMeta, () => undefined);
    const sameMeta = old !== undefined && old.expected === meta.expected && (meta.size === undefined || old.size === undefined || old.size === meta.size);
    if (!sameMeta) {
      await fsp.rm(dataPath, { force: true });
      await fsp.writeFile(metaPath, JSON.stringify(meta));
    }
    const fh = await fsp.open(dataPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    const hash = createHash(algorithm);
    let offset = 0;
    try {
      let st = await fh.stat();
      if (meta.size !== undefined && st.size > meta.size) { await fh.truncate(0); st = await fh.stat(); }
      // Rebuild the hash state from what is already on disk.
      const buf = Buffer.allocUnsafe(1 << 20);
      while (offset < st.size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - offset), offset);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        offset += bytesRead;
      }
      if (offset !== st.size) await fh.truncate(offset);
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    return new FileIngest(this, dir, dataPath, fh, hash, offset, meta, release);
  }

  /** @internal used by FileIngest */
  async _finishLock(dir: string, removeDir: boolean): Promise<void> {
    if (removeDir) await fsp.rm(dir, { recursive: true, force: true });
    else await fsp.rm(join(dir, 'lock'), { force: true });
  }

  private async lockLocal(key: string): Promise<() => void> {
    for (;;) {
      const cur = this.locks.get(key);
      if (cur === undefined) break;
      await cur;
    }
    let release!: () => void;
    const p = new Promise<void>((r) => { release = r; });
    this.locks.set(key, p);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.locks.get(key) === p) this.locks.delete(key);
      release();
    };
  }

  /** O_EXCL lock file holding our pid; a lock of a dead process is taken over. */
  private async lockFile(path: string): Promise<void> {
    for (;;) {
      try {
        const fh = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
        try { await fh.writeFile(String(process.pid)); } finally { await fh.close(); }
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
      // Our own pid here means a leftover of this process (the in-process lock already serialises us);
      // NaN can be a writer between create and write, so give it a moment before taking over.
      if (pid === process.pid || (!Number.isNaN(pid) && !pidAlive(pid))) {
        await fsp.rm(path, { force: true });
        continue;
      }
      if (Number.isNaN(pid)) {
        await sleep(50);
        const again = Number.parseInt(await fsp.readFile(path, 'utf8').catch(() => ''), 10);
        if (Number.isNaN(again)) await fsp.rm(path, { force: true });
        continue;
      }
      await sleep(50);
    }
  }

  /** Removes a blob; missing blobs are fine. */
  async delete(digest: string): Promise<void> {
    const p = this.path(digest);
    const release = await this.lockLocal(digest);
    try {
      await fsp.rm(p, { force: true });
      await fsyncDir(join(this.root, 'blobs', splitDigest(digest).algorithm)).catch(() => {});
    } finally {
      release();
    }
  }

  async *list(): AsyncIterable<{ digest: string; size: number }> {
    for (const a of ALGORITHMS) {
      const dir = join(this.root, 'blobs', a);
      let names: string[];
      try { names = await fsp.readdir(dir); } catch { continue; }
      for (const name of names.sort()) {
        const digest = `${a}:${name}`;
        if (!isDigest(digest)) continue;
        const size = await this.size(digest);
        if (size !== undefined) yield { digest, size };
      }
    }
  }
}

function doneIngest(size: number): Ingest {
  return {
    offset: size,
    done: true,
    writable: () => new Writable({ write(_c, _e, cb) { cb(); } }),
    commit: async () => {},
    abort: async () => {},
    suspend: async () => {},
  };
}

class FileIngest implements Ingest {
  readonly done = false;
  private finished = false;
  private writing = false;
  constructor(
    private store: ContentStore,
    private dir: string,
    private dataPath: string,
    private fh: FileHandle,
    private hash: Hash,
    private bytes: number,
    private meta: IngestMeta,
    private release: () => void,
  ) {}

  get offset(): number {
    return this.bytes;
  }

  writable(): Writable {
    if (this.finished) throw new BerthError('ERR_INTERNAL', 'ingest already finished');
    if (this.writing) throw new BerthError('ERR_INTERNAL', 'ingest already has an open writer');
    this.writing = true;
    const put = (chunks: Buffer[], cb: (e?: Error | null) => void) => {
      const n = chunks.reduce((a, c) => a + c.length, 0);
      const limit = this.meta.size;
      if (limit !== undefined && this.bytes + n > limit) {
        cb(mismatch(`size mismatch for ${this.meta.expected}: more than the expected ${limit} bytes`));
        return;
      }
      this.fh.writev(chunks, this.bytes).then(({ bytesWritten }) => {
        // Hash only what reached the file so the hash and the partial stay in step.
        let left = bytesWritten;
        for (const c of chunks) {
          if (left <= 0) break;
          this.hash.update(left >= c.length ? c : c.subarray(0, left));
          left -= c.length;
        }
        this.bytes += bytesWritten;
        cb(bytesWritten === n ? null : new Error('short write'));
      }, (e: Error) => cb(e));
    };
    // A deep buffer and writev: chunks that arrive while a write is in flight go out together,
    // so a download costs a few hundred writes instead of one per network read.
    const w = new Writable({
      highWaterMark: 4 << 20,
      write: (chunk: Buffer, _enc, cb) => put([chunk], cb),
      writev: (chunks, cb) => put(chunks.map((c) => c.chunk as Buffer), cb),
    });
    w.on('close', () => { this.writing = false; });
    return w;
  }

  async commit(): Promise<void> {
    if (this.finished) throw new BerthError('ERR_INTERNAL', 'ingest already finished');
    const { expected, size } = this.meta;
    const actual = `${splitDigest(expected).algorithm}:${this.hash.copy().digest('hex')}`;
    let err: BerthError | undefined;
    if (size !== undefined && this.bytes !== size) err = mismatch(`size mismatch for ${expected}: expected ${size} bytes, got ${this.bytes}`);
    else if (this.bytes === 0 && actual !== expected) err = mismatch(`refusing 0-byte content for ${expected}`);
    else if (actual !== expected) err = mismatch(`digest mismatch: expected ${expected}, got ${actual}`);
    if (err) {
      await this.finish(true);
      throw err;
    }
    try {
      await this.fh.sync();
      await this.fh.close();
      const target = this.store.path(expected);
      await fsp.rename(this.dataPath, target);
      await fsyncDir(join(target, '..'));
    } catch (e) {
      await this.finish(true);
      throw e;
    }
    await this.finish(true);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    await this.finish(true);
  }

  async suspend(): Promise<void> {
    if (this.finished) return;
    await this.fh.sync().catch(() => {});
    await this.finish(false);
  }

  private async finish(removeDir: boolean): Promise<void> {
    this.finished = true;
    await this.fh.close().catch(() => {});
    try { await this.store._finishLock(this.dir, removeDir); } finally { this.release(); }
  }
}
