// Pull: manifest (platform-selected) → config → layers in parallel; each layer streams from the
// registry into the content store (digest verified) and, in the same pass, into the snapshotter
// (gzip is inflated by the native extractor). Layers unpack concurrently; snapshots commit in chain
// order and the image record is written last, so a pull is visible only when complete.
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, isBerthError } from '../../errors/index.js';
import { progressBar } from '../../api/progress.js';
import { familiarName, familiarString, formatReference, parseReference, withDefaultTag, type Reference } from '../../oci/reference.js';
import { digestOf, shortId } from '../../util/digest.js';
import { log } from '../../util/log.js';
import type { ImageRecord, LayerRecord } from '../../store/metadata/index.js';
import { compressionOf, decompressor, sniff, type Compression } from './compress.js';
import { computeChainIds, type RegistryLike, type RegistryOptions } from './deps.js';
import { parseManifest, parseImageManifest, selectManifest, type Descriptor } from '../../oci/manifest.js';
import { requestedPlatform } from '../../oci/platform.js';
import type { ImageService, Progress } from './service.js';

const MAX_PARALLEL = 3;

export interface PullOptions {
  platform?: string;
  credentials?: RegistryOptions['credentials'];
  progress: Progress;
}

/** Counts bytes and reports progress at most every 64 KiB/100 ms. */
class Meter extends Transform {
  n = 0;
  private last = 0;
  constructor(private onTick: (n: number) => void) { super({ highWaterMark: 1 << 20 }); }
  override _transform(c: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.n += c.length;
    const now = Date.now();
    if (now - this.last > 100) { this.last = now; this.onTick(this.n); }
    cb(null, c);
  }
}

/** Parse "name" + optional tag (which may be a digest) into a normalised reference. */
export function pullReference(fromImage: string, tag?: string): Reference {
  let s = fromImage;
  if (tag) s += tag.startsWith('sha256:') ? `@${tag}` : `:${tag}`;
  return withDefaultTag(parseReference(s));
}

export async function pullImage(svc: ImageService, ref: Reference, opts: PullOptions): Promise<ImageRecord> {
  const reg = svc.d.registry({ insecureRegistries: svc.d.insecureRegistries, credentials: opts.credentials });
  try {
    return await pullWith(svc, reg, ref, opts);
  } finally {
    await reg.close?.().catch(() => {});
  }
}

async function pullWith(svc: ImageService, reg: RegistryLike, ref: Reference, opts: PullOptions): Promise<ImageRecord> {
  const { progress } = opts;
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const domain = ref.domain;
  const repo = ref.path;
  let top = await reg.getManifest(formatReference(ref));
  progress({ status: `Pulling from ${familiarName(ref)}`, id: ref.digest ?? ref.tag });
  let manifestBody = top.body;
  let manifestDigest = top.digest;
  let manifestMediaType = top.mediaType;
  const extraBlobs: { digest: string; body: Buffer }[] = [];
  const parsedTop = parseManifest(top.body, top.mediaType);
  if (parsedTop.kind === 'index') {
    const d = selectManifest(parsedTop.index, requestedPlatform(opts.platform));
    extraBlobs.push({ digest: top.digest, body: top.body });
    const sub = await reg.getManifest(`${domain}/${repo}@${d.digest}`);
    if (sub.digest !== d.digest && digestOf(sub.body) !== d.digest) throw new BerthError('ERR_DIGEST_MISMATCH', `manifest digest mismatch for ${d.digest}`);
    top = sub;
    manifestBody = sub.body;
    manifestDigest = d.digest;
    manifestMediaType = sub.mediaType || d.mediaType;
  }
  const manifest = parseImageManifest(manifestBody, manifestMediaType);

  // Config blob: small, read whole, verified.
  const configBuf = await readBlob(reg, domain, repo, manifest.config.digest);
  if (digestOf(configBuf) !== manifest.config.digest) throw new BerthError('ERR_DIGEST_MISMATCH', `config digest mismatch: ${manifest.config.digest}`);
  const config = JSON.parse(configBuf.toString('utf8')) as Record<string, unknown>;
  const diffIds = ((config.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []);
  if (diffIds.length !== manifest.layers.length) throw new BerthError('ERR_REGISTRY', 'layer count in manifest and config differ');
  const chainIds = computeChainIds(diffIds);
  const imageId = manifest.config.digest;

  const existing = svc.d.meta.get(imageId);
  const tagged = ref.digest ? undefined : familiarString(ref);
  const repoDigest = `${familiarName(ref)}@${ref.digest ?? manifestDigest}`;
  if (existing && (await layersPresent(svc, existing))) {
    if (tagged) await svc.setTag(existing, tagged);
    await svc.addRepoDigest(existing, `${familiarName(ref)}@${manifestDigest}`);
    progress({ status: `Digest: ${ref.digest ?? manifestDigest}` });
    progress({ status: `Status: Image is up to date for ${familiarString(ref)}` });
    svc.d.events.publish('image', 'pull', familiarString(ref), { name: familiarString(ref) });
    return svc.d.meta.get(imageId)!;
  }

  const layers: LayerRecord[] = manifest.layers.map((l, i) => ({
    digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i]!, chainId: chainIds[i]!, uncompressedSize: 0,
  }));
  for (const l of manifest.layers) progress({ status: 'Pulling fs layer', progressDetail: {}, id: shortId(l.digest) });

  // Downloads run in parallel (bounded) and each layer unpacks in the same pass into its own
  // temp snapshot; only the commits wait: layer i is renamed into place once layer i-1 is
  // committed and its own blob digest is verified, so a visible snapshot always has its parent.
  const applied: { p: Promise<void>; resolve: () => void; reject: (e: unknown) => void }[] = layers.map(() => {
    let resolve!: () => void; let reject!: (e: unknown) => void;
    const p = new Promise<void>((a, b) => { resolve = a; reject = b; });
    p.catch(() => {});
    return { p, resolve, reject };
  });
  let next = 0;
  const worker = async () => {
    while (next < layers.length) {
      const i = next++;
      try {
        layers[i]!.uncompressedSize = await fetchLayer(svc, reg, domain, repo, layers[i]!, i > 0 ? layers[i - 1]!.chainId : undefined,
          i > 0 ? applied[i - 1]!.p : Promise.resolve(), progress);
        applied[i]!.resolve();
        log.debug('pull: layer done', { layer: layers[i]!.digest, ms: ms() });
      } catch (e) {
        for (let k = i; k < layers.length; k++) applied[k]!.reject(e);
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL, layers.length) }, worker));

  await svc.d.content.writeBuffer(configBuf, manifest.config.digest);
  await svc.d.content.writeBuffer(manifestBody, manifestDigest);
  for (const b of extraBlobs) await svc.d.content.writeBuffer(b.body, b.digest);

  const rec: ImageRecord = {
    id: imageId,
    config,
    configMediaType: manifest.config.mediaType,
    layers,
    repoTags: existing?.repoTags ?? [],
    repoDigests: existing?.repoDigests ?? [],
    manifestDigest,
    manifestMediaType,
    created: (config.created as string | undefined) ?? new Date(0).toISOString(),
    size: layers.reduce((a, l) => a + l.uncompressedSize, 0),
    loadedAt: existing?.loadedAt ?? Date.now(),
  };
  if (!rec.repoDigests.includes(repoDigest)) rec.repoDigests.push(repoDigest);
  if (ref.digest && manifestDigest !== ref.digest) {
    const d2 = `${familiarName(ref)}@${manifestDigest}`;
    if (!rec.repoDigests.includes(d2)) rec.repoDigests.push(d2);
  }
  await svc.d.meta.put(await svc.withContentSizes(rec));
  if (tagged) await svc.setTag(rec, tagged);
  log.debug('pull: image recorded', { image: imageId, ms: ms() });
  progress({ status: `Digest: ${ref.digest ?? manifestDigest}` });
  progress({ status: `Status: Downloaded newer image for ${familiarString(ref)}` });
  svc.d.events.publish('image', 'pull', familiarString(ref), { name: familiarString(ref) });
  return svc.d.meta.get(imageId)!;
}

async function layersPresent(svc: ImageService, img: ImageRecord): Promise<boolean> {
  for (const l of img.layers) {
    if (!(await svc.d.snapshots.has(l.chainId)) || !(await svc.d.content.has(l.digest))) return false;
  }
  return await svc.d.content.has(img.id);
}

async function readBlob(reg: RegistryLike, domain: string, repo: string, digest: string): Promise<Buffer> {
  const s = await reg.getBlob(domain, repo, digest);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    parts.push(c as Buffer);
    n += (c as Buffer).length;
    if (n > 64 << 20) throw new BerthError('ERR_REGISTRY', 'config blob too large');
  }
  return Buffer.concat(parts);
}

/** Download (or reuse) one layer; returns its uncompressed size. */
async function fetchLayer(svc: ImageService, reg: RegistryLike, domain: string, repo: string, l: LayerRecord, parent: string | undefined,
  parentReady: Promise<void>, progress: Progress): Promise<number> {
  const id = shortId(l.digest);
  const r = await svc.withLock(`chain:${l.chainId}`, async () => {
    const haveSnap = await svc.d.snapshots.has(l.chainId);
    const haveBlob = await svc.d.content.has(l.digest);
    if (haveSnap && haveBlob) {
      progress({ status: 'Already exists', progressDetail: {}, id });
      return await uncompressedSizeOf(svc, l);
    }
    if (haveBlob) return -1; // unpack from the store
    return await svc.withLock(`blob:${l.digest}`, async () => {
      const ing = await svc.d.content.ingest(l.digest, l.size);
      if (ing.done) {
        // Committed meanwhile by someone else.
        progress({ status: 'Download complete', progressDetail: {}, id });
        return haveSnap ? await uncompressedSizeOf(svc, l) : -1;
      }
      // A partial download survives a crash: resume it (Range), then unpack from the store.
      const resumeAt = ing.offset;
      const single = !haveSnap && resumeAt === 0;
      progress({ status: 'Waiting', progressDetail: {}, id });
      const tStart = performance.now();
      let body: Readable;
      try {
        // The ingest verifies the digest at commit: the client need not hash the same bytes again.
        const blobOpts: { offset?: number; verify?: boolean } = resumeAt > 0 ? { offset: resumeAt } : { verify: false };
        body = await reg.getBlob(domain, repo, l.digest, blobOpts);
      } catch (e) { await (ing.suspend ?? ing.abort).call(ing).catch(() => {}); throw e; }
      const meter = new Meter((n) => progress({ status: 'Downloading', progressDetail: { current: resumeAt + n, total: l.size }, progress: progressBar(resumeAt + n, l.size), id }));
      const sink = ing.writable();
      let size = 0;
      try {
        const tee = body.pipe(meter);
        // The blob is verified (and committed) as soon as its last byte is stored; the snapshot
        // commit waits for that and for the parent's commit, the extraction itself for neither.
        const verified = pipeline(tee, sink).then(async () => {
          progress({ status: 'Verifying Checksum', progressDetail: {}, id });
          await ing.commit();
          progress({ status: 'Download complete', progressDetail: {}, id });
        });
        const ready = Promise.all([verified, parentReady]);
        ready.catch(() => {});
        const unpackDone = !single ? drain(tee) : applyFrom(svc, tee, l, parent, ready).then((n) => { size = n; });
        // The first failure stops the transfer; both sides settle (temp snapshot removed) before we report it.
        let failed: { e: unknown } | undefined;
        const stop = (e: unknown) => {
          if (failed) return;
          failed = { e };
          body.destroy();
          meter.destroy(e instanceof Error ? e : new Error(String(e)));
        };
        await Promise.allSettled([verified.catch(stop), unpackDone.catch(stop)]);
        if (failed) throw failed.e;
        log.debug('pull: layer downloaded', { layer: l.digest, onePass: single, ms: Math.round(performance.now() - tStart) });
      } catch (e) {
        body.destroy();
        // Keep the bytes for a later resume unless the content itself was wrong.
        if (isBerthError(e, 'ERR_DIGEST_MISMATCH') || !ing.suspend) await ing.abort().catch(() => {});
        else await ing.suspend().catch(() => {});
        throw isBerthError(e) ? e : new BerthError('ERR_REGISTRY', `failed to pull layer ${l.digest}: ${(e as Error).message}`, { cause: e });
      }
      if (haveSnap) return await uncompressedSizeOf(svc, l);
      if (!single) return -1;
      progress({ status: 'Extracting', progressDetail: { current: l.size, total: l.size }, progress: progressBar(l.size, l.size), id });
      progress({ status: 'Pull complete', progressDetail: {}, id });
      return size;
    });
  });
  if (r >= 0) return r;
  return svc.withLock(`chain:${l.chainId}`, async () => {
    if (await svc.d.snapshots.has(l.chainId)) return await uncompressedSizeOf(svc, l);
    progress({ status: 'Extracting', progressDetail: {}, id });
    const n = await applyFrom(svc, svc.d.content.createReadStream(l.digest), l, parent, parentReady);
    progress({ status: 'Pull complete', progressDetail: {}, id });
    return n;
  });
}

function drain(s: Readable): Promise<void> {
  return new Promise((res, rej) => { s.on('data', () => {}); s.on('end', res); s.on('error', rej); });
}

/** Decompress `src` according to the layer media type and apply it as snapshot `l.chainId` (committed once `ready` settles). */
export async function applyFrom(svc: ImageService, src: Readable, l: { mediaType: string; chainId: string; diffId: string }, parent: string | undefined,
  ready?: Promise<unknown>): Promise<number> {
  const c: Compression | undefined = compressionOf(l.mediaType);
  const opts = ready ? { ready } : {};
  // gzip goes to the snapshotter as is: its extractor inflates (and hashes) it out of this process
  // (through a PassThrough taken now: `src` may be flowing into the content store already)
  if (c === 'gzip') {
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    src.on('error', (e) => pass.destroy(e));
    return (await svc.d.snapshots.apply(l.chainId, parent, src.pipe(pass), l.diffId, { ...opts, gzip: true })).size;
  }
  let stream: Readable;
  if (c) {
    const d = decompressor(c);
    src.on('error', (e) => d.destroy(e));
    stream = src.pipe(d);
  } else {
    const { autoDecompress } = await import('./compress.js');
    stream = autoDecompress(src);
  }
  const r = await svc.d.snapshots.apply(l.chainId, parent, stream, l.diffId, opts);
  return r.size;
}

/** Uncompressed size of a layer already present: from any image record that has it, else by snapshot usage. */
async function uncompressedSizeOf(svc: ImageService, l: LayerRecord): Promise<number> {
  for (const i of svc.d.meta.list()) {
    const hit = i.layers.find((x) => x.chainId === l.chainId && x.uncompressedSize > 0);
    if (hit) return hit.uncompressedSize;
  }
  const info = svc.d.snapshots.info ? await svc.d.snapshots.info(l.chainId).catch(() => undefined) : undefined;
  if (info && info.size > 0) return info.size;
  // Decompress the stored blob just to count (rare: only after an interrupted pull).
  let n = 0;
  const src = svc.d.content.createReadStream(l.digest);
  const c = compressionOf(l.mediaType) ?? 'gzip';
  const d = src.pipe(decompressor(c));
  for await (const chunk of d) n += (chunk as Buffer).length;
  return n;
}

export { sniff };
export type { Descriptor };
