// IPv4 address management for the bridge subnet: pure arithmetic plus a round-robin allocator whose
// state (a plain object) the NetworkManager persists.
import { readFileSync } from 'node:fs';
import { errors } from '../errors/index.js';

export function ipToInt(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4) throw errors.invalid(`invalid IPv4 address: ${ip}`);
  let n = 0;
  for (const s of p) {
    if (!/^\d{1,3}$/.test(s) || Number(s) > 255) throw errors.invalid(`invalid IPv4 address: ${ip}`);
    n = n * 256 + Number(s);
  }
  return n >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Subnet { network: number; prefixLen: number; /** first and last address of the block */ first: number; last: number }

export function parseSubnet(cidr: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw errors.invalid(`invalid subnet: ${cidr}`);
  const prefixLen = Number(m[2]);
  if (prefixLen < 8 || prefixLen > 30) throw errors.invalid(`invalid subnet: ${cidr} (prefix must be /8../30)`);
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  const network = (ipToInt(m[1]!) & mask) >>> 0;
  return { network, prefixLen, first: network, last: (network | (~mask >>> 0)) >>> 0 };
}

export function formatSubnet(s: Subnet): string {
  return `${intToIp(s.network)}/${s.prefixLen}`;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function contains(s: Subnet, ip: number): boolean {
  return ip >= s.first && ip <= s.last;
}

export interface IpamState {
  /** address (dotted) → owner (container ID). The gateway is never stored here. */
  allocated: Record<string, string>;
  /** Last address handed out; the next search starts after it, so a freed address is not reused at once. */
  cursor: string;
}

export function newIpamState(): IpamState {
  return { allocated: {}, cursor: '' };
}

/**
 * Allocate the next free host address of `subnet` for `owner` (skipping network, broadcast and gateway),
 * or reserve `wanted` if given. Mutates `state`.
 */
export function allocateIp(state: IpamState, subnet: Subnet, gateway: string, owner: string, wanted?: string): string {
  const gw = ipToInt(gateway);
  if (wanted) {
    const w = ipToInt(wanted);
    if (!contains(subnet, w) || w === subnet.first || w === subnet.last || w === gw) {
      throw errors.invalid(`Address ${wanted} is not available in subnet ${formatSubnet(subnet)}`);
    }
    const cur = state.allocated[wanted];
    if (cur && cur !== owner) throw errors.conflict(`Address already in use: ${wanted}`);
    state.allocated[wanted] = owner;
    return wanted;
  }
  const lo = subnet.first + 1, hi = subnet.last - 1;
  const size = hi - lo + 1;
  const c = state.cursor ? ipToInt(state.cursor) : lo - 1;
  let n = c >= lo && c < hi ? c + 1 : lo;
  for (let i = 0; i < size; i++, n = n >= hi ? lo : n + 1) {
    if (n === gw) continue;
    const ip = intToIp(n);
    if (state.allocated[ip] !== undefined) continue;
    state.allocated[ip] = owner;
    state.cursor = ip;
    return ip;
  }
  throw errors.internal(`no available IPv4 addresses on this network's address pools: bridge (${formatSubnet(subnet)})`);
}

/** Release every address held by `owner`. */
export function releaseIps(state: IpamState, owner: string): void {
  for (const [ip, o] of Object.entries(state.allocated)) if (o === owner) delete state.allocated[ip];
}

/** Docker's classic MAC for an address: 02:42 followed by the four address bytes. */
export function macForIp(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** IPv4 routes of the host (main table) as [subnet, device], from /proc without spawning `ip`. */
export function hostRoutes(): { subnet: Subnet; dev: string }[] {
  let text: string;
  try { text = readFileSync('/proc/net/route', 'utf8'); } catch { return []; }
  const out: { subnet: Subnet; dev: string }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    // Fields are little-endian hex.
    const le = (h: string) => { const v = parseInt(h, 16); return (((v & 255) << 24) | (((v >>> 8) & 255) << 16) | (((v >>> 16) & 255) << 8) | (v >>> 24)) >>> 0; };
    const dst = le(f[1]!), mask = le(f[7]!);
    let prefixLen = 0;
    for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) prefixLen++;
    if (prefixLen === 0) continue; // default route: overlaps everything, ignore
    out.push({ dev: f[0]!, subnet: { network: dst, prefixLen, first: dst, last: (dst | (~mask >>> 0)) >>> 0 } });
  }
  return out;
}

/** The device of the host's default route, if any. */
export function defaultRouteDevice(): string | undefined {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000') return f[0];
    }
  } catch { /* none */ }
  return undefined;
}
