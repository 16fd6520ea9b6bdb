// Pull-through cache: on a local miss, fetch from an upstream registry, verify, store, then serve.
// Upstream credentials (if configured) are sent only to the upstream origin and its token realm.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { digestOf, isDigest, type Algorithm } from '../../util/digest.js';
import { trustedFetch } from '../../util/tls-trust.js';
import { regError } from './errors.js';
import { MANIFEST_TYPES, bareType } from './manifest.js';

export interface ProxyOptions { url: string; username?: string; password?: string }

export class Upstream {
  private base: URL;
  private tokens = new Map<string, string>();
  constructor(private opts: ProxyOptions) {
    this.base = new URL(opts.url);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error('proxy URL must be http(s)');
  }

  private async get(path: string, scope: string, accept?: string): Promise<Response> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = {};
    if (accept) headers.accept = accept;
    const tok = this.tokens.get(scope);
    if (tok) headers.authorization = tok;
    let r = await trustedFetch(url, { headers, redirect: 'manual' });
    if (r.status === 401) {
      await r.body?.cancel();
      const auth = await this.login(r.headers.get('www-authenticate') ?? '', scope);
      if (auth) {
        this.tokens.set(scope, auth);
        r = await trustedFetch(url, { headers: { ...headers, authorization: auth }, redirect: 'manual' });
      }
    }
    if (r.status >= 300 && r.status < 400) {
      // Follow a redirect (e.g. to blob storage) without any credentials.
      const loc = r.headers.get('location');
      await r.body?.cancel();
      if (!loc) throw regError('ERR_REGISTRY', 'upstream redirect without location');
      r = await trustedFetch(new URL(loc, url), { headers: accept ? { accept } : {}, redirect: 'follow' });
    }
    return r;
  }

  private basic(): string | undefined {
    if (this.opts.username === undefined) return undefined;
    return 'Basic ' + Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64');
  }

  private async login(challenge: string, scope: string): Promise<string | undefined> {
    if (/^basic/i.test(challenge)) return this.basic();
    if (!/^bearer /i.test(challenge)) return undefined;
    const params: Record<string, string> = {};
    for (const m of challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
    if (!params.realm) return undefined;
    const realm = new URL(params.realm);
    if (this.base.protocol === 'https:' && realm.protocol !== 'https:') return undefined; // no downgrade
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', scope);
    const h: Record<string, string> = {};
    const b = this.basic();
    if (b) h.authorization = b;
    const r = await trustedFetch(realm, { headers: h, redirect: 'error' });
    if (!r.ok) { await r.body?.cancel(); return undefined; }
    const j = (await r.json()) as { token?: string; access_token?: string };
    const t = j.token ?? j.access_token;
    return t ? `Bearer ${t}` : undefined;
  }

  async manifest(name: string, ref: string, accept: string | undefined): Promise<{ body: Buffer; mediaType: string; digest: string } | undefined> {
    const acc = accept || [...MANIFEST_TYPES].join(', ');
    const r = await this.get(`/v2/${name}/manifests/${ref}`, `repository:${name}:pull`, acc);
    if (r.status === 404) { await r.body?.cancel(); return undefined; }
    if (!r.ok) { await r.body?.cancel(); throw regError('ERR_REGISTRY', `upstream answered ${r.status}`); }
    const len = Number(r.headers.get('content-length') ?? '0');
    if (len > 4 << 20) { await r.body?.cancel(); throw regError('ERR_REG_TOO_LARGE', 'upstream manifest too large'); }
    const body = Buffer.from(await r.arrayBuffer());
    if (body.length > 4 << 20) throw regError('ERR_REG_TOO_LARGE', 'upstream manifest too large');
    let digest: string;
    if (isDigest(ref)) {
      digest = digestOf(body, ref.slice(0, ref.indexOf(':')) as Algorithm);
      if (digest !== ref) throw regError('ERR_INVALID_DIGEST', 'upstream manifest does not match its digest');
    } else {
      digest = digestOf(body);
    }
    return { body, mediaType: bareType(r.headers.get('content-type') ?? ''), digest };
  }

  async blob(name: string, digest: string): Promise<Readable | undefined> {
    const r = await this.get(`/v2/${name}/blobs/${digest}`, `repository:${name}:pull`);
    if (r.status === 404) { await r.body?.cancel(); return undefined; }
    if (!r.ok || !r.body) { await r.body?.cancel(); throw regError('ERR_REGISTRY', `upstream answered ${r.status}`); }
    return Readable.fromWeb(r.body as unknown as WebReadableStream<Uint8Array>);
  }
}
