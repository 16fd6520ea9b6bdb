// HTTP/1.1 requests to the daemon over one net.Socket each, written and parsed here. Why not
// node:http: loading it and its first request cost every CLI command 7-11 ms (the CLI bundle, `ps`
// and `run`, 31 interleaved runs: 54.0 → 46.7 ms and 126.8 → 115.6 ms), of a command that is
// otherwise ~20 ms of our own work on top of node's start. The daemon side is node:http (or
// Docker's Go server); this side needs only what the Engine API uses: one request per connection
// (`Connection: close`), bodies by Content-Length or chunked, responses framed by Content-Length,
// chunked encoding or the close, with backpressure both ways.
import net from 'node:net';
import { Readable, Writable, pipeline } from 'node:stream';

export interface WireEndpoint {
  socketPath?: string;
  hostname?: string;
  port?: number;
}

export interface WireRequest {
  method: string;
  /** Path with its query string. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

/** The response head, and the body as a byte stream. */
export interface WireResponse extends Readable {
  statusCode: number;
  statusMessage: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** True once the whole body was read (as IncomingMessage.complete). */
  complete: boolean;
}

const MAX_HEAD = 64 * 1024;

function codedError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  return reason instanceof Error && reason.name === 'AbortError' ? reason : Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** The request head. A body of known size gets Content-Length; a stream goes chunked. */
function requestHead(r: WireRequest): string {
  // As node:http: a path must come escaped (no spaces, controls or characters past latin-1).
  if (/[^\u0021-\u00ff]/.test(r.path)) throw codedError('ERR_UNESCAPED_CHARACTERS', 'Request path contains unescaped characters');
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(r.headers)) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw codedError('ERR_INVALID_CHAR', `invalid character in header ${JSON.stringify(k)}`);
    head += `${k}: ${v}\r\n`;
  }
  const has = (name: string) => Object.keys(r.headers).some((k) => k.toLowerCase() === name);
  if (r.body instanceof Readable) head += 'Transfer-Encoding: chunked\r\n';
  else if (r.body !== undefined) { if (!has('content-length')) head += `Content-Length: ${Buffer.byteLength(r.body)}\r\n`; }
  else if (r.method !== 'GET' && r.method !== 'HEAD') head += 'Content-Length: 0\r\n';
  return `${head}Connection: close\r\n\r\n`;
}

/** A Writable that frames what it is given as HTTP chunks onto the socket (backpressure kept). */
function chunkedInto(sock: net.Socket): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (chunk.length === 0) { cb(); return; }
      sock.write(`${chunk.length.toString(16)}\r\n`);
      sock.write(chunk);
      sock.write('\r\n', cb);
    },
    final(cb) { sock.write('0\r\n\r\n', cb); },
  });
}

type Framing = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/**
 * Decodes a chunked body: push() gets the payload bytes; returns true once the last chunk and the
 * trailers are through.
 */
class ChunkedDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private left = 0;
  private state: 'size' | 'data' | 'data-end' | 'trailers' | 'done' = 'size';

  constructor(private readonly push: (b: Buffer) => void) {}

  feed(d: Buffer): boolean {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.state === 'done') return true;
      if (this.state === 'data') {
        if (this.buf.length === 0) return false;
        const n = Math.min(this.left, this.buf.length);
        this.push(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.left -= n;
        if (this.left === 0) this.state = 'data-end';
        continue;
      }
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) {
        if (this.buf.length > MAX_HEAD) throw codedError('HPE_CHUNK', 'chunk header too long');
        return false;
      }
      const line = this.buf.subarray(0, eol).toString('latin1');
      this.buf = this.buf.subarray(eol + 2);
      if (this.state === 'data-end') {
        if (line !== '') throw codedError('HPE_CHUNK', 'missing CRLF after chunk data');
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = /^([0-9a-fA-F]+)[ \t]*(;.*)?$/.exec(line);
        if (!size || size[1]!.length > 12) throw codedError('HPE_CHUNK', `invalid chunk size ${JSON.stringify(line.slice(0, 20))}`);
        this.left = Number.parseInt(size[1]!, 16);
        this.state = this.left === 0 ? 'trailers' : 'data';
      } else if (line === '') {
        this.state = 'done'; // end of the trailers
      }
    }
  }
}

/** Parse "HTTP/1.1 200 OK\r\nName: value…" (without the blank line). */
function parseHead(text: string): { status: number; message: string; headers: Record<string, string> } {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw codedError('HPE_INVALID_CONSTANT', `invalid HTTP status line ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) throw codedError('HPE_INVALID_HEADER_TOKEN', `invalid header line ${JSON.stringify(line.slice(0, 40))}`);
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  return { status: Number(m[1]), message: m[2] ?? '', headers };
}

/** Send one request; resolves with the response once its head is in (any status). */
export function send(ep: WireEndpoint, r: WireRequest): Promise<WireResponse> {
  return new Promise<WireResponse>((resolve, reject) => {
    if (r.signal?.aborted) { reject(abortError(r.signal)); return; }
    let head: string;
    try { head = requestHead(r); } catch (e) { reject(e); return; }
    const sock = ep.socketPath ? net.connect(ep.socketPath) : net.connect(ep.port ?? 80, ep.hostname);
    let res: WireResponse | undefined;
    let framing: Framing = { kind: 'none' };
    let chunked: ChunkedDecoder | undefined;
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    // False while the first body bytes wait for the caller (below); until then the end and the
    // close wait too, in `late`.
    let primed = false;
    let late: (() => void)[] | undefined;

    const fail = (e: Error) => {
      if (!settled) { settled = true; reject(e); }
      else if (res && !res.complete && !res.destroyed) res.destroy(e);
      sock.destroy();
    };
    const onAbort = () => fail(abortError(r.signal!));
    r.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      r.signal?.removeEventListener('abort', onAbort);
      if (res && !res.complete) { res.complete = true; res.push(null); }
      sock.destroy();
    };

    const body = (d: Buffer) => {
      if (!res || d.length === 0) return;
      if (framing.kind === 'length') {
        const n = Math.min(framing.left, d.length);
        framing.left -= n;
        if (n > 0 && !res.push(d.subarray(0, n))) sock.pause();
        if (framing.left === 0) finish();
      } else if (framing.kind === 'chunked') {
        let more = true;
        if (chunked!.feed(d)) finish();
        else more = res.readableLength < res.readableHighWaterMark;
        if (!more) sock.pause();
      } else if (framing.kind === 'close') {
        if (!res.push(d)) sock.pause();
      }
    };

    sock.on('data', (d: Buffer) => {
      if (res) {
        if (!primed) { pending = Buffer.concat([pending, d]); return; } // kept in order behind the first bytes
        try { body(d); } catch (e) { fail(e as Error); }
        return;
      }
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (pending.length > MAX_HEAD) fail(codedError('HPE_HEADER_OVERFLOW', 'response head too large'));
          return;
        }
        let h;
        try { h = parseHead(pending.subarray(0, end).toString('latin1')); } catch (e) { fail(e as Error); return; }
        pending = pending.subarray(end + 4);
        // 1xx (100 Continue) comes before the real response.
        if (h.status >= 100 && h.status < 200) continue;
        const stream = new Readable({
          read() { if (primed) sock.resume(); },
          destroy(err, cb) { sock.destroy(); cb(err); },
        }) as WireResponse;
        // An error must not be thrown at the process when nobody listens (a CLI that stopped
        // reading a stream it no longer needs); readers still see it, later ones through `errored`.
        stream.on('error', () => {});
        stream.statusCode = h.status;
        stream.statusMessage = h.message;
        stream.headers = h.headers;
        stream.complete = false;
        res = stream;
        const te = h.headers['transfer-encoding'];
        const cl = h.headers['content-length'];
        if (r.method === 'HEAD' || h.status === 204 || h.status === 304) framing = { kind: 'length', left: 0 };
        else if (te && /(^|,)\s*chunked\s*$/i.test(te)) { framing = { kind: 'chunked' }; chunked = new ChunkedDecoder((b) => { res!.push(b); }); }
        else if (cl !== undefined) {
          const n = Number(cl);
          if (!/^\d+$/.test(cl.trim()) || !Number.isSafeInteger(n)) { fail(codedError('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length ${JSON.stringify(cl)}`)); return; }
          framing = { kind: 'length', left: n };
        } else framing = { kind: 'close' };
        settled = true;
        resolve(stream);
        if (framing.kind === 'length' && pending.length >= framing.left) {
          // The whole body came with the head (a small JSON reply, usually): nothing can go wrong
          // with it any more, so it is handed on at once.
          primed = true;
          if (framing.left === 0) finish(); else body(pending);
          return;
        }
        // Otherwise the body goes on once the caller has the head and its listeners are on: an
        // error in the first bytes (they came with the head) must reach them. Paused until then,
        // so nothing (more data, the end) overtakes those bytes.
        sock.pause();
        late = [];
        setImmediate(() => {
          primed = true;
          const first = pending;
          const after = late!;
          pending = Buffer.alloc(0);
          late = undefined;
          try { body(first); } catch (e) { fail(e as Error); return; }
          for (const f of after) f();
          if (!stream.destroyed && !stream.complete && stream.readableLength < stream.readableHighWaterMark) sock.resume();
        });
        return;
      }
    });
    const onEnd = () => {
      if (!res) { fail(codedError('ECONNRESET', 'socket hang up')); return; }
      if (framing.kind === 'close') finish();
      else if (!res.complete) fail(codedError('ECONNRESET', 'connection to the daemon closed before the response ended'));
    };
    const onClose = () => {
      r.signal?.removeEventListener('abort', onAbort);
      if (!settled) fail(codedError('ECONNRESET', 'socket hang up'));
      else if (res && !res.complete && !res.destroyed) res.destroy(codedError('ECONNRESET', 'connection to the daemon closed before the response ended'));
    };
    sock.on('end', () => { if (late) late.push(onEnd); else onEnd(); });
    sock.on('close', () => { if (late) late.push(onClose); else onClose(); });
    sock.on('error', (e) => fail(e));

    sock.write(head);
    const b = r.body;
    if (b instanceof Readable) {
      pipeline(b, chunkedInto(sock), (err) => { if (err) fail(err); });
    } else if (b !== undefined && Buffer.byteLength(b) > 0) {
      sock.write(b);
    }
  });
}
