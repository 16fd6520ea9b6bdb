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
  if (x.artifactType !== undefined && typeof x.artifactType !== 'string') throw bad(`invalid ${where}: bad artifactType`);
  if (x.annotations !== undefined && !isAnnotations(x.annotations)) throw bad(`invalid ${where}: bad annotations`);
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

/** Annotations are a flat object of strings. */
export function isAnnotations(a: unknown): a is Record<string, string> {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && Object.values(a).every((v) => typeof v === 'string');
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
  const problem = jsonShapeProblem(typeof body === 'string' ? body : body.toString('utf8'));
  if (problem !== undefined) throw bad(`invalid manifest: ${problem}`);
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

/** Parse bytes that must be an image manifest (an index is an error here). */
export function parseImageManifest(body: Buffer | string, contentType?: string): ImageManifest {
  const p = parseManifest(body, contentType);
  if (p.kind !== 'manifest') throw bad('expected an image manifest, got an index');
  return p.manifest;
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

/**
 * What makes a (valid) JSON text ambiguous or abusive, if anything: a duplicated object key (parsers
 * disagree on which one wins, so two readers could see two different images) or nesting deeper than
 * `maxDepth`. The text is already known to parse, so this only tracks strings, keys and depth.
 */
export function jsonShapeProblem(text: string, maxDepth = 32): string | undefined {
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++; else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return `duplicate key ${JSON.stringify(key).slice(0, 100)}`;
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return 'nested too deeply';
      stack.push({ keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}
