// testcontainers (the npm package, unchanged) against Berth: a GenericContainer with published
// ports, environment, labels, copied content and composite wait strategies; HTTP to the mapped port;
// exec with exit codes and split output; logs; archives both ways; restart; health-check waits;
// stop removes the container. Ryuk (the reaper, pulled from Docker Hub) is off: no internet here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { missing, BUSYBOX } from '../containers/harness.js';

const skip = missing();
const IMAGE = 'berth-tc/busybox:1';
let dir: string;
let daemon: TestDaemon | undefined;
let docker: Docker;
// Loaded after DOCKER_HOST is set: testcontainers picks its runtime once, on first use.
let tc: typeof import('testcontainers');

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-tc-'));
  daemon = await startDaemon();
  docker = new Docker({ socketPath: daemon.socket });
  // Every busybox applet: the port wait strategy runs `awk`, `grep` and `nc` inside the container.
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX!, join(rootfs, 'bin/busybox'));
  for (const a of execFileSync(BUSYBOX!, ['--list']).toString().split('\n')) if (a && a !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  execFileSync('tar', ['-C', rootfs, '-cf', join(dir, 'img.tar'), '.']);
  const [repo, tag] = IMAGE.split(':');
  const stream = await docker.importImage(createReadStream(join(dir, 'img.tar')), { repo, tag });
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve(undefined))));
  process.env.DOCKER_HOST = `unix://${daemon.socket}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  tc = await import('testcontainers');
});
after(async () => {
  await daemon?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function untarText(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const x = tar.extract();
  x.on('entry', (h, s, next) => {
    let body = '';
    s.on('data', (d: unknown) => { body += String(d); });
    s.on('end', () => { out[h.name] = body; next(); });
  });
  const done = new Promise<void>((resolve, reject) => { x.on('finish', () => resolve()); x.on('error', reject); });
  stream.pipe(x);
  await done;
  return out;
}

test('testcontainers: GenericContainer with ports, env, copied content, waits; exec, logs, archives, restart, stop', { skip }, async () => {
  const { GenericContainer, Wait } = tc;
  const c = await new GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'mkdir -p /www && echo from-start > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'])
    .withExposedPorts(8080)
    .withEnvironment({ FOO: 'bar' })
    .withLabels({ 'berth.test': 'tc' })
    .withCopyContentToContainer([{ content: 'copied-content\n', target: '/tmp/copied.txt' }])
    .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage('ready')]))
    .withStartupTimeout(30_000)
    .start();
  const id = c.getId();
  try {
    // The host testcontainers resolved (the bridge's gateway when it runs in a container, else
    // localhost) reaches the published port.
    const url = `http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`;
    assert.equal(await (await fetch(url)).text(), 'from-start\n');
    assert.equal((await docker.getContainer(id).inspect()).Config.Labels['berth.test'], 'tc');

    const e = await c.exec(['sh', '-c', 'echo $FOO; cat /tmp/copied.txt; echo oops >&2; exit 3']);
    assert.deepEqual({ code: e.exitCode, out: e.stdout, err: e.stderr }, { code: 3, out: 'bar\ncopied-content\n', err: 'oops\n' });

    const logs = await c.logs();
    let text = '';
    await new Promise<void>((resolve) => {
      logs.on('data', (d: Buffer | string) => { text += d.toString(); if (text.includes('ready')) resolve(); });
    });
    logs.destroy();
    assert.match(text, /ready/);

    const files = await untarText(await c.copyArchiveFromContainer('/tmp/copied.txt'));
    assert.equal(files['copied.txt'], 'copied-content\n');
    writeFileSync(join(dir, 'page.html'), 'from-copy\n');
    await c.copyFilesToContainer([{ source: join(dir, 'page.html'), target: '/www/index.html' }]);
    assert.equal(await (await fetch(url)).text(), 'from-copy\n');

    // A restart may map a new host port; the wait strategies run again.
    await c.restart();
    assert.equal(await (await fetch(`http://${c.getHost()}:${c.getMappedPort(8080)}/index.html`)).text(), 'from-start\n');
  } finally {
    await c.stop();
  }
  // stop() removes the container.
  await assert.rejects(docker.getContainer(id).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
});

test('testcontainers: health-check wait, and a failing health check fails the start', { skip }, async () => {
  const { GenericContainer, Wait } = tc;
  const healthy = await new GenericContainer(IMAGE)
    .withCommand(['sh', '-c', 'sleep 1; touch /tmp/up; exec sleep 100'])
    .withHealthCheck({ test: ['CMD-SHELL', 'test -f /tmp/up'], interval: 200, timeout: 1000, retries: 30 })
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(30_000)
    .start();
  try {
    assert.equal((await docker.getContainer(healthy.getId()).inspect()).State.Health?.Status, 'healthy');
  } finally {
    await healthy.stop();
  }
  await assert.rejects(
    new GenericContainer(IMAGE)
      .withCommand(['sleep', '100'])
      .withHealthCheck({ test: ['CMD', 'false'], interval: 100, timeout: 1000, retries: 2 })
      .withWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(20_000)
      .start(),
    /unhealthy/i,
  );
});
