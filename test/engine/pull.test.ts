// In-process engine against a real registry: platform selection from an image index, progress
// messages, and "Image is up to date".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { RegistryClient } from '../../src/registry/client/index.js';
import { startRegistry, registryAvailable } from '../helpers/registry.js';
import { busyboxPath, makeRootfsTar } from '../interop/fixtures.js';
import type { ProgressMessage } from '../../src/api/progress.js';

const skip = !busyboxPath() ? 'busybox-static not installed' : !registryAvailable() ? 'docker-registry not installed' : undefined;
let dir: string;
let engine: Engine;
let registry: { host: string; stop(): Promise<void> } | undefined;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-pull-'));
  registry = await startRegistry();
  engine = await createEngine({ root: join(dir, 'root'), execRoot: join(dir, 'exec') });
});
after(async () => {
  await engine?.close();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('pull from an index picks the platform (default linux/amd64)', { skip }, async () => {
  const repo = `${registry!.host}/multi/bb`;
  const ids: Record<string, string> = {};
  const pushed: Record<string, { digest: string; size: number }> = {};
  for (const arch of ['amd64', 'arm64']) {
    ids[arch] = await engine.importImage(createReadStream(makeRootfsTar(dir, `m-${arch}`)), { repo, tag: arch, platform: `linux/${arch}` });
    await engine.pushImage(repo, arch, { progress: (m: ProgressMessage) => {
      const aux = m.aux as { Digest?: string; Size?: number } | undefined;
      if (aux?.Digest) pushed[arch] = { digest: aux.Digest, size: aux.Size! };
    } });
    assert.ok(pushed[arch], `push of ${arch} reported its digest`);
  }
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: (['amd64', 'arm64'] as const).map((a) => ({
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: pushed[a]!.digest, size: pushed[a]!.size,
      platform: { os: 'linux', architecture: a },
    })),
  }));
  const client = new RegistryClient({});
  await client.putManifest(`${repo}:multi`, 'application/vnd.oci.image.index.v1+json', index);
  await client.close();
  for (const arch of ['amd64', 'arm64']) await engine.removeImage(`${repo}:${arch}`, { force: true });

  const msgs: ProgressMessage[] = [];
  const arm = await engine.pullImage(repo, 'multi', { platform: 'linux/arm64', progress: (m) => msgs.push(m) });
  assert.equal(arm, ids.arm64);
  assert.ok(msgs.some((m) => m.status === 'Pulling fs layer'));
  assert.ok(msgs.some((m) => m.status === 'Pull complete'));
  assert.ok(msgs.some((m) => /^Digest: sha256:/.test(m.status ?? '')));
  assert.ok(msgs.some((m) => /^Status: Downloaded newer image for /.test(m.status ?? '')));
  await engine.removeImage(`${repo}:multi`, { force: true });

  const amd = await engine.pullImage(repo, 'multi');
  assert.equal(amd, ids.amd64);
  const again: ProgressMessage[] = [];
  await engine.pullImage(repo, 'multi', { progress: (m) => again.push(m) });
  assert.ok(again.some((m) => /^Status: Image is up to date for /.test(m.status ?? '')));
  await assert.rejects(engine.pullImage(repo, 'multi', { platform: 'linux/s390x' }), /no matching manifest for linux\/s390x/);
});
