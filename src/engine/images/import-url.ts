// `docker import URL` (POST /images/create?fromSrc=URL): fetch the rootfs tar over HTTP(S) and
// hand it to the import with Docker's progress lines ("Downloading from", "Importing"). Failures
// before the first byte are plain API errors, as with Docker: a remote 404 is a 404, a remote
// 400 a 400, anything else (refused connection, other statuses) a 500.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../../errors/index.js';
import { progressBar } from '../../api/progress.js';
import { trustedFetch } from '../../util/tls-trust.js';
import type { Progress } from './service.js';

const ERROR_BODY_CAP = 4096;

export interface UrlSource {
  url: string;
  body: Readable;
  /** Content-Length, 0 when unknown */
  total: number;
}

/** Resolves `fromSrc` (a URL, or host/path meaning http://host/path) and opens it. */
export async function openUrlSource(fromSrc: string): Promise<UrlSource> {
  let u: URL;
  try { u = new URL(fromSrc.includes('://') ? fromSrc : `http://${fromSrc}`); } catch {
    throw new BerthError('ERR_INVALID_ARGUMENT', `invalid import source: ${fromSrc}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BerthError('ERR_INVALID_ARGUMENT', `invalid import source: ${fromSrc}`);
  const url = u.toString();
  let resp: Response;
  try { resp = await trustedFetch(u); } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause;
    throw new BerthError('ERR_INTERNAL', `Get "${url}": ${cause?.message ?? (e as Error).message}`, { cause: e });
  }
  if (resp.status >= 400 || !resp.body) {
    const text = (await readCapped(resp)).trim();
    const msg = `failed to GET ${url} with status ${resp.status} ${resp.statusText}${text ? `: ${text}` : ''}`;
    throw new BerthError(resp.status === 404 ? 'ERR_NOT_FOUND' : resp.status === 400 ? 'ERR_INVALID_ARGUMENT' : 'ERR_INTERNAL', msg);
  }
  const total = Number(resp.headers.get('content-length') ?? 0);
  return { url, body: Readable.fromWeb(resp.body as import('node:stream/web').ReadableStream), total: Number.isSafeInteger(total) && total > 0 ? total : 0 };
}

async function readCapped(resp: Response): Promise<string> {
  if (!resp.body) return '';
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of resp.body as unknown as AsyncIterable<Uint8Array>) {
      parts.push(Buffer.from(c));
      n += c.length;
      if (n >= ERROR_BODY_CAP) break;
    }
  } catch { /* the status says enough */ }
  return Buffer.concat(parts).subarray(0, ERROR_BODY_CAP).toString('utf8');
}

/** Passes the body through while reporting "Importing" progress at most every 100 ms (and at the end). */
export function importProgress(src: UrlSource, progress: Progress): Readable {
  let n = 0;
  let last = 0;
  const report = () => progress({
    status: 'Importing',
    progressDetail: src.total ? { current: n, total: src.total } : { current: n },
    progress: progressBar(n, src.total || undefined),
  });
  const t = new Transform({
    highWaterMark: 1 << 20,
    transform(c: Buffer, _e, cb: TransformCallback) {
      n += c.length;
      const now = Date.now();
      if (now - last > 100) { last = now; report(); }
      cb(null, c);
    },
    flush(cb) { report(); cb(); },
  });
  src.body.on('error', (e) => t.destroy(e));
  return src.body.pipe(t);
}
