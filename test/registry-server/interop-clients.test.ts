// Interop with more real clients: podman and buildah push/pull, skopeo format conversion and
// multi-arch copies, and Berth's own daemon (driven by the docker CLI v28) pushing and pulling.
// Each test skips with a reason when its tool is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, mkdir, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startRegistry, request, sha256, OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, type TestRegistry } from './helpers.js';
import { startDaemon } from '../helpers/daemon.js';
import { busyboxPath, dockerCli, makeRootfsTar } from '../interop/fixtures.js';

const execFile = promisify(execFileCb);
const run = (cmd: string, args: string[]) => execFile(cmd, args, { timeout: 180_000, maxBuffer: 16 << 20 });
const hashFile = async (p: string) => sha256(await readFile(p));

let R: TestRegistry;
let work: string;
let host: string;
before(async () => {
  R = await startRegistry();
  host = `127.0.0.1:${R.port}`;
  work = await mkdtemp(join(tmpdir(), 'berth-reg-clients-'));
});
after(async () => { await R.close(); await rm(work, { recursive: true, force: true }); });

async function which(cmd: string): Promise<boolean> {
  try { await execFile('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; }
}

/** Why a test must skip, or undefined when its tools are present. */
async function missing(...cmds: string[]): Promise<string | undefined> {
  for (const c of cmds) if (!(await which(c))) return `${c} not installed`;
  if (!busyboxPath()) return 'busybox-static not installed';
  return undefined;
}

const tag = () => randomBytes(4).toString('hex');

/** Fetch a manifest the way a client that accepts every type would. */
function getManifest(repo: string, ref: string) {
  return request(R.port, 'GET', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ') } });
}

/** Every blob a manifest names is served under its digest, with the declared size and content. */
async function assertBlobsServed(repo: string, manifest: { config: { digest: string; size: number }; layers: { digest: string; size: number }[] }): Promise<void> {
  for (const d of [manifest.config, ...manifest.layers]) {
    const r = await request(R.port, 'GET', `/v2/${repo}/blobs/${d.digest}`);
    assert.equal(r.status, 200, `blob ${d.digest}`);
    assert.equal(r.body.length, d.size);
    assert.equal(sha256(r.body), d.digest);
  }
}

// ---- OCI layouts built by hand ----

async function putLayoutBlob(dir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** A gzip layer holding one file; returns the compressed blob and the uncompressed tar's digest. */
async function tinyLayer(name: string, content: string): Promise<{ gz: Buffer; diffId: string }> {
  const d = await mkdtemp(join(work, 'layer-'));
  await writeFile(join(d, name), content);
  const tarPath = `${d}.tar`;
  await execFile('tar', ['-C', d, '--numeric-owner', '--mtime=@0', '-cf', tarPath, name]);
  const tar = await readFile(tarPath);
  return { gz: gzipSync(tar), diffId: sha256(tar) };
}

/** An image manifest for one platform in `dir`; returns its descriptor (with platform). */
async function platformImage(dir: string, arch: string) {
  const layer = await tinyLayer('arch.txt', `${arch}\n`);
  const l = await putLayoutBlob(dir, layer.gz);
  const cfg = await putLayoutBlob(dir, Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } })));
  const man = await putLayoutBlob(dir, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
  })));
  return { mediaType: OCI_MANIFEST, ...man, platform: { architecture: arch, os: 'linux' } };
}

async function writeLayoutIndex(dir: string, entry: Record<string, unknown>, ref: string): Promise<void> {
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
}

// ---- podman ----

test('podman push, rmi, pull and run --rm against the registry', async (t) => {
  const why = await missing('podman');
  if (why) { t.skip(why); return; }
  const tar = makeRootfsTar(work, 'from-podman');
  const tg = tag();
  const local = `localhost/berth-reg-podman:${tg}`;
  const remote = `${host}/interop/podman:${tg}`;
  try {
    await run('podman', ['import', '--change', 'CMD ["/bin/busybox","cat","/etc/marker"]', tar, local]);
    await run('podman', ['push', '--tls-verify=false', local, remote]);
    const m = await getManifest('interop/podman', tg);
    assert.equal(m.status, 200);
    await assertBlobsServed('interop/podman', m.json());
    await run('podman', ['rmi', local]);
    await run('podman', ['rmi', '--ignore', remote]);
    await run('podman', ['pull', '--tls-verify=false', remote]);
    const { stdout } = await run('podman', ['run', '--rm', '--network', 'none', remote]);
    assert.equal(stdout.trim(), 'from-podman');
  } finally {
    await run('podman', ['rmi', '--ignore', '-f', local, remote]).catch(() => {});
  }
});

// ---- buildah ----

test('buildah push of a scratch image with busybox; manifest and blobs check out', async (t) => {
  const why = await missing('buildah', 'skopeo');
  if (why) { t.skip(why); return; }
  const tg = tag();
  const local = `localhost/berth-reg-buildah:${tg}`;
  const remote = `${host}/interop/buildah:${tg}`;
  let ctr = '';
  try {
    ctr = (await run('buildah', ['from', '--name', `berth-reg-${tg}`, 'scratch'])).stdout.trim();
    await run('buildah', ['copy', ctr, busyboxPath()!, '/bin/busybox']);
    await run('buildah', ['config', '--cmd', '["/bin/busybox","echo","hi"]', '--arch', 'amd64', '--os', 'linux', ctr]);
    await run('buildah', ['commit', '-q', ctr, local]);
    await run('buildah', ['push', '--tls-verify=false', local, `docker://${remote}`]);

    const m = await getManifest('interop/buildah', tg);
    assert.equal(m.status, 200);
    const man = m.json();
    assert.equal(man.layers.length, 1);
    await assertBlobsServed('interop/buildah', man);
    const cfg = JSON.parse((await request(R.port, 'GET', `/v2/interop/buildah/blobs/${man.config.digest}`)).body.toString());
    assert.deepEqual(cfg.config.Cmd, ['/bin/busybox', 'echo', 'hi']);

    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${remote}`]);
    const info = JSON.parse(stdout);
    assert.equal(info.Digest, m.headers['docker-content-digest']);
    assert.equal(info.Digest, sha256(m.body));
    assert.deepEqual(info.Layers, [man.layers[0].digest]);
    assert.equal(info.Architecture, 'amd64');
  } finally {
    if (ctr) await run('buildah', ['rm', ctr]).catch(() => {});
    await run('buildah', ['rmi', '-f', local]).catch(() => {});
  }
});

// ---- skopeo ----

test('skopeo copy --format oci converts a Docker schema 2 image; the stored type is OCI', async (t) => {
  const why = await missing('skopeo');
  if (why) { t.skip(why); return; }
  const layout = join(work, 'layout-one');
  const desc = await platformImage(layout, 'amd64');
  await writeLayoutIndex(layout, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, 'one');
  await run('skopeo', ['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${layout}:one`, `docker://${host}/interop/v2s2:1`]);
  const docker = await getManifest('interop/v2s2', '1');
  assert.equal(docker.headers['content-type'], DOCKER_MANIFEST);

  await run('skopeo', ['copy', '--format', 'oci', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/interop/v2s2:1`, `docker://${host}/interop/oci:1`]);
  const oci = await getManifest('interop/oci', '1');
  assert.equal(oci.status, 200);
  assert.equal(oci.headers['content-type'], OCI_MANIFEST);
  assert.equal(oci.json().mediaType, OCI_MANIFEST);
  assert.equal(oci.json().config.mediaType, 'application/vnd.oci.image.config.v1+json');
  // What the registry recorded for the revision, not only what it answered.
  const stored = await R.reg.store.getManifest('interop/oci', oci.headers['docker-content-digest'] as string);
  assert.equal(stored?.mediaType, OCI_MANIFEST);
  await assertBlobsServed('interop/oci', oci.json());
  // The layer bytes are the same blob in both repositories; only the manifest changed.
  assert.equal(oci.json().layers[0].digest, docker.json().layers[0].digest);
});

test('skopeo copy --all of a two-platform OCI index keeps the index digest and both children', async (t) => {
  const why = await missing('skopeo');
  if (why) { t.skip(why); return; }
  const layout = join(work, 'layout-multi');
  const children = [await platformImage(layout, 'amd64'), await platformImage(layout, 'arm64')];
  const indexBody = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children }));
  const index = await putLayoutBlob(layout, indexBody);
  await writeLayoutIndex(layout, { mediaType: OCI_INDEX, ...index }, 'multi');

  const remote = `docker://${host}/interop/multi:1`;
  await run('skopeo', ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:multi`, remote]);
  const got = await getManifest('interop/multi', '1');
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], OCI_INDEX);
  assert.equal(got.headers['docker-content-digest'], index.digest);
  assert.ok(got.body.equals(indexBody));
  for (const c of children) {
    const m = await getManifest('interop/multi', c.digest);
    assert.equal(m.status, 200, `child ${c.platform.architecture}`);
    assert.equal(sha256(m.body), c.digest);
    await assertBlobsServed('interop/multi', m.json());
  }

  const out = join(work, 'multi-out');
  await run('skopeo', ['copy', '--all', '--preserve-digests', '--src-tls-verify=false', remote, `oci:${out}:multi`]);
  const outIndex = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
  assert.equal(outIndex.manifests.length, 1);
  assert.equal(outIndex.manifests[0].digest, index.digest);
  const blob = (d: string) => join(out, 'blobs/sha256', d.slice(7));
  assert.equal(await hashFile(blob(index.digest)), index.digest);
  const back = JSON.parse(await readFile(blob(index.digest), 'utf8'));
  assert.deepEqual(back.manifests.map((m: { digest: string; platform: { architecture: string } }) => [m.platform.architecture, m.digest]),
    children.map((c) => [c.platform.architecture, c.digest]));
  for (const c of children) {
    assert.equal(await hashFile(blob(c.digest)), c.digest);
    const man = JSON.parse(await readFile(blob(c.digest), 'utf8'));
    for (const d of [man.config, ...man.layers]) assert.equal(await hashFile(blob(d.digest)), d.digest);
  }
});

// ---- Berth's own daemon as the client ----

test('Berth daemon (docker CLI v28) pushes, removes, pulls back and runs an image', async (t) => {
  const DOCKER = '/usr/local/bin/docker';
  if (!existsSync(DOCKER)) { t.skip('docker CLI v28 not installed at /usr/local/bin/docker'); return; }
  if (!busyboxPath()) { t.skip('busybox-static not installed'); return; }
  const daemon = await startDaemon();
  const env = { ...daemon.env, DOCKER_CONFIG: join(work, 'docker-config') };
  const docker = async (...args: string[]) => {
    const r = await dockerCli(env, args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  try {
    const tg = tag();
    const ref = `${host}/interop/berth:${tg}`;
    const id = (await docker('import', makeRootfsTar(work, 'from-berth'), ref)).trim();
    const push = await docker('push', ref);
    const pushed = /digest: (sha256:[a-f0-9]{64})/.exec(push)?.[1];
    assert.ok(pushed, push);
    const m = await getManifest('interop/berth', tg);
    assert.equal(m.status, 200);
    assert.equal(m.headers['docker-content-digest'], pushed);
    await assertBlobsServed('interop/berth', m.json());

    await docker('rmi', ref);
    assert.equal((await docker('images', '-q')).trim(), '');
    const pull = await docker('pull', ref);
    assert.match(pull, new RegExp(`Digest: ${pushed}`));
    assert.equal((await docker('image', 'inspect', '-f', '{{.Id}}', ref)).trim(), id);
    const out = await docker('run', '--rm', '--network', 'none', ref, '/bin/busybox', 'cat', '/etc/marker');
    assert.equal(out.trim(), 'from-berth');
  } finally {
    await daemon.stop();
  }
});
