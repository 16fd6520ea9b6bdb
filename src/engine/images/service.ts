// The image side of the engine: lookup, list, inspect, tag, remove, prune, plus the wiring of
// pull/push/import/save/load (in their own files) over the content store, snapshotter and registry.
import { BerthError, errors } from '../../errors/index.js';
import type { Filters } from '../../api/query.js';
import { matchLabels, validateFilters } from '../../api/query.js';
import type { ProgressMessage } from '../../api/progress.js';
import { familiarName, familiarString, parseReference, tryParseReference, withDefaultTag, type Reference } from '../../oci/reference.js';
import { shortId } from '../../util/digest.js';
import { log } from '../../util/log.js';
import type { EventBus } from '../events.js';
import type { ImageRecord, LayerRecord, MetadataStore } from '../../store/metadata/index.js';
import type { ContentStoreLike, RegistryFactory, SnapshotterLike } from './deps.js';

export type Progress = (m: ProgressMessage) => void;

/** Filled by the container side: which containers use an image. */
export type ImageUsage = (imageId: string) => Promise<{ id: string; running: boolean }[]> | { id: string; running: boolean }[];

export interface ImageServiceDeps {
  meta: MetadataStore;
  content: ContentStoreLike;
  snapshots: SnapshotterLike;
  registry: RegistryFactory;
  events: EventBus;
  insecureRegistries: string[];
  tmpDir: string;
}

/** Docker's familiar string for a reference, with "latest" added when it has no tag/digest. */
export function familiarTagged(ref: Reference): string {
  return familiarString(withDefaultTag(ref));
}

export class ImageService {
  readonly d: ImageServiceDeps;
  /** Hook for the container code: images used by containers cannot be removed. */
  usage: ImageUsage = () => [];
  private locks = new Map<string, Promise<unknown>>();

  constructor(deps: ImageServiceDeps) {
    this.d = deps;
  }

  /** Serialise work on one key (layer chain ID, blob digest, image ID) across concurrent requests. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const chain = prev.then(() => mine);
    this.locks.set(key, chain);
    await prev.catch(() => {});
    try { return await fn(); } finally {
      release();
      if (this.locks.get(key) === chain) this.locks.delete(key);
    }
  }

  // ---- lookup ---------------------------------------------------------------------------------

  /** Find an image by reference (name[:tag][@digest]), full ID, or unambiguous ID prefix. */
  find(name: string): ImageRecord | undefined {
    const images = this.d.meta.list();
    let hex: string | undefined;
    if (/^sha256:[a-f0-9]{1,64}$/.test(name)) hex = name.slice(7);
    else if (/^[a-f0-9]{64}$/.test(name)) hex = name;
    if (hex === undefined || hex.length < 64) {
      const ref = tryParseReference(name);
      if (ref) {
        if (ref.digest) {
          const s = `${familiarName(ref)}@${ref.digest}`;
          const hit = images.find((i) => i.repoDigests.includes(s));
          if (hit) return hit;
          if (ref.tag === undefined) {
            // Docker also resolves name@<config digest>.
            const byId = this.d.meta.get(ref.digest);
            if (byId) return byId;
          }
          return undefined;
        }
        const s = familiarTagged(ref);
        const hit = images.find((i) => i.repoTags.includes(s));
        if (hit) return hit;
      }
      if (hex === undefined && /^[a-f0-9]{1,63}$/.test(name)) hex = name;
    }
    if (hex === undefined) return undefined;
    if (hex.length === 64) return this.d.meta.get(`sha256:${hex}`);
    const matches = images.filter((i) => i.id.slice(7).startsWith(hex!));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new BerthError('ERR_INVALID_ARGUMENT', `ambiguous image reference: ${name}`);
    return undefined;
  }

  /** Like find, but throws Docker's "No such image" error. */
  get(name: string): ImageRecord {
    const img = this.find(name);
    if (!img) throw notFound(name);
    return img;
  }

  // ---- list / inspect ---------------------------------------------------------------------------

  async list(opts: { all?: boolean; filters?: Filters; digests?: boolean }): Promise<Record<string, unknown>[]> {
    const f = opts.filters ?? new Map();
    validateFilters(f, ['reference', 'dangling', 'label', 'before', 'since', 'until']);
    let imgs = this.d.meta.list();
    const dangling = f.get('dangling');
    if (dangling && dangling.size > 0) {
      const want = [...dangling][0]!.toLowerCase();
      if (!['true', 'false', '1', '0'].includes(want)) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid filter 'dangling=${want}'`);
      const d = want === 'true' || want === '1';
      imgs = imgs.filter((i) => (i.repoTags.length === 0) === d);
    }
    const before = f.get('before');
    if (before && before.size > 0) {
      for (const b of before) { const r = this.get(b); imgs = imgs.filter((i) => i.loadedAt < r.loadedAt); }
    }
    const since = f.get('since');
    if (since && since.size > 0) {
      for (const b of since) { const r = this.get(b); imgs = imgs.filter((i) => i.loadedAt > r.loadedAt); }
    }
    const labels = f.get('label');
    if (labels && labels.size > 0) imgs = imgs.filter((i) => matchLabels(labels, this.labelsOf(i)));
    const refs = f.get('reference');
    let tagFilter: ((t: string) => boolean) | undefined;
    if (refs && refs.size > 0) {
      const pats = [...refs].map(globToRegExp);
      tagFilter = (t: string) => {
        const noTag = t.replace(/:[^:/]+$/, '');
        return pats.some((p) => p.test(t) || p.test(noTag));
      };
      imgs = imgs.filter((i) => i.repoTags.some(tagFilter!) || i.repoDigests.some((d) => pats.some((p) => p.test(d) || p.test(d.split('@')[0]!))));
    }
    const usage = new Map<string, number>();
    imgs.sort((a, b) => b.loadedAt - a.loadedAt);
    const out: Record<string, unknown>[] = [];
    for (const i of imgs) {
      const users = await this.usage(i.id);
      usage.set(i.id, users.length);
      const tags = tagFilter ? i.repoTags.filter(tagFilter) : i.repoTags;
      out.push({
        Id: i.id,
        ParentId: i.parent ?? '',
        RepoTags: tags,
        RepoDigests: i.repoDigests,
        Created: Math.floor(Date.parse(i.created) / 1000) || 0,
        Size: i.size,
        SharedSize: -1,
        VirtualSize: i.size,
        Labels: this.labelsOf(i) ?? {},
        Containers: users.length,
      });
    }
    return out;
  }

  labelsOf(i: ImageRecord): Record<string, string> | null {
    const c = (i.config.config ?? i.config.container_config) as { Labels?: Record<string, string> | null } | undefined;
    return c?.Labels ?? null;
  }

  inspect(name: string): Record<string, unknown> {
    const i = this.get(name);
    const cfg = i.config as Record<string, unknown>;
    const c = (cfg.config ?? {}) as Record<string, unknown>;
    return {
      Id: i.id,
      RepoTags: i.repoTags,
      RepoDigests: i.repoDigests,
      Parent: i.parent ?? '',
      Comment: i.comment ?? (Array.isArray(cfg.history) && cfg.history.length > 0 ? ((cfg.history as { comment?: string }[]).at(-1)?.comment ?? '') : ''),
      Created: i.created,
      DockerVersion: (cfg.docker_version as string | undefined) ?? '',
      Author: (cfg.author as string | undefined) ?? '',
      Config: imageConfigForApi(c),
      Architecture: (cfg.architecture as string | undefined) ?? '',
      Variant: cfg.variant,
      Os: (cfg.os as string | undefined) ?? 'linux',
      Size: i.size,
      VirtualSize: i.size,
      GraphDriver: {
        Name: 'overlay2',
        Data: this.graphDriverData(i),
      },
      RootFS: { Type: 'layers', Layers: i.layers.map((l) => l.diffId) },
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      Descriptor: i.manifestDigest
        ? { mediaType: i.manifestMediaType, digest: i.manifestDigest, size: 0 }
        : undefined,
    };
  }

  private graphDriverData(i: ImageRecord): Record<string, string> {
    if (i.layers.length === 0) return {};
    const dirs = i.layers.map((l) => this.d.snapshots.path(l.chainId)).reverse();
    const out: Record<string, string> = { UpperDir: dirs[0]!, WorkDir: '' };
    if (dirs.length > 1) out.LowerDir = dirs.slice(1).join(':');
    out.MergedDir = '';
    return out;
  }

  history(name: string): Record<string, unknown>[] {
    const i = this.get(name);
    const hist = (Array.isArray(i.config.history) ? i.config.history : []) as {
      created?: string; created_by?: string; comment?: string; empty_layer?: boolean;
    }[];
    const out: Record<string, unknown>[] = [];
    let layer = i.layers.length - 1;
    const entries = hist.length > 0 ? hist : i.layers.map(() => ({} as { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }));
    for (let k = entries.length - 1; k >= 0; k--) {
      const h = entries[k]!;
      let size = 0;
      if (!h.empty_layer && layer >= 0) { size = layerSize(i.layers[layer]!); layer--; }
      out.push({
        Id: k === entries.length - 1 ? i.id : '<missing>',
        Created: Math.floor(Date.parse(h.created ?? i.created) / 1000) || 0,
        CreatedBy: h.created_by ?? '',
        Tags: k === entries.length - 1 ? i.repoTags : null,
        Size: size,
        Comment: h.comment ?? '',
      });
    }
    return out;
  }

  // ---- tag / remove -----------------------------------------------------------------------------

  /** Add a tag; moves it from whatever image held it. */
  async tag(source: string, repo: string, tag?: string): Promise<void> {
    const img = this.get(source);
    if (!repo) throw new BerthError('ERR_INVALID_ARGUMENT', 'repository name must have at least one component');
    const ref = parseReference(tag ? `${repo}:${tag}` : repo);
    if (ref.digest) throw new BerthError('ERR_INVALID_ARGUMENT', 'refusing to create a tag with a digest reference');
    const s = familiarTagged(ref);
    await this.setTag(img, s);
    this.d.events.publish('image', 'tag', img.id, { name: s });
  }

  /** Point tag `s` at `img`, removing it from any other image. */
  async setTag(img: ImageRecord, s: string): Promise<void> {
    for (const other of this.d.meta.list()) {
      if (other.id !== img.id && other.repoTags.includes(s)) {
        await this.d.meta.put({ ...other, repoTags: other.repoTags.filter((t) => t !== s) });
      }
    }
    const cur = this.d.meta.get(img.id) ?? img;
    if (!cur.repoTags.includes(s)) await this.d.meta.put({ ...cur, repoTags: [...cur.repoTags, s] });
  }

  async addRepoDigest(img: ImageRecord, s: string): Promise<void> {
    const cur = this.d.meta.get(img.id) ?? img;
    if (!cur.repoDigests.includes(s)) await this.d.meta.put({ ...cur, repoDigests: [...cur.repoDigests, s] });
  }

  async remove(name: string, opts: { force?: boolean; noprune?: boolean }): Promise<Record<string, string>[]> {
    const img = this.find(name);
    if (!img) throw notFound(name);
    return this.withLock(`image:${img.id}`, () => this.removeLocked(img.id, name, opts));
  }

  private async removeLocked(id: string, name: string, opts: { force?: boolean; noprune?: boolean }): Promise<Record<string, string>[]> {
    const img = this.d.meta.get(id);
    if (!img) throw errors.noSuchImage(name);
    const out: Record<string, string>[] = [];
    const byId = img.id === name || img.id.slice(7).startsWith(name.replace(/^sha256:/, '')) && /^(sha256:)?[a-f0-9]+$/.test(name);
    const users = await this.usage(img.id);
    const running = users.find((u) => u.running);
    if (!byId) {
      const ref = parseReference(name);
      const s = ref.digest ? `${familiarName(ref)}@${ref.digest}` : familiarTagged(ref);
      const remainingTags = img.repoTags.filter((t) => t !== s);
      const remainingDigests = img.repoDigests.filter((t) => t !== s);
      // With other tags left, removing by name is just an untag.
      if (remainingTags.length > 0 || (remainingDigests.length > 0 && ref.digest === undefined && remainingDigests.some((d) => !d.startsWith(familiarName(ref) + '@')))) {
        const rec = { ...img, repoTags: remainingTags, repoDigests: ref.digest ? remainingDigests : img.repoDigests };
        await this.d.meta.put(rec);
        out.push({ Untagged: s });
        this.d.events.publish('image', 'untag', img.id, { name: s });
        return out;
      }
      if (users.length > 0 && !opts.force) {
        throw new BerthError('ERR_IMAGE_IN_USE', `conflict: unable to remove repository reference "${name}" (must force) - container ${shortId(users[0]!.id)} is using its referenced image ${shortId(img.id)}`);
      }
      if (running) {
        // Forced untag of an image a running container uses: untag only, never delete.
        await this.d.meta.put({ ...img, repoTags: remainingTags, repoDigests: remainingDigests });
        out.push({ Untagged: s });
        this.d.events.publish('image', 'untag', img.id, { name: s });
        return out;
      }
    } else {
      if (running) {
        throw new BerthError('ERR_IMAGE_IN_USE', `conflict: unable to delete ${shortId(img.id)} (cannot be forced) - image is being used by running container ${shortId(running.id)}`);
      }
      if (users.length > 0 && !opts.force) {
        throw new BerthError('ERR_IMAGE_IN_USE', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is being used by stopped container ${shortId(users[0]!.id)}`);
      }
      const repos = new Set(img.repoTags.map((t) => t.replace(/:[^:/]+$/, '')));
      if (repos.size > 1 && !opts.force) {
        throw new BerthError('ERR_IMAGE_IN_USE', `conflict: unable to delete ${shortId(img.id)} (must be forced) - image is referenced in multiple repositories`);
      }
    }
    for (const t of img.repoTags) { out.push({ Untagged: t }); this.d.events.publish('image', 'untag', img.id, { name: t }); }
    for (const t of img.repoDigests) out.push({ Untagged: t });
    await this.d.meta.delete(img.id);
    out.push({ Deleted: img.id });
    this.d.events.publish('image', 'delete', img.id, { name: img.id });
    // Then each layer that went with it, top first, as Docker lists what its layer store released.
    for (const chainId of await this.gcImage(img)) out.push({ Deleted: chainId });
    return out;
  }

  /** Free the blobs and snapshots of a deleted image that no remaining image uses; the chain IDs of the snapshots removed, top first. */
  async gcImage(img: ImageRecord): Promise<string[]> {
    const removed: string[] = [];
    const others = this.d.meta.list();
    const chains = new Set<string>();
    const blobs = new Set<string>();
    for (const o of others) {
      blobs.add(o.id);
      if (o.manifestDigest) blobs.add(o.manifestDigest);
      for (const l of o.layers) { chains.add(l.chainId); blobs.add(l.digest); }
    }
    for (const l of [...img.layers].reverse()) {
      if (!chains.has(l.chainId)) {
        await this.withLock(`chain:${l.chainId}`, async () => {
          if (await this.d.snapshots.has(l.chainId)) { await this.d.snapshots.remove(l.chainId); removed.push(l.chainId); }
        }).catch((e) => log.warn('cannot remove snapshot', { chainId: l.chainId, err: String(e) }));
      }
      if (!blobs.has(l.digest)) await this.d.content.delete(l.digest).catch(() => {});
    }
    if (!blobs.has(img.id)) await this.d.content.delete(img.id).catch(() => {});
    if (img.manifestDigest && !blobs.has(img.manifestDigest)) await this.d.content.delete(img.manifestDigest).catch(() => {});
    return removed;
  }

  async prune(filters: Filters): Promise<{ ImagesDeleted: Record<string, string>[] | null; SpaceReclaimed: number }> {
    validateFilters(filters, ['dangling', 'label', 'label!', 'until']);
    const danglingOnly = !filters.has('dangling') || [...filters.get('dangling')!].some((v) => ['true', '1'].includes(v.toLowerCase()));
    const deleted: Record<string, string>[] = [];
    let reclaimed = 0;
    for (const img of this.d.meta.list()) {
      if (danglingOnly && img.repoTags.length > 0) continue;
      if (filters.has('label') && !matchLabels(filters.get('label'), this.labelsOf(img))) continue;
      if (filters.has('label!') && [...filters.get('label!')!].some((l) => matchLabels(new Set([l]), this.labelsOf(img)))) continue;
      if (filters.has('until')) {
        const { parseTimestamp } = await import('../../api/query.js');
        const until = [...filters.get('until')!].map((u) => parseTimestamp(u));
        const created = BigInt(Date.parse(img.created) || 0) * 1_000_000n;
        if (!until.every((u) => created < u)) continue;
      }
      if ((await this.usage(img.id)).length > 0) continue;
      try {
        const r = await this.remove(img.id, { force: !danglingOnly });
        deleted.push(...r);
        reclaimed += img.size;
      } catch (e) {
        log.debug('prune skipped image', { id: img.id, err: String(e) });
      }
    }
    this.d.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  /** Images part of /system/df. */
  /**
   * Fill in the layers' content sizes from their snapshots and the image size from them, as Docker
   * reports sizes (files' bytes, not tar bytes). Called before a new image record is stored.
   */
  async withContentSizes(rec: ImageRecord): Promise<ImageRecord> {
    const layers = await Promise.all(rec.layers.map(async (l) => {
      const usage = (await this.d.snapshots.info?.(l.chainId).catch(() => undefined))?.usage;
      return usage === undefined ? l : { ...l, usage };
    }));
    return { ...rec, layers, size: layers.reduce((a, l) => a + layerSize(l), 0) };
  }

  async diskUsage(): Promise<{ LayersSize: number; Images: Record<string, unknown>[] }> {
    const list = await this.list({});
    const chains = new Map<string, number>();
    for (const i of this.d.meta.list()) for (const l of i.layers) chains.set(l.chainId, layerSize(l));
    let total = 0;
    for (const v of chains.values()) total += v;
    const counts = new Map<string, number>();
    for (const i of this.d.meta.list()) for (const l of i.layers) counts.set(l.chainId, (counts.get(l.chainId) ?? 0) + 1);
    for (const s of list) {
      const rec = this.d.meta.get(s.Id as string)!;
      let shared = 0;
      for (const l of rec.layers) if ((counts.get(l.chainId) ?? 0) > 1) shared += layerSize(l);
      s.SharedSize = shared;
    }
    return { LayersSize: total, Images: list };
  }
}

/** A layer's size as Docker shows it: content bytes when known, else the tar size. */
function layerSize(l: LayerRecord): number {
  return l.usage ?? l.uncompressedSize;
}

/** Turn a docker `reference` filter pattern (path.Match glob) into a RegExp over familiar names. */
function globToRegExp(p: string): RegExp {
  let re = '';
  for (const ch of p) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The image Config object as the API shows it (nulls where Docker puts them). */
function imageConfigForApi(c: Record<string, unknown>): Record<string, unknown> {
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ExposedPorts: c.ExposedPorts,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Healthcheck: c.Healthcheck,
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    StopSignal: c.StopSignal,
    Shell: c.Shell,
  };
}

/** Docker's "No such image": a reference by name gets its default tag ("x" → "x:latest"); an ID stays as given. */
function notFound(name: string): BerthError {
  const ref = tryParseReference(name);
  return errors.noSuchImage(ref && !/^(sha256:)?[a-f0-9]+$/.test(name) ? familiarTagged(ref) : name);
}
