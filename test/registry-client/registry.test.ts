// Registry client against a real registry (distribution 2.8) and small node servers for auth/redirect cases.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { RegistryClient, login, logout, authConfig } from '../../src/registry/client/index.js';
import { ContentStore } from '../../src/store/content/index.js';
import { MediaTypes } from '../../src/oci/media-types.js';
import { parseReference } from '../../src/oci/reference.js';
import { isBerthError } from '../../src/errors/index.js';
import { startRegistry, registryAvailable, type TestRegistry } from '../helpers/registry.js';

const sha = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

function tinyImage() {
  const layer = randomBytes(3000);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaTypes.dockerManifest,
    config: { mediaType: MediaTypes.dockerConfig, digest: sha(config), size: config.length },
    layers: [{ mediaType: MediaTypes.dockerLayer, digest: sha(layer), size: layer.length }],
  }));
  return { layer, config, manifest };
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function serve(handler: http.RequestListener): Promise<{ host: string; close(): Promise<void> }> {
  const srv = http.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return { host: `127.0.0.1:${port}`, close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

let reg: TestRegistry | undefined;
let authReg: TestRegistry | undefined;
const clients: RegistryClient[] = [];
function client(opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const c = new RegistryClient({ useConfigFile: false, ...opts });
  clients.push(c);
  return c;
}

before(async () => {
  if (!registryAvailable()) return;
  [reg, authReg] = await Promise.all([startRegistry(), startRegistry({ htpasswd: { user: 'alice', pass: 's3cret' } })]);
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await reg?.stop();
  await authReg?.stop();
});

test('push a tiny image, pull it back by tag and digest, HEAD, mount', async (t) => {
  if (!reg) return t.skip('docker-registry not installed');
  const c = client();
  const { layer, config, manifest } = tinyImage();
  const domain = reg.host;
  assert.equal(await c.hasBlob(domain, 'berth/tiny', sha(layer)), false);
  await c.pushBlob(domain, 'berth/tiny', sha(layer), layer.length, () => Readable.from([layer.subarray(0, 1000), layer.subarray(1000)]));
  await c.pushBlob(domain, 'berth/tiny', sha(config), config.length, () => Readable.from([config]));
  assert.equal(await c.hasBlob(domain, 'berth/tiny', sha(layer)), true);
  const ref = parseReference(`${domain}/berth/tiny:1`);
  assert.equal(await c.putManifest(ref, MediaTypes.dockerManifest, manifest), sha(manifest));

  const byTag = await c.getManifest(`${domain}/berth/tiny:1`);
  assert.equal(byTag.digest, sha(manifest));
  assert.equal(byTag.mediaType, MediaTypes.dockerManifest);
  assert.deepEqual(byTag.body, manifest);
  const byDigest = await c.getManifest({ ...ref, tag: undefined, digest: sha(manifest) });
  assert.deepEqual(byDigest.body, manifest);
  const head = await c.headManifest(ref);
  assert.deepEqual(head, { digest: sha(manifest), mediaType: MediaTypes.dockerManifest, size: manifest.length });
  assert.equal(await c.headManifest(`${domain}/berth/tiny:nope`), undefined);

  // Blob into the content store through an ingest.
  const root = await mkdtemp(join(tmpdir(), 'berth-rc-'));
  try {
    const store = new ContentStore(root);
    await store.init();
    const ing = await store.ingest(sha(layer), layer.length);
    await pipeline(await c.getBlob(domain, 'berth/tiny', sha(layer), { size: layer.length }), ing.writable());
    await ing.commit();
    assert.deepEqual(await store.readBuffer(sha(layer)), layer);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  // Range from an offset.
  assert.deepEqual(await readAll(await c.getBlob(domain, 'berth/tiny', sha(layer), { offset: 2500, size: layer.length })), layer.subarray(2500));

  // Cross-repo mount, then the same manifest in the second repo.
  assert.equal(await c.mountBlob(domain, 'berth/other', sha(layer), 'berth/tiny'), true);
  assert.equal(await c.mountBlob(domain, 'berth/other', sha(config), 'berth/tiny'), true);
  assert.equal(await c.hasBlob(domain, 'berth/other', sha(layer)), true);
  assert.equal(await c.mountBlob(domain, 'berth/third', sha('never pushed'), 'berth/tiny'), false);
  await c.putManifest(`${domain}/berth/other:2`, MediaTypes.dockerManifest, manifest);
  assert.equal((await c.getManifest(`${domain}/berth/other@${sha(manifest)}`)).digest, sha(manifest));
});

test('chunked upload path', async (t) => {
  if (!reg) return t.skip('docker-registry not installed');
  const c = client({ chunkedUpload: true });
  const blob = randomBytes(70_000);
  await c.pushBlob(reg.host, 'berth/chunked', sha(blob), blob.length, () => Readable.from([blob.subarray(0, 30_000), blob.subarray(30_000)]));
  assert.deepEqual(await readAll(await c.getBlob(reg.host, 'berth/chunked', sha(blob))), blob);
});

test('errors use Docker wording', async (t) => {
  if (!reg) return t.skip('docker-registry not installed');
  const c = client();
  const { layer, config, manifest } = tinyImage();
  await c.pushBlob(reg.host, 'berth/errs', sha(layer), layer.length, () => Readable.from([layer]));
  await c.pushBlob(reg.host, 'berth/errs', sha(config), config.length, () => Readable.from([config]));
  await c.putManifest(`${reg.host}/berth/errs:1`, MediaTypes.dockerManifest, manifest);
  await assert.rejects(c.getManifest(`${reg.host}/berth/errs:2`), (e) => isBerthError(e, 'ERR_NOT_FOUND') &&
    e.message === `manifest for ${reg!.host}/berth/errs:2 not found: manifest unknown: manifest unknown`);
  await assert.rejects(c.getManifest(`${reg.host}/berth/nosuchrepo:1`), (e) => isBerthError(e, 'ERR_NOT_FOUND') &&
    /^(manifest for .* not found|pull access denied for .*nosuchrepo, repository does not exist)/.test(e.message));
  // A digest reference whose bytes don't match is refused.
  const other = sha('x');
  await assert.rejects(c.getManifest(`${reg.host}/berth/errs@${other}`), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
  await assert.rejects(c.getBlob(reg.host, 'berth/errs', other), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
  // Connection refused is a registry error, not a crash.
  const dead = await serve((_q, s) => s.end());
  await dead.close();
  await assert.rejects(c.getManifest(`${dead.host}/x:1`), (e) => isBerthError(e, 'ERR_REGISTRY'));
});

test('basic auth (htpasswd): anonymous refused, checkAuth, push and pull with credentials', async (t) => {
  if (!authReg) return t.skip('docker-registry not installed');
  const host = authReg.host;
  await assert.rejects(client().getManifest(`${host}/sec/img:1`), (e) => isBerthError(e, 'ERR_UNAUTHORIZED') && /no basic auth credentials/.test(e.message));
  await assert.rejects(client().checkAuth(host, { username: 'alice', password: 'wrong' }), (e) => isBerthError(e, 'ERR_UNAUTHORIZED'));
  assert.equal((await client().checkAuth(host, { username: 'alice', password: 's3cret' })).status, 'Login Succeeded');
  const c = client({ credentials: (d) => (d === host ? { username: 'alice', password: 's3cret' } : undefined) });
  const { layer, config, manifest } = tinyImage();
  await c.pushBlob(host, 'sec/img', sha(layer), layer.length, () => Readable.from([layer]));
  await c.pushBlob(host, 'sec/img', sha(config), config.length, () => Readable.from([config]));
  await c.putManifest(`${host}/sec/img:1`, MediaTypes.dockerManifest, manifest);
  assert.deepEqual((await c.getManifest(`${host}/sec/img:1`)).body, manifest);
  assert.deepEqual(await readAll(await c.getBlob(host, 'sec/img', sha(layer))), layer);
  // Wrong credentials on a data request.
  const bad = client({ credentials: { username: 'alice', password: 'nope' } });
  await assert.rejects(bad.getManifest(`${host}/sec/img:1`), (e) => isBerthError(e, 'ERR_UNAUTHORIZED'));
});

test('auth-config: login stores, credentials are read back, logout removes', async (t) => {
  if (!authReg) return t.skip('docker-registry not installed');
  const dir = await mkdtemp(join(tmpdir(), 'berth-dockercfg-'));
  const saved = process.env.DOCKER_CONFIG;
  try {
    process.env.DOCKER_CONFIG = dir;
    // Existing unrelated keys survive.
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'other.example:5000': { auth: Buffer.from('bob:pw').toString('base64') } }, psFormat: 'x' }));
    await assert.rejects(login(authReg.host, 'alice', 'wrong'), (e) => isBerthError(e, 'ERR_UNAUTHORIZED'));
    await login(`http://${authReg.host}/`, 'alice', 's3cret');
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.equal(cfg.psFormat, 'x');
    assert.equal(cfg.auths[authReg.host].auth, Buffer.from('alice:s3cret').toString('base64'));
    assert.deepEqual(await authConfig.getCredentials(authReg.host), { serveraddress: authReg.host, username: 'alice', password: 's3cret' });
    assert.equal((await authConfig.getCredentials('other.example:5000'))?.username, 'bob');
    // The client picks credentials from the config file by default.
    const c = client({ useConfigFile: true });
    await assert.rejects(c.getManifest(`${authReg.host}/cfg/none:1`), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
    // Docker Hub key normalisation and identity tokens.
    await authConfig.storeCredentials('docker.io', { username: 'hubuser', identitytoken: 'tok' });
    const hub = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths['https://index.docker.io/v1/'];
    assert.equal(hub.identitytoken, 'tok');
    assert.equal((await authConfig.getCredentials('docker.io'))?.identitytoken, 'tok');
    assert.equal(await logout(authReg.host), true);
    assert.equal(await logout(authReg.host), false);
    assert.equal(await authConfig.getCredentials(authReg.host), undefined);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = saved;
    await rm(dir, { recursive: true, force: true });
  }
});

test('bearer token flow: challenge parsed, token fetched with basic creds and scope, cached', async () => {
  const { manifest } = tinyImage();
  let tokenRequests = 0;
  let seenScope: string | null = null;
  let seenService: string | null = null;
  let tokenHost = '';
  const tokenSrv = await serve((req, res) => {
    const u = new URL(req.url!, 'http://x');
    tokenRequests++;
    seenScope = u.searchParams.get('scope');
    seenService = u.searchParams.get('service');
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant (identity token from an earlier login).
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const f = new URLSearchParams(body);
        const ok = f.get('grant_type') === 'refresh_token' && f.get('refresh_token') === 'REFRESH' && f.get('service') === 'test-registry';
        res.statusCode = ok ? 200 : 401;
        res.end(ok ? JSON.stringify({ access_token: 'T0K3N', expires_in: 300 }) : '');
      });
      return;
    }
    if (req.headers.authorization !== 'Basic ' + Buffer.from('tok:pw').toString('base64')) { res.statusCode = 401; res.end(); return; }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: 'T0K3N', expires_in: 300 }));
  });
  tokenHost = tokenSrv.host;
  const regSrv = await serve((req, res) => {
    if (req.headers.authorization !== 'Bearer T0K3N') {
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://${tokenHost}/token",service="test-registry",scope="repository:team/app:pull"`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (req.url === '/v2/') { res.end('{}'); return; }
    if (req.url === '/v2/team/app/manifests/1') {
      res.setHeader('content-type', MediaTypes.dockerManifest);
      res.end(manifest);
      return;
    }
    if (req.url === '/v2/team/old/manifests/1') {
      res.setHeader('content-type', MediaTypes.dockerSchema1Signed);
      res.end(JSON.stringify({ schemaVersion: 1, name: 'team/old', tag: '1', fsLayers: [] }));
      return;
    }
    if (req.url === '/v2/team/private/manifests/1') {
      // Token granted, repository still refused (what Docker Hub does for missing/private repos).
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer realm="http://${tokenHost}/token",service="test-registry",scope="repository:team/private:pull"`);
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
  });
  try {
    const c = client({ credentials: { username: 'tok', password: 'pw' } });
    const m = await c.getManifest(`${regSrv.host}/team/app:1`);
    assert.deepEqual(m.body, manifest);
    assert.equal(seenScope, 'repository:team/app:pull');
    assert.equal(seenService, 'test-registry');
    await c.getManifest(`${regSrv.host}/team/app:1`);
    assert.equal(tokenRequests, 1, 'token is cached per scope');
    await assert.rejects(client({ credentials: { username: 'tok', password: 'bad' } }).getManifest(`${regSrv.host}/team/app:1`),
      (e) => isBerthError(e, 'ERR_UNAUTHORIZED'));
    await assert.rejects(client({ credentials: { username: 'tok', password: 'bad' } }).checkAuth(regSrv.host, { username: 'tok', password: 'bad' }),
      (e) => isBerthError(e, 'ERR_UNAUTHORIZED'));
    await client().checkAuth(regSrv.host, { username: 'tok', password: 'pw' });
    const viaIdentity = client({ credentials: { identitytoken: 'REFRESH' } });
    assert.deepEqual((await viaIdentity.getManifest(`${regSrv.host}/team/app:1`)).body, manifest);
    await assert.rejects(c.getManifest(`${regSrv.host}/team/private:1`), (e) => isBerthError(e, 'ERR_NOT_FOUND') &&
      e.message.startsWith("pull access denied for " + regSrv.host + "/team/private, repository does not exist or may require 'docker login'"));
    await assert.rejects(c.getManifest(`${regSrv.host}/team/old:1`), (e) => isBerthError(e) && /schema 1/.test(e.message));
  } finally {
    await regSrv.close();
    await tokenSrv.close();
  }
});

test('cross-origin blob redirect drops Authorization; same origin keeps it', async () => {
  const blob = randomBytes(5000);
  const auth = 'Basic ' + Buffer.from('u:p').toString('base64');
  let cdnAuth: string | undefined | null = null;
  const cdn = await serve((req, res) => { cdnAuth = req.headers.authorization; res.end(blob); });
  const regSrv = await serve((req, res) => {
    if (req.headers.authorization !== auth) {
      res.statusCode = 401;
      res.setHeader('www-authenticate', 'Basic realm="test"');
      res.end();
      return;
    }
    if (req.url === `/v2/r/blobs/${sha(blob)}`) {
      res.statusCode = 307;
      res.setHeader('location', `/local/${sha(blob)}`);
      res.end();
      return;
    }
    if (req.url === `/local/${sha(blob)}`) {
      res.statusCode = 302;
      res.setHeader('location', `http://${cdn.host}/signed?x=1`); // another port: another origin
      res.end();
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  try {
    const c = client({ credentials: { username: 'u', password: 'p' } });
    assert.deepEqual(await readAll(await c.getBlob(regSrv.host, 'r', sha(blob), { size: blob.length })), blob);
    assert.equal(cdnAuth, undefined, 'no Authorization sent to the other origin');
  } finally {
    await regSrv.close();
    await cdn.close();
  }
});

test('blob with wrong bytes fails and leaves nothing in the store; interrupted download resumes with Range', async () => {
  const good = randomBytes(200_000);
  const wrong = Buffer.from(good);
  wrong[1000] ^= 0xff;
  let ranges: (string | undefined)[] = [];
  const srv = await serve((req, res) => {
    if (req.url === `/v2/r/blobs/${sha(good)}` && req.headers['x-mode'] !== 'resume') {
      res.end(wrong);
      return;
    }
    if (req.url === `/v2/r2/blobs/${sha(good)}`) {
      ranges.push(req.headers.range);
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (!m) {
        // First try: send half, then cut the connection.
        res.writeHead(200, { 'content-length': String(good.length) });
        res.write(good.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20));
        return;
      }
      const from = Number(m[1]);
      res.writeHead(206, { 'content-range': `bytes ${from}-${good.length - 1}/${good.length}`, 'content-length': String(good.length - from) });
      res.end(good.subarray(from));
      return;
    }
    if (req.url === `/v2/r3/blobs/${sha(good)}`) {
      res.end(Buffer.concat([good, Buffer.from('extra')]));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const root = await mkdtemp(join(tmpdir(), 'berth-rc-'));
  try {
    const store = new ContentStore(root);
    await store.init();
    const c = client();
    const ing = await store.ingest(sha(good), good.length);
    await assert.rejects(pipeline(await c.getBlob(srv.host, 'r', sha(good), { size: good.length }), ing.writable()),
      (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
    await ing.abort();
    assert.equal(await store.has(sha(good)), false);
    // Even without the client-side check, the store refuses the bad bytes at commit.
    const ing2 = await store.ingest(sha(good), good.length);
    await pipeline(Readable.from([wrong]), ing2.writable());
    await assert.rejects(ing2.commit(), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
    assert.equal(await store.has(sha(good)), false);
    // Too many bytes: aborted at size+1.
    await assert.rejects(readAll(await c.getBlob(srv.host, 'r3', sha(good), { size: good.length })), (e) => isBerthError(e, 'ERR_DIGEST_MISMATCH'));
    // Resume after a cut connection.
    ranges = [];
    const got = await readAll(await c.getBlob(srv.host, 'r2', sha(good), { size: good.length }));
    assert.deepEqual(got, good);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? '', /^bytes=\d+-$/);
  } finally {
    await rm(root, { recursive: true, force: true });
    await srv.close();
  }
});
