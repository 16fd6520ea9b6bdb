// The HTTP layer over an engine whose store parts are inert stubs: routing, versions, headers,
// error mapping, CSRF rule, ping and events.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { createApiServer } from '../../src/server/http.js';
import type { ContentStoreLike, SnapshotterLike } from '../../src/engine/images/deps.js';

const none = async () => { throw new Error('not available in this test'); };
const content: ContentStoreLike = {
  init: async () => {}, has: async () => false, size: async () => 0, path: () => '/nonexistent',
  createReadStream: () => Readable.from([]), readBuffer: none, writeBuffer: none, ingest: none, delete: async () => {}, list: async () => [],
};
const snapshots: SnapshotterLike = {
  init: async () => {}, has: async () => false, path: (c) => `/nonexistent/${c}`, apply: none, remove: async () => {}, list: async () => [],
};

let dir: string;
let engine: Engine;
let server: http.Server;
let sock: string;
const sock_ = () => sock;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-server-'));
  engine = await createEngine({ root: join(dir, 'root'), execRoot: join(dir, 'exec'), content, snapshots, registry: () => { throw new Error('no registry'); } });
  server = createApiServer(engine, [(r) => r.post('/test/echo', (ctx) => {
    // An echo over a hijacked connection, the way attach/exec use it.
    const sock = ctx.hijack();
    sock.on('data', (d: Buffer) => sock.write(d));
    sock.on('end', () => sock.end('bye'));
  })]).server;
  sock = join(dir, 'api.sock');
  await new Promise<void>((r) => server.listen(sock, r));
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function req(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: sock, method, path, headers }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

test('/_ping GET and HEAD, versioned and not, with Docker headers', async () => {
  for (const p of ['/_ping', '/v1.41/_ping', '/v1.51/_ping']) {
    const g = await req('GET', p);
    assert.equal(g.status, 200);
    assert.equal(g.body, 'OK');
    assert.equal(g.headers['api-version'], '1.47');
    assert.equal(g.headers['ostype'], 'linux');
    assert.equal(g.headers['docker-experimental'], 'false');
    assert.equal(g.headers['swarm'], 'inactive');
    assert.equal(g.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    assert.equal(g.headers['pragma'], 'no-cache');
    assert.ok(g.headers['builder-version']);
    assert.match(String(g.headers['server']), /^Docker\//);
  }
  const h = await req('HEAD', '/_ping');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
});

test('version bounds: too old / too new are 400 with moby wording', async () => {
  const old = await req('GET', '/v1.12/version');
  assert.equal(old.status, 400);
  assert.match(JSON.parse(old.body).message, /client version 1\.12 is too old\. Minimum supported API version is 1\.24/);
  const nw = await req('GET', '/v1.99/version');
  assert.equal(nw.status, 400);
  assert.match(JSON.parse(nw.body).message, /too new\. Maximum supported API version is/);
  const ok = await req('GET', '/v1.24/version');
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).ApiVersion, '1.47');
});

test('unknown paths are 404 page not found with exact JSON content type', async () => {
  const r = await req('GET', '/v1.47/nope/nothing');
  assert.equal(r.status, 404);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(r.body), { message: 'page not found' });
  assert.equal(r.headers['api-version'], '1.47');
});

test('image errors map to Docker statuses and words; greedy names in paths', async () => {
  const r = await req('GET', '/images/localhost:5000/a/b:1/json');
  assert.equal(r.status, 404);
  assert.deepEqual(JSON.parse(r.body), { message: 'No such image: localhost:5000/a/b:1' });
  const d = await req('DELETE', '/v1.47/images/nosuch');
  assert.equal(d.status, 404);
  assert.equal(JSON.parse(d.body).message, 'No such image: nosuch:latest');
  const p = await req('GET', '/plugins/foo/json');
  assert.equal(p.status, 404);
  const l = await req('GET', '/images/json?filters=' + encodeURIComponent('{"bogus":["x"]}'));
  assert.equal(l.status, 400);
  const empty = await req('GET', '/images/json?filters=' + encodeURIComponent('{"dangling":{"true":true}}'));
  assert.equal(empty.status, 200);
  assert.deepEqual(JSON.parse(empty.body), []);
});

test('JSON bodies must be JSON (CSRF rule)', async () => {
  const r = await req('POST', '/auth', '{"username":"a"}', { 'Content-Type': 'text/plain' });
  assert.equal(r.status, 400);
  assert.match(JSON.parse(r.body).message, /unsupported Content-Type header \(text\/plain\): must be 'application\/json'/);
});

test('/info, /system/df, /version shapes', async () => {
  const info = JSON.parse((await req('GET', '/info')).body);
  assert.equal(info.OSType, 'linux');
  assert.equal(info.Swarm.LocalNodeState, 'inactive');
  const df = JSON.parse((await req('GET', '/system/df')).body);
  assert.deepEqual(df.Images, []);
  assert.equal(df.LayersSize, 0);
});

test('/events streams published events (with legacy fields) and honours filters and until', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  engine.events.publish('image', 'tag', 'sha256:abc', { name: 'x:1' });
  engine.events.publish('container', 'start', 'c1', { image: 'x:1' });
  const until = (Date.now() / 1000 + 0.3).toFixed(3);
  const r = await req('GET', `/events?since=${since}&until=${until}&filters=` + encodeURIComponent('{"type":["image"]}'));
  assert.equal(r.status, 200);
  const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].Type, 'image');
  assert.equal(lines[0].Action, 'tag');
  assert.equal(lines[0].status, 'tag');
  assert.equal(lines[0].id, 'sha256:abc');
  assert.ok(lines[0].timeNano > 0);
});

test('Upgrade requests can be answered normally (hijack facility falls back to plain errors)', async () => {
  const r = await req('POST', '/v1.47/containers/x/attach?stream=1', '', { Connection: 'Upgrade', Upgrade: 'tcp' });
  assert.equal(r.status, 404);
});

test('hijack: Upgrade → 101 UPGRADED, raw bytes both ways, half-close keeps the write side', async () => {
  const sock = net.connect(sock_());
  let got = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => { got += d; if (got.includes('\r\n\r\n') && !got.includes('ping')) sock.end('ping'); });
  sock.write('POST /v1.47/test/echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
  await new Promise<void>((r) => sock.on('close', () => r()));
  assert.match(got, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  assert.match(got, /Upgrade: tcp\r\n/);
  assert.ok(got.endsWith('pingbye'), got);
});
