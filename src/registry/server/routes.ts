// HTTP handlers for every endpoint of the distribution spec, on node:http directly.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { isBerthError } from '../../errors/index.js';
import { isDigest, type Algorithm } from '../../util/digest.js';
import { regError, sendError } from './errors.js';
import { assertRepoName, assertBlobDigest, parseReference, isRepoName, isTag } from './names.js';
import type { RegistryStore, UploadSession } from './store.js';
import type { Auth, Access, Principal } from './auth.js';
import type { Metrics } from './metrics.js';
import type { Upstream } from './proxy.js';
import { OCI_INDEX, bareType, isIndexType } from './manifest.js';
import type { Lru } from './lru.js';

export interface Ctx {
  store: RegistryStore;
  auth: Auth;
  metrics: Metrics;
  upstream?: Upstream;
  maxManifestBytes: number;
  maxBodyBytes: number;
  readOnly: boolean;
  secure: boolean;
  log?: (entry: Record<string, unknown>) => void;
  ready: Promise<void>;
  /** Proxy mode: tags re-checked upstream recently (so tags follow upstream without a request storm). */
  proxyFresh: Lru<string, true>;
  maxUploadSessions: number;
}

const API_HEADER = { 'Docker-Distribution-API-Version': 'registry/2.0' };
const MAX_PAGE = 10_000;

type Route =
  | { kind: 'base' } | { kind: 'catalog' }
  | { kind: 'tags'; name: string } | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'referrers'; name: string; digest: string } | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string } | { kind: 'blob'; name: string; digest: string };

const ROUTES: [RegExp, (m: RegExpMatchArray) => Route][] = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, ref: m[2]! })],
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^\/v2\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
];

function matchRoute(path: string): Route | undefined {
  for (const [re, mk] of ROUTES) {
    const m = path.match(re);
    if (m) return mk(m);
  }
  return undefined;
}

/** The scope a request needs, following distribution's method → action mapping. */
function scopeFor(route: Route, method: string, q: URLSearchParams): Access[] {
  if (route.kind === 'base') return [];
  if (route.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const name = route.name;
  let actions: string[];
  if (method === 'GET' || method === 'HEAD') actions = route.kind === 'upload' ? ['pull', 'push'] : ['pull'];
  else if (method === 'DELETE' && (route.kind === 'manifest' || route.kind === 'blob')) actions = ['delete'];
  else actions = ['pull', 'push'];
  const need: Access[] = [{ type: 'repository', name, actions }];
  const from = q.get('from');
  if (route.kind === 'uploads' && q.get('mount') && from && isRepoName(from) && from !== name) {
    need.push({ type: 'repository', name: from, actions: ['pull'] });
  }
  return need;
}

export async function handle(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const t0 = process.hrtime.bigint();
  const raw = req.url ?? '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const q = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const method = req.method ?? 'GET';
  let route: Route | undefined;
  let principal: Principal = {};
  let status = 0;
  try {
    await ctx.ready;
    if (path === '/metrics' && method === 'GET') {
      const body = ctx.metrics.render({ berth_registry_upload_sessions: ctx.store.sessionCount() });
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      status = 200;
      return;
    }
    if (path === '/token' && (method === 'GET' || method === 'HEAD') && ctx.auth.mode === 'token') {
      const tok = await ctx.auth.issue(req, new URL(raw, 'http://x'));
      const body = JSON.stringify({ token: tok.token, access_token: tok.token, expires_in: tok.expires_in, issued_at: tok.issued_at });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
      status = 200;
      return;
    }
    route = matchRoute(path);
    if (!route) {
      if (path.startsWith('/v2/')) throw regError('ERR_REG_NAME_INVALID', 'invalid repository name or path');
      throw regError('ERR_PAGE_NOT_FOUND', 'page not found');
    }
    if ('name' in route) assertRepoName(route.name);
    const need = scopeFor(route, method, q);
    try {
      principal = await ctx.auth.authenticate(req);
      // The mount source's pull is checked in startUpload: lacking it means "no mount", not 401.
      const own = route.kind === 'uploads' ? need.slice(0, 1) : need;
      ctx.auth.authorize(principal, own);
    } catch (e) {
      if (isBerthError(e, 'ERR_UNAUTHORIZED')) {
        const insufficient = (e.cause as { insufficient?: boolean } | undefined)?.insufficient === true;
        status = sendError(res, e, { 'WWW-Authenticate': ctx.auth.challenge(req, need, ctx.secure, insufficient) });
        drain(req, res);
        return;
      }
      throw e;
    }
    status = await dispatch(ctx, route, method, q, req, res, principal);
  } catch (e) {
    status = sendError(res, e, API_HEADER);
    drain(req, res);
  } finally {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    ctx.metrics.observe(method, route?.kind ?? 'other', status || res.statusCode, secs);
    if (ctx.log) {
      ctx.log({
        time: new Date().toISOString(), msg: 'access', method, path: path.slice(0, 512), status: status || res.statusCode,
        durationMs: Math.round(secs * 1e6) / 1e3, remote: req.socket.remoteAddress, user: principal.account || undefined,
      });
    }
  }
}

/** After an early error, the body was not read. Discard a bounded amount after answering, so the
 *  client sees the response rather than a reset, then close the connection. */
function drain(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed) return;
  res.once('finish', () => {
    let n = 0;
    const t = setTimeout(() => req.destroy(), 2000);
    t.unref();
    req.on('data', (c: Buffer) => { n += c.length; if (n > 64 << 20) { clearTimeout(t); req.destroy(); } });
    req.once('end', () => clearTimeout(t));
    req.once('close', () => clearTimeout(t));
    req.resume();
  });
}

async function dispatch(ctx: Ctx, route: Route, method: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse, p: Principal): Promise<number> {
  switch (route.kind) {
    case 'base':
      if (method !== 'GET' && method !== 'HEAD') break;
      return reply(res, 200, { 'Content-Type': 'application/json' }, '{}');
    case 'catalog': {
      if (method !== 'GET') break;
      const all = (await ctx.store.listRepos()).filter((r) => ctx.auth.canPull(p, r));
      const pg = paginate(all, q, '/v2/_catalog', 100);
      return reply(res, 200, { 'Content-Type': 'application/json', ...pg.headers }, JSON.stringify({ repositories: pg.items }));
    }
    case 'tags': {
      if (method !== 'GET') break;
      if (!(await ctx.store.repoExists(route.name))) throw regError('ERR_REG_NAME_UNKNOWN', 'repository name not known to registry');
      const tags = await ctx.store.listTags(route.name);
      const pg = paginate(tags, q, `/v2/${route.name}/tags/list`, undefined);
      return reply(res, 200, { 'Content-Type': 'application/json', ...pg.headers }, JSON.stringify({ name: route.name, tags: pg.items }));
    }
    case 'manifest':
      if (method === 'GET' || method === 'HEAD') return getManifest(ctx, route.name, route.ref, method, req, res);
      if (method === 'PUT') return putManifest(ctx, route.name, route.ref, q, req, res);
      if (method === 'DELETE') return deleteManifest(ctx, route.name, route.ref, res);
      break;
    case 'referrers': {
      if (method !== 'GET') break;
      assertBlobDigest(route.digest);
      let list = await ctx.store.listReferrers(route.name, route.digest);
      const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
      const at = q.get('artifactType');
      if (at !== null) {
        list = list.filter((d) => d.artifactType === at);
        headers['OCI-Filters-Applied'] = 'artifactType';
      }
      return reply(res, 200, headers, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: list }));
    }
    case 'blob':
      if (method === 'GET' || method === 'HEAD') return getBlob(ctx, route.name, route.digest, method, req, res);
      if (method === 'DELETE') {
        assertBlobDigest(route.digest);
        writable(ctx);
        if (!(await ctx.store.unlinkBlob(route.name, route.digest))) throw regError('ERR_REG_BLOB_UNKNOWN', 'blob unknown to registry');
        return reply(res, 202, { 'Docker-Content-Digest': route.digest, 'Content-Length': '0' });
      }
      break;
    case 'uploads':
      if (method === 'POST') return startUpload(ctx, route.name, q, req, res, p);
      break;
    case 'upload': {
      const s = await ctx.store.getUpload(route.name, route.id);
      if (method === 'GET') return reply(res, 204, uploadHeaders(s));
      if (method === 'PATCH') return patchUpload(ctx, s, req, res);
      if (method === 'PUT') return putUpload(ctx, s, q, req, res);
      if (method === 'DELETE') {
        await ctx.store.cancelUpload(s);
        return reply(res, 204, {});
      }
      break;
    }
  }
  throw regError('ERR_REG_UNSUPPORTED', 'the operation is unsupported');
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): number {
  const h: Record<string, string | number> = { ...API_HEADER, ...headers };
  if (body !== undefined) h['Content-Length'] = Buffer.byteLength(body);
  else if (h['Content-Length'] === undefined && status !== 204) h['Content-Length'] = 0;
  res.writeHead(status, h);
  res.end(body);
  return status;
}

function writable(ctx: Ctx): void {
  if (ctx.readOnly || ctx.upstream) throw regError('ERR_REG_UNSUPPORTED', 'the registry is read-only (pull-through cache or maintenance)');
}

/** n/last pagination in lexical order with an RFC 5988 Link header; n is clamped, never trusted. */
export function paginate(all: string[], q: URLSearchParams, path: string, defaultN: number | undefined): { items: string[]; headers: Record<string, string> } {
  const nRaw = q.get('n');
  let n: number | undefined = defaultN;
  if (nRaw !== null && nRaw !== '') {
    if (!/^\d{1,30}$/.test(nRaw)) throw regError('ERR_INVALID_ARGUMENT', 'invalid n: must be a non-negative integer');
    n = Math.min(Number(nRaw), MAX_PAGE);
  }
  const last = q.get('last');
  let items = last !== null && last !== '' ? all.filter((x) => x > last) : all;
  if (n === 0) return { items: [], headers: {} };
  const headers: Record<string, string> = {};
  if (n !== undefined && items.length > n) {
    items = items.slice(0, n);
    headers.Link = `<${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"`;
  }
  return { items, headers };
}

// ---- manifests ----

async function getManifest(ctx: Ctx, name: string, ref: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const r = parseReference(ref);
  if (ctx.upstream && r.tag && !ctx.proxyFresh.get(`${name}:${r.tag}`)) {
    // A tag may move upstream: refresh it now and then; when upstream is down, serve what we have.
    try {
      const up = await ctx.upstream.manifest(name, ref, req.headers.accept);
      if (up) await ctx.store.putManifest(name, { tag: r.tag }, up.body, up.mediaType || undefined, [], true);
      ctx.proxyFresh.set(`${name}:${r.tag}`, true);
    } catch { /* fall back to the cached copy */ }
  }
  const digest = r.digest ?? (await ctx.store.resolveTag(name, r.tag!));
  let m = digest ? await ctx.store.getManifest(name, digest) : undefined;
  if (!m && ctx.upstream && r.digest) {
    const up = await ctx.upstream.manifest(name, ref, req.headers.accept);
    if (up) {
      await ctx.store.putManifest(name, { digest: up.digest }, up.body, up.mediaType || undefined, [], true);
      m = await ctx.store.getManifest(name, up.digest);
    }
  }
  if (!m) throw regError('ERR_REG_MANIFEST_UNKNOWN', 'manifest unknown to registry');
  const accept = req.headers.accept;
  if (accept && isIndexType(m.mediaType)) {
    // A client that cannot read an index/list must not be handed one (it would misparse it).
    const types = accept.split(',').map((s) => bareType(s));
    if (!types.includes(m.mediaType) && !types.includes('*/*') && !types.includes('application/*')) {
      throw regError('ERR_REG_MANIFEST_UNKNOWN', `manifest is a ${m.mediaType}, which the client does not accept`);
    }
  }
  const headers = { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"`, 'Content-Length': String(m.body.length) };
  res.writeHead(200, { ...API_HEADER, ...headers });
  res.end(method === 'HEAD' ? undefined : m.body);
  return 200;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const cl = req.headers['content-length'];
  if (cl !== undefined && Number(cl) > limit) throw regError('ERR_REG_TOO_LARGE', `body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let n = 0;
  const it = req[Symbol.asyncIterator]();
  for (;;) {
    const step = await it.next();
    if (step.done) break;
    const c = step.value as Buffer;
    n += c.length;
    if (n > limit) throw regError('ERR_REG_TOO_LARGE', `body exceeds ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function putManifest(ctx: Ctx, name: string, ref: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<number> {
  writable(ctx);
  const r = parseReference(ref);
  const extra = q.getAll('tag');
  if (extra.length && !r.digest) throw regError('ERR_REG_MANIFEST_INVALID', 'tag parameters are only allowed when pushing by digest');
  if (extra.length > 50) throw regError('ERR_REG_MANIFEST_INVALID', 'too many tags');
  for (const t of extra) if (!isTag(t)) throw regError('ERR_REG_MANIFEST_INVALID', 'invalid tag');
  const body = await readBody(req, ctx.maxManifestBytes);
  const { digest, parsed } = await ctx.store.putManifest(name, r, body, req.headers['content-type'], extra);
  ctx.metrics.manifestPuts++;
  const h: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
  if (parsed.subject) h['OCI-Subject'] = parsed.subject.digest;
  if (extra.length) h['OCI-Tag'] = extra.join(', ');
  return reply(res, 201, h);
}

async function deleteManifest(ctx: Ctx, name: string, ref: string, res: ServerResponse): Promise<number> {
  writable(ctx);
  const r = parseReference(ref);
  const ok = r.tag ? await ctx.store.deleteTag(name, r.tag) : await ctx.store.deleteManifest(name, r.digest!);
  if (!ok) throw regError('ERR_REG_MANIFEST_UNKNOWN', 'manifest unknown to registry');
  return reply(res, 202, {});
}

// ---- blobs ----

async function getBlob(ctx: Ctx, name: string, digestRaw: string, method: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const digest = assertBlobDigest(digestRaw);
  let size = await ctx.store.repoBlobSize(name, digest);
  if (size === undefined && ctx.upstream) size = await fetchUpstreamBlob(ctx, name, digest);
  if (size === undefined) throw regError('ERR_REG_BLOB_UNKNOWN', 'blob unknown to registry');
  const headers: Record<string, string | number> = {
    ...API_HEADER, 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes', 'Cache-Control': 'max-age=31536000',
  };
  let start = 0;
  let end = size - 1;
  let status = 200;
  const range = req.headers.range;
  if (range && method === 'GET') {
    const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
    let ok = !!m && (m[1] !== '' || m[2] !== '');
    if (ok && m) {
      if (m[1] === '') { start = Math.max(0, size - Number(m[2])); }
      else { start = Number(m[1]); end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1); }
      ok = start <= end && start < size;
    }
    if (!ok) {
      res.writeHead(416, { ...API_HEADER, 'Content-Range': `bytes */${size}`, 'Content-Length': 0 });
      res.end();
      return 416;
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (method === 'HEAD' || size === 0) { res.end(); return status; }
  const stream = ctx.store.readBlob(digest, start, end);
  try {
    await pipeline(stream, res);
    ctx.metrics.bytesOut += end - start + 1;
  } catch { res.destroy(); }
  return status;
}

async function fetchUpstreamBlob(ctx: Ctx, name: string, digest: string): Promise<number | undefined> {
  const body = await ctx.upstream!.blob(name, digest);
  if (!body) return undefined;
  const s = await ctx.store.startUpload(name, digest.slice(0, digest.indexOf(':')) as Algorithm);
  try {
    await ctx.store.appendUpload(s, body);
    await ctx.store.finishUpload(s, digest);
  } catch (e) {
    await ctx.store.cancelUpload(s).catch(() => {});
    throw e;
  }
  return ctx.store.repoBlobSize(name, digest);
}

// ---- uploads ----

function uploadHeaders(s: UploadSession): Record<string, string> {
  return {
    Location: `/v2/${s.repo}/blobs/uploads/${s.id}`,
    Range: `0-${Math.max(0, s.size - 1)}`,
    'Docker-Upload-UUID': s.id,
  };
}

function declaredLength(req: IncomingMessage): number | undefined {
  const cl = req.headers['content-length'];
  if (cl === undefined) return undefined;
  if (!/^\d{1,16}$/.test(cl)) throw regError('ERR_REG_SIZE_INVALID', 'invalid Content-Length');
  return Number(cl);
}

async function startUpload(ctx: Ctx, name: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse, p: Principal): Promise<number> {
  writable(ctx);
  const mount = q.get('mount');
  const from = q.get('from');
  if (mount !== null && from !== null && isDigest(mount) && isRepoName(from)) {
    // Mounting needs pull on the source; without it (or without the blob there) fall back to a session.
    let allowed = true;
    try { ctx.auth.authorize(p, [{ type: 'repository', name: from, actions: ['pull'] }]); } catch { allowed = false; }
    if (allowed && (await ctx.store.hasLayer(from, mount))) {
      await ctx.store.linkBlob(name, mount);
      return reply(res, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
    }
  }
  const alg = q.get('digest-algorithm') ?? 'sha256';
  if (alg !== 'sha256' && alg !== 'sha512') throw regError('ERR_INVALID_DIGEST', 'unsupported digest algorithm');
  const digest = q.get('digest');
  const len = declaredLength(req);
  if (len !== undefined && len > ctx.maxBodyBytes) throw regError('ERR_REG_TOO_LARGE', `body exceeds ${ctx.maxBodyBytes} bytes`);
  if (digest !== null) {
    assertBlobDigest(digest);
    const s = await ctx.store.startUpload(name, digest.slice(0, digest.indexOf(':')) as Algorithm);
    try {
      await ctx.store.appendUpload(s, req, len);
      await ctx.store.finishUpload(s, digest);
    } catch (e) {
      await ctx.store.cancelUpload(s).catch(() => {});
      throw e;
    }
    ctx.metrics.blobCommits++;
    ctx.metrics.bytesIn += s.size;
    return reply(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  }
  if (ctx.store.sessionCount() >= ctx.maxUploadSessions) {
    await ctx.store.purgeUploads();
    if (ctx.store.sessionCount() >= ctx.maxUploadSessions) throw regError('ERR_REG_TOOMANYREQUESTS', 'too many open upload sessions; retry later');
  }
  const s = await ctx.store.startUpload(name, alg);
  if (len) {
    // A body on a session POST is the first chunk (some clients do this).
    await ctx.store.appendUpload(s, req, len);
  }
  return reply(res, 202, uploadHeaders(s));
}

function checkRange(s: UploadSession, req: IncomingMessage, res: ServerResponse): { expect?: number } | undefined {
  const cr = req.headers['content-range'];
  const len = declaredLength(req);
  if (cr === undefined) return { expect: len };
  const m = /^(?:bytes[ =])?(\d{1,16})-(\d{1,16})(?:\/(?:\d+|\*))?$/.exec(cr.trim());
  if (!m) throw regError('ERR_REG_BLOB_UPLOAD_INVALID', 'invalid Content-Range');
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start !== s.size || end < start) {
    if (!req.complete) res.shouldKeepAlive = true; // lingering close, see errors.ts
    res.writeHead(416, { ...API_HEADER, ...uploadHeaders(s), 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'BLOB_UPLOAD_INVALID', message: `chunk out of order: expected offset ${s.size}`, detail: null }] }));
    drain(req, res);
    return undefined;
  }
  const expect = end - start + 1;
  if (len !== undefined && len !== expect) throw regError('ERR_REG_SIZE_INVALID', 'Content-Length does not match Content-Range');
  return { expect };
}

async function patchUpload(ctx: Ctx, s: UploadSession, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const r = checkRange(s, req, res);
  if (!r) return 416;
  const before = s.size;
  await ctx.store.appendUpload(s, req, r.expect);
  ctx.metrics.bytesIn += s.size - before;
  return reply(res, 202, uploadHeaders(s));
}

async function putUpload(ctx: Ctx, s: UploadSession, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const digest = q.get('digest');
  if (digest === null) throw regError('ERR_INVALID_DIGEST', 'digest parameter is required');
  assertBlobDigest(digest);
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (hasBody) {
    const r = checkRange(s, req, res);
    if (!r) return 416;
    const before = s.size;
    await ctx.store.appendUpload(s, req, r.expect);
    ctx.metrics.bytesIn += s.size - before;
  }
  await ctx.store.finishUpload(s, digest);
  ctx.metrics.blobCommits++;
  return reply(res, 201, { Location: `/v2/${s.repo}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}
