// Assembles the registry: storage driver, store, auth, metrics, optional upstream, HTTP(S) server.
import http from 'node:http';
import https from 'node:https';
import { FsDriver, type StorageDriver } from './storage.js';
import { RegistryStore } from './store.js';
import { Auth, type AclRule, type TokenOptions } from './auth.js';
import { Metrics } from './metrics.js';
import { Upstream, type ProxyOptions } from './proxy.js';
import { handle, type Ctx } from './routes.js';
import { Lru } from './lru.js';

export interface RegistryOptions {
  /** Storage root (filesystem driver) — ignored when `driver` is given. */
  root: string;
  driver?: StorageDriver;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** htpasswd file (bcrypt entries) for basic auth, and for the token endpoint's logins. */
  htpasswd?: string;
  token?: TokenOptions;
  acl?: AclRule[];
  proxy?: ProxyOptions;
  /** Largest blob upload accepted (default 64 GiB). */
  maxBodyBytes?: number;
  /** Largest manifest accepted (default 4 MiB). */
  maxManifestBytes?: number;
  /** Idle upload sessions are purged after this long (default 1 h). */
  uploadTtlMs?: number;
  readOnly?: boolean;
  /** Open upload sessions allowed at once before POST answers 429 TOOMANYREQUESTS (default 10000). */
  maxUploadSessions?: number;
  /** JSON access-log lines: true → stderr (default), false → none, or a sink. */
  accessLog?: boolean | ((entry: Record<string, unknown>) => void);
}

export interface Registry {
  server: http.Server | https.Server;
  store: RegistryStore;
  /** Resolves once storage is initialised (startup cleanup done); rejects if the root is unusable. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function createRegistry(opts: RegistryOptions): Registry {
  const driver = opts.driver ?? new FsDriver(opts.root);
  const uploadTtlMs = opts.uploadTtlMs ?? 3600_000;
  const maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024 ** 3;
  const store = new RegistryStore(driver, { maxBodyBytes, uploadTtlMs });
  const ready = store.init();
  ready.catch(() => {}); // surfaced per request
  const log = opts.accessLog === false ? undefined
    : typeof opts.accessLog === 'function' ? opts.accessLog
    : (e: Record<string, unknown>) => { process.stderr.write(JSON.stringify(e) + '\n'); };
  const ctx: Ctx = {
    store,
    auth: new Auth({ htpasswd: opts.htpasswd, token: opts.token, acl: opts.acl }),
    metrics: new Metrics(),
    upstream: opts.proxy ? new Upstream(opts.proxy) : undefined,
    maxManifestBytes: opts.maxManifestBytes ?? 4 * 1024 * 1024,
    maxBodyBytes,
    readOnly: opts.readOnly ?? false,
    secure: !!opts.tls,
    log,
    ready,
    proxyFresh: new Lru(10_000, Infinity, 30_000),
    maxUploadSessions: opts.maxUploadSessions ?? 10_000,
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => { void handle(ctx, req, res); };
  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest)
    : http.createServer({ keepAliveTimeout: 65_000 }, onRequest);
  server.requestTimeout = 0; // large uploads may take long; idle sockets are cut by headersTimeout/keepAlive
  const timer = setInterval(() => {
    store.purgeUploads().then((n) => { ctx.metrics.uploadsPurged += n; }, () => {});
  }, Math.max(1000, Math.min(60_000, uploadTtlMs / 4)));
  timer.unref();
  return {
    server,
    store,
    ready,
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        if (!server.listening) { resolve(); return; }
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
