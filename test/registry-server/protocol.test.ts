// Protocol suite: every endpoint of the OCI distribution spec v1.1 against a real server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRegistry, request, sha256, errCode, pushBlob, pushImage, OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST, type TestRegistry } from './helpers.js';

let R: TestRegistry;
let port: number;
before(async () => { R = await startRegistry(); port = R.port; });
after(async () => { await R.close(); });

test('GET /v2/ answers 200 with the API version header', async () => {
  const r = await request(port, 'GET', '/v2/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
});

test('monolithic blob push, HEAD, GET, Range', async () => {
  const data = Buffer.from('hello registry blob 0123456789');
  const d = sha256(data);
  const p = await request(port, 'POST', `/v2/mono/blobs/uploads/?digest=${d}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(p.status, 201);
  assert.equal(p.headers.location, `/v2/mono/blobs/${d}`);
  assert.equal(p.headers['docker-content-digest'], d);
  const h = await request(port, 'HEAD', `/v2/mono/blobs/${d}`);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], String(data.length));
  assert.equal(h.headers['docker-content-digest'], d);
  assert.equal(h.body.length, 0);
  const g = await request(port, 'GET', `/v2/mono/blobs/${d}`);
  assert.equal(g.status, 200);
  assert.deepEqual(g.body, data);
  const rg = await request(port, 'GET', `/v2/mono/blobs/${d}`, { headers: { Range: 'bytes=6-13' } });
  assert.equal(rg.status, 206);
  assert.equal(rg.headers['content-range'], `bytes 6-13/${data.length}`);
  assert.equal(rg.body.toString(), 'registry');
  const suffix = await request(port, 'GET', `/v2/mono/blobs/${d}`, { headers: { Range: 'bytes=-4' } });
  assert.equal(suffix.body.toString(), '6789');
  const bad = await request(port, 'GET', `/v2/mono/blobs/${d}`, { headers: { Range: 'bytes=999-1000' } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${data.length}`);
  const unknown = await request(port, 'GET', `/v2/mono/blobs/${sha256('nope')}`);
  assert.equal(unknown.status, 404);
  assert.equal(errCode(unknown), 'BLOB_UNKNOWN');
  const headUnknown = await request(port, 'HEAD', `/v2/mono/blobs/${sha256('nope')}`);
  assert.equal(headUnknown.status, 404);
});

test('POST then PUT upload with Location bookkeeping', async () => {
  const data = Buffer.from('post-then-put');
  const d = sha256(data);
  const p = await request(port, 'POST', '/v2/pp/blobs/uploads/', { headers: { 'Content-Length': 0 } });
  assert.equal(p.status, 202);
  const loc = p.headers.location!;
  assert.match(loc, /^\/v2\/pp\/blobs\/uploads\/[a-f0-9]{32}$/);
  assert.equal(p.headers.range, '0-0');
  assert.ok(p.headers['docker-upload-uuid']);
  const put = await request(port, 'PUT', `${loc}?digest=${d}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.location, `/v2/pp/blobs/${d}`);
  const again = await request(port, 'GET', loc);
  assert.equal(again.status, 404);
  assert.equal(errCode(again), 'BLOB_UPLOAD_UNKNOWN');
});

test('chunked upload: PATCH with Content-Range, out of order → 416, status GET, final chunk on PUT', async () => {
  const parts = [Buffer.from('aaaa'), Buffer.from('bbbbbb'), Buffer.from('cc')];
  const all = Buffer.concat(parts);
  const d = sha256(all);
  const p = await request(port, 'POST', '/v2/chunky/blobs/uploads/', { headers: { 'Content-Length': 0 } });
  let loc = p.headers.location!;
  const c1 = await request(port, 'PATCH', loc, { body: parts[0], headers: { 'Content-Range': '0-3', 'Content-Type': 'application/octet-stream' } });
  assert.equal(c1.status, 202);
  assert.equal(c1.headers.range, '0-3');
  loc = c1.headers.location!;
  const ooo = await request(port, 'PATCH', loc, { body: parts[1], headers: { 'Content-Range': '5-10' } });
  assert.equal(ooo.status, 416);
  const st = await request(port, 'GET', loc);
  assert.equal(st.status, 204);
  assert.equal(st.headers.range, '0-3');
  assert.equal(st.headers.location, loc);
  const c2 = await request(port, 'PATCH', loc, { body: parts[1], headers: { 'Content-Range': '4-9' } });
  assert.equal(c2.status, 202);
  assert.equal(c2.headers.range, '0-9');
  const lateOoo = await request(port, 'PUT', `${loc}?digest=${d}`, { body: parts[2], headers: { 'Content-Range': '11-12' } });
  assert.equal(lateOoo.status, 416);
  const fin = await request(port, 'PUT', `${loc}?digest=${d}`, { body: parts[2], headers: { 'Content-Range': '10-11' } });
  assert.equal(fin.status, 201);
  const g = await request(port, 'GET', `/v2/chunky/blobs/${d}`);
  assert.deepEqual(g.body, all);
});

test('streamed PATCH without Content-Range (Docker style), then empty PUT', async () => {
  // Random bytes over several write batches: the stored file must keep the body's byte order even
  // though batches are written concurrently (the running digest alone would not notice a swap).
  const data = randomBytes(9 << 20);
  const d = sha256(data);
  const p = await request(port, 'POST', '/v2/stream/blobs/uploads/');
  const c = await request(port, 'PATCH', p.headers.location!, { body: data });
  assert.equal(c.status, 202);
  assert.equal(c.headers.range, `0-${data.length - 1}`);
  const fin = await request(port, 'PUT', `${c.headers.location}?digest=${d}`, { headers: { 'Content-Length': 0 } });
  assert.equal(fin.status, 201);
  const h = await request(port, 'HEAD', `/v2/stream/blobs/${d}`);
  assert.equal(h.headers['content-length'], String(data.length));
  const g = await request(port, 'GET', `/v2/stream/blobs/${d}`);
  assert.ok(g.body.equals(data), 'stored blob differs from the uploaded bytes');
});

test('a PATCH that fails midway is rolled back (data and running digest); the upload resumes and verifies', async () => {
  // Multi-MiB parts, so the failing PATCH has already written (and hashed) whole batches when it fails.
  const first = randomBytes(3 << 20);
  const second = randomBytes(5 << 20);
  const d = sha256(Buffer.concat([first, second]));
  const p = await request(port, 'POST', '/v2/rollback/blobs/uploads/', { headers: { 'Content-Length': 0 } });
  const c1 = await request(port, 'PATCH', p.headers.location!, { body: first });
  assert.equal(c1.status, 202);
  const loc = c1.headers.location!;
  // Chunked body longer than its Content-Range: refused after some of it was stored.
  const bad = await request(port, 'PATCH', loc, {
    body: Buffer.alloc(4 << 20, 9),
    headers: { 'Content-Range': `${first.length}-${first.length + (2 << 20) - 1}`, 'Transfer-Encoding': 'chunked' },
  });
  assert.equal(bad.status, 400);
  assert.equal(errCode(bad), 'SIZE_INVALID');
  const st = await request(port, 'GET', loc);
  assert.equal(st.headers.range, `0-${first.length - 1}`);
  const c2 = await request(port, 'PATCH', loc, { body: second, headers: { 'Content-Range': `${first.length}-${first.length + second.length - 1}` } });
  assert.equal(c2.status, 202);
  const fin = await request(port, 'PUT', `${loc}?digest=${d}`, { headers: { 'Content-Length': 0 } });
  assert.equal(fin.status, 201, fin.body.toString());
  const g = await request(port, 'GET', `/v2/rollback/blobs/${d}`);
  assert.ok(g.body.equals(Buffer.concat([first, second])), 'stored blob differs from the uploaded bytes');
});

test('with the hash worker gone mid-upload, digests are checked against the stored bytes', async () => {
  const first = randomBytes(2 << 20);
  const second = randomBytes(3 << 20);
  const all = Buffer.concat([first, second]);
  const start = async () => {
    const p = await request(port, 'POST', '/v2/lost-hasher/blobs/uploads/', { headers: { 'Content-Length': 0 } });
    const c = await request(port, 'PATCH', p.headers.location!, { body: first });
    assert.equal(c.status, 202);
    return c.headers.location!;
  };
  const good = await start();
  const bad = await start();
  // The running hash states live in the worker; stopping it loses them.
  await (R.reg.store as unknown as { hasher: { close(): Promise<void> } }).hasher.close();
  for (const loc of [good, bad]) {
    const c = await request(port, 'PATCH', loc, { body: second, headers: { 'Content-Range': `${first.length}-${all.length - 1}` } });
    assert.equal(c.status, 202);
  }
  const wrong = await request(port, 'PUT', `${bad}?digest=${sha256(first)}`, { headers: { 'Content-Length': 0 } });
  assert.equal(wrong.status, 400);
  assert.equal(errCode(wrong), 'DIGEST_INVALID');
  const d = sha256(all);
  const fin = await request(port, 'PUT', `${good}?digest=${d}`, { headers: { 'Content-Length': 0 } });
  assert.equal(fin.status, 201, fin.body.toString());
  const g = await request(port, 'GET', `/v2/lost-hasher/blobs/${d}`);
  assert.ok(g.body.equals(all), 'stored blob differs from the uploaded bytes');
  // New uploads get a new worker.
  const fresh = randomBytes(1 << 20);
  assert.equal(await pushBlob(port, 'lost-hasher', fresh), sha256(fresh));
});

test('cancel an upload with DELETE', async () => {
  const p = await request(port, 'POST', '/v2/cancel/blobs/uploads/');
  const del = await request(port, 'DELETE', p.headers.location!);
  assert.equal(del.status, 204);
  const g = await request(port, 'GET', p.headers.location!);
  assert.equal(g.status, 404);
  assert.equal(errCode(g), 'BLOB_UPLOAD_UNKNOWN');
});

test('sha512 blobs and digest-algorithm', async () => {
  const { createHash } = await import('node:crypto');
  const data = Buffer.from('five-twelve');
  const d = 'sha512:' + createHash('sha512').update(data).digest('hex');
  const p = await request(port, 'POST', '/v2/s512/blobs/uploads/?digest-algorithm=sha512');
  assert.equal(p.status, 202);
  const put = await request(port, 'PUT', `${p.headers.location}?digest=${d}`, { body: data });
  assert.equal(put.status, 201);
  const g = await request(port, 'GET', `/v2/s512/blobs/${d}`);
  assert.deepEqual(g.body, data);
});

test('cross-repo mount: 201 when the source has it, 202 session otherwise', async () => {
  const d = await pushBlob(port, 'mount/src', 'mountable');
  const m = await request(port, 'POST', `/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`);
  assert.equal(m.status, 201);
  assert.equal(m.headers.location, `/v2/mount/dst/blobs/${d}`);
  assert.equal(m.headers['docker-content-digest'], d);
  assert.equal((await request(port, 'HEAD', `/v2/mount/dst/blobs/${d}`)).status, 200);
  const miss = await request(port, 'POST', `/v2/mount/dst2/blobs/uploads/?mount=${sha256('absent')}&from=mount/src`);
  assert.equal(miss.status, 202);
  assert.ok(miss.headers.location);
});

test('manifests: OCI and Docker, by tag and digest, HEAD, Content-Type, Docker-Content-Digest', async () => {
  for (const mt of [OCI_MANIFEST, DOCKER_MANIFEST]) {
    const repo = mt === OCI_MANIFEST ? 'man/oci' : 'man/docker';
    const img = await pushImage(port, repo, 'v1', { mediaType: mt });
    for (const ref of ['v1', img.digest]) {
      const g = await request(port, 'GET', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: mt } });
      assert.equal(g.status, 200);
      assert.equal(g.headers['content-type'], mt);
      assert.equal(g.headers['docker-content-digest'], img.digest);
      assert.equal(g.body.toString(), img.body);
      const h = await request(port, 'HEAD', `/v2/${repo}/manifests/${ref}`);
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-length'], String(Buffer.byteLength(img.body)));
    }
  }
  const miss = await request(port, 'GET', '/v2/man/oci/manifests/nope');
  assert.equal(miss.status, 404);
  assert.equal(errCode(miss), 'MANIFEST_UNKNOWN');
});

test('manifest PUT by digest with tag parameters; wrong digest → DIGEST_INVALID', async () => {
  const img = await pushImage(port, 'bydigest', 'seed');
  const put = await request(port, 'PUT', `/v2/bydigest/manifests/${img.digest}?tag=a&tag=b`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(put.status, 201);
  assert.equal(put.headers['oci-tag'], 'a, b');
  assert.equal(put.headers.location, `/v2/bydigest/manifests/${img.digest}`);
  const wrong = await request(port, 'PUT', `/v2/bydigest/manifests/${sha256('other')}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(wrong.status, 400);
  assert.equal(errCode(wrong), 'DIGEST_INVALID');
});

test('manifest validation: invalid JSON, unknown blobs, both manifests and layers, type mismatch', async () => {
  const bad = await request(port, 'PUT', '/v2/val/manifests/x', { body: '{not json', headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(bad.status, 400);
  assert.equal(errCode(bad), 'MANIFEST_INVALID');
  const missing = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('cfg-missing'), size: 11 }, layers: [] });
  const r = await request(port, 'PUT', '/v2/val/manifests/x', { body: missing, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(r.status, 400);
  assert.equal(errCode(r), 'MANIFEST_BLOB_UNKNOWN');
  const cfg = await pushBlob(port, 'val', '{}');
  const both = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 2 }, layers: [], manifests: [] });
  assert.equal(errCode(await request(port, 'PUT', '/v2/val/manifests/x', { body: both, headers: { 'Content-Type': OCI_MANIFEST } })), 'MANIFEST_INVALID');
  const ok = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 2 }, layers: [] });
  const mismatch = await request(port, 'PUT', '/v2/val/manifests/x', { body: ok, headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(errCode(mismatch), 'MANIFEST_INVALID');
  const dup = ok.replace('"schemaVersion":2', '"schemaVersion":2,"schemaVersion":2');
  assert.equal(errCode(await request(port, 'PUT', '/v2/val/manifests/x', { body: dup, headers: { 'Content-Type': OCI_MANIFEST } })), 'MANIFEST_INVALID');
  const negative = ok.replace('"size":2', '"size":-1');
  assert.equal(errCode(await request(port, 'PUT', '/v2/val/manifests/x', { body: negative, headers: { 'Content-Type': OCI_MANIFEST } })), 'MANIFEST_INVALID');
  const badDigest = ok.replace(cfg, 'sha256:../../../../tmp/x');
  assert.equal(errCode(await request(port, 'PUT', '/v2/val/manifests/x', { body: badDigest, headers: { 'Content-Type': OCI_MANIFEST } })), 'MANIFEST_INVALID');
  assert.equal((await request(port, 'PUT', '/v2/val/manifests/x', { body: ok, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
});

test('indexes and manifest lists: children must exist; Accept negotiation', async () => {
  const a = await pushImage(port, 'idx', 'amd64', { layer: 'l-amd64' });
  const dockerImg = await pushImage(port, 'idx', 'd', { mediaType: DOCKER_MANIFEST, layer: 'l-d' });
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: a.digest, size: Buffer.byteLength(a.body), platform: { architecture: 'amd64', os: 'linux' } }] });
  const put = await request(port, 'PUT', '/v2/idx/manifests/multi', { body: index, headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(put.status, 201);
  const list = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: dockerImg.digest, size: Buffer.byteLength(dockerImg.body), platform: { architecture: 'amd64', os: 'linux' } }] });
  assert.equal((await request(port, 'PUT', '/v2/idx/manifests/dlist', { body: list, headers: { 'Content-Type': DOCKER_LIST } })).status, 201);
  const g = await request(port, 'GET', '/v2/idx/manifests/multi', { headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
  assert.equal(g.headers['content-type'], OCI_INDEX);
  const refused = await request(port, 'GET', '/v2/idx/manifests/multi', { headers: { Accept: DOCKER_MANIFEST } });
  assert.equal(refused.status, 404);
  const missingChild = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no-child'), size: 3 }] });
  const mc = await request(port, 'PUT', '/v2/idx/manifests/broken', { body: missingChild, headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(errCode(mc), 'MANIFEST_BLOB_UNKNOWN');
});

test('tags list: lexical order, n/last pagination with Link, n=0, NAME_UNKNOWN', async () => {
  const img = await pushImage(port, 'tagged', 'seed');
  for (const t of ['b', 'a', 'C', 'c', 'a1']) {
    assert.equal((await request(port, 'PUT', `/v2/tagged/manifests/${t}`, { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
  }
  const all = (await request(port, 'GET', '/v2/tagged/tags/list')).json();
  assert.deepEqual(all, { name: 'tagged', tags: ['C', 'a', 'a1', 'b', 'c', 'seed'] });
  const p1 = await request(port, 'GET', '/v2/tagged/tags/list?n=2');
  assert.deepEqual(p1.json().tags, ['C', 'a']);
  assert.equal(p1.headers.link, '</v2/tagged/tags/list?n=2&last=a>; rel="next"');
  const p2 = await request(port, 'GET', '/v2/tagged/tags/list?n=2&last=a');
  assert.deepEqual(p2.json().tags, ['a1', 'b']);
  const p3 = await request(port, 'GET', '/v2/tagged/tags/list?n=2&last=c');
  assert.deepEqual(p3.json().tags, ['seed']);
  assert.equal(p3.headers.link, undefined);
  const z = await request(port, 'GET', '/v2/tagged/tags/list?n=0');
  assert.deepEqual(z.json().tags, []);
  assert.equal(z.headers.link, undefined);
  const unk = await request(port, 'GET', '/v2/never/pushed/tags/list');
  assert.equal(unk.status, 404);
  assert.equal(errCode(unk), 'NAME_UNKNOWN');
});

test('catalog: lexical order with n/last pagination and Link', async () => {
  for (const r of ['cat/zz', 'cat/aa', 'cat/mm']) await pushBlob(port, r, `cat-${r}`);
  const all = (await request(port, 'GET', '/v2/_catalog?n=10000')).json().repositories as string[];
  assert.deepEqual(all, [...all].sort());
  assert.ok(all.includes('cat/aa') && all.includes('cat/mm') && all.includes('cat/zz'));
  const p = await request(port, 'GET', '/v2/_catalog?n=1&last=cat/aa');
  assert.deepEqual(p.json().repositories, ['cat/mm']);
  assert.match(String(p.headers.link), /^<\/v2\/_catalog\?n=1&last=cat%2Fmm>; rel="next"$/);
});

test('referrers: subject → OCI-Subject, listing, artifactType filter', async () => {
  const img = await pushImage(port, 'refs', 'base');
  const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: Buffer.byteLength(img.body) };
  const empty = await request(port, 'GET', `/v2/refs/referrers/${img.digest}`);
  assert.equal(empty.status, 200);
  assert.equal(empty.headers['content-type'], OCI_INDEX);
  assert.deepEqual(empty.json().manifests, []);
  const sbom = await pushImage(port, 'refs', 'sbom', { subject, artifactType: 'application/vnd.example.sbom.v1', layer: 'sbom-data' });
  const sig = await pushImage(port, 'refs', 'sig', { subject, artifactType: 'application/vnd.example.sig.v1', layer: 'sig-data' });
  const put = await request(port, 'PUT', '/v2/refs/manifests/sbom', { body: sbom.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(put.headers['oci-subject'], img.digest);
  const all = await request(port, 'GET', `/v2/refs/referrers/${img.digest}`);
  const ds = (all.json().manifests as { digest: string; artifactType: string }[]).map((m) => m.digest).sort();
  assert.deepEqual(ds, [sbom.digest, sig.digest].sort());
  const f = await request(port, 'GET', `/v2/refs/referrers/${img.digest}?artifactType=application/vnd.example.sig.v1`);
  assert.equal(f.headers['oci-filters-applied'], 'artifactType');
  assert.deepEqual((f.json().manifests as { digest: string }[]).map((m) => m.digest), [sig.digest]);
  const badD = await request(port, 'GET', '/v2/refs/referrers/sha256:xyz');
  assert.equal(badD.status, 400);
  // Deleting the referrer removes it from the list.
  assert.equal((await request(port, 'DELETE', `/v2/refs/manifests/${sig.digest}`)).status, 202);
  const after = await request(port, 'GET', `/v2/refs/referrers/${img.digest}`);
  assert.deepEqual((after.json().manifests as { digest: string }[]).map((m) => m.digest), [sbom.digest]);
});

test('deletes: tag, manifest by digest, blob', async () => {
  const img = await pushImage(port, 'del', 'one');
  await request(port, 'PUT', '/v2/del/manifests/two', { body: img.body, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal((await request(port, 'DELETE', '/v2/del/manifests/one')).status, 202);
  assert.equal((await request(port, 'GET', '/v2/del/manifests/one')).status, 404);
  assert.equal((await request(port, 'GET', '/v2/del/manifests/two')).status, 200);
  assert.equal((await request(port, 'DELETE', `/v2/del/manifests/${img.digest}`)).status, 202);
  assert.equal((await request(port, 'GET', '/v2/del/manifests/two')).status, 404);
  assert.equal((await request(port, 'GET', `/v2/del/manifests/${img.digest}`)).status, 404);
  assert.equal((await request(port, 'DELETE', `/v2/del/manifests/${img.digest}`)).status, 404);
  const b = await request(port, 'DELETE', `/v2/del/blobs/${img.layer}`);
  assert.equal(b.status, 202);
  assert.equal((await request(port, 'GET', `/v2/del/blobs/${img.layer}`)).status, 404);
  const again = await request(port, 'DELETE', `/v2/del/blobs/${img.layer}`);
  assert.equal(errCode(again), 'BLOB_UNKNOWN');
});

test('unsupported methods answer UNSUPPORTED; /metrics is Prometheus text', async () => {
  const r = await request(port, 'PATCH', '/v2/x/manifests/latest');
  assert.equal(r.status, 405);
  assert.equal(errCode(r), 'UNSUPPORTED');
  const m = await request(port, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.body.toString(), /^berth_registry_http_requests_total\{method="GET",route="base",code="200"\} \d+$/m);
  assert.match(m.body.toString(), /^berth_registry_blob_commits_total \d+$/m);
});
