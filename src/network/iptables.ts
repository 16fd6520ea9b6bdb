// Berth's packet-filter rules. Everything lives in chains of our own (<PREFIX>-DNAT, -POSTROUTING,
// -FORWARD); the built-in chains only get one jump each, so Docker's and Podman's rules are never
// touched. The static rules never change per container: masquerading and forwarding decisions use
// conntrack's DNAT state, so a published port costs exactly one DNAT rule. With iptables-nft an
// append is ~3 ms but a delete or chain flush ~15 ms (it loads the table's ruleset), so per-container
// changes are single appends/deletes; the whole set is rebuilt only at init (one transaction).
import { mustTool, tool } from './exec.js';
import type { PortBinding } from './ports.js';

export interface RuleConfig {
  prefix: string;   // chain name prefix, e.g. "BERTH"
  bridge: string;   // bridge device
  subnet: string;   // CIDR of the bridge network
}

export interface EndpointRules { ip: string; ports: PortBinding[] }

export function chainNames(prefix: string): { dnat: string; post: string; fwd: string } {
  return { dnat: `${prefix}-DNAT`, post: `${prefix}-POSTROUTING`, fwd: `${prefix}-FORWARD` };
}

/** The jumps from built-in chains: [table, chain, rule args after "-A CHAIN"]. */
export function jumpRules(c: RuleConfig): [string, string, string][] {
  const n = chainNames(c.prefix);
  return [
    ['nat', 'PREROUTING', `-m addrtype --dst-type LOCAL -j ${n.dnat}`],
    // 127/8 included: loopback publishing works through DNAT + route_localnet, no userland proxy.
    ['nat', 'OUTPUT', `-m addrtype --dst-type LOCAL -j ${n.dnat}`],
    ['nat', 'POSTROUTING', `-j ${n.post}`],
    ['filter', 'FORWARD', `-j ${n.fwd}`],
  ];
}

/** The DNAT rule of one published port (without the "-A CHAIN" head). */
export function dnatRule(ip: string, p: PortBinding): string {
  const dst = p.hostIp ? `-d ${p.hostIp}/32 ` : '';
  return `${dst}-p ${p.protocol} -m ${p.protocol} --dport ${p.hostPort} -j DNAT --to-destination ${ip}:${p.containerPort}`;
}

/** iptables-restore input that rebuilds our chains from scratch (declaring a chain empties it). */
export function rulesText(c: RuleConfig, endpoints: EndpointRules[], missingJumps: [string, string, string][] = []): string {
  const n = chainNames(c.prefix);
  const b = c.bridge;
  const nat = [
    '*nat', `:${n.dnat} - [0:0]`, `:${n.post} - [0:0]`,
    // Outbound NAT for the subnet (not for traffic staying on the bridge).
    `-A ${n.post} -s ${c.subnet} ! -o ${b} -j MASQUERADE`,
    // Host → 127.0.0.1:published: after DNAT the source is still 127.x; rewrite it to the gateway.
    `-A ${n.post} -s 127.0.0.0/8 -o ${b} -j MASQUERADE`,
    // Container → a published port (its own: hairpin, or another's): replies must come back via us.
    `-A ${n.post} -s ${c.subnet} -o ${b} -m conntrack --ctstate DNAT -j MASQUERADE`,
  ];
  for (const ep of endpoints) for (const p of ep.ports.filter(viaDnat)) nat.push(`-A ${n.dnat} ${dnatRule(ep.ip, p)}`);
  const filter = [
    '*filter', `:${n.fwd} - [0:0]`,
    `-A ${n.fwd} -o ${b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${n.fwd} -i ${b} -j ACCEPT`,
    // Forwarded traffic for a container is accepted only if one of our DNAT rules sent it there.
    `-A ${n.fwd} -o ${b} -m conntrack --ctstate DNAT -j ACCEPT`,
    `-A ${n.fwd} ! -i ${b} -o ${b} -j DROP`,
  ];
  for (const [table, chain, rule] of missingJumps) {
    // The FORWARD jump goes first so another engine's DROP rules cannot shadow ours.
    const line = chain === 'FORWARD' ? `-I ${chain} 1 ${rule}` : `-A ${chain} ${rule}`;
    (table === 'nat' ? nat : filter).push(line);
  }
  return [...nat, 'COMMIT', ...filter, 'COMMIT', ''].join('\n');
}

/** Jumps not present yet (read with iptables-save; our chains are referenced by name only). */
export async function missingJumps(c: RuleConfig): Promise<[string, string, string][]> {
  const [nat, filter] = await Promise.all([tool('iptables-save', ['-t', 'nat']), tool('iptables-save', ['-t', 'filter'])]);
  const lines = new Set([...nat.stdout.split('\n'), ...filter.stdout.split('\n')].map((l) => l.trim()));
  return jumpRules(c).filter(([, chain, rule]) => !lines.has(`-A ${chain} ${rule}`));
}

function restore(input: string): Promise<void> {
  return mustTool('network: programming iptables', 'iptables-restore', ['-w', '--noflush'], input).then(() => {});
}

/** Rebuild all our chains, adding any missing jumps. */
export async function applyRules(c: RuleConfig, endpoints: EndpointRules[]): Promise<void> {
  await restore(rulesText(c, endpoints, await missingJumps(c)));
}

/** Append (add=true) or delete the DNAT rules of one endpoint, in one transaction. */
export async function changePortRules(c: RuleConfig, ep: EndpointRules, add: boolean): Promise<void> {
  const ports = ep.ports.filter(viaDnat);
  if (ports.length === 0) return;
  const n = chainNames(c.prefix);
  await restore(['*nat', ...ports.map((p) => `${add ? '-A' : '-D'} ${n.dnat} ${dnatRule(ep.ip, p)}`), 'COMMIT', ''].join('\n'));
}

/** IPv4 publications are DNAT rules; one on an IPv6 host address is the daemon's forwarder alone. */
function viaDnat(p: PortBinding): boolean {
  return !p.hostIp.includes(':');
}

/** Remove our jumps and chains entirely (network teardown; tests). */
export async function removeRules(c: RuleConfig): Promise<void> {
  const n = chainNames(c.prefix);
  for (const [table, chain, rule] of jumpRules(c)) {
    // A jump may have been added twice by hand; delete until gone.
    for (let i = 0; i < 5; i++) {
      const r = await tool('iptables', ['-w', '-t', table, '-D', chain, ...rule.split(' ')]);
      if (r.code !== 0) break;
    }
  }
  for (const [table, chain] of [['nat', n.dnat], ['nat', n.post], ['filter', n.fwd]] as const) {
    await tool('iptables', ['-w', '-t', table, '-F', chain]);
    await tool('iptables', ['-w', '-t', table, '-X', chain]);
  }
}
