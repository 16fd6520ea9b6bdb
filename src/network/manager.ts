// The default "bridge" network: bridge device, IPAM, NAT and published ports, with state persisted
// under <root>/network/state.json (temp → fsync → rename) so allocations survive a daemon restart.
import { promises as fsp } from 'node:fs';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { writeJsonAtomic, readJson } from '../util/fs.js';
import { log } from '../util/log.js';
import { BerthError, errors, isBerthError } from '../errors/index.js';
import { allocateIp, releaseIps, parseSubnet, formatSubnet, overlaps, hostRoutes, defaultRouteDevice, macForIp, intToIp, newIpamState, type IpamState } from './ipam.js';
import { forward6 } from './proxy6.js';
import { allocatePorts, holdPort, type PortBinding, type PortRequest, type PortAllocatorState, type PortHold, type Protocol } from './ports.js';
import { applyRules, changePortRules, removeRules, type RuleConfig } from './iptables.js';
import { createBridge, configureBridge, readAlias, setupVeth, deleteLink, deleteLinks, linkExists, ifIndex, linkMtu, bridgePorts, writeSysctl, setHairpin, loopbackUp, checkIfName } from './link.js';

export interface NetworkManagerOptions {
  /** Daemon root; state goes to <root>/network/. */
  root: string;
  /** Daemon exec root (reserved: nothing is kept there yet). */
  execRoot: string;
  /**
   * Bridge device name. Default: berth0 (subnet 10.213.0.0/16, chains BERTH-*) for the default root
   * /var/lib/berth; other roots (tests) take the first free of berth1 (10.214.0.0/16, BERTH1-*), ... Ownership is the
   * bridge's alias "berth:<root>"; a bridge whose owner root no longer exists is taken over.
   */
  bridgeName?: string;
  /** Subnet of the bridge network (default: see bridgeName; must not overlap a host route). */
  subnet?: string;
  /** Prefix of our iptables chains (default derived from the bridge name: BERTH, BERTH1, ...). */
  chainPrefix?: string;
  /** Interface MTU; default: the host's default-route device MTU, at most 1500. */
  mtu?: number;
}

/**
 * Subnet of bridge berth<n>: 10.(213+n).0.0/16. Clear of Docker's pools (172.17-31/16, 192.168/16
 * /20s), Podman's (10.88/16, 10.89+ /24s) and the usual Kubernetes ranges (10.42-43, 10.96/12, 10.244/16).
 */
export function defaultSubnet(n: number): string {
  return `10.${213 + n}.0.0/16`;
}
export const MAX_BRIDGES = 20;
export const SUBNET_CANDIDATES = Array.from({ length: MAX_BRIDGES }, (_, n) => defaultSubnet(n));
export const DEFAULT_BRIDGE = 'berth0';
/** The daemon root that owns berth0; other roots start at berth1. */
export const DEFAULT_ROOT = '/var/lib/berth';

export interface AttachOptions {
  /** Published ports (parsePortSpec / portRequestsFromConfig). */
  ports?: PortRequest[];
  hostname?: string;
  /** Container name, for Docker's error wording. */
  name?: string;
  mac?: string;
  /** A fixed address (--ip); default: the next free one. */
  ip?: string;
  /** Interface name inside the container (default eth0). */
  ifName?: string;
}

export interface AttachResult {
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  ports: PortBinding[];
  bridge: string;
  networkId: string;
  endpointId: string;
  /** The netns path that was plumbed (Docker's SandboxKey). */
  sandboxKey: string;
}

interface EndpointRec {
  containerId: string;
  endpointId: string;
  ip: string;
  mac: string;
  hostIf: string;
  netnsPath: string;
  ports: PortBinding[];
  created: string;
}

interface NetConfig {
  id: string;
  hostId: string;
  noneId: string;
  bridge: string;
  chainPrefix: string;
  subnet: string;
  gateway: string;
  prefixLen: number;
  mtu: number;
  created: string;
}

interface StateFile {
  version: 1;
  config: NetConfig;
  ipam: IpamState;
  portCursor: number;
  endpoints: Record<string, EndpointRec>;
}

export interface NetworkInfo { name: 'bridge'; id: string; subnet: string; gateway: string; bridge: string; mtu: number; created: string }

/** The built-in networks as Docker lists them (bridge, host, none). */
export interface BuiltinNetwork { name: 'bridge' | 'host' | 'none'; id: string; driver: 'bridge' | 'host' | 'null'; subnet?: string; gateway?: string; bridge?: string; mtu?: number; created: string; containers: Record<string, { endpointId: string; ipAddress: string; macAddress: string; prefixLen: number }> }

const hex = (n: number) => randomBytes(n).toString('hex');

/** Runs queued jobs one at a time; `coalesce` shares a job that has not started yet. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending: Promise<void> | undefined;
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => {});
    return p;
  }
  /** Everything that changed before this call is covered by the job it returns. */
  coalesce(fn: () => Promise<void>): Promise<void> {
    if (this.pending) return this.pending;
    const p = this.run(async () => { this.pending = undefined; await fn(); });
    this.pending = p;
    return p;
  }
}

export class NetworkManager {
  private readonly dir: string;
  private readonly statePath: string;
  private readonly tag: string;
  private state: StateFile | undefined;
  private initing: Promise<void> | undefined;
  private readonly lock = new Queue();      // allocation decisions
  private readonly persistQ = new Queue();  // state file writes, in order
  private readonly rulesQ = new Queue();    // iptables changes, in order
  private readonly background = new Set<Promise<void>>();
  /** Host ports held open per container (see holdPort). */
  private readonly holds = new Map<string, PortHold[]>();

  constructor(private readonly opts: NetworkManagerOptions) {
    this.dir = join(opts.root, 'network');
    this.statePath = join(this.dir, 'state.json');
    if (opts.bridgeName) checkIfName(opts.bridgeName);
    if (opts.chainPrefix !== undefined && !/^[A-Z0-9_]{1,14}$/.test(opts.chainPrefix)) throw errors.invalid(`invalid chain prefix: ${opts.chainPrefix}`);
    // Owner tag stored as the bridge alias: the root path, quoted so it survives `ip -batch`.
    const rootPath = resolve(opts.root);
    const enc = encodeURIComponent(rootPath).replace(/['()*!~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    this.tag = enc.length <= 200 ? `berth:${enc}` : `berth:#${createHash('sha256').update(rootPath).digest('hex')}`;
  }

  /** Ensure bridge, forwarding sysctls and our iptables chains; load and reconcile saved state. Idempotent. */
  init(): Promise<void> {
    this.initing ??= this.doInit().catch((e) => { this.initing = undefined; throw e; });
    return this.initing;
  }

  private async doInit(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const saved = await readJson<StateFile>(this.statePath);
    const config = await this.claimConfig(saved?.config);
    const same = saved && saved.config.subnet === config.subnet && saved.config.bridge === config.bridge;
    if (saved && !same && Object.keys(saved.endpoints).length) {
      log.warn('network: bridge or subnet changed; dropping saved endpoints', { was: `${saved.config.bridge} ${saved.config.subnet}`, now: `${config.bridge} ${config.subnet}` });
    }
    const st: StateFile = same ? { ...saved, config } : { version: 1, config, ipam: newIpamState(), portCursor: 0, endpoints: {} };
    this.state = st;
    writeSysctl('net.ipv4.ip_forward', '1');
    await configureBridge(config.bridge, `${config.gateway}/${config.prefixLen}`);
    this.bridgeSysctls();
    // Endpoints whose host interface is gone belong to containers whose namespace died while we were away.
    for (const ep of Object.values(st.endpoints)) {
      if (!linkExists(ep.hostIf)) this.forget(ep.containerId);
    }
    // Interfaces on our bridge with no endpoint record are leftovers of a crash: unplug them.
    const known = new Set(Object.values(st.endpoints).map((e) => e.hostIf));
    await deleteLinks(bridgePorts(config.bridge).filter((p) => !known.has(p)));
    // Hold the published ports again (a restart released them); one lost meanwhile is only logged.
    for (const ep of Object.values(st.endpoints)) {
      if (this.holds.has(ep.containerId)) continue;
      const hs: PortHold[] = [];
      for (const p of ep.ports) {
        const h = await this.reservePort(ep.ip)(p.hostIp, p.hostPort, p.protocol, p.containerPort);
        if (h) hs.push(h);
        else log.warn('network: published port is now held by another process', { container: ep.containerId, port: `${p.hostIp || '0.0.0.0'}:${p.hostPort}/${p.protocol}` });
        if (!p.ipv6) continue;
        const h6 = await forward6('::', p.hostPort, p.protocol, { ip: ep.ip, port: p.containerPort });
        if (h6) hs.push(h6);
        else log.warn('network: published port is now held by another process', { container: ep.containerId, port: `[::]:${p.hostPort}/${p.protocol}` });
      }
      this.holds.set(ep.containerId, hs);
    }
    // The network's identity (ids, bridge, subnet) must survive a power cut: this write is durable.
    await this.persistQ.run(() => writeJsonAtomic(this.statePath, this.st));
    await this.rulesQ.run(() => this.rebuildRules());
  }

  /**
   * How a host port is taken for the container at `ip`: held (its traffic goes by DNAT), or on an
   * IPv6 host address, served by the daemon's forwarder (proxy6.ts).
   */
  private reservePort(ip: string) {
    return (hostIp: string, port: number, proto: Protocol, containerPort: number): Promise<PortHold | null> =>
      hostIp.includes(':') ? forward6(hostIp, port, proto, { ip, port: containerPort }) : holdPort(hostIp, port, proto);
  }

  /** Pick and claim a bridge (and its subnet) for this root; see NetworkManagerOptions.bridgeName. */
  private async claimConfig(saved: NetConfig | undefined): Promise<NetConfig> {
    const o = this.opts;
    const mtu = o.mtu ?? Math.min(1500, linkMtu(defaultRouteDevice() ?? '') ?? 1500);
    const routes = hostRoutes();
    const clashOf = (subnet: string, dev: string) => routes.find((r) => r.dev !== dev && overlaps(r.subnet, parseSubnet(subnet)));
    const candidates: { name: string; subnet?: string }[] = [];
    if (o.bridgeName) {
      candidates.push({ name: o.bridgeName, subnet: o.subnet ?? (saved?.bridge === o.bridgeName ? saved.subnet : undefined) });
    } else {
      if (saved && /^berth\d+$/.test(saved.bridge)) candidates.push({ name: saved.bridge, subnet: o.subnet ?? saved.subnet });
      // berth0 is kept for the default root, so the system daemon's network does not depend on
      // which test daemons happen to be running.
      const first = resolve(o.root) === DEFAULT_ROOT ? 0 : 1;
      for (let n = first; n < MAX_BRIDGES; n++) if (`berth${n}` !== saved?.bridge) candidates.push({ name: `berth${n}`, subnet: o.subnet ?? defaultSubnet(n) });
    }
    const fixed = !!(o.bridgeName || o.subnet);
    for (const c of candidates) {
      const subnetText = c.subnet ?? SUBNET_CANDIDATES.find((x) => !clashOf(x, c.name));
      if (!subnetText) throw errors.internal('could not find an available, non-overlapping IPv4 address pool for the default bridge network');
      const clash = clashOf(subnetText, c.name);
      if (clash) {
        if (fixed) throw errors.conflict(`subnet ${subnetText} overlaps ${formatSubnet(clash.subnet)} routed on ${clash.dev}`);
        continue;
      }
      if (!(await this.claim(c.name, mtu))) {
        if (o.bridgeName) throw errors.conflict(`bridge ${c.name} is in use by another Berth daemon (${readAlias(c.name) ?? ''})`);
        continue;
      }
      const sn = parseSubnet(subnetText);
      const subnet = formatSubnet(sn);
      const keep = saved && saved.subnet === subnet && saved.bridge === c.name;
      const m = /^berth(\d+)$/.exec(c.name);
      const chainPrefix = o.chainPrefix ?? (m ? (m[1] === '0' ? 'BERTH' : `BERTH${m[1]}`) : c.name.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, 14));
      return {
        id: saved?.id ?? hex(32), hostId: saved?.hostId ?? hex(32), noneId: saved?.noneId ?? hex(32),
        bridge: c.name, chainPrefix, subnet, prefixLen: sn.prefixLen, gateway: keep ? saved.gateway : intToIp(sn.first + 1),
        mtu: keep && !o.mtu ? saved.mtu : mtu, created: saved?.created ?? new Date().toISOString(),
      };
    }
    throw errors.internal(`no bridge available for the default network: berth0..berth${MAX_BRIDGES - 1} are all owned by other Berth daemons or their subnets are in use`);
  }

  /**
   * Make `name` our bridge: create it tagged, accept it if tagged with our root, or take it over
   * (delete, then create) if its owner's root directory is gone. False if busy.
   */
  private async claim(name: string, mtu: number): Promise<boolean> {
    for (let i = 0; i < 3; i++) {
      const alias = readAlias(name);
      if (alias === undefined) {
        if (await createBridge(name, this.tag, mtu)) return true;
        continue; // somebody created it just now: look at whose it is
      }
      if (alias === this.tag) return true;
      const ownerRoot = alias.startsWith('berth:') && !alias.startsWith('berth:#') ? decodeURIComponent(alias.slice(6)) : undefined;
      // Only a bridge provably ours and abandoned is taken; untagged or foreign-tagged ones are left alone.
      const stale = ownerRoot !== undefined && !existsSync(ownerRoot);
      if (!stale) return false;
      log.info('network: taking over a stale bridge', { bridge: name, owner: ownerRoot });
      await deleteLink(name).catch(() => {});
    }
    return false;
  }

  private bridgeSysctls(): void {
    // Lets packets DNATed from 127.0.0.1 leave through the bridge (loopback publishing without a proxy).
    writeSysctl(`net.ipv4.conf.${this.st.config.bridge}.route_localnet`, '1');
  }

  private get st(): StateFile {
    if (!this.state) throw errors.internal('network manager used before init()');
    return this.state;
  }

  private ruleConfig(): RuleConfig {
    return { prefix: this.st.config.chainPrefix, bridge: this.st.config.bridge, subnet: this.st.config.subnet };
  }

  private ruleEndpoints() {
    return Object.values(this.st.endpoints).map((e) => ({ ip: e.ip, ports: e.ports }));
  }

  /**
   * Endpoint changes skip fsync: endpoints die with their network namespaces in a host crash and
   * init() drops those whose interface is gone, so only a daemon crash matters, and the page cache
   * survives that. (Two fsyncs here cost 10-100+ ms per container on a busy disk.)
   */
  private persist(): Promise<void> {
    return this.persistQ.coalesce(() => writeJsonAtomic(this.statePath, this.st, { durable: false }));
  }

  private rebuildRules(): Promise<void> {
    return applyRules(this.ruleConfig(), this.ruleEndpoints());
  }

  /** Add/remove one endpoint's DNAT rules, in order with other changes; any failure → full rebuild from state. */
  private portRules(ep: EndpointRec, add: boolean): Promise<void> {
    if (ep.ports.length === 0) return Promise.resolve();
    return this.rulesQ.run(() => changePortRules(this.ruleConfig(), ep, add).catch((e: unknown) => {
      log.warn('network: incremental iptables change failed; rebuilding our chains', { err: String(e) });
      return this.rebuildRules();
    }));
  }

  /** Run cleanup without making the caller wait; settled() waits for it. */
  private later(p: Promise<void>, what: string): void {
    const q = p.catch((e: unknown) => log.warn(`network: ${what} failed`, { err: String(e) })).finally(() => this.background.delete(q));
    this.background.add(q);
  }

  /** Wait for background cleanup (rule deletion, veth removal) started by detach(). */
  async settled(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
    await Promise.all([this.rulesQ.run(async () => {}), this.persistQ.run(async () => {})]);
  }

  private forget(containerId: string): EndpointRec | undefined {
    for (const h of this.holds.get(containerId) ?? []) h.close();
    this.holds.delete(containerId);
    const ep = this.st.endpoints[containerId];
    if (!ep) return undefined;
    delete this.st.endpoints[containerId];
    releaseIps(this.st.ipam, containerId);
    return ep;
  }

  /**
   * Connect a container's network namespace (e.g. /proc/<pid>/ns/net, between runtime create and
   * start) to the bridge: address, default route, published ports.
   */
  async attach(containerId: string, netnsPath: string, opts: AttachOptions = {}): Promise<AttachResult> {
    await this.init();
    if (!linkExists(this.st.config.bridge)) {
      // Someone removed our bridge: rebuild it rather than failing every container.
      await createBridge(this.st.config.bridge, this.tag, this.st.config.mtu);
      await configureBridge(this.st.config.bridge, `${this.st.config.gateway}/${this.st.config.prefixLen}`);
      this.bridgeSysctls();
    }
    const cfg = this.st.config;
    const bridgeIndex = ifIndex(cfg.bridge);
    const ep = await this.lock.run(async () => {
      if (this.st.endpoints[containerId]) throw errors.conflict(`endpoint with name ${opts.name ?? containerId} already exists in network bridge`);
      const ip = allocateIp(this.st.ipam, parseSubnet(cfg.subnet), cfg.gateway, containerId, opts.ip);
      let ports: PortBinding[] = [];
      if (opts.ports?.length) {
        const taken = Object.values(this.st.endpoints).flatMap((e) => e.ports);
        const cursor: PortAllocatorState = { cursor: this.st.portCursor };
        try {
          const got = await allocatePorts(opts.ports, taken, cursor, this.reservePort(ip));
          ports = got.bindings;
          // On all addresses: IPv6 clients too, as Docker's proxy serves them (see proxy6.ts).
          for (const b of ports) {
            if (b.hostIp !== '' || b.v4only) continue;
            const h6 = await forward6('::', b.hostPort, b.protocol, { ip, port: b.containerPort });
            if (h6) { got.holds.push(h6); b.ipv6 = true; }
          }
          this.holds.set(containerId, got.holds);
        } catch (e) {
          releaseIps(this.st.ipam, containerId);
          if (isBerthError(e)) {
            throw new BerthError(e.code, `driver failed programming external connectivity on endpoint ${opts.name ?? containerId} (${hex(32)}): ${e.message}`);
          }
          throw e;
        }
        this.st.portCursor = cursor.cursor;
      }
      const rec: EndpointRec = {
        containerId, endpointId: hex(32), ip, mac: opts.mac ?? macForIp(ip), hostIf: `veth${hex(4).slice(0, 7)}`,
        netnsPath, ports, created: new Date().toISOString(),
      };
      this.st.endpoints[containerId] = rec;
      return rec;
    });
    // The record is written while the interface is made; a crash in between is repaired by init().
    // allSettled, not all: a rollback must not race a setup step that is still running.
    const results = await Promise.allSettled([
      this.persist(),
      setupVeth({
        netnsPath, hostIf: ep.hostIf, containerIf: opts.ifName ?? 'eth0', bridgeIndex, mac: ep.mac,
        ip: ep.ip, prefixLen: cfg.prefixLen, gateway: cfg.gateway, mtu: cfg.mtu,
      }),
      this.portRules(ep, true),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.lock.run(async () => { if (this.st.endpoints[containerId] === ep) this.forget(containerId); });
      await Promise.allSettled([deleteLink(ep.hostIf), this.persist(), this.portRules(ep, false)]);
      throw failed.reason;
    }
    if (ep.ports.length) setHairpin(ep.hostIf, true);
    return {
      ipAddress: ep.ip, prefixLen: cfg.prefixLen, gateway: cfg.gateway, macAddress: ep.mac, ports: ep.ports,
      bridge: cfg.bridge, networkId: cfg.id, endpointId: ep.endpointId, sandboxKey: netnsPath,
    };
  }

  /**
   * Disconnect: free the address and ports, then save the state, delete the DNAT rules and the veth
   * in the background — the kernel work costs ~15-35 ms and nothing waits on it: later rule changes
   * and state writes queue behind it, and after a daemon crash restore() drops endpoints of
   * containers that are not running. Idempotent. `settled()` waits for the background part.
   * `netnsGoing`: the container's network namespace is about to be released (its processes are
   * gone and the caller removes its pin): the veth pair goes with it, so no `ip` process is run
   * to delete it unless it is still there after a while.
   */
  async detach(containerId: string, opts: { netnsGoing?: boolean } = {}): Promise<void> {
    await this.init();
    const ep = await this.lock.run(async () => this.forget(containerId));
    if (!ep) return;
    this.later(this.portRules(ep, false), 'removing port rules');
    this.later(opts.netnsGoing ? vethGone(ep.hostIf) : deleteLink(ep.hostIf), 'deleting veth');
    this.later(this.persist(), 'saving network state');
  }

  /** Loopback only (mode "none"). */
  async attachNone(netnsPath: string): Promise<void> {
    await loopbackUp(netnsPath);
  }

  /**
   * After a daemon restart: drop endpoints of containers that are gone — their veth vanished with
   * their namespace, or (if given) they are not in `liveContainerIds` — and reprogram the rules of
   * the rest.
   */
  async restore(liveContainerIds?: Iterable<string>): Promise<void> {
    await this.init();
    const live = liveContainerIds ? new Set(liveContainerIds) : undefined;
    const dead = await this.lock.run(async () => {
      const out: EndpointRec[] = [];
      for (const ep of Object.values(this.st.endpoints)) {
        if (!linkExists(ep.hostIf) || (live && !live.has(ep.containerId))) out.push(this.forget(ep.containerId)!);
      }
      return out;
    });
    if (dead.length) log.info('network: released endpoints of gone containers', { count: dead.length });
    await Promise.all([this.persist(), deleteLinks(dead.map((d) => d.hostIf)), this.rulesQ.run(() => this.rebuildRules())]);
  }

  info(): NetworkInfo {
    const c = this.st.config;
    return { name: 'bridge', id: c.id, subnet: c.subnet, gateway: c.gateway, bridge: c.bridge, mtu: c.mtu, created: c.created };
  }

  /** Endpoint of a container, if attached. */
  endpoint(containerId: string): (AttachResult & { containerId: string }) | undefined {
    const e = this.state?.endpoints[containerId];
    if (!e) return undefined;
    const c = this.st.config;
    return {
      containerId, ipAddress: e.ip, prefixLen: c.prefixLen, gateway: c.gateway, macAddress: e.mac, ports: e.ports,
      bridge: c.bridge, networkId: c.id, endpointId: e.endpointId, sandboxKey: e.netnsPath,
    };
  }

  /** A built-in network's ID and driver, without walking its endpoints (events on the start path). */
  builtin(name: 'bridge' | 'host' | 'none'): { id: string; driver: BuiltinNetwork['driver'] } | undefined {
    const c = this.state?.config;
    if (!c) return undefined;
    return name === 'bridge' ? { id: c.id, driver: 'bridge' } : name === 'host' ? { id: c.hostId, driver: 'host' } : { id: c.noneId, driver: 'null' };
  }

  /** The three built-in networks, for GET /networks. */
  networks(): BuiltinNetwork[] {
    const c = this.st.config;
    const containers: BuiltinNetwork['containers'] = {};
    for (const e of Object.values(this.st.endpoints)) containers[e.containerId] = { endpointId: e.endpointId, ipAddress: e.ip, macAddress: e.mac, prefixLen: c.prefixLen };
    return [
      { name: 'bridge', id: c.id, driver: 'bridge', subnet: c.subnet, gateway: c.gateway, bridge: c.bridge, mtu: c.mtu, created: c.created, containers },
      { name: 'host', id: c.hostId, driver: 'host', created: c.created, containers: {} },
      { name: 'none', id: c.noneId, driver: 'null', created: c.created, containers: {} },
    ];
  }

  /** The bridge's gateway address: what "host-gateway" in --add-host stands for. */
  gateway(): string | undefined {
    return this.state?.config.gateway;
  }

  /**
   * Daemon shutdown: wait for background cleanup and release the held host ports. Bridge, rules and
   * endpoints stay (containers keep running); the next init() picks them up again.
   */
  async close(): Promise<void> {
    await this.settled();
    for (const hs of this.holds.values()) for (const h of hs) h.close();
    this.holds.clear();
    this.state = undefined;
    this.initing = undefined;
  }

  /** Remove everything: endpoints, rules, chains, our bridge and state (tests, `system reset`). */
  async destroy(): Promise<void> {
    await this.settled();
    for (const hs of this.holds.values()) for (const h of hs) h.close();
    this.holds.clear();
    const st = this.state ?? await readJson<StateFile>(this.statePath);
    if (st) {
      const c = st.config;
      const ours = readAlias(c.bridge) === this.tag;
      await deleteLinks([...Object.values(st.endpoints).map((e) => e.hostIf), ...(ours ? bridgePorts(c.bridge) : [])]);
      await removeRules({ prefix: c.chainPrefix, bridge: c.bridge, subnet: c.subnet });
      if (ours) await deleteLink(c.bridge);
    }
    await fsp.rm(this.statePath, { force: true });
    this.state = undefined;
    this.initing = undefined;
  }
}

/**
 * Wait (sysfs checks, no process) for a veth whose namespace is being released to vanish with it;
 * delete it if it is still there after NETNS_GONE_MS (something kept the namespace alive).
 */
async function vethGone(hostIf: string): Promise<void> {
  const until = Date.now() + NETNS_GONE_MS;
  while (linkExists(hostIf) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await deleteLink(hostIf);
}

/** The kernel frees a released namespace in a worker, after an RCU grace period: ~10-100 ms. */
const NETNS_GONE_MS = 2000;
