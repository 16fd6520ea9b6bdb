// In-process engine (createEngine) over the real snapshotter and content store: import, tag,
// list/filters, inspect, history, save → load round trip, rmi conflicts and GC, start-up sweep.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { parseFilters } from '../../src/api/query.js';
import { isBerthError } from '../../src/errors/index.js';
import { busyboxPath, makeRootfsTar } from '../interop/fixtures.js';

const skip = !busyboxPath() ? 'busybox-static not installed' : undefined;
let dir: string;
let engine: Engine;
const noRegistry = () => { throw new Error('no registry in this test'); };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-engine-'));
  engine = await createEngine({ root: join(dir, 'root'), execRoot: join(dir, 'exec') });
});
after(() => { rmSync(dir, { recursive: true, force: true }); });
void noRegistry;

let idA = '';
let idB = '';

test('import a rootfs tar (plain and gzip) with changes', { skip }, async () => {
  const tarA = makeRootfsTar(dir, 'a');
  const msgs: unknown[] = [];
  idA = await engine.importImage(createReadStream(tarA), { repo: 'example.com/a', tag: 'v1', changes: ['CMD ["/bin/sh"]', 'ENV A=1', 'LABEL team=x'] }, (m) => msgs.push(m));
  assert.match(idA, /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(msgs.at(-1), { status: idA });
  const tarB = makeRootfsTar(dir, 'b');
  execFileSync('gzip', ['-k', tarB]);
  idB = await engine.importImage(createReadStream(`${tarB}.gz`), { repo: 'b' });
  const insp = engine.inspectImage('example.com/a:v1') as { Config: { Cmd: string[]; Env: string[]; Labels: Record<string, string> }; RootFS: { Layers: string[] }; Id: string };
  assert.equal(insp.Id, idA);
  assert.deepEqual(insp.Config.Cmd, ['/bin/sh']);
  assert.deepEqual(insp.Config.Env, ['A=1']);
  assert.deepEqual(insp.Config.Labels, { team: 'x' });
  assert.equal(insp.RootFS.Layers.length, 1);
  // lookups: short id, full id, sha256: prefix, tag
  assert.equal((engine.inspectImage(idA.slice(7, 19)) as { Id: string }).Id, idA);
  assert.equal((engine.inspectImage(idB) as { Id: string }).Id, idB);
  assert.equal((engine.inspectImage('b') as { Id: string }).Id, idB);
  const h = engine.imageHistory('b:latest') as { Comment: string; Size: number }[];
  assert.equal(h.length, 1);
  assert.ok(h[0]!.Size > 1000);
});

test('list with filters: reference, label, dangling', { skip }, async () => {
  const all = await engine.listImages({});
  assert.equal(all.length, 2);
  const ref = await engine.listImages({ filters: parseFilters('{"reference":["example.com/*"]}') });
  assert.deepEqual(ref.map((i) => i.Id), [idA]);
  const lab = await engine.listImages({ filters: parseFilters('{"label":{"team=x":true}}') });
  assert.deepEqual(lab.map((i) => i.Id), [idA]);
  const dang = await engine.listImages({ filters: parseFilters('{"dangling":["true"]}') });
  assert.deepEqual(dang, []);
});

test('tag moves a tag; rmi conflicts and untag semantics', { skip }, async () => {
  await engine.tagImage('b', 'example.com/a', 'v1'); // steals the tag from A
  assert.equal((engine.inspectImage('example.com/a:v1') as { Id: string }).Id, idB);
  const dang = await engine.listImages({ filters: parseFilters('{"dangling":["true"]}') });
  assert.deepEqual(dang.map((i) => i.Id), [idA]);
  await engine.tagImage(idA, 'other/x');
  await engine.tagImage(idA, 'another/y', '2');
  await assert.rejects(engine.removeImage(idA), (e) => isBerthError(e, 'ERR_IMAGE_IN_USE') && e.status === 409 && /must be forced\) - image is referenced in multiple repositories/.test(e.message));
  const untag = await engine.removeImage('other/x');
  assert.deepEqual(untag, [{ Untagged: 'other/x:latest' }]);
  await assert.rejects(engine.removeImage('nope:1'), (e) => isBerthError(e, 'ERR_NO_SUCH_IMAGE') && e.message === 'No such image: nope:1');
});

test('save → remove → load round trip (docker-save + OCI layout in one tar)', { skip }, async () => {
  const out = join(dir, 'save.tar');
  const chunks: Buffer[] = [];
  for await (const c of await engine.saveImages(['example.com/a:v1', 'another/y:2'])) chunks.push(c as Buffer);
  writeFileSync(out, Buffer.concat(chunks));
  const names = execFileSync('tar', ['-tf', out]).toString().trim().split('\n');
  assert.ok(names.includes('manifest.json'));
  assert.ok(names.includes('index.json'));
  assert.ok(names.includes('oci-layout'));
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json']).toString()) as { RepoTags: string[]; Layers: string[] }[];
  assert.deepEqual(manifest.map((m) => m.RepoTags), [['example.com/a:v1'], ['another/y:2']]);

  const layerOf = (id: string) => (engine.inspectImage(id) as { RootFS: { Layers: string[] } }).RootFS.Layers;
  const [layerA, layerB] = [layerOf(idA), layerOf(idB)];
  assert.notDeepEqual(layerA, layerB);
  // As Docker: the image, then each layer that went with it (for one layer, its chain ID is its diff ID).
  const r1 = await engine.removeImage(idB, { force: true });
  assert.deepEqual(r1.filter((x) => x.Deleted).map((x) => x.Deleted), [idB, ...layerB]);
  const r2 = await engine.removeImage(idA, { force: true });
  assert.deepEqual(r2.filter((x) => x.Deleted).map((x) => x.Deleted), [idA, ...layerA]);
  assert.deepEqual(await engine.listImages({}), []);
  // GC freed the snapshots.
  const snaps = readdirSync(join(dir, 'root', 'snapshots')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  assert.deepEqual(snaps, []);

  const msgs: { stream?: string }[] = [];
  const loaded = await engine.loadImages(createReadStream(out), (m) => msgs.push(m));
  assert.deepEqual(loaded.sort(), ['another/y:2', 'example.com/a:v1']);
  assert.ok(msgs.some((m) => m.stream === 'Loaded image: example.com/a:v1\n'));
  assert.equal((engine.inspectImage('another/y:2') as { Id: string }).Id, idA);

  // OCI-layout only archive (strip manifest.json): loads by index.json annotations.
  const ociDir = join(dir, 'oci');
  execFileSync('mkdir', ['-p', ociDir]);
  execFileSync('tar', ['-xf', out, '-C', ociDir]);
  rmSync(join(ociDir, 'manifest.json'));
  rmSync(join(ociDir, 'repositories'), { force: true });
  const ociTar = join(dir, 'oci.tar');
  execFileSync('tar', ['-cf', ociTar, '-C', ociDir, '.']);
  await engine.removeImage('another/y:2');
  const loaded2 = await engine.loadImages(createReadStream(ociTar));
  assert.ok(loaded2.includes('another/y:2'), loaded2.join(','));
});

test('load rejects garbage with a 400-class error', { skip }, async () => {
  await assert.rejects(engine.loadImages(Readable.from([Buffer.alloc(1024)])), (e) => isBerthError(e) && e.status === 400);
});

test('start-up sweep drops records whose layers are gone', { skip }, async () => {
  const before = await engine.listImages({});
  assert.ok(before.length > 0);
  // Remove all snapshots behind the engine's back, then start a new engine on the root.
  for (const n of readdirSync(join(dir, 'root', 'snapshots'))) rmSync(join(dir, 'root', 'snapshots', n), { recursive: true, force: true });
  const e2 = await createEngine({ root: join(dir, 'root'), execRoot: join(dir, 'exec') });
  assert.deepEqual(await e2.listImages({}), []);
  assert.equal(existsSync(join(dir, 'root', 'tmp')), false);
});

test('OCI layout with a zstd layer loads (zstd via the zstd binary) and saves back', { skip: skip ?? (existsSync('/usr/bin/zstd') ? undefined : 'zstd not installed') }, async () => {
  const { createHash } = await import('node:crypto');
  const { readFileSync, mkdirSync } = await import('node:fs');
  const tar = makeRootfsTar(dir, 'zst');
  execFileSync('zstd', ['-q', '-f', tar, '-o', `${tar}.zst`]);
  const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
  const diffId = sha(readFileSync(tar));
  const layer = readFileSync(`${tar}.zst`);
  const lay = join(dir, 'zlayout');
  mkdirSync(join(lay, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => { const d = sha(b); writeFileSync(join(lay, 'blobs', 'sha256', d.slice(7)), b); return d; };
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }));
  const cfgD = put(cfg);
  const layD = put(layer);
  const man = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfgD, size: cfg.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: layD, size: layer.length }] }));
  const manD = put(man);
  writeFileSync(join(lay, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(lay, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manD, size: man.length,
    annotations: { 'io.containerd.image.name': 'docker.io/library/zst:1' } }] }));
  const out = join(dir, 'zlayout.tar');
  execFileSync('tar', ['-C', lay, '-cf', out, '.']);
  const loaded = await engine.loadImages(createReadStream(out));
  assert.deepEqual(loaded, ['zst:1']);
  const insp = engine.inspectImage('zst:1') as { Id: string; RootFS: { Layers: string[] } };
  assert.equal(insp.Id, cfgD);
  assert.deepEqual(insp.RootFS.Layers, [diffId]);
  // Save decompresses the zstd blob back to the plain layer tar.
  const chunks: Buffer[] = [];
  for await (const c of await engine.saveImages(['zst:1'])) chunks.push(c as Buffer);
  const saved = join(dir, 'zsaved.tar');
  writeFileSync(saved, Buffer.concat(chunks));
  const layerBack = execFileSync('tar', ['-xOf', saved, `blobs/sha256/${diffId.slice(7)}`], { maxBuffer: 64 << 20 });
  assert.equal(sha(layerBack), diffId);
});
