// Setup/teardown cost per container: Berth's direct iproute2 path vs the CNI bridge plugin.
// Run as root: npx tsx test/network/bench.ts [iterations]   (not part of the test suite)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkManager, parsePortSpec } from '../../src/network/index.js';

const N = Number(process.argv[2] ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'berth-netbench-'));
const ns = 'berthbench';

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(1)} ms, median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, p90 ${s[Math.floor(s.length * 0.9)]!.toFixed(1)} ms`;
}

function run(bin: string, args: string[], env: Record<string, string>, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { env: { PATH: process.env.PATH!, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${bin}: ${out} ${err}`))));
    c.stdin.end(input);
  });
}

async function benchDirect(ports: boolean): Promise<void> {
  const nm = new NetworkManager({ root: join(dir, 'direct'), execRoot: dir, bridgeName: 'bbench0', subnet: '10.252.0.0/24', chainPrefix: 'BBENCH' });
  await nm.init();
  const up: number[] = [], down: number[] = [], downGone: number[] = [], full: number[] = [];
  for (let i = 0; i < N; i++) {
    execFileSync('ip', ['netns', 'add', ns]);
    let t = performance.now();
    await nm.attach(`c${i}`, `/run/netns/${ns}`, { ports: ports ? parsePortSpec('127.0.0.1::80') : [] });
    up.push(performance.now() - t);
    if (i % 2 === 0) {
      t = performance.now();
      await nm.detach(`c${i}`);
      down.push(performance.now() - t);
      await nm.settled(); // background rule/veth deletion, for the record
      full.push(performance.now() - t);
      execFileSync('ip', ['netns', 'del', ns]);
    } else {
      // run --rm: the container (its netns) is gone before teardown.
      execFileSync('ip', ['netns', 'del', ns]);
      while (execFileSync('ip', ['-o', 'link', 'show', 'master', 'bbench0']).length) await new Promise((r) => setTimeout(r, 5));
      t = performance.now();
      await nm.detach(`c${i}`);
      downGone.push(performance.now() - t);
      await nm.settled();
    }
  }
  await nm.destroy();
  console.log(`direct${ports ? ' +port' : ''}: attach ${stats(up)}`);
  console.log(`direct${ports ? ' +port' : ''}: detach (netns alive) ${stats(down)}; detach (netns gone) ${stats(downGone)}`);
  console.log(`direct${ports ? ' +port' : ''}: detach incl. background veth/rule deletion (netns alive) ${stats(full)}`);
}

async function benchCni(): Promise<void> {
  const conf = JSON.stringify({
    cniVersion: '1.0.0', name: 'bbench', type: 'bridge', bridge: 'bbench1', isGateway: true, ipMasq: false, hairpinMode: true,
    ipam: { type: 'host-local', dataDir: join(dir, 'cni-ipam'), ranges: [[{ subnet: '10.252.1.0/24', gateway: '10.252.1.1' }]], routes: [{ dst: '0.0.0.0/0' }] },
  });
  writeFileSync(join(dir, 'cni.json'), conf);
  const up: number[] = [], down: number[] = [];
  for (let i = 0; i < N; i++) {
    execFileSync('ip', ['netns', 'add', ns]);
    const env = { CNI_CONTAINERID: `c${i}`, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni' };
    let t = performance.now();
    await run('/usr/lib/cni/bridge', [], { ...env, CNI_COMMAND: 'ADD' }, conf);
    up.push(performance.now() - t);
    t = performance.now();
    await run('/usr/lib/cni/bridge', [], { ...env, CNI_COMMAND: 'DEL' }, conf);
    down.push(performance.now() - t);
    execFileSync('ip', ['netns', 'del', ns]);
  }
  execFileSync('ip', ['link', 'del', 'bbench1']);
  console.log(`cni bridge+host-local: ADD ${stats(up)}`);
  console.log(`cni bridge+host-local: DEL ${stats(down)}`);
}

/** Loopback publishing: iptables DNAT vs an in-daemon userland proxy (connection rate and bulk throughput). */
async function benchPublish(): Promise<void> {
  const nm = new NetworkManager({ root: join(dir, 'pub'), execRoot: dir, bridgeName: 'bbench2', subnet: '10.252.2.0/24', chainPrefix: 'BBENCHP' });
  await nm.init();
  execFileSync('ip', ['netns', 'add', ns]);
  const ep = await nm.attach('pub', `/run/netns/${ns}`, { ports: parsePortSpec('127.0.0.1::7000').concat(parsePortSpec('127.0.0.1::7001')) });
  // In the namespace: 7000 answers "hi" and closes; 7001 streams 256 MiB.
  const code = `const net=require('net');net.createServer(s=>s.end('hi')).listen(7000);const buf=Buffer.alloc(1<<20);net.createServer(s=>{let n=0;const w=()=>{while(n<256){n++;if(!s.write(buf))return s.once('drain',w);}s.end();};w();}).listen(7001,()=>console.log('ready'));`;
  const srv = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => srv.stdout.on('data', () => r()));
  const { createServer, connect } = await import('node:net');
  // Userland proxy: what docker-proxy does, in-process.
  const proxy = (target: number) => new Promise<number>((r) => {
    const p = createServer((c) => { const u = connect(target, ep.ipAddress); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); });
    p.listen(0, '127.0.0.1', () => r((p.address() as { port: number }).port));
  });
  const [px0, px1] = [await proxy(7000), await proxy(7001)];
  const once = (port: number) => new Promise<number>((r, j) => { let n = 0; const c = connect(port, '127.0.0.1'); c.on('data', (d) => (n += d.length)); c.on('end', () => r(n)); c.on('error', j); });
  for (const [name, p0, p1] of [['DNAT', ep.ports[0]!.hostPort, ep.ports[1]!.hostPort], ['userland proxy', px0, px1]] as const) {
    let t = performance.now();
    for (let i = 0; i < 300; i++) await once(p0);
    const per = (performance.now() - t) / 300;
    t = performance.now();
    const bytes = await once(p1);
    const mbps = bytes / 1048576 / ((performance.now() - t) / 1000);
    console.log(`publish via ${name}: ${per.toFixed(2)} ms per connection, ${mbps.toFixed(0)} MiB/s bulk`);
  }
  srv.kill('SIGKILL');
  execFileSync('ip', ['netns', 'del', ns]);
  await nm.destroy();
  process.exitCode = 0;
}

try {
  if (process.argv[3] === 'publish') { await benchPublish(); process.exit(0); }
  await benchDirect(false);
  await benchDirect(true);
  await benchCni();
  await benchPublish();
} finally {
  try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
}
