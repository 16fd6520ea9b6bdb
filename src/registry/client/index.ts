// Registry client (OCI distribution / Docker registry v2): manifests, blobs, push, auth.
// Bytes stream end to end; blob downloads are verified while streaming and resume with Range.
import { createHash, type Hash } from 'node:crypto';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { tlsConnectOptions } from '../../util/tls-trust.js';
import { BerthError, isBerthError, type ErrorCode } from '../../errors/index.js';
import { assertDigest, splitDigest } from '../../util/digest.js';
import { MANIFEST_ACCEPT, SCHEMA1_TYPES } from '../../oci/media-types.js';
import { MAX_MANIFEST_BYTES, parseManifest, schema1Error } from '../../oci/manifest.js';
import { familiarName, familiarString, parseReference, registryHost, type Reference } from '../../oci/reference.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { getCredentials, login as storeLogin, type Credentials } from './auth-config.js';

export type { Credentials } from './auth-config.js';
export * as authConfig from './auth-config.js';
export { parseChallenges, type Challenge } from './challenge.js';

export type CredentialSource = Credentials | ((domain: string) => Credentials | undefined | Promise<Credentials | undefined>);

export interface RegistryClientOptions {
  /** Registries (host or host:port) spoken to over plain HTTP. Loopback always is. */
  insecureRegistries?: string[];
  /** Explicit credentials (e.g. from X-Registry-Auth), or a lookup per domain. */
  credentials?: CredentialSource;
  /** Fall back to ~/.docker/config.json when no explicit credentials apply (default true). */
  useConfigFile?: boolean;
  userAgent?: string;
  dispatcher?: Dispatcher;
  /** Attempts per blob download (initial try included), resuming with Range. Default 4. */
  blobAttempts?: number;
  /** Push blobs with one streamed PATCH then PUT, instead of a monolithic PUT. */
  chunkedUpload?: boolean;
}

export interface ManifestResponse { digest: string; mediaType: string; body: Buffer }
export interface ManifestHead { digest: string; mediaType: string; size: number }

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type BodyInit = Buffer | string | Readable | undefined;

interface Req {
  domain: string;
  method: Method;
  /** Absolute URL or a path below the registry base. */
  url: string;
  scopes: string[];
  headers?: Record<string, string>;
  body?: () => BodyInit | Promise<BodyInit>;
}

type Res = Dispatcher.ResponseData;

interface AuthState { challenge?: Challenge }

const MAX_REDIRECTS = 5;
const TOKEN_MIN_TTL = 60;

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1';
  return false;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, p) => ((a << 8) | Number(p)) >>> 0, 0);
}

/** Split "host:port" / "[v6]:port" into the bare host. */
function hostname(hostport: string): string {
  if (hostport.startsWith('[')) return hostport.slice(1, hostport.indexOf(']'));
  const i = hostport.lastIndexOf(':');
  return i >= 0 && hostport.indexOf(':') === i ? hostport.slice(0, i) : hostport;
}

async function readCapped(body: Res['body'], cap: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    n += b.length;
    if (n > cap) {
      body.destroy();
      throw new BerthError('ERR_REGISTRY', `${what} exceeds the ${cap}-byte limit`);
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function header(res: Res, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

interface RegistryErrorBody { errors?: { code?: string; message?: string; detail?: unknown }[] }

async function errorInfo(res: Res): Promise<{ code?: string; message: string }> {
  let text = '';
  try { text = (await readCapped(res.body, 64 << 10, 'error body')).toString('utf8'); } catch { /* ignore */ }
  try {
    const e = (JSON.parse(text) as RegistryErrorBody).errors?.[0];
    if (e && typeof e.code === 'string') return { code: e.code, message: e.message ?? e.code.toLowerCase() };
  } catch { /* not JSON */ }
  return { message: text.trim().slice(0, 300) || `status ${res.statusCode}` };
}

function regError(code: ErrorCode, message: string, cause?: unknown): BerthError {
  return new BerthError(code, message, { cause });
}

/** Docker-style text for a registry error response: "<code lower>: <message>". */
function describe(info: { code?: string; message: string }): string {
  return info.code ? `${info.code.toLowerCase().replace(/_/g, ' ')}: ${info.message}` : info.message;
}

export class RegistryClient {
  private readonly insecure: Set<string>;
  private readonly insecureCidrs: { base: number; mask: number }[] = [];
  private readonly creds?: CredentialSource;
  private readonly insecureList: string[];
  private readonly useConfig: boolean;
  private readonly ua: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;
  private readonly attempts: number;
  private readonly chunked: boolean;
  private readonly state = new Map<string, AuthState>();
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly credCache = new Map<string, Promise<Credentials | undefined>>();

  constructor(opts: RegistryClientOptions = {}) {
    this.insecureList = [...(opts.insecureRegistries ?? [])];
    this.insecure = new Set();
    for (const raw of opts.insecureRegistries ?? []) {
      const e = raw.trim().toLowerCase().replace(/^https?:\/\//, '');
      const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(e);
      if (cidr && isIP(cidr[1]!) === 4 && Number(cidr[2]) <= 32) {
        const bits = Number(cidr[2]);
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        this.insecureCidrs.push({ base: (ipv4ToInt(cidr[1]!) & mask) >>> 0, mask });
      } else {
        this.insecure.add(e.replace(/\/.*$/, ''));
      }
    }
    this.creds = opts.credentials;
    this.useConfig = opts.useConfigFile ?? true;
    this.ua = opts.userAgent ?? 'berth/0.1';
    this.ownDispatcher = opts.dispatcher === undefined;
    this.dispatcher = opts.dispatcher ?? new Agent({ connections: 16, headersTimeout: 60_000, bodyTimeout: 120_000, ...tlsConnectOptions() });
    this.attempts = Math.max(1, opts.blobAttempts ?? 4);
    this.chunked = opts.chunkedUpload ?? false;
  }

  async close(): Promise<void> {
    if (this.ownDispatcher) await this.dispatcher.close();
  }

  /** Base URL for a registry domain: HTTP for loopback and insecure registries, HTTPS otherwise. */
  baseUrl(domain: string): string {
    const host = registryHost(domain);
    const d = host.toLowerCase();
    const h = hostname(d);
    const plain = isLoopbackHost(h) || this.insecure.has(d) || this.insecure.has(h) ||
      (isIP(h) === 4 && this.insecureCidrs.some((c) => ((ipv4ToInt(h) & c.mask) >>> 0) === c.base));
    return `${plain ? 'http' : 'https'}://${host}`;
  }

  // ---------------------------------------------------------------- credentials and auth

  private credentialsFor(domain: string): Promise<Credentials | undefined> {
    let p = this.credCache.get(domain);
    if (!p) {
      p = (async () => {
        const src = this.creds;
        let c: Credentials | undefined;
        if (typeof src === 'function') c = await src(domain);
        else if (src && hasCreds(src)) c = src;
        if (c && hasCreds(c)) return c;
        return this.useConfig ? await getCredentials(domain).catch(() => undefined) : undefined;
      })();
      this.credCache.set(domain, p);
    }
    return p;
  }

  private async authHeader(domain: string, scopes: string[], creds?: Credentials): Promise<string | undefined> {
    const ch = this.state.get(domain)?.challenge;
    if (!ch) return undefined;
    const c = creds ?? (await this.credentialsFor(domain));
    if (ch.scheme === 'basic') {
      if (!c?.username) return undefined;
      return 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
    }
    if (ch.scheme === 'bearer') {
      if (c?.registrytoken) return `Bearer ${c.registrytoken}`;
      const key = `${domain}\n${c?.username ?? ''}\n${scopes.join(' ')}`;
      const cached = this.tokens.get(key);
      if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
      const t = await this.fetchToken(domain, ch, scopes, c);
      this.tokens.set(key, t);
      return `Bearer ${t.token}`;
    }
    return undefined;
  }

  /** Token from the challenge's realm: OAuth2 refresh-token POST with an identity token, else GET (basic creds if any). */
  private async fetchToken(domain: string, ch: Challenge, scopes: string[], c?: Credentials): Promise<{ token: string; expires: number }> {
    const realm = ch.params.realm;
    if (!realm) throw regError('ERR_REGISTRY', `${domain}: bearer challenge without realm`);
    let url: URL;
    try { url = new URL(realm); } catch { throw regError('ERR_REGISTRY', `${domain}: invalid token realm ${realm}`); }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw regError('ERR_REGISTRY', `${domain}: invalid token realm ${realm}`);
    // An HTTPS registry must not send us (and our password) to a plain-HTTP token service.
    if (url.protocol === 'http:' && this.baseUrl(domain).startsWith('https:')) {
      throw regError('ERR_REGISTRY', `${domain}: refusing insecure token realm ${realm} for an HTTPS registry`);
    }
    const service = ch.params.service;
    let res: Res;
    try {
      if (c?.identitytoken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.identitytoken, client_id: 'berth' });
        if (service) form.set('service', service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        res = await request(url, {
          method: 'POST', dispatcher: this.dispatcher, body: form.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': this.ua },
        });
      } else {
        if (service) url.searchParams.set('service', service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = { 'user-agent': this.ua };
        if (c?.username) headers.authorization = 'Basic ' + Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64');
        res = await request(url, { method: 'GET', dispatcher: this.dispatcher, headers });
      }
    } catch (e) {
      throw regError('ERR_REGISTRY', `Get "${realm}": ${(e as Error).message}`, e);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      const info = await errorInfo(res);
      throw regError('ERR_UNAUTHORIZED', `unauthorized: ${info.message === `status ${res.statusCode}` ? 'incorrect username or password' : info.message}`);
    }
    if (res.statusCode !== 200) {
      const info = await errorInfo(res);
      throw regError('ERR_REGISTRY', `token request to ${url.origin} failed: ${describe(info)}`);
    }
    const body = await readCapped(res.body, 1 << 20, 'token response');
    let j: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try { j = JSON.parse(body.toString('utf8')) as typeof j; } catch { throw regError('ERR_REGISTRY', 'token response is not JSON'); }
    const token = j.token || j.access_token;
    if (!token || typeof token !== 'string') throw regError('ERR_REGISTRY', 'token response without a token');
    const ttl = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : TOKEN_MIN_TTL;
    const issued = j.issued_at ? Date.parse(j.issued_at) : NaN;
    const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
    // Renew a little early so a token doesn't lapse mid-request.
    return { token, expires: start + ttl * 1000 - Math.min(10_000, ttl * 100) };
  }

  /**
   * One request with auth: sends cached auth, and on 401 learns the challenge, fetches auth and
   * retries once. Returns the final response (any status) with redirects not followed.
   */
  private async send(r: Req, creds?: Credentials): Promise<Res> {
    const base = this.baseUrl(r.domain);
    const url = /^https?:\/\//.test(r.url) ? r.url : base + r.url;
    let scopes = r.scopes;
    for (let round = 0; ; round++) {
      const headers: Record<string, string> = { 'user-agent': this.ua, ...r.headers };
      const auth = await this.authHeader(r.domain, scopes, creds);
      if (auth) headers.authorization = auth;
      const body = r.body ? await r.body() : undefined;
      let res: Res;
      try {
        res = await request(url, { method: r.method, headers, body, dispatcher: this.dispatcher });
      } catch (e) {
        if (body instanceof Readable) body.destroy();
        throw regError('ERR_REGISTRY', `${r.method[0]}${r.method.slice(1).toLowerCase()} "${url}": ${(e as Error).message}`, e);
      }
      if (res.statusCode !== 401 || round > 0) return res;
      const chs = parseChallenges(res.headers['www-authenticate']);
      const ch = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
      if (!ch) return res;
      this.state.set(r.domain, { challenge: ch });
      // The scope the registry asks for in this challenge (e.g. insufficient_scope) joins ours for the retry.
      const asked = (ch.params.scope ?? '').split(' ').filter((x) => /^[a-z]+:[^\s]+$/i.test(x));
      if (r.scopes.length > 0 && asked.some((x) => !scopes.includes(x))) scopes = [...new Set([...scopes, ...asked])];
      // Without credentials a basic challenge cannot be answered; a refused bearer token (expired,
      // wrong scope) gets one fresh token before giving up.
      if (ch.scheme === 'basic' && !(creds ?? (await this.credentialsFor(r.domain)))?.username) return res;
      if (auth?.startsWith('Basic ') && ch.scheme === 'basic') return res;
      if (auth) this.dropTokens(r.domain);
      if (body instanceof Readable) body.destroy();
      await res.body.dump().catch(() => {});
    }
  }

  private dropTokens(domain: string): void {
    for (const k of this.tokens.keys()) if (k.startsWith(`${domain}\n`)) this.tokens.delete(k);
  }

  /** GET/HEAD following redirects by hand; Authorization is only sent to the registry's own origin. */
  private async sendFollow(r: Req): Promise<Res> {
    let res = await this.send(r);
    const origin = new URL(this.baseUrl(r.domain)).origin;
    let url = new URL(/^https?:\/\//.test(r.url) ? r.url : this.baseUrl(r.domain) + r.url);
    for (let i = 0; res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304; i++) {
      const loc = header(res, 'location');
      await res.body.dump().catch(() => {});
      if (!loc) throw regError('ERR_REGISTRY', `redirect without Location from ${url.origin}`);
      if (i >= MAX_REDIRECTS) throw regError('ERR_REGISTRY', `too many redirects fetching ${r.url}`);
      url = new URL(loc, url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw regError('ERR_REGISTRY', `refusing redirect to ${url.protocol} URL`);
      if (url.origin === origin) {
        res = await this.send({ ...r, url: url.toString() });
      } else {
        // Another origin (e.g. a CDN with a signed URL): no registry credentials go there.
        const headers: Record<string, string> = { 'user-agent': this.ua, ...r.headers };
        try {
          res = await request(url, { method: r.method, headers, dispatcher: this.dispatcher });
        } catch (e) {
          throw regError('ERR_REGISTRY', `Get "${url.origin}${url.pathname}": ${(e as Error).message}`, e);
        }
      }
    }
    return res;
  }

  private async unexpected(res: Res, what: string): Promise<BerthError> {
    const info = await errorInfo(res);
    if (res.statusCode === 401) return regError('ERR_UNAUTHORIZED', `${what}: ${describe({ code: info.code ?? 'UNAUTHORIZED', message: info.code ? info.message : 'authentication required' })}`);
    if (res.statusCode === 403) return regError('ERR_FORBIDDEN', `${what}: ${describe({ code: info.code ?? 'DENIED', message: info.code ? info.message : 'requested access to the resource is denied' })}`);
    if (res.statusCode === 404) return regError('ERR_NOT_FOUND', `${what}: ${describe(info)}`);
    if (res.statusCode === 429) return regError('ERR_UNAVAILABLE', `${what}: ${describe({ code: info.code ?? 'TOOMANYREQUESTS', message: info.code ? info.message : 'too many requests' })}`);
    return regError('ERR_REGISTRY', `${what}: unexpected status ${res.statusCode}: ${describe(info)}`);
  }

  // ---------------------------------------------------------------- manifests

  private toRef(ref: Reference | string): Reference {
    return typeof ref === 'string' ? parseReference(ref) : ref;
  }

  private manifestUrl(ref: Reference): string {
    const target = ref.digest ?? ref.tag ?? 'latest';
    return `/v2/${ref.path}/manifests/${encodeURIComponent(target)}`;
  }

  private async manifestError(res: Res, ref: Reference): Promise<BerthError> {
    const info = await errorInfo(res);
    const shown = familiarString(ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: 'latest' } : ref);
    const denied = () => regError('ERR_NOT_FOUND', `pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ` +
      describe({ code: 'DENIED', message: 'requested access to the resource is denied' }));
    if (info.code === 'MANIFEST_UNKNOWN' || (res.statusCode === 404 && info.code === undefined)) {
      return regError('ERR_NOT_FOUND', `manifest for ${shown} not found: manifest unknown: ${info.code ? info.message : 'manifest unknown'}`);
    }
    if (info.code === 'NAME_UNKNOWN' || info.code === 'DENIED' || res.statusCode === 403) return denied();
    if (res.statusCode === 401) {
      const scheme = this.state.get(ref.domain)?.challenge?.scheme;
      // A token registry that granted a token but still refuses the repository hides whether it exists
      // (Docker Hub does this): Docker reports that as "pull access denied".
      if (scheme === 'bearer') return denied();
      const creds = await this.credentialsFor(ref.domain);
      const url = `${this.baseUrl(ref.domain)}${this.manifestUrl(ref)}`;
      if (scheme === 'basic' && !creds?.username) return regError('ERR_UNAUTHORIZED', `Head "${url}": no basic auth credentials`);
      return regError('ERR_UNAUTHORIZED', `Head "${url}": ${describe({ code: info.code ?? 'UNAUTHORIZED', message: info.code ? info.message : 'authentication required' })}`);
    }
    return regError('ERR_REGISTRY', `manifest for ${shown}: unexpected status ${res.statusCode}: ${describe(info)}`);
  }

  /** Fetch a manifest or index by tag or digest. A digest reference is verified against the bytes. */
  async getManifest(refIn: Reference | string, opts: { accept?: string[] } = {}): Promise<ManifestResponse> {
    const ref = this.toRef(refIn);
    const res = await this.sendFollow({
      domain: ref.domain, method: 'GET', url: this.manifestUrl(ref), scopes: [`repository:${ref.path}:pull`],
      headers: { accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') },
    });
    if (res.statusCode !== 200) throw await this.manifestError(res, ref);
    const ct = header(res, 'content-type')?.split(';')[0]?.trim();
    if (ct && SCHEMA1_TYPES.includes(ct)) { await res.body.dump().catch(() => {}); throw schema1Error(); }
    const len = Number(header(res, 'content-length'));
    if (Number.isFinite(len) && len > MAX_MANIFEST_BYTES) {
      res.body.destroy();
      throw regError('ERR_REGISTRY', `manifest for ${familiarString(ref)} exceeds the ${MAX_MANIFEST_BYTES}-byte limit`);
    }
    const body = await readCapped(res.body, MAX_MANIFEST_BYTES, 'manifest');
    let digest: string;
    if (ref.digest) {
      const { algorithm } = splitDigest(ref.digest);
      digest = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
      if (digest !== ref.digest) throw regError('ERR_DIGEST_MISMATCH', `manifest verification failed for digest ${ref.digest}`);
    } else {
      digest = 'sha256:' + createHash('sha256').update(body).digest('hex');
    }
    const parsed = parseManifest(body, ct);
    return { digest, mediaType: parsed.mediaType, body };
  }

  /** HEAD a manifest: undefined when it does not exist. */
  async headManifest(refIn: Reference | string, opts: { accept?: string[] } = {}): Promise<ManifestHead | undefined> {
    const ref = this.toRef(refIn);
    const res = await this.sendFollow({
      domain: ref.domain, method: 'HEAD', url: this.manifestUrl(ref), scopes: [`repository:${ref.path}:pull`],
      headers: { accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') },
    });
    await res.body.dump().catch(() => {});
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) {
      if (res.statusCode === 401) throw regError('ERR_UNAUTHORIZED', `Head "${this.baseUrl(ref.domain)}${this.manifestUrl(ref)}": unauthorized: authentication required`);
      throw regError('ERR_REGISTRY', `Head "${this.baseUrl(ref.domain)}${this.manifestUrl(ref)}": unexpected status ${res.statusCode}`);
    }
    const digest = header(res, 'docker-content-digest') ?? ref.digest;
    if (!digest) throw regError('ERR_REGISTRY', 'registry did not return Docker-Content-Digest');
    assertDigest(digest);
    if (ref.digest && digest !== ref.digest) throw regError('ERR_DIGEST_MISMATCH', `manifest verification failed for digest ${ref.digest}`);
    return { digest, mediaType: (header(res, 'content-type') ?? '').split(';')[0]!.trim(), size: Number(header(res, 'content-length') ?? -1) };
  }

  /** PUT a manifest under a tag or digest; returns its digest. */
  async putManifest(refIn: Reference | string, mediaType: string, body: Buffer): Promise<string> {
    const ref = this.toRef(refIn);
    if (body.length > MAX_MANIFEST_BYTES) throw regError('ERR_INVALID_ARGUMENT', 'manifest too large');
    const digest = 'sha256:' + createHash('sha256').update(body).digest('hex');
    if (ref.digest && ref.digest !== digest) throw regError('ERR_DIGEST_MISMATCH', `manifest digest ${digest} does not match ${ref.digest}`);
    const res = await this.send({
      domain: ref.domain, method: 'PUT', url: this.manifestUrl(ref), scopes: [`repository:${ref.path}:pull,push`],
      headers: { 'content-type': mediaType }, body: () => body,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200) throw await this.unexpected(res, `put manifest ${familiarString(ref)}`);
    await res.body.dump().catch(() => {});
    const got = header(res, 'docker-content-digest');
    if (got && got !== digest && got.startsWith('sha256:')) throw regError('ERR_DIGEST_MISMATCH', `registry stored manifest as ${got}, expected ${digest}`);
    return digest;
  }

  // ---------------------------------------------------------------- blobs

  /**
   * Stream a blob. From offset 0 the stream verifies size (when given) and digest (unless `verify: false`) and fails at the end
   * (or at size+1 bytes) on a mismatch; from a later offset only the size is checked, the caller
   * (the content store) verifies the whole. Transient failures resume with Range.
   */
  async getBlob(domain: string, repo: string, digest: string, opts: { offset?: number; size?: number; verify?: boolean } = {}): Promise<Readable> {
    assertDigest(digest);
    const start = opts.offset ?? 0;
    const size = opts.size;
    if (size !== undefined && start > size) throw regError('ERR_INVALID_ARGUMENT', `offset ${start} beyond size ${size}`);
    const url = `/v2/${repo}/blobs/${digest}`;
    const scopes = [`repository:${repo}:pull`];
    const open = async (from: number): Promise<{ res: Res; skip: number }> => {
      const res = await this.sendFollow({ domain, method: 'GET', url, scopes, headers: from > 0 ? { range: `bytes=${from}-` } : {} });
      if (res.statusCode === 206 && from > 0) {
        const cr = header(res, 'content-range');
        const m = cr ? /^bytes (\d+)-/.exec(cr) : null;
        if (m && Number(m[1]) !== from) { res.body.destroy(); throw regError('ERR_REGISTRY', `registry answered range ${cr} for bytes=${from}-`); }
        return { res, skip: 0 };
      }
      if (res.statusCode === 200) return { res, skip: from }; // Range ignored: drop the prefix ourselves
      if (res.statusCode === 416 && size !== undefined && from === size) { await res.body.dump().catch(() => {}); return { res, skip: -1 }; }
      throw await this.unexpected(res, `fetching blob ${digest}`);
    };
    // The first response is awaited here so HTTP errors surface from getBlob itself.
    const first = await open(start);
    const { algorithm } = splitDigest(digest);
    // verify: false when the caller hashes the same bytes anyway (the content store's ingest)
    const hash: Hash | undefined = start === 0 && opts.verify !== false ? createHash(algorithm) : undefined;
    const attempts = this.attempts;
    let cur: { res: Res; skip: number } | undefined = first;
    async function* gen(): AsyncGenerator<Buffer> {
      let pos = start;
      let failures = 0;
      for (;;) {
        try {
          if (!cur) cur = await open(pos);
          if (cur.skip < 0) break;
          let skip = cur.skip;
          for await (const c of cur.res.body) {
            let b = c as Buffer;
            if (skip > 0) {
              if (b.length <= skip) { skip -= b.length; continue; }
              b = b.subarray(skip);
              skip = 0;
            }
            if (size !== undefined && pos + b.length > size) {
              cur.res.body.destroy();
              throw regError('ERR_DIGEST_MISMATCH', `blob ${digest} is larger than the expected ${size} bytes`);
            }
            hash?.update(b);
            pos += b.length;
            yield b;
          }
          break;
        } catch (e) {
          cur?.res.body.destroy();
          // Integrity failures and protocol answers (404, 401, ...) are final; transport errors retry.
          if (isBerthError(e) && e.code !== 'ERR_REGISTRY') throw e;
          if (++failures >= attempts) throw regError('ERR_REGISTRY', `failed to fetch blob ${digest}: ${(e as Error).message}`, e);
          cur = undefined;
          await new Promise((r) => setTimeout(r, 200 * failures));
        }
      }
      if (size !== undefined && pos !== size) throw regError('ERR_DIGEST_MISMATCH', `blob ${digest}: got ${pos} bytes, expected ${size}`);
      if (hash) {
        const got = `${algorithm}:${hash.digest('hex')}`;
        if (got !== digest) throw regError('ERR_DIGEST_MISMATCH', `digest mismatch for blob ${digest}: got ${got}`);
      }
    }
    const out = Readable.from(gen(), { objectMode: false });
    // A consumer that gives up early must not leave the response (and its socket) hanging.
    out.on('close', () => { cur?.res.body.destroy(); });
    return out;
  }

  async hasBlob(domain: string, repo: string, digest: string): Promise<boolean> {
    assertDigest(digest);
    const res = await this.sendFollow({ domain, method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, scopes: [`repository:${repo}:pull,push`] });
    await res.body.dump().catch(() => {});
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    if (res.statusCode === 401) throw regError('ERR_UNAUTHORIZED', `checking blob ${digest} in ${domain}/${repo}: unauthorized: authentication required`);
    throw regError('ERR_REGISTRY', `checking blob ${digest} in ${domain}/${repo}: unexpected status ${res.statusCode}`);
  }

  /** Cross-repository mount; false when the registry started a normal upload instead (it is cancelled). */
  async mountBlob(domain: string, repo: string, digest: string, fromRepo: string): Promise<boolean> {
    assertDigest(digest);
    const q = new URLSearchParams({ mount: digest, from: fromRepo });
    const res = await this.send({
      domain, method: 'POST', url: `/v2/${repo}/blobs/uploads/?${q}`,
      scopes: [`repository:${repo}:pull,push`, `repository:${fromRepo}:pull`], headers: { 'content-length': '0' },
    });
    if (res.statusCode === 201) { await res.body.dump().catch(() => {}); return true; }
    if (res.statusCode === 202) {
      const loc = header(res, 'location');
      await res.body.dump().catch(() => {});
      if (loc) await this.cancelUpload(domain, repo, loc).catch(() => {});
      return false;
    }
    throw await this.unexpected(res, `mounting blob ${digest} from ${fromRepo}`);
  }

  private async cancelUpload(domain: string, repo: string, loc: string): Promise<void> {
    const url = new URL(loc, this.baseUrl(domain)).toString();
    const res = await this.send({ domain, method: 'DELETE', url, scopes: [`repository:${repo}:pull,push`] });
    await res.body.dump().catch(() => {});
  }

  /** Upload a blob: POST to start, then a monolithic PUT (or streamed PATCH + PUT). Retries from scratch twice. */
  async pushBlob(domain: string, repo: string, digest: string, size: number, open: () => Readable | Promise<Readable>): Promise<void> {
    assertDigest(digest);
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.pushOnce(domain, repo, digest, size, open);
        return;
      } catch (e) {
        lastErr = e;
        // Only transport failures are worth another try; protocol answers repeat.
        if ((e as BerthError).code !== 'ERR_REGISTRY' || /unexpected status 4\d\d/.test((e as Error).message)) throw e;
      }
    }
    throw lastErr;
  }

  private async pushOnce(domain: string, repo: string, digest: string, size: number, open: () => Readable | Promise<Readable>): Promise<void> {
    const scopes = [`repository:${repo}:pull,push`];
    const start = await this.send({ domain, method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scopes, headers: { 'content-length': '0' } });
    if (start.statusCode === 201) { await start.body.dump().catch(() => {}); return; }
    if (start.statusCode !== 202) throw await this.unexpected(start, `starting upload of ${digest} to ${domain}/${repo}`);
    let loc = header(start, 'location');
    await start.body.dump().catch(() => {});
    if (!loc) throw regError('ERR_REGISTRY', 'upload started without a Location');
    const base = this.baseUrl(domain);
    const checkOrigin = (u: URL) => {
      // Uploads carry our credentials: keep them on the registry's origin.
      if (u.origin !== new URL(base).origin) throw regError('ERR_REGISTRY', `registry sent upload location on another origin (${u.origin})`);
    };
    let u = new URL(loc, base);
    checkOrigin(u);
    if (this.chunked && size > 0) {
      const patch = await this.send({
        domain, method: 'PATCH', url: u.toString(), scopes,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size), 'content-range': `0-${size - 1}` },
        body: open,
      });
      if (patch.statusCode !== 202) throw await this.unexpected(patch, `uploading ${digest}`);
      loc = header(patch, 'location') ?? loc;
      await patch.body.dump().catch(() => {});
      u = new URL(loc, base);
      checkOrigin(u);
      u.searchParams.set('digest', digest);
      const fin = await this.send({ domain, method: 'PUT', url: u.toString(), scopes, headers: { 'content-length': '0' } });
      if (fin.statusCode !== 201) throw await this.unexpected(fin, `completing upload of ${digest}`);
      await fin.body.dump().catch(() => {});
      return;
    }
    u.searchParams.set('digest', digest);
    const put = await this.send({
      domain, method: 'PUT', url: u.toString(), scopes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: size === 0 ? () => Buffer.alloc(0) : open,
    });
    if (put.statusCode !== 201) throw await this.unexpected(put, `uploading ${digest}`);
    await put.body.dump().catch(() => {});
  }

  // ---------------------------------------------------------------- tags

  /** All tags of a repository, following the registry's `Link` pagination (for `pull --all-tags`). */
  async listTags(domain: string, repo: string): Promise<string[]> {
    const tags: string[] = [];
    let url = `/v2/${repo}/tags/list?n=1000`;
    for (let page = 0; page < 1000; page++) {
      const res = await this.sendFollow({ domain, method: 'GET', url, scopes: [`repository:${repo}:pull`] });
      if (res.statusCode !== 200) throw await this.unexpected(res, `Get "${this.baseUrl(domain)}${url}"`);
      const body = JSON.parse((await readCapped(res.body, 16 << 20, 'tag list')).toString('utf8')) as { tags?: unknown };
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') tags.push(t);
      // Link: </v2/name/tags/list?n=1000&last=x>; rel="next"
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '')?.[1];
      if (!next) break;
      const u = new URL(next, this.baseUrl(domain));
      url = `${u.pathname}${u.search}`;
    }
    return tags;
  }

  // ---------------------------------------------------------------- login

  /** Verify credentials against a registry (for POST /auth and `berth login`). Throws ERR_UNAUTHORIZED. */
  async checkAuth(domain: string, creds: Credentials): Promise<{ status: string; identityToken?: string }> {
    const scratch = new RegistryClient({
      insecureRegistries: this.insecureList, credentials: creds, useConfigFile: false, userAgent: this.ua, dispatcher: this.dispatcher,
    });
    const res = await scratch.send({ domain, method: 'GET', url: '/v2/', scopes: [] }, creds);
    await res.body.dump().catch(() => {});
    if (res.statusCode === 401) {
      const chs = parseChallenges(res.headers['www-authenticate']);
      if (chs.length === 0 || chs.some((c) => c.scheme === 'basic') || chs.some((c) => c.scheme === 'bearer')) {
        throw regError('ERR_UNAUTHORIZED', `login attempt to ${this.baseUrl(domain)}/v2/ failed with status: 401 Unauthorized`);
      }
    }
    if (res.statusCode !== 200) throw regError('ERR_REGISTRY', `login attempt to ${this.baseUrl(domain)}/v2/ failed with status: ${res.statusCode}`);
    return { status: 'Login Succeeded' };
  }
}

function hasCreds(c: Credentials): boolean {
  return Boolean(c.username || c.identitytoken || c.registrytoken);
}

/** Verify and store credentials in the docker config file (berth login). */
export async function login(server: string, username: string, password: string,
  opts: { insecureRegistries?: string[]; dir?: string } = {}): Promise<void> {
  const client = new RegistryClient({ insecureRegistries: opts.insecureRegistries, useConfigFile: false });
  try { await storeLogin(server, username, password, { client, dir: opts.dir }); } finally { await client.close(); }
}

export { logout } from './auth-config.js';
