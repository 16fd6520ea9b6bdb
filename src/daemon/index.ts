// `berth daemon`: lock the root, build the engine, serve the API on every --host, stop cleanly on
// SIGTERM/SIGINT.
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type http from 'node:http';
import { BerthError } from '../errors/index.js';
import { log, setLogLevel } from '../util/log.js';
import { tuneServerHeap } from '../util/server-heap.js';
import { createEngine, type Engine } from '../engine/index.js';
import { createApiServer, type RouteModule } from '../server/http.js';
import { lockRoot } from './lock.js';
import { trimWhenIdle } from './idle.js';
import { writeFileAtomic } from '../util/fs.js';
import { join } from 'node:path';

export interface DaemonOptions {
  root: string;
  execRoot: string;
  hosts: string[];
  logLevel: string;
  insecureRegistries?: string[];
}

export const DEFAULT_ROOT = '/var/lib/berth';
export const DEFAULT_EXEC_ROOT = '/run/berth';
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** Route modules other areas register (containers, networks, ...) before the daemon starts. */
export const extraRouteModules: RouteModule[] = [];

/** Does something answer on this unix socket? */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** Listen on a unix socket created 0660 before accepting, never following a symlink at the path. */
async function listenUnix(server: http.Server, path: string): Promise<void> {
  await fsp.mkdir(dirname(path), { recursive: true, mode: 0o711 });
  const st = await fsp.lstat(path).catch(() => undefined);
  if (st) {
    if (!st.isSocket()) throw new BerthError('ERR_CONFLICT', `${path} exists and is not a socket; refusing to remove it`);
    if (await socketAnswers(path)) throw new BerthError('ERR_CONFLICT', `${path} is in use by another daemon`);
    await fsp.unlink(path);
  }
  const old = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => { server.off('error', reject); resolve(); });
    });
  } finally {
    process.umask(old);
  }
}

async function listenTcp(server: http.Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
}

export interface RunningDaemon {
  engine: Engine;
  /** Bound addresses (unix paths or host:port). */
  addresses: string[];
  stop(): Promise<void>;
}

/** Start the daemon and return a handle (runDaemon wraps this with signal handling). */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  setLogLevel(opts.logLevel);
  await fsp.mkdir(opts.root, { recursive: true, mode: 0o711 });
  await fsp.mkdir(opts.execRoot, { recursive: true, mode: 0o711 });
  const lock = await lockRoot(opts.root);
  const servers: { server: http.Server; unixPath?: string }[] = [];
  const sockets = new Map<http.Server, Set<net.Socket>>();
  let engine: Engine | undefined;
  try {
    engine = await createEngine({ root: opts.root, execRoot: opts.execRoot, insecureRegistries: opts.insecureRegistries });
    const hosts = opts.hosts.length > 0 ? opts.hosts : [DEFAULT_HOST];
    const addresses: string[] = [];
    for (const h of hosts) {
      const { server } = createApiServer(engine, extraRouteModules);
      // Every connection, for stop(): closeAllConnections() does not reach upgraded (attach/exec)
      // sockets, and one left open kept server.close() from ever finishing (seen: a daemon that
      // did not stop on SIGTERM after exec clients had gone away).
      const conns = new Set<net.Socket>();
      server.on('connection', (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); });
      sockets.set(server, conns);
      server.keepAliveTimeout = 60_000;
      server.requestTimeout = 0;
      if (h.startsWith('unix://')) {
        const p = h.slice('unix://'.length);
        if (!p.startsWith('/')) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid host ${h}: unix socket path must be absolute`);
        await listenUnix(server, p);
        servers.push({ server, unixPath: p });
        addresses.push(p);
      } else if (h.startsWith('tcp://')) {
        const u = new URL(h.replace(/^tcp:/, 'http:'));
        const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
        await listenTcp(server, host, Number(u.port || 2375));
        servers.push({ server });
        const a = server.address() as net.AddressInfo;
        addresses.push(`${a.address}:${a.port}`);
      } else {
        throw new BerthError('ERR_INVALID_ARGUMENT', `invalid host ${h}: use unix:///path or tcp://host:port`);
      }
      log.info('API listening', { host: h });
    }
    const eng = engine;
    const idle = trimWhenIdle(servers.map((s) => s.server));
    let stopped: Promise<void> | undefined;
    return {
      engine: eng,
      addresses,
      stop: () => (stopped ??= (async () => {
        idle.stop();
        for (const s of servers) {
          await new Promise<void>((r) => {
            s.server.close(() => r());
            s.server.closeAllConnections();
            for (const c of sockets.get(s.server) ?? []) c.destroy();
          });
          if (s.unixPath) await fsp.rm(s.unixPath, { force: true }).catch(() => {});
        }
        await eng.close();
        await lock.release();
        log.info('daemon stopped');
      })()),
    };
  } catch (e) {
    for (const s of servers) { s.server.close(); s.server.closeAllConnections(); if (s.unixPath) await fsp.rm(s.unixPath, { force: true }).catch(() => {}); }
    await engine?.close();
    await lock.release();
    throw e;
  }
}

/** Run until SIGTERM/SIGINT, then shut down cleanly. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  tuneServerHeap();
  // A promise nobody awaited that failed is a bug in one request's work, not in the daemon's state:
  // log it loudly and keep serving (node would otherwise exit, taking every API client with it;
  // seen once: `docker save` of a missing image).
  process.on('unhandledRejection', (e) => {
    log.error('unhandled rejection (a bug: please report it)', { err: String(e), stack: (e as Error | undefined)?.stack });
  });
  const d = await startDaemon(opts);
  // The pid file lets scripts (and the demo) stop a daemon the CLI started in the background.
  const pidFile = join(opts.execRoot, 'berth.pid');
  await writeFileAtomic(pidFile, `${process.pid}\n`);
  log.info('berth daemon started', { root: opts.root, pid: process.pid });
  await new Promise<void>((resolve) => {
    const onSig = (sig: string) => {
      log.info(`received ${sig}, shutting down`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = () => onSig('SIGTERM');
    const onInt = () => onSig('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await d.stop();
  await fsp.rm(pidFile, { force: true });
}
