// Interop with real clients: skopeo (push an OCI layout, pull it back) and the Docker Engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, mkdir, copyFile, writeFile, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { startRegistry, request, type TestRegistry } from './helpers.js';
import bcrypt from 'bcryptjs';

const execFile = promisify(execFileCb);
const hashFile = async (p: string) => 'sha256:' + createHash('sha256').update(await readFile(p)).digest('hex');

let R: TestRegistry;
let work: string;
let rootfsTar: string;
before(async () => {
  R = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'berth-reg-interop-'));
  if (existsSync('/bin/busybox')) {
    await mkdir(join(work, 'rootfs/bin'), { recursive: true });
    await copyFile('/bin/busybox', join(work, 'rootfs/bin/busybox'));
    rootfsTar = join(work, 'rootfs.tar');
    await execFile('tar', ['-C', join(work, 'rootfs'), '-cf', rootfsTar, '.']);
  }
});
after(async () => { await R.close(); await rm(work, { recursive: true, force: true }); });

async function which(cmd: string): Promise<boolean> {
  try { await execFile('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; }
}

/** A hand-built OCI image layout with one uncompressed busybox layer. */
async function ociLayout(dir: string): Promise<void> {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const put = async (data: Buffer) => {
    const d = 'sha256:' + createHash('sha256').update(data).digest('hex');
    await writeFile(join(dir, 'blobs/sha256', d.slice(7)), data);
    return { digest: d, size: data.length };
  };
  const layer = await put(await readFile(rootfsTar));
  const cfg = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/busybox', 'sh'] }, rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const man = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] })));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
}

test('skopeo copy oci layout → registry → dir', async (t) => {
  if (!(await which('skopeo')) || !rootfsTar) { t.skip('skopeo or /bin/busybox not installed'); return; }
  const layout = join(work, 'layout');
  await ociLayout(layout);
  const dest = `docker://127.0.0.1:${R.port}/interop/skopeo:latest`;
  await execFile('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:latest`, dest]);
  await execFile('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://127.0.0.1:${R.port}/interop/copy2:v2`]);
  const tags = (await request(R.port, 'GET', '/v2/interop/skopeo/tags/list')).json();
  assert.deepEqual(tags.tags, ['latest']);
  const { stdout } = await execFile('skopeo', ['inspect', '--tls-verify=false', dest]);
  assert.equal(JSON.parse(stdout).Architecture, 'amd64');
  const out = join(work, 'pulled');
  await execFile('skopeo', ['copy', '--src-tls-verify=false', dest, `dir:${out}`]);
  const layerDigest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).layers[0].digest as string;
  assert.equal(await hashFile(join(out, layerDigest.slice(7))), layerDigest);
  assert.ok((await readdir(out)).includes('manifest.json'));
  // dir: → docker:// as well (skopeo converts to Docker schema 2 on the way).
  await execFile('skopeo', ['copy', '--dest-tls-verify=false', `dir:${out}`, `docker://127.0.0.1:${R.port}/interop/fromdir:1`]);
  assert.equal((await request(R.port, 'HEAD', '/v2/interop/fromdir/manifests/1')).status, 200);
});

test('docker push and pull against the registry', async (t) => {
  const docker = ['-H', 'unix:///var/run/docker.sock'];
  try { await execFile('/usr/bin/docker', [...docker, 'version'], { timeout: 15000 }); } catch { t.skip('no Docker Engine on /var/run/docker.sock'); return; }
  if (!rootfsTar) { t.skip('/bin/busybox not installed'); return; }
  const tag = randomBytes(4).toString('hex');
  const local = `berth-reg-interop:${tag}`;
  const remote = `127.0.0.1:${R.port}/interop/docker:${tag}`;
  const dk = (...a: string[]) => execFile('/usr/bin/docker', [...docker, ...a], { timeout: 120000 });
  try {
    await dk('import', rootfsTar, local);
    await dk('tag', local, remote);
    await dk('push', remote);
    const m = await request(R.port, 'GET', `/v2/interop/docker/manifests/${tag}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(m.status, 200);
    assert.equal(m.headers['content-type'], 'application/vnd.docker.distribution.manifest.v2+json');
    const { stdout: idBefore } = await dk('image', 'inspect', '-f', '{{.Id}}', remote);
    await dk('rmi', remote, local);
    await dk('pull', remote);
    const { stdout: idAfter } = await dk('image', 'inspect', '-f', '{{.Id}}', remote);
    assert.equal(idAfter.trim(), idBefore.trim());
  } finally {
    await dk('rmi', '-f', remote).catch(() => {});
    await dk('rmi', '-f', local).catch(() => {});
  }
});

test('docker login (token flow with htpasswd) then push', async (t) => {
  const docker = ['-H', 'unix:///var/run/docker.sock'];
  try { await execFile('/usr/bin/docker', [...docker, 'version'], { timeout: 15000 }); } catch { t.skip('no Docker Engine on /var/run/docker.sock'); return; }
  if (!rootfsTar) { t.skip('/bin/busybox not installed'); return; }
  const htp = join(work, 'htpasswd');
  await writeFile(htp, `dave:${bcrypt.hashSync('pa55word', 4)}\n`);
  const A = await startRegistry({ htpasswd: htp, token: { issuer: 'berth-test' } });
  const cfg = join(work, 'docker-config');
  await mkdir(cfg, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const local = `berth-reg-login:${tag}`;
  const remote = `127.0.0.1:${A.port}/auth/app:${tag}`;
  const dk = (...a: string[]) => execFile('/usr/bin/docker', ['--config', cfg, ...docker, ...a], { timeout: 120000 });
  try {
    await assert.rejects(dk('login', `127.0.0.1:${A.port}`, '-u', 'dave', '-p', 'wrong'));
    await dk('login', `127.0.0.1:${A.port}`, '-u', 'dave', '-p', 'pa55word');
    await dk('import', rootfsTar, local);
    await dk('tag', local, remote);
    await dk('push', remote);
    const anon = await request(A.port, 'GET', `/v2/auth/app/manifests/${tag}`);
    assert.equal(anon.status, 401);
  } finally {
    await dk('rmi', '-f', remote).catch(() => {});
    await dk('rmi', '-f', local).catch(() => {});
    await A.close();
  }
});
