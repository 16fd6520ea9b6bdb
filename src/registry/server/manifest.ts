// Manifest parsing and validation: a manifest is accepted only when it is well-formed JSON of its
// declared media type, unambiguous (no duplicate keys, not both an index and an image) and bounded.
import { isDigest, digestOf, type Algorithm } from '../../util/digest.js';
import { regError } from './errors.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MANIFEST_TYPES = new Set([OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST]);
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST]);
// Layers that live elsewhere by design; their blobs are not required in the repository.
const FOREIGN_LAYERS = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);
const MAX_DEPTH = 32;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  data?: string;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs (config, layers) that must exist in the repository. */
  blobs: string[];
  /** Child manifests (index entries) that must exist in the repository. */
  manifests: string[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export function isIndexType(mt: string): boolean { return INDEX_TYPES.has(mt); }

/** Content-Type without parameters, lowercased. */
export function bareType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}

const invalid = (msg: string) => regError('ERR_REG_MANIFEST_INVALID', msg);

export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  const text = body.toString('utf8');
  try { doc = JSON.parse(text); } catch { throw invalid('manifest is not valid JSON'); }
  checkStructure(text);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('manifest must be a JSON object');
  const m = doc as Record<string, unknown>;
  if (m.schemaVersion !== 2) throw invalid('unsupported schemaVersion');
  if (m.mediaType !== undefined && typeof m.mediaType !== 'string') throw invalid('mediaType must be a string');
  const ct = bareType(contentType);
  let mediaType: string;
  if (ct && MANIFEST_TYPES.has(ct)) {
    mediaType = ct;
    if (m.mediaType !== undefined && m.mediaType !== ct) throw invalid('mediaType does not match Content-Type');
  } else if (typeof m.mediaType === 'string' && MANIFEST_TYPES.has(m.mediaType)) {
    mediaType = m.mediaType;
  } else if (!ct || ct === 'application/json' || ct === 'application/octet-stream') {
    // OCI documents may omit mediaType; infer from the shape.
    mediaType = m.manifests !== undefined ? OCI_INDEX : OCI_MANIFEST;
  } else {
    throw invalid(`unsupported manifest media type ${JSON.stringify(ct).slice(0, 200)}`);
  }
  if (m.manifests !== undefined && (m.layers !== undefined || m.config !== undefined)) {
    throw invalid('manifest has both "manifests" and "layers"/"config"');
  }
  const out: ParsedManifest = { mediaType, blobs: [], manifests: [] };
  if (m.artifactType !== undefined) {
    if (typeof m.artifactType !== 'string') throw invalid('artifactType must be a string');
    out.artifactType = m.artifactType;
  }
  if (m.annotations !== undefined) out.annotations = checkAnnotations(m.annotations);
  if (m.subject !== undefined) out.subject = checkDescriptor(m.subject, 'subject');
  if (isIndexType(mediaType)) {
    if (!Array.isArray(m.manifests)) throw invalid('index must have a "manifests" array');
    for (const [i, d] of m.manifests.entries()) {
      const desc = checkDescriptor(d, `manifests[${i}]`);
      out.manifests.push(desc.digest);
    }
  } else {
    if (m.manifests !== undefined) throw invalid('image manifest must not have "manifests"');
    const config = checkDescriptor(m.config, 'config');
    out.blobs.push(config.digest);
    if (!out.artifactType && mediaType === OCI_MANIFEST) out.artifactType = config.mediaType;
    if (!Array.isArray(m.layers)) throw invalid('manifest must have a "layers" array');
    for (const [i, l] of m.layers.entries()) {
      const desc = checkDescriptor(l, `layers[${i}]`);
      if (!FOREIGN_LAYERS.has(desc.mediaType)) out.blobs.push(desc.digest);
    }
  }
  return out;
}

function checkAnnotations(a: unknown): Record<string, string> {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw invalid('annotations must be an object');
  for (const v of Object.values(a)) if (typeof v !== 'string') throw invalid('annotation values must be strings');
  return a as Record<string, string>;
}

export function checkDescriptor(d: unknown, where: string): Descriptor {
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw invalid(`${where}: descriptor must be an object`);
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== 'string' || o.mediaType.length === 0 || o.mediaType.length > 255) {
    throw invalid(`${where}: invalid mediaType`);
  }
  if (!isDigest(o.digest)) throw invalid(`${where}: invalid digest`);
  if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw invalid(`${where}: invalid size`);
  if (o.artifactType !== undefined && typeof o.artifactType !== 'string') throw invalid(`${where}: invalid artifactType`);
  if (o.annotations !== undefined) checkAnnotations(o.annotations);
  if (o.data !== undefined) {
    if (typeof o.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.data)) throw invalid(`${where}: invalid data`);
    const bytes = Buffer.from(o.data, 'base64');
    const alg = o.digest.slice(0, o.digest.indexOf(':')) as Algorithm;
    if (bytes.length !== o.size || digestOf(bytes, alg) !== o.digest) throw invalid(`${where}: data does not match digest/size`);
  }
  return o as unknown as Descriptor;
}

/** Rejects duplicate object keys (ambiguous between parsers) and excessive nesting. The text is
 *  already known to be valid JSON, so this scanner only tracks strings, keys and depth. */
export function checkStructure(text: string): void {
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
      if (top && top.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) throw invalid(`duplicate key ${JSON.stringify(key).slice(0, 100)}`);
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) throw invalid('manifest is nested too deeply');
      stack.push({ keys: c === 0x7b ? new Set() : null, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top && top.keys) top.expectKey = true;
    }
  }
}
