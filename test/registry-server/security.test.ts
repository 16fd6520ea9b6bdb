// Bad-input, authz and concurrency regressions (security brief tests 13, 15–17, 19, 23).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { startRegistry, request, sha256, errCode, pushBlob, pushImage, OCI_MANIFEST, type TestRegistry } from './helpers.js';

let outer: string;
let R: TestRegistry;
let port: number;
before(async () => {
  outer = await mkdtemp(join(tmpdir(), 'berth-reg-sec-'));
  R = await startRegistry({ root: join(outer, 'root'), maxBodyBytes: 8 << 20 });
  port = R.port;
});
after(async () => { await R.close(); await rm(outer, { recursive: true, force: true }); });

test('CVE-2024-3727-class path traversal: names, tags and upload ids are rejected and nothing lands outside the root', async () => {
  const bad = [
    '/v2/../../etc/passwd', '/v2/%2e%2e/%2e%2e/x/blobs/uploads/', '/v2/a%2fb/blobs/uploads/', '/v2/a/%2e%2e/b/tags/list',
    '/v2/Upper/blobs/uploads/', `/v2/${'a'.repeat(256)}/blobs/uploads/`, '/v2/a//b/blobs/uploads/', '/v2/-a/blobs/uploads/',
    '/v2/a/../b/blobs/uploads/', '/v2/a/b./blobs/uploads/',
  ];
  for (const p of bad) {
    const r = await request(port, 'POST', p);
    assert.ok(r.status === 400 || r.status === 404, `${p} → ${r.status}`);
    if (r.status === 400) assert.equal(errCode(r), 'NAME_INVALID', p);
  }
  const img = await pushImage(port, 'trav/ok', 'ok');
  for (const t of ['..', '-x', 'a'.repeat(129), '.hidden', 'a%2fb', '%2e%2e']) {
    const r = await request(port, 'PUT', `/v2/trav/ok/manifests/${t}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(r.status, 400, t);
  }
  assert.equal((await request(port, 'PUT', `/v2/trav/ok/manifests/${'a'.repeat(128)}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
  for (const id of ['../../x', '..%2f..%2fx', '%2e%2e', 'ABCDEF', '0'.repeat(31)]) {
    for (const m of ['GET', 'PATCH', 'PUT', 'DELETE']) {
      const r = await request(port, m, `/v2/trav/ok/blobs/uploads/${id}?digest=${sha256('')}`);
      assert.ok([400, 404].includes(r.status), `${m} ${id} → ${r.status}`);
    }
  }
  for (const d of ['sha256:../../../../tmp/x', 'sha256:' + 'A'.repeat(64), 'sha256:' + 'a'.repeat(63), 'sha256:' + 'a'.repeat(65), 'md5:abcd']) {
    const r = await request(port, 'GET', `/v2/trav/ok/blobs/${d}`);
    assert.equal(r.status, 400, d);
    // A '/' inside the "digest" makes the path parse as a (bad) longer name instead.
    assert.equal(errCode(r), d.includes('/') ? 'NAME_INVALID' : 'DIGEST_INVALID');
    const p = await request(port, 'POST', `/v2/trav/ok/blobs/uploads/?digest=${d}`, { body: 'x' });
    assert.equal(p.status, 400);
  }
  assert.deepEqual(await readdir(outer), ['root']);
  assert.deepEqual((await readdir(join(outer, 'root'))).sort(), ['blobs', 'repositories', 'uploads']);
});

test("an upload id of repo A used through repo B is unknown (and A's session survives)", async () => {
  const p = await request(port, 'POST', '/v2/repo-a/blobs/uploads/');
  const id = p.headers['docker-upload-uuid'];
  const data = 'owned by a';
  for (const m of ['GET', 'PATCH', 'PUT', 'DELETE']) {
    const r = await request(port, m, `/v2/repo-b/blobs/uploads/${id}?digest=${sha256(data)}`, m === 'PATCH' || m === 'PUT' ? { body: data } : {});
    assert.equal(r.status, 404, m);
    assert.equal(errCode(r), 'BLOB_UPLOAD_UNKNOWN');
  }
  const fin = await request(port, 'PUT', `${p.headers.location}?digest=${sha256(data)}`, { body: data });
  assert.equal(fin.status, 201);
  assert.equal((await request(port, 'HEAD', `/v2/repo-b/blobs/${sha256(data)}`)).status, 404);
});

test('CVE-2024-39897: a blob pushed to private/x is invisible via public/y, and HEAD creates nothing', async () => {
  const d = await pushBlob(port, 'private/x', 'secret layer');
  assert.equal((await request(port, 'HEAD', `/v2/private/x/blobs/${d}`)).status, 200);
  assert.equal((await request(port, 'HEAD', `/v2/public/y/blobs/${d}`)).status, 404);
  assert.equal((await request(port, 'GET', `/v2/public/y/blobs/${d}`)).status, 404);
  assert.equal(existsSync(join(R.root, 'repositories', 'public')), false);
  const cfg = await pushBlob(port, 'public/y', '{}');
  const m = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 2 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d, size: 12 }] });
  const r = await request(port, 'PUT', '/v2/public/y/manifests/steal', { body: m, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(errCode(r), 'MANIFEST_BLOB_UNKNOWN');
});

test('CVE-2023-2253: huge n on tags and catalog is bounded', async () => {
  await pushImage(port, 'many', 'x');
  for (const p of ['/v2/_catalog?n=9223372036854775807', '/v2/many/tags/list?n=9223372036854775807']) {
    const r = await request(port, 'GET', p);
    assert.equal(r.status, 200, p);
  }
  assert.equal((await request(port, 'GET', '/v2/many/tags/list?n=-1')).status, 400);
  assert.equal((await request(port, 'GET', '/v2/many/tags/list?n=abc')).status, 400);
});

/** Write a body (declared length or chunked, endless) until the server answers; returns its status. */
function sendUntilAnswered(path: string, headers: Record<string, string | number>, limit = Infinity): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: 'PUT', path, headers, agent: false });
    let done = false;
    let sent = 0;
    r.on('response', (res) => { done = true; res.resume(); resolve(res.statusCode!); r.destroy(); });
    r.on('error', (e) => { if (!done) reject(e); });
    const chunk = Buffer.alloc(64 << 10, 0x20);
    const pump = () => {
      while (!done && sent < limit) { sent += chunk.length; if (!r.write(chunk)) { r.once('drain', pump); return; } }
    };
    pump();
  });
}

test('CVE-2017-11468: a 100 MB manifest and an endless chunked manifest get 413', async () => {
  const big = await sendUntilAnswered('/v2/dos/manifests/big', { 'Content-Type': OCI_MANIFEST, 'Content-Length': 100 << 20 }, 100 << 20);
  assert.equal(big, 413);
  const endless = await sendUntilAnswered('/v2/dos/manifests/endless', { 'Content-Type': OCI_MANIFEST, 'Transfer-Encoding': 'chunked' });
  assert.equal(endless, 413);
  assert.equal((await request(port, 'GET', '/v2/')).status, 200);
});

test('uploads above --max-body are refused with 413 and leave nothing', async () => {
  const p = await request(port, 'POST', '/v2/quota/blobs/uploads/');
  const r = await request(port, 'PATCH', p.headers.location!, { body: Buffer.alloc(9 << 20, 1) });
  assert.equal(r.status, 413);
  const st = await request(port, 'GET', p.headers.location!);
  assert.equal(st.headers.range, '0-0');
  const mono = await request(port, 'POST', `/v2/quota/blobs/uploads/?digest=${sha256(Buffer.alloc(9 << 20, 1))}`, { body: Buffer.alloc(9 << 20, 1) });
  assert.equal(mono.status, 413);
});

test('a wrong digest gives 400 DIGEST_INVALID and no link or blob', async () => {
  const p = await request(port, 'POST', '/v2/wrong/blobs/uploads/');
  const claimed = sha256('something else');
  const r = await request(port, 'PUT', `${p.headers.location}?digest=${claimed}`, { body: 'actual bytes' });
  assert.equal(r.status, 400);
  assert.equal(errCode(r), 'DIGEST_INVALID');
  assert.equal((await request(port, 'HEAD', `/v2/wrong/blobs/${claimed}`)).status, 404);
  assert.equal(existsSync(join(R.root, 'blobs', 'sha256', claimed.slice(7))), false);
  const mono = await request(port, 'POST', `/v2/wrong/blobs/uploads/?digest=${claimed}`, { body: 'actual bytes' });
  assert.equal(errCode(mono), 'DIGEST_INVALID');
});

test('concurrent pushes of the same blob all succeed: one blob file, one link per repo; a liar fails', async () => {
  const data = Buffer.alloc(4 << 20, 42);
  const d = sha256(data);
  const pushOne = async (repo: string) => {
    const p = await request(port, 'POST', `/v2/${repo}/blobs/uploads/`);
    const c = await request(port, 'PATCH', p.headers.location!, { body: data });
    return request(port, 'PUT', `${c.headers.location}?digest=${d}`);
  };
  const same = await Promise.all(Array.from({ length: 10 }, () => pushOne('conc/one')));
  assert.deepEqual(same.map((r) => r.status), Array(10).fill(201));
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) => pushOne(`conc/r${i}`)));
  assert.deepEqual(many.map((r) => r.status), Array(10).fill(201));
  const blobFiles = (await readdir(join(R.root, 'blobs', 'sha256'))).filter((n) => n === d.slice(7));
  assert.equal(blobFiles.length, 1);
  for (let i = 0; i < 10; i++) assert.ok(existsSync(join(R.root, 'repositories', 'conc', `r${i}`, '_layers', 'sha256', d.slice(7))));
  const liar = await request(port, 'POST', `/v2/conc/liar/blobs/uploads/?digest=${d}`, { body: Buffer.alloc(4 << 20, 43) });
  assert.equal(errCode(liar), 'DIGEST_INVALID');
  const g = await request(port, 'GET', `/v2/conc/one/blobs/${d}`);
  assert.equal(sha256(g.body), d);
  assert.equal((await request(port, 'HEAD', `/v2/conc/liar/blobs/${d}`)).status, 404);
});

test('abandoned upload sessions expire and are purged', async () => {
  const r2 = await startRegistry({ uploadTtlMs: 1 });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await request(r2.port, 'POST', '/v2/abandon/blobs/uploads/')).headers.location!);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await r2.reg.store.purgeUploads(), 50);
    assert.deepEqual(await readdir(join(r2.root, 'uploads')), []);
    assert.equal((await request(r2.port, 'GET', ids[0]!)).status, 404);
  } finally { await r2.close(); }
});

test('too many open upload sessions → 429 TOOMANYREQUESTS with Retry-After', async () => {
  const r2 = await startRegistry({ maxUploadSessions: 5 });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await request(r2.port, 'POST', '/v2/flood/blobs/uploads/')).status, 202);
    const r = await request(r2.port, 'POST', '/v2/flood/blobs/uploads/');
    assert.equal(r.status, 429);
    assert.equal(errCode(r), 'TOOMANYREQUESTS');
    assert.equal(r.headers['retry-after'], '60');
  } finally { await r2.close(); }
});

// ---- auth ----

function b64u(x: string | Buffer) { return Buffer.from(x).toString('base64url'); }
function jwt(header: object, claims: object, signer: (input: Buffer) => Buffer) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  return `${input}.${b64u(signer(Buffer.from(input)))}`;
}
const es256 = (key: KeyObject) => (i: Buffer) => sign('sha256', i, { key, dsaEncoding: 'ieee-p1363' });

test('CVE-2025-24976: forged tokens (alg none, HS256 with the public key, embedded jwk, expired, wrong aud) are refused', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const r2 = await startRegistry({ token: { issuer: 'test-issuer', service: 'test-svc', privateKey } });
  try {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'test-issuer', aud: 'test-svc', sub: 'u', exp: now + 300, nbf: now - 5, iat: now, access: [{ type: 'repository', name: 'tok/x', actions: ['pull', 'push', 'delete'] }] };
    const good = jwt({ alg: 'ES256', typ: 'JWT' }, claims, es256(privateKey));
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const forged: Record<string, string> = {
      none: `${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}.`,
      hs256: jwt({ alg: 'HS256', typ: 'JWT' }, claims, (i) => createHmac('sha256', pem).update(i).digest()),
      jwk: jwt({ alg: 'ES256', typ: 'JWT', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims, es256(attacker.privateKey)),
      otherKey: jwt({ alg: 'ES256', typ: 'JWT' }, claims, es256(attacker.privateKey)),
      expired: jwt({ alg: 'ES256', typ: 'JWT' }, { ...claims, exp: now - 10 }, es256(privateKey)),
      wrongAud: jwt({ alg: 'ES256', typ: 'JWT' }, { ...claims, aud: 'other' }, es256(privateKey)),
      wrongIss: jwt({ alg: 'ES256', typ: 'JWT' }, { ...claims, iss: 'evil' }, es256(privateKey)),
    };
    for (const [k, t] of Object.entries(forged)) {
      const r = await request(r2.port, 'GET', '/v2/tok/x/tags/list', { headers: { Authorization: `Bearer ${t}` } });
      assert.equal(r.status, 401, k);
      assert.equal(errCode(r), 'UNAUTHORIZED', k);
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="test-svc",scope="repository:tok\/x:pull"/);
    }
    const ok = await request(r2.port, 'POST', '/v2/tok/x/blobs/uploads/', { headers: { Authorization: `Bearer ${good}` } });
    assert.equal(ok.status, 202);
    // zot GHSA-qg67-7m6v-qg25: a push-only token cannot DELETE.
    const d = await pushBlob(r2.port, 'tok/x', 'deletable', { Authorization: `Bearer ${good}` });
    const pushOnly = jwt({ alg: 'ES256', typ: 'JWT' }, { ...claims, access: [{ type: 'repository', name: 'tok/x', actions: ['pull', 'push'] }] }, es256(privateKey));
    const del = await request(r2.port, 'DELETE', `/v2/tok/x/blobs/${d}`, { headers: { Authorization: `Bearer ${pushOnly}` } });
    assert.equal(del.status, 401);
    assert.match(String(del.headers['www-authenticate']), /error="insufficient_scope"/);
    // Mount without pull on the source does not mount.
    const other = jwt({ alg: 'ES256', typ: 'JWT' }, { ...claims, access: [{ type: 'repository', name: 'tok/y', actions: ['pull', 'push'] }] }, es256(privateKey));
    const m = await request(r2.port, 'POST', `/v2/tok/y/blobs/uploads/?mount=${d}&from=tok/x`, { headers: { Authorization: `Bearer ${other}` } });
    assert.equal(m.status, 202);
    assert.equal((await request(r2.port, 'HEAD', `/v2/tok/y/blobs/${d}`, { headers: { Authorization: `Bearer ${other}` } })).status, 404);
    assert.equal((await request(r2.port, 'DELETE', `/v2/tok/x/blobs/${d}`, { headers: { Authorization: `Bearer ${good}` } })).status, 202);
  } finally { await r2.close(); }
});

test('token endpoint + htpasswd + ACL: docker-style login flow and catalog filtered by scope', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-htp-'));
  const htp = join(dir, 'htpasswd');
  await writeFile(htp, `alice:${bcrypt.hashSync('wonderland', 4)}\nbob:${bcrypt.hashSync('builder', 4)}\n`);
  const r2 = await startRegistry({
    htpasswd: htp, token: { issuer: 'berth', service: 'berth-registry' },
    acl: [{ account: 'alice', name: '*', actions: ['*'] }, { account: 'bob', name: 'shared/*', actions: ['pull'] }],
  });
  try {
    const ch = await request(r2.port, 'GET', '/v2/');
    assert.equal(ch.status, 401);
    assert.match(String(ch.headers['www-authenticate']), /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="berth-registry"$/);
    const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
    assert.equal((await request(r2.port, 'GET', '/token?service=berth-registry', { headers: { Authorization: basic('alice', 'nope') } })).status, 401);
    const getTok = async (u: string, p: string, scope: string) =>
      (await request(r2.port, 'GET', `/token?service=berth-registry&scope=${encodeURIComponent(scope)}`, { headers: { Authorization: basic(u, p) } })).json().token as string;
    const at = await getTok('alice', 'wonderland', 'repository:shared/app:pull,push');
    await pushImage(r2.port, 'shared/app', 'v1', { headers: { Authorization: `Bearer ${at}` } });
    const at2 = await getTok('alice', 'wonderland', 'repository:secret/app:pull,push');
    await pushBlob(r2.port, 'secret/app', 'classified', { Authorization: `Bearer ${at2}` });
    const bt = await getTok('bob', 'builder', 'repository:shared/app:pull,push');
    const claims = JSON.parse(Buffer.from(bt.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'shared/app', actions: ['pull'] }]);
    assert.equal((await request(r2.port, 'GET', '/v2/shared/app/manifests/v1', { headers: { Authorization: `Bearer ${bt}` } })).status, 200);
    assert.equal((await request(r2.port, 'POST', '/v2/shared/app/blobs/uploads/', { headers: { Authorization: `Bearer ${bt}` } })).status, 401);
    const bcat = await getTok('bob', 'builder', 'registry:catalog:*');
    const cat = await request(r2.port, 'GET', '/v2/_catalog', { headers: { Authorization: `Bearer ${bcat}` } });
    assert.deepEqual(cat.json().repositories, ['shared/app']);
    const acat = await getTok('alice', 'wonderland', 'registry:catalog:*');
    assert.deepEqual((await request(r2.port, 'GET', '/v2/_catalog', { headers: { Authorization: `Bearer ${acat}` } })).json().repositories, ['secret/app', 'shared/app']);
  } finally { await r2.close(); await rm(dir, { recursive: true, force: true }); }
});

test('htpasswd basic auth', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-htp-'));
  await mkdir(dir, { recursive: true });
  const htp = join(dir, 'htpasswd');
  await writeFile(htp, `carol:${bcrypt.hashSync('s3cret', 4)}\n`);
  const r2 = await startRegistry({ htpasswd: htp });
  try {
    const no = await request(r2.port, 'GET', '/v2/');
    assert.equal(no.status, 401);
    assert.equal(no.headers['www-authenticate'], 'Basic realm="berth-registry"');
    const bad = await request(r2.port, 'GET', '/v2/', { headers: { Authorization: 'Basic ' + Buffer.from('carol:wrong').toString('base64') } });
    assert.equal(bad.status, 401);
    const good = await request(r2.port, 'GET', '/v2/', { headers: { Authorization: 'Basic ' + Buffer.from('carol:s3cret').toString('base64') } });
    assert.equal(good.status, 200);
  } finally { await r2.close(); await rm(dir, { recursive: true, force: true }); }
});
