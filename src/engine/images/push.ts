// Push: blobs the registry lacks (HEAD first), cross-repository mounts on the same registry when
// another repository there is known to hold the blob, then the manifest.
import { BerthError } from '../../errors/index.js';
import { progressBar } from '../../api/progress.js';
import { familiarName, formatReference, parseReference, type Reference } from '../../oci/reference.js';
import { digestOf, shortId } from '../../util/digest.js';
import { Transform } from 'node:stream';
import type { ImageRecord } from '../../store/metadata/index.js';
import type { RegistryLike, RegistryOptions } from './deps.js';
import { parseImageManifest } from '../../oci/manifest.js';
import { MediaTypes as MT } from '../../oci/media-types.js';
import type { ImageService, Progress } from './service.js';

export interface PushOptions {
  credentials?: RegistryOptions['credentials'];
  progress: Progress;
}

/** Push `name` (tag given or all tags of the repository). */
export async function pushImage(svc: ImageService, name: string, tag: string | undefined, opts: PushOptions): Promise<void> {
  const base = parseReference(name);
  const repoFamiliar = familiarName(base);
  const tags: string[] = [];
  if (tag) tags.push(tag);
  else if (base.tag) tags.push(base.tag);
  else {
    for (const i of svc.d.meta.list()) for (const t of i.repoTags) {
      if (t.replace(/:[^:/]+$/, '') === repoFamiliar) tags.push(t.slice(repoFamiliar.length + 1));
    }
    if (tags.length === 0) throw new BerthError('ERR_NO_SUCH_IMAGE', `An image does not exist locally with the tag: ${repoFamiliar}`);
  }
  opts.progress({ status: `The push refers to repository [${base.domain === 'docker.io' ? 'docker.io/' + base.path : `${base.domain}/${base.path}`}]` });
  const reg = svc.d.registry({ insecureRegistries: svc.d.insecureRegistries, credentials: opts.credentials });
  try {
    for (const t of tags) {
      const ref: Reference = { domain: base.domain, path: base.path, tag: t };
      const img = svc.find(`${repoFamiliar}:${t}`);
      if (!img) throw new BerthError('ERR_NO_SUCH_IMAGE', `An image does not exist locally with the tag: ${repoFamiliar}:${t}`);
      await pushOne(svc, reg, ref, img, opts.progress);
    }
  } finally {
    await reg.close?.().catch(() => {});
  }
}

async function pushOne(svc: ImageService, reg: RegistryLike, ref: Reference, img: ImageRecord, progress: Progress): Promise<void> {
  const { domain, path: repo } = ref;
  const { body, mediaType } = await manifestFor(svc, img);
  const layers = [...img.layers].reverse();
  for (const l of layers) progress({ status: 'Preparing', progressDetail: {}, id: shortId(l.diffId) });
  for (const l of layers) {
    const id = shortId(l.diffId);
    if (await reg.hasBlob(domain, repo, l.digest)) { progress({ status: 'Layer already exists', progressDetail: {}, id }); continue; }
    const from = mountSource(svc, domain, repo, l.digest);
    if (from && (await reg.mountBlob(domain, repo, l.digest, from).catch(() => false))) {
      progress({ status: `Mounted from ${from}`, progressDetail: {}, id });
      continue;
    }
    progress({ status: 'Waiting', progressDetail: {}, id });
    let last = 0;
    await reg.pushBlob(domain, repo, l.digest, l.size, () => {
      let n = 0;
      const meter = new Transform({
        transform(c: Buffer, _e, cb) {
          n += c.length;
          const now = Date.now();
          if (now - last > 100) { last = now; progress({ status: 'Pushing', progressDetail: { current: n, total: l.size }, progress: progressBar(n, l.size), id }); }
          cb(null, c);
        },
      });
      const src = svc.d.content.createReadStream(l.digest);
      src.on('error', (e) => meter.destroy(e));
      return src.pipe(meter);
    });
    progress({ status: 'Pushed', progressDetail: {}, id });
  }
  if (!(await reg.hasBlob(domain, repo, img.id))) {
    const cfg = await svc.d.content.readBuffer(img.id);
    await reg.pushBlob(domain, repo, img.id, cfg.length, async () => {
      const { Readable } = await import('node:stream');
      return Readable.from([cfg]);
    });
  }
  await reg.putManifest(formatReference(ref), mediaType, body);
  const digest = digestOf(body);
  if (!(await svc.d.content.has(digest))) await svc.d.content.writeBuffer(body, digest);
  const fresh = svc.d.meta.get(img.id)!;
  const rd = `${familiarName(ref)}@${digest}`;
  await svc.d.meta.put({
    ...fresh,
    manifestDigest: fresh.manifestDigest ?? digest,
    manifestMediaType: fresh.manifestMediaType ?? mediaType,
    repoDigests: fresh.repoDigests.includes(rd) ? fresh.repoDigests : [...fresh.repoDigests, rd],
  });
  progress({ status: `${ref.tag}: digest: ${digest} size: ${body.length}` });
  progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: body.length } });
  svc.d.events.publish('image', 'push', `${familiarName(ref)}:${ref.tag}`, { name: `${familiarName(ref)}:${ref.tag}` });
}

/** Another repository on the same registry that received this blob from us or gave it to us. */
function mountSource(svc: ImageService, domain: string, repo: string, digest: string): string | undefined {
  for (const i of svc.d.meta.list()) {
    if (!i.layers.some((l) => l.digest === digest)) continue;
    for (const rd of i.repoDigests) {
      const r = parseReference(rd);
      if (r.domain === domain && r.path !== repo) return r.path;
    }
  }
  return undefined;
}

/** The stored manifest when it describes exactly this image, else a fresh one. */
async function manifestFor(svc: ImageService, img: ImageRecord): Promise<{ body: Buffer; mediaType: string }> {
  if (img.manifestDigest && img.manifestMediaType && (await svc.d.content.has(img.manifestDigest))) {
    const body = await svc.d.content.readBuffer(img.manifestDigest);
    try {
      const m = parseImageManifest(body, img.manifestMediaType);
      if (m.config.digest === img.id && m.layers.length === img.layers.length && m.layers.every((l, i) => l.digest === img.layers[i]!.digest)) {
        return { body, mediaType: img.manifestMediaType };
      }
    } catch { /* fall through to a new manifest */ }
  }
  const oci = img.layers.some((l) => l.mediaType.startsWith('application/vnd.oci.')) || img.configMediaType === MT.ociConfig;
  const cfgBuf = await svc.d.content.readBuffer(img.id);
  const mediaType = oci ? MT.ociManifest : MT.dockerManifest;
  const m = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, digest: img.id, size: cfgBuf.length },
    layers: img.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  return { body: Buffer.from(JSON.stringify(m)), mediaType };
}
