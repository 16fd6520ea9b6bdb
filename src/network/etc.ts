// Contents of a container's /etc/hosts, /etc/hostname and /etc/resolv.conf, following Docker.
import { promises as fsp } from 'node:fs';
import { isIP } from 'node:net';
import { errors } from '../errors/index.js';

export interface HostsOptions {
  hostname: string;
  domainname?: string;
  /** The container's own address on its network ('' or undefined for none/host-less modes). */
  ip?: string;
  /** `--add-host` values, "name:ip" (ip may be "host-gateway"). */
  extraHosts?: string[];
  /** Address substituted for "host-gateway" (the bridge gateway). */
  hostGateway?: string;
  /** Extra raw "ip\tnames" lines (links, aliases), placed before the container's own line. */
  lines?: string[];
}

/** Docker's /etc/hosts: localhost and IPv6 defaults, --add-host entries, then "IP hostname". */
export function hostsFile(o: HostsOptions): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const h of o.extraHosts ?? []) lines.push(extraHostLine(h, o.hostGateway));
  lines.push(...(o.lines ?? []));
  if (o.ip) lines.push(ownHostsLine(o.ip, o.hostname, o.domainname));
  return lines.join('\n') + '\n';
}

/**
 * The container's own line, as Docker writes it: the full name (hostname, plus the domain name if
 * one was given), then the bare host name when the full name has a dot (`-h a.b` gives "IP a.b a").
 */
export function ownHostsLine(ip: string, hostname: string, domainname?: string): string {
  const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
  const dot = fqdn.indexOf('.');
  return `${ip}\t${dot > 0 ? `${fqdn} ${fqdn.slice(0, dot)}` : fqdn}`;
}

/** "name:ip" (or "name=ip", Docker 27+) → "ip\tname". */
export function extraHostLine(spec: string, hostGateway?: string): string {
  // The address may be IPv6 with colons: split at the first separator.
  const sep = /[:=]/.exec(spec);
  if (!sep) throw errors.invalid(`invalid IP address in add-host: "${spec}"`);
  const name = spec.slice(0, sep.index);
  let ip = spec.slice(sep.index + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip === 'host-gateway') {
    if (!hostGateway) throw errors.invalid('unable to derive the IP value for host-gateway');
    ip = hostGateway;
  }
  if (!name || !isIP(ip)) throw errors.invalid(`invalid IP address in add-host: "${ip}"`);
  return `${ip}\t${name}`;
}

export function hostnameFile(hostname: string): string {
  return hostname + '\n';
}

export interface ResolvOptions {
  /** --dns: replaces the nameservers. */
  dns?: string[];
  /** --dns-search: replaces the search domains. */
  dnsSearch?: string[];
  /** --dns-option: replaces the options. */
  dnsOptions?: string[];
  /** Keep IPv6 nameservers (only when the network has IPv6; Berth's bridge does not). */
  ipv6?: boolean;
}

/** Docker's fallback when no usable nameserver is left. */
export const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * A container's resolv.conf from the host's text. Loopback nameservers (127.x, ::1) are dropped —
 * they are unreachable from another network namespace — and IPv6 ones too when the network has no
 * IPv6; if none remain, Google's public resolvers are used, as Docker does. --dns/--dns-search/
 * --dns-option replace the corresponding host lines.
 */
export function resolvConf(hostText: string, o: ResolvOptions = {}): string {
  const keep: string[] = [];
  let nameservers: string[] = [];
  let search: string[] | undefined;
  let options: string[] | undefined;
  for (const raw of hostText.split('\n')) {
    const line = raw.trim();
    const f = line.split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) {
      const ns = f[1].replace(/%.*$/, '');
      if (ns.startsWith('127.') || ns === '::1' || ns === '0.0.0.0') continue;
      if (isIP(ns) === 6 && !o.ipv6) continue;
      nameservers.push(f[1]);
    } else if ((f[0] === 'search' || f[0] === 'domain') && f.length > 1) {
      search = f.slice(1);
    } else if (f[0] === 'options' && f.length > 1) {
      options = [...(options ?? []), ...f.slice(1)];
    } else if (line === '' || line.startsWith('#') || line.startsWith(';')) {
      if (line) keep.push(line);
    } else keep.push(line);
  }
  if (o.dns && o.dns.length) nameservers = [...o.dns];
  if (o.dnsSearch && o.dnsSearch.length) search = o.dnsSearch.includes('.') ? undefined : [...o.dnsSearch];
  if (o.dnsOptions && o.dnsOptions.length) options = [...o.dnsOptions];
  if (nameservers.length === 0) nameservers = [...DEFAULT_NAMESERVERS];
  const out = [
    ...keep,
    ...(search && search.length ? [`search ${search.join(' ')}`] : []),
    ...nameservers.map((n) => `nameserver ${n}`),
    ...(options && options.length ? [`options ${options.join(' ')}`] : []),
  ];
  return out.join('\n') + '\n';
}

/**
 * The host resolv.conf a container should start from: /etc/resolv.conf, or systemd-resolved's
 * upstream list when /etc/resolv.conf only points at the local stub (127.0.0.53).
 */
export async function readHostResolvConf(): Promise<string> {
  const main = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const ns = main.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[0] === 'nameserver').map((f) => f[1] ?? '');
  if (ns.length > 0 && ns.every((n) => n === '127.0.0.53')) {
    const upstream = await fsp.readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => undefined);
    if (upstream !== undefined) return upstream;
  }
  return main;
}
