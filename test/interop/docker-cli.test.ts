// The real docker CLI (v28) against a Berth daemon and a real registry: import, push, pull by tag
// and digest, images, inspect, tag, save, load, rmi — and Berth's save loaded by real Docker/Podman.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry } from '../helpers/registry.js';
import { busyboxPath, dockerCliMissing, dockerCli, makeRootfsTar, makeTwoLayerArchive } from './fixtures.js';

const DOCKER = '/usr/local/bin/docker';
const skip = dockerCliMissing();

let dir: string;
let daemon: TestDaemon | undefined;
let registry: { host: string; stop(): Promise<void> } | undefined;
let env: Record<string, string>;
let repo: string;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  registry = await startRegistry();
  daemon = await startDaemon();
  env = { ...daemon.env, DOCKER_CONFIG: join(dir, 'docker-config') };
  repo = `${registry!.host}/berth-test/bb`;
});

after(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const docker = (...args: string[]) => dockerCli(env, args);

let pushedDigest = '';
let imageId = '';

test('docker version talks to Berth', { skip }, async () => {
  const r = await docker('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1.47 linux');
});

test('docker import a rootfs tar, then push it (progress, digest line)', { skip }, async () => {
  const tar = makeRootfsTar(dir, 'one');
  const imp = await docker('import', tar, `${repo}:1`);
  assert.equal(imp.code, 0, imp.stderr);
  imageId = imp.stdout.trim();
  assert.match(imageId, /^sha256:[a-f0-9]{64}$/);
  const push = await docker('push', `${repo}:1`);
  assert.equal(push.code, 0, push.stderr + push.stdout);
  assert.match(push.stdout, /The push refers to repository \[/);
  assert.match(push.stdout, /Pushed/);
  const m = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(push.stdout);
  assert.ok(m, push.stdout);
  pushedDigest = m![1]!;
  // A second push finds every layer in place.
  const again = await docker('push', `${repo}:1`);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Layer already exists/);
});

test('rmi, pull by tag, pull by digest, images, inspect', { skip }, async () => {
  const rm = await docker('rmi', `${repo}:1`);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, /Untagged: /);
  assert.match(rm.stdout, /Deleted: sha256:/);
  const ls0 = await docker('images', '-q');
  assert.equal(ls0.stdout.trim(), '');

  const pull = await docker('pull', `${repo}:1`);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /Pull complete/);
  assert.match(pull.stdout, new RegExp(`Digest: ${pushedDigest}`));
  assert.match(pull.stdout, /Status: Downloaded newer image for .*bb:1/);
  const again = await docker('pull', `${repo}:1`);
  assert.match(again.stdout, /Status: Image is up to date/);

  const byDigest = await docker('pull', `${repo}@${pushedDigest}`);
  assert.equal(byDigest.code, 0, byDigest.stderr);

  const ls = await docker('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', repo);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, new RegExp(`${repo.replace(/[.]/g, '\\.')}:1 ${imageId.slice(7, 19)}`));

  const insp = await docker('image', 'inspect', `${repo}:1`);
  assert.equal(insp.code, 0, insp.stderr);
  const info = JSON.parse(insp.stdout)[0];
  assert.equal(info.Id, imageId);
  assert.deepEqual(info.RepoDigests, [`${repo}@${pushedDigest}`]);
  assert.equal(info.RootFS.Layers.length, 1);
  const generic = await docker('inspect', '--format', '{{.Id}}', imageId.slice(7, 19));
  assert.equal(generic.stdout.trim(), imageId);
});

test('tag, then rmi of the tag only untags', { skip }, async () => {
  const t = await docker('tag', `${repo}:1`, 'berth-local/copy:v2');
  assert.equal(t.code, 0, t.stderr);
  const ls = await docker('images', '--format', '{{.Repository}}:{{.Tag}}');
  assert.match(ls.stdout, /berth-local\/copy:v2/);
  const rm = await docker('rmi', 'berth-local/copy:v2');
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout.trim(), 'Untagged: berth-local/copy:v2');
});

test('rmi of a missing image: Docker wording and exit code 1', { skip }, async () => {
  const r = await docker('rmi', 'no-such-image-here');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error response from daemon: No such image: no-such-image-here:latest/);
});

test('save of a missing image: 404 in Docker\'s words before any byte, and the daemon serves on', { skip }, async () => {
  const file = join(dir, 'never.tar');
  for (const names of [['no-such-image-here:1'], [`${repo}:1`, 'no-such-image-here:1']]) {
    const r = await docker('save', '-o', file, ...names);
    assert.equal(r.code, 1, names.join(' '));
    assert.equal(r.stderr, 'Error response from daemon: No such image: no-such-image-here:1\n');
  }
  // (It once took the daemon down: the refusal came from a promise nobody awaited.)
  assert.equal((await docker('version', '--format', '{{.Server.Os}}')).stdout.trim(), 'linux');
});

test('save, rmi, load round-trip; the archive loads into real Docker and Podman', { skip }, async () => {
  const file = join(dir, 'saved.tar');
  const s = await docker('save', '-o', file, `${repo}:1`);
  assert.equal(s.code, 0, s.stderr);
  const names = execFileSync('tar', ['-tf', file]).toString().split('\n');
  for (const n of ['manifest.json', 'index.json', 'oci-layout']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
  const rm = await docker('rmi', `${repo}:1`);
  assert.equal(rm.code, 0, rm.stderr);
  const l = await dockerCli(env, ['load', '-i', file]);
  assert.equal(l.code, 0, l.stderr);
  assert.match(l.stdout, new RegExp(`Loaded image: ${repo.replace(/[.]/g, '\\.')}:1`));
  const insp = await docker('image', 'inspect', '--format', '{{.Id}}', `${repo}:1`);
  assert.equal(insp.stdout.trim(), imageId);

  // Real Docker (if its daemon is up), then Podman.
  const tag = `berth-interop-${process.pid}:save`;
  const tagged = await docker('tag', `${repo}:1`, tag);
  assert.equal(tagged.code, 0);
  const file2 = join(dir, 'saved2.tar');
  assert.equal((await docker('save', '-o', file2, tag)).code, 0);
  if (existsSync('/var/run/docker.sock') && existsSync('/usr/bin/docker')) {
    const real = { DOCKER_HOST: 'unix:///var/run/docker.sock', DOCKER_CONFIG: join(dir, 'docker-config') };
    const ping = await dockerCli(real, ['version', '--format', '{{.Server.Version}}'], undefined, '/usr/bin/docker');
    if (ping.code === 0) {
      const rl = await dockerCli(real, ['load', '-i', file2], undefined, '/usr/bin/docker');
      assert.equal(rl.code, 0, rl.stderr);
      assert.match(rl.stdout, new RegExp(`Loaded image: ${tag}`));
      const ri = await dockerCli(real, ['image', 'inspect', '--format', '{{.Id}}', tag], undefined, '/usr/bin/docker');
      assert.equal(ri.stdout.trim(), imageId);
      await dockerCli(real, ['rmi', tag], undefined, '/usr/bin/docker');
    }
  }
  if (existsSync('/usr/bin/podman')) {
    const storage = join(dir, 'podman');
    const pargs = ['--root', join(storage, 'root'), '--runroot', join(storage, 'run'), '--storage-driver', 'vfs'];
    const pl = await dockerCli({}, [...pargs, 'load', '-i', file2], undefined, '/usr/bin/podman');
    assert.equal(pl.code, 0, pl.stderr);
    const pi = await dockerCli({}, [...pargs, 'images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], undefined, '/usr/bin/podman');
    assert.equal(pi.code, 0, pi.stderr);
    assert.match(pi.stdout, new RegExp(`docker\\.io/library/${tag} (sha256:)?${imageId.slice(7)}`));
    await dockerCli({}, [...pargs, 'rmi', '-a', '-f'], undefined, '/usr/bin/podman');
  }
  void readFileSync;
});

test('two-layer image: load, push, rmi, pull (layers in parallel, unpacked in order)', { skip }, async () => {
  const tag = `${registry!.host}/berth-test/two:1`;
  const { file, diffIds } = makeTwoLayerArchive(dir, tag);
  const l = await docker('load', '-i', file);
  assert.equal(l.code, 0, l.stderr);
  const push = await docker('push', tag);
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await docker('rmi', tag)).code, 0);
  const pull = await docker('pull', tag);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal(pull.stdout.split('\n').filter((x) => x.endsWith(': Pull complete')).length, 2, pull.stdout);
  const insp = await docker('image', 'inspect', '--format', '{{json .RootFS.Layers}}', tag);
  assert.deepEqual(JSON.parse(insp.stdout), diffIds);
  const hist = await docker('history', '--format', '{{.CreatedBy}}', tag);
  assert.deepEqual(hist.stdout.trim().split('\n'), ['second', 'base']);
});

test('pull --all-tags fetches every tag of a repository (tags/list)', { skip }, async () => {
  const all = `${registry!.host}/berth-test/alltags`;
  for (const t of ['x1', 'x2', 'x3']) {
    assert.equal((await docker('tag', `${repo}:1`, `${all}:${t}`)).code, 0);
    const p = await docker('push', '-q', `${all}:${t}`);
    assert.equal(p.code, 0, p.stderr);
  }
  assert.equal((await docker('rmi', `${all}:x1`, `${all}:x2`, `${all}:x3`)).code, 0);
  const pull = await docker('pull', '-a', all);
  assert.equal(pull.code, 0, pull.stderr);
  for (const t of ['x1', 'x2', 'x3']) assert.match(pull.stdout, new RegExp(`^${t}: Pulling from `, 'm'), pull.stdout);
  assert.equal(pull.stdout.split('\n').filter((l) => l.startsWith('Status: ')).length, 1, pull.stdout);
  const ls = await docker('images', all, '--format', '{{.Tag}}');
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['x1', 'x2', 'x3']);
  const tagged = await docker('pull', '-a', `${all}:x1`);
  assert.notEqual(tagged.code, 0);
  assert.match(tagged.stderr, /tag can't be used with --all-tags\/-a/);
});

test('image sizes count file contents as Docker does (not tar headers)', { skip }, async () => {
  const src = join(dir, 'sized');
  mkdirSync(join(src, 'd'), { recursive: true });
  writeFileSync(join(src, 'five'), 'hello');
  writeFileSync(join(src, 'd', 'seven'), '1234567');
  const tarBuf = execFileSync('tar', ['-C', src, '-c', '.']);
  const imp = await dockerCli(env, ['import', '-', 'berth-local/sized:1'], tarBuf);
  assert.equal(imp.code, 0, imp.stderr);
  const ls = await docker('images', 'berth-local/sized:1', '--format', '{{.Size}}');
  assert.equal(ls.stdout.trim(), '12B');
  const ins = await docker('image', 'inspect', '-f', '{{.Size}}', 'berth-local/sized:1');
  assert.equal(ins.stdout.trim(), '12');
  const hist = await docker('history', '--format', '{{.Size}}', 'berth-local/sized:1');
  assert.equal(hist.stdout.trim(), '12B');
  assert.equal((await docker('rmi', 'berth-local/sized:1')).code, 0);
});
