// Per-request context handed to route handlers: parsed query, body helpers, JSON/progress
// writers and connection hijacking (HTTP Upgrade → 101) shared by attach/exec.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, statusOf, isBerthError } from '../errors/index.js';
import { encodeProgress, errorMessage, type ProgressMessage } from '../api/progress.js';
import { decodeRegistryAuth, parseBool, parseFilters, type AuthConfig, type Filters } from '../api/query.js';
import type { Engine } from '../engine/index.js';

export const MAX_JSON_BODY = 16 << 20;

export class Ctx {
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  /** Hijacked socket, once taken. */
  hijacked?: Duplex;
  private streaming = false;

  /** Whether the request's API version is `v` or later (what Docker gates parameters on). */
  apiAtLeast(v: string): boolean {
    const [a1, a2] = this.apiVersion.split('.').map(Number) as [number, number];
    const [b1, b2] = v.split('.').map(Number) as [number, number];
    return a1 !== b1 ? a1 > b1 : a2 >= b2;
  }

  constructor(
    readonly engine: Engine,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly apiVersion: string,
    url: URL,
    /** Raw socket and already-read bytes for Upgrade requests. */
    readonly upgrade?: { socket: Duplex; head: Buffer },
  ) {
    this.query = url.searchParams;
  }

  q(name: string): string | undefined { return this.query.get(name) ?? undefined; }

  /**
   * The media type of an attach, exec or logs stream as Docker's daemon gives it: multiplexed
   * without a TTY from API 1.42 on, raw for a TTY and for older clients.
   */
  streamType(tty: boolean): string {
    const [major = 0, minor = 0] = this.apiVersion.split('.').map(Number);
    return !tty && (major > 1 || minor >= 42) ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  }
  bool(name: string): boolean { return parseBool(this.query.get(name)); }
  filters(): Filters { return parseFilters(this.query.get('filters')); }
  registryAuth(): AuthConfig | undefined { return decodeRegistryAuth(this.req.headers['x-registry-auth'] as string | undefined); }

  /** True once a body (stream or JSON) has started going out. */
  get started(): boolean { return this.res.headersSent || this.hijacked !== undefined; }

  json(status: number, body: unknown): void {
    // With a line feed at the end, as Go's JSON encoder writes Docker's replies.
    const text = `${JSON.stringify(body)}\n`;
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  noContent(status = 204): void {
    this.res.writeHead(status);
    this.res.end();
  }

  text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
    this.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  /** Read the request body as JSON; enforces the JSON content type (CSRF rule) and a size bound. */
  async readJson<T>(): Promise<T | undefined> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of this.req) {
      n += (c as Buffer).length;
      if (n > MAX_JSON_BODY) throw new BerthError('ERR_INVALID_ARGUMENT', 'request body too large');
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const ct = this.req.headers['content-type'];
    if (text.trim() === '') return undefined;
    if (!ct || !/^application\/json\s*(;|$)/i.test(ct.trim())) {
      throw new BerthError('ERR_INVALID_ARGUMENT', `unsupported Content-Type header (${ct ?? ''}): must be 'application/json'`);
    }
    try { return JSON.parse(text) as T; } catch (e) {
      // Docker decodes one value and refuses anything after it in these words.
      if (/after JSON/.test((e as Error).message)) throw new BerthError('ERR_INVALID_ARGUMENT', 'unexpected content after JSON');
      throw new BerthError('ERR_INVALID_ARGUMENT', `invalid JSON: ${(e as Error).message}`);
    }
  }

  /**
   * A progress writer: headers go out with the first message (so an error before any output
   * still gets a proper HTTP status), then one JSON object per line, flushed per message.
   */
  progress(): ProgressWriter {
    return new ProgressWriter(this);
  }

  /** @internal */
  beginStream(contentType = 'application/json'): void {
    if (this.streaming) return;
    this.streaming = true;
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
  }

  /**
   * Take over the connection. With Upgrade this answers 101 UPGRADED; without, a bare 200 with the
   * raw stream that ends when the socket closes. Returns the socket for raw bidirectional bytes.
   */
  hijack(contentType = 'application/vnd.docker.raw-stream'): Duplex {
    if (this.hijacked) return this.hijacked;
    let socket: Duplex;
    if (this.upgrade) {
      socket = this.upgrade.socket;
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${commonHeaderLines(this.res)}\r\n`);
      if (this.upgrade.head.length > 0) socket.unshift(this.upgrade.head);
    } else {
      socket = this.req.socket;
      // (A client gone mid-stream is an 'error' here too; the socket closes itself after it.)
      if (socket.listenerCount('error') === 0) socket.on('error', () => {});
      // Detach from the HTTP machinery so node writes nothing more on this socket.
      (this.res as unknown as { detachSocket(s: unknown): void }).detachSocket(socket);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n${commonHeaderLines(this.res)}\r\n`);
    }
    this.hijacked = socket;
    return socket;
  }

  /**
   * Fail a request that would have been hijacked (attach) as Docker does: a bare status line,
   * the raw-stream content type and the message as text, then the connection closes.
   */
  failHijack(e: BerthError): void {
    const socket = this.upgrade ? this.upgrade.socket : this.req.socket;
    if (!this.upgrade) (this.res as unknown as { detachSocket(s: unknown): void }).detachSocket(socket);
    this.hijacked = socket;
    socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n${e.message}\r\n`);
  }
}

function commonHeaderLines(res: ServerResponse): string {
  let s = '';
  for (const k of ['Api-Version', 'Server', 'Ostype', 'Docker-Experimental']) {
    const v = res.getHeader(k);
    if (v !== undefined) s += `${k}: ${String(v)}\r\n`;
  }
  return s;
}

export class ProgressWriter {
  private closed = false;
  constructor(private ctx: Ctx) {
    ctx.res.on('close', () => { this.closed = true; });
  }
  get started(): boolean { return this.ctx.res.headersSent; }
  /** True if the client went away. */
  get aborted(): boolean { return this.closed && !this.ctx.res.writableFinished; }
  write = (m: ProgressMessage): void => {
    if (this.closed || this.ctx.res.writableEnded) return;
    this.ctx.beginStream();
    this.ctx.res.write(encodeProgress(m));
  };
  /** Report an error: in-stream once output started, else rethrow for a normal status. */
  fail(e: unknown): void {
    if (!this.started) throw e;
    const msg = isBerthError(e) ? e.message : (e as Error)?.message ?? String(e);
    this.write(errorMessage(msg));
  }
  end(): void {
    if (!this.started) this.ctx.beginStream();
    if (!this.ctx.res.writableEnded) this.ctx.res.end();
  }
}

export { statusOf };
