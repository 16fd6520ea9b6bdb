// Authentication and authorisation: none, htpasswd (bcrypt) basic auth, or Docker's token flow
// with a built-in token endpoint issuing ES256/RS256 JWTs. Scope checks follow distribution's
// method → action mapping (R12).
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import bcrypt from 'bcryptjs';
import { regError } from './errors.js';

export interface Access { type: string; name: string; actions: string[] }

export interface AclRule { account: string; name: string; actions: string[] }

export interface TokenOptions {
  issuer: string;
  service?: string;
  /** PEM private key (EC P-256 → ES256, RSA → RS256); a fresh P-256 key when absent. */
  privateKey?: string | KeyObject;
  realm?: string;
  ttlSeconds?: number;
}

export interface AuthOptions {
  htpasswd?: string;
  token?: TokenOptions;
  /** When set, only these grants exist ('*' matches any account, a name ending in '/*' or '*' is a prefix). */
  acl?: AclRule[];
}

export interface Principal { account?: string; access?: Access[] }

export class Auth {
  readonly mode: 'none' | 'basic' | 'token';
  private users = new Map<string, string>();
  private okCache = new Set<string>();
  private key?: KeyObject;
  private pub?: KeyObject;
  private alg?: 'ES256' | 'RS256';
  readonly service: string;
  readonly issuer: string;
  private ttl: number;
  private realm?: string;
  private acl?: AclRule[];

  constructor(opts: AuthOptions) {
    if (opts.htpasswd) this.users = parseHtpasswd(readFileSync(opts.htpasswd, 'utf8'));
    this.acl = opts.acl;
    this.mode = opts.token ? 'token' : opts.htpasswd ? 'basic' : 'none';
    this.service = opts.token?.service ?? 'berth-registry';
    this.issuer = opts.token?.issuer ?? 'berth-registry';
    this.ttl = opts.token?.ttlSeconds ?? 300;
    this.realm = opts.token?.realm;
    if (opts.token) {
      const k = opts.token.privateKey;
      this.key = k === undefined ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
        : typeof k === 'string' ? createPrivateKey(k) : k;
      this.pub = createPublicKey(this.key);
      const t = this.key.asymmetricKeyType;
      if (t === 'ec') {
        if (this.key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('token key must be EC P-256 or RSA');
        this.alg = 'ES256';
      } else if (t === 'rsa') this.alg = 'RS256';
      else throw new Error('token key must be EC P-256 or RSA');
    }
  }

  get publicKey(): KeyObject | undefined { return this.pub; }

  /** Check a username/password against htpasswd; successful checks are cached (bcrypt is slow). */
  async checkPassword(user: string, pass: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = createHash('sha256').update(`${user}\0${pass}\0${hash}`).digest('hex');
    if (this.okCache.has(key)) return true;
    const ok = await bcrypt.compare(pass, hash);
    if (ok) this.okCache.add(key);
    return ok;
  }

  /** Which of `wanted` the account may do on type:name. */
  permitted(account: string | undefined, type: string, name: string, wanted: string[]): string[] {
    if (!this.acl) {
      // Without an ACL: anyone when no users are configured, otherwise any authenticated user.
      if (this.users.size === 0 || account !== undefined) return wanted;
      return [];
    }
    const granted = new Set<string>();
    for (const r of this.acl) {
      if (r.account !== '*' && r.account !== (account ?? '')) continue;
      const n = r.name;
      const match = n === '*' || n === name || (n.endsWith('*') && name.startsWith(n.slice(0, -1)));
      if (!match) continue;
      for (const a of r.actions) granted.add(a);
    }
    if (type === 'registry') return account !== undefined || this.users.size === 0 ? wanted : [];
    return wanted.filter((a) => granted.has(a) || granted.has('*'));
  }

  /** Authenticate a request; throws UNAUTHORIZED (with a challenge built by `challenge`) when needed. */
  async authenticate(req: IncomingMessage): Promise<Principal> {
    const h = req.headers.authorization;
    if (this.mode === 'none') return {};
    if (this.mode === 'basic') {
      const cred = h ? parseBasic(h) : undefined;
      if (!cred || !(await this.checkPassword(cred.user, cred.pass))) throw regError('ERR_UNAUTHORIZED', 'authentication required');
      return { account: cred.user };
    }
    if (!h || !/^bearer /i.test(h)) throw regError('ERR_UNAUTHORIZED', 'authentication required');
    const claims = this.verifyToken(h.slice(7).trim());
    return { account: typeof claims.sub === 'string' ? claims.sub : undefined, access: claims.access };
  }

  /** Throws unless the principal holds every action in `need`. */
  authorize(p: Principal, need: Access[]): void {
    if (this.mode === 'none') return;
    for (const n of need) {
      let have: string[];
      if (this.mode === 'token') {
        have = [];
        for (const a of p.access ?? []) if (a.type === n.type && a.name === n.name) have.push(...a.actions);
      } else {
        have = this.permitted(p.account, n.type, n.name, n.actions);
      }
      for (const a of n.actions) {
        if (!have.includes(a) && !have.includes('*')) {
          if (this.mode === 'token') throw regError('ERR_UNAUTHORIZED', 'insufficient scope', { insufficient: true });
          throw regError('ERR_FORBIDDEN', 'requested access to the resource is denied');
        }
      }
    }
  }

  /** Grants of a principal for a repository name (catalog filtering). */
  canPull(p: Principal, name: string): boolean {
    if (this.mode === 'none') return true;
    if (this.mode === 'token') {
      if (!this.acl) return true;
      return this.permitted(p.account, 'repository', name, ['pull']).length > 0;
    }
    return this.permitted(p.account, 'repository', name, ['pull']).length > 0;
  }

  challenge(req: IncomingMessage, need: Access[], secure: boolean, insufficient: boolean): string {
    if (this.mode === 'basic') return 'Basic realm="berth-registry"';
    const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(req.headers.host) ? req.headers.host : 'localhost';
    const realm = this.realm ?? `${secure ? 'https' : 'http'}://${host}/token`;
    let c = `Bearer realm="${realm}",service="${this.service}"`;
    if (need.length) c += `,scope="${need.map((n) => `${n.type}:${n.name}:${n.actions.join(',')}`).join(' ')}"`;
    if (insufficient) c += ',error="insufficient_scope"';
    return c;
  }

  // ---- token endpoint ----

  /** GET /token?service=&scope=... with optional Basic credentials. */
  async issue(req: IncomingMessage, url: URL): Promise<{ token: string; expires_in: number; issued_at: string }> {
    if (!this.key || !this.alg) throw regError('ERR_REG_UNSUPPORTED', 'token endpoint is not enabled');
    let account: string | undefined;
    const h = req.headers.authorization;
    if (h) {
      const cred = parseBasic(h);
      if (!cred || !(await this.checkPassword(cred.user, cred.pass))) throw regError('ERR_UNAUTHORIZED', 'invalid username or password');
      account = cred.user;
    } else if (this.users.size > 0 && url.searchParams.getAll('scope').length === 0) {
      throw regError('ERR_UNAUTHORIZED', 'authentication required');
    }
    const svc = url.searchParams.get('service');
    if (svc !== null && svc !== this.service) throw regError('ERR_INVALID_ARGUMENT', 'unknown service');
    const access: Access[] = [];
    for (const s of url.searchParams.getAll('scope').flatMap((x) => x.split(' '))) {
      const a = parseScope(s);
      if (!a) continue;
      const granted = this.permitted(account, a.type, a.name, a.actions);
      if (granted.length) access.push({ type: a.type, name: a.name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.issuer, sub: account ?? '', aud: this.service, exp: now + this.ttl, nbf: now - 1, iat: now,
      jti: randomBytes(12).toString('hex'), access,
    };
    return { token: this.signJwt(claims), expires_in: this.ttl, issued_at: new Date(now * 1000).toISOString() };
  }

  signJwt(claims: object): string {
    const header = b64u(JSON.stringify({ alg: this.alg, typ: 'JWT' }));
    const input = `${header}.${b64u(JSON.stringify(claims))}`;
    const sig = this.alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: this.key!, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), this.key!);
    return `${input}.${b64u(sig)}`;
  }

  /** Verify a JWT strictly: our algorithm only (no none/HS*), no embedded keys, our iss and aud, not expired. */
  verifyToken(token: string): { sub?: unknown; access: Access[] } {
    const bad = (why: string) => regError('ERR_UNAUTHORIZED', `invalid token: ${why}`);
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 16384) throw bad('malformed');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch { throw bad('malformed'); }
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) throw bad('malformed');
    if (header.alg !== this.alg) throw bad('unexpected algorithm');
    for (const k of ['jwk', 'jku', 'x5u', 'x5c', 'crit']) if (k in header) throw bad(`header "${k}" is not accepted`);
    const input = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2]!, 'base64url');
    const ok = this.alg === 'ES256'
      ? verify('sha256', input, { key: this.pub!, dsaEncoding: 'ieee-p1363' }, sig)
      : verify('sha256', input, this.pub!, sig);
    if (!ok) throw bad('bad signature');
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.issuer) throw bad('wrong issuer');
    const aud = claims.aud;
    if (!(aud === this.service || (Array.isArray(aud) && aud.includes(this.service)))) throw bad('wrong audience');
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw bad('expired');
    if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw bad('not yet valid');
    const access: Access[] = [];
    if (Array.isArray(claims.access)) {
      for (const a of claims.access as unknown[]) {
        const o = a as Record<string, unknown>;
        if (o && typeof o.type === 'string' && typeof o.name === 'string' && Array.isArray(o.actions)) {
          access.push({ type: o.type, name: o.name, actions: o.actions.filter((x): x is string => typeof x === 'string') });
        }
      }
    }
    return { sub: claims.sub, access };
  }
}

function b64u(s: string | Buffer): string { return Buffer.from(s).toString('base64url'); }

export function parseBasic(h: string): { user: string; pass: string } | undefined {
  if (!/^basic /i.test(h)) return undefined;
  const s = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const i = s.indexOf(':');
  if (i <= 0) return undefined;
  return { user: s.slice(0, i), pass: s.slice(i + 1) };
}

export function parseScope(s: string): Access | undefined {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  const type = s.slice(0, first).replace(/\(.*\)$/, '');
  const name = s.slice(first + 1, last);
  const actions = s.slice(last + 1).split(',').filter((a) => /^(pull|push|delete|\*)$/.test(a));
  if (!actions.length || (type !== 'repository' && type !== 'registry')) return undefined;
  return { type, name, actions };
}

export function parseHtpasswd(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const hash = l.slice(i + 1);
    if (/^\$2[abxy]\$\d\d\$/.test(hash)) m.set(l.slice(0, i), hash); // bcrypt only, as distribution
  }
  return m;
}
