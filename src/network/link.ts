// Interfaces via iproute2. A container endpoint costs one process: `ip -batch -` run in the container's
// network namespace (the runtime helper joins it before the exec; `nsenter --net=<ns>` without it)
// creates the veth pair from inside the container's namespace, sending the host end straight to the
// daemon's namespace already enslaved to the bridge and up (`master if<N>` names the bridge by index,
// which needs no lookup in the container namespace), then configures eth0, lo and the default route.
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mustTool, tool } from './exec.js';
import { errors } from '../errors/index.js';

const NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export function checkIfName(name: string): string {
  if (!NAME_RE.test(name)) throw errors.invalid(`invalid interface name: ${name}`);
  return name;
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

export function ifIndex(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
}

export function linkMtu(name: string): number | undefined {
  try { return Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim()) || undefined; } catch { return undefined; }
}

/** Interfaces enslaved to `bridge`. */
export function bridgePorts(bridge: string): string[] {
  try { return readdirSync(`/sys/class/net/${bridge}/brif`); } catch { return []; }
}

export function writeSysctl(path: string, value: string): void {
  const file = `/proc/sys/${path.replace(/\./g, '/')}`;
  try {
    if (readFileSync(file, 'utf8').trim() === value) return;
  } catch { /* try the write anyway; it reports the real error */ }
  writeFileSync(file, value);
}

/** The bridge's alias (its owner tag), '' when unset, undefined when there is no such device. */
export function readAlias(name: string): string | undefined {
  try { return readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').trim(); } catch { return linkExists(name) ? '' : undefined; }
}

/**
 * Create bridge `name` carrying alias `tag`, atomically: it is made under a temporary name, tagged,
 * then renamed — a rename onto an existing name fails, so two daemons can never both own a bridge,
 * and a bridge with our name never exists untagged. Returns false if someone else got the name first.
 */
export async function createBridge(name: string, tag: string, mtu: number): Promise<boolean> {
  checkIfName(name);
  if (/["'\\\s]/.test(tag) || tag.length > 250) throw errors.internal(`network: unusable bridge tag ${tag}`);
  const tmp = `bt${randomBytes(5).toString('hex')}`;
  const r = await tool('ip', ['-batch', '-'], `link add ${tmp} mtu ${mtu} type bridge\nlink set ${tmp} alias ${tag}\nlink set ${tmp} name ${name}\n`);
  if (r.code === 0) return true;
  await deleteLink(tmp).catch(() => {});
  if (linkExists(name)) return false;
  throw errors.internal(`network: cannot create bridge ${name}: ${r.stderr.trim()}`);
}

/** Give the bridge exactly the gateway address and bring it up. */
export async function configureBridge(name: string, gatewayCidr: string): Promise<void> {
  const show = await mustTool('network: reading bridge', 'ip', ['-j', 'addr', 'show', 'dev', name]);
  const info = (JSON.parse(show.stdout) as { flags?: string[]; addr_info?: { family: string; local: string; prefixlen: number }[] }[])[0];
  const [gw, len] = gatewayCidr.split('/');
  const cmds: string[] = [];
  const v4 = (info?.addr_info ?? []).filter((a) => a.family === 'inet');
  // Addresses of a previous owner (another subnet) would route its range here: remove them.
  for (const a of v4) if (a.local !== gw || String(a.prefixlen) !== len) cmds.push(`addr del ${a.local}/${a.prefixlen} dev ${name}`);
  if (!v4.some((a) => a.local === gw && String(a.prefixlen) === len)) cmds.push(`addr add ${gatewayCidr} dev ${name}`);
  if (!(info?.flags ?? []).includes('UP')) cmds.push(`link set ${name} up`);
  if (cmds.length) await mustTool(`network: configuring bridge ${name}`, 'ip', ['-batch', '-'], cmds.join('\n') + '\n');
}

export interface VethSetup {
  netnsPath: string;
  hostIf: string;      // host end name (veth + 7 hex)
  containerIf: string; // usually eth0
  bridgeIndex: number;
  mac: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  mtu: number;
}

export function vethBatch(s: VethSetup, hostPid = process.pid): string {
  return [
    `link add ${s.hostIf} netns ${hostPid} mtu ${s.mtu} master if${s.bridgeIndex} up type veth peer name ${s.containerIf} mtu ${s.mtu} address ${s.mac}`,
    'link set lo up',
    `addr add ${s.ip}/${s.prefixLen} broadcast + dev ${s.containerIf}`,
    `link set ${s.containerIf} up`,
    `route add default via ${s.gateway} dev ${s.containerIf}`,
    '',
  ].join('\n');
}

/** Plumb a container: one ip process in its namespace. On failure the half-made pair is removed. */
export async function setupVeth(s: VethSetup): Promise<void> {
  checkIfName(s.hostIf);
  checkIfName(s.containerIf);
  const r = await tool('ip', ['-batch', '-'], vethBatch(s), s.netnsPath);
  if (r.code !== 0) {
    await deleteLink(s.hostIf).catch(() => {});
    const msg = r.stderr.trim();
    if (/No such file|cannot open|reassociate|setns/i.test(msg)) throw errors.invalid(`network namespace ${s.netnsPath} is not available: ${msg}`);
    throw errors.internal(`network: failed to set up container interface: ${msg || `exit ${r.code}`}`);
  }
}

/** Delete a host interface (its veth peer goes with it); a missing one is fine. No process if absent. */
export async function deleteLink(name: string): Promise<void> {
  if (!linkExists(name)) return;
  const r = await tool('ip', ['link', 'del', name]);
  if (r.code !== 0 && linkExists(name)) throw errors.internal(`network: cannot delete ${name}: ${r.stderr.trim()}`);
}

export async function deleteLinks(names: string[]): Promise<void> {
  const live = names.filter(linkExists);
  if (live.length === 0) return;
  await tool('ip', ['-force', '-batch', '-'], live.map((n) => `link del ${n}`).join('\n') + '\n');
}

/** Bring up lo inside a namespace (network mode "none"; runc normally does it already). */
export async function loopbackUp(netnsPath: string): Promise<void> {
  await mustTool('network: loopback', 'ip', ['link', 'set', 'lo', 'up'], undefined, netnsPath);
}

/** Hairpin lets a container reach itself through its own published port. sysfs: no process. */
export function setHairpin(hostIf: string, on: boolean): void {
  try { writeFileSync(`/sys/class/net/${hostIf}/brport/hairpin_mode`, on ? '1' : '0'); } catch { /* best effort */ }
}
