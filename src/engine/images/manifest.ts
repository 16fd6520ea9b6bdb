// Just enough manifest handling for the engine: parse, pick a platform from an index.
import { BerthError } from '../../errors/index.js';
import { assertDigest } from '../../util/digest.js';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest { schemaVersion: number; mediaType?: string; config: Descriptor; layers: Descriptor[] }
export interface ImageIndex { schemaVersion: number; mediaType?: string; manifests: Descriptor[] }

export function isIndex(mediaType: string, body: unknown): boolean {
  if (mediaType === MT.dockerList || mediaType === MT.ociIndex) return true;
  return typeof body === 'object' && body !== null && Array.isArray((body as ImageIndex).manifests);
}

function checkDesc(d: unknown): Descriptor {
  const x = d as Descriptor;
  if (!x || typeof x !== 'object' || typeof x.mediaType !== 'string' || typeof x.size !== 'number') {
    throw new BerthError('ERR_REGISTRY', 'invalid descriptor in manifest');
  }
  assertDigest(x.digest);
  return x;
}

export function parseManifest(body: Buffer): ImageManifest {
  const m = JSON.parse(body.toString('utf8')) as ImageManifest;
  if (!m || m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new BerthError('ERR_REGISTRY', 'unsupported manifest format');
  }
  checkDesc(m.config);
  m.layers.forEach(checkDesc);
  return m;
}

export function parseIndex(body: Buffer): ImageIndex {
  const m = JSON.parse(body.toString('utf8')) as ImageIndex;
  if (!m || !Array.isArray(m.manifests)) throw new BerthError('ERR_REGISTRY', 'invalid image index');
  m.manifests.forEach(checkDesc);
  return m;
}

export interface Platform { os: string; architecture: string; variant?: string }

export function parsePlatform(s: string | undefined): Platform {
  if (!s) return { os: 'linux', architecture: 'amd64' };
  const [os = 'linux', architecture = 'amd64', variant] = s.toLowerCase().split('/');
  const arch = architecture === 'x86_64' || architecture === 'x86-64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture;
  return variant ? { os, architecture: arch, variant } : { os, architecture: arch };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Pick the manifest for `want` from an index (exact variant first, then any variant). */
export function selectPlatform(idx: ImageIndex, want: Platform): Descriptor | undefined {
  const cands = idx.manifests.filter((d) => d.platform && d.platform.os === want.os && d.platform.architecture === want.architecture &&
    d.mediaType !== 'application/vnd.in-toto+json');
  if (want.variant) return cands.find((d) => d.platform!.variant === want.variant) ?? cands.find((d) => !d.platform!.variant);
  return cands.find((d) => !d.platform!.variant || (want.architecture === 'arm64' && d.platform!.variant === 'v8')) ?? cands[0];
}
