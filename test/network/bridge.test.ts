// Integration (root): a real bridge, real network namespaces, real iptables. Everything uses its own
// bridge name, chain prefix and subnet, and only loopback and the test namespaces carry traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NetworkManager, parsePortSpec, portFree, toDockerPorts } from '../../src/network/index.js';
import { hostRoutes, overlaps, parseSubnet } from '../../src/network/ipam.js';
import { isBerthError } from '../../src/errors/index.js';

const tag = randomBytes(3).toString('hex');
const BRIDGE = `btn${tag}`;
const PREFIX = `BT${tag.toUpperCase()}`;
const NS = [1, 2, 3].map((i) => `btn-${tag}-${i}`);
const root = mkdtempSync(join(tmpdir(), 'berth-net-'));
const children: ChildProcess[] = [];
let SUBNET = '';
let skip: string | false = false;

function have(bin: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

function sh(bin: string, args: string[]): string {
  return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function pickSubnet(): string {
  const routes = hostRoutes();
  for (;;) {
    const s = `10.251.${Math.floor(Math.random() * 256)}.0/24`;
    if (!routes.some((r) => overlaps(r.subnet, parseSubnet(s)))) return s;
  }
}

/** A node process inside `ns`: TCP "hello <port>" servers and a UDP echo. Resolves when listening. */
function startServer(ns: string, tcpPorts: number[], udpPort: number): Promise<ChildProcess> {
  const code = `
    const net = require('net'), dgram = require('dgram'); let n = 0; const ready = () => { if (++n === ${tcpPorts.length + 1}) console.log('ready'); };
    for (const p of ${JSON.stringify(tcpPorts)}) net.createServer((s) => s.end('hello ' + p)).listen(p, '0.0.0.0', ready);
    const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send('pong ' + m, r.port, r.address)); u.bind(${udpPort}, ready);`;
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(child); });
    child.on('exit', (c) => reject(new Error(`server in ${ns} exited ${c}`)));
  });
}

function tcpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    let out = '';
    s.setTimeout(5000, () => s.destroy(new Error(`timeout connecting to ${host}:${port}`)));
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

function udpAsk(host: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); reject(new Error('udp timeout')); }, 5000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m.toString()); });
    s.send(msg, port, host);
  });
}

/** Run a TCP client inside a namespace. */
function tcpGetFrom(ns: string, host: string, port: number): string {
  const code = `require('net').connect(${port}, '${host}').on('data', (d) => process.stdout.write(d)).on('error', (e) => { console.error(e.message); process.exit(1); }).setTimeout(5000, () => process.exit(2));`;
  return sh('ip', ['netns', 'exec', ns, process.execPath, '-e', code]);
}

function natRules(): string {
  return sh('iptables', ['-w', '-t', 'nat', '-S']);
}

function newManager(): NetworkManager {
  return new NetworkManager({ root, execRoot: join(root, 'run'), bridgeName: BRIDGE, subnet: SUBNET, chainPrefix: PREFIX });
}

let nm: NetworkManager;

before(() => {
  if (process.getuid?.() !== 0) { skip = 'needs root'; return; }
  for (const b of ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'nsenter']) if (!have(b)) { skip = `${b} not installed`; return; }
  SUBNET = pickSubnet();
  for (const ns of NS) sh('ip', ['netns', 'add', ns]);
  nm = newManager();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of NS) { try { sh('ip', ['netns', 'del', ns]); } catch { /* not created */ } }
  if (!skip) await newManager().destroy().catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

test('bridge network: attach, published ports on 127.0.0.1, container to container, detach, restart', async (t) => {
  if (skip) { t.skip(skip); return; }
  await nm.init();
  const info = nm.info();
  assert.equal(info.bridge, BRIDGE);
  assert.equal(info.subnet, SUBNET);
  assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, 'utf8').trim(), '1');

  // Published: 127.0.0.1:<random> → 8080, <all>:<random> → 8081, a fixed UDP port → 5353.
  const udpHost = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => r(p)); }); });
  const ep = await nm.attach('c1', `/run/netns/${NS[0]}`, { ports: [...parsePortSpec('127.0.0.1::8080'), ...parsePortSpec('8081'), ...parsePortSpec(`127.0.0.1:${udpHost}:5353/udp`)], hostname: 'c1' });
  assert.equal(ep.bridge, BRIDGE);
  assert.equal(ep.gateway, SUBNET.replace(/0\/24$/, '1'));
  assert.equal(ep.prefixLen, 24);
  assert.equal(ep.ports.length, 3);

  // Inside: address, MAC, default route.
  const addr = JSON.parse(sh('ip', ['-n', NS[0]!, '-j', 'addr', 'show', 'dev', 'eth0'])) as { address: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  assert.equal(addr[0]!.address, ep.macAddress);
  assert.ok(addr[0]!.addr_info.some((a) => a.family === 'inet' && a.local === ep.ipAddress && a.prefixlen === 24));
  assert.match(sh('ip', ['-n', NS[0]!, 'route', 'show', 'default']), new RegExp(`default via ${ep.gateway.replace(/\./g, '\\.')} dev eth0`));
  assert.match(sh('ip', ['-n', NS[0]!, 'link', 'show', 'lo']), /UP/);

  await startServer(NS[0]!, [8080, 8081], 5353);
  const p8080 = ep.ports.find((p) => p.containerPort === 8080)!;
  const p8081 = ep.ports.find((p) => p.containerPort === 8081)!;
  assert.equal(p8080.hostIp, '127.0.0.1');
  assert.equal(p8081.hostIp, '');
  assert.equal(await tcpGet('127.0.0.1', p8080.hostPort), 'hello 8080');
  assert.equal(await tcpGet('127.0.0.1', p8081.hostPort), 'hello 8081');
  assert.equal(await udpAsk('127.0.0.1', udpHost, 'ping'), 'pong ping');
  // Direct to the container address from the host.
  assert.equal(await tcpGet(ep.ipAddress, 8080), 'hello 8080');

  // A second container: a fixed port already published is refused; then container → container,
  // and container → the gateway's published port (DNAT back onto the bridge).
  await assert.rejects(nm.attach('c2', `/run/netns/${NS[1]}`, { ports: parsePortSpec(`${p8081.hostPort}:80`), name: 'two' }),
    (e: unknown) => isBerthError(e) && /driver failed programming external connectivity on endpoint two .*Bind for 0\.0\.0\.0:\d+ failed: port is already allocated/.test(e.message));
  const ep2 = await nm.attach('c2', `/run/netns/${NS[1]}`, {});
  assert.notEqual(ep2.ipAddress, ep.ipAddress);
  assert.equal(tcpGetFrom(NS[1]!, ep.ipAddress, 8080), 'hello 8080');
  assert.equal(tcpGetFrom(NS[1]!, ep.gateway, p8081.hostPort), 'hello 8081');
  // Hairpin: c1 reaches itself through its own published port.
  assert.equal(tcpGetFrom(NS[0]!, ep.gateway, p8081.hostPort), 'hello 8081');

  // A namespace that is not there: clear error, nothing kept (address, port, rules).
  const ours = () => natRules().split('\n').filter((l) => l.includes(PREFIX)).join('\n');
  const before = ours();
  await assert.rejects(nm.attach('ghost', '/proc/999999999/ns/net', { ports: parsePortSpec('127.0.0.1::80') }),
    (e: unknown) => isBerthError(e, 'ERR_INVALID_ARGUMENT') && /network namespace/.test(e.message));
  assert.equal(nm.endpoint('ghost'), undefined);
  await nm.settled();
  assert.equal(ours(), before);

  // A host process holding a port makes a fixed request fail with Docker's wording.
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  try {
    const held = (blocker.address() as { port: number }).port;
    await assert.rejects(nm.attach('c3', `/run/netns/${NS[2]}`, { ports: parsePortSpec(`127.0.0.1:${held}:80`) }), /address already in use/);
  } finally {
    await new Promise((r) => blocker.close(r));
  }

  // Coexistence: every rule that mentions our bridge or subnet lives in our chains (or is one of our jumps).
  const all = natRules() + sh('iptables', ['-w', '-S']);
  for (const line of all.split('\n')) {
    if (!line.includes(BRIDGE) && !line.includes(SUBNET) && !line.includes(ep.ipAddress)) continue;
    assert.ok(line.startsWith(`-A ${PREFIX}-`), `rule outside our chains: ${line}`);
  }
  const jumps = all.split('\n').filter((l) => l.includes(`-j ${PREFIX}-`));
  assert.deepEqual(jumps.sort(), [
    `-A FORWARD -j ${PREFIX}-FORWARD`, `-A OUTPUT -m addrtype --dst-type LOCAL -j ${PREFIX}-DNAT`,
    `-A POSTROUTING -j ${PREFIX}-POSTROUTING`, `-A PREROUTING -m addrtype --dst-type LOCAL -j ${PREFIX}-DNAT`,
  ].sort());

  // Daemon restart: a fresh manager on the same root keeps live endpoints, addresses and rules.
  await nm.close();
  const nm2 = newManager();
  await nm2.init();
  assert.equal(nm2.endpoint('c1')?.ipAddress, ep.ipAddress);
  assert.deepEqual(nm2.endpoint('c1')?.ports, ep.ports);
  assert.equal(await tcpGet('127.0.0.1', p8080.hostPort), 'hello 8080');
  // The published ports are held again: nobody else can bind them.
  assert.equal(await portFree('127.0.0.1', p8080.hostPort, 'tcp'), false);
  assert.equal(await portFree('', p8081.hostPort, 'tcp'), false);
  const state = JSON.parse(readFileSync(join(root, 'network', 'state.json'), 'utf8')) as { ipam: { allocated: Record<string, string> } };
  assert.equal(state.ipam.allocated[ep.ipAddress], 'c1');
  nm = nm2;

  // Detach frees the address, the ports, the rules and the veth.
  await nm.detach('c1');
  await nm.settled();
  assert.equal(nm.endpoint('c1'), undefined);
  const rules = natRules();
  assert.ok(!rules.includes(`${ep.ipAddress}:`), rules);
  assert.ok(!rules.includes(`--dport ${p8080.hostPort} `));
  assert.deepEqual(sh('ip', ['-n', NS[0]!, '-o', 'link', 'show']).split('\n').filter(Boolean).length, 1); // lo only
  await assert.rejects(tcpGet('127.0.0.1', p8080.hostPort));
  assert.equal(await portFree('127.0.0.1', p8080.hostPort, 'tcp'), true);
  await nm.detach('c1'); // idempotent
  // The freed fixed port can be published again.
  const again = await nm.attach('c3', `/run/netns/${NS[2]}`, { ports: parsePortSpec(`${p8081.hostPort}:9`) });
  assert.equal(again.ports[0]!.hostPort, p8081.hostPort);

  // A container whose namespace died while the daemon was down is released by restore().
  for (const c of children) c.kill('SIGKILL');
  sh('ip', ['netns', 'del', NS[1]!]);
  for (let i = 0; i < 200 && sh('ip', ['-o', 'link', 'show', 'master', BRIDGE]).split('\n').filter(Boolean).length > 1; i++) await new Promise((r) => setTimeout(r, 10));
  await nm.restore();
  assert.equal(nm.endpoint('c2'), undefined);
  assert.ok(nm.endpoint('c3'));
  await nm.restore(['nothing-else']);
  assert.equal(nm.endpoint('c3'), undefined);
  await nm.settled();
});

/** The host has IPv6 on loopback (::1 can be bound). */
function hostHasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

function udpAsk6(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp6');
    const t = setTimeout(() => { s.close(); reject(new Error('udp6 timeout')); }, 5000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m.toString()); });
    s.send(msg, port, '::1');
  });
}

test('ports published on all addresses serve IPv6 clients too (TCP and UDP), again after a restart, and are let go at detach', async (t) => {
  if (skip) { t.skip(skip); return; }
  if (!(await hostHasIpv6())) { t.skip('no IPv6 on this host\'s loopback'); return; }
  await nm.init();
  const ns = `btn-${tag}-v6`;
  sh('ip', ['netns', 'add', ns]);
  try {
    const ep = await nm.attach('c6', `/run/netns/${ns}`, { ports: [...parsePortSpec('9090'), ...parsePortSpec('5354/udp'), ...parsePortSpec('127.0.0.1::9091'), ...parsePortSpec('9092'), ...parsePortSpec('[::]::9090')] });
    await startServer(ns, [9090, 9091], 5354);
    // 9092 counts what it gets until the client's end, then answers and ends.
    await new Promise<void>((resolve, reject) => {
      const code = `require('net').createServer({ allowHalfOpen: true }, (s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end('got ' + n)); }).listen(9092, () => console.log('ready'));`;
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      child.stdout!.once('data', () => resolve());
      child.on('exit', (c) => reject(new Error(`counter exited ${c}`)));
    });
    const count = ep.ports.find((p) => p.containerPort === 9092)!;
    const tcp = ep.ports.find((p) => p.containerPort === 9090 && p.hostIp === '')!;
    const only6 = ep.ports.find((p) => p.containerPort === 9090 && p.hostIp === '::')!;
    const udp = ep.ports.find((p) => p.containerPort === 5354)!;
    const local = ep.ports.find((p) => p.containerPort === 9091)!;
    assert.deepEqual([tcp.ipv6, udp.ipv6, local.ipv6], [true, true, undefined], 'only ports on all addresses');
    assert.deepEqual(toDockerPorts(ep.ports, {})['9090/tcp'], [
      { HostIp: '0.0.0.0', HostPort: String(tcp.hostPort) }, { HostIp: '::', HostPort: String(tcp.hostPort) }, { HostIp: '::', HostPort: String(only6.hostPort) },
    ]);
    assert.equal(await tcpGet('::1', tcp.hostPort), 'hello 9090');
    assert.equal(await tcpGet('127.0.0.1', tcp.hostPort), 'hello 9090');
    assert.equal(await udpAsk6(udp.hostPort, 'ping6'), 'pong ping6');
    await assert.rejects(tcpGet('::1', local.hostPort), /ECONNREFUSED/, 'a port published on 127.0.0.1 is not on IPv6');
    // Published on [::]: IPv6 only, as Docker's proxy does it, with no DNAT rule.
    assert.equal(await tcpGet('::1', only6.hostPort), 'hello 9090');
    await assert.rejects(tcpGet('127.0.0.1', only6.hostPort), /ECONNREFUSED/);
    assert.doesNotMatch(natRules(), new RegExp(`--dport ${only6.hostPort}\\b`));
    // Through the forwarder: 20 MB up, the client's half-close passed on, the answer comes back.
    const answer = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '::1', port: count.hostPort, allowHalfOpen: true });
      let out = '';
      c.on('data', (d) => { out += d; });
      c.on('end', () => { c.end(); resolve(out); });
      c.on('error', reject);
      c.end(Buffer.alloc(20 * 1024 * 1024, 1));
    });
    assert.equal(answer, `got ${20 * 1024 * 1024}`);

    // Daemon restart: the IPv6 side is served again.
    await nm.close();
    const nm2 = newManager();
    await nm2.init();
    nm = nm2;
    assert.equal(await tcpGet('::1', tcp.hostPort), 'hello 9090');
    assert.equal(await tcpGet('::1', only6.hostPort), 'hello 9090');
    assert.equal(await udpAsk6(udp.hostPort, 'again'), 'pong again');

    await nm.detach('c6');
    await nm.settled();
    await assert.rejects(tcpGet('::1', tcp.hostPort), /ECONNREFUSED/);
    assert.equal(await portFree('::', tcp.hostPort, 'tcp'), true);
  } finally {
    await nm.detach('c6').catch(() => {});
    sh('ip', ['netns', 'del', ns]);
  }
});

test('mode none: loopback only', async (t) => {
  if (skip) { t.skip(skip); return; }
  const ns = `btn-${tag}-none`;
  sh('ip', ['netns', 'add', ns]);
  try {
    await nm.attachNone(`/run/netns/${ns}`);
    const links = sh('ip', ['-n', ns, '-o', 'link', 'show']).split('\n').filter(Boolean);
    assert.equal(links.length, 1);
    assert.match(links[0]!, /lo: <LOOPBACK,UP/);
  } finally {
    sh('ip', ['netns', 'del', ns]);
  }
});

test('bridge ownership: one root per bridge, concurrent claims, takeover when the owner root is gone', async (t) => {
  if (skip) { t.skip(skip); return; }
  const name = `bto${tag}`;
  const prefix = `BTO${tag.toUpperCase()}`;
  const subnet = pickSubnet();
  const roots = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'berth-net-own-')));
  const mk = (r: string) => new NetworkManager({ root: r, execRoot: r, bridgeName: name, subnet, chainPrefix: prefix });
  try {
    // Two daemons racing for the same bridge: exactly one wins, the other gets a clear conflict.
    const results = await Promise.allSettled(roots.map((r) => mk(r).init()));
    const won = results.findIndex((r) => r.status === 'fulfilled');
    assert.ok(won >= 0, JSON.stringify(results));
    const lost = results[1 - won]!;
    assert.equal(lost.status, 'rejected');
    assert.ok(isBerthError((lost as PromiseRejectedResult).reason, 'ERR_CONFLICT'));
    assert.match(readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8'), /^berth:/);
    // The same root may re-init (daemon restart) and keeps it.
    await mk(roots[won]!).init();
    // Once the owner's root is gone, the bridge is taken over.
    rmSync(roots[won]!, { recursive: true, force: true });
    const heir = mk(roots[1 - won]!);
    await heir.init();
    assert.equal(heir.info().bridge, name);
    assert.ok(readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').includes(encodeURIComponent(roots[1 - won]!)));
    await heir.destroy();
    assert.ok(!existsSync(`/sys/class/net/${name}`));
  } finally {
    try { sh('ip', ['link', 'del', name]); } catch { /* gone */ }
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
});

test('destroy removes bridge, chains and state', async (t) => {
  if (skip) { t.skip(skip); return; }
  await nm.destroy();
  assert.ok(!existsSync(`/sys/class/net/${BRIDGE}`));
  assert.ok(!natRules().includes(PREFIX));
  assert.ok(!sh('iptables', ['-w', '-S']).includes(PREFIX));
  assert.ok(!existsSync(join(root, 'network', 'state.json')));
});
