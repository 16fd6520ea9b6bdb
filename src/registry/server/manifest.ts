// Manifest parsing and validation: a manifest is accepted only when it is well-formed JSON of its
// declared media type, unambiguous (no duplicate keys, not both an index and an image) and bounded.
// The descriptor rules and the JSON shape check are the image format's own (src/oci); this module
// adds what a registry decides: media type from Content-Type, which blobs must exist, referrers.
import { isAnnotations, jsonShapeProblem, validateDescriptor, type Descriptor } from '../../oci/manifest.js';
import { INDEX_TYPES, MANIFEST_ACCEPT, MediaTypes } from '../../oci/media-types.js';
import { regError } from './errors.js';

export type { Descriptor };
export const OCI_MANIFEST = MediaTypes.ociManifest;
export const OCI_INDEX = MediaTypes.ociIndex;
export const MANIFEST_TYPES: ReadonlySet<string> = new Set(MANIFEST_ACCEPT);
// Layers that live elsewhere by design; their blobs are not required in the repository.
const FOREIGN_LAYERS = new Set([
  MediaTypes.dockerForeignLayer,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

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

export function isIndexType(mt: string): boolean { return INDEX_TYPES.includes(mt); }

/** Content-Type without parameters, lowercased. */
export function bareType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}

const invalid = (msg: string) => regError('ERR_REG_MANIFEST_INVALID', msg);

export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  const text = body.toString('utf8');
  try { doc = JSON.parse(text); } catch { throw invalid('manifest is not valid JSON'); }
  const problem = jsonShapeProblem(text);
  if (problem !== undefined) throw invalid(problem === 'nested too deeply' ? 'manifest is nested too deeply' : problem);
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
  if (m.annotations !== undefined) {
    if (!isAnnotations(m.annotations)) throw invalid('annotations must be an object of strings');
    out.annotations = m.annotations;
  }
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

export function checkDescriptor(d: unknown, where: string): Descriptor {
  try {
    return validateDescriptor(d, where);
  } catch (e) {
    throw invalid((e as Error).message);
  }
}
