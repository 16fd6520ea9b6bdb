// GET /distribution/{name}/json: the registry's descriptor of a reference and the platforms it
// offers, as Docker answers it: an index lists its entries' platforms; a single manifest gets the
// platform written in its image config (none when the config names neither os nor architecture).
import { BerthError, isBerthError } from '../../errors/index.js';
import { formatReference, type Reference } from '../../oci/reference.js';
import { digestOf } from '../../util/digest.js';
import type { RegistryLike } from './deps.js';
import { parseManifest } from '../../oci/manifest.js';

const CONFIG_CAP = 8 << 20;

/** The platform fields Docker reports, empty ones left out. */
type PlatformOut = { architecture: string; os: string; 'os.version'?: string; 'os.features'?: string[]; variant?: string };

function platformOf(p: Record<string, unknown>): PlatformOut {
  const out: PlatformOut = { architecture: typeof p.architecture === 'string' ? p.architecture : '', os: typeof p.os === 'string' ? p.os : '' };
  if (typeof p['os.version'] === 'string' && p['os.version']) out['os.version'] = p['os.version'];
  if (Array.isArray(p['os.features']) && p['os.features'].length) out['os.features'] = p['os.features'].filter((f): f is string => typeof f === 'string');
  if (typeof p.variant === 'string' && p.variant) out.variant = p.variant;
  return out;
}

export async function distributionInspect(reg: RegistryLike, ref: Reference): Promise<Record<string, unknown>> {
  let m: Awaited<ReturnType<RegistryLike['getManifest']>>;
  try {
    m = await reg.getManifest(formatReference(ref));
  } catch (e) {
    // Docker answers here with the registry's words alone, without the pull's "manifest for X not found:"
    const inner = isBerthError(e, 'ERR_NOT_FOUND') ? /^manifest for \S+ not found: (.*)$/s.exec(e.message)?.[1] : undefined;
    throw inner ? new BerthError('ERR_NOT_FOUND', inner, { cause: e }) : e;
  }
  if (ref.digest && m.digest !== ref.digest && digestOf(m.body) !== ref.digest) {
    throw new BerthError('ERR_DIGEST_MISMATCH', `manifest digest mismatch for ${ref.digest}`);
  }
  const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.body.length };
  let parsed: ReturnType<typeof parseManifest>;
  try { parsed = parseManifest(m.body, m.mediaType); } catch { throw new BerthError('ERR_REGISTRY', `invalid manifest for ${formatReference(ref)}`); }
  const platforms: PlatformOut[] = [];
  if (parsed.kind === 'index') {
    for (const d of parsed.index.manifests) {
      if (d.platform) platforms.push(platformOf(d.platform as unknown as Record<string, unknown>));
    }
  } else {
    const cfg = await readConfig(reg, ref, parsed.manifest.config.digest);
    if (cfg) {
      const p = platformOf(cfg);
      if (p.os || p.architecture) platforms.push(p);
    }
  }
  return { Descriptor: descriptor, Platforms: platforms };
}

/** The image config, verified; undefined when it cannot be read (Docker then lists no platform). */
async function readConfig(reg: RegistryLike, ref: Reference, digest: string): Promise<Record<string, unknown> | undefined> {
  try {
    const s = await reg.getBlob(ref.domain, ref.path, digest);
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of s) {
      parts.push(c as Buffer);
      n += (c as Buffer).length;
      if (n > CONFIG_CAP) { s.destroy(); return undefined; }
    }
    const buf = Buffer.concat(parts);
    if (digestOf(buf) !== digest) return undefined;
    const cfg = JSON.parse(buf.toString('utf8')) as unknown;
    return cfg && typeof cfg === 'object' && !Array.isArray(cfg) ? cfg as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
