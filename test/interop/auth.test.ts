// docker login (POST /auth) and push/pull with X-Registry-Auth against a registry with htpasswd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { startRegistry } from '../helpers/registry.js';
import { busyboxPath, dockerCliMissing, dockerCli, makeRootfsTar } from './fixtures.js';

const skip = dockerCliMissing();
let dir: string;
let daemon: TestDaemon | undefined;
let registry: { host: string; stop(): Promise<void> } | undefined;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-auth-'));
  registry = await startRegistry({ htpasswd: { user: 'berth', pass: 's3cret' } });
  daemon = await startDaemon();
});
after(async () => {
  await daemon?.stop();
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('login, push and pull with credentials; wrong password and anonymous pull fail', { skip }, async () => {
  const env = { ...daemon!.env, DOCKER_CONFIG: join(dir, 'cfg') };
  const host = registry!.host;
  const bad = await dockerCli(env, ['login', '-u', 'berth', '--password-stdin', host], Buffer.from('wrong\n'));
  assert.notEqual(bad.code, 0);
  const ok = await dockerCli(env, ['login', '-u', 'berth', '--password-stdin', host], Buffer.from('s3cret\n'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Login Succeeded/);

  const repo = `${host}/private/bb:1`;
  assert.equal((await dockerCli(env, ['import', makeRootfsTar(dir, 'auth'), repo])).code, 0);
  const push = await dockerCli(env, ['push', repo]);
  assert.equal(push.code, 0, push.stderr + push.stdout);
  assert.equal((await dockerCli(env, ['rmi', repo])).code, 0);
  const pull = await dockerCli(env, ['pull', repo]);
  assert.equal(pull.code, 0, pull.stderr);

  // Anonymous (no X-Registry-Auth): 401 before any stream, so clients can ask for credentials.
  // (The docker CLI would then prompt on the terminal, hence a raw request here.)
  const denied = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const r = http.request({ socketPath: daemon!.socket, method: 'POST', path: `/v1.47/images/create?fromImage=${encodeURIComponent(`${host}/private/bb`)}&tag=1` }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    r.on('error', reject);
    r.end();
  });
  assert.equal(denied.status, 401);
  assert.match(JSON.parse(denied.body).message, /no basic auth credentials|unauthorized/i);
});
