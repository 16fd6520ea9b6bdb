// dockerode (as testcontainers uses it) against Berth: version, import, push, pull with
// followProgress, listImages, inspect, remove, and 404 afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry } from '../helpers/registry.js';
import { busyboxPath, makeRootfsTar } from './fixtures.js';

const skip = !busyboxPath() ? 'busybox-static not installed' : undefined;
let dir: string;
let daemon: TestDaemon | undefined;
let registry: { host: string; stop(): Promise<void> } | undefined;
let docker: Docker;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-dockerode-'));
  registry = await startRegistry();
  daemon = await startDaemon();
  docker = new Docker({ socketPath: daemon.socket });
});
after(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function follow(stream: NodeJS.ReadableStream): Promise<{ status?: string; error?: string }[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { status?: string; error?: string }[]) => (err ? reject(err) : resolve(out)));
  });
}

test('dockerode: version, import+push, pull with followProgress, list, inspect, remove, 404', { skip }, async () => {
  const v = await docker.version();
  assert.equal(v.ApiVersion, '1.47');
  assert.equal(v.Os, 'linux');

  const repo = `${registry!.host}/dockerode/bb`;
  const tar = makeRootfsTar(dir, 'dode');
  const impOut = await follow(await docker.importImage(createReadStream(tar), { repo, tag: 'latest' }) as unknown as NodeJS.ReadableStream);
  const id = impOut.at(-1)?.status;
  assert.match(String(id), /^sha256:/);

  const pushOut = await follow(await docker.getImage(`${repo}:latest`).push({}) as unknown as NodeJS.ReadableStream);
  assert.ok(pushOut.some((m) => /digest: sha256:/.test(m.status ?? '')), JSON.stringify(pushOut));
  await docker.getImage(`${repo}:latest`).remove();

  const events: string[] = [];
  const stream = await docker.pull(`${repo}:latest`);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), (e: { status?: string }) => { if (e.status) events.push(e.status); });
  });
  assert.ok(events.some((s) => s.startsWith('Pulling from')), events.join('|'));
  assert.ok(events.includes('Pull complete'), events.join('|'));
  assert.ok(events.some((s) => s.startsWith('Status: Downloaded newer image')), events.join('|'));

  const list = await docker.listImages({ filters: { reference: [repo] } });
  assert.equal(list.length, 1);
  assert.deepEqual(list[0]!.RepoTags, [`${repo}:latest`]);
  assert.equal(list[0]!.Id, id);

  const info = await docker.getImage(`${repo}:latest`).inspect();
  assert.equal(info.Id, id);
  assert.equal(info.Os, 'linux');

  const removed = await docker.getImage(`${repo}:latest`).remove() as unknown as Record<string, string>[];
  assert.ok(removed.some((r) => r.Deleted === id), JSON.stringify(removed));
  await assert.rejects(docker.getImage(`${repo}:latest`).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  const pullMissing = docker.pull(`${repo}:nope`);
  await assert.rejects(pullMissing);
});
