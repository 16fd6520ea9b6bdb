// Image manifests and indexes (Docker schema2 and OCI): types, strict parsing, platform selection.
// Pure code: the registry client and the engine feed it bytes.
import { createHash } from 'node:crypto';
import { BerthError } from '../errors/index.js';
import { isDigest } from '../util/digest.js';
import { MediaTypes, isIndexType, isManifestType, SCHEMA1_TYPES } from './media-types.js';
import { formatPlatform, normalizePlatform, type Platform } from './platform.js';

export const MAX_MANIFEST_BYTES = 4 << 20;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  /** Embedded content (base64), checked against digest and size. */
  data?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

function bad(msg: string): BerthError {
  return new BerthError('ERR_REGISTRY', msg);
}

export function schema1Error(): BerthError {
  return new BerthError('ERR_NOT_IMPLEMENTED',
    'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. ' +
    'Suggest the author of the image to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2.');
}

export function validateDescriptor(d: unknown, where = 'descriptor'): Descriptor {
  if (typeof d !== 'object' || d === null) throw bad(`invalid ${where}: not an object`);
  const x = d as Record<string, unknown>;
  if (typeof x.mediaType !== 'string' || x.mediaType.length === 0 || x.mediaType.length > 255) throw bad(`invalid ${where}: bad mediaType`);
  if (!isDigest(x.digest)) throw bad(`invalid ${where}: bad digest`);
  if (typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0) throw bad(`invalid ${where}: bad size`);
  if (x.urls !== undefined && (!Array.isArray(x.urls) || x.urls.some((u) => typeof u !== 'string'))) throw bad(`invalid ${where}: bad urls`);
  if (x.data !== undefined) {
    // Embedded content must be exactly what the digest and size claim.
    if (typeof x.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(x.data)) throw bad(`invalid ${where}: bad data`);
    const bytes = Buffer.from(x.data, 'base64');
    const alg = (x.digest as string).slice(0, (x.digest as string).indexOf(':'));
    if (bytes.length !== x.size || `${alg}:${createHash(alg).update(bytes).digest('hex')}` !== x.digest) {
      throw bad(`invalid ${where}: data does not match digest and size`);
    }
  }
  if (x.platform !== undefined) {
    const p = x.platform as Record<string, unknown>;
    if (typeof p !== 'object' || p === null || typeof p.os !== 'string' || typeof p.architecture !== 'string' ||
        (p.variant !== undefined && typeof p.variant !== 'string')) throw bad(`invalid ${where}: bad platform`);
  }
  return x as unknown as Descriptor;
}

/**
 * Parse a manifest or index. `contentType` is the HTTP Content-Type (or stored media type) when known;
 * the document's own mediaType field wins when present and must agree with it.
 */
export function parseManifest(body: Buffer | string, contentType?: string): ParsedManifest {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (size > MAX_MANIFEST_BYTES) throw bad(`manifest too large (${size} bytes)`);
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  if (ct !== undefined && SCHEMA1_TYPES.includes(ct)) throw schema1Error();
  let doc: unknown;
  try { doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')); } catch {
    throw bad('invalid manifest: not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('invalid manifest: not an object');
  // Parsers disagree on which duplicate wins, so two readers could see two different images.
  const dup = duplicateKey(typeof body === 'string' ? body : body.toString('utf8'));
  if (dup !== undefined) throw bad(`invalid manifest: duplicate key ${JSON.stringify(dup)}`);
  const m = doc as Record<string, unknown>;
  if (m.schemaVersion === 1) throw schema1Error();
  if (m.schemaVersion !== 2) throw bad(`unsupported manifest schemaVersion ${String(m.schemaVersion)}`);
  const hasManifests = m.manifests !== undefined;
  const hasLayers = m.layers !== undefined || m.config !== undefined;
  // A document that claims to be both is ambiguous (a known confusion attack): refuse it.
  if (hasManifests && hasLayers) throw bad('invalid manifest: both "manifests" and "layers"/"config" present');
  let mediaType = typeof m.mediaType === 'string' ? m.mediaType : undefined;
  if (mediaType !== undefined && ct !== undefined && isKnown(ct) && ct !== mediaType) {
    throw bad(`manifest media type mismatch: ${ct} vs ${mediaType}`);
  }
  mediaType ??= ct !== undefined && isKnown(ct) ? ct : undefined;
  if (hasManifests) {
    if (mediaType !== undefined && !isIndexType(mediaType)) throw bad(`invalid index: media type ${mediaType}`);
    if (!Array.isArray(m.manifests)) throw bad('invalid index: manifests is not a list');
    m.manifests.forEach((d, i) => validateDescriptor(d, `index entry ${i}`));
    return { kind: 'index', mediaType: mediaType ?? MediaTypes.ociIndex, index: m as unknown as ImageIndex };
  }
  if (!hasLayers) throw bad(`unsupported manifest format${mediaType ? ` ${mediaType}` : ''}`);
  if (mediaType !== undefined && !isManifestType(mediaType)) throw bad(`unsupported manifest media type ${mediaType}`);
  validateDescriptor(m.config, 'config descriptor');
  if (!Array.isArray(m.layers)) throw bad('invalid manifest: layers is not a list');
  m.layers.forEach((d, i) => validateDescriptor(d, `layer ${i}`));
  return { kind: 'manifest', mediaType: mediaType ?? MediaTypes.ociManifest, manifest: m as unknown as ImageManifest };
}

function isKnown(t: string): boolean {
  return isManifestType(t) || isIndexType(t);
}

/** Docker's wording when no index entry fits. */
export function noMatchingManifest(want: Platform): BerthError {
  return new BerthError('ERR_NOT_FOUND', `no matching manifest for ${formatPlatform(normalizePlatform(want))} in the manifest list entries`);
}

/**
 * Pick the image manifest for `want` from an index: exact variant first, then an entry without variant,
 * then (for arm) the highest compatible lower variant. Attestations and nested indexes are skipped.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const w = normalizePlatform(want);
  const cands = index.manifests.filter((d) => {
    if (!isManifestType(d.mediaType) || !d.platform?.os || !d.platform.architecture) return false;
    const h = normalizePlatform(d.platform);
    return h.os === w.os && h.architecture === w.architecture;
  });
  const norm = (d: Descriptor) => normalizePlatform(d.platform!);
  const exact = cands.find((d) => norm(d).variant === w.variant);
  if (exact) return exact;
  if (w.variant === undefined) {
    const any = cands[0];
    if (any) return any;
  } else {
    const noVariant = cands.find((d) => norm(d).variant === undefined);
    if (noVariant) return noVariant;
    // arm v7 can run v6 and v5 images: take the highest lower one.
    const wantN = Number.parseInt(w.variant.replace(/^v/, ''), 10);
    const lower = cands
      .map((d) => ({ d, n: Number.parseInt((norm(d).variant ?? '').replace(/^v/, ''), 10) }))
      .filter((x) => Number.isInteger(x.n) && Number.isInteger(wantN) && x.n < wantN && w.architecture === 'arm')
      .sort((a, b) => b.n - a.n);
    if (lower[0]) return lower[0].d;
  }
  throw noMatchingManifest(w);
}

/** First duplicated object key in a (valid) JSON text, if any. */
export function duplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []; // a Set per open object, null per array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') { stack.push(new Set()); expectKey = true; }
    else if (ch === '[') { stack.push(null); expectKey = false; }
    else if (ch === '}' || ch === ']') { stack.pop(); expectKey = false; }
    else if (ch === ',') expectKey = stack[stack.length - 1] instanceof Set;
  }
  return undefined;
}
