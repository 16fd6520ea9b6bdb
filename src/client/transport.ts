// HTTP transport of the SDK: finds the daemon, sends requests through wire.ts (one connection
// each), turns daemon error bodies into BerthErrors and splits JSON streams.
import type { Readable } from 'node:stream';
import { BerthError, codeForStatus } from '../errors/index.js';
import type { FiltersInput, AuthConfig } from './types.js';
import { send, type WireResponse } from './wire.js';

/** A daemon response: status, headers and the body as a stream. */
export type Response = WireResponse;

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type HostSource = 'option' | 'BERTH_HOST' | 'DOCKER_HOST' | 'default';

/** Which daemon to talk to: explicit host → BERTH_HOST → DOCKER_HOST → the default socket. */
export function resolveHost(host?: string, env: NodeJS.ProcessEnv = process.env): { host: string; source: HostSource } {
  if (host) return { host, source: 'option' };
  if (env.BERTH_HOST) return { host: env.BERTH_HOST, source: 'BERTH_HOST' };
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: 'DOCKER_HOST' };
  return { host: DEFAULT_HOST, source: 'default' };
}

export interface Endpoint {
  socketPath?: string;
  hostname?: string;
  port?: number;
}

/** Parse unix:///path, tcp://host[:port] (http:// accepted too) or a bare absolute socket path. */
export function parseHost(host: string): Endpoint {
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^([a-z]+):\/\/(.*)$/.exec(host);
  if (!m) throw new BerthError('ERR_INVALID_ARGUMENT', `unable to parse docker host \`${host}\``);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid host ${host}: unix socket path must be absolute`);
    return { socketPath: rest };
  }
  if (scheme === 'tcp' || scheme === 'http') {
    const u = new URL(`http://${rest}`);
    if (!u.hostname) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid host ${host}`);
    return { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 2375 };
  }
  throw new BerthError('ERR_INVALID_ARGUMENT', `invalid host ${host}: unsupported protocol '${scheme}'`);
}

/** Encode moby's filters map: {"key":{"value":true}}. */
export function encodeFilters(f: FiltersInput | undefined): string | undefined {
  if (!f) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  const add = (k: string, v: string) => { (out[k] ??= {})[v] = true; };
  if (f instanceof Map) {
    for (const [k, vs] of f) for (const v of vs) add(k, v);
  } else {
    for (const [k, v] of Object.entries(f)) {
      if (v === undefined) continue;
      if (typeof v === 'string') add(k, v);
      else if (Array.isArray(v)) for (const x of v) add(k, x);
      else for (const [x, on] of Object.entries(v)) if (on) add(k, x);
    }
  }
  return Object.keys(out).length === 0 ? undefined : JSON.stringify(out);
}

/** X-Registry-Auth value: URL-safe base64 (padded, as Go's base64.URLEncoding) of the JSON config. */
export function encodeRegistryAuth(a: AuthConfig | string | undefined): string | undefined {
  if (a === undefined) return undefined;
  if (typeof a === 'string') return a;
  return Buffer.from(JSON.stringify(a), 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export type QueryValue = string | number | boolean | undefined | null | readonly string[];

export interface RequestOptions {
  method?: string;
  path: string;
  query?: Record<string, QueryValue>;
  headers?: Record<string, string | undefined>;
  /** JSON-encoded as the body. */
  json?: unknown;
  /** Raw body; streams are piped with backpressure. */
  body?: Buffer | string | Readable;
  signal?: AbortSignal;
}

export function buildQuery(q: Record<string, QueryValue> | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v as readonly string[]) p.append(k, x);
    else if (typeof v === 'boolean') p.append(k, v ? '1' : '0');
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Path segment for an image/container name: keep '/' and ':' (the API's names are greedy). */
export function nameSegment(name: string): string {
  return name.replace(/[?#%\s]/g, (c) => encodeURIComponent(c));
}

/** Facts about a daemon error carried in BerthError.cause. */
export interface DaemonErrorInfo {
  daemon: true;
  status: number;
  /** True when the error came inside a 200 JSON stream (errorDetail), not as an HTTP status. */
  inStream?: boolean;
}

/** HTTP status of an error the daemon reported, or undefined for local errors. */
export function daemonErrorInfo(e: unknown): DaemonErrorInfo | undefined {
  const c = (e as { cause?: unknown } | null)?.cause as Partial<DaemonErrorInfo> | undefined;
  return c && typeof c === 'object' && c.daemon === true ? (c as DaemonErrorInfo) : undefined;
}

/** The body as text (kept up to `limit` bytes). Events, not `for await`: the stream's async
 * iterator costs ~3 ms to set up the first time, on every CLI command's path. */
function readAll(res: Readable, limit = 1 << 20): Promise<string> {
  // Already all here (a small reply comes in one packet with its head): taken at once, without
  // the stream's flowing mode and its ticks (~1.5 ms on the CLI's path).
  if ((res as Partial<Response>).complete) {
    const chunks: Buffer[] = [];
    let n = 0;
    for (let c = res.read() as Buffer | null; c !== null; c = res.read() as Buffer | null) {
      if (n < limit) chunks.push(c);
      n += c.length;
    }
    return Promise.resolve(Buffer.concat(chunks).toString('utf8'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let ended = false;
    res.on('data', (b: Buffer) => {
      if (n < limit) chunks.push(b);
      n += b.length;
    });
    res.once('end', () => { ended = true; resolve(Buffer.concat(chunks).toString('utf8')); });
    res.once('error', reject);
    res.once('close', () => { if (!ended) reject(new BerthError('ERR_INTERNAL', 'connection to the daemon closed before the response ended')); });
  });
}

export class Transport {
  readonly host: string;
  readonly endpoint: Endpoint;

  constructor(host: string) {
    this.host = host;
    this.endpoint = parseHost(host);
  }

  /** Send a request; resolves with the response once headers arrive, rejects on status >= 400. */
  async request(o: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Host: this.endpoint.socketPath ? 'api.moby.localhost' : `${this.endpoint.hostname}:${this.endpoint.port}` };
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = v;
    let body: Buffer | string | Readable | undefined = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['Content-Type'] ??= 'application/json';
    }
    let res: Response;
    try {
      res = await send(this.endpoint, { method: o.method ?? 'GET', path: o.path + buildQuery(o.query), headers, body, signal: o.signal });
    } catch (e) {
      throw this.connectionError(e as NodeJS.ErrnoException);
    }
    if (res.statusCode < 400) return res;
    const text = await readAll(res);
    throw this.errorFromBody(res.statusCode, res.statusMessage, text);
  }

  async json<T>(o: RequestOptions): Promise<T> {
    const res = await this.request(o);
    const text = await readAll(res, Infinity);
    if (text.trim() === '') return undefined as T;
    try { return JSON.parse(text) as T; } catch (e) {
      throw new BerthError('ERR_INTERNAL', `invalid JSON from daemon for ${o.path}: ${(e as Error).message}`);
    }
  }

  /** Send a request and discard the response body. */
  async empty(o: RequestOptions): Promise<Response> {
    const res = await this.request(o);
    await readAll(res, 0);
    return res;
  }

  /** Nothing to release: each request has a connection of its own, closed with its response. */
  close(): void {}

  private errorFromBody(status: number, statusText: string, text: string): BerthError {
    let message = text.trim();
    try {
      const j = JSON.parse(text) as { message?: unknown };
      if (typeof j?.message === 'string') message = j.message;
    } catch { /* plain-text body */ }
    if (!message) message = `${status} ${statusText}`.trim();
    const info: DaemonErrorInfo = { daemon: true, status };
    return new BerthError(codeForStatus(status), message, { cause: info });
  }

  private connectionError(e: NodeJS.ErrnoException): Error {
    if (e.name === 'AbortError') return e;
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'ECONNRESET' || e.code === 'EACCES' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH') {
      const what = e.code === 'EACCES'
        ? `permission denied while trying to connect to the Berth daemon socket at ${this.host}`
        : `Cannot connect to the Berth daemon at ${this.host}. Is the berth daemon running?`;
      return new BerthError('ERR_UNAVAILABLE', what, { cause: e });
    }
    return new BerthError('ERR_UNAVAILABLE', `error during connect: ${e.message}`, { cause: e });
  }
}

/**
 * Split a byte stream of JSON values. Docker streams are usually one object per line (CRLF or LF),
 * but Go's json.Decoder on the other side accepts concatenated objects, so we do too.
 */
export async function* jsonValues<T>(src: AsyncIterable<Buffer | string>, parse: (text: string) => T = JSON.parse): AsyncGenerator<T> {
  let buf = '';
  let depth = 0;
  let inStr = false;
  let esc = false;
  let start = -1;
  let scan = 0;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of src) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (; scan < buf.length; scan++) {
      const c = buf.charCodeAt(scan);
      if (inStr) {
        if (esc) esc = false;
        else if (c === 0x5c) esc = true;
        else if (c === 0x22) inStr = false;
        continue;
      }
      if (c === 0x22) { inStr = true; continue; }
      if (c === 0x7b || c === 0x5b) { if (depth++ === 0) start = scan; continue; }
      if (c === 0x7d || c === 0x5d) {
        if (--depth === 0 && start >= 0) {
          const text = buf.slice(start, scan + 1);
          buf = buf.slice(scan + 1);
          scan = -1;
          start = -1;
          yield parse(text);
        }
      }
    }
    if (depth === 0 && start < 0) { buf = ''; scan = 0; }
  }
  if (buf.trim() !== '' && depth !== 0) throw new BerthError('ERR_INTERNAL', 'truncated JSON stream from daemon');
}
