// Entry points for `berth registry serve|gc` (the CLI wires its subcommands to these).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { FsDriver } from './storage.js';
import { garbageCollect } from './gc.js';
import { createRegistry, type RegistryOptions } from './server.js';

export { createRegistry, type RegistryOptions, type Registry } from './server.js';
export { FsDriver, type StorageDriver } from './storage.js';
export { garbageCollect, type GcOptions, type GcResult } from './gc.js';

const DEFAULT_ROOT = '/var/lib/berth-registry';

type Flags = Record<string, string | boolean>;
const BOOL = new Set(['dry-run', 'read-only', 'no-access-log', 'insecure-anonymous', 'help']);

function parseFlags(argv: string[]): Flags {
  const f: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const k = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (BOOL.has(k)) { f[k] = eq > 0 ? a.slice(eq + 1) !== 'false' : true; continue; }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new Error(`flag --${k} needs a value`);
    f[k] = v;
  }
  return f;
}

function num(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`invalid ${what}: ${String(v)}`);
  return n;
}

/** Flags override the config file (JSON with the same names as the flags). */
export function buildOptions(argv: string[]): { opts: RegistryOptions; host: string; port: number } {
  const flags = parseFlags(argv);
  let cfg: Record<string, unknown> = {};
  if (typeof flags.config === 'string') cfg = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown>;
  const get = (k: string) => (flags[k] ?? cfg[k]) as string | boolean | undefined;
  const addr = String(get('addr') ?? '127.0.0.1:5000');
  const i = addr.lastIndexOf(':');
  const host = (i > 0 ? addr.slice(0, i) : '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = num(i >= 0 ? addr.slice(i + 1) : addr, 'port')!;
  const opts: RegistryOptions = { root: String(get('root') ?? DEFAULT_ROOT) };
  const cert = get('tls-cert'), key = get('tls-key');
  if (cert || key) {
    if (!cert || !key) throw new Error('--tls-cert and --tls-key go together');
    opts.tls = { cert: readFileSync(String(cert)), key: readFileSync(String(key)) };
  }
  if (get('htpasswd')) opts.htpasswd = String(get('htpasswd'));
  if (get('token-issuer')) {
    const tk = get('token-key');
    opts.token = {
      issuer: String(get('token-issuer')),
      service: get('token-service') ? String(get('token-service')) : undefined,
      realm: get('token-realm') ? String(get('token-realm')) : undefined,
      privateKey: tk ? readFileSync(String(tk), 'utf8') : undefined,
    };
  }
  if (Array.isArray(cfg.acl)) opts.acl = cfg.acl as RegistryOptions['acl'];
  if (get('proxy')) {
    opts.proxy = { url: String(get('proxy')), username: process.env.BERTH_PROXY_USERNAME, password: process.env.BERTH_PROXY_PASSWORD };
  }
  opts.maxBodyBytes = num(get('max-body'), '--max-body');
  const ttl = num(get('upload-ttl'), '--upload-ttl');
  if (ttl !== undefined) opts.uploadTtlMs = ttl * 1000;
  opts.readOnly = get('read-only') === true;
  if (get('no-access-log') === true) opts.accessLog = false;
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  if (!loopback && !opts.htpasswd && !opts.token && get('insecure-anonymous') !== true) {
    throw new Error(`refusing to serve ${addr} without authentication (use --htpasswd or --token-issuer, or --insecure-anonymous)`);
  }
  return { opts, host, port };
}

export async function registryServeCommand(argv: string[]): Promise<number> {
  let built;
  try { built = buildOptions(argv); } catch (e) {
    process.stderr.write(`berth registry serve: ${(e as Error).message}\n`);
    return 2;
  }
  let reg;
  try {
    reg = createRegistry(built.opts);
    await reg.ready;
  } catch (e) {
    process.stderr.write(`berth registry serve: ${(e as Error).message}\n`);
    await reg?.close();
    return 1;
  }
  const server = reg.server;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(built.port, built.host, () => { server.off('error', reject); resolve(); });
    });
  } catch (e) {
    process.stderr.write(`berth registry serve: ${(e as Error).message}\n`);
    await reg.close();
    return 1;
  }
  const a = server.address();
  const where = typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), msg: 'listening', addr: where, root: built.opts.root, tls: !!built.opts.tls }) + '\n');
  await new Promise<void>((resolve) => {
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await reg.close();
  return 0;
}

export async function registryGcCommand(argv: string[]): Promise<number> {
  let flags: Flags;
  try { flags = parseFlags(argv); } catch (e) {
    process.stderr.write(`berth registry gc: ${(e as Error).message}\n`);
    return 2;
  }
  const root = String(flags.root ?? DEFAULT_ROOT);
  const graceS = num(flags.grace ?? '3600', '--grace')!;
  const r = await garbageCollect(new FsDriver(root), {
    dryRun: flags['dry-run'] === true, graceMs: graceS * 1000,
    log: (m) => process.stdout.write(`${flags['dry-run'] ? '[dry-run] ' : ''}${m}\n`),
  });
  process.stdout.write(`${r.repositories} repositories, ${r.markedBlobs} blobs marked, ${r.deletedBlobs.length} blobs and ${r.deletedManifests.length} manifests ${flags['dry-run'] ? 'would be ' : ''}deleted\n`);
  return 0;
}
