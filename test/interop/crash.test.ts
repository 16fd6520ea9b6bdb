// kill -9 of the daemon in the middle of a pull: after restart the store is consistent (no
// half image visible) and the same pull completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry } from '../helpers/registry.js';
import { busyboxPath, dockerCliMissing, dockerCli, makeRootfsTar } from './fixtures.js';

const skip = dockerCliMissing();
let dir: string;
let daemon: TestDaemon | undefined;
let registry: { host: string; stop(): Promise<void> } | undefined;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-crash-'));
  registry = await startRegistry();
  daemon = await startDaemon();
});
after(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function api(socket: string, method: string, path: string, onLine?: (m: Record<string, unknown>) => void): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const r = http.request({ socketPath: socket, method, path }, (res) => {
      let body = '';
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line && onLine) { try { onLine(JSON.parse(line)); } catch { /* partial */ } }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', () => resolve({ status: res.statusCode!, body }));
      res.on('aborted', () => resolve({ status: res.statusCode!, body }));
    });
    // The daemon is killed mid-response: a reset connection is expected here.
    r.on('error', () => resolve({ status: 0, body: '' }));
    r.end();
  });
}

test('kill -9 mid-pull, restart: consistent store, and the pull completes', { skip }, async () => {
  const env = { ...daemon!.env, DOCKER_CONFIG: join(dir, 'cfg') };
  const repo = `${registry!.host}/crash/big`;
  const tar = makeRootfsTar(dir, 'big', 48 << 20);
  assert.equal((await dockerCli(env, ['import', tar, `${repo}:1`])).code, 0);
  const push = await dockerCli(env, ['push', `${repo}:1`]);
  assert.equal(push.code, 0, push.stderr);
  assert.equal((await dockerCli(env, ['rmi', `${repo}:1`])).code, 0);

  let killed: Promise<void> | undefined;
  await api(daemon!.socket, 'POST', `/images/create?fromImage=${encodeURIComponent(repo)}&tag=1`, (m) => {
    if (!killed && m.status === 'Downloading') killed = daemon!.kill9();
  });
  assert.ok(killed, 'the pull was interrupted while downloading');
  await killed;

  await daemon!.restart();
  const ls = await api(daemon!.socket, 'GET', '/images/json');
  assert.deepEqual(JSON.parse(ls.body), [], 'no half-pulled image is visible');
  const leftovers = existsSync(join(daemon!.root, 'tmp')) ? readdirSync(join(daemon!.root, 'tmp')) : [];
  assert.deepEqual(leftovers, []);

  const again = await dockerCli(env, ['pull', `${repo}:1`]);
  assert.equal(again.code, 0, again.stderr + daemon!.logs());
  assert.match(again.stdout, /Downloaded newer image/);
  const insp = await dockerCli(env, ['image', 'inspect', '--format', '{{len .RootFS.Layers}}', `${repo}:1`]);
  assert.equal(insp.stdout.trim(), '1');
  const snaps = readdirSync(join(daemon!.root, 'snapshots')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  assert.equal(snaps.length, 1);
});
