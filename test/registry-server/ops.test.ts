// Operating the registry: gc, pull-through proxy, TLS, the serve CLI, crash consistency, full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, mkdir, rm, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startRegistry, request, sha256, errCode, pushBlob, pushImage, OCI_MANIFEST } from './helpers.js';
import { spawnServe } from './child.js';
import { FsDriver, garbageCollect, registryGcCommand } from '../../src/registry/server/main.js';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p))); else out.push(p);
  }
  return out;
}

test('gc: mark from tags and referrers, sweep the rest; dry run deletes nothing; grace period keeps fresh blobs', async () => {
  const R = await startRegistry();
  try {
    const a = await pushImage(R.port, 'gc/app', 'keep', { layer: 'keep-layer' });
    const ref = await pushImage(R.port, 'gc/app', 'tmp-sig', { layer: 'sig-layer', subject: { mediaType: OCI_MANIFEST, digest: a.digest, size: Buffer.byteLength(a.body) }, artifactType: 'application/x-sig' });
    await request(R.port, 'DELETE', '/v2/gc/app/manifests/tmp-sig'); // untagged, but a referrer of a live manifest
    const b = await pushImage(R.port, 'gc/app', 'drop', { layer: 'drop-layer' });
    await request(R.port, 'DELETE', '/v2/gc/app/manifests/drop');
    const orphan = await pushBlob(R.port, 'gc/other', 'orphan blob');
    const driver = new FsDriver(R.root);
    const kept = await garbageCollect(driver, { graceMs: 3600_000 });
    assert.deepEqual(kept.deletedBlobs, []);
    const dry = await garbageCollect(driver, { graceMs: 0, dryRun: true });
    assert.ok(dry.deletedBlobs.includes(b.layer) && dry.deletedBlobs.includes(orphan) && dry.deletedBlobs.includes(b.digest));
    assert.deepEqual(dry.deletedManifests, [`gc/app@${b.digest}`]);
    assert.ok((await stat(join(R.root, 'blobs/sha256', orphan.slice(7)))).isFile());
    assert.equal(await registryGcCommand(['--root', R.root, '--grace', '0']), 0);
    R.reg.store.invalidate();
    for (const d of [b.layer, orphan, b.digest]) await assert.rejects(stat(join(R.root, 'blobs/sha256', d.slice(7))));
    assert.equal((await request(R.port, 'GET', '/v2/gc/app/manifests/keep')).status, 200);
    for (const d of [a.config, a.layer, ref.layer]) assert.equal((await request(R.port, 'GET', `/v2/gc/app/blobs/${d}`)).status, 200, d);
    const refs = (await request(R.port, 'GET', `/v2/gc/app/referrers/${a.digest}`)).json();
    assert.deepEqual(refs.manifests.map((m: { digest: string }) => m.digest), [ref.digest]);
    assert.equal((await request(R.port, 'GET', `/v2/gc/app/manifests/${b.digest}`)).status, 404);
    assert.equal((await request(R.port, 'GET', `/v2/gc/other/blobs/${orphan}`)).status, 404);
  } finally { await R.close(); }
});

test('gc during a push (blobs uploaded, manifest not yet) keeps the image complete thanks to the grace period', async () => {
  const R = await startRegistry();
  try {
    const cfg = await pushBlob(R.port, 'gc/race', '{"os":"linux"}');
    const layer = await pushBlob(R.port, 'gc/race', 'race layer');
    const r = await garbageCollect(new FsDriver(R.root)); // default grace: 1 h
    assert.deepEqual(r.deletedBlobs, []);
    const m = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 14 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 10 }] });
    assert.equal((await request(R.port, 'PUT', '/v2/gc/race/manifests/v1', { body: m, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
    assert.equal((await request(R.port, 'GET', `/v2/gc/race/blobs/${layer}`)).body.toString(), 'race layer');
  } finally { await R.close(); }
});

test('pull-through cache: mirrors an upstream registry and keeps serving what it stored', async () => {
  const up = await startRegistry();
  const px = await startRegistry({ proxy: { url: up.base } });
  let upClosed = false;
  try {
    const img = await pushImage(up.port, 'library/busy', 'latest', { layer: 'upstream layer bytes' });
    const m = await request(px.port, 'GET', '/v2/library/busy/manifests/latest', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(m.status, 200);
    assert.equal(m.headers['docker-content-digest'], img.digest);
    const l = await request(px.port, 'GET', `/v2/library/busy/blobs/${img.layer}`);
    assert.equal(l.body.toString(), 'upstream layer bytes');
    assert.equal((await request(px.port, 'HEAD', `/v2/library/busy/blobs/${img.config}`)).status, 200);
    assert.equal((await request(px.port, 'GET', `/v2/library/busy/blobs/${sha256('absent')}`)).status, 404);
    // The tag moves upstream; the proxy follows once its freshness window has passed.
    const img2 = await pushImage(up.port, 'library/busy', 'latest', { layer: 'second upstream layer' });
    const byDigest = await request(px.port, 'GET', `/v2/library/busy/manifests/${img2.digest}`);
    assert.equal(byDigest.status, 200);
    assert.equal(byDigest.headers['docker-content-digest'], img2.digest);
    await up.close();
    upClosed = true;
    assert.equal((await request(px.port, 'GET', '/v2/library/busy/manifests/latest')).status, 200);
    assert.equal((await request(px.port, 'GET', `/v2/library/busy/blobs/${img.layer}`)).body.toString(), 'upstream layer bytes');
    const push = await request(px.port, 'POST', '/v2/library/busy/blobs/uploads/');
    assert.equal(push.status, 405);
    assert.equal(errCode(push), 'UNSUPPORTED');
  } finally { if (!upClosed) await up.close(); await px.close(); }
});

test('TLS with --tls-cert/--tls-key through the serve CLI', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-tls-'));
  try {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    } catch { t.skip('openssl not available'); return; }
    const c = await spawnServe(['--root', join(dir, 'root'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
    try {
      const r = await request(c.port, 'GET', '/v2/', { tls: true });
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
      // Access log lines are JSON on stderr.
      await new Promise((res) => setTimeout(res, 50));
      const line = c.stderr().split('\n').find((l) => l.includes('"msg":"access"'));
      assert.ok(line);
      assert.equal(JSON.parse(line).status, 200);
      // SIGTERM stops it cleanly with exit code 0.
      const code = await new Promise<number | null>((res) => { c.proc.once('exit', (cd) => res(cd)); c.proc.kill('SIGTERM'); });
      assert.equal(code, 0);
    } finally { await c.kill9(); }
  } finally { await rm(dir, { recursive: true, force: true }); }
});

test('serve refuses a non-loopback address without auth; --config supplies defaults that flags override', async () => {
  const { registryServeCommand, buildOptions } = await import('../../src/registry/server/main.js');
  assert.equal(await registryServeCommand(['--addr', '0.0.0.0:0', '--root', join(tmpdir(), 'never-created')]), 2);
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-cfg-'));
  try {
    const cfg = join(dir, 'config.json');
    await writeFile(cfg, JSON.stringify({ addr: '127.0.0.1:5999', root: '/srv/reg', 'max-body': 1024, proxy: 'http://127.0.0.1:1' }));
    const b = buildOptions(['--config', cfg, '--root', join(dir, 'r')]);
    assert.equal(b.port, 5999);
    assert.equal(b.host, '127.0.0.1');
    assert.equal(b.opts.root, join(dir, 'r'));
    assert.equal(b.opts.maxBodyBytes, 1024);
    assert.equal(b.opts.proxy?.url, 'http://127.0.0.1:1');
  } finally { await rm(dir, { recursive: true, force: true }); }
});

test('kill -9 mid-upload and after a push: nothing half-visible, uploads resumable, no 0-byte links', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-crash-'));
  const root = join(dir, 'root');
  let c = await spawnServe(['--root', root, '--no-access-log']);
  try {
    const img = await pushImage(c.port, 'crash/app', 'v1');
    const data = Buffer.alloc(6 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const d = sha256(data);
    const p = await request(c.port, 'POST', '/v2/crash/app/blobs/uploads/');
    const first = await request(c.port, 'PATCH', p.headers.location!, { body: data.subarray(0, 1 << 20), headers: { 'Content-Range': `0-${(1 << 20) - 1}` } });
    assert.equal(first.status, 202);
    // Second chunk in flight: send part of it, then kill the server.
    await new Promise<void>((resolve) => {
      const r = http.request({ host: '127.0.0.1', port: c.port, method: 'PATCH', path: first.headers.location, headers: { 'Content-Length': data.length - (1 << 20) }, agent: false });
      r.on('error', () => resolve());
      r.write(data.subarray(1 << 20, 3 << 20), () => { setTimeout(() => { void c.kill9().then(resolve); }, 100); });
    });
    await c.kill9();
    assert.equal(c.proc.signalCode, 'SIGKILL');
    c = await spawnServe(['--root', root, '--no-access-log']);
    assert.equal((await request(c.port, 'HEAD', `/v2/crash/app/blobs/${d}`)).status, 404);
    const st = await request(c.port, 'GET', first.headers.location!);
    assert.equal(st.status, 204);
    const m = /^0-(\d+)$/.exec(String(st.headers.range));
    assert.ok(m);
    const have = Number(m[1]) + 1;
    assert.ok(have >= 1 << 20 && have <= data.length);
    const rest = await request(c.port, 'PATCH', st.headers.location!, { body: data.subarray(have), headers: { 'Content-Range': `${have}-${data.length - 1}` } });
    assert.equal(rest.status, 202);
    const fin = await request(c.port, 'PUT', `${rest.headers.location}?digest=${d}`);
    assert.equal(fin.status, 201);
    assert.equal(sha256((await request(c.port, 'GET', `/v2/crash/app/blobs/${d}`)).body), d);
    const g = await request(c.port, 'GET', '/v2/crash/app/manifests/v1');
    assert.equal(g.body.toString(), img.body);
    for (const f of [...(await files(join(root, 'repositories'))), ...(await files(join(root, 'blobs')))]) {
      assert.ok((await stat(f)).size > 0, `0-byte file ${f}`);
      assert.ok(!f.endsWith('.tmp'), f);
    }
  } finally { await c.kill9(); await rm(dir, { recursive: true, force: true }); }
});

test('kill -9 at blob commit, tag write and manifest write: every tag resolves to a complete manifest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-reg-crash2-'));
  const root = join(dir, 'root');
  const wait = (c: { proc: import('node:child_process').ChildProcess }) => new Promise<void>((res) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) res(); else c.proc.once('exit', () => res());
  });
  try {
    // 1. Blob commit: the upload is verified but the server dies before the rename publishes it.
    let c = await spawnServe(['--root', root, '--no-access-log'], { BERTH_REGISTRY_CRASH_BEFORE_RENAME: 'blobs/sha256/' });
    const data = Buffer.from('commit me');
    const p = await request(c.port, 'POST', '/v2/crash2/app/blobs/uploads/');
    await request(c.port, 'PUT', `${p.headers.location}?digest=${sha256(data)}`, { body: data }).catch(() => undefined);
    await wait(c);
    assert.equal(c.proc.signalCode, 'SIGKILL');
    c = await spawnServe(['--root', root, '--no-access-log']);
    assert.equal((await request(c.port, 'HEAD', `/v2/crash2/app/blobs/${sha256(data)}`)).status, 404);
    const st = await request(c.port, 'GET', p.headers.location!);
    assert.equal(st.status, 204); // still resumable: finish it now
    assert.equal((await request(c.port, 'PUT', `${p.headers.location}?digest=${sha256(data)}`)).status, 201);
    const img = await pushImage(c.port, 'crash2/app', 'v1');
    await c.kill9();
    // 2. Tag write and 3. manifest revision write.
    for (const point of ['_manifests/tags/v2', '_manifests/revisions/']) {
      c = await spawnServe(['--root', root, '--no-access-log'], { BERTH_REGISTRY_CRASH_BEFORE_RENAME: point });
      const m2 = img.body.replace('"schemaVersion":2', '"schemaVersion":2,"annotations":{"n":"' + point + '"}');
      await request(c.port, 'PUT', '/v2/crash2/app/manifests/v2', { body: m2, headers: { 'Content-Type': OCI_MANIFEST } }).catch(() => undefined);
      await wait(c);
      assert.equal(c.proc.signalCode, 'SIGKILL', point);
      c = await spawnServe(['--root', root, '--no-access-log']);
      const tags = (await request(c.port, 'GET', '/v2/crash2/app/tags/list')).json().tags as string[];
      for (const t of tags) {
        const g = await request(c.port, 'GET', `/v2/crash2/app/manifests/${t}`);
        assert.equal(g.status, 200, `${point}: tag ${t}`);
        assert.equal(sha256(g.body), g.headers['docker-content-digest']);
      }
      assert.ok(!tags.includes('v2'), point);
      assert.equal((await request(c.port, 'PUT', '/v2/crash2/app/manifests/v2', { body: m2, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
      assert.equal((await request(c.port, 'DELETE', '/v2/crash2/app/manifests/v2')).status, 202);
      await c.kill9();
    }
    for (const f of [...(await files(join(root, 'repositories'))), ...(await files(join(root, 'blobs')))]) {
      assert.ok((await stat(f)).size > 0, `0-byte file ${f}`);
      assert.ok(!f.endsWith('.tmp'), `leftover ${f}`);
    }
  } finally { await rm(dir, { recursive: true, force: true }); }
});

/**
 * A full disk, on a small tmpfs (buffered writes) and on a small ext4 image (where uploads are
 * written with O_DIRECT): the same clear error, nothing left behind, the registry still usable.
 */
for (const fs of ['tmpfs', 'ext4'] as const) {
  test(`a full disk gives a clear error and the registry stays usable (${fs})`, async (t) => {
    if (process.getuid?.() !== 0) { t.skip(`needs root to mount a small ${fs}`); return; }
    const dir = await mkdtemp(join(tmpdir(), 'berth-reg-full-'));
    const mnt = join(dir, 'mnt');
    const img = join(dir, 'fs.img');
    try {
      await mkdir(mnt);
      try {
        if (fs === 'tmpfs') execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
        else {
          execFileSync('truncate', ['-s', '8M', img]);
          execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', img], { stdio: 'ignore' });
          execFileSync('mount', ['-o', 'loop', img, mnt], { stdio: 'ignore' });
        }
      } catch { t.skip(`cannot mount a small ${fs}`); return; }
      const R = await startRegistry({ root: join(mnt, 'root') });
      try {
        const big = Buffer.alloc(12 << 20, 9);
        const r = await request(R.port, 'POST', `/v2/full/x/blobs/uploads/?digest=${sha256(big)}`, { body: big });
        assert.equal(r.status, 507);
        assert.match(r.json().errors[0].message, /no space left on device/);
        const p = await request(R.port, 'POST', '/v2/full/x/blobs/uploads/');
        const c = await request(R.port, 'PATCH', p.headers.location!, { body: big });
        assert.equal(c.status, 507);
        assert.equal((await request(R.port, 'GET', p.headers.location!)).headers.range, '0-0');
        await request(R.port, 'DELETE', p.headers.location!);
        assert.equal((await request(R.port, 'HEAD', `/v2/full/x/blobs/${sha256(big)}`)).status, 404);
        // A blob that fits still goes through whole (large enough for direct writes on ext4).
        const fits = Buffer.alloc(1 << 20, 7);
        assert.equal(await pushBlob(R.port, 'full/x', fits), sha256(fits));
        assert.ok((await request(R.port, 'GET', `/v2/full/x/blobs/${sha256(fits)}`)).body.equals(fits));
        const im = await pushImage(R.port, 'full/x', 'after');
        assert.equal((await request(R.port, 'GET', `/v2/full/x/blobs/${im.layer}`)).status, 200);
        assert.deepEqual(await readdir(join(mnt, 'root', 'uploads')), []);
      } finally { await R.close(); }
    } finally {
      try { execFileSync('umount', [mnt], { stdio: 'ignore' }); } catch { /* not mounted */ }
      await rm(dir, { recursive: true, force: true });
    }
  });
}
