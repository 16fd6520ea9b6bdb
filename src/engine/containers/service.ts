// The container side of the engine: create/start/stop/wait/remove over the runtime (runc/crun +
// conmon), state persisted per container as JSON (atomic writes) so a daemon killed with -9 finds
// its containers again, and events published with Docker's action names.
import { promises as fsp, mkdirSync, existsSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Duplex, type Writable } from 'node:stream';
import { BerthError, errors, isBerthError } from '../../errors/index.js';
import { writeJsonAtomic, readJson, removeTree, setAside, deviceNumbers } from '../../util/fs.js';
import { log } from '../../util/log.js';
import { stages, type Stages } from '../../util/stages.js';
import { shortId } from '../../util/digest.js';
import { atoi, type Filters } from '../../api/query.js';
import { parseSize } from '../../util/size.js';
import {
  Runtime, namedRuntime, parseSignal, signalSupported, buildSpec, serializeSpec, prepareRootfs, mountShm, SHM_DIR, DEFAULT_SHM_SIZE, releaseRootfs, ensureSharedInitLayer, writeEtcFiles, resolveUser, parseBind, validateMount, MASKED_PATHS, READONLY_PATHS, checkBindPropagation,
  type OciMount, type OciUser, type ExitStatus, type AttachStreams, type SpecOptions, type OciThrottleDevice,
} from '../../runtime/index.js';
import type { ImageRecord } from '../../store/metadata/index.js';
import type { EventBus } from '../events.js';
import type { ImageService } from '../images/service.js';
import type { SnapshotterLike } from '../images/deps.js';
import { generateName, VALID_NAME } from './names.js';
import { HealthMonitor } from './health.js';
import { encodeEntry, frame, readLogs, type LogOptions } from './logs.js';
import { LogKeeper } from './log-keeper.js';
import type { ContainerConfig, ContainerRecord, HealthConfig, HostConfig, ThrottleDevice } from './types.js';
import type { NetworkManager } from '../../network/index.js';
import { extraHostLine, hostsFile, ownHostsLine } from '../../network/etc.js';
import { blkioWeightSupported } from '../system.js';
import type { RootView } from '../../util/in-root.js';
import { DEFAULT_DETACH_KEYS, detachFilter, parseDetachKeys } from '../../util/detach-keys.js';

type NetworkModule = typeof import('../../network/index.js');

export type { ContainerRecord, ContainerConfig, HostConfig } from './types.js';

export interface ContainerServiceDeps {
  root: string;
  execRoot: string;
  images: ImageService;
  snapshots: SnapshotterLike;
  events: EventBus;
  runtime?: Runtime;
  /** Default bridge networking; created over root/execRoot when not given. */
  network?: NetworkManager;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';
interface Waiter { cond: WaitCondition; resolve: (v: { StatusCode: number; Error: null | { Message: string } }) => void }

interface PendingAttach { stdin: boolean; onStreams: (a: AttachStreams) => void }

interface Live {
  /** Resolves once the exit of the current run has been fully processed (state saved, rootfs released). */
  exited?: Promise<void>;
  waiters: Set<Waiter>;
  pendingAttach: Set<PendingAttach>;
  lock: Promise<unknown>;
  restartTimer?: NodeJS.Timeout;
  health?: HealthMonitor;
  /** The runtime's own cleanup of the last run (runc delete), done off the exit path; start waits for it. */
  reaped?: Promise<void>;
  /** The first start's preparation, begun right after create (see prepareAhead). */
  ahead?: { prepared: Promise<Prepared | undefined>; timer: NodeJS.Timeout };
  /** Keeps the files conmon's max-size rotation would drop (max-file > 1), while running. */
  logKeeper?: LogKeeper;
}

/** What a start needs ready before the runtime runs: rootfs mounted, /etc files and config.json written. */
interface Prepared {
  /** The configuration it was made from; a start after an update prepares again. */
  key: string;
  hostname: string;
  hostsPath?: string;
  /** A pinned network namespace made for this start (bridge mode); removed if the start fails. */
  netns?: string;
}

/**
 * How long a preparation made ahead waits for its start. The docker CLI's `run` starts ~5-10 ms
 * after its create; a container merely created gives its mount and namespace back after this.
 */
const AHEAD_MS = 2000;
/** At most this many preparations made ahead at once: a burst of creates gets no namespace and mount each. */
const AHEAD_MAX = 8;

const prepKey = (c: ContainerRecord) => JSON.stringify([c.Config, c.HostConfig]);

const nowIso = () => new Date().toISOString();
const ZERO_TIME = '0001-01-01T00:00:00Z';

function asArray(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

/** Docker's checks of a restart policy (create and update), in its words; a 400. */
function checkRestartPolicy(p: { Name?: string; MaximumRetryCount?: number } | undefined): void {
  const name = p?.Name ?? '';
  const max = p?.MaximumRetryCount ?? 0;
  if (name === '') return;
  if (name === 'on-failure') {
    if (max < 0) throw errors.invalid('maximum retry count cannot be negative');
  } else if (['always', 'unless-stopped', 'no'].includes(name)) {
    if (max !== 0) throw errors.invalid(`maximum retry count cannot be used with restart policy '${name}'`);
  } else {
    throw errors.invalid(`invalid restart policy '${name}'`);
  }
}

export class ContainerService {
  readonly d: ContainerServiceDeps;
  readonly runtime: Runtime;
  /** Bridge networking (src/network); undefined if that module failed to load (containers get loopback only). */
  network?: NetworkManager;
  /** The container's exec instances not yet ended (set by the exec service), for inspect's ExecIDs. */
  execIds: (containerId: string) => string[] = () => [];
  private net?: NetworkModule;
  private byId = new Map<string, ContainerRecord>();
  private names = new Map<string, string>();
  private live = new Map<string, Live>();
  private closing = false;
  private sharedInit?: string;
  private aheadCount = 0;
  /** Cleanup that nothing waits on (runtime delete, removal of set-aside dirs); close() drains it. */
  private readonly background = new Set<Promise<void>>();

  constructor(d: ContainerServiceDeps) {
    this.d = d;
    this.runtime = d.runtime ?? new Runtime({ execRoot: d.execRoot });
    this.network = d.network;
  }

  private get dir() { return join(this.d.root, 'containers'); }
  cdir(id: string): string { return join(this.dir, id); }
  logPath(id: string): string { return join(this.cdir(id), 'container.log'); }

  /** Whether the container's output is kept (`--log-driver none` keeps none). */
  logged(c: ContainerRecord): boolean { return c.HostConfig.LogConfig?.Type !== 'none'; }
  rootfsPath(id: string): string { return join(this.cdir(id), 'rootfs'); }

  /** The overlay's lower directories, top first (the init layer, then the image's), for inspect's GraphDriver. */
  lowerDirs(c: ContainerRecord): string[] {
    const img = this.d.images.d.meta.get(c.ImageId);
    return [this.initLayer(this.cdir(c.Id)), ...(img?.layers ?? []).map((l) => this.d.snapshots.path(l.chainId)).reverse()];
  }

  private L(id: string): Live {
    let l = this.live.get(id);
    if (!l) { l = { waiters: new Set(), pendingAttach: new Set(), lock: Promise.resolve() }; this.live.set(id, l); }
    return l;
  }

  /** Serialise lifecycle operations on one container. */
  private async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const l = this.L(id);
    const prev = l.lock;
    let release!: () => void;
    l.lock = new Promise<void>((r) => { release = r; });
    await prev.catch(() => {});
    try { return await fn(); } finally { release(); }
  }

  /** Persist a container's record (used by the health monitor). */
  saveState(c: ContainerRecord): Promise<void> { return this.byId.has(c.Id) ? this.save(c) : Promise.resolve(); }

  private startHealth(c: ContainerRecord): void {
    const l = this.L(c.Id);
    l.health?.stop();
    l.health = undefined;
    if (!HealthMonitor.wanted(c)) return;
    c.State.Health ??= { Status: 'starting', FailingStreak: 0, Log: [] };
    l.health = new HealthMonitor(this, c);
    l.health.start();
  }

  /**
   * `durable: false` for records a host crash would make stale anyway (a container's running state,
   * a --rm container that cannot outlive its run): no fsync, which costs 10-100+ ms on a busy disk.
   */
  private async save(c: ContainerRecord, opts: { durable?: boolean } = {}): Promise<void> {
    await writeJsonAtomic(join(this.cdir(c.Id), 'container.json'), c, opts);
  }

  // ---- start-up ---------------------------------------------------------------------------------

  /** Load every container and re-adopt running ones (their conmon outlived the previous daemon). */
  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o710 });
    try {
      this.net = await import('../../network/index.js');
      this.network ??= new this.net.NetworkManager({ root: this.d.root, execRoot: this.d.execRoot });
      this.net.setToolRunner(this.runtime.toolRunner());
    } catch (e) {
      log.warn('networking unavailable: containers get no network', { err: String(e) });
    }
    this.d.images.usage = (imageId) => this.imageInUse(imageId);
    for (const name of await fsp.readdir(this.dir)) {
      // A container dir set aside by a removal the previous daemon did not finish.
      if (/^[a-f0-9]{64}-removing-[a-f0-9]+$/.test(name)) { this.later(this.removeAside(join(this.dir, name))); continue; }
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      let c: ContainerRecord | undefined;
      try { c = await readJson<ContainerRecord>(join(this.dir, name, 'container.json')); } catch (e) {
        log.warn('unreadable container record', { id: name, err: String(e) });
      }
      if (!c) { await removeTree(join(this.dir, name)).catch(() => {}); continue; }
      this.byId.set(c.Id, c);
      this.names.set(c.Name, c.Id);
    }
    for (const c of this.byId.values()) {
      await this.adopt(c).catch((e) => log.warn('re-adopting container failed', { id: c.Id, err: String(e) }));
    }
    await this.sweepRuntime();
    await this.sweepNetns();
    const live = this.all().filter((c) => this.isRunning(c)).map((c) => c.Id);
    // Bridge setup happens here, off the first container's start path.
    await this.network?.restore(live).catch((e) => log.warn('network restore failed', { err: String(e) }));
  }

  /**
   * Runtime containers that should be gone: their runtime delete (done in the background after an
   * exit) was still pending when the previous daemon died. Deleted now, in the background too.
   */
  private async sweepRuntime(): Promise<void> {
    const ids = await this.runtime.list().catch(() => [] as string[]);
    for (const id of ids) {
      const c = this.byId.get(id);
      // A container waiting for its policy's restart has no process: its old runtime state goes too
      // (the restart waits for that delete).
      if (c && (c.State.Status === 'running' || c.State.Status === 'paused' || this.live.get(id)?.reaped)) continue;
      const p = this.later(this.runtime.delete(id, { force: true }).catch((e) => log.warn('deleting a stale runtime container failed', { id: shortId(id), err: String(e) })));
      if (c) this.L(id).reaped = p;
    }
  }

  /** Pinned network namespaces (runtime.newNetns) of containers that are no longer running. */
  private async sweepNetns(): Promise<void> {
    const dir = this.runtime.netnsDir;
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      const c = this.byId.get(name.slice(0, 64));
      if (c && this.isRunning(c) && c.Network?.SandboxKey === path) continue;
      this.later(this.runtime.removeNetns(path).catch((e) => log.warn('removing a stale network namespace failed', { path, err: String(e) })));
    }
  }

  private async adopt(c: ContainerRecord): Promise<void> {
    const st = c.State.Status;
    if (st !== 'running' && st !== 'paused' && st !== 'restarting') {
      if (st === 'removing') await this.removeNow(c);
      // Its policy may still want it back (a back-off was running when the daemon went away, and
      // the wait is not saved): as Docker at its start, the policy decides again. `always` brings
      // back even a container stopped by hand (Docker's documented difference from unless-stopped).
      else if (st === 'exited') {
        if (c.ManualStop && c.HostConfig.RestartPolicy?.Name === 'always') c.ManualStop = false;
        this.maybeRestart(c, true, true);
      }
      return;
    }
    const rst = await this.runtime.state(c.Id);
    if (st === 'restarting' && !rst) { c.State.Status = 'exited'; this.maybeRestart(c, true, true); return; }
    const exit = rst ? await this.runtime.exitStatus(c.Id).catch(() => undefined) : undefined;
    if (rst && !exit && (rst.status === 'running' || rst.status === 'paused')) {
      c.State.Pid = rst.pid;
      c.State.Status = rst.status === 'paused' ? 'paused' : 'running';
      this.watchExit(c);
      this.startHealth(c);
      log.info('re-adopted running container', { id: shortId(c.Id) });
      return;
    }
    // Exited while we were away.
    this.L(c.Id).exited = this.handleExit(c, exit ?? { exitCode: 255, finishedAt: new Date() }, true);
    await this.L(c.Id).exited;
  }

  // ---- lookup -----------------------------------------------------------------------------------

  find(ref: string): ContainerRecord | undefined {
    const r = ref.startsWith('/') ? ref.slice(1) : ref;
    const byId = this.byId.get(r);
    if (byId) return byId;
    const byName = this.names.get(r);
    if (byName) return this.byId.get(byName);
    if (/^[a-f0-9]{1,63}$/.test(r)) {
      const hits = [...this.byId.keys()].filter((id) => id.startsWith(r));
      if (hits.length === 1) return this.byId.get(hits[0]!);
      if (hits.length > 1) throw errors.invalid(`multiple IDs found with provided prefix: ${r}`);
    }
    return undefined;
  }

  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw errors.noSuchContainer(ref);
    return c;
  }

  all(): ContainerRecord[] { return [...this.byId.values()]; }

  /** Containers using an image (the image service refuses to delete those). */
  imageInUse(imageId: string): { id: string; running: boolean }[] {
    return this.all().filter((c) => c.ImageId === imageId).map((c) => ({ id: c.Id, running: c.State.Status === 'running' || c.State.Status === 'paused' }));
  }

  isRunning(c: ContainerRecord): boolean { return c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting'; }

  private attrs(c: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(c.Config.Labels ?? {}), image: c.Config.Image ?? '', name: c.Name, ...extra };
  }

  publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.d.events.publish('container', action, c.Id, this.attrs(c, extra));
  }

  /**
   * Docker's `network connect` / `network disconnect` events for a container joining or leaving
   * its built-in network at start and exit (bridge, host, none; nothing for `container:<id>`,
   * which joins no network of its own). Returns whether one was published.
   */
  private publishNetwork(c: ContainerRecord, action: 'connect' | 'disconnect'): boolean {
    const mode = c.HostConfig.NetworkMode || 'bridge';
    const name = mode === 'default' ? 'bridge' : mode;
    const n = name === 'bridge' || name === 'host' || name === 'none' ? this.network?.builtin(name) : undefined;
    if (!n) return false;
    this.d.events.publish('network', action, n.id, { container: c.Id, name, type: n.driver });
    return true;
  }

  // ---- create -----------------------------------------------------------------------------------

  async create(body: ContainerConfig & { HostConfig?: HostConfig; NetworkingConfig?: unknown }, name?: string, platform?: string): Promise<{ Id: string; Warnings: string[] }> {
    if (!body || typeof body !== 'object') throw errors.invalid('config cannot be empty in order to create a container');
    const imageName = body.Image;
    if (!imageName) throw errors.invalid('config cannot be empty in order to create a container');
    // Checked last (below), as Docker checks it.
    const givenName = name;
    if (name !== undefined && name !== '') name = name.replace(/^\//, '');
    const img = this.d.images.find(imageName);
    if (!img) {
      const { tryParseReference } = await import('../../oci/reference.js');
      const { familiarTagged } = await import('../images/service.js');
      const ref = /^(sha256:)?[a-f0-9]{12,64}$/.test(imageName) ? undefined : tryParseReference(imageName);
      throw errors.noSuchImage(ref ? familiarTagged(ref) : imageName);
    }
    if (platform) {
      // As Docker: an image of another platform is "not found" (the docker CLI then tries a pull).
      const { parsePlatform, platformMatches, formatPlatform } = await import('../../oci/platform.js');
      const want = parsePlatform(platform);
      const ic = img.config as { os?: string; architecture?: string; variant?: string };
      const have = { os: ic.os ?? 'linux', architecture: ic.architecture ?? '', variant: ic.variant };
      if (have.architecture && !platformMatches(want, have)) {
        throw errors.notFound(`image with reference ${imageName} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
      }
    }
    const hc: HostConfig = { ...(body.HostConfig ?? {}) };
    const warnings: string[] = [];
    // As Docker: a weight the host cannot apply is dropped with a warning rather than failing the start.
    if (hc.BlkioWeight && !blkioWeightSupported()) {
      warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
      hc.BlkioWeight = 0;
    }
    // As Docker's daemon stores them: no limit is null, and the /proc paths it masks are filled in
    // (a client's own lists, e.g. [] for `--security-opt systempaths=unconfined`, are kept).
    if (typeof hc.PidsLimit === 'number' && hc.PidsLimit <= 0) hc.PidsLimit = null;
    if (hc.MemorySwappiness === -1) hc.MemorySwappiness = null;
    // Docker's default swap limit: as much again as the memory limit (what the spec gives runc too).
    if (hc.Memory && hc.Memory > 0 && !hc.MemorySwap) hc.MemorySwap = hc.Memory * 2;
    hc.LogConfig = checkLogConfig(hc.LogConfig);
    if (!hc.Privileged) {
      hc.MaskedPaths ??= [...MASKED_PATHS];
      hc.ReadonlyPaths ??= [...READONLY_PATHS];
    }
    const cfg = this.mergeConfig(body, img);
    const id = randomBytes(32).toString('hex');
    if (!name) {
      for (let i = 0; ; i++) { const n = generateName(i); if (!this.names.has(n)) { name = n; break; } }
    }
    if (hc.Runtime) namedRuntime(hc.Runtime); // refuse an unknown runtime at create, as Docker does
    // overlay2 takes a size only over xfs with project quotas; Berth's overlay never does.
    if (Object.keys(hc.StorageOpt ?? {}).length) throw errors.invalid("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
    if (hc.OomScoreAdj && (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000)) throw errors.invalid(`Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
    checkRestartPolicy(hc.RestartPolicy);
    if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw errors.invalid('SHM size can not be less than 0');
    const isolation = (hc as { Isolation?: string }).Isolation;
    if (isolation && isolation !== 'default') throw errors.invalid(`Invalid isolation: ${JSON.stringify(isolation)} - linux only supports 'default'`);
    checkHealthcheck(cfg.Healthcheck);
    if (hc.AutoRemove && hc.RestartPolicy?.Name && !['', 'no'].includes(hc.RestartPolicy.Name)) {
      throw errors.invalid("can't create 'AutoRemove' container with restart policy");
    }
    for (const b of hc.Binds ?? []) parseBind(b); // validate early (400 at create, as Docker)
    for (const h of hc.ExtraHosts ?? []) extraHostLine(h, '0.0.0.0'); // the syntax; host-gateway is resolved at start
    for (const m of hc.Mounts ?? []) {
      validateMount(m, existsSync);
      if (m.Type === 'volume') throw errors.invalid('mount type volume is not supported');
    }
    if (!hc.NetworkMode) hc.NetworkMode = 'bridge';
    // Docker keeps the container joined by its full ID (network, PID and IPC alike): a later
    // rename does not change what it joins, and inspect shows the ID.
    const byId = (mode: string | undefined) => {
      const o = mode?.startsWith('container:') ? this.find(mode.slice(10)) : undefined;
      return o ? `container:${o.Id}` : mode;
    };
    hc.NetworkMode = byId(hc.NetworkMode)!;
    if (hc.PidMode) hc.PidMode = byId(hc.PidMode);
    if (hc.IpcMode) hc.IpcMode = byId(hc.IpcMode);
    checkNamespaceModes(hc, cfg, (ref) => this.find(ref));
    for (const v of (hc.VolumesFrom as string[] | null | undefined) ?? []) {
      const src = v.split(':')[0]!;
      if (!this.find(src)) throw errors.invalid(`No such container: ${src}`);
      if (v.includes(':') && !/^[^:]+:(ro|rw)$/.test(v)) throw errors.invalid(`invalid mode for volumes-from: ${v}`);
    }
    checkNetworkModeConflicts(body, hc);
    for (const l of (hc.Links as string[] | null | undefined) ?? []) {
      const target = l.split(':')[0]!.replace(/^\//, '');
      if (hc.NetworkMode === 'host') throw errors.invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
      if (!this.find(target)) throw errors.invalid(`could not get container for ${target}: No such container: ${target}`);
    }
    // Read as Docker reads it: any number but 0 passes (a stop with one the kernel refuses falls back
    // to SIGKILL, see runtime.stop).
    if (cfg.StopSignal) parseSignal(cfg.StopSignal);
    type Endpoint = { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null; MacAddress?: string } | null;
    const endpoints = (body.NetworkingConfig as { EndpointsConfig?: Record<string, Endpoint> } | undefined)?.EndpointsConfig ?? {};
    for (const [net, ep] of Object.entries(endpoints)) {
      if ((ep?.IPAMConfig?.IPv4Address || ep?.IPAMConfig?.IPv6Address) && ['bridge', 'default', 'host', 'none'].includes(net)) {
        throw errors.invalid('user specified IP address is supported on user defined networks only');
      }
    }
    // --mac-address: the bridge endpoint's address (set when the container joins at start).
    const mac = Object.values(endpoints).map((ep) => ep?.MacAddress).find((m) => !!m) || cfg.MacAddress;
    if (mac) {
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw errors.invalid(`invalid MAC address: ${mac}`);
      if (hc.NetworkMode.startsWith('container:')) throw errors.invalid('conflicting options: mac-address and the network mode');
      cfg.MacAddress = mac.toLowerCase();
    }
    // On the host's network a container is named as the host (its UTS namespace stays its own).
    if (hc.NetworkMode === 'host' && !cfg.Hostname) cfg.Hostname = osHostname();
    const argv = [...(asArray(cfg.Entrypoint) ?? []), ...(asArray(cfg.Cmd) ?? [])];
    // Docker's daemon turns SELinux labelling off for a container sharing the host's IPC or PID
    // namespace or privileged, unless the client chose a label, and inspect shows it.
    if ((hc.IpcMode === 'host' || hc.PidMode === 'host' || hc.Privileged) && !(hc.SecurityOpt ?? []).some((o) => o.split('=')[0] === 'label')) {
      hc.SecurityOpt = [...(hc.SecurityOpt ?? []), 'label=disable'];
    }
    const c: ContainerRecord = {
      Id: id, Name: name!, Created: nowIso(), ImageId: img.id, Config: cfg, HostConfig: hc,
      Path: argv[0]!, Args: argv.slice(1),
      State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, OOMKilled: false },
      RestartCount: 0, Platform: platform ?? 'linux',
    };
    // What the spec checks (capabilities, limits, sysctls, mounts, seccomp...) is refused now with
    // a 400, as Docker does at create, rather than at the first start; only what needs the
    // prepared rootfs (the user's name, the files) waits for the start.
    buildSpec(this.specOptions(c, { rootfs: '/', cwd: cfg.WorkingDir || '/', user: { uid: 0, gid: 0 }, hostname: cfg.Hostname || id.slice(0, 12), etc: {} }));
    // In Docker's order: the settings (above), then the command, then the name — a create that is
    // wrong in any other way says so, whatever its name.
    if (argv.length === 0) throw errors.invalid('No command specified');
    if (givenName && !VALID_NAME.test(givenName)) throw errors.invalid(`Invalid container name (${givenName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const taken = this.names.get(c.Name);
    if (taken) {
      throw new BerthError('ERR_NAME_IN_USE', `Conflict. The container name "/${c.Name}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    // Reserve the name before any await so concurrent creates cannot both take it.
    this.names.set(c.Name, id);
    try {
      const dir = this.cdir(id);
      mkdirSync(dir, { recursive: true, mode: 0o710 }); // one metadata call, synchronously (see runtime/rootfs.ts)
      await this.save(c, { durable: !hc.AutoRemove });
    } catch (e) {
      this.names.delete(c.Name);
      await fsp.rm(this.cdir(id), { recursive: true, force: true }).catch(() => {});
      throw e;
    }
    this.byId.set(id, c);
    this.publish(c, 'create');
    this.prepareAhead(c);
    if (hc.NetworkMode === 'host' && Object.keys(hc.PortBindings ?? {}).length) warnings.push('Published ports are discarded when using host network mode');
    if (hc.OomKillDisable && !hc.Memory) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
    return { Id: id, Warnings: warnings };
  }

  /**
   * Begin the first start's preparation (rootfs mount, network namespace, /etc files, config.json)
   * as soon as the container exists: `docker run` sends create, attach, wait and only then start,
   * and that round trip is enough to take the preparation (~8 ms here) off the start's path.
   * Whoever needs the container's files first takes it: start uses it, anything else that mounts
   * the rootfs or removes the container gives it back (dropAhead), and so does a timer.
   * Not for `container:<id>` networking: the other container may restart before this one starts.
   */
  private prepareAhead(c: ContainerRecord): void {
    if (this.closing || this.aheadCount >= AHEAD_MAX || (c.HostConfig.NetworkMode ?? '').startsWith('container:')) return;
    this.aheadCount++;
    const t = stages('container prepare-ahead stages');
    // Begun after the create's reply is on its way (the first steps of prepare() are synchronous).
    const prepared = new Promise<void>((r) => setImmediate(r)).then(() => this.prepare(c, t)).then((p) => { t.done({ id: shortId(c.Id) }); return p; }, (e: unknown) => {
      // The start prepares again and reports the error itself.
      log.debug('preparing ahead of start failed', { id: shortId(c.Id), err: String(e) });
      return undefined;
    });
    const timer = setTimeout(() => { void this.locked(c.Id, () => this.dropAhead(c.Id)); }, AHEAD_MS);
    timer.unref();
    this.L(c.Id).ahead = { prepared, timer };
  }

  /** Take the preparation made ahead (waiting for it if still under way); undefined if none or it failed. */
  private async claimAhead(id: string): Promise<Prepared | undefined> {
    const l = this.live.get(id);
    const a = l?.ahead;
    if (!a) return undefined;
    l!.ahead = undefined;
    this.aheadCount--;
    clearTimeout(a.timer);
    return a.prepared;
  }

  /** For a start: the preparation made ahead, if it was made from the current configuration. */
  private async takeAhead(c: ContainerRecord): Promise<Prepared | undefined> {
    const p = await this.claimAhead(c.Id);
    if (p && p.key !== prepKey(c)) { await this.unprepare(c.Id, p); return undefined; }
    return p;
  }

  /** Give back a preparation made ahead: unmount the rootfs, remove its namespace. */
  private async dropAhead(id: string): Promise<void> {
    const p = await this.claimAhead(id);
    if (p) await this.unprepare(id, p);
  }

  private async unprepare(id: string, p: Prepared): Promise<void> {
    if (p.netns) await this.runtime.removeNetns(p.netns).catch((e) => log.warn('removing a network namespace failed', { path: p.netns, err: String(e) }));
    await releaseRootfs(this.cdir(id), await this.runtime.helperPath()).catch((e) => log.warn('releasing rootfs failed', { err: String(e) }));
  }

  /** Docker's merge of the image config into the container config. */
  private mergeConfig(body: ContainerConfig, img: ImageRecord): ContainerConfig {
    const ic = ((img.config as { config?: Record<string, unknown> }).config ?? {}) as ContainerConfig;
    const cfg: ContainerConfig = { ...body };
    delete (cfg as Record<string, unknown>).HostConfig;
    delete (cfg as Record<string, unknown>).NetworkingConfig;
    // Docker's order: the client's variables as sent, then the image's it did not name (none
    // at all stays null).
    const own = body.Env ?? [];
    const named = new Set(own.map((e) => e.split('=')[0]!));
    cfg.Env = own.length ? [...own, ...(ic.Env ?? []).filter((e) => !named.has(e.split('=')[0]!))] : ic.Env ?? null;
    const ep = asArray(body.Entrypoint);
    const cmd = asArray(body.Cmd);
    if (ep?.length === 1 && ep[0] === '') {
      // `--entrypoint ''`: no entrypoint at all, and the image's Cmd goes with its entrypoint.
      cfg.Entrypoint = null;
      cfg.Cmd = cmd && cmd.length ? cmd : null;
    } else if (ep !== undefined && ep.length > 0) {
      cfg.Entrypoint = ep;
      cfg.Cmd = cmd && cmd.length ? cmd : null;
    } else {
      cfg.Entrypoint = ep !== undefined && body.Entrypoint !== null && ep.length === 0 ? null : asArray(ic.Entrypoint) ?? null;
      cfg.Cmd = cmd && cmd.length ? cmd : asArray(ic.Cmd) ?? null;
      if (ep !== undefined && ep.length === 0 && !(cmd && cmd.length)) cfg.Cmd = asArray(ic.Cmd) ?? null;
    }
    cfg.WorkingDir = body.WorkingDir || ic.WorkingDir || '';
    // Kept cleaned, as Docker's daemon keeps it (a relative one is refused by the spec's check).
    if (posix.isAbsolute(cfg.WorkingDir)) cfg.WorkingDir = posix.normalize(cfg.WorkingDir).replace(/(.)\/$/, '$1');
    cfg.User = body.User || ic.User || '';
    cfg.Labels = { ...(ic.Labels ?? {}), ...(body.Labels ?? {}) };
    cfg.ExposedPorts = { ...(ic.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) };
    if (!body.StopSignal && ic.StopSignal) cfg.StopSignal = ic.StopSignal;
    if (!body.Healthcheck && ic.Healthcheck) cfg.Healthcheck = ic.Healthcheck;
    // The docker CLI always sends Volumes ({} for none): an empty set takes the image's.
    if (!cfg.Volumes || Object.keys(cfg.Volumes).length === 0) cfg.Volumes = ic.Volumes ?? null;
    cfg.Hostname = body.Hostname || '';
    cfg.Domainname = body.Domainname ?? '';
    cfg.Tty = !!body.Tty;
    cfg.OpenStdin = !!body.OpenStdin;
    cfg.StdinOnce = !!body.StdinOnce;
    cfg.AttachStdin = !!body.AttachStdin;
    cfg.AttachStdout = body.AttachStdout ?? false;
    cfg.AttachStderr = body.AttachStderr ?? false;
    return cfg;
  }

  // ---- start ------------------------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.locked(c.Id, async () => {
      // As Docker: a paused container is a conflict (409), not "already started" (304).
      if (c.State.Status === 'paused') throw errors.conflict('cannot start a paused container, try unpause instead');
      if (c.State.Status === 'running') throw new BerthError('ERR_NOT_MODIFIED', 'container already started');
      this.cancelRestart(c);
      if (c.State.Status === 'removing' || !this.byId.has(c.Id)) throw errors.noSuchContainer(ref);
      // A previous exit still being processed must finish first.
      await this.L(c.Id).exited;
      // A start by hand begins the policy's count again, as Docker's.
      c.ManualStop = false;
      c.RestartCount = 0;
      await this.startLocked(c);
    });
  }

  /**
   * The init layer (rootfs.ts) under a container's image layers: the root's shared one; a container
   * made by a Berth that gave each its own keeps its own (its upper dir was mounted over that).
   */
  private initLayer(dir: string): string {
    const own = join(dir, 'init');
    if (existsSync(own)) return own;
    // -2: Docker's modes (-1 had 0555 /proc and /sys, a 1777 /dev/shm, 0644 /etc files; a root
    // keeps it while containers made before may still have it mounted).
    this.sharedInit ??= ensureSharedInitLayer(join(this.d.root, 'init-layer-2'));
    return this.sharedInit;
  }

  private image(c: ContainerRecord): ImageRecord {
    const img = this.d.images.d.meta.get(c.ImageId);
    if (!img) throw errors.internal(`image ${shortId(c.ImageId)} of container ${shortId(c.Id)} is gone`);
    return img;
  }

  /**
   * The hostname and /etc files a container's network gives it: the host's on the host network,
   * those of the container it joined with `--network container:<id>` (followed, as Docker does).
   */
  etcOf(c: ContainerRecord, depth = 0): { hostname: string; hostsPath: string; hostnamePath: string | undefined; resolvConfPath: string } {
    const mode = c.HostConfig.NetworkMode ?? 'bridge';
    const donor = mode.startsWith('container:') && depth < 8 ? this.find(mode.slice(10)) : undefined;
    if (donor) return this.etcOf(donor, depth + 1);
    const hostname = c.Config.Hostname || c.Id.slice(0, 12);
    const dir = this.cdir(c.Id);
    return { hostname, hostsPath: join(dir, 'hosts'), hostnamePath: join(dir, 'hostname'), resolvConfPath: join(dir, 'resolv.conf') };
  }

  /**
   * Everything a start needs before the runtime runs. Cleans up what it made if it fails. Reads only
   * the container's configuration, so it can run ahead of the start (prepareAhead).
   */
  private async prepare(c: ContainerRecord, t?: Stages): Promise<Prepared> {
    const id = c.Id;
    const dir = this.cdir(id);
    const hc = c.HostConfig;
    const cfg = c.Config;
    const key = prepKey(c);
    const helper = await this.runtime.helperPath();
    const netMode = hc.NetworkMode ?? 'bridge';
    // Bridge mode: a namespace of our own (made now, alongside the rootfs), so the network is
    // plumbed while the runtime creates the container rather than after it, as Docker does.
    // If that fails, the runtime makes the namespace as before.
    const netnsP = (netMode === 'bridge' || netMode === 'default') && this.network && this.net && helper
      ? this.runtime.newNetns(`${id}-${randomBytes(4).toString('hex')}`).catch((e) => { log.warn('pinned network namespace unavailable', { err: String(e) }); return undefined; })
      : undefined;
    try {
      const img = this.image(c);
      const layers = img.layers.map((l) => this.d.snapshots.path(l.chainId)).reverse();
      // A --rm container's writable layer never outlives its run: no sync at unmount (volatile).
      const { rootfs } = await prepareRootfs({ layers, initLayer: this.initLayer(dir), containerDir: dir, helper, volatile: !!hc.AutoRemove });
      t?.mark('rootfsMs');
      // `--network container:<id>`: the other container's hostname and /etc files, as Docker.
      const donor = netMode.startsWith('container:') ? this.find(netMode.slice(10)) : undefined;
      const hostname = donor ? this.etcOf(donor).hostname : cfg.Hostname || id.slice(0, 12);
      const dnsAsked = !!(hc.Dns?.length || hc.DnsSearch?.length || hc.DnsOptions?.length);
      const resolv = dnsAsked && this.net
        ? this.net.resolvConf(await this.net.readHostResolvConf(), { dns: hc.Dns ?? undefined, dnsSearch: hc.DnsSearch ?? undefined, dnsOptions: hc.DnsOptions ?? undefined })
        : undefined;
      const [etc, user] = await Promise.all([
        donor
          ? this.etcOf(donor)
          : writeEtcFiles(dir, { hostname, hostNetwork: netMode === 'host', hosts: this.hostsText(c, hostname), resolvConf: resolv }),
        resolveUser(rootfs, cfg.User || undefined, hc.GroupAdd ?? []),
      ]);
      t?.mark('etcUserMs');
      const cwd = cfg.WorkingDir || '/';
      // A missing working directory is made as Docker's daemon makes it: 0755, owned by root
      // whatever the user (who may then not write there).
      if (cwd !== '/') await mkdirInRootfs(rootfs, cwd);
      // A -v source that does not exist yet is made (a directory, 0755), as Docker does; --mount
      // sources must exist (checked at create).
      for (const b of hc.Binds ?? []) {
        const src = parseBind(b).source!;
        if (!existsSync(src)) await fsp.mkdir(src, { recursive: true, mode: 0o755 });
      }
      const ownNetns = await netnsP;
      t?.mark('netnsMs');
      const joinedNs = (mode: string | undefined, kind: 'pid' | 'ipc') => (mode?.startsWith('container:') ? this.joinedNs(mode.slice(10), kind) : undefined);
      // joined first: it checks an IPC donor (running, shareable) before shmSource binds its /dev/shm.
      const spec = buildSpec(this.specOptions(c, {
        rootfs, cwd, user, hostname, etc, joined: { pid: joinedNs(hc.PidMode, 'pid'), ipc: joinedNs(hc.IpcMode, 'ipc') }, shmSource: await this.shmSource(c),
        networkNamespace: netMode === 'host' ? 'host' : netMode.startsWith('container:') ? this.joinedNs(netMode.slice(10), 'net') : ownNetns,
      }));
      const text = serializeSpec(spec);
      t?.mark('specBuildMs');
      await fsp.writeFile(join(dir, 'config.json'), text);
      t?.mark('specWriteMs');
      return { key, hostname, hostsPath: etc.hostsPath, netns: ownNetns };
    } catch (e) {
      const ns = await netnsP?.catch(() => undefined);
      if (ns) await this.runtime.removeNetns(ns).catch(() => {});
      await releaseRootfs(dir, helper).catch(() => {});
      throw e;
    }
  }

  /** The spec's options for `c`; `at` holds what only a prepared start knows (rootfs, user, files). */
  private specOptions(c: ContainerRecord, at: {
    rootfs: string; cwd: string; user: OciUser; hostname: string; networkNamespace?: string;
    etc: { hostsPath?: string; hostnamePath?: string; resolvConfPath?: string };
    /** pid/ipc namespaces joined from another container (`container:<id>`), resolved at start. */
    joined?: { pid?: string; ipc?: string };
    /** See SpecOptions.shmSource. */
    shmSource?: string | null;
  }): SpecOptions {
    const hc = c.HostConfig;
    const cfg = c.Config;
    const mounts: OciMount[] = [];
    for (const m of [...(hc.Mounts ?? []), ...this.inheritedTmpfs(c)]) {
      if (m.Type === 'bind') mounts.push({ destination: m.Target!, type: 'bind', source: m.Source!, options: ['rbind', m.BindOptions?.Propagation || 'rprivate', m.ReadOnly ? 'ro' : 'rw'] });
      else if (m.Type === 'tmpfs') {
        const o = ['nosuid', 'nodev', 'noexec', ...(m.ReadOnly ? ['ro'] : [])];
        if (m.TmpfsOptions?.SizeBytes) o.push(`size=${m.TmpfsOptions.SizeBytes}`);
        if (m.TmpfsOptions?.Mode) o.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
        mounts.push({ destination: m.Target!, type: 'tmpfs', source: 'tmpfs', options: o });
      } else throw errors.invalid(`mount type ${m.Type ?? ''} is not supported`);
    }
    const sec = parseSecurityOpts(hc.SecurityOpt ?? []);
    return {
      id: c.Id, rootfs: at.rootfs, cmd: [c.Path, ...c.Args], entrypoint: [], env: cfg.Env ?? [], cwd: at.cwd, user: at.user, tty: !!cfg.Tty,
      hostname: at.hostname, domainname: cfg.Domainname || undefined,
      privileged: !!hc.Privileged, maskedPaths: hc.MaskedPaths ?? undefined, readonlyPaths: hc.ReadonlyPaths ?? undefined,
      capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [], noNewPrivileges: sec.noNewPrivileges,
      seccomp: sec.seccomp, readonlyRootfs: !!hc.ReadonlyRootfs, ulimits: (hc.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
      shmSize: hc.ShmSize || undefined, shmSource: at.shmSource, sysctls: networkSysctls(hc), binds: [...(hc.Binds ?? []), ...this.volumesFrom(c)], mounts, tmpfs: hc.Tmpfs ?? undefined,
      init: hc.Init ? true : undefined,
      oomScoreAdj: hc.OomScoreAdj || undefined,
      // Cleaned as a path from the root, so `..` cannot climb out of the hierarchy (as Docker's).
      cgroupsPath: hc.CgroupParent ? posix.join('/', hc.CgroupParent, c.Id) : undefined,
      resources: {
        memory: hc.Memory || undefined, memorySwap: hc.MemorySwap || undefined, memoryReservation: hc.MemoryReservation || undefined,
        nanoCpus: hc.NanoCpus || undefined, cpuShares: hc.CpuShares || undefined, cpuQuota: hc.CpuQuota || undefined, cpuPeriod: hc.CpuPeriod || undefined,
        cpusetCpus: hc.CpusetCpus || undefined, cpusetMems: hc.CpusetMems || undefined, pidsLimit: hc.PidsLimit ?? undefined,
        memorySwappiness: hc.MemorySwappiness ?? undefined, oomKillDisable: hc.OomKillDisable || undefined, blkioWeight: hc.BlkioWeight || undefined,
        blkioWeightDevice: hc.BlkioWeightDevice?.length ? hc.BlkioWeightDevice.map((d) => ({ ...blockDevice(d.Path), weight: d.Weight ?? 0 })) : undefined,
        blkioThrottle: {
          readBps: throttles(hc.BlkioDeviceReadBps), writeBps: throttles(hc.BlkioDeviceWriteBps),
          readIOps: throttles(hc.BlkioDeviceReadIOps), writeIOps: throttles(hc.BlkioDeviceWriteIOps),
        },
        cpuRealtimeRuntime: hc.CpuRealtimeRuntime || undefined, cpuRealtimePeriod: hc.CpuRealtimePeriod || undefined,
      },
      networkNamespace: at.networkNamespace,
      pidNamespace: hc.PidMode === 'host' ? 'host' : at.joined?.pid,
      ipcNamespace: hc.IpcMode === 'host' ? 'host' : at.joined?.ipc,
      utsNamespace: hc.UTSMode === 'host' ? 'host' : undefined,
      cgroupNamespace: hc.CgroupnsMode === 'host' || hc.CgroupnsMode === 'private' ? hc.CgroupnsMode : undefined,
      devices: (hc.Devices ?? []).map(hostDevice),
      hostsPath: at.etc.hostsPath, hostnamePath: at.etc.hostnamePath, resolvConfPath: at.etc.resolvConfPath,
      consoleSize: cfg.Tty && hc.ConsoleSize && hc.ConsoleSize[0] ? { height: hc.ConsoleSize[0], width: hc.ConsoleSize[1] ?? 80 } : undefined,
    };
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const id = c.Id;
    const dir = this.cdir(id);
    const hc = c.HostConfig;
    const cfg = c.Config;
    let created = false;
    let connected = false;
    let networkFailed = false;
    /** The daemon's own refusal (a 500 in its words, without the task prefix, as Docker's). */
    let refused = false;
    const t = stages('container start stages');
    const early = new Map<PendingAttach, Promise<{ go(): Promise<AttachStreams>; cancel(): void }>>();
    const cancelRelays = () => {
      for (const pr of early.values()) void pr.then((r) => r.cancel(), () => {});
      early.clear();
    };
    // The previous run's runtime state must be gone before the same id is created again.
    await this.L(id).reaped;
    let prep: Prepared | undefined;
    const prevState = c.State;
    const prevStarted = c.HasBeenStarted;
    try {
      const ahead = await this.takeAhead(c);
      prep = ahead ?? await this.prepare(c, t);
      if (ahead) t.mark('aheadWaitMs');
      try { this.checkPropagation(c); checkDeviceRequests(c); } catch (e) { refused = true; throw e; }
      const { hostname } = prep;
      // Attach clients that connected before start get relays forked while the runtime works.
      const l = this.L(id);
      const onStarted = () => {
        for (const p of l.pendingAttach) {
          const pr = this.runtime.prepareAttach(dir, !!cfg.OpenStdin);
          pr.catch(() => {});
          early.set(p, pr);
        }
      };
      const creating = this.runtime.create({
        // With a TTY stdin stays open when an attach leaves (a detach), as in Docker.
        id, bundle: dir, tty: !!cfg.Tty, stdin: !!cfg.OpenStdin, stdinOnce: cfg.StdinOnce !== false && !cfg.Tty, name: c.Name, onStarted,
        logPath: this.logged(c) ? this.logPath(id) : undefined, logSizeMax: logSizeMax(hc.LogConfig),
        runtime: hc.Runtime || undefined,
      });
      const ownNetns = prep.netns;
      const plumbing = ownNetns ? this.connectNetwork(c, ownNetns, hostname, prep.hostsPath) : undefined;
      const [cr, pr] = await Promise.allSettled([creating, plumbing]);
      if (cr.status === 'rejected') throw cr.reason;
      created = true;
      if (pr.status === 'rejected') { networkFailed = true; throw pr.reason; }
      const r = cr.value;
      t.mark('runtimeCreateNetworkMs');
      // Attach clients that connected before start are hooked up before the process runs.
      const attaching = Promise.all([...l.pendingAttach].map(async (p) => {
        l.pendingAttach.delete(p);
        const pre = early.get(p);
        early.delete(p);
        try {
          const relay = await pre?.catch(() => undefined);
          p.onStreams(relay ? await relay.go() : await this.runtime.attach(id));
        } catch (e) { log.warn('attach before start failed', { err: String(e) }); }
      }));
      const [net] = await Promise.allSettled([ownNetns ? undefined : this.connectNetwork(c, `/proc/${r.pid}/ns/net`, hostname, prep.hostsPath), attaching]);
      if (net.status === 'rejected') { networkFailed = true; throw net.reason; }
      cancelRelays(); // clients that left meanwhile
      t.mark('networkAttachMs');
      connected = this.publishNetwork(c, 'connect');
      c.State = { ...c.State, Status: 'running', Pid: r.pid, ExitCode: 0, Error: '', StartedAt: nowIso(), FinishedAt: ZERO_TIME, OOMKilled: false };
      // A new run starts its health over, keeping the earlier probes' log, as Docker's does.
      if (HealthMonitor.wanted(c)) c.State.Health = { Status: 'starting', FailingStreak: 0, Log: c.State.Health?.Log ?? [] };
      c.HasBeenStarted = true;
      // Saved before the exit is watched: a --rm container whose process is already gone would
      // otherwise be removed (its directory with it) under this save, and a run that worked would
      // report "failed to create task" (seen once in ~60 runs of `true`). The exit is not missed:
      // the watch reads an exit file that is already there. The save runs alongside the runtime's
      // start; both are settled before anything else happens (a failed start saves again below).
      const [st, sv] = await Promise.allSettled([this.runtime.start(id, r.pid), this.save(c, { durable: false })]);
      if (st.status === 'rejected') throw st.reason;
      if (sv.status === 'rejected') throw sv.reason;
      t.mark('startSaveMs');
      this.publish(c, 'start');
      this.watchExit(c);
      this.startHealth(c);
      t.done({ id: shortId(id), ahead: !!ahead });
    } catch (e) {
      const msg = isBerthError(e) ? e.message : (e as Error).message;
      cancelRelays();
      if (created) await this.runtime.delete(id, { force: true }).catch(() => {});
      await this.network?.detach(id).catch(() => {});
      if (connected) this.publishNetwork(c, 'disconnect');
      // A failed prepare() has cleaned up after itself; what a prepared start made goes back here.
      if (prep) await this.unprepare(id, prep);
      // The state as it was before this start (it is set to running just before the runtime's start).
      c.State = prevState;
      c.HasBeenStarted = prevStarted;
      c.State.Status = c.HasBeenStarted ? 'exited' : 'created';
      if (/executable file not found|no such file or directory/.test(msg)) c.State.ExitCode = 127;
      else if (/permission denied|is a directory/i.test(msg)) c.State.ExitCode = 126;
      else c.State.ExitCode = 128;
      c.State.Error = msg;
      await this.save(c).catch(() => {});
      const l = this.L(id);
      for (const p of [...l.pendingAttach]) { l.pendingAttach.delete(p); p.onStreams(closedStreams()); }
      if (hc.AutoRemove) {
        this.notify(c, 'next-exit');
        await this.removeNow(c).catch(() => {});
      }
      // The network's own errors reach the client as they are (a 500 with no prefix, as Docker's,
      // whose network is set up before the task is created).
      if (networkFailed || refused || (isBerthError(e) && e.code !== 'ERR_INTERNAL')) throw e;
      throw new BerthError('ERR_INVALID_ARGUMENT', `failed to create task for container: ${msg}`);
    }
  }

  /** Binds asking for shared or slave propagation need a source mount that can give it. */
  private checkPropagation(c: ContainerRecord): void {
    for (const b of [...(c.HostConfig.Binds ?? []), ...this.volumesFrom(c)]) {
      const m = parseBind(b);
      checkBindPropagation(m.source!, m.options![1]!);
    }
    for (const m of c.HostConfig.Mounts ?? []) {
      if (m.Type === 'bind' && m.Source && m.BindOptions?.Propagation) checkBindPropagation(m.Source, m.BindOptions.Propagation);
    }
  }

  /** container:<id> mode: the other container's network namespace. */
  /**
   * `--volumes-from ctr[:ro|rw]`: the other container's bind mounts, read-only or with their own
   * mode (Berth has no named volumes yet, so binds are all there is to share).
   */
  private volumesFrom(c: ContainerRecord): string[] {
    const out: string[] = [];
    for (const v of (c.HostConfig.VolumesFrom as string[] | null | undefined) ?? []) {
      const [ref = '', mode] = v.split(':');
      const o = this.find(ref);
      if (!o) throw errors.invalid(`No such container: ${ref}`);
      for (const b of o.HostConfig.Binds ?? []) {
        const m = parseBind(b);
        out.push(`${m.source}:${m.destination}:${mode ?? (m.options?.includes('ro') ? 'ro' : 'rw')}`);
      }
      for (const m of o.HostConfig.Mounts ?? []) {
        if (m.Type === 'bind' && m.Source && m.Target) out.push(`${m.Source}:${m.Target}:${mode ?? (m.ReadOnly ? 'ro' : 'rw')}`);
      }
    }
    return out;
  }

  /**
   * `--volumes-from`: the other containers' `--mount type=tmpfs` mounts come along too, as with
   * Docker (each container gets a tmpfs of its own there; binds are in volumesFrom).
   */
  inheritedTmpfs(c: ContainerRecord): NonNullable<HostConfig['Mounts']> {
    const out: NonNullable<HostConfig['Mounts']> = [];
    for (const v of (c.HostConfig.VolumesFrom as string[] | null | undefined) ?? []) {
      const [ref = '', mode] = v.split(':');
      const o = this.find(ref);
      // `:ro` makes every inherited mount read-only, as Docker does.
      for (const m of o?.HostConfig.Mounts ?? []) if (m.Type === 'tmpfs' && m.Target) out.push({ ...m, ReadOnly: !!m.ReadOnly || mode === 'ro' });
    }
    return out;
  }

  /** volumesFrom as Mounts entries for inspect (without failing for a source container removed since). */
  inheritedMounts(c: ContainerRecord): { Type: string; Source: string; Destination: string; Mode: string; RW: boolean }[] {
    const binds = this.volumesFromSafe(c).map((b) => parseBind(b)).map((m) => {
      const ro = !!m.options?.includes('ro');
      return { Type: 'bind', Source: m.source!, Destination: m.destination, Mode: ro ? 'ro' : 'rw', RW: !ro };
    });
    return [...binds, ...this.inheritedTmpfs(c).map((m) => ({ Type: 'tmpfs', Source: '', Destination: m.Target!, Mode: '', RW: !m.ReadOnly }))];
  }

  /**
   * Legacy `--link name[:alias]` on the default bridge: "IP alias id name" lines in /etc/hosts, as
   * Docker writes them (its link environment variables are not set). The target must be running.
   */
  private linkLines(c: ContainerRecord): string[] {
    const out: string[] = [];
    for (const l of (c.HostConfig.Links as string[] | null | undefined) ?? []) {
      const [rawName = '', rawAlias] = l.split(':');
      const name = rawName.replace(/^\//, '');
      const alias = (rawAlias ?? name).split('/').pop()!;
      const t = this.find(name);
      if (!t || (t.State.Status !== 'running' && t.State.Status !== 'paused')) throw errors.invalid(`Cannot link to a non running container: /${name} AS /${c.Name}/${alias}`);
      const ip = t.Network?.IPAddress;
      if (!ip) throw errors.invalid(`Cannot link to /${name}, as it does not belong to the default network`);
      out.push(`${ip}\t${[...new Set([alias, t.Id.slice(0, 12), t.Name])].join(' ')}`);
    }
    return out;
  }

  /**
   * /dev/shm as Docker gives it for the IPC mode: none for `none`; for `shareable`, a tmpfs on the
   * host (mounted now, given back with the rootfs) that joiners bind too; for `container:<id>`, that
   * donor's (joinedNs has checked it is shareable and running); else a tmpfs of its own.
   */
  private async shmSource(c: ContainerRecord): Promise<string | null | undefined> {
    const ipc = c.HostConfig.IpcMode ?? '';
    if (ipc === 'none') return null;
    if (ipc === 'shareable') return mountShm(this.cdir(c.Id), c.HostConfig.ShmSize || DEFAULT_SHM_SIZE);
    if (ipc.startsWith('container:')) return join(this.cdir(this.get(ipc.slice(10)).Id), SHM_DIR);
    return undefined;
  }

  /**
   * The container's /etc/hosts before its own address is added at start (connectNetwork): Docker's
   * file with --add-host and link lines, or for `--network host` without them a copy of the host's
   * (undefined: writeEtcFiles copies it).
   */
  private hostsText(c: ContainerRecord, hostname: string): string | undefined {
    const hc = c.HostConfig;
    const lines = [...(hc.ExtraHosts ?? []).map((h) => extraHostLine(h, this.network?.gateway())), ...this.linkLines(c)];
    if ((hc.NetworkMode ?? 'bridge') === 'host' && lines.length === 0) return undefined;
    return hostsFile({ hostname, lines });
  }

  /** `--network`/`--pid`/`--ipc container:<id>`: that container's namespace (it must run; IPC only from a shareable one, as Docker). */
  private joinedNs(ref: string, kind: 'net' | 'pid' | 'ipc'): string {
    const o = this.get(ref);
    const what = { net: 'network', pid: 'PID', ipc: 'IPC' }[kind];
    if (o.State.Status !== 'running' && o.State.Status !== 'paused') throw errors.conflict(`cannot join ${what} of a non running container: ${o.Id}`);
    if (kind === 'ipc' && o.HostConfig.IpcMode !== 'shareable') {
      throw errors.conflict(`can't join IPC of container ${o.Id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
    }
    return `/proc/${o.State.Pid}/ns/${kind}`;
  }

  /** Plumb the container's network namespace (before its process starts). */
  private async connectNetwork(c: ContainerRecord, netns: string, hostname: string, hostsPath: string | undefined): Promise<void> {
    const mode = c.HostConfig.NetworkMode || 'bridge';
    c.Network = undefined;
    if (mode === 'host' || mode.startsWith('container:')) return;
    if (!this.network || !this.net) return;
    if (mode === 'none') { await this.network.attachNone(netns); return; }
    if (mode !== 'bridge' && mode !== 'default') throw errors.notFound(`network ${mode} not found`);
    const hc = c.HostConfig;
    const ports = this.net.portRequestsFromConfig(hc.PortBindings as never, c.Config.ExposedPorts, !!hc.PublishAllPorts);
    const a = await this.network.attach(c.Id, netns, { ports, hostname, name: c.Name, mac: c.Config.MacAddress || undefined });
    c.Network = {
      IPAddress: a.ipAddress, IPPrefixLen: a.prefixLen, Gateway: a.gateway, MacAddress: a.macAddress,
      Ports: this.net.toDockerPorts(a.ports, c.Config.ExposedPorts), SandboxKey: a.sandboxKey, NetworkID: a.networkId, EndpointID: a.endpointId,
    };
    // The container's own address in its /etc/hosts: rewritten in place (it is bind-mounted by inode).
    if (hostsPath) {
      const text = await fsp.readFile(hostsPath, 'utf8');
      const fh = await fsp.open(hostsPath, 'r+');
      try {
        const data = `${text}${ownHostsLine(a.ipAddress, hostname, c.Config.Domainname || undefined)}\n`;
        await fh.truncate(0);
        await fh.write(data, 0);
      } finally { await fh.close(); }
    }
  }

  private watchExit(c: ContainerRecord): void {
    const l = this.L(c.Id);
    l.logKeeper?.stop();
    l.logKeeper = this.logKeeper(c);
    l.logKeeper?.start();
    l.exited = this.runtime.waitExit(c.Id).then(
      (st) => this.handleExit(c, st, false),
      (e) => { log.warn('waiting for container exit failed', { id: shortId(c.Id), err: String(e) }); return this.handleExit(c, { exitCode: 255, finishedAt: new Date() }, false); },
    );
  }

  private async handleExit(c: ContainerRecord, st: ExitStatus, adopted: boolean): Promise<void> {
    if (this.closing) return;
    const id = c.Id;
    this.live.get(id)?.health?.stop();
    const t = stages('container exit stages');
    const detectMs = Date.now() - st.finishedAt.getTime();
    // The process is gone (conmon wrote its exit code): the runtime's bookkeeping (runc delete:
    // state dir, cgroups) is not needed for anything the client sees, so it runs in the
    // background; a new start of this container waits for it, close() drains it, and a daemon
    // killed meanwhile sweeps it at init (sweepRuntime).
    const l = this.L(id);
    // After an exit while the daemon was away there is no keeper yet, but its link may be there.
    (l.logKeeper ?? this.logKeeper(c))?.stop();
    l.logKeeper = undefined;
    l.reaped = this.later(this.runtime.delete(id, { force: true }).catch((e) => {
      if (!isBerthError(e, 'ERR_NO_SUCH_CONTAINER')) log.warn('runtime delete failed', { id: shortId(id), err: String(e) });
    }));
    // A --rm container's rootfs is unmounted by removeNow, in the background.
    const removing = !!c.HostConfig.AutoRemove && this.byId.has(id);
    if (!removing) await releaseRootfs(this.cdir(id), await this.runtime.helperPath()).catch((e) => log.warn('releasing rootfs failed', { err: String(e) }));
    t.mark('rootfsMs');
    const ns = c.Network?.SandboxKey;
    const ownNs = !!ns && posix.dirname(ns) === this.runtime.netnsDir;
    await this.network?.detach(id, { netnsGoing: ownNs }).catch((e) => log.warn('network detach failed', { err: String(e) }));
    if (ns && ownNs) {
      this.later(this.runtime.removeNetns(ns).catch((e) => log.warn('removing a network namespace failed', { path: ns, err: String(e) })));
    }
    t.mark('networkMs');
    c.State = { ...c.State, Status: 'exited', Pid: 0, ExitCode: st.exitCode, FinishedAt: st.finishedAt.toISOString(), OOMKilled: !!st.oomKilled };
    if (c.State.Health) c.State.Health = { ...c.State.Health, Status: 'unhealthy' };
    // A --rm container is deleted right below: skip persisting a state nobody will read.
    if (this.byId.has(id) && !c.HostConfig.AutoRemove) await this.save(c).catch((e) => log.warn('saving container state failed', { err: String(e) }));
    // Whole seconds the process ran, as moby's die event counts them.
    const ran = Math.max(0, Math.trunc((st.finishedAt.getTime() - Date.parse(c.State.StartedAt)) / 1000)) || 0;
    this.publish(c, 'die', { exitCode: String(st.exitCode), execDuration: String(ran) });
    this.publishNetwork(c, 'disconnect');
    this.notify(c, 'next-exit');
    t.mark('stateMs');
    if (c.HostConfig.AutoRemove && this.byId.has(id)) {
      await this.removeNow(c).catch((e) => log.warn('auto-remove failed', { id: shortId(id), err: String(e) }));
      t.mark('removeMs');
      t.done({ id: shortId(id), detectMs });
      return;
    }
    t.done({ id: shortId(id), detectMs });
    this.maybeRestart(c, adopted);
  }

  /** `counted`: the restart was already counted (a container adopted while it waited for one). */
  private maybeRestart(c: ContainerRecord, _adopted: boolean, counted = false): void {
    const p = c.HostConfig.RestartPolicy?.Name ?? 'no';
    if (c.ManualStop || p === 'no' || p === '' || this.closing || !this.byId.has(c.Id)) return;
    if (p === 'on-failure') {
      if (c.State.ExitCode === 0) return;
      const max = c.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0;
      if (max > 0 && c.RestartCount >= max) return;
    }
    // Docker backs off from 100 ms, doubling; keep it simple and bounded.
    const delay = Math.min(100 * 2 ** Math.min(c.RestartCount, 8), 30_000);
    const l = this.L(c.Id);
    // Docker shows "Restarting" while the policy's back-off runs, and counts the restart as it
    // decides on it (inspect shows the new RestartCount during the back-off).
    c.State.Status = 'restarting';
    if (!counted) c.RestartCount++;
    l.restartTimer = setTimeout(() => {
      l.restartTimer = undefined;
      void this.locked(c.Id, async () => {
        if (c.ManualStop || c.State.Status !== 'restarting' || !this.byId.has(c.Id)) return;
        await this.startLocked(c);
        this.publish(c, 'restart');
      }).catch((e) => log.warn('restart failed', { id: shortId(c.Id), err: String(e) }));
    }, delay);
    l.restartTimer.unref();
  }

  /** Cancel a scheduled policy restart; true if the container was waiting for one. */
  private cancelRestart(c: ContainerRecord): boolean {
    const l = this.L(c.Id);
    if (l.restartTimer) { clearTimeout(l.restartTimer); l.restartTimer = undefined; }
    if (c.State.Status !== 'restarting') return false;
    c.State.Status = 'exited';
    return true;
  }

  private notify(c: ContainerRecord, what: 'next-exit' | 'removed'): void {
    const l = this.live.get(c.Id);
    if (!l) return;
    const err = null;
    for (const w of [...l.waiters]) {
      if (what === 'removed' ? w.cond === 'removed' : w.cond !== 'removed') {
        l.waiters.delete(w);
        w.resolve({ StatusCode: c.State.ExitCode, Error: err });
      }
    }
  }

  // ---- wait -------------------------------------------------------------------------------------

  /**
   * Register a waiter synchronously (before the caller flushes headers), returning a promise of the
   * result. not-running resolves at once for a stopped container.
   */
  wait(ref: string, condition: string | undefined): Promise<{ StatusCode: number; Error: null | { Message: string } }> {
    const c = this.get(ref);
    const cond = (condition || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw errors.invalid(`invalid condition: "${condition}"`);
    if (cond === 'not-running' && !this.isRunning(c)) return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    return new Promise((resolve) => { this.L(c.Id).waiters.add({ cond, resolve }); });
  }

  /** Drop a waiter when the client goes away. */
  cancelWaits(ref: string): void { void ref; }

  // ---- stop / kill / restart / pause ------------------------------------------------------------

  async stop(ref: string, opts: { t?: number; signal?: string } = {}): Promise<void> {
    const c = this.get(ref);
    const l = this.L(c.Id);
    if (this.cancelRestart(c)) { c.ManualStop = true; await this.save(c); this.publish(c, 'stop'); return; }
    if (!this.isRunning(c)) { c.ManualStop = true; throw new BerthError('ERR_NOT_MODIFIED', 'container already stopped'); }
    c.ManualStop = true;
    // Saved before the signal, as Docker does: a daemon killed during the stop must not let the
    // policy bring the container back at its next start.
    await this.save(c, { durable: false });
    const timeout = opts.t ?? c.Config.StopTimeout ?? 10;
    const signal = opts.signal || c.Config.StopSignal || 'SIGTERM';
    this.publish(c, 'kill', { signal: String(parseSignal(signal)) });
    if (c.State.Status === 'paused') await this.runtime.resume(c.Id).catch(() => {});
    // As Docker: a second "kill" event (signal 9) when the timeout runs out.
    await this.runtime.stop(c.Id, { signal, timeoutSeconds: timeout, onKill: () => this.publish(c, 'kill', { signal: '9' }) });
    await l.exited;
    this.publish(c, 'stop');
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    // In Docker's order: the signal is read first ("Invalid signal: x" as it is), then every
    // other error carries the router's "Cannot kill container: <ref>: " prefix.
    const sig = signal || 'SIGKILL';
    const n = parseSignal(sig);
    if (!signalSupported(n)) throw errors.invalid(`Cannot kill container: ${ref}: the linux daemon does not support signal ${n}`);
    const c = this.find(ref);
    if (!c) throw new BerthError('ERR_NO_SUCH_CONTAINER', `Cannot kill container: ${ref}: No such container: ${ref}`);
    if (c.State.Status === 'restarting') throw errors.conflict(`Cannot kill container: ${ref}: Container ${c.Id} is restarting, wait until the container is running`);
    if (!this.isRunning(c)) throw errors.conflict(`Cannot kill container: ${ref}: Container ${c.Id} is not running`);
    if (n === 9 || n === 15 || n === 2) { c.ManualStop = true; await this.save(c, { durable: false }); }
    await this.runtime.kill(c.Id, sig);
    this.publish(c, 'kill', { signal: String(n) });
    // As Docker: a paused container is resumed after the signal, so that it is delivered. runc
    // thaws it for SIGKILL (the runtime layer does it for crun); for another signal that ends it,
    // it may be gone already.
    if (c.State.Status === 'paused' && n !== 9) {
      await this.runtime.resume(c.Id).catch((e: Error) => { if (!/not paused|not running|No such container/i.test(e.message)) throw e; });
      // Unless the signal ended it meanwhile (the exit handler has then recorded that).
      if (c.State.Status === 'paused') {
        c.State.Status = 'running';
        await this.save(c);
        this.publish(c, 'unpause');
      }
    }
    if (n === 9) await this.L(c.Id).exited;
  }

  async restart(ref: string, opts: { t?: number; signal?: string } = {}): Promise<void> {
    const c = this.get(ref);
    this.cancelRestart(c);
    if (this.isRunning(c)) await this.stop(ref, opts).catch((e) => { if (!isBerthError(e, 'ERR_NOT_MODIFIED')) throw e; });
    await this.locked(c.Id, async () => {
      await this.L(c.Id).exited;
      if (this.isRunning(c)) return;
      c.ManualStop = false;
      c.RestartCount = 0;
      await this.startLocked(c);
    });
    this.publish(c, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    if (c.State.Status === 'paused') throw errors.conflict(`Container ${c.Id} is already paused`);
    if (c.State.Status !== 'running') throw errors.conflict(`Container ${c.Id} is not running`);
    await this.runtime.pause(c.Id);
    c.State.Status = 'paused';
    await this.save(c);
    this.publish(c, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    // Docker answers this one with an untyped error: a 500, not a conflict.
    if (c.State.Status !== 'paused') throw errors.internal(`Container ${c.Id} is not paused`);
    await this.runtime.resume(c.Id);
    c.State.Status = 'running';
    await this.save(c);
    this.publish(c, 'unpause');
  }

  // ---- remove / rename --------------------------------------------------------------------------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    const l = this.L(c.Id);
    this.cancelRestart(c);
    if (this.isRunning(c)) {
      if (!opts.force) {
        // Docker's words, with the state the container is in.
        const what = c.State.Status === 'paused' ? 'unpause and then stop' : 'stop';
        throw new BerthError('ERR_CONTAINER_RUNNING', `cannot remove container "/${c.Name}": container is ${c.State.Status}: ${what} the container before removing or force remove`);
      }
      c.ManualStop = true;
      // --rm containers remove themselves on exit; do it here instead.
      c.HostConfig.AutoRemove = false;
      // Docker's force removal kills through its kill path, event included.
      if (c.State.Status === 'running' || c.State.Status === 'paused') this.publish(c, 'kill', { signal: '9' });
      await this.runtime.kill(c.Id, 'SIGKILL').catch(() => {});
      await l.exited;
    } else await l.exited;
    if (!this.byId.has(c.Id)) return;
    await this.removeNow(c);
  }

  private async removeNow(c: ContainerRecord): Promise<void> {
    const id = c.Id;
    if (!this.byId.has(id) && c.State.Status !== 'removing') return;
    // A preparation made ahead must be back (unmounted) before the directory is set aside.
    await this.dropAhead(id);
    c.State.Status = 'removing';
    // After an exit handled here, the runtime side is already being cleaned up (handleExit).
    if (!this.live.get(id)?.reaped) await this.runtime.delete(id, { force: true }).catch(() => {});
    // Renamed aside at once (the id is free); unmounted and deleted in the background — in that
    // order, so the delete never walks into a mounted rootfs. init() sweeps what a crash leaves.
    const aside = await setAside(this.cdir(id));
    if (aside) this.later(this.removeAside(aside));
    this.byId.delete(id);
    if (this.names.get(c.Name) === id) this.names.delete(c.Name);
    this.publish(c, 'destroy');
    this.notify(c, 'removed');
    this.notify(c, 'next-exit');
    this.live.delete(id);
  }

  /** Unmount and delete a container dir set aside by removeNow (errors are logged). */
  private async removeAside(dir: string): Promise<void> {
    try {
      await releaseRootfs(dir, await this.runtime.helperPath());
      await fsp.rm(dir, { recursive: true, force: true });
    } catch (e) {
      log.warn('removing container files failed', { dir, err: String(e) });
    }
  }

  async rename(ref: string, newName: string): Promise<void> {
    // Docker checks the names before looking the container up.
    if (!ref || !newName) throw errors.invalid('Neither old nor new names may be empty');
    const c = this.get(ref);
    const n = newName.replace(/^\//, '');
    // Docker's words: the name's own problem after "Error when allocating new name: ".
    if (!VALID_NAME.test(newName)) throw errors.invalid(`Error when allocating new name: Invalid container name (/${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (n === c.Name) throw errors.invalid(`Renaming a container with the same name as its current name`);
    const taken = this.names.get(n);
    if (taken) throw new BerthError('ERR_NAME_IN_USE', `Error when allocating new name: Conflict. The container name "/${n}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`);
    const old = c.Name;
    this.names.delete(old);
    this.names.set(n, c.Id);
    c.Name = n;
    await this.save(c);
    this.publish(c, 'rename', { oldName: `/${old}` });
  }

  /**
   * POST /update: resources and restart policy. Stored for the next start; a running container's
   * cgroup is updated through the OCI runtime's `update`.
   */
  async update(ref: string, body: Partial<HostConfig>): Promise<{ Warnings: string[] | null }> {
    const c = this.get(ref);
    const cur = c.HostConfig;
    body = { ...body };
    const warnings: string[] = [];
    // As at create: a weight the host cannot apply is dropped with Docker's warning.
    if (body.BlkioWeight && !blkioWeightSupported()) {
      warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
      body.BlkioWeight = 0;
    }
    // A pids limit of 0 or less lifts the limit (Docker stores 0; the runtime takes -1).
    const pidsUnlimited = typeof body.PidsLimit === 'number' && body.PidsLimit <= 0;
    // What Docker refuses (a 409 naming the container), checked before anything changes.
    const refuse = (m: string) => errors.conflict(`Cannot update container ${c.Id}: ${m}`);
    // Values out of range first, in the words create uses (Docker checks them before the conflicts).
    if (body.RestartPolicy) checkRestartPolicy(body.RestartPolicy);
    const keys = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;
    const given = (k: typeof keys[number]) => body[k] !== undefined && body[k] !== null && body[k] !== 0 && body[k] !== '' && !(k === 'PidsLimit' && pidsUnlimited);
    if (keys.some(given)) {
      // The limits alone, through the same spec check as create; the conflicts with what is set come next.
      const alone: Partial<HostConfig> = {};
      for (const k of keys) if (given(k)) (alone as Record<string, unknown>)[k] = body[k];
      buildSpec(this.specOptions({ ...c, HostConfig: { ...cur, ...alone, NanoCpus: alone.NanoCpus ?? 0, CpuQuota: alone.CpuQuota ?? 0, CpuPeriod: alone.CpuPeriod ?? 0, Memory: alone.Memory ?? (alone.MemorySwap ? cur.Memory : 0), MemorySwap: alone.MemorySwap ?? 0 } },
        { rootfs: '/', cwd: c.Config.WorkingDir || '/', user: { uid: 0, gid: 0 }, hostname: c.Config.Hostname || c.Id.slice(0, 12), etc: {} }));
    }
    if (body.NanoCpus && cur.CpuPeriod) throw refuse('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
    if (body.NanoCpus && cur.CpuQuota) throw refuse('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
    if (body.CpuPeriod && cur.NanoCpus) throw refuse('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
    if (body.CpuQuota && cur.NanoCpus) throw refuse('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    if (body.Memory && body.Memory > (cur.MemorySwap ?? 0) && !body.MemorySwap) {
      throw refuse('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    // An empty name leaves the policy as it is (the CLI sends one with every update, as moby reads it).
    if (body.RestartPolicy?.Name && cur.AutoRemove && body.RestartPolicy.Name !== 'no') {
      throw refuse('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (this.isRunning(c) && c.State.Status !== 'restarting') {
      const r: Record<string, unknown> = {};
      // The swap limit goes along (the one stored, unless this update sets one): the kernel keeps
      // memory+swap at or above memory, so runc must write both in the right order.
      const swap = body.MemorySwap || cur.MemorySwap;
      const memory: Record<string, unknown> = {};
      if (body.Memory || body.MemorySwap) Object.assign(memory, { limit: body.Memory || cur.Memory }, swap ? { swap } : {});
      if (body.MemoryReservation) memory.reservation = body.MemoryReservation;
      if (Object.keys(memory).length) r.memory = memory;
      const cpu: Record<string, unknown> = {};
      if (body.NanoCpus) { cpu.period = 100000; cpu.quota = Math.round(body.NanoCpus / 1e4); }
      if (body.CpuShares) cpu.shares = body.CpuShares;
      if (body.CpuQuota) cpu.quota = body.CpuQuota;
      if (body.CpuPeriod) cpu.period = body.CpuPeriod;
      if (body.CpusetCpus) cpu.cpus = body.CpusetCpus;
      if (body.CpusetMems) cpu.mems = body.CpusetMems;
      if (Object.keys(cpu).length) r.cpu = cpu;
      if (pidsUnlimited) r.pids = { limit: -1 };
      else if (body.PidsLimit) r.pids = { limit: body.PidsLimit };
      if (body.BlkioWeight) r.blockIO = { weight: body.BlkioWeight };
      if (Object.keys(r).length) await this.runtimeUpdate(c, r);
    }
    const hc = cur as Record<string, unknown>;
    for (const k of keys) if (given(k)) hc[k] = body[k];
    if (pidsUnlimited) cur.PidsLimit = 0;
    if (body.RestartPolicy?.Name) cur.RestartPolicy = body.RestartPolicy;
    await this.save(c);
    this.publish(c, 'update');
    return { Warnings: warnings.length ? warnings : null }; // null when none, as Docker's reply
  }

  private async runtimeUpdate(c: ContainerRecord, resources: Record<string, unknown>): Promise<void> {
    await this.runtime.update(c.Id, resources);
  }

  // ---- logs / attach ----------------------------------------------------------------------------

  /** A keeper of rotated log files for a container logging with max-size and max-file > 1. */
  private logKeeper(c: ContainerRecord): LogKeeper | undefined {
    const files = logMaxFile(c.HostConfig.LogConfig);
    if (!this.logged(c) || !logSizeMax(c.HostConfig.LogConfig) || files < 2) return undefined;
    return new LogKeeper(this.logPath(c.Id), files);
  }

  /** Stream logs into `out` (frames unless TTY). Resolves when done (or the client left). */
  async logs(ref: string, opts: LogOptions, out: Writable, signal: AbortSignal): Promise<void> {
    const c = this.get(ref);
    if (!this.logged(c)) throw errors.notImplemented('configured logging driver does not support reading');
    const tty = !!c.Config.Tty;
    const stopped = opts.follow && this.isRunning(c) ? (this.L(c.Id).exited ?? Promise.resolve()) : undefined;
    await readLogs(this.logPath(c.Id), { ...opts, ended: !this.isRunning(c) }, (e) => writeOrWait(out, encodeEntry(e, tty, opts.timestamps, opts.details)), stopped, signal);
  }

  /**
   * Attach a hijacked connection: output (framed unless TTY) goes to `sock`, and with stdin the
   * client's bytes go to the container. Before start, the attach is hooked up at start.
   */
  async attach(ref: string, opts: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean; stream: boolean; detachKeys?: string }, sock: Duplex): Promise<void> {
    const c = this.get(ref);
    const tty = !!c.Config.Tty;
    const keys = parseDetachKeys(opts.detachKeys || DEFAULT_DETACH_KEYS);
    if (opts.logs && this.logged(c)) {
      const ac = new AbortController();
      sock.once('close', () => ac.abort());
      await readLogs(this.logPath(c.Id), { stdout: opts.stdout, stderr: opts.stderr, follow: false, timestamps: false, ended: !this.isRunning(c) }, (e) => writeOrWait(sock, encodeEntry(e, tty, false)), undefined, ac.signal);
    }
    if (!opts.stream) { sock.end(); return; }
    const useStdin = opts.stdin && !!c.Config.OpenStdin;
    const streams = await new Promise<AttachStreams>((resolve, reject) => {
      if (c.State.Status === 'running' || c.State.Status === 'paused') {
        this.runtime.attach(c.Id).then(resolve, reject);
      } else {
        const p: PendingAttach = { stdin: useStdin, onStreams: resolve };
        this.L(c.Id).pendingAttach.add(p);
        sock.once('close', () => { if (this.live.get(c.Id)?.pendingAttach.delete(p)) resolve(closedStreams()); });
      }
    });
    this.publish(c, 'attach');
    const pipeOut = (src: NodeJS.ReadableStream, kind: 1 | 2, want: boolean) => {
      src.on('data', (d: Buffer) => { if (want && !sock.destroyed) sock.write(tty ? d : frame(kind, d)); });
    };
    pipeOut(streams.stdout, 1, opts.stdout);
    pipeOut(streams.stderr, 2, opts.stderr);
    if (useStdin && streams.stdin) {
      const stdin = streams.stdin;
      // Detaching ends this attach only: the container and its stdin carry on.
      let detached = false;
      const detach = () => {
        if (detached) return;
        detached = true;
        streams.close();
        if (!sock.destroyed) sock.end();
      };
      // As Docker: the keys are looked for only with a TTY (binary input through `-i` passes untouched).
      const feed = tty ? detachFilter(keys, (b) => stdin.write(b), detach) : (b: Buffer) => { stdin.write(b); };
      sock.on('data', (d: Buffer) => { if (!detached) feed(d); });
      // The client's end of input, as Docker treats it: it closes the container's stdin when that
      // is stdin-once without a TTY (`echo x | docker run -i`), and otherwise detaches.
      const onEnd = () => { if (c.Config.StdinOnce && !tty) stdin.end(); else detach(); };
      sock.on('end', onEnd);
      if (sock.readableEnded) onEnd(); // the client's end came while the relay was being set up
      sock.resume(); // flowing even if something paused the socket before (see exec/service.ts)
    }
    sock.on('close', () => streams.close());
    sock.on('error', () => streams.close());
    // A client that left while the relay was being set up (its 'close' is past): the relay would
    // otherwise outlive it, a helper process and a conmon connection per abandoned attach.
    if (sock.destroyed) streams.close();
    await streams.done;
    // Let the output flush before the half-close.
    await new Promise<void>((r) => setImmediate(r));
    if (!sock.destroyed) sock.end();
  }

  async resize(ref: string, h: number, w: number): Promise<void> {
    const c = this.get(ref);
    if (!this.isRunning(c)) throw errors.conflict(`Container ${c.Id} is not running`);
    await this.runtime.resize(c.Id, h, w).catch((e) => { if (!isBerthError(e, 'ERR_CONFLICT')) throw e; });
    this.publish(c, 'resize', { height: String(h), width: String(w) });
  }

  /** Run `fn` with the container's rootfs mounted (mounted temporarily when it is not running). */
  async withRootfs<T>(c: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T> {
    if (c.State.Status === 'running' || c.State.Status === 'paused') return fn(this.rootfsPath(c.Id));
    return this.locked(c.Id, async () => {
      if (c.State.Status === 'running' || c.State.Status === 'paused') return fn(this.rootfsPath(c.Id));
      // What `fn` changes (a copied-in /etc/passwd, say) would make a preparation made ahead stale.
      await this.dropAhead(c.Id);
      const dir = this.cdir(c.Id);
      const layers = this.image(c).layers.map((l) => this.d.snapshots.path(l.chainId)).reverse();
      const helper = await this.runtime.helperPath();
      const { rootfs } = await prepareRootfs({ layers, initLayer: this.initLayer(dir), containerDir: dir, helper });
      try { return await fn(rootfs); } finally { await releaseRootfs(dir, helper).catch(() => {}); }
    });
  }

  /**
   * The container's filesystem for docker cp, as Docker's daemon assembles it: the rootfs with the
   * bind mounts (-v, --mount, --volumes-from), the /etc files and a shareable /dev/shm over it.
   * tmpfs mounts live only inside a running container and are not part of it (as with Docker).
   */
  archiveView(c: ContainerRecord, root: string): RootView {
    const mounts: { dest: string; source: string; readOnly?: boolean }[] = [];
    for (const b of [...(c.HostConfig.Binds ?? []), ...this.volumesFromSafe(c)]) {
      const m = parseBind(b);
      mounts.push({ dest: posix.normalize(m.destination), source: m.source!, readOnly: !!m.options?.includes('ro') });
    }
    for (const m of c.HostConfig.Mounts ?? []) {
      if (m.Type === 'bind' && m.Source && m.Target) mounts.push({ dest: posix.normalize(m.Target), source: m.Source, readOnly: !!m.ReadOnly });
    }
    const etc = this.etcOf(c);
    for (const [dest, source] of [['/etc/hosts', etc.hostsPath], ['/etc/hostname', etc.hostnamePath], ['/etc/resolv.conf', etc.resolvConfPath]] as const) {
      if (source && existsSync(source)) mounts.push({ dest, source });
    }
    if (c.HostConfig.IpcMode === 'shareable') mounts.push({ dest: '/dev/shm', source: join(this.cdir(c.Id), SHM_DIR) });
    return { root, mounts };
  }

  /** volumesFrom, without failing for a source container removed since (its binds are then left out). */
  private volumesFromSafe(c: ContainerRecord): string[] {
    try { return this.volumesFrom(c); } catch { return []; }
  }

  /** Whether `p` exists in one of the image's layers (for /changes: A vs C). */
  async existsInImage(c: ContainerRecord, p: string): Promise<boolean> {
    for (const l of this.image(c).layers) {
      if (await fsp.lstat(join(this.d.snapshots.path(l.chainId), p)).then(() => true, () => false)) return true;
    }
    return false;
  }

  /** `p` as the image has it (its top-most layer holding it), if it does. */
  async imageStat(c: ContainerRecord, p: string): Promise<import('node:fs').Stats | undefined> {
    for (const l of [...this.image(c).layers].reverse()) {
      const st = await fsp.lstat(join(this.d.snapshots.path(l.chainId), p)).catch(() => undefined);
      if (st) return st.isCharacterDevice() && st.rdev === 0 ? undefined : st;
    }
    return undefined;
  }

  /**
   * Names the image has in directory `p`: the top-most layer holding a name decides, and a
   * whiteout there means it was deleted in the image.
   */
  async imageDirNames(c: ContainerRecord, p: string): Promise<string[]> {
    const seen = new Map<string, boolean>();
    for (const l of [...this.image(c).layers].reverse()) {
      const dir = join(this.d.snapshots.path(l.chainId), p);
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      for (const n of names) {
        if (seen.has(n)) continue;
        const st = await fsp.lstat(join(dir, n)).catch(() => undefined);
        seen.set(n, !!st && !(st.isCharacterDevice() && st.rdev === 0));
      }
    }
    return [...seen].filter(([, present]) => present).map(([n]) => n).sort();
  }

  // ---- shutdown ---------------------------------------------------------------------------------

  /** Leave containers running (they are re-adopted at the next start). */
  async close(): Promise<void> {
    this.closing = true;
    for (const l of this.live.values()) { if (l.restartTimer) clearTimeout(l.restartTimer); l.health?.stop(); l.logKeeper?.detach(); }
    await Promise.all([...this.live.keys()].map((id) => this.dropAhead(id)));
    await this.settled();
  }

  /** Wait for background cleanup (runtime deletes, removal of set-aside container dirs). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  /** Track work nobody waits on (errors must be handled by `p` itself). */
  private later(p: Promise<void>): Promise<void> {
    const q = p.finally(() => this.background.delete(q));
    this.background.add(q);
    return q;
  }

  // ---- list / inspect (shapes in ./view.ts) ------------------------------------------------------
  listRecords(filters: Filters, all: boolean): ContainerRecord[] {
    void filters; void all;
    return this.all();
  }
}

function closedStreams(): AttachStreams {
  const a = new PassThrough(); a.end();
  const b = new PassThrough(); b.end();
  return { stdin: null, stdout: a, stderr: b, done: Promise.resolve(), close: () => {} };
}

let hostHasIpv6: boolean | undefined;

/**
 * The container's sysctls. As Docker, a container with a network namespace of its own (bridge,
 * none) gets IPv6 turned off there, since its network has no IPv6 (Berth's bridge is IPv4 only): no
 * `::1` on lo and no link-local address on eth0. The client's own `--sysctl` values win.
 */
function networkSysctls(hc: HostConfig): Record<string, string> | undefined {
  const mode = hc.NetworkMode || 'bridge';
  if (!['bridge', 'default', 'none'].includes(mode)) return hc.Sysctls ?? undefined;
  // A kernel booted without IPv6 has no such files, and runc would fail to write them.
  hostHasIpv6 ??= existsSync('/proc/sys/net/ipv6/conf/all/disable_ipv6');
  if (!hostHasIpv6) return hc.Sysctls ?? undefined;
  return { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1', ...(hc.Sysctls ?? {}) };
}

/** What Docker refuses alongside `--network container:<id>` (the request's own config, not the image's). */
function checkNetworkModeConflicts(body: ContainerConfig, hc: HostConfig): void {
  if (!(hc.NetworkMode ?? '').startsWith('container:')) return;
  if (hc.NetworkMode === 'container:') throw errors.invalid('Invalid network mode: invalid container format container:<name|id>');
  if (body.Hostname) throw errors.invalid('conflicting options: hostname and the network mode');
  if ((hc.Links as string[] | null | undefined)?.length) throw errors.invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  if (hc.Dns?.length) throw errors.invalid('conflicting options: dns and the network mode');
  if (hc.ExtraHosts?.length) throw errors.invalid('conflicting options: custom host-to-IP mapping and the network mode');
  if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw errors.invalid('conflicting options: port publishing and the container type network mode');
  if (Object.keys(body.ExposedPorts ?? {}).length) throw errors.invalid('conflicting options: port exposing and the container type network mode');
}

/** --pid, --ipc and --uts as Docker accepts them (a container named in them must exist). */
function checkNamespaceModes(hc: HostConfig, cfg: ContainerConfig, find: (ref: string) => ContainerRecord | undefined): void {
  // A 400, not a 404: on a 404 from create the docker CLI goes to pull the image.
  const joined = (mode: string | undefined) => { if (mode?.startsWith('container:') && !find(mode.slice(10))) throw errors.invalid(`No such container: ${mode.slice(10)}`); };
  if (hc.PidMode && hc.PidMode !== 'host' && !/^container:./.test(hc.PidMode)) throw errors.invalid(`invalid PID mode: ${hc.PidMode}`);
  if (hc.IpcMode && !['private', 'shareable', 'host', 'none'].includes(hc.IpcMode) && !/^container:./.test(hc.IpcMode)) throw errors.invalid(`Invalid IPC mode: ${hc.IpcMode}`);
  if (hc.UTSMode && hc.UTSMode !== 'host') throw errors.invalid(`invalid UTS mode: ${hc.UTSMode}`);
  if (hc.CgroupnsMode && hc.CgroupnsMode !== 'host' && hc.CgroupnsMode !== 'private') throw errors.invalid(`invalid cgroup namespace mode: ${hc.CgroupnsMode}`);
  if (hc.UTSMode === 'host' && cfg.Hostname) throw errors.invalid('conflicting options: hostname and the UTS mode');
  joined(hc.PidMode);
  joined(hc.IpcMode);
}

/** `--device /dev/x[:/dev/y][:rwm]`: the host node's type and numbers (stat follows symlinks, as Docker). */
function hostDevice(d: { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }): NonNullable<SpecOptions['devices']>[number] {
  const host = d.PathOnHost ?? '';
  const fail = (why: string) => errors.invalid(`error gathering device information while adding custom device "${host}": ${why}`);
  let st;
  try { st = statSync(host); } catch (e) { throw fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message); }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw fail('not a device node');
  return {
    path: d.PathInContainer || host, type: st.isCharacterDevice() ? 'c' : 'b', ...deviceNumbers(st.rdev),
    fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, access: d.CgroupPermissions || 'rwm',
  };
}

/** A block device limit's node, resolved to major:minor as Docker's daemon does (its words on failure). */
function blockDevice(path: string | undefined): { major: number; minor: number } {
  let st;
  try { st = statSync(path ?? ''); } catch (e) {
    throw errors.invalid(`stat ${path ?? ''}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (!st.isBlockDevice()) throw errors.invalid(`${path} is not a block device`);
  return deviceNumbers(st.rdev);
}

function throttles(list: ThrottleDevice[] | null | undefined): OciThrottleDevice[] | undefined {
  return list?.length ? list.map((d) => ({ ...blockDevice(d.Path), rate: d.Rate ?? 0 })) : undefined;
}

// Drivers whose output Berth keeps in its own log file (read back by `logs`), and `none`.
const FILE_LOG_DRIVERS = new Set(['json-file', 'local', 'k8s-file']);
/** The drivers built into Docker (Linux) that Berth does not offer. */
const DOCKER_LOG_DRIVERS = new Set(['awslogs', 'fluentd', 'gcplogs', 'gelf', 'journald', 'logentries', 'splunk', 'syslog']);
/** The options Docker's drivers accept (only max-size acts here: every driver is Berth's one log file). */
const LOG_OPTS: Record<string, Set<string>> = {
  'json-file': new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag']),
  local: new Set(['max-size', 'max-file', 'compress']),
};

/** HostConfig.LogConfig as Docker stores it (json-file when unset); other drivers are refused. */
function checkLogConfig(lc: HostConfig['LogConfig']): { Type: string; Config: Record<string, string> } {
  const type = lc?.Type || 'json-file';
  if (!FILE_LOG_DRIVERS.has(type) && type !== 'none') {
    // A name that is none of Docker's own drivers is looked up as a plugin there, in these words.
    if (!DOCKER_LOG_DRIVERS.has(type)) throw errors.invalid(`error looking up logging plugin ${type}: plugin ${JSON.stringify(type)} not found`);
    throw errors.invalid(`logger: no log driver named '${type}' is registered`);
  }
  const config = { ...(lc?.Config ?? {}) };
  if (type === 'none' && Object.keys(config).length > 0) throw errors.invalid(`unknown log opt '${Object.keys(config)[0]}' for log driver none`);
  const known = LOG_OPTS[type];
  const unknown = known && Object.keys(config).find((k) => !known.has(k));
  if (unknown) throw errors.invalid(`unknown log opt '${unknown}' for ${type} log driver`);
  if (type !== 'none') checkFileLogOpts(type, config);
  return { Type: type, Config: config };
}

/** max-size, max-file and compress as Docker's json-file driver reads them, in its words. */
function checkFileLogOpts(type: string, config: Record<string, string>): void {
  const fail = (why: string) => errors.invalid(`failed to initialize logging driver: ${why}`);
  let size: number | undefined;
  if (config['max-size'] !== undefined) {
    size = parseSize(config['max-size'], 1000);
    if (size === undefined) throw fail(`invalid size: '${config['max-size']}'`);
    if (size <= 0) throw fail('max-size must be a positive number');
  }
  if (type === 'local') return;
  let files = 1;
  const mf = config['max-file'];
  if (mf !== undefined) {
    try { files = atoi(mf); } catch (e) { throw fail((e as Error).message); }
    if (files < 1) throw fail('max-file cannot be less than 1');
  }
  const c = config.compress;
  if (c !== undefined) {
    const on = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(c);
    if (!on && !['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(c)) throw fail(`strconv.ParseBool: parsing ${JSON.stringify(c)}: invalid syntax`);
    if (on && (files === 1 || size === undefined)) throw fail('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
}


/** Healthcheck timings as Docker's daemon checks them at create (nanoseconds; 0 means the default). */
function checkHealthcheck(h: HealthConfig | null | undefined): void {
  if (!h) return;
  const atLeast1ms = (k: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval') => {
    if (h[k] && h[k]! < 1e6) throw errors.invalid(`${k} in Healthcheck cannot be less than 1ms`);
  };
  // In Docker's order.
  atLeast1ms('Interval');
  atLeast1ms('Timeout');
  if (h.Retries !== undefined && h.Retries < 0) throw errors.invalid('Retries in Healthcheck cannot be negative');
  atLeast1ms('StartPeriod');
  atLeast1ms('StartInterval');
}

/** Write `chunk`; when `w` is full, a promise that settles once it drains (or is gone). */
function writeOrWait(w: Writable, chunk: Buffer): Promise<void> | undefined {
  if (w.destroyed) return undefined;
  if (w.write(chunk) || w.destroyed) return undefined;
  return new Promise((resolve) => {
    const done = () => { w.off('drain', done); w.off('close', done); resolve(); };
    w.on('drain', done);
    w.on('close', done);
  });
}

/** Docker's `local` driver bounds its log by default: 5 files of 20 MB. */
const LOCAL_MAX_SIZE = String(20 * 1024 * 1024);
const LOCAL_MAX_FILE = '5';

/** `--log-opt max-size=10m`: the bytes conmon lets the log file reach (it then starts it over). */
function logSizeMax(lc: HostConfig['LogConfig']): number | undefined {
  const v = lc?.Config?.['max-size'] ?? (lc?.Type === 'local' ? LOCAL_MAX_SIZE : undefined);
  // (Containers an older Berth created may hold "-1" or a size it read then: no limit for those.)
  const n = v === undefined ? undefined : parseSize(v, 1000);
  return n !== undefined && n > 0 ? n : undefined;
}

/** `--log-opt max-file=3`: how many files the log keeps with max-size (1 when unset or unreadable). */
function logMaxFile(lc: HostConfig['LogConfig']): number {
  const v = lc?.Config?.['max-file'] ?? (lc?.Type === 'local' ? LOCAL_MAX_FILE : undefined);
  const n = v === undefined ? 1 : Number.parseInt(v, 10);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

function parseSecurityOpts(opts: string[]): { noNewPrivileges: boolean; seccomp?: string } {
  let noNewPrivileges = false;
  let seccomp: string | undefined;
  for (const o of opts) {
    const [k, v = ''] = o.includes('=') ? [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)] : o.split(':', 2) as [string, string?];
    if (k === 'no-new-privileges') noNewPrivileges = v === '' || v === 'true';
    else if (k === 'seccomp') seccomp = v;
    else if (k === 'label' || k === 'apparmor') continue;
    else throw errors.invalid(`invalid --security-opt: "${o}"`);
  }
  return { noNewPrivileges, seccomp };
}

/**
 * `--gpus` and other device requests: Berth has no device driver (Docker's nvidia one needs
 * nvidia-container-runtime-hook, its CDI one asks for driver "cdi"), so a start that asks for a
 * device is refused as Docker's daemon refuses one no driver matches, not run without it.
 */
function checkDeviceRequests(c: ContainerRecord): void {
  type DeviceRequest = { Driver?: string; Capabilities?: string[][] | null };
  for (const r of ((c.HostConfig as { DeviceRequests?: DeviceRequest[] | null }).DeviceRequests ?? [])) {
    const caps = `[${(r.Capabilities ?? []).map((set) => `[${set.join(' ')}]`).join(' ')}]`;
    throw errors.internal(`could not select device driver ${JSON.stringify(r.Driver ?? '')} with capabilities: ${caps}`);
  }
}

/** Create a working directory inside the rootfs without following symlinks out of it. */
async function mkdirInRootfs(rootfs: string, path: string): Promise<void> {
  const parts = posix.normalize(path).split('/').filter(Boolean);
  let cur = rootfs;
  for (const [i, p] of parts.entries()) {
    if (p === '..') return;
    cur = join(cur, p);
    const st = await fsp.lstat(cur).catch(() => undefined);
    if (st) {
      if (st.isSymbolicLink()) return; // the runtime resolves it inside the container
      // The working directory itself a file: Docker's daemon refuses in these words (at create,
      // where Berth has no root filesystem yet; the status is a 400 here, not its 500).
      if (!st.isDirectory() && i === parts.length - 1) throw errors.invalid(`Cannot mkdir: ${path} is not a directory`);
      if (!st.isDirectory()) return;
      continue;
    }
    await fsp.mkdir(cur, { mode: 0o755 });
  }
}
