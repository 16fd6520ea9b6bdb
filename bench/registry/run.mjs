#!/usr/bin/env node
// Registry benchmark: berth registry vs Debian's docker-registry (distribution 2.8) on the same host,
// same content. Manifest GET req/s (wrk, 32 connections), blob GET throughput (wrk, 4 connections),
// blob PUT throughput (POST+PUT monolithic uploads, 4 concurrent clients).
// Usage: npm run build && node bench/registry/run.mjs [--duration 10] [--blob-mb 64]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const DURATION = Number(opt('duration', '10'));
const BLOB_MB = Number(opt('blob-mb', '64'));
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
async function pushBlob(port, repo, data) {
  const d = sha(data);
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
async function putThroughput(port, blob, clients = 4) {
  const end = Date.now() + DURATION * 1000;
  let bytes = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) { await pushBlob(port, 'bench/put', blob); bytes += blob.length; }
  }));
  return bytes / ((Date.now() - t0) / 1000);
}

async function main() {
  if (!existsSync('/usr/bin/wrk')) throw new Error('wrk missing: apt-get install -y wrk');
  const serve = join(repoRoot, 'dist/test/registry-server/fixtures/serve.js');
  if (!existsSync(serve)) throw new Error('run `npm run build` first');
  const blob = randomBytes(BLOB_MB << 20);
  const putBlob = randomBytes(BLOB_MB << 20);
  const ports = { berth: 15000 + Math.floor(Math.random() * 1000), distribution: 16000 + Math.floor(Math.random() * 1000) };

  const berth = spawn(process.execPath, [serve, '--addr', `127.0.0.1:${ports.berth}`, '--root', join(work, 'berth'), '--no-access-log'], { stdio: 'ignore' });
  procs.push(berth);
  writeFileSync(join(work, 'dist.yml'), [
    'version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true',
    'storage:', '  cache:', '    blobdescriptor: inmemory', '  filesystem:', `    rootdirectory: ${join(work, 'distribution')}`, '  delete:', '    enabled: true',
    'http:', `  addr: 127.0.0.1:${ports.distribution}`, '',
  ].join('\n'));
  const dist = spawn('/usr/bin/docker-registry', ['serve', join(work, 'dist.yml')], { stdio: 'ignore' });
  procs.push(dist);
  await waitUp(ports.berth);
  await waitUp(ports.distribution);

  const results = {};
  for (const [name, port] of Object.entries(ports)) {
    const layer = await seed(port, blob);
    const base = `http://127.0.0.1:${port}`;
    wrk(8, `${base}/v2/bench/app/manifests/latest`, ['Accept: application/vnd.docker.distribution.manifest.v2+json']); // warm-up
    const man = wrk(32, `${base}/v2/bench/app/manifests/latest`, ['Accept: application/vnd.docker.distribution.manifest.v2+json']);
    const get = wrk(4, `${base}/v2/bench/app/blobs/${layer}`);
    const put = await putThroughput(port, putBlob);
    results[name] = { manifestReqPerSec: Math.round(man.rps), blobGetMBps: Math.round(get.bps / 1048576), blobPutMBps: Math.round(put / 1048576) };
    console.error(`${name}: ${JSON.stringify(results[name])}`);
  }
  const b = results.berth, d = results.distribution;
  console.log(JSON.stringify({ durationSeconds: DURATION, blobMB: BLOB_MB, results, ratio: {
    manifestGet: +(b.manifestReqPerSec / d.manifestReqPerSec).toFixed(2),
    blobGet: +(b.blobGetMBps / d.blobGetMBps).toFixed(2),
    blobPut: +(b.blobPutMBps / d.blobPutMBps).toFixed(2),
  } }, null, 2));
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
