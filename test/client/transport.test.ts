// SDK transport: daemon discovery, auth/filters encoding, JSON stream splitting, error mapping
// (over a real unix socket served by node:http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  connect, resolveHost, parseHost, encodeRegistryAuth, encodeFilters, jsonValues, splitReference, followProgress,
  daemonErrorInfo, isBerthError, DEFAULT_HOST,
} from '../../src/index.js';
import { decodeRegistryAuth, parseFilters } from '../../src/api/query.js';

test('host resolution: option → BERTH_HOST → DOCKER_HOST → default', () => {
  const env = { BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'tcp://127.0.0.1:2375' };
  assert.deepEqual(resolveHost('unix:///x.sock', env), { host: 'unix:///x.sock', source: 'option' });
  assert.deepEqual(resolveHost(undefined, env), { host: 'unix:///b.sock', source: 'BERTH_HOST' });
  assert.deepEqual(resolveHost(undefined, { DOCKER_HOST: env.DOCKER_HOST }), { host: env.DOCKER_HOST, source: 'DOCKER_HOST' });
  assert.deepEqual(resolveHost(undefined, {}), { host: DEFAULT_HOST, source: 'default' });
  assert.equal(DEFAULT_HOST, 'unix:///run/berth/berth.sock');
  assert.equal(connect({ env: {} }).host, DEFAULT_HOST);
  assert.equal(connect({ env: { DOCKER_HOST: 'unix:///d.sock' } }).hostSource, 'DOCKER_HOST');
});

test('parseHost: unix, tcp, bare paths; rejects the rest', () => {
  assert.deepEqual(parseHost('unix:///run/x.sock'), { socketPath: '/run/x.sock' });
  assert.deepEqual(parseHost('/run/x.sock'), { socketPath: '/run/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2376'), { hostname: '127.0.0.1', port: 2376 });
  assert.deepEqual(parseHost('tcp://localhost'), { hostname: 'localhost', port: 2375 });
  assert.deepEqual(parseHost('tcp://[::1]:9'), { hostname: '::1', port: 9 });
  assert.throws(() => parseHost('npipe:////./pipe/x'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => parseHost('unix://relative'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
  assert.throws(() => parseHost('garbage'), (e) => isBerthError(e, 'ERR_INVALID_ARGUMENT'));
});

test('X-Registry-Auth is URL-safe padded base64 JSON that the daemon decodes', () => {
  const a = { username: 'us?er', password: 'p>ss~~~', serveraddress: 'localhost:5000' };
  const enc = encodeRegistryAuth(a)!;
  assert.doesNotMatch(enc, /[+/]/);
  assert.equal(enc.length % 4, 0, 'padded like Go base64.URLEncoding');
  assert.deepEqual(JSON.parse(Buffer.from(enc, 'base64url').toString('utf8')), a);
  assert.deepEqual(decodeRegistryAuth(enc), a);
  assert.equal(encodeRegistryAuth({}), 'e30=');
  assert.equal(encodeRegistryAuth('already'), 'already');
  assert.equal(encodeRegistryAuth(undefined), undefined);
});

test('filters are sent in moby\'s map shape', () => {
  const s = encodeFilters({ reference: ['a', 'b'], dangling: 'true', label: { x: true, y: false }, none: undefined })!;
  assert.deepEqual(JSON.parse(s), { reference: { a: true, b: true }, dangling: { true: true }, label: { x: true } });
  assert.deepEqual([...parseFilters(s).get('reference')!], ['a', 'b']);
  assert.equal(encodeFilters({}), undefined);
  assert.deepEqual(JSON.parse(encodeFilters(new Map([['label', ['k=v']]]))!), { label: { 'k=v': true } });
});

test('jsonValues splits CRLF, LF and concatenated objects across chunk borders', async () => {
  const text = '{"a":1}\r\n{"b":"x}{\\"y"}{"c":[1,{"d":2}]}\n\n[1,2]';
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += 3) chunks.push(Buffer.from(text.slice(i, i + 3)));
  const out: unknown[] = [];
  for await (const v of jsonValues(Readable.from(chunks))) out.push(v);
  assert.deepEqual(out, [{ a: 1 }, { b: 'x}{"y' }, { c: [1, { d: 2 }] }, [1, 2]]);
  // Multi-byte characters split between chunks.
  const euro = Buffer.from('{"s":"€"}');
  const got: unknown[] = [];
  for await (const v of jsonValues(Readable.from([euro.subarray(0, 7), euro.subarray(7)]))) got.push(v);
  assert.deepEqual(got, [{ s: '€' }]);
  await assert.rejects(async () => { for await (const _ of jsonValues(Readable.from(['{"a":']))) { /* drain */ } }, /truncated/);
});

test('splitReference', () => {
  assert.deepEqual(splitReference('busybox'), { name: 'busybox', tag: undefined, digest: undefined });
  assert.deepEqual(splitReference('localhost:5000/a/b:1'), { name: 'localhost:5000/a/b', tag: '1', digest: undefined });
  assert.deepEqual(splitReference('a@sha256:00'), { name: 'a', tag: undefined, digest: 'sha256:00' });
  assert.deepEqual(splitReference('a:1@sha256:00'), { name: 'a', tag: '1', digest: 'sha256:00' });
});

test('daemon error bodies become coded BerthErrors; in-stream errors throw from done()', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-client-'));
  const sock = join(dir, 'api.sock');
  const seen: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/_ping') { res.writeHead(200, { 'Api-Version': '1.47', 'Ostype': 'linux' }); res.end('OK'); return; }
    if (url.pathname === '/images/nope/json') { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end('{"message":"No such image: nope:latest"}'); return; }
    if (url.pathname === '/images/busy/json') { res.writeHead(409, { 'Content-Type': 'text/plain' }); res.end('conflict here\n'); return; }
    if (url.pathname === '/images/create') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from x","id":"1"}\r\n');
      res.end('{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\r\n');
      return;
    }
    res.writeHead(500); res.end('{"message":"unexpected"}');
  });
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); await rm(dir, { recursive: true, force: true }); });

  const c = connect({ host: `unix://${sock}` });
  t.after(() => c.close());
  const ping = await c.ping();
  assert.equal(ping.apiVersion, '1.47');
  assert.equal(c.apiVersion, '1.47');

  await assert.rejects(c.inspectImage('nope'), (e) => {
    assert.ok(isBerthError(e, 'ERR_NOT_FOUND'));
    assert.equal(e.message, 'No such image: nope:latest');
    assert.equal(e.status, 404);
    assert.deepEqual(daemonErrorInfo(e), { daemon: true, status: 404 });
    return true;
  });
  await assert.rejects(c.inspectImage('busy'), (e) => isBerthError(e, 'ERR_CONFLICT') && e.message === 'conflict here');

  const msgs: string[] = [];
  await assert.rejects(c.pull('x:1', { auth: { username: 'u', password: 'p' }, platform: 'linux/amd64' }).done((m) => msgs.push(m.status ?? m.error ?? '')), (e) => {
    assert.ok(isBerthError(e, 'ERR_REGISTRY'));
    assert.equal(e.message, 'manifest unknown');
    assert.equal(daemonErrorInfo(e)?.inStream, true);
    return true;
  });
  assert.deepEqual(msgs, ['Pulling from x', 'manifest unknown']);
  const pullReq = seen.find((r) => r.url!.startsWith('/images/create'))!;
  assert.equal(pullReq.method, 'POST');
  const q = new URL(pullReq.url!, 'http://x').searchParams;
  assert.equal(q.get('fromImage'), 'x');
  assert.equal(q.get('tag'), '1');
  assert.equal(q.get('platform'), 'linux/amd64');
  assert.deepEqual(decodeRegistryAuth(pullReq.headers['x-registry-auth'] as string), { username: 'u', password: 'p' });
  // One connection per request, closed with its response (wire.ts: cheaper than a pool for a CLI).
  assert.equal(new Set(seen.map((r) => r.socket)).size, seen.length);
  assert.ok(seen.every((r) => r.headers.connection === 'close'));

  // followProgress over a plain iterable.
  await assert.rejects(followProgress([{ status: 'a' }, { error: 'bad', errorDetail: { message: 'bad', code: 404 } }]), (e) => isBerthError(e, 'ERR_NOT_FOUND'));
  assert.equal((await followProgress([{ status: 'a' }])).length, 1);
});

test('connection failures are ERR_UNAVAILABLE with docker-like wording', async () => {
  const c = connect({ host: 'unix:///nonexistent/berth.sock' });
  await assert.rejects(c.ping(), (e) => isBerthError(e, 'ERR_UNAVAILABLE') && /Cannot connect to the Berth daemon at unix:\/\/\/nonexistent\/berth.sock/.test(e.message));
  c.close();
});
