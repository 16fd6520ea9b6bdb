// Snapshotter: unpacked layers keyed by chain ID, each its own directory usable as an overlay
// lowerdir (<root>/<chain-hex>/fs, metadata in <root>/<chain-hex>/meta.json).
// A snapshot is extracted into <root>/.tmp-*, verified, described, synced and only then renamed
// into place, so a visible snapshot is always complete; crash leftovers are swept by init().
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { BerthError, errors } from '../../errors/index.js';
import { assertDigest, DigestStream, splitDigest } from '../../util/digest.js';
import { exists, fsyncDir, readJson, removeTree, writeJsonAtomic } from '../../util/fs.js';
import { extractTar, markTopDir, type ApplyResult } from './extract.js';

export { extractTar, helperPath } from './extract.js';
export type { ApplyResult, ExtractOptions, UnpackStats } from './extract.js';

/** OCI chain IDs: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    assertDigest(d);
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

/** Options of Snapshotter.apply. */
export interface ApplyOptions {
  /**
   * Settles when the snapshot may be committed: extraction starts at once, but the rename into
   * place waits for it (and the parent is checked only then). A pull passes "parent committed and
   * blob digest verified", so layers unpack concurrently while commits stay in chain order.
   * A rejection discards the extracted tree and is rethrown.
   */
  ready?: Promise<unknown>;
  /** `tar` is gzip-compressed (diff ID and size are still those of the tar inside) */
  gzip?: boolean;
}

export interface SnapshotInfo {
  chainId: string;
  parent?: string;
  diffId: string;
  size: number;
  /** Bytes of the files' contents (what Docker reports as a layer's size); absent in older metadata. */
  usage?: number;
  created: string;
}

const HEX = /^[a-f0-9]{64}$/;

async function drain(tar: Readable, gzip: boolean): Promise<{ diffId: string; size: number }> {
  const ds = new DigestStream('sha256');
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  if (gzip) await pipeline(tar, createGunzip(), ds, sink);
  else await pipeline(tar, ds, sink);
  return { diffId: ds.digest(), size: ds.bytes };
}

export class Snapshotter {
  readonly root: string;
  /** chainId → the apply() currently working on it; others wait for it, then re-check. */
  private readonly inflight = new Map<string, Promise<ApplyResult>>();
  /** Extractions this instance ran (a metric: shared layers should unpack once). */
  unpacked = 0;

  private readonly limits: { maxEntries?: number; maxBytes?: number };

  /** `limits` bound what one layer may hold (R6); both unlimited by default. */
  constructor(root: string, limits: { maxEntries?: number; maxBytes?: number } = {}) {
    this.root = root;
    this.limits = limits;
  }

  /** Creates the root and sweeps half-extracted or half-removed snapshots left by a crash. */
  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    await markTopDir(this.root);
    for (const name of await fsp.readdir(this.root)) {
      const p = join(this.root, name);
      if (name.startsWith('.tmp-') || name.includes('-removing-')) {
        await fsp.rm(p, { recursive: true, force: true });
      } else if (HEX.test(name) && !(await exists(join(p, 'meta.json')))) {
        // cannot happen with the rename protocol, but a snapshot without metadata is unusable
        await removeTree(p);
      }
    }
  }

  private hex(chainId: string): string {
    const { algorithm, hex } = splitDigest(chainId);
    if (algorithm !== 'sha256') throw errors.invalid(`unsupported chain ID algorithm: ${algorithm}`);
    return hex;
  }

  /** Directory holding the unpacked tree (an overlay lowerdir). */
  path(chainId: string): string {
    return join(this.root, this.hex(chainId), 'fs');
  }

  private metaPath(chainId: string): string {
    return join(this.root, this.hex(chainId), 'meta.json');
  }

  async has(chainId: string): Promise<boolean> {
    return exists(this.metaPath(chainId));
  }

  /** Metadata of a snapshot, or undefined when absent. */
  async info(chainId: string): Promise<SnapshotInfo | undefined> {
    return readJson<SnapshotInfo>(this.metaPath(chainId));
  }

  async parent(chainId: string): Promise<string | undefined> {
    const m = await this.info(chainId);
    if (!m) throw errors.notFound(`snapshot ${chainId} does not exist`);
    return m.parent;
  }

  async list(): Promise<string[]> {
    let names: string[];
    try { names = await fsp.readdir(this.root); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: string[] = [];
    for (const n of names) {
      if (HEX.test(n) && (await exists(join(this.root, n, 'meta.json')))) out.push(`sha256:${n}`);
    }
    return out.sort();
  }

  /**
   * Unpacks `tar` (uncompressed) as snapshot `chainId` on top of `parent`. Checks the diff ID
   * against `expectedDiffId` and the chain ID against parent + diff ID; on mismatch nothing is kept
   * (ERR_DIGEST_MISMATCH). An existing snapshot is not unpacked again: the input is drained.
   */
  async apply(chainId: string, parent: string | undefined, tar: Readable, expectedDiffId?: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
    this.hex(chainId);
    if (parent !== undefined) this.hex(parent);
    if (expectedDiffId !== undefined) assertDigest(expectedDiffId);
    // awaited only after the extraction: an early rejection must not count as unhandled meanwhile
    opts.ready?.catch(() => {});
    for (;;) {
      const cur = this.inflight.get(chainId);
      if (cur) {
        await cur.catch(() => undefined);
        continue;
      }
      const job = this.applyOnce(chainId, parent, tar, expectedDiffId, opts);
      this.inflight.set(chainId, job);
      try {
        return await job;
      } finally {
        if (this.inflight.get(chainId) === job) this.inflight.delete(chainId);
      }
    }
  }

  private async applyOnce(chainId: string, parent: string | undefined, tar: Readable, expectedDiffId: string | undefined, opts: ApplyOptions): Promise<ApplyResult> {
    const { ready } = opts;
    const existing = await this.info(chainId);
    if (existing) {
      const got = await drain(tar, opts.gzip === true);
      if (expectedDiffId !== undefined && got.diffId !== expectedDiffId) throw mismatch(expectedDiffId, got.diffId);
      await ready;
      return { diffId: existing.diffId, size: existing.size };
    }
    if (parent !== undefined && ready === undefined && !(await this.has(parent))) {
      tar.destroy();
      throw errors.notFound(`parent snapshot ${parent} does not exist`);
    }
    const hex = this.hex(chainId);
    const tmp = join(this.root, `.tmp-${hex}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(tmp, { mode: 0o700 });
    try {
      await fsp.mkdir(join(tmp, 'fs'), { mode: 0o755 });
      this.unpacked++;
      const res = await extractTar(join(tmp, 'fs'), tar, { mode: 'overlay', sync: true, gzip: opts.gzip === true, ...this.limits });
      if (expectedDiffId !== undefined && res.diffId !== expectedDiffId) throw mismatch(expectedDiffId, res.diffId);
      const [want] = chainIds(parent === undefined ? [res.diffId] : [parent, res.diffId]).slice(-1);
      if (want !== chainId) {
        throw new BerthError('ERR_DIGEST_MISMATCH', `failed to register layer: chain ID mismatch: expected ${chainId}, got ${want}`);
      }
      if (ready !== undefined) {
        await ready;
        if (parent !== undefined && !(await this.has(parent))) throw errors.notFound(`parent snapshot ${parent} does not exist`);
      }
      const info: SnapshotInfo = { chainId, diffId: res.diffId, size: res.size, usage: res.stats.fileBytes, created: new Date().toISOString() };
      if (parent !== undefined) info.parent = parent;
      await writeJsonAtomic(join(tmp, 'meta.json'), info);
      await fsyncDir(tmp);
      try {
        await fsp.rename(tmp, join(this.root, hex));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
        // another process committed it first: theirs is as good as ours
        await fsp.rm(tmp, { recursive: true, force: true });
        return { diffId: res.diffId, size: res.size };
      }
      await fsyncDir(this.root);
      return { diffId: res.diffId, size: res.size };
    } catch (e) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Removes a snapshot (rename aside, then delete). Missing snapshots are not an error. */
  async remove(chainId: string): Promise<void> {
    await removeTree(join(this.root, this.hex(chainId)));
    await fsyncDir(this.root).catch(() => undefined);
  }

  /** Bytes on disk (allocated blocks, hard links counted once), like `du -s`. */
  async usage(chainId: string): Promise<number> {
    const top = join(this.root, this.hex(chainId));
    if (!(await exists(join(top, 'meta.json')))) throw errors.notFound(`snapshot ${chainId} does not exist`);
    const seen = new Set<string>();
    let total = 0;
    const stack = [top];
    while (stack.length) {
      const dir = stack.pop()!;
      const st = await fsp.lstat(dir);
      total += st.blocks * 512;
      for (const ent of await fsp.readdir(dir, { withFileTypes: true })) {
        const p = join(dir, ent.name);
        if (ent.isDirectory()) { stack.push(p); continue; }
        const s = await fsp.lstat(p);
        if (s.nlink > 1) {
          const key = `${s.dev}:${s.ino}`;
          if (seen.has(key)) continue;
          seen.add(key);
        }
        total += s.blocks * 512;
      }
    }
    return total;
  }
}

function mismatch(expected: string, got: string): BerthError {
  return new BerthError('ERR_DIGEST_MISMATCH', `failed to register layer: diff ID mismatch: expected ${expected}, got ${got}`);
}
