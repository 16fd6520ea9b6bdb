// Published ports: the `-p` grammar, Docker's PortBindings/ExposedPorts shapes, and the host-port
// allocator (ours first, then the kernel: a port someone else listens on is never handed out).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { isIPv4, isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { BerthError, errors } from '../errors/index.js';

export type Protocol = 'tcp' | 'udp';

/** One requested publication: container port → host port (0 = any) in [hostPort, hostPortEnd]. */
export interface PortRequest {
  containerPort: number;
  protocol: Protocol;
  /** '' = all host addresses (0.0.0.0). */
  hostIp: string;
  /** 0 = pick a free port (from hostPortEnd's range if that is set, else the ephemeral range). */
  hostPort: number;
  /** Inclusive end of an allowed host range; equal to hostPort for a fixed port. */
  hostPortEnd: number;
  /** Asked for as "0.0.0.0": all IPv4 addresses only, not [::] too (as Docker). */
  v4only?: boolean;
}

/** A publication actually made; `ipv6`: also served on [::] (a port published on all addresses). */
export interface PortBinding { hostIp: string; hostPort: number; containerPort: number; protocol: Protocol; ipv6?: boolean; v4only?: boolean }

/** Docker's HostConfig.PortBindings / NetworkSettings.Ports shape. */
export type DockerPortMap = Record<string, { HostIp?: string; HostPort?: string }[] | null | undefined>;

function parsePortNumber(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

function parseRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = parsePortNumber(m[1]!);
  const b = m[2] !== undefined ? parsePortNumber(m[2]) : a;
  if (a === undefined || b === undefined || b < a) return undefined;
  return [a, b];
}

function parseProto(p: string): Protocol {
  const proto = p.toLowerCase();
  if (proto === 'tcp' || proto === 'udp') return proto;
  if (proto === 'sctp') throw errors.invalid('sctp port publishing is not supported');
  throw errors.invalid(`invalid proto: ${proto}`);
}

function checkHostIp(ip: string): string {
  if (ip === '') return '';
  if (!isIP(ip)) throw errors.invalid(`invalid IP address: ${ip}`);
  // An IPv6 host address (all of them with "::") is served by the daemon's forwarder alone, as
  // Docker's proxy serves it: the bridge is IPv4 only (proxy6.ts).
  if (!isIPv4(ip)) return normalizeIpv6(ip);
  return ip === '0.0.0.0' ? '' : ip;
}

/** "0:0::1" → "::1": one spelling per address, so that equal addresses compare equal. */
function normalizeIpv6(ip: string): string {
  try { return new URL(`http://[${ip}]/`).hostname.slice(1, -1); } catch { return ip; }
}

/**
 * Parse one `-p` value: `[ip:][hostPort[-end]:]containerPort[-end][/proto]`, ip possibly `[v6]`.
 * A host range with a single container port means "any free port in that range".
 */
export function parsePortSpec(spec: string): PortRequest[] {
  const parts = spec.split(':');
  let ip = '', host = '', ctr: string;
  if (parts.length === 1) ctr = parts[0]!;
  else if (parts.length === 2) [host, ctr] = parts as [string, string];
  else {
    ctr = parts.pop()!;
    host = parts.pop()!;
    ip = parts.join(':');
  }
  const slash = ctr.indexOf('/');
  const proto = parseProto(slash >= 0 ? ctr.slice(slash + 1) || 'tcp' : 'tcp');
  if (slash >= 0) ctr = ctr.slice(0, slash);
  if (ctr === '') throw errors.invalid(`no port specified: ${spec}<empty>`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw errors.invalid(`invalid IP address ${ip}`);
    ip = ip.slice(1, -1);
  }
  const hostIp = checkHostIp(ip);
  const cr = parseRange(ctr);
  if (!cr || cr[0] === 0) throw errors.invalid(`invalid containerPort: ${ctr}`);
  let hr: [number, number] | undefined;
  if (host !== '') {
    hr = parseRange(host);
    if (!hr) throw errors.invalid(`invalid hostPort: ${host}`);
    if (hr[1] - hr[0] !== cr[1] - cr[0] && cr[0] !== cr[1]) {
      throw errors.invalid(`invalid ranges specified for container and host Ports: ${ctr} and ${host}`);
    }
  }
  const out: PortRequest[] = [];
  const count = cr[1] - cr[0] + 1;
  for (let i = 0; i < count; i++) {
    let hostPort = 0, hostPortEnd = 0;
    if (hr) {
      if (count === 1) [hostPort, hostPortEnd] = hr;
      else hostPort = hostPortEnd = hr[0] + i;
    }
    out.push({ containerPort: cr[0] + i, protocol: proto, hostIp, hostPort, hostPortEnd });
  }
  return out;
}

/** Split Docker's "80/tcp" (or "80-82/udp") key. */
export function parsePortKey(key: string): { start: number; end: number; protocol: Protocol } {
  const [p = '', proto = 'tcp'] = key.split('/');
  const r = parseRange(p);
  if (!r || r[0] === 0) throw errors.invalid(`invalid port specification: "${key}"`);
  return { start: r[0], end: r[1], protocol: parseProto(proto || 'tcp') };
}

/**
 * Requests from a container's HostConfig: explicit PortBindings, plus (with PublishAllPorts, `-P`)
 * every exposed port not already bound, on a random host port.
 */
export function portRequestsFromConfig(portBindings: DockerPortMap | null | undefined, exposedPorts?: Record<string, unknown> | null, publishAll = false): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(portBindings ?? {})) {
    const k = parsePortKey(key);
    for (let port = k.start; port <= k.end; port++) {
      bound.add(`${port}/${k.protocol}`);
      for (const b of list ?? []) {
        const hostIp = checkHostIp(b.HostIp ?? '');
        let hostPort = 0, hostPortEnd = 0;
        if (b.HostPort) {
          const hr = parseRange(b.HostPort);
          if (!hr) throw errors.invalid(`invalid hostPort: ${b.HostPort}`);
          // One container port: the host value is a fixed port or a range to pick from; a ranged key maps one to one.
          if (k.start === k.end) [hostPort, hostPortEnd] = hr;
          else hostPort = hostPortEnd = hr[0] + (port - k.start);
        }
        out.push({ containerPort: port, protocol: k.protocol, hostIp, hostPort, hostPortEnd, ...(b.HostIp === '0.0.0.0' ? { v4only: true } : {}) });
      }
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposedPorts ?? {})) {
      const k = parsePortKey(key);
      for (let port = k.start; port <= k.end; port++) {
        if (bound.has(`${port}/${k.protocol}`)) continue;
        out.push({ containerPort: port, protocol: k.protocol, hostIp: '', hostPort: 0, hostPortEnd: 0 });
      }
    }
  }
  return out;
}

/** Bindings made → Docker's NetworkSettings.Ports (exposed-but-unpublished ports map to null). */
export function toDockerPorts(bindings: PortBinding[], exposedPorts?: Record<string, unknown> | null): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(exposedPorts ?? {})) {
    const k = parsePortKey(key);
    for (let p = k.start; p <= k.end; p++) out[`${p}/${k.protocol}`] ??= null;
  }
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.protocol}`;
    (out[key] ??= []).push({ HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) });
    if (b.ipv6) out[key]!.push({ HostIp: '::', HostPort: String(b.hostPort) });
  }
  return out;
}

/** The kernel's ephemeral range, where Docker also picks dynamic host ports. */
export function ephemeralRange(): [number, number] {
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (a && b && a <= b) return [a, b];
  } catch { /* fall through */ }
  return [32768, 60999];
}

/** A host port held open by the daemon so no other process (or Berth daemon) can take it. */
export interface PortHold { close(): void }

/**
 * Bind `ip:port` and keep it: the socket never sees traffic (our DNAT rules divert it first) but it
 * makes the port visibly taken — to host processes and to other Berth daemons, whose probe binds
 * then fail — like Docker's userland proxy does. Null when someone else has the port.
 */
export function holdPort(hostIp: string, port: number, protocol: Protocol): Promise<PortHold | null> {
  const host = hostIp || '0.0.0.0';
  const v6 = host.includes(':');
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const s = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, reuseAddr: false });
      s.once('error', () => { try { s.close(); } catch { /* not bound */ } resolve(null); });
      s.bind({ address: host, port, exclusive: true }, () => {
        s.removeAllListeners('error');
        s.on('error', () => {});
        s.unref();
        resolve({ close: () => { try { s.close(); } catch { /* closed */ } } });
      });
      return;
    }
    const srv = createServer((c) => c.destroy());
    srv.once('error', () => resolve(null));
    srv.listen({ host, port, exclusive: true, backlog: 1, ipv6Only: v6 }, () => {
      srv.removeAllListeners('error');
      srv.on('error', () => {});
      srv.unref();
      resolve({ close: () => { srv.close(); } });
    });
  });
}

/** Whether `ip:port` can be bound right now (a test bind, released at once). */
export async function portFree(hostIp: string, port: number, protocol: Protocol): Promise<boolean> {
  const h = await holdPort(hostIp, port, protocol);
  if (!h) return false;
  h.close();
  return true;
}

/** "ip:port", an IPv6 address in brackets, as Go's net.JoinHostPort writes it in Docker's messages. */
function joinHostPort(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Two host addresses overlap when equal, when either is all addresses, or "::" meets IPv6. */
function ipsOverlap(a: string, b: string): boolean {
  return a === '' || b === '' || a === b || (a === '::' && b.includes(':')) || (b === '::' && a.includes(':'));
}

export interface PortAllocatorState {
  /** Last dynamic port handed out (allocation goes round the range, like Docker's). */
  cursor: number;
}

/**
 * Pick host ports for `reqs`, avoiding `taken` (bindings of other containers) and ports someone
 * else holds, and hold each chosen port (see holdPort). On failure nothing stays held. Throws
 * Docker's "port is already allocated" / "address already in use" errors.
 */
export async function allocatePorts(reqs: PortRequest[], taken: PortBinding[], state: PortAllocatorState,
  reserve: (ip: string, port: number, proto: Protocol, containerPort: number) => Promise<PortHold | null> = holdPort): Promise<{ bindings: PortBinding[]; holds: PortHold[] }> {
  const mine: PortBinding[] = [];
  const holds: PortHold[] = [];
  const busy = (ip: string, port: number, proto: Protocol) =>
    [...taken, ...mine].some((b) => b.protocol === proto && b.hostPort === port && ipsOverlap(b.hostIp, ip));
  const [lo, hi] = ephemeralRange();
  try {
    for (const r of reqs) {
      const label = `${r.hostIp || '0.0.0.0'}`;
      if (r.hostPort !== 0 && r.hostPort === r.hostPortEnd) {
        if (busy(r.hostIp, r.hostPort, r.protocol)) {
          throw new BerthError('ERR_INTERNAL', `Bind for ${joinHostPort(label, r.hostPort)} failed: port is already allocated`);
        }
        const h = await reserve(r.hostIp, r.hostPort, r.protocol, r.containerPort);
        if (!h) {
          const where = joinHostPort(label, r.hostPort);
          throw new BerthError('ERR_INTERNAL', `failed to bind port ${where}/${r.protocol}: Error starting userland proxy: listen ${r.protocol}${label.includes(':') ? '6' : '4'} ${where}: bind: address already in use`);
        }
        holds.push(h);
        mine.push({ hostIp: r.hostIp, hostPort: r.hostPort, containerPort: r.containerPort, protocol: r.protocol, ...(r.v4only ? { v4only: true } : {}) });
        continue;
      }
      const ranged = r.hostPort !== 0;
      const start = ranged ? r.hostPort : lo;
      const end = ranged ? r.hostPortEnd : hi;
      const size = end - start + 1;
      // Dynamic ports continue after the last one handed out; an explicit range is scanned from its start.
      let p = ranged ? start : state.cursor >= start && state.cursor < end ? state.cursor + 1 : start;
      let found = 0;
      for (let i = 0; i < size; i++, p = p >= end ? start : p + 1) {
        if (busy(r.hostIp, p, r.protocol)) continue;
        const h = await reserve(r.hostIp, p, r.protocol, r.containerPort);
        if (!h) continue;
        holds.push(h);
        found = p;
        break;
      }
      if (!found) {
        throw new BerthError('ERR_INTERNAL', ranged
          ? `Bind for ${joinHostPort(label, `${start}-${end}`)} failed: all ports in the range are allocated`
          : `no free host port left in ${start}-${end}`);
      }
      if (!ranged) state.cursor = found;
      mine.push({ hostIp: r.hostIp, hostPort: found, containerPort: r.containerPort, protocol: r.protocol, ...(r.v4only ? { v4only: true } : {}) });
    }
  } catch (e) {
    for (const h of holds) h.close();
    throw e;
  }
  return { bindings: mine, holds };
}
