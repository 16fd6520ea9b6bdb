// The typed Berth/Docker Engine API client. Each method is a thin mapping onto one endpoint through
// the Transport; new areas (containers, networks, volumes) add methods the same way.
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import { ProgressStream } from './progress.js';
import { Transport, resolveHost, encodeFilters, encodeRegistryAuth, nameSegment, jsonValues, type HostSource } from './transport.js';
import type {
  AuthConfig, AuthResponse, CommitOptions, ContainerChange, ContainerPathStat, ContainerStatsSample, ContainerUpdate, DiskUsage, DistributionInspect, EventMessage, EventsOptions, FiltersInput, HistoryItem,
  ImageDeleteItem, ImageInspect, ImagePruneResponse, NetworkPruneResponse, NetworkResource, ImageSummary, ImportOptions, ListImagesOptions, LoadOptions,
  PingResult, PullOptions, PushOptions, RemoveImageOptions, SystemInfo, SystemVersion,
} from './types.js';

export interface ConnectOptions {
  /** unix:///path or tcp://host:port; default BERTH_HOST, DOCKER_HOST, then unix:///run/berth/berth.sock. */
  host?: string;
  env?: NodeJS.ProcessEnv;
}

/** Split "name[:tag][@digest]" without normalising (the daemon normalises). */
export function splitReference(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  return { name: rest, tag, digest };
}

export class Client {
  readonly transport: Transport;
  readonly host: string;
  readonly hostSource: HostSource;
  /** API version the daemon announced on the last ping. Paths are unversioned (latest). */
  apiVersion?: string;

  constructor(opts: ConnectOptions = {}) {
    const r = resolveHost(opts.host, opts.env);
    this.host = r.host;
    this.hostSource = r.source;
    this.transport = new Transport(r.host);
  }

  /** Kept for callers that tidy up: each request has a connection of its own, closed with its response, so nothing is held. */
  close(): void { this.transport.close(); }

  // ---- system -------------------------------------------------------------------------------

  async ping(signal?: AbortSignal): Promise<PingResult> {
    const res = await this.transport.empty({ path: '/_ping', signal });
    const h = res.headers;
    const one = (k: string) => { const v = h[k]; return Array.isArray(v) ? v[0] : v; };
    this.apiVersion = one('api-version') ?? this.apiVersion;
    return {
      ok: true,
      apiVersion: one('api-version'),
      osType: one('ostype'),
      experimental: one('docker-experimental') === 'true',
      builderVersion: one('builder-version'),
    };
  }

  version(): Promise<SystemVersion> { return this.transport.json({ path: '/version' }); }

  info(): Promise<SystemInfo> { return this.transport.json({ path: '/info' }); }

  df(opts: { type?: string[] } = {}): Promise<DiskUsage> {
    return this.transport.json({ path: '/system/df', query: { type: opts.type } });
  }

  /** Stream daemon events until the signal aborts or the consumer stops iterating. */
  async *events(opts: EventsOptions = {}): AsyncGenerator<EventMessage> {
    let res;
    try {
      res = await this.transport.request({
        path: '/events',
        query: { filters: encodeFilters(opts.filters), since: opts.since?.toString(), until: opts.until?.toString() },
        signal: opts.signal,
      });
    } catch (e) {
      if (opts.signal?.aborted) return;
      throw e;
    }
    yield* untilAborted<EventMessage>(res, opts.signal, parseEventMessage);
  }

  auth(creds: AuthConfig): Promise<AuthResponse> {
    return this.transport.json({ method: 'POST', path: '/auth', json: creds });
  }

  // ---- images -------------------------------------------------------------------------------

  listImages(opts: ListImagesOptions = {}): Promise<ImageSummary[]> {
    return this.transport.json({
      path: '/images/json',
      query: { all: opts.all || undefined, filters: encodeFilters(opts.filters), digests: opts.digests || undefined, 'shared-size': opts.sharedSize || undefined },
    });
  }

  /** Pull an image; iterate the progress or call `.done()`. A tagless ref pulls :latest unless allTags. */
  pull(ref: string, opts: PullOptions = {}): ProgressStream {
    const { name, tag, digest } = splitReference(ref);
    if (opts.allTags && (tag || digest)) throw new BerthError('ERR_INVALID_ARGUMENT', 'tag can\'t be used with --all-tags/-a');
    const apiTag = digest ?? tag ?? (opts.allTags ? undefined : 'latest');
    return new ProgressStream(() => this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: { fromImage: name, tag: apiTag, platform: opts.platform },
      headers: { 'X-Registry-Auth': encodeRegistryAuth(opts.auth) },
      signal: opts.signal,
    }), 'ERR_REGISTRY');
  }

  inspectImage(name: string): Promise<ImageInspect> {
    return this.transport.json({ path: `/images/${nameSegment(name)}/json` });
  }

  imageHistory(name: string): Promise<HistoryItem[]> {
    return this.transport.json({ path: `/images/${nameSegment(name)}/history` });
  }

  removeImage(name: string, opts: RemoveImageOptions = {}): Promise<ImageDeleteItem[]> {
    return this.transport.json({
      method: 'DELETE',
      path: `/images/${nameSegment(name)}`,
      query: { force: opts.force || undefined, noprune: opts.noprune || undefined },
    });
  }

  /** Tag `source` (name or ID) as `target` ("repo[:tag]", default tag latest). */
  async tagImage(source: string, target: string): Promise<void> {
    const { name, tag, digest } = splitReference(target);
    if (digest) throw new BerthError('ERR_INVALID_ARGUMENT', 'refusing to create a tag with a digest reference');
    await this.transport.empty({
      method: 'POST',
      path: `/images/${nameSegment(source)}/tag`,
      query: { repo: name, tag: tag ?? 'latest' },
    });
  }

  /** Push "repo[:tag]" (default tag latest; every tag with allTags). */
  push(ref: string, opts: PushOptions = {}): ProgressStream {
    const { name, tag, digest } = splitReference(ref);
    if (digest) throw new BerthError('ERR_INVALID_ARGUMENT', 'cannot push a digest reference');
    const apiTag = opts.allTags ? undefined : tag ?? 'latest';
    return new ProgressStream(() => this.transport.request({
      method: 'POST',
      path: `/images/${nameSegment(name)}/push`,
      query: { tag: apiTag, platform: opts.platform },
      // Docker daemons require the header on push; "{}" means anonymous.
      headers: { 'X-Registry-Auth': encodeRegistryAuth(opts.auth ?? {}) },
      signal: opts.signal,
    }), 'ERR_REGISTRY');
  }

  /** Export images as a docker-archive tar stream. */
  async save(names: string | string[], opts: { platform?: string } = {}): Promise<Readable> {
    const list = typeof names === 'string' ? [names] : names;
    if (list.length === 0) throw new BerthError('ERR_INVALID_ARGUMENT', 'no image names given');
    return this.transport.request({ path: '/images/get', query: { names: list, platform: opts.platform } });
  }

  /** Load images from a docker-archive/OCI-layout tar stream. */
  load(tar: Readable, opts: LoadOptions = {}): ProgressStream {
    return new ProgressStream(() => this.transport.request({
      method: 'POST',
      path: '/images/load',
      query: { quiet: opts.quiet || undefined },
      headers: { 'Content-Type': 'application/x-tar' },
      body: tar,
    }), 'ERR_BAD_ARCHIVE');
  }

  /** Create an image from a filesystem tarball (a stream) or from a URL the daemon fetches. */
  importImage(src: Readable | string, opts: ImportOptions = {}): ProgressStream {
    const fromUrl = typeof src === 'string';
    return new ProgressStream(() => this.transport.request({
      method: 'POST',
      path: '/images/create',
      query: {
        fromSrc: fromUrl ? src : '-', repo: opts.repo, tag: opts.tag, message: opts.message,
        changes: opts.changes, platform: opts.platform,
      },
      headers: fromUrl ? {} : { 'Content-Type': 'application/x-tar' },
      body: fromUrl ? undefined : src,
    }));
  }

  pruneImages(filters?: FiltersInput): Promise<ImagePruneResponse> {
    return this.transport.json({ method: 'POST', path: '/images/prune', query: { filters: encodeFilters(filters) } });
  }

  listNetworks(filters?: FiltersInput): Promise<NetworkResource[]> {
    return this.transport.json({ path: '/networks', query: { filters: encodeFilters(filters) } });
  }

  /** A network by name, ID or ID prefix. */
  inspectNetwork(ref: string): Promise<NetworkResource> {
    return this.transport.json({ path: `/networks/${encodeURIComponent(ref)}` });
  }

  async removeNetwork(ref: string): Promise<void> {
    await this.transport.empty({ method: 'DELETE', path: `/networks/${encodeURIComponent(ref)}` });
  }

  pruneNetworks(filters?: FiltersInput): Promise<NetworkPruneResponse> {
    return this.transport.json({ method: 'POST', path: '/networks/prune', query: { filters: encodeFilters(filters) } });
  }

  /** Registry-side descriptor and platforms of an image, via the daemon. */
  distribution(name: string, opts: { auth?: AuthConfig | string } = {}): Promise<DistributionInspect> {
    return this.transport.json({
      path: `/distribution/${nameSegment(name)}/json`,
      headers: { 'X-Registry-Auth': encodeRegistryAuth(opts.auth) },
    });
  }

  // ---- containers ---------------------------------------------------------------------------

  /** Stat a path inside a container (HEAD /archive); rejects with a 404 BerthError when it is absent. */
  async statContainerPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.transport.empty({ method: 'HEAD', path: `/containers/${encodeURIComponent(id)}/archive`, query: { path } });
    return pathStatHeader(res.headers['x-docker-container-path-stat']);
  }

  /** A tar of `path` in the container (its basename is the top entry) and the stat of `path`. */
  async getContainerArchive(id: string, path: string): Promise<{ stat: ContainerPathStat; tar: Readable }> {
    const res = await this.transport.request({ path: `/containers/${encodeURIComponent(id)}/archive`, query: { path } });
    return { stat: pathStatHeader(res.headers['x-docker-container-path-stat']), tar: res };
  }

  /** Extract a tar stream into the directory `path` of the container. */
  async putContainerArchive(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    await this.transport.empty({
      method: 'PUT', path: `/containers/${encodeURIComponent(id)}/archive`,
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir || undefined, copyUIDGID: opts.copyUIDGID || undefined },
      headers: { 'Content-Type': 'application/x-tar' },
      body: tar,
    });
  }

  /** The container's whole filesystem as a tar stream. */
  exportContainer(id: string): Promise<Readable> {
    return this.transport.request({ path: `/containers/${encodeURIComponent(id)}/export` });
  }

  /** Changes to the container's filesystem relative to its image (null when none). */
  containerChanges(id: string): Promise<ContainerChange[] | null> {
    return this.transport.json({ path: `/containers/${encodeURIComponent(id)}/changes` });
  }

  /** Create an image from a container; resolves with the new image ID. */
  commit(container: string, opts: CommitOptions = {}): Promise<{ Id: string }> {
    return this.transport.json({
      method: 'POST', path: '/commit',
      query: {
        container, repo: opts.repo, tag: opts.tag, comment: opts.comment, author: opts.author,
        changes: opts.changes?.length ? opts.changes : undefined, pause: opts.pause === undefined ? undefined : opts.pause,
      },
    });
  }

  /** Change resource limits or the restart policy of a container. */
  updateContainer(id: string, update: ContainerUpdate): Promise<{ Warnings: string[] | null }> {
    return this.transport.json({ method: 'POST', path: `/containers/${encodeURIComponent(id)}/update`, json: update });
  }

  /** One stats sample (the daemon fills precpu_stats unless oneShot). */
  containerStats(id: string, opts: { oneShot?: boolean; signal?: AbortSignal } = {}): Promise<ContainerStatsSample> {
    return this.transport.json({ path: `/containers/${encodeURIComponent(id)}/stats`, query: { stream: false, 'one-shot': opts.oneShot || undefined }, signal: opts.signal });
  }

  /** Stats samples as the daemon produces them (about one a second) until the signal aborts. */
  async *streamContainerStats(id: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<ContainerStatsSample> {
    const res = await this.transport.request({ path: `/containers/${encodeURIComponent(id)}/stats`, query: { stream: true }, signal: opts.signal });
    yield* untilAborted<ContainerStatsSample>(res, opts.signal);
  }
}

/** Decode the base64 JSON X-Docker-Container-Path-Stat header. */
function pathStatHeader(v: string | string[] | undefined): ContainerPathStat {
  const raw = Array.isArray(v) ? v[0] : v;
  if (!raw) throw new BerthError('ERR_INTERNAL', 'the daemon sent no X-Docker-Container-Path-Stat header');
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as ContainerPathStat;
  } catch {
    throw new BerthError('ERR_INTERNAL', 'unable to decode container path stat header');
  }
}

// An event's timeNano is beyond a double's integer precision (~1.8e18): the exact value, read
// from the text, for printers that show every digit as docker does.
const exactNanos = new WeakMap<EventMessage, bigint>();

/** One event from its JSON text, its exact time kept for eventTimeNano. */
export function parseEventMessage(text: string): EventMessage {
  const e = JSON.parse(text) as EventMessage;
  const m = /"timeNano"\s*:\s*(\d+)/.exec(text);
  if (m) exactNanos.set(e, BigInt(m[1]!));
  return e;
}

/** The event's time in nanoseconds, exact (Number(timeNano) may be off by a few hundred ns). */
export function eventTimeNano(e: EventMessage): bigint {
  return exactNanos.get(e) ?? (e.timeNano ? BigInt(Math.round(e.timeNano)) : BigInt(e.time ?? 0) * 1_000_000_000n);
}

/** A client for the daemon found by host → BERTH_HOST → DOCKER_HOST → the default socket. */
export function connect(opts: ConnectOptions = {}): Client {
  return new Client(opts);
}

/** JSON values of a streamed response; an abort ends the stream quietly. The response is closed either way. */
async function* untilAborted<T>(res: AsyncIterable<Buffer | string> & { destroy(): unknown }, signal?: AbortSignal, parse?: (text: string) => T): AsyncGenerator<T> {
  try {
    yield* jsonValues<T>(res, parse);
  } catch (e) {
    if ((e as Error).name === 'AbortError' || signal?.aborted) return;
    throw e;
  } finally {
    res.destroy();
  }
}
