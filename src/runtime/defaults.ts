// Docker's default confinement for containers (facts: moby's default capability set, masked and
// read-only paths, devices allow list, mounts) and the conversion of Docker's seccomp profile format
// to the OCI `linux.seccomp` shape. Pure apart from reading the profile and a few /proc facts at load.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { cpus, release } from 'node:os';
import { BerthError } from '../errors/index.js';

/** Every capability the kernel knows, by number (index = capability number). */
export const ALL_CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** Capabilities this kernel supports (privileged containers get exactly these). */
export function hostCapabilities(): string[] {
  let last = ALL_CAPABILITY_NAMES.length - 1;
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim(), 10);
    if (Number.isInteger(n) && n >= 0) last = Math.min(n, last);
  } catch { /* keep the full list */ }
  return ALL_CAPABILITY_NAMES.slice(0, last + 1);
}

let grantableCache: string[] | undefined;
/**
 * The capabilities a container can be given: the kernel's, less those outside this process's own
 * bounding set (on some hosts root lacks one, e.g. CAP_SYS_RESOURCE in a sandbox, and runc then
 * fails every --privileged start with "unable to apply caps").
 */
export function grantableCapabilities(): string[] {
  if (grantableCache) return grantableCache;
  let caps = hostCapabilities();
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) {
      const bnd = BigInt(`0x${m[1]}`);
      const names: readonly string[] = ALL_CAPABILITY_NAMES;
      caps = caps.filter((c) => (bnd >> BigInt(names.indexOf(c))) & 1n);
    }
  } catch { /* no /proc: the kernel's list */ }
  grantableCache = caps;
  return caps;
}

/** Docker's default capability set (moby daemon/pkg/oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface OciDevice { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
export interface OciDeviceCgroup { allow: boolean; type?: string; major?: number; minor?: number; access?: string }

/** Device nodes every container gets in its fresh /dev (runc also creates these itself). */
export const DEFAULT_DEVICES: OciDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

/** Devices cgroup: deny everything, then Docker's (runc's) allow list. */
export const DEFAULT_DEVICE_CGROUP: OciDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device (opening still denied)
  { allow: true, type: 'b', access: 'm' }, // mknod of any block device (opening still denied)
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console (Docker's daemon allows it; runc alone does not)
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' },          // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DOCKER_NOFILE = 1048576;

// ---- host facts -------------------------------------------------------------------------------

const LIMIT_ROWS: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO', 'Max realtime timeout': 'RLIMIT_RTTIME',
};

let hardLimitsCache: Map<string, number> | undefined;
/** This process's hard rlimits (Infinity = unlimited); a container cannot be given more. */
export function hostHardLimits(): Map<string, number> {
  if (hardLimitsCache) return hardLimitsCache;
  const m = new Map<string, number>();
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
      const name = Object.keys(LIMIT_ROWS).find((k) => line.startsWith(k));
      if (!name) continue;
      const cols = line.slice(name.length).trim().split(/\s+/);
      const hard = cols[1];
      if (hard === undefined) continue;
      m.set(LIMIT_ROWS[name]!, hard === 'unlimited' ? Infinity : Number(hard));
    }
  } catch { /* no /proc: no clamping */ }
  hardLimitsCache = m;
  return m;
}

let cpusCache: { cpus: string; mems: string; count: number } | undefined;
/** CPUs and memory nodes containers may use (the root cpuset, as Docker's sysinfo reads it). */
export function hostCpus(): { cpus: string; mems: string; count: number } {
  if (cpusCache) return cpusCache;
  const read = (...files: string[]) => {
    for (const f of files) { try { const v = readFileSync(f, 'utf8').trim(); if (v) return v; } catch { /* next */ } }
    return undefined;
  };
  const n = cpus().length || 1;
  const list = read('/sys/fs/cgroup/cpuset/cpuset.cpus', '/sys/fs/cgroup/cpuset.cpus.effective') ?? (n > 1 ? `0-${n - 1}` : '0');
  const mems = read('/sys/fs/cgroup/cpuset/cpuset.mems', '/sys/fs/cgroup/cpuset.mems.effective') ?? '0';
  cpusCache = { cpus: list, mems, count: n };
  return cpusCache;
}

/** The numbers in a cpuset list ("0-3,8"); undefined if it does not parse. */
export function cpusetMembers(list: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 4096) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

export function hasCgroupNamespace(): boolean {
  return existsSync('/proc/self/ns/cgroup');
}

// ---- seccomp ----------------------------------------------------------------------------------

interface DockerSeccompArg { index: number; value: number; valueTwo?: number; op: string }
interface DockerSeccompFilter { caps?: string[]; arches?: string[]; minKernel?: string }
interface DockerSeccompRule {
  names?: string[]; name?: string; action: string; errnoRet?: number; args?: DockerSeccompArg[] | null;
  includes?: DockerSeccompFilter; excludes?: DockerSeccompFilter; comment?: string;
}
export interface DockerSeccompProfile {
  defaultAction: string; defaultErrnoRet?: number;
  archMap?: { architecture: string; subArchitectures: string[] | null }[] | null;
  architectures?: string[]; syscalls?: DockerSeccompRule[] | null;
  listenerPath?: string; flags?: string[];
}
export interface OciSeccomp {
  defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; flags?: string[];
  listenerPath?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number; args?: DockerSeccompArg[] }[];
}

/** Go's GOARCH names, as Docker's profile uses them in includes/excludes. */
function goArch(): string {
  switch (process.arch) {
    case 'x64': return 'amd64';
    case 'ia32': return 'x86';
    case 'arm64': return 'arm64';
    case 'arm': return 'arm';
    case 's390x': return 's390x';
    case 'ppc64': return 'ppc64le';
    case 'riscv64': return 'riscv64';
    case 'loong64': return 'loong64';
    default: return process.arch;
  }
}
function seccompNativeArch(): string {
  const m: Record<string, string> = {
    amd64: 'SCMP_ARCH_X86_64', x86: 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
    s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', loong64: 'SCMP_ARCH_LOONGARCH64',
  };
  return m[goArch()] ?? 'SCMP_ARCH_NATIVE';
}

function kernelAtLeast(min: string, current = release()): boolean {
  const parse = (s: string) => s.split(/[.-]/).slice(0, 2).map((x) => Number.parseInt(x, 10) || 0);
  const [a1 = 0, b1 = 0] = parse(current);
  const [a2 = 0, b2 = 0] = parse(min);
  return a1 > a2 || (a1 === a2 && b1 >= b2);
}

/**
 * Convert a profile in Docker's format (archMap, includes/excludes on caps/arch/kernel) to the OCI
 * shape for a container holding `caps`, the way dockerd does before handing it to the runtime.
 */
export function dockerSeccompToOci(profile: DockerSeccompProfile, caps: readonly string[]): OciSeccomp {
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') {
    throw new BerthError('ERR_INVALID_ARGUMENT', 'Decoding seccomp profile failed: missing defaultAction');
  }
  const arch = goArch();
  const native = seccompNativeArch();
  const capSet = new Set(caps.map(normalizeCap));
  let architectures: string[] = [];
  if (profile.architectures && profile.architectures.length > 0) {
    if (profile.archMap && profile.archMap.length > 0) {
      throw new BerthError('ERR_INVALID_ARGUMENT', "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
    }
    architectures = [...profile.architectures];
  } else {
    for (const a of profile.archMap ?? []) {
      if (a.architecture === native) architectures.push(a.architecture, ...(a.subArchitectures ?? []));
    }
  }
  const syscalls: NonNullable<OciSeccomp['syscalls']> = [];
  for (const rule of profile.syscalls ?? []) {
    if (rule.name && rule.names && rule.names.length > 0) {
      throw new BerthError('ERR_INVALID_ARGUMENT', "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    }
    const ex = rule.excludes ?? {};
    const inc = rule.includes ?? {};
    if (ex.arches?.includes(arch)) continue;
    if (ex.caps?.some((c) => capSet.has(normalizeCap(c)))) continue;
    if (ex.minKernel && kernelAtLeast(ex.minKernel)) continue;
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
    if (inc.caps && inc.caps.some((c) => !capSet.has(normalizeCap(c)))) continue;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue;
    const names = rule.names && rule.names.length > 0 ? [...rule.names] : rule.name ? [rule.name] : [];
    if (names.length === 0) continue;
    const out: NonNullable<OciSeccomp['syscalls']>[number] = { names, action: rule.action };
    if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
    if (rule.args && rule.args.length > 0) out.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(out);
  }
  const oci: OciSeccomp = { defaultAction: profile.defaultAction, architectures, syscalls };
  if (profile.defaultErrnoRet !== undefined) oci.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.flags) oci.flags = [...profile.flags];
  if (profile.listenerPath) oci.listenerPath = profile.listenerPath;
  return oci;
}

// Found next to this module (dist copy) or, from dist/, back in the source tree.
function loadDefaultProfile(): DockerSeccompProfile {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'seccomp-default.json'),
    join(here, '..', '..', '..', 'src', 'runtime', 'seccomp-default.json'),
  ];
  for (const p of candidates) {
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as DockerSeccompProfile;
  }
  throw new BerthError('ERR_INTERNAL', `default seccomp profile not found (looked in ${candidates.join(', ')})`);
}

/** Docker's default seccomp profile, in Docker's format (loaded once at module load). */
export const DEFAULT_SECCOMP_PROFILE: DockerSeccompProfile = loadDefaultProfile();

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" → "CAP_NET_ADMIN". */
export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}
