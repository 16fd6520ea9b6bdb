// Import (rootfs tar → one-layer image), save (docker-save + OCI layout in one tar) and load
// (docker-save or OCI layout tars). Large data goes through temp files under the daemon root,
// never whole into memory.
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import { join, normalize, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { BerthError, isBerthError } from '../../errors/index.js';
import { applyChanges } from './changes.js';
import { familiarName, familiarString, parseReference, tryParseReference, withDefaultTag } from '../../oci/reference.js';
import { DigestStream, digestOf, isDigest, splitDigest } from '../../util/digest.js';
import { log } from '../../util/log.js';
import type { ImageRecord, LayerRecord } from '../../store/metadata/index.js';
import { autoDecompress, compressionOf, decompressor, gzipper, sniff } from './compress.js';
import { computeChainIds } from './deps.js';
import { parseManifest, selectManifest } from '../../oci/manifest.js';
import { MediaTypes as MT } from '../../oci/media-types.js';
import { defaultPlatform, requestedPlatform } from '../../oci/platform.js';
import { applyFrom } from './pull.js';
import type { ImageService, Progress } from './service.js';

async function tmpDir(svc: ImageService, prefix: string): Promise<string> {
  await fsp.mkdir(svc.d.tmpDir, { recursive: true, mode: 0o700 });
  return fsp.mkdtemp(join(svc.d.tmpDir, `${prefix}-`));
}

/** Ingest a local file into the content store under its known digest. */
async function ingestFile(svc: ImageService, file: string, digest: string, size: number): Promise<void> {
  if (await svc.d.content.has(digest)) return;
  await svc.withLock(`blob:${digest}`, async () => {
    if (await svc.d.content.has(digest)) return;
    const ing = await svc.d.content.ingest(digest, size);
    try {
      await pipeline(createReadStream(file, { start: ing.offset }), ing.writable());
      await ing.commit();
    } catch (e) { await ing.abort().catch(() => {}); throw e; }
  });
}

/**
 * Store one uncompressed layer tar (a file) as a gzip blob plus its snapshot.
 * `known` carries the compressed file when the source was already gzip.
 */
export async function storeLayer(svc: ImageService, dir: string, tarFile: string, diffId: string, uncompressedSize: number, parentChain: string | undefined, chainId: string,
  known?: { file: string; digest: string; size: number; mediaType: string }): Promise<LayerRecord> {
  let blob = known;
  if (!blob) {
    const gz = join(dir, `${randomBytes(6).toString('hex')}.tar.gz`);
    const ds = new DigestStream();
    await pipeline(createReadStream(tarFile), gzipper(), ds, createWriteStream(gz));
    blob = { file: gz, digest: ds.digest(), size: ds.bytes, mediaType: MT.dockerLayer };
  }
  await ingestFile(svc, blob.file, blob.digest, blob.size);
  await svc.withLock(`chain:${chainId}`, async () => {
    if (await svc.d.snapshots.has(chainId)) return;
    await applyFrom(svc, createReadStream(tarFile), { mediaType: MT.ociLayer, chainId, diffId }, parentChain);
  });
  return { digest: blob.digest, mediaType: blob.mediaType, size: blob.size, diffId, chainId, uncompressedSize };
}

/** Decompress a (maybe compressed) file into `out`, returning diffId and size. */
async function unpackToFile(src: Readable, out: string): Promise<{ diffId: string; size: number }> {
  const ds = new DigestStream();
  await pipeline(autoDecompress(src), ds, createWriteStream(out));
  return { diffId: ds.digest(), size: ds.bytes };
}

async function headOf(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try { const b = Buffer.alloc(8); const { bytesRead } = await fh.read(b, 0, 8, 0); return b.subarray(0, bytesRead); } finally { await fh.close(); }
}

// ---- import --------------------------------------------------------------------------------------

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
  platform?: string;
  source?: string;
}

export async function importImage(svc: ImageService, src: Readable, opts: ImportOptions, progress: Progress): Promise<ImageRecord> {
  let ref;
  if (opts.repo) ref = withDefaultTag(parseReference(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo));
  const dir = await tmpDir(svc, 'import');
  try {
    const tarFile = join(dir, 'layer.tar');
    const { diffId, size } = await unpackToFile(src, tarFile);
    const chainId = diffId;
    const layer = await storeLayer(svc, dir, tarFile, diffId, size, undefined, chainId);
    const plat = requestedPlatform(opts.platform);
    const created = new Date().toISOString();
    // Docker puts the message (default "Imported from <source>") in the config and its history
    const comment = opts.message || `Imported from ${opts.source ?? '-'}`;
    const cfg: Record<string, unknown> = {
      architecture: plat.architecture,
      os: plat.os,
      ...(plat.variant ? { variant: plat.variant } : {}),
      created,
      config: applyChanges({}, opts.changes ?? []),
      rootfs: { type: 'layers', diff_ids: [diffId] },
      comment,
      history: [{ created, created_by: '', comment }],
    };
    const cfgBuf = Buffer.from(JSON.stringify(cfg));
    const id = digestOf(cfgBuf);
    await svc.d.content.writeBuffer(cfgBuf, id);
    const rec: ImageRecord = {
      id, config: cfg, configMediaType: MT.dockerConfig, layers: [layer], repoTags: [], repoDigests: [],
      created, size, loadedAt: Date.now(), comment,
    };
    await svc.d.meta.put(await svc.withContentSizes(rec));
    if (ref) await svc.setTag(rec, familiarString(ref));
    svc.d.events.publish('image', 'import', id, ref ? { name: familiarString(ref) } : {});
    progress({ status: id });
    return svc.d.meta.get(id)!;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}


// ---- save ----------------------------------------------------------------------------------------

/** Stream a tar holding both the docker-save layout (manifest.json, repositories) and an OCI layout. */
export function saveImages(svc: ImageService, names: string[]): Readable {
  // Resolve eagerly so a missing image fails before any byte is sent.
  const items: { img: ImageRecord; tags: string[] }[] = [];
  for (const n of names) {
    const img = svc.get(n);
    let tags: string[] = [];
    const ref = /^(sha256:)?[a-f0-9]{6,64}$/.test(n) && svc.find(n)?.id.slice(7).startsWith(n.replace(/^sha256:/, '')) ? undefined : tryParseReference(n);
    if (ref && !ref.digest) {
      if (ref.tag) tags = [familiarString(ref)];
      else tags = img.repoTags.filter((t) => t.replace(/:[^:/]+$/, '') === familiarName(ref));
      if (tags.length === 0) tags = [familiarString(withDefaultTag(ref))];
    }
    const existing = items.find((x) => x.img.id === img.id);
    if (existing) { for (const t of tags) if (!existing.tags.includes(t)) existing.tags.push(t); } else items.push({ img, tags });
  }
  const pack = tar.pack();
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  // A client that goes away mid-download tears `out` down, and pipe() passes that on to the pack as
  // an 'error': observed here (the entries below then fail and end the loop), never a crash.
  pack.on('error', () => {});
  pack.pipe(out);
  void (async () => {
    const written = new Set<string>();
    const addBuf = (name: string, buf: Buffer) => new Promise<void>((res, rej) => {
      pack.entry({ name, size: buf.length, mode: 0o644, mtime: new Date(0) }, buf, (e) => (e ? rej(e) : res()));
    });
    const addDir = (name: string) => new Promise<void>((res, rej) => {
      pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
    });
    await addDir('blobs/');
    await addDir('blobs/sha256/');
    const manifestJson: unknown[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const indexManifests: unknown[] = [];
    for (const { img, tags } of items) {
      const cfgBuf = await svc.d.content.readBuffer(img.id);
      const cfgHex = splitDigest(img.id).hex;
      if (!written.has(img.id)) { written.add(img.id); await addBuf(`blobs/sha256/${cfgHex}`, cfgBuf); }
      const layerPaths: string[] = [];
      for (const l of img.layers) {
        const hex = splitDigest(l.diffId).hex;
        layerPaths.push(`blobs/sha256/${hex}`);
        if (written.has(l.diffId)) continue;
        written.add(l.diffId);
        await new Promise<void>((res, rej) => {
          const entry = pack.entry({ name: `blobs/sha256/${hex}`, size: l.uncompressedSize, mode: 0o644, mtime: new Date(0) }, (e) => (e ? rej(e) : res()));
          const src = svc.d.content.createReadStream(l.digest);
          const c = compressionOf(l.mediaType) ?? 'gzip';
          pipeline(src, decompressor(c), entry).catch(rej);
        });
      }
      const ociManifest = {
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: img.id, size: cfgBuf.length },
        layers: img.layers.map((l) => ({ mediaType: MT.ociLayer, digest: l.diffId, size: l.uncompressedSize })),
      };
      const mBuf = Buffer.from(JSON.stringify(ociManifest));
      const mDigest = digestOf(mBuf);
      if (!written.has(mDigest)) { written.add(mDigest); await addBuf(`blobs/sha256/${splitDigest(mDigest).hex}`, mBuf); }
      manifestJson.push({ Config: `blobs/sha256/${cfgHex}`, RepoTags: tags, Layers: layerPaths });
      for (const t of tags) {
        const r = parseReference(t);
        (repositories[familiarName(r)] ??= {})[r.tag ?? 'latest'] = splitDigest(img.layers.at(-1)?.diffId ?? img.id).hex;
        indexManifests.push({
          mediaType: MT.ociManifest, digest: mDigest, size: mBuf.length,
          annotations: { 'io.containerd.image.name': `${r.domain}/${r.path}:${r.tag ?? 'latest'}`, 'org.opencontainers.image.ref.name': r.tag ?? 'latest' },
        });
      }
      if (tags.length === 0) indexManifests.push({ mediaType: MT.ociManifest, digest: mDigest, size: mBuf.length });
      svc.d.events.publish('image', 'save', img.id, { name: tags[0] ?? img.id });
    }
    await addBuf('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: indexManifests })));
    await addBuf('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await addBuf('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length > 0) await addBuf('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
  })().catch((e: unknown) => {
    log.error('save failed', { err: String(e) });
    pack.destroy(e as Error);
    out.destroy(e as Error);
  });
  return out;
}

// ---- load ----------------------------------------------------------------------------------------

/** Extract an archive safely into `dir` (regular files, dirs, and in-archive symlinks only). */
async function extractArchive(src: Readable, dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const ex = tar.extract();
  ex.on('entry', (h, stream, next) => {
    const name = normalize(h.name).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (name === '' || name === '.' || name.startsWith('..') || name.startsWith('/') || name.includes('/../')) {
      stream.resume(); next(); return;
    }
    const target = join(dir, name);
    if (h.type === 'directory') { fsp.mkdir(target, { recursive: true }).then(() => { stream.resume(); next(); }, next); return; }
    if (h.type === 'symlink' || h.type === 'link') {
      const to = h.type === 'symlink' ? normalize(join(dirname(name), h.linkname ?? '')) : normalize(h.linkname ?? '');
      links.set(name, to);
      stream.resume(); next(); return;
    }
    if (h.type !== 'file' && h.type !== 'contiguous-file') { stream.resume(); next(); return; }
    fsp.mkdir(dirname(target), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(target, { flags: 'wx' })))
      .then(() => next(), next);
  });
  await pipeline(src, ex);
  return links;
}

export async function loadImages(svc: ImageService, src: Readable, progress: Progress): Promise<string[]> {
  const dir = await tmpDir(svc, 'load');
  try {
    const links = await extractArchive(src, join(dir, 'a'));
    const root = join(dir, 'a');
    const resolve = (p: string): string => {
      let n = normalize(p).replace(/^(\.\/)+/, '');
      for (let i = 0; i < 16 && links.has(n); i++) n = links.get(n)!;
      if (n.startsWith('..') || n.startsWith('/')) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid path in archive: ${p}`);
      return join(root, n);
    };
    const readJsonIn = async <T>(p: string): Promise<T | undefined> => {
      try { return JSON.parse(await fsp.readFile(resolve(p), 'utf8')) as T; } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new BerthError('ERR_INVALID_ARGUMENT', `invalid JSON in archive: ${p}`);
      }
    };
    type Entry = { config: string; tags: string[]; layers: { path: string; mediaType?: string; digest?: string }[] };
    const entries: Entry[] = [];
    const manifest = await readJsonIn<{ Config: string; RepoTags: string[] | null; Layers: string[] }[]>('manifest.json');
    if (manifest) {
      for (const m of manifest) entries.push({ config: m.Config, tags: m.RepoTags ?? [], layers: m.Layers.map((p) => ({ path: p })) });
    } else {
      const idx = await readJsonIn<unknown>('index.json');
      if (!idx) throw new BerthError('ERR_INVALID_ARGUMENT', 'invalid archive: neither manifest.json nor index.json found');
      const blobPath = (d: string) => { const { algorithm, hex } = splitDigest(d); return `blobs/${algorithm}/${hex}`; };
      const walk = async (body: Buffer, mediaType: string, names: string[]): Promise<void> => {
        const parsed = parseManifest(body, mediaType);
        if (parsed.kind === 'index') {
          const ix = parsed.index;
          // Multi-platform archives load the host's image only, as Docker does.
          const pick = ix.manifests.some((d) => d.platform) ? [selectManifest(ix, defaultPlatform())] : ix.manifests;
          for (const d of pick) {
            const ann = d.annotations ?? {};
            const nm = ann['io.containerd.image.name'] ?? (ann['org.opencontainers.image.ref.name'] && tryParseReference(ann['org.opencontainers.image.ref.name']) && ann['org.opencontainers.image.ref.name'].includes(':') ? ann['org.opencontainers.image.ref.name'] : undefined);
            const buf = await fsp.readFile(resolve(blobPath(d.digest)));
            if (digestOf(buf) !== d.digest) throw new BerthError('ERR_DIGEST_MISMATCH', `digest mismatch in archive for ${d.digest}`);
            await walk(buf, d.mediaType, nm ? [...names, nm] : names);
          }
          return;
        }
        const m = parsed.manifest;
        entries.push({ config: blobPath(m.config.digest), tags: names.map((n) => familiarString(withDefaultTag(parseReference(n)))), layers: m.layers.map((l) => ({ path: blobPath(l.digest), mediaType: l.mediaType, digest: l.digest })) });
      };
      await walk(Buffer.from(JSON.stringify(idx)), MT.ociIndex, []);
    }
    const loaded: string[] = [];
    for (const e of entries) {
      const cfgBuf = await fsp.readFile(resolve(e.config));
      const id = digestOf(cfgBuf);
      const cfg = JSON.parse(cfgBuf.toString('utf8')) as Record<string, unknown>;
      const diffIds = (cfg.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? [];
      if (diffIds.length !== e.layers.length) throw new BerthError('ERR_INVALID_ARGUMENT', 'invalid archive: layer count does not match the image config');
      const chainIds = computeChainIds(diffIds);
      const layers: LayerRecord[] = [];
      for (let i = 0; i < e.layers.length; i++) {
        const l = e.layers[i]!;
        const file = resolve(l.path);
        const existing = svc.d.meta.list().flatMap((x) => x.layers).find((x) => x.chainId === chainIds[i]);
        if (existing && (await svc.d.snapshots.has(existing.chainId)) && (await svc.d.content.has(existing.digest))) { layers.push(existing); continue; }
        const kind = sniff(await headOf(file));
        const plain = join(dir, `layer-${i}.tar`);
        const { diffId, size } = await unpackToFile(createReadStream(file), plain);
        if (diffId !== diffIds[i]) throw new BerthError('ERR_DIGEST_MISMATCH', `invalid archive: layer ${l.path} has diff ID ${diffId}, config says ${diffIds[i]}`);
        let known;
        if (kind === 'gzip' || kind === 'zstd') {
          const st = await fsp.stat(file);
          const ds = new DigestStream();
          await pipeline(createReadStream(file), ds, new PassThrough().resume());
          known = { file, digest: ds.digest(), size: st.size, mediaType: kind === 'gzip' ? (l.mediaType ?? MT.dockerLayer) : (l.mediaType ?? MT.ociLayerZstd) };
        }
        layers.push(await storeLayer(svc, dir, plain, diffId, size, i > 0 ? chainIds[i - 1] : undefined, chainIds[i]!, known));
        await fsp.rm(plain, { force: true });
      }
      await svc.d.content.writeBuffer(cfgBuf, id);
      const prev = svc.d.meta.get(id);
      const rec: ImageRecord = prev ? { ...prev } : {
        id, config: cfg, configMediaType: MT.dockerConfig, layers, repoTags: [], repoDigests: [],
        created: (cfg.created as string | undefined) ?? new Date(0).toISOString(),
        size: layers.reduce((a, l) => a + l.uncompressedSize, 0), loadedAt: Date.now(),
      };
      await svc.d.meta.put(await svc.withContentSizes(rec));
      for (const t of e.tags) {
        const s = familiarString(withDefaultTag(parseReference(t)));
        const old = svc.find(s);
        if (old && old.id !== id) progress({ stream: `The image ${s} already exists, renaming the old one with ID ${old.id} to empty string\n` });
        await svc.setTag(rec, s);
        progress({ stream: `Loaded image: ${s}\n` });
        loaded.push(s);
        svc.d.events.publish('image', 'load', id, { name: s });
      }
      if (e.tags.length === 0) {
        progress({ stream: `Loaded image ID: ${id}\n` });
        loaded.push(id);
        svc.d.events.publish('image', 'load', id, { name: id });
      }
    }
    return loaded;
  } catch (e) {
    if (isBerthError(e)) throw e;
    throw new BerthError('ERR_INVALID_ARGUMENT', `failed to load archive: ${(e as Error).message}`, { cause: e });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

export { isDigest };

export { applyChanges };
