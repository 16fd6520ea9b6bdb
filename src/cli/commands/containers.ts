// Container commands: run, create, start, stop, restart, kill, rm, ps, logs, exec, wait, top,
// rename, pause, unpause, port, container prune. Thin: parse flags, call the API, print.
import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import type { FlagSpec, FlagValues } from '../args.js';
import { cliError, cliErrorInfo, hintError } from '../args.js';
import { daemonErrorInfo } from '../../client/transport.js';
import { flag, type Command, type Context } from '../command.js';
import { RESOURCE_FLAGS, nanoCpus } from '../resource-flags.js';
import { parseRestartPolicy } from '../restart-policy.js';
import { parseSize } from '../../util/size.js';
import { getTimestamp, parseGoDuration } from '../timestamp.js';
import type { Client } from '../../client/client.js';
import { isBerthError, type BerthError } from '../../errors/index.js';
import type { Row, RowValue } from '../format/output.js';
import { checkTty, demux, hijack } from './hijack.js';
import { DEFAULT_DETACH_KEYS, detachFilter, parseDetachKeys } from '../../util/detach-keys.js';

// Loaded only for a TTY session (it brings node:child_process, which `run` otherwise does without).
const rawTty = () => import('../raw-tty.js');

type Json = Record<string, unknown>;

const t = (c: Client) => c.transport;
const enc = encodeURIComponent;

// ---- create options ------------------------------------------------------------------------------

const CREATE_FLAGS: FlagSpec[] = [
  { long: 'name', type: 'string', valueName: 'string', description: 'Assign a name to the container' },
  { long: 'env', short: 'e', type: 'list', valueName: 'list', description: 'Set environment variables' },
  { long: 'env-file', type: 'list', valueName: 'list', description: 'Read in a file of environment variables' },
  { long: 'publish', short: 'p', type: 'list', valueName: 'list', description: "Publish a container's port(s) to the host" },
  { long: 'publish-all', short: 'P', type: 'bool', description: 'Publish all exposed ports to random ports' },
  { long: 'volume', short: 'v', type: 'list', valueName: 'list', description: 'Bind mount a volume' },
  { long: 'mount', type: 'list', valueName: 'mount', description: 'Attach a filesystem mount to the container' },
  { long: 'tmpfs', type: 'list', valueName: 'list', description: 'Mount a tmpfs directory' },
  { long: 'workdir', short: 'w', type: 'string', valueName: 'string', description: 'Working directory inside the container' },
  { long: 'user', short: 'u', type: 'string', valueName: 'string', description: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { long: 'entrypoint', type: 'string', valueName: 'string', description: 'Overwrite the default ENTRYPOINT of the image' },
  { long: 'hostname', short: 'h', type: 'string', valueName: 'string', description: 'Container host name' },
  { long: 'network', type: 'string', valueName: 'network', description: 'Connect a container to a network' },
  { long: 'restart', type: 'string', valueName: 'string', description: 'Restart policy to apply when a container exits', default: 'no' },
  { long: 'init', type: 'bool', description: 'Run an init inside the container that forwards signals and reaps processes' },
  { long: 'memory-swappiness', type: 'int', valueName: 'int', description: 'Tune container memory swappiness (0 to 100)', default: '-1' },
  { long: 'oom-kill-disable', type: 'bool', description: 'Disable OOM Killer' },
  { long: 'oom-score-adj', type: 'int', valueName: 'int', description: "Tune host's OOM preferences (-1000 to 1000)" },
  { long: 'cgroup-parent', type: 'string', valueName: 'string', description: 'Optional parent cgroup for the container' },
  { long: 'blkio-weight-device', type: 'list', valueName: 'list', description: 'Block IO weight (relative device weight)' },
  { long: 'device-read-bps', type: 'list', valueName: 'list', description: 'Limit read rate (bytes per second) from a device' },
  { long: 'device-write-bps', type: 'list', valueName: 'list', description: 'Limit write rate (bytes per second) to a device' },
  { long: 'device-read-iops', type: 'list', valueName: 'list', description: 'Limit read rate (IO per second) from a device' },
  { long: 'device-write-iops', type: 'list', valueName: 'list', description: 'Limit write rate (IO per second) to a device' },
  { long: 'cpu-rt-period', type: 'int', valueName: 'int', description: 'Limit CPU real-time period in microseconds' },
  { long: 'cpu-rt-runtime', type: 'int', valueName: 'int', description: 'Limit CPU real-time runtime in microseconds' },
  { long: 'storage-opt', type: 'list', valueName: 'list', description: 'Storage driver options for the container' },
  { long: 'label', short: 'l', type: 'list', valueName: 'list', description: 'Set meta data on a container' },
  { long: 'label-file', type: 'list', valueName: 'list', description: 'Read in a line delimited file of labels' },
  { long: 'domainname', type: 'string', valueName: 'string', description: 'Container NIS domain name' },
  { long: 'expose', type: 'list', valueName: 'list', description: 'Expose a port or a range of ports' },
  { long: 'mac-address', type: 'string', valueName: 'string', description: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { long: 'attach', short: 'a', type: 'list', valueName: 'list', description: 'Attach to STDIN, STDOUT or STDERR' },
  { long: 'cidfile', type: 'string', valueName: 'string', description: 'Write the container ID to the file' },
  { long: 'quiet', short: 'q', type: 'bool', description: 'Suppress the pull output' },
  ...RESOURCE_FLAGS,
  { long: 'ulimit', type: 'list', valueName: 'ulimit', description: 'Ulimit options' },
  { long: 'shm-size', type: 'string', valueName: 'bytes', description: 'Size of /dev/shm' },
  { long: 'sysctl', type: 'list', valueName: 'map', description: 'Sysctl options' },
  { long: 'runtime', type: 'string', valueName: 'string', description: 'Runtime to use for this container' },
  { long: 'add-host', type: 'list', valueName: 'list', description: 'Add a custom host-to-IP mapping (host:ip)' },
  { long: 'dns', type: 'list', valueName: 'list', description: 'Set custom DNS servers' },
  { long: 'dns-search', type: 'list', valueName: 'list', description: 'Set custom DNS search domains' },
  { long: 'dns-option', type: 'list', valueName: 'list', description: 'Set DNS options' },
  { long: 'group-add', type: 'list', valueName: 'list', description: 'Add additional groups to join' },
  { long: 'read-only', type: 'bool', description: "Mount the container's root filesystem as read only" },
  { long: 'cap-add', type: 'list', valueName: 'list', description: 'Add Linux capabilities' },
  { long: 'cap-drop', type: 'list', valueName: 'list', description: 'Drop Linux capabilities' },
  { long: 'privileged', type: 'bool', description: 'Give extended privileges to this container' },
  { long: 'security-opt', type: 'list', valueName: 'list', description: 'Security Options' },
  { long: 'health-cmd', type: 'string', valueName: 'string', description: 'Command to run to check health' },
  { long: 'health-interval', type: 'string', valueName: 'duration', description: 'Time between running the check' },
  { long: 'health-timeout', type: 'string', valueName: 'duration', description: 'Maximum time to allow one check to run' },
  { long: 'health-retries', type: 'int', valueName: 'int', description: 'Consecutive failures needed to report unhealthy' },
  { long: 'health-start-period', type: 'string', valueName: 'duration', description: 'Start period for the container to initialize' },
  { long: 'health-start-interval', type: 'string', valueName: 'duration', description: 'Time between running the check during the start period' },
  { long: 'no-healthcheck', type: 'bool', description: 'Disable any container-specified HEALTHCHECK' },
  { long: 'stop-signal', type: 'string', valueName: 'string', description: 'Signal to stop the container' },
  { long: 'stop-timeout', type: 'int', valueName: 'int', description: 'Timeout (in seconds) to stop a container' },
  { long: 'pid', type: 'string', valueName: 'string', description: 'PID namespace to use' },
  { long: 'ipc', type: 'string', valueName: 'string', description: 'IPC mode to use' },
  { long: 'uts', type: 'string', valueName: 'string', description: 'UTS namespace to use' },
  { long: 'cgroupns', type: 'string', valueName: 'string', description: 'Cgroup namespace to use (host|private)' },
  { long: 'device', type: 'list', valueName: 'list', description: 'Add a host device to the container' },
  { long: 'link', type: 'list', valueName: 'list', description: 'Add link to another container' },
  { long: 'volumes-from', type: 'list', valueName: 'list', description: 'Mount volumes from the specified container(s)' },
  { long: 'log-driver', type: 'string', valueName: 'string', description: 'Logging driver for the container' },
  { long: 'log-opt', type: 'list', valueName: 'list', description: 'Log driver options' },
  { long: 'platform', type: 'string', valueName: 'string', description: 'Set platform if server is multi-platform capable' },
  { long: 'pull', type: 'string', valueName: 'string', description: 'Pull image before creating ("always", "missing", "never")', default: 'missing' },
  { long: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
  { long: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
  { long: 'rm', type: 'bool', description: 'Automatically remove the container and its associated anonymous volumes when it exits' },
];

function parseBytes(s: string): number {
  const n = parseSize(s, 1024);
  if (n === undefined) throw cliError(`invalid size: '${s}'`, 125);
  return n;
}

/** `--device /dev/host[:/dev/ctr][:rwm]` as docker parses it. */
function parseDevice(s: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = s.split(':');
  const host = parts[0] ?? '';
  let ctr = host;
  let perms = 'rwm';
  if (parts.length === 2) { if (/^[rwm]+$/.test(parts[1]!)) perms = parts[1]!; else ctr = parts[1]!; }
  else if (parts.length === 3) { ctr = parts[1]!; perms = parts[2]!; }
  else if (parts.length > 3) throw cliError(`invalid argument "${s}" for "--device" flag: bad format for path: ${s}`, 125);
  if (!/^[rwm]+$/.test(perms)) throw cliError(`invalid argument "${s}" for "--device" flag: bad mode specified: ${perms}`, 125);
  return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
}

/**
 * `--device-{read,write}-{bps,iops} /dev/x:RATE` and `--blkio-weight-device /dev/x:W`, checked as the
 * docker CLI checks them. `kind` says how RATE reads: bytes with a unit, a plain count, or a weight.
 */
function devicePairs(f: FlagValues, name: string, kind: 'bytes' | 'count' | 'weight'): { Path: string; n: number }[] {
  return flag.list(f, name).map((v) => {
    const bad = (why: string) => cliError(`invalid argument "${v}" for "--${name}" flag: ${why}`, 125);
    const i = v.indexOf(':');
    if (i < 0) throw bad(`bad format: ${v}`);
    const path = v.slice(0, i);
    const val = v.slice(i + 1);
    if (!path.startsWith('/dev/')) throw bad(`bad format for device path: ${v}`);
    if (kind === 'weight') {
      if (!/^\d+$/.test(val) || Number(val) < 10 || Number(val) > 1000) throw bad(`invalid weight for device: ${v}`);
      return { Path: path, n: Number(val) };
    }
    const n = kind === 'count' ? (/^\d+$/.test(val) ? Number(val) : NaN) : (parseSize(val, 1024) ?? NaN);
    if (!Number.isFinite(n)) {
      throw bad(`invalid rate for device: ${v}. The correct format is <device-path>:<number>${kind === 'bytes' ? '[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb' : '. Number must be a positive integer'}`);
    }
    return { Path: path, n };
  });
}

/** `--cgroupns`: the docker CLI checks the mode itself. */
function cgroupnsMode(s: string): string {
  if (s !== 'host' && s !== 'private') throw cliError('--cgroupns: invalid CGROUP mode', 125);
  return s;
}

// The sysctls the docker CLI lets through (namespaced ones: IPC, network, POSIX queues).
const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function parseSysctl(x: string): [string, string] {
  const i = x.indexOf('=');
  const name = i < 0 ? '' : x.slice(0, i);
  if (i < 0 || !(SYSCTLS.has(name) || name.startsWith('net.') || name.startsWith('fs.mqueue.'))) {
    throw cliError(`invalid argument "${x}" for "--sysctl" flag: sysctl '${x}' is not allowed`, 125, true);
  }
  return [name, x.slice(i + 1)];
}

// The limits the docker CLI takes by name ("as" is not among them).
const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** `--ulimit name=soft[:hard]` as docker parses it, with its words for each refusal. */
function parseUlimit(s: string): { Name: string; Soft: number; Hard: number } {
  const bad = (why: string) => cliError(`invalid argument "${s}" for "--ulimit" flag: ${why}`, 125, true);
  const eq = s.indexOf('=');
  if (eq < 0) throw bad(`invalid ulimit argument: ${s}`);
  const name = s.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw bad(`invalid ulimit type: ${name}`);
  const vals = s.slice(eq + 1).split(':');
  if (vals.length > 2) throw bad(`too many limit value arguments - ${s.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  // Go's strconv.ParseInt(v, 10, 64); the hard limit is read first, as docker reads it.
  const int64 = (v: string) => {
    if (!/^[+-]?\d+$/.test(v)) throw bad(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    const n = BigInt(v);
    if (n > 9223372036854775807n || n < -9223372036854775808n) throw bad(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
    return Number(n);
  };
  const hard = vals.length === 2 ? int64(vals[1]!) : undefined;
  const soft = int64(vals[0]!);
  if (hard !== undefined && hard !== -1 && soft > hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard ?? soft };
}

/** A Go duration ("1m30s", "500ms", "0") in nanoseconds; a bad one in the docker CLI's words. */
function parseDuration(s: string | undefined, name: string): number | undefined {
  if (s === undefined) return undefined;
  const d = parseGoDuration(s);
  if ('error' in d) throw cliError(`invalid argument "${s}" for "--${name}" flag: ${d.error}`, 125, true);
  const total = d.ns;
  return Math.round(total);
}

/** The keys `--mount` takes (the docker CLI's list); a bare `readonly`/`ro` means true. */
const MOUNT_KEYS = new Set(['type', 'source', 'src', 'target', 'destination', 'dst', 'readonly', 'ro', 'consistency', 'bind-propagation',
  'bind-nonrecursive', 'bind-recursive', 'volume-nocopy', 'volume-label', 'volume-driver', 'volume-opt', 'volume-subpath', 'tmpfs-size', 'tmpfs-mode', 'image-subpath']);

function parseMountFlag(m: string): Record<string, string> {
  const bad = (why: string) => cliError(`invalid argument "${m}" for "--mount" flag: ${why}`, 125, true);
  const kv: Record<string, string> = {};
  for (const field of m.split(',')) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
    if (i < 0 && key !== 'readonly' && key !== 'ro' && key !== 'volume-nocopy' && key !== 'bind-nonrecursive') throw bad(`invalid field '${field}' must be a key=value pair`);
    if (!MOUNT_KEYS.has(key)) throw bad(`unexpected key '${key}' in '${field}'`);
    kv[key] = i < 0 ? 'true' : field.slice(i + 1);
  }
  if (!(kv.target ?? kv.destination ?? kv.dst)) throw bad('target is required');
  return kv;
}

/** `tmpfs-mode=` in octal, as the docker CLI reads it. */
function tmpfsMode(m: string, v: string): number {
  if (!/^[0-7]+$/.test(v) || parseInt(v, 8) > 0xffffffff) throw cliError(`invalid argument "${m}" for "--mount" flag: invalid value for tmpfs-mode: ${v}`, 125, true);
  return parseInt(v, 8);
}

/** `-p [ip:][hostPort:]containerPort[/proto]` checked as the docker CLI checks it before sending. */
/** A `-p` value read and checked as the docker CLI does (its order, its words), before anything is sent. */
function parsePublish(p: string): { ip: string; host: string; ctr: string; proto: string } {
  const parts = p.split(':');
  const last = parts.pop()!;
  const host = parts.length ? parts.pop()! : '';
  let ip = parts.join(':');
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw hintError(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip && !isIP(ip)) throw hintError(`invalid IP address: ${ip}`);
  const slash = last.indexOf('/');
  const ctr = slash < 0 ? last : last.slice(0, slash);
  const proto = slash < 0 || slash === last.length - 1 ? 'tcp' : last.slice(slash + 1);
  if (!ctr) throw hintError(`no port specified: ${p}<empty>`);
  // Ports are 16-bit; a range goes upwards.
  const range = (r: string) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    const [a, b] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
    return m && a <= 65535 && b <= 65535 && b >= a ? b - a : undefined;
  };
  const ctrSpan = range(ctr);
  if (ctrSpan === undefined) throw hintError(`invalid containerPort: ${ctr}`);
  const hostSpan = host ? range(host) : 0;
  if (hostSpan === undefined) throw hintError(`invalid hostPort: ${host}`);
  // A host range for a single container port is a pool to pick from; two ranges must match.
  if (host && ctrSpan !== hostSpan && ctrSpan !== 0) throw hintError(`invalid ranges specified for container and host Ports: ${ctr} and ${host}`);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw hintError(`invalid proto: ${proto}`);
  return { ip, host, ctr, proto: proto.toLowerCase() };
}

/**
 * An --env-file or --label-file as the docker CLI reads one: lines trimmed on the left only, blank
 * and # lines skipped, a name with a space or tab refused; a bare name takes the client's value
 * (`lookup`) or is left out.
 */
async function keyValueFile(file: string, lookup?: (name: string) => string | undefined): Promise<string[]> {
  const out: string[] = [];
  let text;
  try {
    text = (await fsp.readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (e) {
    // In Go's words: the file cannot be opened, or (a directory) read.
    const err = e as NodeJS.ErrnoException;
    const why = /^[A-Z]+: (.*?), \w+/.exec(err.message)?.[1] ?? err.message;
    throw hintError(err.syscall === 'open' ? `open ${file}: ${why}` : `invalid env file (${file}): read ${file}: ${why === 'illegal operation on a directory' ? 'is a directory' : why}`);
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    const name = i < 0 ? line : line.slice(0, i);
    if (/[ \t]/.test(name)) throw hintError(`invalid env file (${file}): variable '${name}' contains whitespaces`);
    if (i >= 0) out.push(line);
    else if (lookup?.(name) !== undefined) out.push(`${name}=${lookup(name)!}`);
  }
  return out;
}

async function envList(f: FlagValues): Promise<string[]> {
  const out: string[] = [];
  for (const file of flag.list(f, 'env-file')) out.push(...await keyValueFile(file, (n) => process.env[n]));
  for (const e of flag.list(f, 'env')) out.push(e.includes('=') ? e : process.env[e] !== undefined ? `${e}=${process.env[e]}` : e);
  return out;
}

/** Build the POST /containers/create body from run/create flags. */
export async function createBody(image: string, cmd: string[], f: FlagValues): Promise<Json> {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of flag.list(f, 'publish')) {
    const { ip, host, ctr, proto } = parsePublish(p);
    const key = `${ctr}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: ip, HostPort: host });
  }
  const mounts: Json[] = [];
  for (const m of flag.list(f, 'mount')) {
    const kv = parseMountFlag(m);
    const ro = kv.readonly ?? kv.ro;
    mounts.push({
      Type: kv.type ?? 'volume', Source: kv.source ?? kv.src, Target: kv.target ?? kv.destination ?? kv.dst,
      ReadOnly: ro === 'true' || ro === '1',
      ...(kv['bind-propagation'] ? { BindOptions: { Propagation: kv['bind-propagation'].toLowerCase() } } : {}),
      ...(kv['tmpfs-size'] || kv['tmpfs-mode'] ? {
        TmpfsOptions: {
          ...(kv['tmpfs-size'] ? { SizeBytes: parseBytes(kv['tmpfs-size']) } : {}),
          ...(kv['tmpfs-mode'] ? { Mode: tmpfsMode(m, kv['tmpfs-mode']) } : {}),
        },
      } : {}),
    });
  }
  const tmpfs: Record<string, string> = {};
  for (const x of flag.list(f, 'tmpfs')) { const i = x.indexOf(':'); tmpfs[i < 0 ? x : x.slice(0, i)] = i < 0 ? '' : x.slice(i + 1); }
  // --expose: a port or a range, tcp unless said otherwise (published ports are exposed too).
  for (const e of flag.list(f, 'expose')) {
    const [range = '', proto = 'tcp'] = e.split('/');
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!m) throw cliError(`invalid range format for --expose: ${e}`, 125);
    for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]); p++) exposed[`${p}/${proto}`] = {};
  }
  const labels: Record<string, string> = {};
  const labelLines = [...(await Promise.all(flag.list(f, 'label-file').map((file) => keyValueFile(file)))).flat(), ...flag.list(f, 'label')];
  for (const l of labelLines) { const i = l.indexOf('='); labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1); }
  const mac = flag.str(f, 'mac-address');
  if (mac && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw cliError(`${mac} is not a valid mac address`, 125);
  // -a: which streams to attach (all three stay attached when none is named).
  const attach = flag.list(f, 'attach').map((s) => s.toLowerCase());
  for (const s of attach) if (!['stdin', 'stdout', 'stderr'].includes(s)) throw cliError(`invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`, 125);
  if (attach.length && flag.bool(f, 'detach')) throw cliError('conflicting options: cannot specify both --attach and --detach', 1);
  const restart = flag.str(f, 'restart') ?? 'no';
  let policy: { Name: string; MaximumRetryCount: number };
  try { policy = parseRestartPolicy(restart); } catch (e) { throw hintError((e as Error).message); }
  if (flag.bool(f, 'rm') && policy.Name && policy.Name !== 'no') throw hintError('conflicting options: cannot specify both --restart and --rm');
  // The health flags as the docker CLI takes them: any of them makes a check, none may be
  // negative, and --no-healthcheck goes with none of them.
  let health: Json | undefined;
  const durations = Object.fromEntries((['interval', 'timeout', 'start-period', 'start-interval'] as const)
    .map((k) => [k, parseDuration(flag.str(f, `health-${k}`), `health-${k}`) ?? 0]));
  const retries = flag.int(f, 'health-retries') ?? 0;
  const healthSet = Boolean(flag.str(f, 'health-cmd')) || retries !== 0 || Object.values(durations).some((d) => d !== 0);
  if (flag.bool(f, 'no-healthcheck')) {
    if (healthSet) throw hintError('--no-healthcheck conflicts with --health-* options');
    health = { Test: ['NONE'] };
  } else if (healthSet) {
    for (const k of ['interval', 'timeout'] as const) if (durations[k]! < 0) throw hintError(`--health-${k} cannot be negative`);
    if (retries < 0) throw hintError('--health-retries cannot be negative');
    for (const k of ['start-period', 'start-interval'] as const) if (durations[k]! < 0) throw hintError(`--health-${k} cannot be negative`);
    health = {
      ...(flag.str(f, 'health-cmd') ? { Test: ['CMD-SHELL', flag.str(f, 'health-cmd')] } : {}),
      Interval: durations.interval, Timeout: durations.timeout, Retries: retries, StartPeriod: durations['start-period'],
      ...(durations['start-interval'] ? { StartInterval: durations['start-interval'] } : {}),
    };
  }
  const tty = flag.bool(f, 'tty');
  const interactive = flag.bool(f, 'interactive');
  const detached = flag.bool(f, 'detach');
  const ep = flag.str(f, 'entrypoint');
  return {
    Image: image,
    Cmd: cmd.length ? cmd : undefined,
    ...(ep !== undefined ? { Entrypoint: ep === '' ? [''] : [ep] } : {}),
    Env: await envList(f),
    WorkingDir: flag.str(f, 'workdir') ?? '',
    User: flag.str(f, 'user') ?? '',
    Hostname: flag.str(f, 'hostname') ?? '',
    ...(flag.str(f, 'domainname') ? { Domainname: flag.str(f, 'domainname') } : {}),
    ...(mac ? { MacAddress: mac } : {}),
    Labels: labels,
    ExposedPorts: exposed,
    Tty: tty,
    OpenStdin: interactive,
    // Detached (-d): nothing attaches now, so stdin must survive later attach/detach cycles.
    StdinOnce: interactive && !detached,
    AttachStdin: attach.length ? attach.includes('stdin') : interactive && !detached,
    AttachStdout: attach.length ? attach.includes('stdout') : !detached,
    AttachStderr: attach.length ? attach.includes('stderr') : !detached,
    ...(health ? { Healthcheck: health } : {}),
    ...(flag.str(f, 'stop-signal') ? { StopSignal: flag.str(f, 'stop-signal') } : {}),
    ...(flag.int(f, 'stop-timeout') !== undefined ? { StopTimeout: flag.int(f, 'stop-timeout') } : {}),
    HostConfig: {
      Binds: flag.list(f, 'volume'),
      Mounts: mounts,
      Tmpfs: tmpfs,
      PortBindings: bindings,
      PublishAllPorts: flag.bool(f, 'publish-all'),
      NetworkMode: flag.str(f, 'network') ?? 'bridge',
      RestartPolicy: policy,
      AutoRemove: flag.bool(f, 'rm'),
      Init: flag.bool(f, 'init') || null,
      Memory: flag.str(f, 'memory') ? parseBytes(flag.str(f, 'memory')!) : 0,
      NanoCpus: flag.str(f, 'cpus') ? nanoCpus(flag.str(f, 'cpus')!) : 0,
      PidsLimit: flag.int(f, 'pids-limit') ?? null,
      ...(flag.str(f, 'memory-swap') ? { MemorySwap: flag.str(f, 'memory-swap') === '-1' ? -1 : parseBytes(flag.str(f, 'memory-swap')!) } : {}),
      ...(flag.int(f, 'cpu-shares') !== undefined ? { CpuShares: flag.int(f, 'cpu-shares') } : {}),
      ...(flag.int(f, 'cpu-period') !== undefined ? { CpuPeriod: flag.int(f, 'cpu-period') } : {}),
      ...(flag.int(f, 'blkio-weight') ? { BlkioWeight: flag.int(f, 'blkio-weight') } : {}),
      ...(flag.int(f, 'cpu-quota') !== undefined ? { CpuQuota: flag.int(f, 'cpu-quota') } : {}),
      ...(flag.str(f, 'cpuset-mems') ? { CpusetMems: flag.str(f, 'cpuset-mems') } : {}),
      ...(flag.str(f, 'memory-reservation') ? { MemoryReservation: parseBytes(flag.str(f, 'memory-reservation')!) } : {}),
      // As the docker CLI: -1 (the default) is left out, so the daemon keeps the kernel's value.
      ...((flag.int(f, 'memory-swappiness') ?? -1) !== -1 ? { MemorySwappiness: flag.int(f, 'memory-swappiness') } : {}),
      ...(flag.bool(f, 'oom-kill-disable') ? { OomKillDisable: true } : {}),
      ...(flag.int(f, 'oom-score-adj') ? { OomScoreAdj: flag.int(f, 'oom-score-adj') } : {}),
      ...(flag.str(f, 'cgroup-parent') ? { CgroupParent: flag.str(f, 'cgroup-parent') } : {}),
      BlkioWeightDevice: devicePairs(f, 'blkio-weight-device', 'weight').map((d) => ({ Path: d.Path, Weight: d.n })),
      BlkioDeviceReadBps: devicePairs(f, 'device-read-bps', 'bytes').map((d) => ({ Path: d.Path, Rate: d.n })),
      BlkioDeviceWriteBps: devicePairs(f, 'device-write-bps', 'bytes').map((d) => ({ Path: d.Path, Rate: d.n })),
      BlkioDeviceReadIOps: devicePairs(f, 'device-read-iops', 'count').map((d) => ({ Path: d.Path, Rate: d.n })),
      BlkioDeviceWriteIOps: devicePairs(f, 'device-write-iops', 'count').map((d) => ({ Path: d.Path, Rate: d.n })),
      ...(flag.int(f, 'cpu-rt-period') ? { CpuRealtimePeriod: flag.int(f, 'cpu-rt-period') } : {}),
      ...(flag.int(f, 'cpu-rt-runtime') ? { CpuRealtimeRuntime: flag.int(f, 'cpu-rt-runtime') } : {}),
      ...(flag.list(f, 'storage-opt').length ? { StorageOpt: Object.fromEntries(flag.list(f, 'storage-opt').map((o) => { const i = o.indexOf('='); return i < 0 ? [o, ''] : [o.slice(0, i), o.slice(i + 1)]; })) } : {}),
      ...(flag.str(f, 'cpuset-cpus') ? { CpusetCpus: flag.str(f, 'cpuset-cpus') } : {}),
      Ulimits: flag.list(f, 'ulimit').map(parseUlimit),
      ...(flag.str(f, 'shm-size') ? { ShmSize: parseBytes(flag.str(f, 'shm-size')!) } : {}),
      Sysctls: Object.fromEntries(flag.list(f, 'sysctl').map(parseSysctl)),
      ...(flag.str(f, 'runtime') ? { Runtime: flag.str(f, 'runtime') } : {}),
      ExtraHosts: flag.list(f, 'add-host'),
      Dns: flag.list(f, 'dns'),
      DnsSearch: flag.list(f, 'dns-search'),
      DnsOptions: flag.list(f, 'dns-option'),
      GroupAdd: flag.list(f, 'group-add'),
      ...(flag.str(f, 'pid') ? { PidMode: flag.str(f, 'pid') } : {}),
      ...(flag.str(f, 'ipc') ? { IpcMode: flag.str(f, 'ipc') } : {}),
      ...(flag.str(f, 'uts') ? { UTSMode: flag.str(f, 'uts') } : {}),
      ...(flag.str(f, 'cgroupns') ? { CgroupnsMode: cgroupnsMode(flag.str(f, 'cgroupns')!) } : {}),
      Devices: flag.list(f, 'device').map(parseDevice),
      Links: flag.list(f, 'link'),
      VolumesFrom: flag.list(f, 'volumes-from'),
      LogConfig: { Type: flag.str(f, 'log-driver') ?? '', Config: Object.fromEntries(flag.list(f, 'log-opt').map((o) => { const i = o.indexOf('='); return i < 0 ? [o, ''] : [o.slice(0, i), o.slice(i + 1)]; })) },
      ReadonlyRootfs: flag.bool(f, 'read-only'),
      CapAdd: flag.list(f, 'cap-add'),
      CapDrop: flag.list(f, 'cap-drop'),
      Privileged: flag.bool(f, 'privileged'),
      // As the docker CLI: `systempaths=unconfined` is not sent on; it empties the masked paths.
      SecurityOpt: flag.list(f, 'security-opt').filter((o) => o !== 'systempaths=unconfined'),
      ...(flag.list(f, 'security-opt').includes('systempaths=unconfined') ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
      ...(tty && process.stdout.isTTY ? { ConsoleSize: [process.stdout.rows, process.stdout.columns] } : {}),
    },
  };
}

async function createContainer(ctx: Context, client: Client, image: string, cmd: string[], f: FlagValues): Promise<string> {
  const body = await createBody(image, cmd, f);
  const name = flag.str(f, 'name');
  const platform = flag.str(f, 'platform');
  const pull = flag.str(f, 'pull') ?? 'missing';
  const doPull = async () => {
    const s = client.pull(image, platform ? { platform } : {});
    for await (const _m of s as unknown as AsyncIterable<unknown>) { /* progress is not shown */ }
  };
  if (pull === 'always') await doPull();
  // --cidfile: claimed before the create (as the docker CLI: an existing file means another run), filled after it.
  const cidfile = flag.str(f, 'cidfile');
  if (cidfile) {
    try { await fsp.writeFile(cidfile, '', { flag: 'wx' }); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw cliError(`container ID file found, make sure the other container isn't running or delete ${cidfile}`, 125);
      throw cliError(`failed to create the container ID file: ${(e as Error).message}`, 125);
    }
  }
  const go = async () => {
    const r = await t(client).json<{ Id: string; Warnings?: string[] | null }>({ method: 'POST', path: '/containers/create', query: { name, platform }, json: body });
    for (const w of r.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
    return r.Id;
  };
  try {
    let id: string;
    try {
      id = await go();
    } catch (e) {
      if (pull !== 'missing' || !isBerthError(e) || !/No such image/.test(e.message)) throw e;
      if (!flag.bool(f, 'quiet')) ctx.err(`Unable to find image '${image}' locally\n`);
      await doPull();
      id = await go();
    }
    if (cidfile) await fsp.writeFile(cidfile, id);
    return id;
  } catch (e) {
    if (cidfile) await fsp.rm(cidfile, { force: true });
    throw e;
  }
}

/** Attach (hijacked) before start, as docker does, so no output is lost. */
const DETACH_KEYS: FlagSpec = { long: 'detach-keys', type: 'string', valueName: 'string', description: 'Override the key sequence for detaching a container' };

async function attachAndRun(ctx: Context, client: Client, id: string, o: { tty: boolean; stdin: boolean; autoRemove: boolean; start: boolean; stdout?: boolean; stderr?: boolean; detachKeys?: string }): Promise<number> {
  // Attach and wait go out together (one round trip less); both are in place before the start.
  const streams = `${o.stdout === false ? '' : '&stdout=1'}${o.stderr === false ? '' : '&stderr=1'}${o.stdin ? '&stdin=1' : ''}${o.detachKeys ? `&detachKeys=${enc(o.detachKeys)}` : ''}`;
  const attaching = hijack(client, `/containers/${id}/attach?stream=1${streams}`);
  const waiting = t(client).request({ method: 'POST', path: `/containers/${id}/wait`, query: { condition: o.autoRemove ? 'removed' : 'next-exit' } });
  const [a, w] = await Promise.allSettled([attaching, waiting]);
  if (a.status === 'rejected' || w.status === 'rejected') {
    if (a.status === 'fulfilled') a.value.destroy();
    if (w.status === 'fulfilled') w.value.destroy();
    throw a.status === 'rejected' ? a.reason : (w as PromiseRejectedResult).reason;
  }
  const sock = a.value;
  const res = w.value;
  // Events, not `for await`: the stream's async iterator costs ~0.6 ms to set up on `run`'s path.
  const body = new Promise<{ StatusCode?: number }>((resolve, reject) => {
    let s = '';
    res.on('data', (c: Buffer) => { s += c.toString(); });
    res.once('end', () => { try { resolve(JSON.parse(s || '{}') as { StatusCode?: number }); } catch (e) { reject(e as Error); } });
    res.once('error', reject);
  });
  body.catch(() => {}); // awaited below unless the session detaches
  const streamDone = new Promise<void>((r) => { sock.once('end', () => r()); sock.once('close', () => r()); });
  if (o.tty) sock.on('data', (d: Buffer) => ctx.stdout.write(d));
  else demux(sock, (b) => ctx.stdout.write(b), (b) => ctx.stderr.write(b));
  sock.resume();
  let detached = false;
  const raw = o.tty && o.stdin && ctx.stdin.isTTY;
  const endRaw = raw ? (await rawTty()).enterRaw(ctx.stdin) : undefined;
  if (o.stdin) {
    // ctrl-p,ctrl-q with a TTY detaches, as with the docker CLI: the attach ends, the container runs on.
    const feed = o.tty ? detachFilter(parseDetachKeys(o.detachKeys ?? DEFAULT_DETACH_KEYS), (b) => { sock.write(b); }, () => { detached = true; sock.end(); }) : (d: Buffer) => { sock.write(d); };
    ctx.stdin.on('data', feed);
    ctx.stdin.once('end', () => sock.end());
  }
  try {
    if (o.start) await t(client).empty({ method: 'POST', path: `/containers/${id}/start` });
    if (o.tty && ctx.stdout.isTTY) {
      const resize = () => t(client).empty({ method: 'POST', path: `/containers/${id}/resize`, query: { h: ctx.stdout.rows, w: ctx.stdout.columns } }).catch(() => {});
      await resize();
      ctx.stdout.on('resize', () => void resize());
    }
    await streamDone;
    if (detached) { res.destroy(); return 0; }
    const r = await body;
    return r.StatusCode ?? 0;
  } finally {
    endRaw?.();
    if (o.stdin) {
      ctx.stdin.pause();
      ctx.stdin.unref?.();
    }
  }
}

export const run: Command = {
  usage: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  minArgs: 1,
  interspersed: false,
  flags: [...CREATE_FLAGS, { long: 'detach', short: 'd', type: 'bool', description: 'Run container in background and print container ID' }, DETACH_KEYS],
  async run(ctx, args, f) {
    const client = await ctx.client();
    // docker's exit codes for a run that fails in the engine: 125, or 126/127 when the command
    // cannot be executed / is not found. Errors in the flags already carry theirs.
    if (!flag.bool(f, 'detach')) {
      const a = flag.list(f, 'attach').map((s) => s.toLowerCase());
      checkTty(ctx.stdin, a.length ? a.includes('stdin') : flag.bool(f, 'interactive'), flag.bool(f, 'tty'));
    }
    try {
      const id = await createContainer(ctx, client, args[0]!, args.slice(1), f);
      if (flag.bool(f, 'detach')) {
        // The ID first, as the docker CLI prints it: a start that fails leaves a container to look at.
        ctx.out(`${id}\n`);
        await t(client).empty({ method: 'POST', path: `/containers/${id}/start` });
        return 0;
      }
      const a = flag.list(f, 'attach').map((s) => s.toLowerCase());
      const only = (s: string) => (a.length ? a.includes(s) : undefined);
      return await attachAndRun(ctx, client, id, {
        tty: flag.bool(f, 'tty'), stdin: only('stdin') ?? flag.bool(f, 'interactive'), stdout: only('stdout'), stderr: only('stderr'), autoRemove: flag.bool(f, 'rm'), start: true,
        detachKeys: flag.str(f, 'detach-keys'),
      });
    } catch (e) {
      if (!isBerthError(e) || cliErrorInfo(e)) throw e;
      const m = e.message;
      const code = /executable file not found|no such file or directory/.test(m) ? 127 : /permission denied|is a directory/.test(m) ? 126 : 125;
      const d = daemonErrorInfo(e);
      // As the docker CLI reports a run the engine refused.
      throw hintError(d && !d.inStream ? `Error response from daemon: ${m}` : m, code);
    }
  },
};

export const create: Command = {
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create a new container',
  minArgs: 1,
  interspersed: false,
  flags: CREATE_FLAGS,
  async run(ctx, args, f) {
    const client = await ctx.client();
    ctx.out(`${await createContainer(ctx, client, args[0]!, args.slice(1), f)}\n`);
  },
};

/** Run `fn` for each argument; print each name on success, errors to stderr; exit 1 if any failed. */
/**
 * Run `fn` for each name, printing the name when it worked. `spare(e, f)`: an error that is printed
 * but does not fail the command (`rm -f` of a container that is not there, as the docker CLI).
 */
function each(fn: (client: Client, name: string, f: FlagValues) => Promise<void>, print = true, spare?: (e: BerthError, f: FlagValues) => boolean) {
  return async (ctx: Context, args: string[], f: FlagValues) => {
    const client = await ctx.client();
    let failed = false;
    for (const a of args) {
      try {
        await fn(client, a, f);
        if (print) ctx.out(`${a}\n`);
      } catch (e) {
        if (!isBerthError(e)) throw e;
        if (!spare?.(e, f)) failed = true;
        ctx.err(`Error response from daemon: ${e.message}\n`);
      }
    }
    return failed ? 1 : 0;
  };
}

const ignore304 = (e: unknown) => { if (!isBerthError(e, 'ERR_NOT_MODIFIED')) throw e; };

export const start: Command = {
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Start one or more stopped containers',
  minArgs: 1,
  flags: [
    { long: 'attach', short: 'a', type: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
    DETACH_KEYS,
    { long: 'interactive', short: 'i', type: 'bool', description: "Attach container's STDIN" },
  ],
  async run(ctx, args, f) {
    if (flag.bool(f, 'attach') || flag.bool(f, 'interactive')) {
      if (args.length > 1) throw cliError('you cannot start and attach multiple containers at once');
      const client = await ctx.client();
      const info = await t(client).json<{ Id: string; Config: { Tty: boolean }; HostConfig: { AutoRemove: boolean } }>({ path: `/containers/${enc(args[0]!)}/json` });
      return attachAndRun(ctx, client, info.Id, { tty: info.Config.Tty, stdin: flag.bool(f, 'interactive'), autoRemove: info.HostConfig.AutoRemove, start: true, detachKeys: flag.str(f, 'detach-keys') });
    }
    const failed: string[] = [];
    const code = await each((c, n) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/start` }).then(() => {}, ignore304).catch((e: unknown) => { failed.push(n); throw e; }))(ctx, args, f);
    // The docker CLI's summary line after the errors.
    if (failed.length) ctx.err(`Error: failed to start containers: ${failed.join(', ')}\n`);
    return code;
  },
};

const timeFlags: FlagSpec[] = [
  { long: 'signal', short: 's', type: 'string', valueName: 'string', description: 'Signal to send to the container' },
  { long: 'timeout', short: 't', type: 'int', valueName: 'int', description: 'Seconds to wait before killing the container' },
  { long: 'time', type: 'int', valueName: 'int', description: 'Seconds to wait before killing the container', deprecated: 'use --timeout instead' },
];
const timeout = (f: FlagValues) => flag.int(f, 'timeout') ?? flag.int(f, 'time');

export const stop: Command = {
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers', minArgs: 1, flags: timeFlags,
  run: each((c, n, f) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/stop`, query: { t: timeout(f), signal: flag.str(f, 'signal') } }).then(() => {}, ignore304)),
};

export const restart: Command = {
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]', description: 'Restart one or more containers', minArgs: 1, flags: timeFlags,
  run: each((c, n, f) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/restart`, query: { t: timeout(f), signal: flag.str(f, 'signal') } }).then(() => {})),
};

export const kill: Command = {
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]', description: 'Kill one or more running containers', minArgs: 1,
  flags: [{ long: 'signal', short: 's', type: 'string', valueName: 'string', description: 'Signal to send to the container' }],
  run: each((c, n, f) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/kill`, query: { signal: flag.str(f, 'signal') } }).then(() => {})),
};

export const rm: Command = {
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', minArgs: 1,
  flags: [
    { long: 'force', short: 'f', type: 'bool', description: 'Force the removal of a running container (uses SIGKILL)' },
    { long: 'volumes', short: 'v', type: 'bool', description: 'Remove anonymous volumes associated with the container' },
  ],
  run: each((c, n, f) => t(c).empty({ method: 'DELETE', path: `/containers/${enc(n)}`, query: { force: flag.bool(f, 'force') || undefined, v: flag.bool(f, 'volumes') || undefined } }).then(() => {}),
    true, (e, f) => flag.bool(f, 'force') && e.status === 404),
};

export const pause: Command = {
  usage: 'pause CONTAINER [CONTAINER...]', description: 'Pause all processes within one or more containers', minArgs: 1,
  run: each((c, n) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/pause` }).then(() => {})),
};

export const unpause: Command = {
  usage: 'unpause CONTAINER [CONTAINER...]', description: 'Unpause all processes within one or more containers', minArgs: 1,
  run: each((c, n) => t(c).empty({ method: 'POST', path: `/containers/${enc(n)}/unpause` }).then(() => {})),
};

export const wait: Command = {
  usage: 'wait CONTAINER [CONTAINER...]', description: 'Block until one or more containers stop, then print their exit codes', minArgs: 1,
  async run(ctx, args) {
    const client = await ctx.client();
    // Exit codes as they come, the errors together at the end, as the docker CLI prints them.
    const errs: string[] = [];
    for (const n of args) {
      try {
        const r = await t(client).json<{ StatusCode: number }>({ method: 'POST', path: `/containers/${enc(n)}/wait` });
        ctx.out(`${r.StatusCode}\n`);
      } catch (e) {
        if (!isBerthError(e)) throw e;
        errs.push(`Error response from daemon: ${e.message}`);
      }
    }
    if (errs.length) ctx.err(`${errs.join('\n')}\n`);
    return errs.length ? 1 : 0;
  },
};

export const rename: Command = {
  usage: 'rename CONTAINER NEW_NAME', description: 'Rename a container', minArgs: 2, maxArgs: 2,
  async run(ctx, args) {
    if (!args[0]!.trim() || !args[1]!.trim()) throw cliError('Error: Neither old nor new names may be empty', 1);
    const client = await ctx.client();
    try {
      await t(client).empty({ method: 'POST', path: `/containers/${enc(args[0]!)}/rename`, query: { name: args[1] } });
    } catch (e) {
      if (!isBerthError(e) || !daemonErrorInfo(e)) throw e;
      // The docker CLI prints the daemon's error, then its own summary line.
      ctx.err(`Error response from daemon: ${e.message}\n`);
      throw cliError(`Error: failed to rename container named ${args[0]}`, 1);
    }
  },
};

export const top: Command = {
  usage: 'top CONTAINER [ps OPTIONS]', description: 'Display the running processes of a container', minArgs: 1, interspersed: false,
  async run(ctx, args) {
    const r = await t(await ctx.client()).json<{ Titles: string[]; Processes: string[][] }>({ path: `/containers/${enc(args[0]!)}/top`, query: { ps_args: args.slice(1).join(' ') || undefined } });
    const rows = [r.Titles, ...r.Processes];
    const widths = r.Titles.map((_, i) => Math.max(...rows.map((x) => (x[i] ?? '').length)));
    // The docker CLI's tabwriter here: cells padded by 3, columns at least 20 wide.
    ctx.out(rows.map((x) => x.map((v, i) => (i === x.length - 1 ? v : v.padEnd(Math.max(widths[i]! + 3, 20)))).join('')).join('\n') + '\n');
  },
};

export const logs: Command = {
  usage: 'logs [OPTIONS] CONTAINER', description: 'Fetch the logs of a container', minArgs: 1, maxArgs: 1,
  flags: [
    { long: 'follow', short: 'f', type: 'bool', description: 'Follow log output' },
    { long: 'timestamps', short: 't', type: 'bool', description: 'Show timestamps' },
    { long: 'details', type: 'bool', description: 'Show extra details provided to logs' },
    { long: 'since', type: 'string', valueName: 'string', description: 'Show logs since timestamp or relative (e.g. 42m)' },
    { long: 'until', type: 'string', valueName: 'string', description: 'Show logs before a timestamp or relative' },
    { long: 'tail', short: 'n', type: 'string', valueName: 'string', description: 'Number of lines to show from the end of the logs', default: 'all' },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const info = await t(client).json<{ Config: { Tty: boolean } }>({ path: `/containers/${enc(args[0]!)}/json` });
    const rel = (name: 'since' | 'until') => {
      const s = flag.str(f, name);
      if (!s) return undefined;
      try { return getTimestamp(s); } catch (e) { throw cliError(`invalid value for "${name}": ${(e as Error).message}`, 1); }
    };
    const res = await t(client).request({ path: `/containers/${enc(args[0]!)}/logs`, query: {
      stdout: 1, stderr: 1, follow: flag.bool(f, 'follow') || undefined, timestamps: flag.bool(f, 'timestamps') || undefined, details: flag.bool(f, 'details') || undefined,
      since: rel('since'), until: rel('until'), tail: flag.str(f, 'tail'),
    } });
    if (info.Config.Tty) res.on('data', (d: Buffer) => ctx.stdout.write(d));
    else demux(res, (b) => ctx.stdout.write(b), (b) => ctx.stderr.write(b));
    await new Promise<void>((r) => res.once('end', () => r()));
  },
};

export const exec: Command = {
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]', description: 'Execute a command in a running container', minArgs: 2, interspersed: false,
  flags: [
    { long: 'detach', short: 'd', type: 'bool', description: 'Detached mode: run command in the background' },
    { long: 'detach-keys', type: 'string', valueName: 'string', description: 'Override the key sequence for detaching a container' },
    { long: 'env', short: 'e', type: 'list', valueName: 'list', description: 'Set environment variables' },
    { long: 'env-file', type: 'list', valueName: 'list', description: 'Read in a file of environment variables' },
    { long: 'interactive', short: 'i', type: 'bool', description: 'Keep STDIN open even if not attached' },
    { long: 'privileged', type: 'bool', description: 'Give extended privileges to the command' },
    { long: 'tty', short: 't', type: 'bool', description: 'Allocate a pseudo-TTY' },
    { long: 'user', short: 'u', type: 'string', valueName: 'string', description: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { long: 'workdir', short: 'w', type: 'string', valueName: 'string', description: 'Working directory inside the container' },
  ],
  async run(ctx, args, f) {
    const client = await ctx.client();
    const tty = flag.bool(f, 'tty');
    const stdin = flag.bool(f, 'interactive');
    const detach = flag.bool(f, 'detach');
    const keysSpec = flag.str(f, 'detach-keys');
    if (!detach) checkTty(ctx.stdin, stdin, tty);
    const { Id } = await t(client).json<{ Id: string }>({ method: 'POST', path: `/containers/${enc(args[0]!)}/exec`, json: {
      Cmd: args.slice(1), Tty: tty, AttachStdin: stdin && !detach, AttachStdout: !detach, AttachStderr: !detach, DetachKeys: keysSpec ?? '',
      // exec reports an unreadable --env-file without the help hint, exit 1.
      Env: await envList(f).catch((e: Error) => { throw cliError(e.message, 1); }), User: flag.str(f, 'user') ?? '', WorkingDir: flag.str(f, 'workdir') ?? '', Privileged: flag.bool(f, 'privileged'),
      ...(tty && ctx.stdout.isTTY ? { ConsoleSize: [ctx.stdout.rows, ctx.stdout.columns] } : {}),
    } });
    if (detach) {
      await t(client).empty({ method: 'POST', path: `/exec/${Id}/start`, json: { Detach: true, Tty: tty } });
      return 0;
    }
    const sock = await hijack(client, `/exec/${Id}/start`, { Detach: false, Tty: tty, ...(tty && ctx.stdout.isTTY ? { ConsoleSize: [ctx.stdout.rows, ctx.stdout.columns] } : {}) });
    const done = new Promise<void>((r) => { sock.once('end', () => r()); sock.once('close', () => r()); });
    if (tty) sock.on('data', (d: Buffer) => ctx.stdout.write(d));
    else demux(sock, (b) => ctx.stdout.write(b), (b) => ctx.stderr.write(b));
    sock.resume();
    const raw = tty && stdin && ctx.stdin.isTTY;
    const endRaw = raw ? (await rawTty()).enterRaw(ctx.stdin) : undefined;
    let detached = false;
    if (stdin) {
      // With a TTY the detach keys end the session here, as the docker CLI does: the daemon sees the
      // end of input and lets the process run on.
      const feed = tty ? detachFilter(parseDetachKeys(keysSpec ?? DEFAULT_DETACH_KEYS), (b) => { sock.write(b); }, () => { detached = true; sock.end(); }) : (d: Buffer) => { sock.write(d); };
      ctx.stdin.on('data', (d: Buffer) => { if (!detached) feed(d); });
      ctx.stdin.once('end', () => sock.end());
    }
    try { await done; } finally { endRaw?.(); if (stdin) ctx.stdin.pause(); }
    if (detached) {
      ctx.err('read escape sequence\n');
      return 1;
    }
    const r = await t(client).json<{ ExitCode: number | null }>({ path: `/exec/${Id}/json` });
    return r.ExitCode ?? 0;
  },
};

const PS_HEADERS: Record<string, RowValue> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', RunningFor: 'CREATED', CreatedAt: 'CREATED AT', Status: 'STATUS', Ports: 'PORTS',
  Names: 'NAMES', Size: 'SIZE', Labels: 'LABELS', State: 'STATE', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS',
  Platform: 'PLATFORM',
  // A table's header for `{{.Label "name"}}` is the label's name.
  Label: (name: string) => name,
};

/** "ip:port", an IPv6 address in brackets ("[::]:8080"), as the docker CLI writes them. */
function hostPort(ip: string, port: string | number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function portsText(ports: Json[]): string {
  return ports.map((p) => (p.PublicPort ? `${hostPort(String(p.IP), p.PublicPort as number)}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

// The output formatting (templates, tables) loads only in the commands that print one: `run` is
// on the hot path and prints none of its own.
const formatting = () => Promise.all([import('../format/output.js'), import('../format/human.js')]);

/** "19B (virtual 1.98MB)": the writable layer, then with the image. */
function sizeText(c: Json, humanSize: (n: number) => string): string {
  const rw = humanSize(Number(c.SizeRw ?? 0));
  return Number(c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(Number(c.SizeRootFs))})` : rw;
}

export const ps: Command = {
  usage: 'ps [OPTIONS]', description: 'List containers', maxArgs: 0,
  flags: [
    { long: 'all', short: 'a', type: 'bool', description: 'Show all containers (default shows just running)' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Only display container IDs' },
    { long: 'last', short: 'n', type: 'int', valueName: 'int', description: 'Show n last created containers (includes all states)', default: -1 },
    { long: 'latest', short: 'l', type: 'bool', description: 'Show the latest created container (includes all states)' },
    { long: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
    { long: 'filter', short: 'f', type: 'list', valueName: 'filter', description: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', valueName: 'string', description: 'Format output using a custom template' },
    { long: 'no-trunc', type: 'bool', description: "Don't truncate output" },
  ],
  async run(ctx, _args, f) {
    const [client, [{ renderRows }, { ellipsis, goTimeString, humanSize, shortId, since }]] = await Promise.all([ctx.client(), formatting()]);
    const filters: Record<string, string[]> = {};
    for (const x of flag.list(f, 'filter')) { const i = x.indexOf('='); (filters[x.slice(0, i)] ??= []).push(x.slice(i + 1)); }
    const limit = flag.bool(f, 'latest') ? 1 : flag.int(f, 'last') ?? -1;
    const list = await t(client).json<Json[]>({ path: '/containers/json', query: {
      all: flag.bool(f, 'all') || undefined, limit: limit > 0 ? limit : undefined,
      // A template that shows .Size needs the sizes even without --size.
      // `{{json .}}` shows every field, Size included.
      size: flag.bool(f, 'size') || /\.Size\b|json\s+\.\s*}}/.test(flag.str(f, 'format') ?? '') || undefined,
      filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
    } });
    const noTrunc = flag.bool(f, 'no-trunc');
    const rows = list.map((c): Record<string, RowValue> => {
      const labels = (c.Labels as Record<string, string> | null) ?? {};
      const mounts = (c.Mounts as Json[] | null) ?? [];
      return {
        ID: noTrunc ? String(c.Id) : shortId(String(c.Id)),
        Image: String(c.Image),
        Command: noTrunc ? `"${String(c.Command)}"` : `"${ellipsis(String(c.Command), 20)}"`,
        RunningFor: since(Number(c.Created)),
        CreatedAt: goTimeString(Number(c.Created)),
        Status: String(c.Status),
        State: String(c.State),
        Ports: portsText((c.Ports as Json[]) ?? []),
        Names: ((c.Names as string[]) ?? []).map((n) => n.replace(/^\//, '')).join(','),
        Size: sizeText(c, humanSize),
        Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
        Label: (name: string) => labels[name] ?? '',
        // A volume by its name, a bind by its source, cut to 15 characters unless --no-trunc.
        Mounts: mounts.map((m) => String(m.Name || m.Source || '')).map((n) => (noTrunc ? n : ellipsis(n, 15))).join(','),
        LocalVolumes: String(mounts.filter((m) => m.Driver === 'local').length),
        Networks: Object.keys(((c.NetworkSettings as Json | null)?.Networks as Json | null) ?? {}).sort().join(','),
        // The image's platform, which this API version does not list: docker prints a nil.
        Platform: null,
      };
    });
    const def = flag.bool(f, 'quiet') ? '{{.ID}}' : `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${flag.bool(f, 'size') ? '\t{{.Size}}' : ''}`;
    ctx.out(renderRows(flag.bool(f, 'quiet') ? undefined : flag.str(f, 'format'), def, PS_HEADERS, rows));
  },
};

export const port: Command = {
  usage: 'port CONTAINER [PRIVATE_PORT[/PROTO]]', description: 'List port mappings or a specific mapping for the container', minArgs: 1, maxArgs: 2,
  async run(ctx, args) {
    const info = await t(await ctx.client()).json<{ NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> } }>({ path: `/containers/${enc(args[0]!)}/json` });
    const want = args[1] ? (args[1].includes('/') ? args[1] : `${args[1]}/tcp`) : undefined;
    const out: string[] = [];
    for (const [k, v] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      if (want && k !== want) continue;
      for (const b of v ?? []) out.push(want ? hostPort(b.HostIp || '0.0.0.0', b.HostPort) : `${k} -> ${hostPort(b.HostIp || '0.0.0.0', b.HostPort)}`);
    }
    if (want && out.length === 0) throw cliError(`Error: No public port '${args[1]}' published for ${args[0]}`, 1);
    if (out.length) ctx.out(out.join('\n') + '\n');
  },
};

export const prune: Command = {
  usage: 'container prune [OPTIONS]', description: 'Remove all stopped containers', maxArgs: 0,
  flags: [
    { long: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
    { long: 'filter', type: 'list', valueName: 'filter', description: 'Provide filter values (e.g. "until=<timestamp>")' },
  ],
  async run(ctx, _args, f) {
    const filters: Record<string, string[]> = {};
    for (const x of flag.list(f, 'filter')) { const i = x.indexOf('='); (filters[x.slice(0, i)] ??= []).push(x.slice(i + 1)); }
    const r = await t(await ctx.client()).json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>({ method: 'POST', path: '/containers/prune', query: { filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined } });
    if (r.ContainersDeleted?.length) ctx.out(`Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n\n`);
    const [, { humanSize }] = await formatting();
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
  },
};
