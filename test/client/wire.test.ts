// The SDK's HTTP/1.1 client (src/client/wire.ts) against real unix sockets: node:http servers for
// the common shapes, a raw net server for the framings node:http never sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { send, type WireResponse } from '../../src/client/wire.js';

async function withSocket(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-wire-'));
  try { await fn(join(dir, 's.sock')); } finally { await rm(dir, { recursive: true, force: true }); }
}

async function listen(server: net.Server, path: string): Promise<void> {
  await new Promise<void>((r) => server.listen(path, r));
}

function text(res: WireResponse): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (d: Buffer) => parts.push(d));
    res.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.once('error', reject);
    res.once('close', () => reject(res.errored ?? new Error('closed before the end')));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('requests and responses over node:http: bodies by length and chunked, HEAD and 204 without one, headers', async () => {
  await withSocket(async (path) => {
    const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', async () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url!.startsWith('/json')) { res.setHeader('X-Thing', 'a'); res.appendHeader('X-Thing', 'b'); res.end(JSON.stringify({ got: body })); return; }
        if (req.url === '/none') { res.writeHead(204); res.end(); return; }
        if (req.url === '/head') { res.writeHead(200, { 'Content-Length': '5' }); res.end(); return; }
        // Chunked, written in pieces with pauses so the reads split anywhere.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        for (const piece of ['{"a"', ':1}\r\n', '{"b":', '2}']) { res.write(piece); await sleep(5); }
        res.end();
      });
    });
    await listen(server, path);
    try {
      const r1 = await send({ socketPath: path }, { method: 'POST', path: '/json?x=1', headers: { Host: 'h', 'Content-Type': 'application/json' }, body: '{"k":"é"}' });
      assert.equal(r1.statusCode, 200);
      assert.equal(r1.headers['x-thing'], 'a, b', JSON.stringify(r1.headers));
      assert.deepEqual(JSON.parse(await text(r1)), { got: '{"k":"é"}' });
      assert.equal(r1.complete, true);
      assert.equal(seen[0]!.headers['content-length'], String(Buffer.byteLength('{"k":"é"}')));
      assert.equal(seen[0]!.url, '/json?x=1');

      const r2 = await send({ socketPath: path }, { method: 'GET', path: '/chunked', headers: { Host: 'h' } });
      assert.equal(r2.headers['transfer-encoding'], 'chunked');
      assert.equal(await text(r2), '{"a":1}\r\n{"b":2}');

      const r3 = await send({ socketPath: path }, { method: 'POST', path: '/none', headers: { Host: 'h' } });
      assert.deepEqual([r3.statusCode, await text(r3)], [204, '']);
      assert.equal(seen[2]!.headers['content-length'], '0', 'a POST without a body says so');
      const r4 = await send({ socketPath: path }, { method: 'HEAD', path: '/head', headers: { Host: 'h' } });
      assert.deepEqual([r4.statusCode, r4.headers['content-length'], await text(r4)], [200, '5', '']);
    } finally { server.close(); }
  });
});

test('a streamed request body goes chunked and arrives whole; a large response streams with backpressure', async () => {
  await withSocket(async (path) => {
    const big = randomBytes(8 * 1024 * 1024);
    const server = http.createServer((req, res) => {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (d: Buffer) => { h.update(d); n += d.length; });
      req.on('end', () => {
        if (req.url === '/upload') { res.end(JSON.stringify({ te: req.headers['transfer-encoding'], n, sha: h.digest('hex') })); return; }
        res.writeHead(200, { 'Content-Length': String(big.length) });
        res.end(big);
      });
    });
    await listen(server, path);
    try {
      const parts = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + i));
      const up = await send({ socketPath: path }, { method: 'POST', path: '/upload', headers: { Host: 'h' }, body: Readable.from(parts) });
      const got = JSON.parse(await text(up)) as { te: string; n: number; sha: string };
      const all = Buffer.concat(parts);
      assert.deepEqual(got, { te: 'chunked', n: all.length, sha: createHash('sha256').update(all).digest('hex') });

      // Read slowly: the client must not buffer the whole body ahead of the reader.
      const res = await send({ socketPath: path }, { method: 'GET', path: '/big', headers: { Host: 'h' } });
      const h = createHash('sha256');
      let maxBuffered = 0;
      let n = 0;
      for await (const d of res as AsyncIterable<Buffer>) {
        h.update(d);
        n += d.length;
        maxBuffered = Math.max(maxBuffered, res.readableLength);
        if (n % (1 << 20) < d.length) await sleep(2);
      }
      assert.equal(n, big.length);
      assert.equal(h.digest('hex'), createHash('sha256').update(big).digest('hex'));
      assert.ok(maxBuffered < 2 * 1024 * 1024, `buffered ${maxBuffered} bytes ahead of the reader`);
    } finally { server.close(); }
  });
});

test('framings node:http does not send: 100 Continue first, a body ended by the close, chunk extensions and trailers', async () => {
  await withSocket(async (path) => {
    const replies: Record<string, string[]> = {
      '/continue': ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
      '/close': ['HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil', ' the end'],
      '/ext': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r', '\n0\r\nX-Trailer: 1\r\n\r\n'],
      '/bad': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      '/short': ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
      '/garbage': ['SMTP ready\r\n\r\n'],
    };
    const server = net.createServer((s) => {
      let buf = '';
      s.on('data', async (d: Buffer) => {
        buf += d.toString();
        if (!buf.includes('\r\n\r\n')) return;
        const url = buf.split(' ')[1]!;
        for (const part of replies[url] ?? []) { s.write(part); await sleep(10); }
        s.end();
      });
    });
    await listen(server, path);
    const get = (p: string) => send({ socketPath: path }, { method: 'GET', path: p, headers: { Host: 'h' } });
    try {
      const c = await get('/continue');
      assert.deepEqual([c.statusCode, await text(c)], [200, 'ok']);
      assert.equal(await text(await get('/close')), 'until the end');
      assert.equal(await text(await get('/ext')), 'abc');
      await assert.rejects(text(await get('/bad')), /invalid chunk size/);
      await assert.rejects(text(await get('/short')), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
      await assert.rejects(get('/garbage'), /invalid HTTP status line/);
    } finally { server.close(); }
  });
});

test('connection errors, aborts, and header injection are refused', async () => {
  await withSocket(async (path) => {
    await assert.rejects(send({ socketPath: path }, { method: 'GET', path: '/', headers: {} }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    await assert.rejects(send({ socketPath: path }, { method: 'GET', path: '/', headers: { 'X-A': 'b\r\nX-Injected: 1' } }), /invalid character in header/);
    await assert.rejects(send({ socketPath: path }, { method: 'GET', path: '/a b HTTP/1.1\r\nX-Injected: 1', headers: {} }), /unescaped characters/);
    // A server that answers the head and then never finishes: the signal ends the wait and the body.
    const server = http.createServer((req, res) => {
      if (req.url === '/hang') return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"first":1}');
    });
    await listen(server, path);
    try {
      const early = new AbortController();
      const p = send({ socketPath: path }, { method: 'GET', path: '/hang', headers: { Host: 'h' }, signal: early.signal });
      setTimeout(() => early.abort(), 50);
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');

      const late = new AbortController();
      const res = await send({ socketPath: path }, { method: 'GET', path: '/stream', headers: { Host: 'h' }, signal: late.signal });
      const body = text(res);
      setTimeout(() => late.abort(), 50);
      await assert.rejects(body, (e: Error) => e.name === 'AbortError');

      // Destroyed by its reader with no error listener: nothing is thrown at the process.
      const dropped = await send({ socketPath: path }, { method: 'GET', path: '/stream', headers: { Host: 'h' } });
      dropped.destroy(new Error('not wanted'));
      await sleep(20);
      assert.equal(dropped.destroyed, true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
