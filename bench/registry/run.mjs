#!/usr/bin/env node
// Registry benchmark: berth registry vs Debian's docker-registry (distribution 2.8) on the same host,
// same content. Manifest GET req/s (wrk, 32 connections), blob GET throughput (wrk, 4 connections),
// blob PUT throughput (POST+PUT monolithic uploads, 4 concurrent clients).
// Each metric runs --rounds times per server, interleaved; medians and ratios are printed.
// Usage: npm run build && node bench/registry/run.mjs [--duration 10] [--blob-mb 64] [--rounds 3]
//        [--clients 4] [--only manifest,get,put] [--baseline /path/to/other/dist/.../serve.js]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const DURATION = Number(opt('duration', '10'));
const BLOB_MB = Number(opt('blob-mb', '64'));
const ROUNDS = Number(opt('rounds', '3'));
const CLIENTS = Number(opt('clients', '4'));
const ONLY = new Set(opt('only', 'manifest,get,put').split(','));
// Every push a new blob (a counter in its first bytes), so both servers store and fsync every
// upload, as with real pushes of new layers. The client prepares --put-blobs of them, digests
// included, before the clock starts (a load generator must not share the cores with its own
// hashing), and a measurement ends early when they are all sent.
const DISTINCT = args.includes('--distinct');
const PUT_BLOBS = Number(opt('put-blobs', '32'));
// Another build's serve.js (e.g. a copy of dist/ from before a change) to run alongside as "berth-baseline".
const BASELINE = opt('baseline', '');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'berth-reg-bench-'));
const procs = [];

function cleanup() {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const sha = (b) => 'sha256:' + createHash('sha256').update(b).digest('hex');
function req(port, method, path, body, headers = {}) {
  return new Promise((res, rej) => {
    const r = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'Content-Length': body.length } : {}) } }, (resp) => {
      const chunks = []; resp.on('data', (c) => chunks.push(c)); resp.on('end', () => res({ status: resp.statusCode, headers: resp.headers, body: Buffer.concat(chunks) }));
    });
    r.on('error', rej);
    r.end(body);
  });
}
async function waitUp(port) {
  for (let i = 0; i < 200; i++) {
    try { const r = await req(port, 'GET', '/v2/'); if (r.status === 200) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`registry on ${port} did not start`);
}
async function pushBlob(port, repo, data, d = sha(data)) {
  const p = await req(port, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (p.status !== 202) throw new Error(`POST ${p.status}`);
  const loc = new URL(p.headers.location, `http://127.0.0.1:${port}`);
  loc.searchParams.set('digest', d);
  const r = await req(port, 'PUT', loc.pathname + loc.search, data, { 'Content-Type': 'application/octet-stream' });
  if (r.status !== 201) throw new Error(`PUT ${r.status} ${r.body}`);
  return d;
}
async function seed(port, blob) {
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const cd = await pushBlob(port, 'bench/app', cfg);
  const ld = await pushBlob(port, 'bench/app', blob);
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: cd, size: cfg.length },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: ld, size: blob.length }] }));
  const r = await req(port, 'PUT', '/v2/bench/app/manifests/latest', man, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' });
  if (r.status !== 201) throw new Error(`manifest PUT ${r.status} ${r.body}`);
  return ld;
}
function wrk(conns, url, headers = []) {
  const out = execFileSync('wrk', ['-t', String(Math.min(conns, 2)), '-c', String(conns), '-d', `${DURATION}s`, ...headers.flatMap((h) => ['-H', h]), url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const tr = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(out);
  const mult = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
  const bps = tr ? Number(tr[1]) * mult[tr[2]] : 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1];
  if (non2xx) throw new Error(`wrk saw ${non2xx} error responses for ${url}`);
  return { rps, bps };
}
let putRun = 0;
let pool = [];
/** Fresh contents and digests for the distinct-blob pool (outside the timed part). */
function refillPool(port, blob) {
  if (!pool.length) pool = Array.from({ length: PUT_BLOBS }, () => ({ data: Buffer.from(blob), digest: '' }));
  pool.forEach((b, i) => { b.data.writeUInt32BE(port, 0); b.data.writeUInt32BE(putRun, 4); b.data.writeUInt32BE(i, 8); b.digest = sha(b.data); });
}
async function putThroughput(port, blob, digest, clients = CLIENTS) {
  // The previous measurement's dirty pages must not be written back on this one's time.
  execFileSync('sync');
  const end = Date.now() + DURATION * 1000;
  let bytes = 0;
  let next = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end && (!DISTINCT || next < pool.length)) {
      const b = DISTINCT ? pool[next++] : { data: blob, digest };
      await pushBlob(port, 'bench/put', b.data, b.digest);
      bytes += b.data.length;
    }
  }));
  putRun++;
  return { bps: bytes / ((Date.now() - t0) / 1000), bytes };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
/** utime+stime of a process in seconds, from /proc/PID/stat. */
function cpuSeconds(pid) {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function main() {
  if (!existsSync('/usr/bin/wrk')) throw new Error('wrk missing: apt-get install -y wrk');
  const serve = join(repoRoot, 'dist/test/registry-server/fixtures/serve.js');
  if (!existsSync(serve)) throw new Error('run `npm run build` first');
  if (BASELINE && !existsSync(BASELINE)) throw new Error(`--baseline ${BASELINE}: no such file`);
  const blob = randomBytes(BLOB_MB << 20);
  const putBlob = randomBytes(BLOB_MB << 20);
  // A pushing client knows its layer's digest already (docker push hashes each layer once); hashing
  // 64 MiB again per push would spend ~0.7 s of CPU per GiB on the cores the server also needs.
  const putDigest = sha(putBlob);
  const servers = { berth: { serve } };
  if (BASELINE) servers['berth-baseline'] = { serve: BASELINE };
  servers.distribution = {};
  let nextPort = 15000 + Math.floor(Math.random() * 1000);
  for (const [name, s] of Object.entries(servers)) {
    s.port = nextPort++;
    if (s.serve) {
      s.proc = spawn(process.execPath, [s.serve, '--addr', `127.0.0.1:${s.port}`, '--root', join(work, name), '--no-access-log'], { stdio: 'ignore' });
      procs.push(s.proc);
      continue;
    }
    writeFileSync(join(work, 'dist.yml'), [
      'version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true',
      'storage:', '  cache:', '    blobdescriptor: inmemory', '  filesystem:', `    rootdirectory: ${join(work, 'distribution')}`, '  delete:', '    enabled: true',
      'http:', `  addr: 127.0.0.1:${s.port}`, '',
    ].join('\n'));
    s.proc = spawn('/usr/bin/docker-registry', ['serve', join(work, 'dist.yml')], { stdio: 'ignore' });
    procs.push(s.proc);
  }
  for (const s of Object.values(servers)) await waitUp(s.port);
  const accept = ['Accept: application/vnd.docker.distribution.manifest.v2+json'];
  for (const s of Object.values(servers)) {
    s.layer = await seed(s.port, blob);
    if (ONLY.has('manifest')) wrk(8, `http://127.0.0.1:${s.port}/v2/bench/app/manifests/latest`, accept); // warm-up
    s.samples = { manifestReqPerSec: [], blobGetMBps: [], blobPutMBps: [], putServerCpuSecPerGB: [], putClientCpuSecPerGB: [] };
  }

  // Rounds interleave the servers (each metric runs once per server in turn), so load from other
  // jobs on the machine drifts over all of them alike; medians are reported.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, s] of Object.entries(servers)) {
      const base = `http://127.0.0.1:${s.port}`;
      const got = {};
      if (ONLY.has('manifest')) got.manifestReqPerSec = Math.round(wrk(32, `${base}/v2/bench/app/manifests/latest`, accept).rps);
      if (ONLY.has('get')) got.blobGetMBps = Math.round(wrk(4, `${base}/v2/bench/app/blobs/${s.layer}`).bps / 1048576);
      if (ONLY.has('put')) {
        // Server CPU per GiB stored is less sensitive to other jobs on the machine than MB/s.
        if (DISTINCT) refillPool(s.port, putBlob);
        const cpu0 = cpuSeconds(s.proc.pid);
        const own0 = process.cpuUsage();
        const { bps, bytes } = await putThroughput(s.port, putBlob, putDigest);
        const own = process.cpuUsage(own0);
        got.blobPutMBps = Math.round(bps / 1048576);
        got.putServerCpuSecPerGB = +((cpuSeconds(s.proc.pid) - cpu0) / (bytes / 1024 ** 3)).toFixed(2);
        // The client shares the machine's cores with the server: its cost bounds what any server can reach.
        got.putClientCpuSecPerGB = +((own.user + own.system) / 1e6 / (bytes / 1024 ** 3)).toFixed(2);
      }
      for (const [k, v] of Object.entries(got)) s.samples[k].push(v);
      console.error(`round ${r + 1} ${name}: ${JSON.stringify(got)}`);
    }
  }
  const results = {};
  for (const [name, s] of Object.entries(servers)) {
    results[name] = {};
    for (const [k, v] of Object.entries(s.samples)) if (v.length) results[name][k] = { median: median(v), samples: v };
  }
  const ratio = (a) => {
    const out = {};
    // For CPU per GiB lower is better, so its ratio is distribution / berth (higher is better throughout).
    for (const k of Object.keys(results[a])) {
      const [x, y] = [results[a][k].median, results.distribution[k].median];
      out[k] = +(k.endsWith('CpuSecPerGB') ? y / x : x / y).toFixed(2);
    }
    return out;
  };
  // Per-round ratios, then their median: when the machine's speed shifts between rounds (this
  // host's disk and CPU slow down for a while after a few GB written), a ratio of the two medians
  // can pair one server's fast rounds with the other's slow ones; a round's two samples are
  // seconds apart.
  const pairedRatio = (a) => {
    const out = {};
    for (const k of Object.keys(results[a])) {
      const xs = servers[a].samples[k];
      const ys = servers.distribution.samples[k];
      out[k] = +median(xs.map((x, i) => (k.endsWith('CpuSecPerGB') ? ys[i] / x : x / ys[i]))).toFixed(2);
    }
    return out;
  };
  const report = { durationSeconds: DURATION, blobMB: BLOB_MB, putClients: CLIENTS, rounds: ROUNDS, results,
    ratioToDistribution: { berth: ratio('berth') }, medianOfRoundRatios: { berth: pairedRatio('berth') } };
  if (BASELINE) {
    report.ratioToDistribution['berth-baseline'] = ratio('berth-baseline');
    report.medianOfRoundRatios['berth-baseline'] = pairedRatio('berth-baseline');
  }
  console.log(JSON.stringify(report, null, 2));
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
