// Docker's JSON shapes for containers: GET /containers/{id}/json and GET /containers/json.
import type { Filters } from '../../api/query.js';
import { atoi, matchLabels } from '../../api/query.js';
import { join } from 'node:path';
import { errors } from '../../errors/index.js';
import { dirSize } from '../../util/fs.js';
import { DEFAULT_SHM_SIZE, cleanPath, hasCgroupNamespace } from '../../runtime/index.js';
import type { ContainerRecord } from './types.js';
import type { ContainerService } from './service.js';

/**
 * NetworkSettings.Ports as Docker's daemon has it: only while the container's network is up (its
 * exposed and published ports, bound or not); empty before the first start and after an exit.
 */
function portsMap(c: ContainerRecord): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  if (c.State.Status !== 'running' && c.State.Status !== 'paused') return out;
  for (const k of Object.keys(c.Config.ExposedPorts ?? {})) out[k] = null;
  for (const k of Object.keys(c.HostConfig.PortBindings ?? {})) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const [k, v] of Object.entries(c.Network?.Ports ?? {})) out[k] = v && v.length ? v : (out[k] ?? null);
  return out;
}

function mounts(svc: ContainerService, c: ContainerRecord): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const b of c.HostConfig.Binds ?? []) {
    const [src = '', dst = '', mode = ''] = b.split(':');
    // The propagation asked for in the mode, else Docker's default; the paths cleaned, as Docker's.
    const propagation = mode.split(',').find((o) => /^r?(private|shared|slave)$/.test(o)) ?? 'rprivate';
    out.push({ Type: 'bind', Source: cleanPath(src), Destination: cleanPath(dst), Mode: mode, RW: !mode.split(',').includes('ro'), Propagation: propagation });
  }
  for (const m of c.HostConfig.Mounts ?? []) {
    const propagation = m.Type === 'bind' ? m.BindOptions?.Propagation || 'rprivate' : '';
    out.push({ Type: m.Type, Source: m.Source ? cleanPath(m.Source) : '', Destination: m.Target ? cleanPath(m.Target) : m.Target, Mode: '', RW: !m.ReadOnly, Propagation: propagation });
  }
  for (const m of svc.inheritedMounts(c)) out.push({ ...m, Propagation: m.Type === 'bind' ? 'rprivate' : '' });
  return out;
}

function networkMode(c: ContainerRecord): string { return c.HostConfig.NetworkMode || 'bridge'; }
/** The network a container is on, by name: the docker CLI sends "default" for the bridge. */
function netName(c: ContainerRecord): string { const m = networkMode(c); return m === 'default' ? 'bridge' : m; }

/**
 * NetworkSettings.Networks as Docker fills it: none for `container:<id>` (the other container's),
 * the built-in network's ID for host and none.
 */
function networksOf(svc: ContainerService, c: ContainerRecord, ep: Record<string, unknown>): Record<string, unknown> {
  const name = netName(c);
  if (name.startsWith('container:')) return {};
  if (name === 'host' || name === 'none') return { [name]: { ...ep, NetworkID: svc.network?.networks().find((n) => n.name === name)?.id ?? '' } };
  return { [name]: ep };
}

function endpoint(c: ContainerRecord): Record<string, unknown> {
  const n = c.Network;
  const running = c.State.Status === 'running' || c.State.Status === 'paused';
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: running ? n?.MacAddress ?? '' : '', DriverOpts: null, GwPriority: 0,
    NetworkID: n?.NetworkID ?? '', EndpointID: running ? n?.EndpointID ?? '' : '', Gateway: running ? n?.Gateway ?? '' : '',
    IPAddress: running ? n?.IPAddress ?? '' : '', IPPrefixLen: running ? n?.IPPrefixLen ?? 0 : 0,
    IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

export function inspectContainer(svc: ContainerService, c: ContainerRecord): Record<string, unknown> {
  const s = c.State;
  const running = s.Status === 'running' || s.Status === 'paused';
  const ep = endpoint(c);
  const mode = networkMode(c);
  const etc = svc.etcOf(c);
  const state: Record<string, unknown> = {
    // Docker counts a container waiting out its restart back-off as running (Restarting too).
    Status: s.Status, Running: running || s.Status === 'restarting', Paused: s.Status === 'paused', Restarting: s.Status === 'restarting',
    OOMKilled: s.OOMKilled, Dead: s.Status === 'dead', Pid: running ? s.Pid : 0, ExitCode: s.ExitCode, Error: s.Error,
    StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
  };
  if (s.Health) state.Health = s.Health;
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: state,
    Image: c.ImageId,
    ResolvConfPath: etc.resolvConfPath,
    HostnamePath: etc.hostnamePath ?? `${svc.cdir(c.Id)}/hostname`,
    HostsPath: etc.hostsPath,
    LogPath: svc.logged(c) ? svc.logPath(c.Id) : '',
    Name: `/${c.Name}`,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    // Docker's lists the execs created or running while the container runs (its exit ends them).
    ExecIDs: running && svc.execIds(c.Id).length ? svc.execIds(c.Id) : null,
    HostConfig: {
      Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: mode, PortBindings: {},
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '', VolumesFrom: null,
      ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, Dns: [], DnsOptions: [], DnsSearch: [],
      ExtraHosts: null, GroupAdd: null, Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '',
      Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '',
      Runtime: 'runc', Isolation: '', CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '',
      BlkioWeight: 0, CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
      Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null,
      OomKillDisable: null, PidsLimit: null, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
      MaskedPaths: null, ReadonlyPaths: null,
      ...c.HostConfig,
      // What the daemon decides when the client leaves them empty, as Docker's inspect shows them.
      CgroupnsMode: c.HostConfig.CgroupnsMode || (hasCgroupNamespace() && !c.HostConfig.Privileged ? 'private' : 'host'),
      IpcMode: c.HostConfig.IpcMode || 'private',
      ShmSize: c.HostConfig.ShmSize || DEFAULT_SHM_SIZE,
      // Docker leaves Init out unless it was set.
      Init: c.HostConfig.Init ?? undefined,
    },
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: svc.lowerDirs(c).join(':'), MergedDir: svc.rootfsPath(c.Id), UpperDir: `${svc.cdir(c.Id)}/upper`, WorkDir: `${svc.cdir(c.Id)}/work` } },
    Mounts: mounts(svc, c),
    Config: {
      Hostname: etc.hostname, Domainname: c.Config.Domainname ?? '', User: c.Config.User ?? '',
      AttachStdin: !!c.Config.AttachStdin, AttachStdout: !!c.Config.AttachStdout, AttachStderr: !!c.Config.AttachStderr,
      ...(c.Config.ExposedPorts && Object.keys(c.Config.ExposedPorts).length ? { ExposedPorts: c.Config.ExposedPorts } : {}),
      Tty: !!c.Config.Tty, OpenStdin: !!c.Config.OpenStdin, StdinOnce: !!c.Config.StdinOnce, Env: c.Config.Env ?? null,
      Cmd: c.Config.Cmd ?? null, ...(c.Config.Healthcheck ? { Healthcheck: c.Config.Healthcheck } : {}), Image: c.Config.Image,
      Volumes: c.Config.Volumes ?? null, WorkingDir: c.Config.WorkingDir ?? '', Entrypoint: c.Config.Entrypoint ?? null,
      OnBuild: null, Labels: c.Config.Labels ?? {}, ...(c.Config.StopSignal ? { StopSignal: c.Config.StopSignal } : {}),
      ...(c.Config.StopTimeout !== undefined && c.Config.StopTimeout !== null ? { StopTimeout: c.Config.StopTimeout } : {}),
    },
    NetworkSettings: {
      Bridge: '', SandboxID: running ? c.Id : '', SandboxKey: running ? c.Network?.SandboxKey ?? '' : '',
      HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
      Ports: portsMap(c),
      SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
      EndpointID: ep.EndpointID, Gateway: ep.Gateway, GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0,
      IPAddress: ep.IPAddress, IPPrefixLen: ep.IPPrefixLen, IPv6Gateway: '', MacAddress: ep.MacAddress,
      Networks: networksOf(svc, c, ep),
    },
  };
}

/** go-units HumanDuration, as Docker's status text uses it (seconds and minutes truncate, hours round). */
function humanDuration(ms: number): string {
  const s = Math.trunc(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.trunc(ms / 60_000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3_600_000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.trunc(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.trunc(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.trunc(h / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

export function statusText(c: ContainerRecord): string {
  const s = c.State;
  const now = Date.now();
  switch (s.Status) {
    case 'running': {
      const h = s.Health ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : '';
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${h}`;
    }
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting': return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    case 'exited':
      if (s.FinishedAt === '0001-01-01T00:00:00Z') return 'Created';
      return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    default: return 'Created';
  }
}

function listPorts(c: ContainerRecord): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const m = portsMap(c);
  for (const [k, v] of Object.entries(m)) {
    const [port, proto = 'tcp'] = k.split('/');
    if (!v || v.length === 0) out.push({ PrivatePort: Number(port), Type: proto });
    else for (const b of v) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}

export function listEntry(svc: ContainerService, c: ContainerRecord): Record<string, unknown> {
  const ep = endpoint(c);
  const mode = networkMode(c);
  // As moby: the path as it is, then the arguments, those with a space in quotes.
  const cmd = c.Args.length ? `${c.Path} ${c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}` : c.Path;
  // As moby: the name the container was made from while it still names that image, else the image's ID.
  const image = c.Config.Image === c.ImageId || svc.d.images.find(c.Config.Image ?? '')?.id === c.ImageId ? c.Config.Image : c.ImageId;
  return {
    Id: c.Id, Names: [`/${c.Name}`], Image: image, ImageID: c.ImageId, Command: cmd,
    Created: Math.floor(Date.parse(c.Created) / 1000), Ports: listPorts(c), Labels: c.Config.Labels ?? {},
    State: c.State.Status, Status: statusText(c), HostConfig: { NetworkMode: mode },
    NetworkSettings: { Networks: networksOf(svc, c, ep) }, Mounts: mounts(svc, c),
  };
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** GET /containers/json with Docker's filters. */
export function listContainers(svc: ContainerService, opts: { all: boolean; limit?: number; filters: Filters }): Record<string, unknown>[] {
  const f = opts.filters;
  for (const k of f.keys()) {
    if (!['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'network', 'volume', 'health', 'is-task', 'expose', 'publish'].includes(k)) {
      throw errors.invalid(`invalid filter '${k}'`);
    }
  }
  for (const s of f.get('status') ?? []) if (!STATUSES.includes(s)) throw errors.invalid(`invalid filter 'status=${s}'`);
  for (const h of f.get('health') ?? []) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw errors.invalid(`Unrecognised filter value for health: ${h}`);
  for (const x of f.get('exited') ?? []) atoi(x);
  // As moby: only "true" or "false", else the values named in Go's way ("[a b]").
  const task = f.get('is-task');
  if (task && !task.has('true') && !task.has('false')) throw errors.invalid(`invalid filter 'is-task=[${[...task].join(' ')}]'`);
  const publish = portFilter(f, 'publish');
  const expose = portFilter(f, 'expose');
  let list = svc.all().sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (a.Id < b.Id ? 1 : -1));
  // A status filter lists stopped containers too; an exited filter does not (as moby).
  const all = opts.all || (opts.limit !== undefined && opts.limit > 0) || f.has('status');
  const ref = (name: string) => { const c = svc.find(name); if (!c) throw errors.noSuchContainer(name); return c; };
  if (f.has('before')) {
    const b = ref([...f.get('before')!][0]!);
    const i = list.indexOf(b);
    list = list.slice(i + 1);
  }
  if (f.has('since')) {
    const s = ref([...f.get('since')!][0]!);
    const i = list.indexOf(s);
    list = list.slice(0, Math.max(i, 0));
  }
  // As moby: each ancestor resolved to an image now (one that resolves to none matches nothing),
  // and a container matches when its image is one of them or was made from one (commit, build).
  const ancestors = f.get('ancestor')?.size ? new Set([...f.get('ancestor')!].map((v) => svc.d.images.find(v)?.id).filter((x): x is string => !!x)) : undefined;
  const imageLine = (id: string): string[] => {
    const out: string[] = [];
    for (let cur: string | undefined = id; cur && !out.includes(cur); cur = svc.d.images.d.meta.get(cur)?.parent) out.push(cur);
    return out;
  };
  const netIds = new Map((svc.network?.networks() ?? []).map((n) => [n.name as string, n.id]));
  list = list.filter((c) => {
    if (!all && !(c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting')) return false;
    const any = (k: string, pred: (v: string) => boolean) => !f.has(k) || f.get(k)!.size === 0 || [...f.get(k)!].some(pred);
    if (!any('id', (v) => c.Id.startsWith(v))) return false;
    // A regular expression against the name with and without its slash; one that does not
    // compile matches nothing (as Go's filters.Match).
    if (!any('name', (v) => regexMatch(v, `/${c.Name}`) || regexMatch(v, c.Name))) return false;
    if (!any('status', (v) => v === (c.State.Status === 'exited' && c.State.FinishedAt === '0001-01-01T00:00:00Z' ? 'created' : c.State.Status))) return false;
    if (!any('exited', (v) => c.State.Status === 'exited' && c.State.FinishedAt !== '0001-01-01T00:00:00Z' && c.State.ExitCode === Number(v))) return false;
    if (ancestors && !imageLine(c.ImageId).some((id) => ancestors.has(id))) return false;
    // A network's name, or a prefix of its ID (as moby matches it).
    if (!any('network', (v) => netName(c) === v || (!!v && !!netIds.get(netName(c))?.startsWith(v)))) return false;
    if (!any('health', (v) => (c.State.Health?.Status ?? 'none') === v)) return false;
    if (f.has('label') && !matchLabels(f.get('label'), c.Config.Labels ?? {})) return false;
    // No container here is a swarm task.
    if (task?.has('true')) return false;
    // A mount by its source or its destination, as moby's volume filter.
    if (!any('volume', (v) => mounts(svc, c).some((m) => m.Source === v || m.Destination === v))) return false;
    if (publish || expose) {
      // As moby: the ports of a running container, exposed (the container's side) and published (the host's).
      const ports = c.State.Status === 'running' || c.State.Status === 'paused' ? Object.entries(portsMap(c)) : [];
      if (expose && !ports.some(([k]) => expose.has(k))) return false;
      if (publish && !ports.some(([k, b]) => (b ?? []).some((x) => publish.has(`${x.HostPort}/${k.split('/')[1] ?? 'tcp'}`)))) return false;
    }
    return true;
  });
  if (opts.limit !== undefined && opts.limit > 0) list = list.slice(0, opts.limit);
  return list.map((c) => listEntry(svc, c));
}

function regexMatch(re: string, s: string): boolean {
  try { return new RegExp(re).test(s); } catch { return false; }
}

/** `publish`/`expose` filter values ("80", "80/udp", "8000-8010/tcp") as a set of "port/proto"; undefined if none. */
function portFilter(f: Filters, key: string): Set<string> | undefined {
  const vals = f.get(key);
  if (!vals?.size) return undefined;
  const out = new Set<string>();
  for (const v of vals) {
    if (v.includes(':')) throw errors.invalid(`filter for '${key}' should not contain ':': ${v}`);
    const [range = '', proto = 'tcp'] = v.split('/');
    const bad = (why: string) => errors.invalid(`error while looking up for ${key} ${v}: ${why}`);
    if (range === '') throw bad('empty string specified for ports');
    const [a = '', b] = range.split('-');
    const start = parseUint16(a, bad);
    const end = b === undefined ? start : parseUint16(b, bad);
    if (end < start) throw bad(`invalid range specified for port: ${range}`);
    for (let p = start; p <= end; p++) out.add(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

/** Go's strconv.ParseUint(s, 10, 16), with its error text, as moby's port filters parse. */
function parseUint16(s: string, bad: (why: string) => Error): number {
  if (!/^\d+$/.test(s)) throw bad(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  if (Number(s) > 65535) throw bad(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(s);
}

/** SizeRw (the writable layer) and SizeRootFs (image + writable layer), as `size=1` asks. */
export async function containerSizes(svc: ContainerService, c: ContainerRecord): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await dirSize(join(svc.cdir(c.Id), 'upper'));
  const image = svc.d.images.d.meta.get(c.ImageId)?.size ?? 0;
  return { SizeRw: rw, SizeRootFs: image + rw };
}
