// The engine: one object wiring the stores, registry client and event bus, used in-process by
// embedders and wrapped by the HTTP server. Containers plug in later through `engine.images.usage`
// and `engine.events`.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import type { Readable } from 'node:stream';
import { BerthError } from '../errors/index.js';
import { decodeRegistryAuth, type AuthConfig, type Filters } from '../api/query.js';
import { MetadataStore } from '../store/metadata/index.js';
import { log } from '../util/log.js';
import { EventBus } from './events.js';
import { ImageService, type Progress } from './images/service.js';
import type { ContentStoreLike, RegistryFactory, RegistryOptions, SnapshotterLike } from './images/deps.js';
import { pullImage, pullReference } from './images/pull.js';
import { pushImage } from './images/push.js';
import type { ImportOptions } from './images/archive.js';
import { loadParts } from './parts.js';
import { familiarString, parseReference } from '../oci/reference.js';
import { ContainerService } from './containers/service.js';
import { NetworkService } from './networks.js';
import { VolumeService } from './volumes.js';
import { ExecService } from './exec/service.js';
import { installedRuntimes } from '../runtime/index.js';
import { backingFilesystem, cgroupVersion, openFds } from './system.js';

// Image archives (tar-stream) load on first use so an idle daemon stays small.
const archive = () => import('./images/archive.js');

export const ENGINE_VERSION = '28.5.2';
export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.51';

export interface EngineOptions {
  root: string;
  execRoot: string;
  insecureRegistries?: string[];
  /** Overrides for tests/embedders; by default the real store and registry modules are used. */
  content?: ContentStoreLike;
  snapshots?: SnapshotterLike;
  registry?: RegistryFactory;
}

export type { Progress };

export class Engine {
  readonly root: string;
  readonly execRoot: string;
  readonly events = new EventBus();
  readonly images: ImageService;
  readonly meta: MetadataStore;
  readonly startedAt = new Date();
  readonly insecureRegistries: string[];
  /** Containers and exec instances (src/engine/containers, src/engine/exec); set up by createEngine. */
  containers!: ContainerService;
  execs!: ExecService;
  /** The networks API over the built-in networks (src/engine/networks.ts). */
  networks!: NetworkService;
  /** The volumes API; no named volumes yet (src/engine/volumes.ts). */
  readonly volumes = new VolumeService();

  constructor(opts: EngineOptions, meta: MetadataStore, content: ContentStoreLike, snapshots: SnapshotterLike, registry: RegistryFactory) {
    this.root = opts.root;
    this.execRoot = opts.execRoot;
    this.meta = meta;
    this.insecureRegistries = opts.insecureRegistries ?? [];
    this.images = new ImageService({
      meta, content, snapshots, registry, events: this.events,
      insecureRegistries: this.insecureRegistries, tmpDir: join(opts.root, 'tmp'),
    });
  }

  // ---- images -------------------------------------------------------------------------------------
  listImages(opts: { all?: boolean; filters?: Filters }) { return this.images.list(opts); }
  inspectImage(name: string) { return this.images.inspect(name); }
  imageHistory(name: string) { return this.images.history(name); }
  tagImage(name: string, repo: string, tag?: string) { return this.images.tag(name, repo, tag); }
  removeImage(name: string, opts: { force?: boolean; noprune?: boolean } = {}) { return this.images.remove(name, opts); }
  pruneImages(filters: Filters) { return this.images.prune(filters); }

  async pullImage(fromImage: string, tag: string | undefined, opts: { platform?: string; auth?: AuthConfig; progress?: Progress } = {}): Promise<string> {
    // A bare name with no tag parameter means every tag, as Docker does (`docker pull -a`; the docker
    // CLI, dockerode and docker-py send tag=latest themselves otherwise).
    if (!tag) {
      const bare = parseReference(fromImage);
      if (bare.tag === undefined && bare.digest === undefined) return this.pullAllTags(fromImage, opts);
    }
    const ref = pullReference(fromImage, tag);
    const rec = await pullImage(this.images, ref, { platform: opts.platform, credentials: opts.auth, progress: opts.progress ?? (() => {}) });
    return rec.id;
  }

  private async pullAllTags(name: string, opts: { platform?: string; auth?: AuthConfig; progress?: Progress }): Promise<string> {
    const progress = opts.progress ?? (() => {});
    const bare = parseReference(name);
    const reg = this.images.d.registry({ insecureRegistries: this.images.d.insecureRegistries, credentials: opts.auth });
    let tags: string[];
    try {
      if (!reg.listTags) throw new BerthError('ERR_NOT_IMPLEMENTED', 'listing tags is not supported by this registry client');
      tags = await reg.listTags(bare.domain, bare.path);
    } finally {
      await reg.close?.().catch(() => {});
    }
    if (tags.length === 0) throw new BerthError('ERR_NOT_FOUND', `no tags found for ${familiarString(bare)}`);
    let newer = false;
    let last = '';
    for (const t of tags.sort()) {
      // One "Status:" line for the whole repository at the end, as Docker prints it.
      const rec = await pullImage(this.images, pullReference(name, t), {
        platform: opts.platform, credentials: opts.auth,
        progress: (m) => {
          if (typeof m.status === 'string' && m.status.startsWith('Status: ')) { newer ||= m.status.startsWith('Status: Downloaded'); return; }
          progress(m);
        },
      });
      last = rec.id;
    }
    const repo = familiarString(bare).replace(/:latest$/, '');
    progress({ status: newer ? `Status: Downloaded newer image for ${repo}` : `Status: Image is up to date for ${repo}` });
    return last;
  }

  async pushImage(name: string, tag: string | undefined, opts: { auth?: AuthConfig; progress?: Progress } = {}): Promise<void> {
    await pushImage(this.images, name, tag, { credentials: opts.auth, progress: opts.progress ?? (() => {}) });
  }

  async importImage(src: Readable, opts: ImportOptions, progress: Progress = () => {}): Promise<string> {
    const { importImage } = await archive();
    return (await importImage(this.images, src, opts, progress)).id;
  }

  /** POST /images/create?fromSrc=URL: errors before the download starts are thrown before any progress. */
  async importImageFromUrl(fromSrc: string, opts: ImportOptions, progress: Progress = () => {}): Promise<string> {
    const { openUrlSource, importProgress } = await import('./images/import-url.js');
    const src = await openUrlSource(fromSrc);
    progress({ status: `Downloading from ${src.url}` });
    return this.importImage(importProgress(src, progress), { ...opts, source: src.url }, progress);
  }

  /**
   * The `docker save` tar of `names`. Resolves once every name is found, so that a missing image is
   * refused (404) before any byte is sent; rejects otherwise.
   */
  async saveImages(names: string[]): Promise<Readable> {
    return (await archive()).saveImages(this.images, names);
  }

  async loadImages(src: Readable, progress: Progress = () => {}): Promise<string[]> { return (await archive()).loadImages(this.images, src, progress); }

  /** POST /auth: verify credentials against the registry when it can be reached. */
  async auth(cfg: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const domain = (cfg.serveraddress ?? 'docker.io').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const reg = this.images.d.registry({ insecureRegistries: this.insecureRegistries, credentials: cfg });
    try {
      if (reg.checkAuth) await reg.checkAuth(domain, cfg);
    } finally { await reg.close?.().catch(() => {}); }
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  /** GET /distribution/{name}/json */
  async distribution(name: string, auth?: AuthConfig): Promise<Record<string, unknown>> {
    const ref = pullReference(name);
    const reg = this.images.d.registry({ insecureRegistries: this.insecureRegistries, credentials: auth });
    const { distributionInspect } = await import('./images/distribution.js');
    try {
      return await distributionInspect(reg, ref);
    } finally {
      await reg.close?.().catch(() => {});
    }
  }

  // ---- system -------------------------------------------------------------------------------------
  version(): Record<string, unknown> {
    return {
      Platform: { Name: 'Berth' },
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch() } }],
      Version: ENGINE_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: 'berth',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: os.release(),
      BuildTime: this.startedAt.toISOString(),
    };
  }

  async info(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const rt = await this.runtimeFacts();
    return {
      ID: 'BERTH',
      ...containerCounts(this.containers),
      Images: this.meta.list().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', backingFilesystem(this.root)]],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true,
      // OomKillDisable: cgroup v1's memory.oom_control; v2 has no such switch.
      PidsLimit: true, IPv4Forwarding: true, Debug: false, NFd: openFds(), OomKillDisable: cgroupVersion() === '1', NGoroutines: 0,
      SystemTime: new Date().toISOString(), LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: cgroupVersion(),
      NEventsListener: 0, KernelVersion: os.release(), OperatingSystem: 'Berth', OSVersion: '', OSType: 'linux',
      Architecture: os.machine(), IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'],
        IndexConfigs: {},
        Mirrors: [],
      },
      NCPU: os.cpus().length, MemTotal: os.totalmem(), DockerRootDir: this.root, HttpProxy: '', HttpsProxy: '', NoProxy: '',
      Name: os.hostname(), Labels: [], ExperimentalBuild: false, ServerVersion: ENGINE_VERSION,
      Runtimes: rt.runtimes, DefaultRuntime: rt.default,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false, Isolation: '', InitBinary: 'docker-init',
      ContainerdCommit: { ID: '' }, RuncCommit: { ID: rt.version ?? '' }, InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'], Warnings: rt.warnings.length ? rt.warnings : null,
      ...extra,
    };
  }

  /** The OCI runtime chosen by the probe (crun where it works, else runc) and the installed ones. */
  private async runtimeFacts(): Promise<{ runtimes: Record<string, { path: string }>; default: string; version?: string; warnings: string[] }> {
    const runtimes: Record<string, { path: string }> = {};
    for (const r of installedRuntimes()) runtimes[r.name] = { path: r.path };
    const chosen = await this.containers?.runtime.runtimeInfo().catch((e: Error) => ({ name: '', path: '', version: undefined, reason: e.message }));
    const warnings = chosen?.reason && chosen.reason !== 'crun not installed' ? [`WARNING: ${chosen.reason}`] : [];
    return { runtimes, default: chosen?.name || 'runc', version: chosen?.version, warnings };
  }

  async diskUsage(): Promise<Record<string, unknown>> {
    const d = await this.images.diskUsage();
    const containers: Record<string, unknown>[] = [];
    const svc = this.containers;
    if (svc) {
      const { listEntry, containerSizes } = await import('./containers/view.js');
      for (const c of svc.all()) containers.push({ ...listEntry(svc, c), ...(await containerSizes(svc, c)) });
    }
    return { LayersSize: d.LayersSize, Images: d.Images, Containers: containers, Volumes: [], BuildCache: [] };
  }

  async close(): Promise<void> { await this.containers?.close(); }
}

/** /info container counts (Docker counts restarting as running). */
function containerCounts(svc: ContainerService | undefined): Record<string, number> {
  const all = svc?.all() ?? [];
  const running = all.filter((c) => c.State.Status === 'running' || c.State.Status === 'restarting').length;
  const paused = all.filter((c) => c.State.Status === 'paused').length;
  return { Containers: all.length, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: all.length - running - paused };
}

function goArch(): string {
  const a = os.arch();
  return a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a;
}

/** Create and initialise an engine over `root` (start-up sweep included). */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  await fsp.mkdir(opts.root, { recursive: true, mode: 0o711 });
  await fsp.mkdir(opts.execRoot, { recursive: true, mode: 0o711 });
  const parts = opts.content && opts.snapshots && opts.registry ? undefined : await loadParts(opts.root);
  const content = opts.content ?? parts!.content;
  const snapshots = opts.snapshots ?? parts!.snapshots;
  const registry = opts.registry ?? parts!.registry;
  await content.init();
  await snapshots.init();
  const meta = new MetadataStore(opts.root);
  await meta.init();
  const engine = new Engine(opts, meta, content, snapshots, registry);
  await sweep(engine);
  engine.containers = new ContainerService({ root: opts.root, execRoot: opts.execRoot, images: engine.images, snapshots, events: engine.events });
  engine.execs = new ExecService(engine.containers);
  engine.networks = new NetworkService(engine.containers);
  await engine.containers.init();
  return engine;
}

function asStrings(v: unknown): string[] {
  if (!v) return [];
  const out: string[] = [];
  for (const x of v as Iterable<unknown>) {
    if (typeof x === 'string') out.push(x);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      const s = o.digest ?? o.chainId ?? o.id ?? o.name;
      if (typeof s === 'string') out.push(s);
    }
  }
  return out;
}

/**
 * Start-up sweep after a crash: drop temp files, drop image records whose blobs or snapshots are
 * gone, and free blobs and snapshots that no image references (leftovers of interrupted pulls).
 */
async function sweep(engine: Engine): Promise<void> {
  const { content, snapshots } = engine.images.d;
  await fsp.rm(join(engine.root, 'tmp'), { recursive: true, force: true });
  for (const img of engine.meta.list()) {
    let ok = await content.has(img.id);
    for (const l of img.layers) ok = ok && (await snapshots.has(l.chainId)) && (await content.has(l.digest));
    if (!ok) {
      log.warn('dropping incomplete image record', { id: img.id });
      await engine.meta.delete(img.id);
    }
  }
  const chains = new Set<string>();
  const blobs = new Set<string>();
  for (const img of engine.meta.list()) {
    blobs.add(img.id);
    if (img.manifestDigest) blobs.add(img.manifestDigest);
    for (const l of img.layers) { chains.add(l.chainId); blobs.add(l.digest); }
  }
  try {
    for (const c of asStrings(await snapshots.list())) {
      if (!chains.has(c)) { log.info('removing unreferenced snapshot', { chainId: c }); await snapshots.remove(c).catch(() => {}); }
    }
  } catch (e) { log.warn('snapshot sweep failed', { err: String(e) }); }
  try {
    const listed = await content.list();
    const all: string[] = [];
    if (listed && typeof (listed as AsyncIterable<string>)[Symbol.asyncIterator] === 'function') {
      for await (const d of listed as AsyncIterable<unknown>) all.push(...asStrings([d]));
    } else all.push(...asStrings(listed));
    // Index blobs of pulled manifest lists are referenced only implicitly: keep manifests/configs small.
    for (const d of all) if (!blobs.has(d)) {
      const size = (await content.size(d).catch(() => 0)) ?? 0;
      if (size > 64 * 1024) await content.delete(d).catch(() => {});
    }
  } catch (e) { log.warn('content sweep failed', { err: String(e) }); }
}

export { BerthError, decodeRegistryAuth, familiarString };
export type { RegistryOptions };
