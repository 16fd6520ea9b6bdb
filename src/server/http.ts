// The Docker Engine API server: node:http, versioned and unversioned paths, common headers, and
// the one place where an error becomes an HTTP response.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, isBerthError, statusOf } from '../errors/index.js';
import { log } from '../util/log.js';
import { API_VERSION, ENGINE_VERSION, MAX_API_VERSION, MIN_API_VERSION, type Engine } from '../engine/index.js';
import { Ctx } from './context.js';
import { Router } from './router.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerImageRoutes } from './routes/images.js';
import { registerContainerRoutes } from './routes/containers.js';
import { registerExecRoutes } from './routes/exec.js';
import { registerNetworkRoutes } from './routes/networks.js';
import { registerVolumeRoutes } from './routes/volumes.js';

export type RouteModule = (r: Router) => void;

function cmpVersion(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

export interface ApiServer {
  server: http.Server;
  router: Router;
}

/** Build the HTTP server. Extra route modules (containers, networks, ...) can be passed in. */
export function createApiServer(engine: Engine, extraRoutes: RouteModule[] = []): ApiServer {
  const router = new Router();
  // Extra modules first: they may define more specific paths.
  for (const m of extraRoutes) m(router);
  registerSystemRoutes(router);
  registerImageRoutes(router);
  registerContainerRoutes(router);
  registerExecRoutes(router);
  registerNetworkRoutes(router);
  registerVolumeRoutes(router);

  const handle = async (req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Duplex; head: Buffer }) => {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Server', `Docker/${ENGINE_VERSION} (linux)`);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    let ctx: Ctx | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let path = url.pathname;
      let version = API_VERSION;
      const vm = /^\/v([0-9.]+)(\/.*)$/.exec(path);
      if (vm) {
        version = vm[1]!;
        path = vm[2]!;
        if (!/^\d+\.\d+$/.test(version)) throw new BerthError('ERR_PAGE_NOT_FOUND', 'page not found');
        if (cmpVersion(version, MIN_API_VERSION) < 0) {
          throw new BerthError('ERR_BAD_API_VERSION', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
        }
        if (cmpVersion(version, MAX_API_VERSION) > 0) {
          throw new BerthError('ERR_BAD_API_VERSION', `client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
        }
      }
      ctx = new Ctx(engine, req, res, version, url, upgrade);
      const hit = router.match(req.method ?? 'GET', path);
      if (!hit) throw new BerthError('ERR_PAGE_NOT_FOUND', 'page not found');
      ctx.params = hit.params;
      log.debug('api', { method: req.method, path: url.pathname });
      const t0 = performance.now();
      await hit.handler(ctx);
      log.debug('api done', { method: req.method, path: url.pathname, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      if (!upgrade && !res.headersSent) await drainBody(req);
      writeError(res, e, ctx);
    }
  };

  const server = http.createServer({ allowHalfOpen: true } as http.ServerOptions, (req, res) => { void handle(req, res); });
  // Node treats requests carrying Upgrade separately; route them through the same table with a
  // response object bound to the raw socket, so handlers can either reply normally or hijack.
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node leaves an upgraded socket without an 'error' listener: a client gone before a write
    // (EPIPE, ECONNRESET) would then take the daemon down. The socket closes itself on such an
    // error, and the attach/exec relays end on its 'close'.
    socket.on('error', (e: Error) => log.debug('upgraded connection error', { err: e.message }));
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as never);
    res.shouldKeepAlive = false;
    res.on('finish', () => { if (!(socket as { destroyed?: boolean }).destroyed) socket.end(); });
    void handle(req, res, { socket, head });
  });
  server.on('clientError', (err, socket) => {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  return { server, router };
}

/**
 * Read (and drop) what is left of a body the handler refused before the error goes out, up to
 * DRAIN_LIMIT bytes or DRAIN_MS: node closes a connection whose request was not read to its end,
 * and a client still sending (a `cp` into a missing directory) then gets a broken pipe, not the
 * error. Go's clients read the reply while they write; node's cannot once the write fails.
 */
const DRAIN_LIMIT = 4 << 20;
const DRAIN_MS = 2000;
function drainBody(req: IncomingMessage): Promise<void> {
  if (req.complete || req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let n = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (b: Buffer) => { n += b.length; if (n > DRAIN_LIMIT) done(); };
    const timer = setTimeout(done, DRAIN_MS);
    req.on('data', onData).once('end', done).once('error', done).once('close', done);
    req.resume();
  });
}

function writeError(res: ServerResponse, e: unknown, ctx?: Ctx): void {
  const status = statusOf(e);
  const message = isBerthError(e) ? e.message : (e as Error)?.message ?? String(e);
  if (status >= 500) log.warn('request failed', { status, message, stack: isBerthError(e) ? undefined : (e as Error)?.stack });
  if (ctx?.hijacked) {
    ctx.hijacked.end();
    return;
  }
  if (res.headersSent) {
    // A stream already started: report in-band and close.
    if (!res.writableEnded) {
      try { res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n'); } catch { /* socket gone */ }
      res.end();
    }
    return;
  }
  const body = `${JSON.stringify({ message })}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
