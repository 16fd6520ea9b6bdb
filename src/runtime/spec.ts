// Build an OCI runtime config.json (runtime-spec 1.0.2) from an image config plus create options,
// with Docker's defaults. Pure: all host facts come in via options or from defaults.ts.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../errors/index.js';
import {
  DEFAULT_CAPABILITIES, DEFAULT_DEVICES, DEFAULT_DEVICE_CGROUP, DEFAULT_PATH_ENV, DEFAULT_SECCOMP_PROFILE,
  DEFAULT_SHM_SIZE, DOCKER_NOFILE, MASKED_PATHS, READONLY_PATHS, dockerSeccompToOci, hasCgroupNamespace,
  hostCapabilities, grantableCapabilities, hostCpus, cpusetMembers, hostHardLimits, normalizeCap, type DockerSeccompProfile, type OciDevice, type OciDeviceCgroup,
  type OciSeccomp,
} from './defaults.js';

export interface OciMount { destination: string; type?: string; source?: string; options?: string[] }
export interface OciUser { uid: number; gid: number; additionalGids?: number[]; umask?: number }
export interface OciRlimit { type: string; hard: number; soft: number }
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: { bounding?: string[]; effective?: string[]; permitted?: string[]; inheritable?: string[]; ambient?: string[] };
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}
export interface OciNamespace { type: string; path?: string }
export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    weightDevice?: { major: number; minor: number; weight: number }[];
    throttleReadBpsDevice?: OciThrottleDevice[]; throttleWriteBpsDevice?: OciThrottleDevice[];
    throttleReadIOPSDevice?: OciThrottleDevice[]; throttleWriteIOPSDevice?: OciThrottleDevice[];
  };
}
export interface OciThrottleDevice { major: number; minor: number; rate: number }
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: OciNamespace[];
    devices?: OciDevice[];
    resources?: OciResources;
    cgroupsPath?: string;
    sysctl?: Record<string, string>;
    seccomp?: OciSeccomp;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
  };
}

/** The parts of an OCI image config (`config` object) that shape the process. */
export interface ImageRuntimeConfig {
  User?: string;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  StopSignal?: string;
}

export interface Ulimit { name: string; soft: number; hard: number }

export interface SpecResources {
  memory?: number;          // bytes; 0 = unlimited
  memoryReservation?: number;
  memorySwap?: number;      // bytes incl. memory; -1 = unlimited swap; 0/undefined = 2 × memory (Docker)
  memorySwappiness?: number;
  nanoCpus?: number;        // --cpus × 1e9
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;       // <= 0 = unlimited
  blkioWeight?: number;
  /** Per block device (major:minor already resolved): --blkio-weight-device, --device-{read,write}-{bps,iops}. */
  blkioWeightDevice?: { major: number; minor: number; weight: number }[];
  blkioThrottle?: { readBps?: OciThrottleDevice[]; writeBps?: OciThrottleDevice[]; readIOps?: OciThrottleDevice[]; writeIOps?: OciThrottleDevice[] };
  cpuRealtimeRuntime?: number;
  cpuRealtimePeriod?: number;
  oomKillDisable?: boolean;
}

export interface SpecOptions {
  /** Container ID: names the cgroup (`/berth/<id>` unless cgroupsPath is given). */
  id: string;
  /** Root filesystem directory (absolute, or relative to the bundle). */
  rootfs: string;
  image?: ImageRuntimeConfig;
  /** Overrides of the image's Entrypoint/Cmd (Docker semantics: a new entrypoint drops the image Cmd). */
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  env?: string[];
  cwd?: string;
  /** Numeric user, from resolveUser(); defaults to root. */
  user?: OciUser;
  tty?: boolean;
  hostname?: string;
  domainname?: string;
  privileged?: boolean;
  /** `--device`: host device nodes made in the container's /dev and allowed by its device cgroup. */
  devices?: { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number; access: string }[];
  /** /proc and /sys paths masked and made read-only; Docker's lists when not given. Not with privileged. */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  capAdd?: string[];
  capDrop?: string[];
  noNewPrivileges?: boolean;
  /** 'unconfined', 'default', or a profile (Docker's or OCI's format, object or JSON text). */
  seccomp?: 'unconfined' | 'default' | string | DockerSeccompProfile;
  readonlyRootfs?: boolean;
  ulimits?: Ulimit[];
  shmSize?: number;
  /**
   * Where /dev/shm comes from: undefined, a tmpfs of its own (`shmSize`); a path, a bind of that
   * host directory (`--ipc host`: /dev/shm, which is the default there; a shareable container's
   * own, or its donor's for `--ipc container:<id>`); null, none at all (`--ipc none`).
   */
  shmSource?: string | null;
  sysctls?: Record<string, string>;
  /** Docker bind syntax `/host:/ctr[:ro|rw]`. */
  binds?: string[];
  /** Extra mounts in OCI form (volumes etc.), appended after binds. */
  mounts?: OciMount[];
  /** tmpfs mounts: destination → options ("size=64m,mode=1777"). */
  tmpfs?: Record<string, string>;
  /** Run an init as PID 1: true picks the host's catatonit/tini-static/tini; a string is its path. */
  init?: boolean | string;
  resources?: SpecResources;
  cgroupsPath?: string;
  /** Namespace overrides: a path joins an existing namespace, 'host' shares the host's. */
  networkNamespace?: string | 'host';
  pidNamespace?: string | 'host';
  ipcNamespace?: string | 'host';
  utsNamespace?: string | 'host';
  cgroupNamespace?: 'host' | 'private';
  /** Host files bind-mounted over the init layer's placeholders. */
  hostsPath?: string;
  hostnamePath?: string;
  resolvConfPath?: string;
  oomScoreAdj?: number;
  annotations?: Record<string, string>;
  consoleSize?: { height: number; width: number };
}

const MAX_ID = 2 ** 31 - 1;

function badArg(msg: string): BerthError {
  return new BerthError('ERR_INVALID_ARGUMENT', msg);
}

/** A process's capability sets from one list, as Docker sets them (nothing inheritable or ambient). */
export function processCapabilities(caps: string[]): NonNullable<OciProcess['capabilities']> {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] };
}

/** Capability sets after --privileged / --cap-add / --cap-drop (Docker's TweakCapabilities). */
export function computeCapabilities(opts: { privileged?: boolean; capAdd?: string[]; capDrop?: string[] }): string[] {
  const all = grantableCapabilities();
  if (opts.privileged) return all;
  const known = new Set<string>(hostCapabilities());
  const add = (opts.capAdd ?? []).map(normalizeCap);
  const drop = (opts.capDrop ?? []).map(normalizeCap);
  for (const [list, field] of [[add, 'CapAdd'], [drop, 'CapDrop']] as const) {
    for (const c of list) if (c !== 'CAP_ALL' && !known.has(c)) throw badArg(`invalid ${field}: unknown capability: "${c}"`);
  }
  let caps: string[];
  if (add.includes('CAP_ALL')) caps = [...all];
  else caps = [...DEFAULT_CAPABILITIES];
  if (drop.includes('CAP_ALL')) caps = [];
  // Explicit adds win over drop ALL; explicit drops win over the defaults.
  for (const c of add) if (c !== 'CAP_ALL' && !caps.includes(c)) caps.push(c);
  if (!drop.includes('CAP_ALL')) caps = caps.filter((c) => !drop.includes(c) || add.includes(c));
  return caps;
}

function parseSeccomp(opt: SpecOptions['seccomp'], caps: string[]): OciSeccomp | undefined {
  if (opt === 'unconfined') return undefined;
  if (opt === undefined || opt === 'default' || opt === '') return dockerSeccompToOci(DEFAULT_SECCOMP_PROFILE, caps);
  let profile: DockerSeccompProfile;
  if (typeof opt === 'string') {
    try { profile = JSON.parse(opt) as DockerSeccompProfile; } catch (e) {
      throw badArg(`Decoding seccomp profile failed: ${(e as Error).message}`);
    }
  } else profile = opt;
  return dockerSeccompToOci(profile, caps);
}

const RLIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

/** Marks an unlimited rlimit in an OciSpec; serializeSpec writes it as RLIM_INFINITY. */
export const RLIM_UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * config.json text for a spec. RLIM_INFINITY is 2^64-1 in the spec's uint64, which a JS number
 * cannot hold: the marker is written as that literal, so `--ulimit core=-1` is really unlimited.
 */
export function serializeSpec(spec: OciSpec): string {
  return JSON.stringify(spec).replace(new RegExp(`"(hard|soft)":${RLIM_UNLIMITED}(?=[,}])`, 'g'), '"$1":18446744073709551615');
}

function computeRlimits(ulimits: Ulimit[] | undefined): OciRlimit[] {
  const hard = hostHardLimits();
  const clamp = (type: string, v: number) => Math.min(v, hard.get(type) ?? Infinity);
  const out = new Map<string, OciRlimit>();
  // Docker's default NOFILE is higher than many hosts allow: clamp it so runc can set it.
  const nofile = clamp('RLIMIT_NOFILE', DOCKER_NOFILE);
  out.set('RLIMIT_NOFILE', { type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile });
  for (const u of ulimits ?? []) {
    const type = RLIMIT_NAMES[u.name.toLowerCase()];
    if (!type) throw badArg(`invalid ulimit type: ${u.name}`);
    if (!Number.isSafeInteger(u.soft) || !Number.isSafeInteger(u.hard) || u.soft > u.hard) {
      throw badArg(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    }
    // -1 (unlimited): a marker that serializeSpec writes as RLIM_INFINITY.
    const toU = (v: number) => (v < 0 ? RLIM_UNLIMITED : v);
    out.set(type, { type, hard: toU(u.hard), soft: toU(u.soft) });
  }
  return [...out.values()];
}

/** Parse `/host:/ctr[:ro|rw|z|Z|...]` into an OCI bind mount. */
export function parseBind(spec: string): OciMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw badArg(`invalid volume specification: '${spec}'`);
  const [src, dst, mode = ''] = parts as [string, string, string?];
  if (!posix.isAbsolute(src)) throw badArg(`invalid volume specification: '${spec}': source must be an absolute path`);
  validateDestination(dst, spec, 'bind');
  const opts = new Set(mode.split(','));
  if (mode && !validBindMode(mode)) throw badArg(`invalid mode: ${mode}`);
  const propagation = [...opts].find((o) => /^(r?private|r?shared|r?slave)$/.test(o)) ?? 'rprivate';
  return { destination: cleanPath(dst), type: 'bind', source: cleanPath(src), options: ['rbind', propagation, opts.has('ro') ? 'ro' : 'rw'] };
}

/** A path as Go's filepath.Clean leaves it (Docker keeps mount paths so): no `.`, `..`, `//` or trailing `/`. */
export function cleanPath(p: string): string {
  return posix.normalize(p).replace(/(.)\/+$/, '$1');
}

/**
 * The rootfs propagation Docker's daemon picks for its binds: a shared bind needs a shared root
 * (else its mounts reach no peer), a slave bind at least a slave one.
 */
function rootfsPropagation(mounts: OciMount[]): string {
  const props = mounts.filter((m) => m.type === 'bind').flatMap((m) => m.options ?? []);
  if (props.some((o) => o === 'shared' || o === 'rshared')) return 'shared';
  if (props.some((o) => o === 'slave' || o === 'rslave')) return 'rslave';
  return 'rprivate';
}

/**
 * A bind's mode list as Docker accepts one: known words only (consistency ones are taken and mean
 * nothing on Linux), at most one of each kind (`rw,ro` is refused).
 */
function validBindMode(mode: string): boolean {
  const kinds = [['ro', 'rw'], ['z', 'Z'], ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'], ['nocopy'], ['consistent', 'cached', 'delegated']];
  const seen = new Array<number>(kinds.length).fill(0);
  for (const o of mode.split(',')) {
    const k = kinds.findIndex((words) => words.includes(o));
    if (k < 0 || ++seen[k]! > 1) return false;
  }
  return true;
}

/** A `--mount` (HostConfig.Mounts entry) as Docker validates it at create, in Docker's wording. */
export function validateMount(m: { Type?: string; Source?: string; Target?: string; BindOptions?: { Propagation?: string } }, sourceExists: (p: string) => boolean): void {
  const fail = (why: string) => badArg(`invalid mount config for type "${m.Type ?? ''}": ${why}`);
  const absolute = (p: string) => { if (!posix.isAbsolute(p)) throw fail(`invalid mount path: '${p}' mount path must be absolute`); };
  if (!m.Target) throw fail('field Target must not be empty');
  if (posix.normalize(m.Target) === '/') throw fail("invalid specification: destination can't be '/'");
  absolute(m.Target);
  if (m.Type === 'bind') {
    if (!m.Source) throw fail('field Source must not be empty');
    const p = m.BindOptions?.Propagation;
    if (p && !/^r?(private|shared|slave)$/.test(p)) throw fail(`invalid propagation mode: ${p}`);
    absolute(m.Source);
    if (!sourceExists(m.Source)) throw fail(`bind source path does not exist: ${m.Source}`);
  } else if (m.Type === 'tmpfs') {
    if (m.Source) throw fail('field Source must not be specified');
  } else if (m.Type !== 'volume') {
    throw fail('mount type unknown');
  }
}

/**
 * A mount's destination, with Docker's words for each kind: `bind` (a `-v` spec, named in the
 * message), `tmpfs` (`--tmpfs`, unprefixed as Docker's), `mount` (an already checked `--mount`).
 */
function validateDestination(dst: string, spec: string, kind: 'bind' | 'tmpfs' | 'mount'): void {
  const bad = (why: string) => badArg(kind === 'tmpfs' ? why : `invalid volume specification: '${spec}': ${kind === 'bind' ? `invalid mount config for type "bind": ${why}` : why}`);
  if (!posix.isAbsolute(dst)) throw bad(`invalid mount path: '${dst}' mount path must be absolute`);
  const n = posix.normalize(dst);
  if (n === '/') throw bad("invalid specification: destination can't be '/'");
  // The kernel-owned trees belong to the runtime (security.md test 11: a volume under /proc is
  // refused; Docker leaves that to runc, which fails the start).
  if (n === '/proc' || n.startsWith('/proc/')) throw badArg(`invalid volume specification: '${spec}': destination can't be under /proc`);
  if (n.split('/').includes('..')) throw badArg(`invalid volume specification: '${spec}'`);
}

/**
 * A cpuset list (`0-2,4`) as Docker's daemon reads one, in its words: the syntax, ranges that run
 * upwards, and numbers up to 8192 (Linux's usual CPU limit) or the host's highest, if higher.
 */
function checkCpusetList(list: string, what: 'cpus' | 'mems', hostList: string): void {
  const bad = (why: string) => badArg(`Invalid value ${list} for cpuset ${what}: ${why}`);
  if (!/^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$/.test(list) || list.length > 256) throw bad(`invalid format: ${list}`);
  const max = Math.max(8192, ...(cpusetMembers(hostList) ?? []));
  for (const part of list.split(',')) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    if (b < a) throw bad(`invalid format: ${list}`);
    if (b > max) throw bad(`value of out range, maximum is ${max}`); // sic, Docker's words
  }
}

// Sysctls that are namespaced and therefore allowed (Docker's validation).
function validateSysctl(key: string, hostNet: boolean, hostIpc: boolean, hostUts: boolean): void {
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (ipc.includes(key) || key.startsWith('fs.mqueue.')) {
    if (hostIpc) throw badArg(`sysctl '${key}' is not allowed in host IPC namespace`);
    return;
  }
  if (key === 'kernel.domainname' || key === 'kernel.hostname') {
    if (hostUts) throw badArg(`sysctl '${key}' is not allowed in host UTS namespace`);
    return;
  }
  if (key.startsWith('net.')) {
    if (hostNet) throw badArg(`sysctl '${key}' is not allowed when using host network`);
    return;
  }
  throw badArg(`sysctl '${key}' is not allowed`);
}

/** Find an init binary on the host to bind as /sbin/docker-init. */
export function findInitBinary(): string {
  for (const p of ['/usr/libexec/podman/catatonit', '/usr/bin/catatonit', '/usr/libexec/catatonit/catatonit', '/usr/bin/tini-static', '/usr/bin/tini', '/usr/local/bin/tini', '/usr/bin/docker-init', '/usr/sbin/docker-init']) {
    if (existsSync(p)) return p;
  }
  throw badArg('exec: "docker-init": executable file not found in $PATH (install catatonit or tini-static for --init)');
}

function namespace(type: string, opt: string | undefined): OciNamespace | undefined {
  if (opt === 'host') return undefined;
  return opt ? { type, path: opt } : { type };
}

function checkId(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_ID) throw badArg(`${what} ${v} is out of range`);
  return v;
}

/** Build config.json for a container. */
export function buildSpec(opts: SpecOptions): OciSpec {
  const image = opts.image ?? {};
  const tty = opts.tty ?? false;
  const privileged = opts.privileged ?? false;

  // Process arguments: Docker's entrypoint/cmd rules.
  let entrypoint = opts.entrypoint !== undefined && opts.entrypoint !== null ? opts.entrypoint : image.Entrypoint ?? [];
  let cmd: string[];
  if (opts.cmd !== undefined && opts.cmd !== null) cmd = opts.cmd;
  else if (opts.entrypoint !== undefined && opts.entrypoint !== null) cmd = [];
  else cmd = image.Cmd ?? [];
  entrypoint = entrypoint ?? [];
  let args = [...entrypoint, ...cmd];
  if (args.length === 0) throw badArg('No command specified');

  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  const shmSize = opts.shmSize && opts.shmSize > 0 ? opts.shmSize : DEFAULT_SHM_SIZE;
  const shmSource = opts.shmSource !== undefined ? opts.shmSource : opts.ipcNamespace === 'host' ? '/dev/shm' : undefined;
  if (shmSource) mounts.push({ destination: '/dev/shm', type: 'bind', source: shmSource, options: ['rbind', 'rprivate'] });
  else if (shmSource === undefined) {
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`] });
  }
  const etc: [string | undefined, string][] = [
    [opts.resolvConfPath, '/etc/resolv.conf'], [opts.hostnamePath, '/etc/hostname'], [opts.hostsPath, '/etc/hosts'],
  ];
  for (const [src, dst] of etc) {
    // Docker binds these read-only when the root fs is read-only.
    if (src) mounts.push({ destination: dst, type: 'bind', source: src, options: ['rbind', 'rprivate', ...(opts.readonlyRootfs ? ['ro'] : [])] });
  }
  // Destinations compare cleaned (`/x/` is `/x`), as Docker's, and a --mount is named as given;
  // a --tmpfs path compares as written (Docker takes `--tmpfs /x/` beside `-v ...:/x`).
  const userMountDests = new Set<string>();
  const addUserMount = (m: OciMount, key = cleanPath(m.destination)) => {
    if (userMountDests.has(key)) throw badArg(`Duplicate mount point: ${m.destination}`);
    userMountDests.add(key);
    mounts.push(m);
  };
  for (const b of opts.binds ?? []) addUserMount(parseBind(b));
  for (const m of opts.mounts ?? []) {
    validateDestination(m.destination, m.destination, 'mount');
    addUserMount(m);
  }
  for (const [dst, o] of Object.entries(opts.tmpfs ?? {})) {
    validateDestination(dst, dst, 'tmpfs');
    const extra = o.split(',').map((s) => s.trim()).filter(Boolean);
    for (const e of extra) if (!/^[a-z_]+(=[A-Za-z0-9._:+-]+)?$/.test(e)) throw badArg(`invalid tmpfs option ${JSON.stringify(e)}`);
    addUserMount({ destination: posix.normalize(dst), type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...extra] }, posix.normalize(dst));
  }

  if (opts.init) {
    const initPath = typeof opts.init === 'string' ? opts.init : findInitBinary();
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: initPath, options: ['rbind', 'ro', 'rprivate'] });
    args = ['/sbin/docker-init', '--', ...args];
  }

  // Environment as Docker's daemon makes it: PATH, HOSTNAME (and TERM with a TTY) first, then
  // the image's and the options' variables, each taking the place of one of its name; a bare name
  // (not set on the client) unsets it.
  const hostname = opts.hostname ?? opts.id.slice(0, 12);
  const envMap = new Map<string, string>([['PATH', DEFAULT_PATH_ENV], ['HOSTNAME', `HOSTNAME=${hostname}`]]);
  if (tty) envMap.set('TERM', 'TERM=xterm');
  const addEnv = (e: string) => {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    if (k === '') throw badArg(`invalid environment variable: ${e}`);
    if (i < 0) envMap.delete(k);
    else envMap.set(k, e);
  };
  for (const e of image.Env ?? []) addEnv(e);
  for (const e of opts.env ?? []) addEnv(e);
  const env = [...envMap.values()];

  const cwd = opts.cwd || image.WorkingDir || '/';
  if (!posix.isAbsolute(cwd)) throw badArg(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  // CVE-2024-21626: a cwd under /proc (e.g. /proc/self/fd/N) could reach a leaked host fd.
  const ncwd = posix.normalize(cwd);
  if (ncwd === '/proc' || ncwd.startsWith('/proc/')) throw badArg(`the working directory '${cwd}' is invalid: it can't be under /proc`);

  const user = opts.user ?? { uid: 0, gid: 0 };
  const ociUser: OciUser = { uid: checkId(user.uid, 'uid'), gid: checkId(user.gid, 'gid') };
  if (user.additionalGids && user.additionalGids.length > 0) ociUser.additionalGids = user.additionalGids.map((g) => checkId(g, 'gid'));
  if (user.umask !== undefined) ociUser.umask = user.umask;

  const caps = computeCapabilities(opts);
  const process: OciProcess = {
    terminal: tty,
    user: ociUser,
    args,
    env,
    cwd: posix.normalize(cwd),
    capabilities: processCapabilities(caps),
    rlimits: computeRlimits(opts.ulimits),
    noNewPrivileges: opts.noNewPrivileges ?? false,
  };
  if (tty && opts.consoleSize) process.consoleSize = opts.consoleSize;
  if (opts.oomScoreAdj !== undefined) process.oomScoreAdj = opts.oomScoreAdj;

  const hostNet = opts.networkNamespace === 'host';
  const hostIpc = opts.ipcNamespace === 'host';
  const hostUts = opts.utsNamespace === 'host';
  const namespaces = [
    namespace('pid', opts.pidNamespace), namespace('network', opts.networkNamespace), namespace('ipc', opts.ipcNamespace),
    namespace('uts', opts.utsNamespace), { type: 'mount' },
  ].filter((n): n is OciNamespace => n !== undefined);
  if (opts.cgroupNamespace !== 'host' && hasCgroupNamespace() && (opts.cgroupNamespace === 'private' || !privileged)) {
    namespaces.push({ type: 'cgroup' });
  }

  const sysctl: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.sysctls ?? {})) {
    validateSysctl(k, hostNet, hostIpc, hostUts);
    sysctl[k] = String(v);
  }

  const resources: OciResources = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_CGROUP.map((d) => ({ ...d })),
  };
  const r = opts.resources ?? {};
  // Any limit but 0 (none) under 6 MB, a negative one too, as Docker's daemon checks.
  if (r.memory && r.memory < 6 * 1024 * 1024) throw badArg('Minimum memory limit allowed is 6MB');
  if (r.memory && r.memory > 0) {
    const mem: NonNullable<OciResources['memory']> = { limit: r.memory };
    if (r.memorySwap === -1) mem.swap = -1;
    else if (r.memorySwap && r.memorySwap > 0) {
      if (r.memorySwap < r.memory) throw badArg('Minimum memoryswap limit should be larger than memory limit, see usage');
      mem.swap = r.memorySwap;
    } else mem.swap = r.memory * 2;
    resources.memory = mem;
  } else if (r.memorySwap && r.memorySwap > 0) {
    throw badArg('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (r.memoryReservation && r.memoryReservation > 0) resources.memory = { ...resources.memory, reservation: r.memoryReservation };
  if (r.memorySwappiness !== undefined && r.memorySwappiness >= 0) {
    if (r.memorySwappiness > 100) throw badArg(`Invalid value: ${r.memorySwappiness}, valid memory swappiness range is 0-100`);
    resources.memory = { ...resources.memory, swappiness: r.memorySwappiness };
  }
  // Docker's daemon checks the reservation after the swappiness.
  if (r.memoryReservation && r.memoryReservation > 0) {
    if (r.memoryReservation < 6 * 1024 * 1024) throw badArg('Minimum memory reservation allowed is 6MB');
    if (r.memory && r.memory > 0 && r.memory < r.memoryReservation) throw badArg('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (r.oomKillDisable) resources.memory = { ...resources.memory, disableOOMKiller: true };
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.nanoCpus) {
    if (r.cpuPeriod && r.cpuPeriod > 0) throw badArg('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    if (r.cpuQuota && r.cpuQuota > 0) throw badArg('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
    cpu.period = 100000;
    cpu.quota = Math.round((r.nanoCpus * cpu.period) / 1e9);
    const n = hostCpus().count;
    // Negative too, as Docker (`--cpus -1`).
    if (r.nanoCpus < 1e7 || r.nanoCpus > n * 1e9) throw badArg(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if (r.cpuPeriod && (r.cpuPeriod < 1000 || r.cpuPeriod > 1000000)) throw badArg('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (r.cpuQuota && r.cpuQuota > 0 && r.cpuQuota < 1000) throw badArg('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (r.cpuQuota && r.cpuQuota > 0) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod && r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (r.cpuShares && r.cpuShares > 0) cpu.shares = r.cpuShares;
  // Real-time CPU time: runc writes cpu.rt_*; a host that cannot grant it fails the start there, as with Docker.
  if (r.cpuRealtimeRuntime && r.cpuRealtimeRuntime > 0) cpu.realtimeRuntime = r.cpuRealtimeRuntime;
  if (r.cpuRealtimePeriod && r.cpuRealtimePeriod > 0) cpu.realtimePeriod = r.cpuRealtimePeriod;
  if (r.cpusetCpus) {
    checkCpusetList(r.cpusetCpus, 'cpus', hostCpus().cpus);
    const want = cpusetMembers(r.cpusetCpus);
    const have = cpusetMembers(hostCpus().cpus);
    if (!want || (have && [...want].some((x) => !have.has(x)))) throw badArg(`Requested CPUs are not available - requested ${r.cpusetCpus}, available: ${hostCpus().cpus}`);
    cpu.cpus = r.cpusetCpus;
  }
  if (r.cpusetMems) {
    checkCpusetList(r.cpusetMems, 'mems', hostCpus().mems);
    const want = cpusetMembers(r.cpusetMems);
    const have = cpusetMembers(hostCpus().mems);
    if (!want || (have && [...want].some((x) => !have.has(x)))) throw badArg(`Requested memory nodes are not available - requested ${r.cpusetMems}, available: ${hostCpus().mems}`);
    cpu.mems = r.cpusetMems;
  }
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  if (r.pidsLimit && r.pidsLimit > 0) resources.pids = { limit: r.pidsLimit };
  const blockIO: NonNullable<OciResources['blockIO']> = {};
  if (r.blkioWeight && r.blkioWeight > 0) {
    if (r.blkioWeight < 10 || r.blkioWeight > 1000) throw badArg('Range of blkio weight is from 10 to 1000');
    blockIO.weight = r.blkioWeight;
  }
  for (const d of r.blkioWeightDevice ?? []) {
    if (d.weight < 10 || d.weight > 1000) throw badArg('Range of blkio weight is from 10 to 1000');
  }
  if (r.blkioWeightDevice?.length) blockIO.weightDevice = r.blkioWeightDevice;
  const t = r.blkioThrottle ?? {};
  if (t.readBps?.length) blockIO.throttleReadBpsDevice = t.readBps;
  if (t.writeBps?.length) blockIO.throttleWriteBpsDevice = t.writeBps;
  if (t.readIOps?.length) blockIO.throttleReadIOPSDevice = t.readIOps;
  if (t.writeIOps?.length) blockIO.throttleWriteIOPSDevice = t.writeIOps;
  if (Object.keys(blockIO).length > 0) resources.blockIO = blockIO;

  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: opts.rootfs, readonly: opts.readonlyRootfs ?? false },
    hostname: hostUts ? undefined : hostname,
    mounts,
    linux: {
      namespaces,
      devices: DEFAULT_DEVICES.map((d) => ({ ...d })),
      resources,
      cgroupsPath: opts.cgroupsPath ?? `/berth/${opts.id}`,
      rootfsPropagation: rootfsPropagation(mounts),
    },
  };
  if (hostUts) delete spec.hostname;
  for (const d of opts.devices ?? []) {
    if (!posix.isAbsolute(d.path) || posix.normalize(d.path).split('/').includes('..')) throw badArg(`invalid device path in container: ${JSON.stringify(d.path)}`);
    if (!/^[rwm]{1,3}$/.test(d.access)) throw badArg(`invalid device mode: ${d.access}`);
    spec.linux.devices = [...(spec.linux.devices ?? []).filter((x) => x.path !== d.path),
      { path: posix.normalize(d.path), type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid }];
    if (!privileged) resources.devices = [...(resources.devices ?? []), { allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access }];
  }
  if (Object.keys(sysctl).length > 0) spec.linux.sysctl = sysctl;
  if (opts.annotations) spec.annotations = { ...opts.annotations };
  if (!privileged) {
    const seccomp = parseSeccomp(opts.seccomp, caps);
    if (seccomp) spec.linux.seccomp = seccomp;
    for (const p of [...(opts.maskedPaths ?? []), ...(opts.readonlyPaths ?? [])]) {
      if (!posix.isAbsolute(p) || posix.normalize(p).split('/').includes('..')) throw badArg(`invalid masked or read-only path: ${JSON.stringify(p)}`);
    }
    spec.linux.maskedPaths = [...(opts.maskedPaths ?? MASKED_PATHS)];
    // runc on cgroup v1 leaves the tmpfs holding the per-controller mounts writable even with
    // "ro" on the cgroup mount; re-binding it read-only makes all of /sys/fs/cgroup read-only
    // (kept with `systempaths=unconfined` too, which is about /proc).
    spec.linux.readonlyPaths = [...(opts.readonlyPaths ?? READONLY_PATHS), '/sys/fs/cgroup'];
  } else if (opts.seccomp !== undefined && opts.seccomp !== 'unconfined' && opts.seccomp !== 'default') {
    // An explicit profile still applies to a privileged container (as in Docker).
    const seccomp = parseSeccomp(opts.seccomp, caps);
    if (seccomp) spec.linux.seccomp = seccomp;
  }
  if (opts.domainname) spec.linux.sysctl = { ...spec.linux.sysctl, 'kernel.domainname': opts.domainname };
  return spec;
}
