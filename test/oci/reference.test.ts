import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, familiarString, formatReference, withDefaultTag, registryHost, repositoryName } from '../../src/oci/reference.js';
import { isBerthError } from '../../src/errors/index.js';

const D = 'sha256:' + 'a'.repeat(64);

test('docker.io names are normalised as docker does', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('user/app:1'), { domain: 'docker.io', path: 'user/app', tag: '1' });
  assert.deepEqual(parseReference('index.docker.io/busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('docker.io/library/busybox:latest'), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.equal(registryHost(parseReference('busybox').domain), 'registry-1.docker.io');
});

test('registries with ports, localhost and IPs keep their domain', () => {
  assert.deepEqual(parseReference('localhost:5000/a/b:1.0'), { domain: 'localhost:5000', path: 'a/b', tag: '1.0' });
  assert.deepEqual(parseReference('localhost/x'), { domain: 'localhost', path: 'x' });
  assert.deepEqual(parseReference('127.0.0.1:5555/bench/app:1'), { domain: '127.0.0.1:5555', path: 'bench/app', tag: '1' });
  assert.deepEqual(parseReference('[::1]:5000/x'), { domain: '[::1]:5000', path: 'x' });
  assert.equal(repositoryName(parseReference('quay.io/org/x')), 'quay.io/org/x');
});

test('digests and tags together', () => {
  const r = parseReference(`busybox:1@${D}`);
  assert.equal(r.tag, '1');
  assert.equal(r.digest, D);
  assert.equal(formatReference(r), `docker.io/library/busybox:1@${D}`);
  assert.equal(familiarString(r), `busybox:1@${D}`);
});

test('familiar form strips docker.io and library/', () => {
  assert.equal(familiarString(withDefaultTag(parseReference('busybox'))), 'busybox:latest');
  assert.equal(familiarString(parseReference('docker.io/user/x:2')), 'user/x:2');
  assert.equal(familiarString(parseReference('docker.io/library/a/b')), 'library/a/b');
  assert.equal(familiarString(parseReference('localhost:5000/x:1')), 'localhost:5000/x:1');
});

test('default tag is added only without tag or digest', () => {
  assert.equal(withDefaultTag(parseReference('x')).tag, 'latest');
  assert.equal(withDefaultTag(parseReference(`x@${D}`)).tag, undefined);
});

test('invalid references are refused with a coded error', () => {
  for (const bad of ['', 'UPPER', 'a//b', 'a/b:', ':tag', 'a:-x', 'a@sha256:abc', `a@sha256:${'A'.repeat(64)}`, 'a/b:' + 'x'.repeat(129), '-a', 'a_', 'a/../b', 'a b']) {
    assert.throws(() => parseReference(bad), (e: unknown) => isBerthError(e, 'ERR_INVALID_REFERENCE'), bad);
  }
  assert.throws(() => parseReference('a'.repeat(64).replace(/a/g, 'f')), /64-byte hexadecimal/);
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
  assert.throws(() => parseReference('x'.repeat(300)), /255 characters/);
});
