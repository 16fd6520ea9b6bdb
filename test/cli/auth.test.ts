// Credentials in the docker config file and through a docker credential helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupAuth, storeAuth, eraseAuth, serverKey, domainOfReference, INDEX_SERVER } from '../../src/cli/auth.js';

test('reference domains and config keys', () => {
  assert.equal(domainOfReference('busybox'), 'docker.io');
  assert.equal(domainOfReference('library/busybox:1'), 'docker.io');
  assert.equal(domainOfReference('localhost:5000/x'), 'localhost:5000');
  assert.equal(domainOfReference('localhost/x'), 'localhost');
  assert.equal(domainOfReference('ghcr.io/a/b'), 'ghcr.io');
  assert.equal(serverKey('docker.io'), INDEX_SERVER);
  assert.equal(serverKey('https://index.docker.io/v1/'), INDEX_SERVER);
  assert.equal(serverKey('https://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
});

test('store, look up and erase credentials in config.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: {}, psFormat: 'keep-me' }));
  assert.equal(await lookupAuth(dir, '127.0.0.1:5000'), undefined);
  await storeAuth(dir, '127.0.0.1:5000', { username: 'u', password: 'p:w' });
  await storeAuth(dir, INDEX_SERVER, { username: 'hub', identitytoken: 'tok' });
  const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.psFormat, 'keep-me');
  assert.equal(Buffer.from(cfg.auths['127.0.0.1:5000'].auth, 'base64').toString(), 'u:p:w');
  assert.deepEqual(await lookupAuth(dir, '127.0.0.1:5000'), { serveraddress: '127.0.0.1:5000', username: 'u', password: 'p:w' });
  assert.deepEqual(await lookupAuth(dir, 'docker.io'), { serveraddress: INDEX_SERVER, username: 'hub', identitytoken: 'tok' });
  assert.equal(await eraseAuth(dir, '127.0.0.1:5000'), true);
  assert.equal(await eraseAuth(dir, '127.0.0.1:5000'), false);
  assert.equal(await lookupAuth(dir, '127.0.0.1:5000'), undefined);
});

test('credential helpers are used when configured', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-auth-helper-'));
  const oldPath = process.env.PATH;
  t.after(async () => { process.env.PATH = oldPath; await rm(dir, { recursive: true, force: true }); });
  // A real helper executable speaking the docker-credential protocol, storing into a file.
  const store = join(dir, 'store.json');
  const helper = join(dir, 'docker-credential-berthtest');
  await writeFile(helper, `#!/bin/sh
set -e
input=$(cat)
case "$1" in
  store) printf '%s' "$input" > ${store} ;;
  get) if [ -f ${store} ]; then cat ${store}; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) rm -f ${store} ;;
esac
`);
  await chmod(helper, 0o755);
  process.env.PATH = `${dir}:${oldPath}`;
  await writeFile(join(dir, 'config.json'), JSON.stringify({ credsStore: 'berthtest' }));
  assert.equal(await lookupAuth(dir, 'registry.example:5000'), undefined);
  await storeAuth(dir, 'registry.example:5000', { username: 'alice', password: 'pw' });
  assert.deepEqual(JSON.parse(await readFile(store, 'utf8')), { ServerURL: 'registry.example:5000', Username: 'alice', Secret: 'pw' });
  assert.deepEqual(await lookupAuth(dir, 'registry.example:5000'), { username: 'alice', password: 'pw', serveraddress: 'registry.example:5000' });
  assert.equal(await eraseAuth(dir, 'registry.example:5000'), true);
  assert.equal(await lookupAuth(dir, 'registry.example:5000'), undefined);
});
