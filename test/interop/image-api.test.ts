// Image API endpoints against a real Berth daemon: POST /images/create?fromSrc=<URL> (a rootfs tar
// served by an HTTP server started here) and GET /distribution/{name}/json (a registry started
// here). Where the Docker engine runs, the same requests go to it too and the answers are compared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { RegistryClient } from '../../src/registry/client/index.js';
import { busyboxPath, dockerCli, makeRootfsTar } from './fixtures.js';

const DOCKER_CLI = '/usr/local/bin/docker';
const DOCKER_SOCK = '/var/run/docker.sock';
const skip = !busyboxPath() ? 'busybox-static not installed' : !registryAvailable() ? 'docker-registry not installed' : undefined;

let dir: string;
let daemon: TestDaemon | undefined;
let registry: TestRegistry | undefined;
let files: http.Server | undefined;
let filesHost = '';
let tar: Buffer;
let dockerEngine = false;
const suffix = randomBytes(4).toString('hex');

interface Answer { status: number; body: string; lines: Record<string, unknown>[] }

/** One API request over a unix socket; a JSON-lines body is also split into `lines`. */
function api(socket: string, method: string, path: string, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: socket, method, path, headers: body ? { 'content-type': 'application/x-tar' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        const lines: Record<string, unknown>[] = [];
        for (const l of text.split('\n')) {
          if (!l.trim()) continue;
          try { lines.push(JSON.parse(l) as Record<string, unknown>); } catch { /* not JSON lines */ }
        }
        resolve({ status: res.statusCode!, body: text, lines });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}
const berth = (method: string, path: string, body?: Buffer) => api(daemon!.socket, method, path, body);
// The Docker engine here may be older than Berth's API version: 1.41 is understood by both.
const docker = (method: string, path: string) => api(DOCKER_SOCK, method, `/v1.41${path}`);

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-imgapi-'));
  tar = readFileSync(makeRootfsTar(dir, 'from-url'));
  const gz = gzipSync(tar);
  files = http.createServer((req, res) => {
    if (req.url === '/rootfs.tar') { res.writeHead(200, { 'content-length': tar.length }); res.end(tar); return; }
    if (req.url === '/rootfs.tar.gz') { res.writeHead(200, { 'content-length': gz.length }); res.end(gz); return; }
    // no Content-Length: progress has no total
    if (req.url === '/chunked.tar') { res.writeHead(200); res.write(tar.subarray(0, 4096)); res.end(tar.subarray(4096)); return; }
    if (req.url === '/refused.tar') { res.writeHead(400); res.end('bad request here\n'); return; }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('no such file\n');
  });
  await new Promise<void>((r) => files!.listen(0, '127.0.0.1', r));
  filesHost = `127.0.0.1:${(files.address() as AddressInfo).port}`;
  registry = await startRegistry();
  daemon = await startDaemon();
  dockerEngine = existsSync(DOCKER_SOCK) && (await api(DOCKER_SOCK, 'GET', '/_ping').then((a) => a.status === 200, () => false));
});

after(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (files) await new Promise((r) => files!.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('POST /images/create?fromSrc=<URL> imports a rootfs tar from an HTTP server', { skip }, async (t) => {
  const url = `http://${filesHost}/rootfs.tar`;
  const repo = `imported/url-${suffix}`;
  const r = await berth('POST', `/images/create?fromSrc=${encodeURIComponent(url)}&repo=${repo}&tag=v1`);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.lines[0], { status: `Downloading from ${url}` });
  const importing = r.lines.filter((l) => l.status === 'Importing');
  assert.ok(importing.length > 0, r.body);
  assert.deepEqual(importing.at(-1)!.progressDetail, { current: tar.length, total: tar.length });
  const id = r.lines.at(-1)!.status as string;
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.ok(!r.lines.some((l) => l.error || l.errorDetail), r.body);

  const insp = JSON.parse((await berth('GET', `/images/${repo}:v1/json`)).body) as Record<string, unknown>;
  assert.equal(insp.Id, id);
  assert.deepEqual(insp.RepoTags, [`${repo}:v1`]);
  assert.deepEqual((insp.RootFS as { Layers: string[] }).Layers, [sha256(tar)], 'the layer is the served tar byte for byte');
  assert.equal(insp.Comment, `Imported from ${url}`);
  const hist = JSON.parse((await berth('GET', `/images/${repo}:v1/history`)).body) as { Comment: string }[];
  assert.equal(hist[0]!.Comment, `Imported from ${url}`);

  // The same request to the Docker engine: same progress shape, comment and layer.
  if (!dockerEngine) { t.diagnostic('Docker engine not running: no side-by-side comparison'); return; }
  const drepo = `berth-test-imgapi/url-${suffix}`;
  const d = await docker('POST', `/images/create?fromSrc=${encodeURIComponent(url)}&repo=${drepo}&tag=v1`);
  try {
    assert.equal(d.status, 200, d.body);
    assert.deepEqual(d.lines.map((l) => l.status).filter((s) => s !== 'Importing').map((s) => String(s).replace(/^sha256:.*/, 'ID')), r.lines.map((l) => l.status).filter((s) => s !== 'Importing').map((s) => String(s).replace(/^sha256:.*/, 'ID')));
    assert.deepEqual(d.lines.filter((l) => l.status === 'Importing').at(-1)!.progressDetail, importing.at(-1)!.progressDetail);
    const dinsp = JSON.parse((await docker('GET', `/images/${drepo}:v1/json`)).body) as Record<string, unknown>;
    assert.equal(dinsp.Comment, insp.Comment);
    assert.deepEqual(dinsp.RootFS, insp.RootFS);
  } finally {
    await docker('DELETE', `/images/${drepo}:v1`);
  }
});

test('fromSrc without a scheme, gzip, message and changes; a body without Content-Length', { skip }, async () => {
  const repo = `imported/gz-${suffix}`;
  const q = new URLSearchParams({ fromSrc: `${filesHost}/rootfs.tar.gz`, repo, tag: 'v2', message: 'hello from a URL' });
  q.append('changes', 'CMD ["/bin/sh"]');
  const r = await berth('POST', `/images/create?${q}`);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(r.lines[0], { status: `Downloading from http://${filesHost}/rootfs.tar.gz` });
  const insp = JSON.parse((await berth('GET', `/images/${repo}:v2/json`)).body) as { Comment: string; RootFS: { Layers: string[] }; Config: { Cmd: string[] } };
  assert.deepEqual(insp.RootFS.Layers, [sha256(tar)], 'the layer is the decompressed tar');
  assert.equal(insp.Comment, 'hello from a URL');
  assert.deepEqual(insp.Config.Cmd, ['/bin/sh']);

  const c = await berth('POST', `/images/create?fromSrc=${encodeURIComponent(`http://${filesHost}/chunked.tar`)}&repo=${repo}&tag=v3`);
  assert.equal(c.status, 200, c.body);
  const last = c.lines.filter((l) => l.status === 'Importing').at(-1)!;
  assert.deepEqual(last.progressDetail, { current: tar.length }, 'no total when the length is unknown');
  assert.match(c.lines.at(-1)!.status as string, /^sha256:[a-f0-9]{64}$/);
});

test('fromSrc failures answer before any progress: remote 404 is 404, remote 400 is 400, refused is 500', { skip }, async () => {
  const missing = `http://${filesHost}/missing.tar`;
  const r404 = await berth('POST', `/images/create?fromSrc=${encodeURIComponent(missing)}&repo=x/y`);
  assert.equal(r404.status, 404, r404.body);
  assert.equal(JSON.parse(r404.body).message, `failed to GET ${missing} with status 404 Not Found: no such file`);

  const r400 = await berth('POST', `/images/create?fromSrc=${encodeURIComponent(`http://${filesHost}/refused.tar`)}`);
  assert.equal(r400.status, 400, r400.body);
  assert.match(JSON.parse(r400.body).message, /with status 400 Bad Request: bad request here$/);

  // a port nobody listens on: take one and release it
  const s = http.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise((res) => s.close(res));
  const gone = `http://127.0.0.1:${port}/x.tar`;
  const refused = await berth('POST', `/images/create?fromSrc=${encodeURIComponent(gone)}`);
  assert.equal(refused.status, 500, refused.body);
  assert.ok((JSON.parse(refused.body).message as string).startsWith(`Get "${gone}": `), refused.body);

  const bad = await berth('POST', `/images/create?fromSrc=${encodeURIComponent('ftp://example/x.tar')}`);
  assert.equal(bad.status, 400, bad.body);

  const images = JSON.parse((await berth('GET', '/images/json')).body) as { RepoTags: string[] }[];
  assert.ok(!images.some((i) => i.RepoTags?.includes('x/y:latest')), 'nothing was imported');
});

test('docker import <URL> through the real docker CLI', { skip: skip ?? (!existsSync(DOCKER_CLI) ? 'docker CLI not installed' : undefined) }, async () => {
  const env = { ...daemon!.env, DOCKER_CONFIG: join(dir, 'cfg') };
  const url = `http://${filesHost}/rootfs.tar.gz`;
  const out = await dockerCli(env, ['import', url, `cli/url-${suffix}:1`]);
  assert.equal(out.code, 0, out.stderr);
  // the CLI prints the status lines: the download, then the image ID
  assert.deepEqual(out.stdout.trim().split('\n').map((l) => l.replace(/^sha256:[a-f0-9]{64}$/, 'ID')), [`Downloading from ${url}`, 'ID']);
  const c = await dockerCli(env, ['image', 'inspect', '--format', '{{.Comment}} {{index .RootFS.Layers 0}}', `cli/url-${suffix}:1`]);
  assert.equal(c.stdout.trim(), `Imported from ${url} ${sha256(tar)}`);
  const miss = await dockerCli(env, ['import', `http://${filesHost}/missing.tar`]);
  assert.notEqual(miss.code, 0);
  assert.match(miss.stderr, /failed to GET http:\/\/.*\/missing\.tar with status 404 Not Found/);
});

/** Import a rootfs as `repo:tag` for `platform` and push it; returns the pushed manifest digest and size. */
async function pushImage(repo: string, tag: string, platform: string): Promise<{ digest: string; size: number }> {
  const q = new URLSearchParams({ fromSrc: `http://${filesHost}/rootfs.tar`, repo, tag, platform });
  const imp = await berth('POST', `/images/create?${q}`);
  assert.equal(imp.status, 200, imp.body);
  const push = await berth('POST', `/images/${repo}/push?tag=${tag}`);
  assert.equal(push.status, 200, push.body);
  assert.ok(!push.lines.some((l) => l.error), push.body);
  const aux = push.lines.find((l) => l.aux)?.aux as { Digest: string; Size: number } | undefined;
  assert.ok(aux, push.body);
  return { digest: aux.Digest, size: aux.Size };
}

/** What the registry itself says about a manifest (HEAD): the reference for the descriptor. */
async function registryHead(repo: string, ref: string): Promise<{ mediaType: string; digest: string; size: number }> {
  const res = await fetch(`http://${registry!.host}/v2/${repo}/manifests/${ref}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  assert.equal(res.status, 200);
  return { mediaType: res.headers.get('content-type')!, digest: res.headers.get('docker-content-digest')!, size: Number(res.headers.get('content-length')) };
}

test('GET /distribution/{name}/json: descriptor and platforms of a manifest, an index and a digest', { skip }, async (t) => {
  const path = `dist/bb-${suffix}`;
  const repo = `${registry!.host}/${path}`;
  const arm = await pushImage(repo, 'arm', 'linux/arm/v7');
  const amd = await pushImage(repo, 'amd', 'linux/amd64');

  // A single manifest: the platform comes from its image config.
  const a = await berth('GET', `/distribution/${repo}:arm/json`);
  assert.equal(a.status, 200, a.body);
  const aj = JSON.parse(a.body) as { Descriptor: { mediaType: string; digest: string; size: number }; Platforms: unknown[] };
  assert.deepEqual(aj.Descriptor, await registryHead(path, 'arm'));
  assert.equal(aj.Descriptor.digest, arm.digest);
  assert.equal(aj.Descriptor.size, arm.size);
  assert.deepEqual(aj.Platforms, [{ architecture: 'arm', os: 'linux', variant: 'v7' }]);

  // An index: one platform per entry, in order, with os.version when the entry has it.
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: aj.Descriptor.mediaType, digest: amd.digest, size: amd.size, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: aj.Descriptor.mediaType, digest: arm.digest, size: arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: aj.Descriptor.mediaType, digest: amd.digest, size: amd.size, platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' } },
    ],
  }));
  const client = new RegistryClient({});
  try { await client.putManifest(`${repo}:multi`, 'application/vnd.oci.image.index.v1+json', index); } finally { await client.close(); }
  const m = await berth('GET', `/distribution/${repo}:multi/json`);
  assert.equal(m.status, 200, m.body);
  const mj = JSON.parse(m.body) as { Descriptor: unknown; Platforms: unknown[] };
  assert.deepEqual(mj.Descriptor, { mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(index), size: index.length });
  assert.deepEqual(mj.Platforms, [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux', variant: 'v8' },
    { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1' },
  ]);

  // By digest: the same descriptor.
  const byDigest = await berth('GET', `/distribution/${repo}@${arm.digest}/json`);
  assert.equal(byDigest.status, 200, byDigest.body);
  assert.deepEqual(JSON.parse(byDigest.body), aj);

  const missing = await berth('GET', `/distribution/${repo}:nope/json`);
  assert.equal(missing.status, 404, missing.body);
  assert.equal(JSON.parse(missing.body).message, 'manifest unknown: manifest unknown');

  if (!dockerEngine) { t.diagnostic('Docker engine not running: no side-by-side comparison'); return; }
  // The Docker engine's answers for the same references (loopback registries need no TLS for it).
  for (const ref of [`${repo}:arm`, `${repo}:amd`, `${repo}:multi`, `${repo}@${arm.digest}`]) {
    const d = await docker('GET', `/distribution/${ref}/json`);
    const b = await berth('GET', `/distribution/${ref}/json`);
    assert.equal(b.status, d.status, `${ref}: ${d.body}`);
    assert.deepEqual(JSON.parse(b.body), JSON.parse(d.body), ref);
  }
  const dmissing = await docker('GET', `/distribution/${repo}:nope/json`);
  assert.equal(dmissing.status, 404);
  assert.equal(JSON.parse(dmissing.body).message, JSON.parse(missing.body).message);
});
