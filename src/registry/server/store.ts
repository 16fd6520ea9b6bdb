// Registry state over a StorageDriver. Layout (relative to the root):
//   blobs/<alg>/<hex>                                   verified content (layers, configs, manifests)
//   repositories/<name>/_layers/<alg>/<hex>             link: blob visible in this repo (R12)
//   repositories/<name>/_manifests/revisions/<alg>/<hex> link: manifest in this repo (holds its media type)
//   repositories/<name>/_manifests/tags/<tag>            tag → manifest digest
//   repositories/<name>/_referrers/<alg>/<hex>/<alg>-<hex> descriptor of a manifest whose subject is <hex>
//   uploads/<id>/{info.json,data}                        upload sessions (id is an opaque random key)
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { allThenThrow, DIRECT_ALIGN, type StorageDriver, type AppendWriter } from './storage.js';
import { SlabPool } from './slabs.js';
import { Lru } from './lru.js';
import { Hasher, type HashHandle } from './hasher.js';
import { regError, fromFsError } from './errors.js';
import { isUploadId, isRepoName } from './names.js';
import { digestOf, isDigest, type Algorithm } from '../../util/digest.js';
import { parseManifest, type Descriptor, type ParsedManifest } from './manifest.js';

export interface UploadSession {
  id: string;
  repo: string;
  size: number;
  algorithm: Algorithm;
  /** Running hash of bytes 0..size (in the Hasher's worker); null after a restart (recomputed
   *  from disk at finish). */
  hash: HashHandle | null;
  startedAt: number;
  updatedAt: number;
  busy: boolean;
}

export interface StoredManifest { body: Buffer; mediaType: string; digest: string }

const splitD = (d: string) => { const i = d.indexOf(':'); return [d.slice(0, i), d.slice(i + 1)] as const; };
export const blobPath = (d: string) => { const [a, h] = splitD(d); return `blobs/${a}/${h}`; };
const repoDir = (r: string) => `repositories/${r}`;
const layerLink = (r: string, d: string) => { const [a, h] = splitD(d); return `${repoDir(r)}/_layers/${a}/${h}`; };
const revLink = (r: string, d: string) => { const [a, h] = splitD(d); return `${repoDir(r)}/_manifests/revisions/${a}/${h}`; };
const tagPath = (r: string, t: string) => `${repoDir(r)}/_manifests/tags/${t}`;
const refDir = (r: string, subject: string) => { const [a, h] = splitD(subject); return `${repoDir(r)}/_referrers/${a}/${h}`; };
const uploadDir = (id: string) => `uploads/${id}`;
/** Bytes gathered from the socket before one vectored write. */
const WRITE_BATCH = 1 << 20;
/** Batches one upload may be writing (and hashing) at once: memory per upload is about (this + 1) batches. */
const WRITES_IN_FLIGHT = 3;
/** Written bytes after which an upload starts a data sync while it goes on receiving: the disk
 *  works during the transfer, so the sync at commit has little left and the client waits less. */
const SYNC_EVERY = 8 << 20;

export interface StoreOptions {
  maxBodyBytes: number;
  uploadTtlMs: number;
  /** How long cached tag/link answers may be trusted when another process (gc) edits the root. */
  cacheTtlMs?: number;
}

export class RegistryStore {
  readonly driver: StorageDriver;
  readonly opts: StoreOptions;
  private sessions = new Map<string, UploadSession>();
  private hasher = new Hasher();
  private slabs = new SlabPool(WRITE_BATCH + (256 << 10) + DIRECT_ALIGN);
  private locks = new Map<string, Promise<unknown>>();
  private repos = new Set<string>();
  private reposLoaded: Promise<void> | null = null;
  private blobSizes: Lru<string, number>;
  private links: Lru<string, true>;
  private tags: Lru<string, string>;
  private manifests = new Lru<string, StoredManifest>(2048, 64 << 20);

  constructor(driver: StorageDriver, opts: StoreOptions) {
    this.driver = driver;
    this.opts = opts;
    const ttl = opts.cacheTtlMs ?? 5000;
    this.blobSizes = new Lru(100_000, Infinity, ttl);
    this.links = new Lru(100_000, Infinity, ttl);
    this.tags = new Lru(100_000, Infinity, ttl);
  }

  /** Startup: clean temp files left by a crash, load sessions lazily, index repositories. */
  async init(): Promise<void> {
    await this.driver.mkdirp('blobs');
    await this.driver.mkdirp('uploads');
    await this.driver.mkdirp('repositories');
    for (const alg of await this.driver.list('blobs')) {
      for (const n of await this.driver.list(`blobs/${alg}`)) {
        if (n.startsWith('.')) await this.driver.remove(`blobs/${alg}/${n}`);
      }
    }
    for (const n of await this.driver.list('uploads')) if (!isUploadId(n)) await this.driver.remove(`uploads/${n}`);
    await this.loadRepos();
    // Temp files and renamed-aside trees left by a crash are invisible to readers (dot names);
    // remove them before serving (doing it concurrently could race with live temp files).
    await this.sweepLeftovers('repositories', 0);
  }

  private async sweepLeftovers(rel: string, depth: number): Promise<void> {
    if (depth > 80) return;
    for (const e of await this.driver.list(rel)) {
      const p = `${rel}/${e}`;
      if (e.startsWith('.') && (e.endsWith('.tmp') || e.endsWith('-removing'))) { await this.driver.remove(p); continue; }
      if ((await this.driver.stat(p))?.isDir) await this.sweepLeftovers(p, depth + 1);
    }
  }

  private loadRepos(): Promise<void> {
    this.reposLoaded ??= (async () => {
      const walk = async (rel: string, name: string, depth: number): Promise<void> => {
        if (depth > 64) return;
        for (const e of await this.driver.list(rel)) {
          if (e === '_manifests' || e === '_layers') { if (isRepoName(name)) this.repos.add(name); continue; }
          if (e.startsWith('_') || e.startsWith('.')) continue;
          const st = await this.driver.stat(`${rel}/${e}`);
          if (st?.isDir) await walk(`${rel}/${e}`, name ? `${name}/${e}` : e, depth + 1);
        }
      };
      await walk('repositories', '', 0);
    })();
    return this.reposLoaded;
  }

  async repoExists(repo: string): Promise<boolean> {
    await this.loadRepos();
    if (this.repos.has(repo)) return true;
    const st = await this.driver.stat(repoDir(repo) + '/_layers') ?? await this.driver.stat(repoDir(repo) + '/_manifests');
    if (st) this.repos.add(repo);
    return st !== undefined;
  }

  async listRepos(): Promise<string[]> {
    await this.loadRepos();
    return [...this.repos].sort();
  }

  /** Serialise work per key (one writer per digest, one request per session). */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(key, tail);
    try { return await run; } finally { if (this.locks.get(key) === tail) this.locks.delete(key); }
  }

  // ---- blobs ----

  async blobSize(digest: string): Promise<number | undefined> {
    const c = this.blobSizes.get(digest);
    if (c !== undefined) return c;
    const st = await this.driver.stat(blobPath(digest));
    if (!st || st.isDir) return undefined;
    this.blobSizes.set(digest, st.size);
    return st.size;
  }

  private async hasLink(path: string): Promise<boolean> {
    if (this.links.get(path)) return true;
    const ok = (await this.driver.stat(path)) !== undefined;
    if (ok) this.links.set(path, true);
    return ok;
  }

  /** Size of a blob visible in `repo` (linked as a layer or a manifest), else undefined. */
  async repoBlobSize(repo: string, digest: string): Promise<number | undefined> {
    if (!(await this.hasLink(layerLink(repo, digest))) && !(await this.hasLink(revLink(repo, digest)))) return undefined;
    return this.blobSize(digest);
  }

  async hasLayer(repo: string, digest: string): Promise<boolean> {
    return (await this.hasLink(layerLink(repo, digest))) && (await this.blobSize(digest)) !== undefined;
  }

  async linkBlob(repo: string, digest: string): Promise<void> {
    const p = layerLink(repo, digest);
    if (!(await this.hasLink(p))) await this.driver.writeAtomic(p, digest);
    this.links.set(p, true);
    this.repos.add(repo);
  }

  async unlinkBlob(repo: string, digest: string): Promise<boolean> {
    const p = layerLink(repo, digest);
    const had = (await this.driver.stat(p)) !== undefined;
    if (had) await this.driver.remove(p);
    this.links.delete(p);
    return had;
  }

  readBlob(digest: string, start?: number, end?: number): Readable {
    return this.driver.readStream(blobPath(digest), start, end);
  }

  /** Store a small verified buffer as a blob (manifests, proxied content). */
  async putBlobBuffer(digest: string, data: Buffer): Promise<void> {
    await this.withLock(`blob:${digest}`, async () => {
      if ((await this.blobSize(digest)) === data.length) return;
      await this.driver.writeAtomic(blobPath(digest), data);
      this.blobSizes.set(digest, data.length);
    });
  }

  // ---- uploads ----

  async startUpload(repo: string, algorithm: Algorithm = 'sha256'): Promise<UploadSession> {
    const id = randomBytes(16).toString('hex');
    const now = Date.now();
    const s: UploadSession = { id, repo, size: 0, algorithm, hash: this.hasher.create(algorithm), startedAt: now, updatedAt: now, busy: false };
    // Known in memory before its files exist, so the purge timer never takes it for a stale leftover.
    this.sessions.set(id, s);
    try {
      // No fsync: a session lost or cut short by a crash reads as unknown, and the client restarts it.
      await this.driver.writeNew(`${uploadDir(id)}/data`, '');
      await this.driver.writeNew(`${uploadDir(id)}/info.json`, JSON.stringify({ repo, algorithm, startedAt: now }));
    } catch (e) {
      this.dropSession(s);
      await this.driver.remove(uploadDir(id)).catch(() => {});
      throw fromFsError(e);
    }
    return s;
  }

  /** Look up a session by its opaque id; it must belong to `repo` (R4: never a path part unvalidated). */
  async getUpload(repo: string, id: string): Promise<UploadSession> {
    const unknown = () => regError('ERR_REG_BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry');
    if (!isUploadId(id)) throw unknown();
    let s = this.sessions.get(id);
    if (!s) {
      // Survived a restart: rebuild from disk; the hash is recomputed at finish.
      const info = await this.driver.read(`${uploadDir(id)}/info.json`);
      const st = await this.driver.stat(`${uploadDir(id)}/data`);
      if (!info || !st) throw unknown();
      let meta: { repo?: unknown; algorithm?: unknown; startedAt?: unknown };
      try { meta = JSON.parse(info.toString('utf8')); } catch { throw unknown(); }
      if (typeof meta.repo !== 'string' || (meta.algorithm !== 'sha256' && meta.algorithm !== 'sha512')) throw unknown();
      s = { id, repo: meta.repo, size: st.size, algorithm: meta.algorithm, hash: null, startedAt: Number(meta.startedAt) || st.mtimeMs, updatedAt: st.mtimeMs, busy: false };
      this.sessions.set(id, s);
    }
    if (s.repo !== repo) throw unknown();
    if (Date.now() - s.updatedAt > this.opts.uploadTtlMs) { await this.cancelUpload(s); throw unknown(); }
    return s;
  }

  /** Append a request body to a session. On any failure the data file is cut back to its old size. */
  async appendUpload(s: UploadSession, body: Readable, expectLength?: number): Promise<void> {
    if (s.busy) throw regError('ERR_REG_RANGE', 'another request is writing to this upload');
    s.busy = true;
    const before = s.size;
    const hash = s.hash ? this.hasher.copy(s.hash) : null;
    const hasher = this.hasher;
    const slabs = this.slabs;
    const max = this.opts.maxBodyBytes;
    let n = 0;
    /** Bytes handed to the writer so far (n less what waits in `pending`). */
    let flushed = 0;
    let w: AppendWriter | undefined;
    // Up to WRITES_IN_FLIGHT batches are being written (positionally, in the thread pool) and hashed
    // (in the Hasher's worker) while the next one is read, so the socket keeps flowing; the body is
    // paused while the limit is reached, which bounds memory per upload. 'data' events rather than an async
    // iterator: a promise per 64 KiB chunk costs measurable CPU at disk speed.
    const writes = new Set<Promise<void>>();
    let syncing: Promise<void> | undefined;
    let syncError: unknown;
    try {
      w = await this.driver.appendWriter(`${uploadDir(s.id)}/data`);
      const writer = w;
      await new Promise<void>((resolve, reject) => {
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        let unsynced = 0;
        let settled = false;
        let ended = false;
        const stop = (e: unknown) => {
          if (settled) return;
          settled = true;
          detach();
          // Leave the rest of the body unread (not destroyed) so the error response can still be sent.
          body.pause();
          reject(e);
        };
        const done = () => {
          if (settled || !ended || writes.size) return;
          settled = true;
          detach();
          resolve();
        };
        const flush = () => {
          // File offset of this batch's first byte. The batch sits at the same offset modulo
          // DIRECT_ALIGN in its (page-aligned) slab, and all but the last batch end on a block
          // boundary (the few bytes past it move to the next batch), so the driver can send all
          // but a request's first and last partial block to the disk directly.
          const pos = before + flushed;
          const lead = pos % DIRECT_ALIGN;
          const slab = slabs.take(lead + pendingBytes);
          let off = lead;
          for (const c of pending) off += c.copy(slab, off);
          let batchBytes = pendingBytes;
          const over = ended ? 0 : (pos + batchBytes) % DIRECT_ALIGN;
          pending = [];
          pendingBytes = 0;
          if (over && over < batchBytes) {
            batchBytes -= over;
            // Copied out: the slab is reused once this batch is written and hashed.
            pending.push(Buffer.from(slab.subarray(lead + batchBytes, lead + batchBytes + over)));
            pendingBytes = over;
          }
          flushed += batchBytes;
          // One copy into shared memory: the disk write and the hash worker both read it in place.
          const buf = slab.subarray(lead, lead + batchBytes);
          const work = hash === null ? writer.writev([buf]) : allThenThrow([writer.writev([buf]), hasher.update(hash, buf)]);
          // Back to the free list once both are done with it (allThenThrow waits for both even
          // when one fails).
          const give = () => slabs.give(slab);
          work.then(give, give);
          const p: Promise<void> = work.then(() => {
            writes.delete(p);
            if (settled) return;
            unsynced += batchBytes;
            if (unsynced >= SYNC_EVERY && !syncing) {
              unsynced = 0;
              syncing = writer.datasync().finally(() => { syncing = undefined; });
              // Kept: it may fail after the body has ended, when stop() no longer rejects.
              syncing.catch((e: unknown) => { syncError ??= e; stop(e); });
            }
            if (ended) done();
            else if (body.isPaused() && writes.size < WRITES_IN_FLIGHT) body.resume();
          }, (e: unknown) => { writes.delete(p); stop(e); });
          writes.add(p);
          if (writes.size >= WRITES_IN_FLIGHT) body.pause();
        };
        const onData = (chunk: Buffer) => {
          if (settled) return;
          n += chunk.length;
          if (before + n > max) { stop(regError('ERR_REG_TOO_LARGE', `upload exceeds the maximum size of ${max} bytes`)); return; }
          if (expectLength !== undefined && n > expectLength) { stop(regError('ERR_REG_SIZE_INVALID', 'body longer than declared')); return; }
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= WRITE_BATCH) flush();
        };
        const onEnd = () => {
          ended = true;
          if (settled) return;
          if (pending.length) flush();
          done();
        };
        const onClose = () => { if (!ended) stop(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })); };
        const detach = () => {
          body.off('data', onData);
          body.off('end', onEnd);
          body.off('error', stop);
          body.off('close', onClose);
        };
        body.on('data', onData);
        body.once('end', onEnd);
        body.once('error', stop);
        body.once('close', onClose);
        // Aborted (or already consumed) while the session was being set up: no event will come.
        if (body.readableEnded) onEnd();
        else if (body.destroyed) onClose();
      });
      if (expectLength !== undefined && n !== expectLength) throw regError('ERR_REG_SIZE_INVALID', 'body length does not match Content-Range/Content-Length');
      await syncing;
      if (syncError !== undefined) throw syncError;
      await w.close();
      w = undefined;
      s.size = before + n;
      if (s.hash !== null) this.hasher.free(s.hash);
      s.hash = hash;
      s.updatedAt = Date.now();
    } catch (e) {
      if (hash !== null) this.hasher.free(hash);
      // Every write must be over before the file is cut back, or a late one would extend it again.
      await Promise.allSettled([...writes, syncing]);
      await w?.close().catch(() => {});
      await this.driver.truncate(`${uploadDir(s.id)}/data`, before).catch(() => {});
      throw fromFsError(e);
    } finally {
      s.busy = false;
    }
  }

  /** Verify the whole upload against `digest`, then make it visible in the session's repo. */
  async finishUpload(s: UploadSession, digest: string): Promise<void> {
    const alg = digest.slice(0, digest.indexOf(':')) as Algorithm;
    let actual: string;
    const path = `${uploadDir(s.id)}/data`;
    if (s.hash !== null && s.algorithm === alg) {
      // A lost worker lost its states: the file on disk still has every byte.
      actual = await this.hasher.digest(s.hash).then((hex) => `${alg}:${hex}`, () => this.hashFile(path, alg));
    } else actual = await this.hashFile(path, alg);
    if (actual !== digest) {
      await this.cancelUpload(s);
      throw regError('ERR_INVALID_DIGEST', 'provided digest did not match uploaded content');
    }
    await this.withLock(`blob:${digest}`, async () => {
      const have = await this.blobSize(digest);
      if (have === s.size) return;
      await this.driver.commit(`${uploadDir(s.id)}/data`, blobPath(digest));
      this.blobSizes.set(digest, s.size);
    });
    await this.linkBlob(s.repo, digest);
    await this.cancelUpload(s);
  }

  private async hashFile(path: string, alg: Algorithm): Promise<string> {
    const h = createHash(alg);
    for await (const chunk of this.driver.readStream(path)) h.update(chunk as Buffer);
    return `${alg}:${h.digest('hex')}`;
  }

  async cancelUpload(s: UploadSession): Promise<void> {
    this.dropSession(s);
    await this.driver.remove(uploadDir(s.id));
  }

  private dropSession(s: UploadSession): void {
    this.sessions.delete(s.id);
    if (s.hash !== null) this.hasher.free(s.hash);
    s.hash = null;
  }

  /** Stops the hash worker (the server is closing). */
  close(): Promise<void> {
    return this.hasher.close();
  }

  /** Drop sessions idle for longer than the TTL (also those left on disk by a previous run). */
  async purgeUploads(now = Date.now()): Promise<number> {
    let n = 0;
    for (const id of await this.driver.list('uploads')) {
      if (!isUploadId(id)) continue;
      const mem = this.sessions.get(id);
      if (mem?.busy) continue;
      // A directory without its data file is dated by the directory itself (it may be brand new).
      const st = mem ? undefined : (await this.driver.stat(`${uploadDir(id)}/data`)) ?? (await this.driver.stat(uploadDir(id)));
      if (!mem && !st) continue;
      const updated = mem ? mem.updatedAt : st!.mtimeMs;
      if (now - updated > this.opts.uploadTtlMs) {
        if (mem) this.dropSession(mem);
        await this.driver.remove(uploadDir(id));
        n++;
      }
    }
    return n;
  }

  sessionCount(): number { return this.sessions.size; }

  // ---- manifests ----

  async resolveTag(repo: string, tag: string): Promise<string | undefined> {
    const key = `${repo}:${tag}`;
    const c = this.tags.get(key);
    if (c) return c;
    const b = await this.driver.read(tagPath(repo, tag));
    const d = b?.toString('utf8').trim();
    if (!d || !isDigest(d)) return undefined;
    this.tags.set(key, d);
    return d;
  }

  async getManifest(repo: string, digest: string): Promise<StoredManifest | undefined> {
    const rl = revLink(repo, digest);
    const cached = this.manifests.get(digest);
    if (cached && this.links.get(rl)) return cached;
    const mt = await this.driver.read(rl);
    if (!mt) return undefined;
    this.links.set(rl, true);
    if (cached) return cached;
    const body = await this.driver.read(blobPath(digest));
    if (!body) return undefined;
    const m: StoredManifest = { body, mediaType: mt.toString('utf8'), digest };
    this.manifests.set(digest, m, body.length);
    return m;
  }

  /** Validate and store a manifest; returns its digest and parsed form. Order of writes (blob,
   *  revision, referrer, tag) means a tag always points at a complete manifest after a crash. */
  async putManifest(repo: string, ref: { tag?: string; digest?: string }, body: Buffer, contentType: string | undefined, extraTags: string[] = [], trusted = false): Promise<{ digest: string; parsed: ParsedManifest }> {
    const parsed = parseManifest(body, contentType);
    let digest: string;
    if (ref.digest) {
      const alg = ref.digest.slice(0, ref.digest.indexOf(':')) as Algorithm;
      digest = digestOf(body, alg);
      if (digest !== ref.digest) throw regError('ERR_INVALID_DIGEST', 'manifest digest does not match the body');
    } else {
      digest = digestOf(body);
    }
    const missing: string[] = [];
    // A pull-through cache stores upstream manifests before their blobs are fetched.
    if (!trusted) for (const b of parsed.blobs) if (!(await this.hasLayer(repo, b)) && !(await this.getManifest(repo, b))) missing.push(b);
    if (!trusted) for (const m of parsed.manifests) if (!(await this.getManifest(repo, m))) missing.push(m);
    if (missing.length) throw regError('ERR_REG_MANIFEST_BLOB_UNKNOWN', `manifest references unknown blob or manifest ${missing[0]}`);
    await this.putBlobBuffer(digest, body);
    const rl = revLink(repo, digest);
    await this.driver.writeAtomic(rl, parsed.mediaType);
    this.links.set(rl, true);
    this.manifests.set(digest, { body, mediaType: parsed.mediaType, digest }, body.length);
    this.repos.add(repo);
    if (parsed.subject) {
      const desc: Descriptor = { mediaType: parsed.mediaType, digest, size: body.length };
      if (parsed.artifactType) desc.artifactType = parsed.artifactType;
      if (parsed.annotations) desc.annotations = parsed.annotations;
      const [a, h] = splitD(digest);
      await this.driver.writeAtomic(`${refDir(repo, parsed.subject.digest)}/${a}-${h}`, JSON.stringify(desc));
    }
    for (const t of [...(ref.tag ? [ref.tag] : []), ...extraTags]) {
      await this.driver.writeAtomic(tagPath(repo, t), digest);
      this.tags.set(`${repo}:${t}`, digest);
    }
    return { digest, parsed };
  }

  async deleteTag(repo: string, tag: string): Promise<boolean> {
    const had = (await this.driver.stat(tagPath(repo, tag))) !== undefined;
    if (had) await this.driver.remove(tagPath(repo, tag));
    this.tags.delete(`${repo}:${tag}`);
    return had;
  }

  /** Delete a manifest revision, the tags that point at it and its referrer entry. */
  async deleteManifest(repo: string, digest: string): Promise<boolean> {
    const m = await this.getManifest(repo, digest);
    if (!m) return false;
    for (const t of await this.listTags(repo)) {
      if ((await this.resolveTag(repo, t)) === digest) await this.deleteTag(repo, t);
    }
    try {
      const parsed = parseManifest(m.body, m.mediaType);
      if (parsed.subject) {
        const [a, h] = splitD(digest);
        await this.driver.remove(`${refDir(repo, parsed.subject.digest)}/${a}-${h}`);
      }
    } catch { /* stored manifests were validated on PUT */ }
    const rl = revLink(repo, digest);
    await this.driver.remove(rl);
    this.links.delete(rl);
    return true;
  }

  async listTags(repo: string): Promise<string[]> {
    return (await this.driver.list(`${repoDir(repo)}/_manifests/tags`)).filter((t) => !t.startsWith('.')).sort();
  }

  async listReferrers(repo: string, subject: string): Promise<Descriptor[]> {
    const dir = refDir(repo, subject);
    const out: Descriptor[] = [];
    for (const n of (await this.driver.list(dir)).sort()) {
      if (n.startsWith('.')) continue;
      const b = await this.driver.read(`${dir}/${n}`);
      if (!b) continue;
      try {
        const d = JSON.parse(b.toString('utf8')) as Descriptor;
        if (isDigest(d.digest) && (await this.getManifest(repo, d.digest))) out.push(d);
      } catch { /* skip a damaged entry rather than fail the listing */ }
    }
    return out;
  }

  /** Forget cached answers (after gc edits the root). */
  invalidate(): void {
    this.blobSizes.clear(); this.links.clear(); this.tags.clear(); this.manifests.clear();
  }
}

export { layerLink, revLink, tagPath, refDir, repoDir, uploadDir };
