import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, selectManifest, type ImageIndex } from '../../src/oci/manifest.js';
import { parsePlatform, formatPlatform, normalizePlatform, defaultPlatform } from '../../src/oci/platform.js';
import { MediaTypes } from '../../src/oci/media-types.js';
import { isBerthError } from '../../src/errors/index.js';

const dg = (c: string) => 'sha256:' + c.repeat(64);
const desc = (c: string, platform?: { os: string; architecture: string; variant?: string }, mediaType: string = MediaTypes.ociManifest) =>
  ({ mediaType, digest: dg(c), size: 100, ...(platform ? { platform } : {}) });

const index: ImageIndex = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociIndex,
  manifests: [
    desc('1', { os: 'linux', architecture: 'amd64' }),
    desc('2', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    desc('3', { os: 'linux', architecture: 'arm', variant: 'v7' }),
    desc('4', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    desc('5', { os: 'unknown', architecture: 'unknown' }),
    desc('6', { os: 'windows', architecture: 'amd64' }),
  ],
};

test('platform parsing and normalisation', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('Linux/X86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(formatPlatform(parsePlatform('linux/arm/v6')), 'linux/arm/v6');
  for (const bad of ['linux', '', 'linux/', 'a/b/c/d', 'linux/am d64']) {
    assert.throws(() => parsePlatform(bad), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'), bad);
  }
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: 'v1' }).variant, undefined);
  assert.equal(defaultPlatform().os, 'linux');
});

test('selectManifest picks by os/arch/variant', () => {
  assert.equal(selectManifest(index, parsePlatform('linux/amd64')).digest, dg('1'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v6')).digest, dg('2'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v7')).digest, dg('3'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm')).digest, dg('3'));
  assert.equal(selectManifest(index, parsePlatform('linux/arm64')).digest, dg('4'));
  assert.equal(selectManifest(index, parsePlatform('windows/amd64')).digest, dg('6'));
  // arm/v8 (32-bit) can run v7.
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v8')).digest, dg('3'));
});

test('missing platform gives Docker wording', () => {
  assert.throws(() => selectManifest(index, parsePlatform('linux/s390x')), (e) =>
    isBerthError(e, 'ERR_NOT_FOUND') && e.message === 'no matching manifest for linux/s390x in the manifest list entries');
  const onlyArm: ImageIndex = { schemaVersion: 2, manifests: [desc('2', { os: 'linux', architecture: 'arm', variant: 'v7' })] };
  assert.throws(() => selectManifest(onlyArm, parsePlatform('linux/arm/v5')), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
  // Nested indexes and entries without a platform are not candidates.
  const odd: ImageIndex = { schemaVersion: 2, manifests: [desc('7', undefined), desc('8', { os: 'linux', architecture: 'amd64' }, MediaTypes.ociIndex)] };
  assert.throws(() => selectManifest(odd, parsePlatform('linux/amd64')), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
});

test('parseManifest: image manifests and indexes', () => {
  const m = { schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config: desc('a', undefined, MediaTypes.dockerConfig), layers: [desc('b', undefined, MediaTypes.dockerLayer)] };
  const p = parseManifest(Buffer.from(JSON.stringify(m)), MediaTypes.dockerManifest);
  assert.equal(p.kind, 'manifest');
  assert.equal(p.mediaType, MediaTypes.dockerManifest);
  // OCI manifest without a mediaType field: taken from Content-Type, else defaulted.
  const o = { schemaVersion: 2, config: desc('a', undefined, MediaTypes.ociConfig), layers: [] };
  assert.equal(parseManifest(JSON.stringify(o), MediaTypes.ociManifest).mediaType, MediaTypes.ociManifest);
  assert.equal(parseManifest(JSON.stringify(o)).mediaType, MediaTypes.ociManifest);
  const i = parseManifest(JSON.stringify(index), 'application/vnd.oci.image.index.v1+json; charset=utf-8');
  assert.equal(i.kind, 'index');
  assert.equal(i.kind === 'index' && i.index.manifests.length, 6);
});

test('parseManifest refuses schema1, ambiguous and malformed documents', () => {
  const schema1 = { schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] };
  assert.throws(() => parseManifest(JSON.stringify(schema1)), (e) => isBerthError(e) && /schema 1 support is disabled/.test(e.message));
  assert.throws(() => parseManifest('{}', MediaTypes.dockerSchema1Signed), (e) => isBerthError(e) && /schema 1/.test(e.message));
  const both = { schemaVersion: 2, manifests: [], config: desc('a'), layers: [] };
  assert.throws(() => parseManifest(JSON.stringify(both)), (e) => isBerthError(e) && /both/.test(e.message));
  const mismatchType = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
  assert.throws(() => parseManifest(JSON.stringify(mismatchType), MediaTypes.dockerManifestList), (e) => isBerthError(e));
  const badDigest = { schemaVersion: 2, config: { ...desc('a'), digest: 'sha256:../../x' }, layers: [] };
  assert.throws(() => parseManifest(JSON.stringify(badDigest)), (e) => isBerthError(e) && /bad digest/.test(e.message));
  const badSize = { schemaVersion: 2, config: { ...desc('a'), size: -1 }, layers: [] };
  assert.throws(() => parseManifest(JSON.stringify(badSize)), (e) => isBerthError(e));
  assert.throws(() => parseManifest('not json'), (e) => isBerthError(e));
  // Duplicate keys (also spelled differently) are ambiguous between parsers.
  const dupText = `{"schemaVersion":2,"config":${JSON.stringify(desc('a'))},"layers":[],"layers":[${JSON.stringify(desc('b'))}]}`;
  assert.throws(() => parseManifest(dupText), (e) => isBerthError(e) && /duplicate key "layers"/.test(e.message));
  const dupEsc = `{"schemaVersion":2,"config":{"mediaType":"x","digest":"${dg('a')}","size":1,"size":2},"layers":[]}`;
  assert.throws(() => parseManifest(dupEsc), (e) => isBerthError(e) && /duplicate key "size"/.test(e.message));
  const dupU = String.raw`{"schemaVersion":2,"config":{"mediaType":"x","digest":"DG","size":1},"layers":[],"la\u0079ers":[]}`.replace('DG', dg('a'));
  assert.ok(dupU.includes('\\u0079'));
  assert.throws(() => parseManifest(dupU), (e) => isBerthError(e) && /duplicate key "layers"/.test(e.message));
  // Same key in sibling objects is fine; strings containing braces and quotes don't confuse the scan.
  const ok = { schemaVersion: 2, config: desc('a'), layers: [{ ...desc('b'), annotations: { k: 'v{"}' } }, { ...desc('c'), annotations: { k: '[,' } }] };
  assert.equal(parseManifest(JSON.stringify(ok)).kind, 'manifest');
  // Embedded data must match digest and size.
  const payload = Buffer.from('{}');
  const goodData = { mediaType: MediaTypes.ociEmpty, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: payload.toString('base64') };
  assert.equal(parseManifest(JSON.stringify({ schemaVersion: 2, config: goodData, layers: [] })).kind, 'manifest');
  assert.throws(() => parseManifest(JSON.stringify({ schemaVersion: 2, config: { ...goodData, data: Buffer.from('[]').toString('base64') }, layers: [] })),
    (e) => isBerthError(e) && /data does not match/.test(e.message));
  assert.throws(() => parseManifest(Buffer.alloc(5 << 20, 0x20)), (e) => isBerthError(e) && /too large/.test(e.message));
});

test('scheme choice: loopback and insecure registries use http, others https', async () => {
  const { RegistryClient } = await import('../../src/registry/client/index.js');
  const c = new RegistryClient({ insecureRegistries: ['myreg.local:5000', '10.1.0.0/16', 'http://plain.example'], useConfigFile: false });
  try {
    assert.equal(c.baseUrl('localhost:5000'), 'http://localhost:5000');
    assert.equal(c.baseUrl('127.0.0.5:80'), 'http://127.0.0.5:80');
    assert.equal(c.baseUrl('[::1]:5000'), 'http://[::1]:5000');
    assert.equal(c.baseUrl('myreg.local:5000'), 'http://myreg.local:5000');
    assert.equal(c.baseUrl('myreg.local:6000'), 'https://myreg.local:6000');
    assert.equal(c.baseUrl('10.1.2.3:5000'), 'http://10.1.2.3:5000');
    assert.equal(c.baseUrl('10.2.2.3:5000'), 'https://10.2.2.3:5000');
    assert.equal(c.baseUrl('plain.example'), 'http://plain.example');
    assert.equal(c.baseUrl('docker.io'), 'https://registry-1.docker.io');
    assert.equal(c.baseUrl('ghcr.io'), 'https://ghcr.io');
    assert.equal(c.baseUrl('128.0.0.1:5000'), 'https://128.0.0.1:5000');
  } finally {
    await c.close();
  }
});

test('WWW-Authenticate parsing', async () => {
  const { parseChallenges } = await import('../../src/registry/client/index.js');
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm", Bearer realm="x\\"y",error=insufficient_scope'), [
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
    { scheme: 'bearer', params: { realm: 'x"y', error: 'insufficient_scope' } },
  ]);
  assert.deepEqual(parseChallenges(undefined), []);
});
