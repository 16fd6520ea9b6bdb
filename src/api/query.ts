// Query-string parsing rules of the Docker Engine API (no I/O).
import { BerthError } from '../errors/index.js';

/** moby's BoolValue: false iff the value (trimmed, lower-cased) is "", "0", "no", "false" or "none". */
export function parseBool(v: string | null | undefined): boolean {
  if (v === null || v === undefined) return false;
  const s = v.trim().toLowerCase();
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none');
}

/** Go's strconv.Atoi as Docker reads integer values, refused (400) in its words. */
export function atoi(v: string): number {
  if (!/^[+-]?\d+$/.test(v)) throw new BerthError('ERR_INVALID_ARGUMENT', `strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** Like parseBool but returns `def` when the parameter is absent. */
export function parseBoolDefault(v: string | null | undefined, def: boolean): boolean {
  return v === null || v === undefined ? def : parseBool(v);
}

/** Filters: name → set of values. */
export type Filters = Map<string, Set<string>>;

/**
 * Parse the `filters` parameter. Accepts both shapes clients send: {"k":{"v":true}} (Go client) and
 * the legacy {"k":["v"]} (docker-py, dockerode, go-dockerclient).
 */
export function parseFilters(raw: string | null | undefined): Filters {
  const out: Filters = new Map();
  if (raw === null || raw === undefined || raw.trim() === '') return out;
  let parsed: unknown;
  try { parsed = JSON.parse(raw); } catch {
    throw new BerthError('ERR_INVALID_ARGUMENT', 'invalid filter: invalid character in filters JSON');
  }
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new BerthError('ERR_INVALID_ARGUMENT', 'invalid filter');
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    const set = new Set<string>();
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'string') set.add(x); else throw new BerthError('ERR_INVALID_ARGUMENT', `invalid filter '${k}'`);
    } else if (v !== null && typeof v === 'object') {
      for (const [x, on] of Object.entries(v as Record<string, unknown>)) if (on === true) set.add(x);
    } else if (typeof v === 'string') {
      set.add(v);
    } else {
      throw new BerthError('ERR_INVALID_ARGUMENT', `invalid filter '${k}'`);
    }
    out.set(k, set);
  }
  return out;
}

/** Reject filter names the endpoint does not know, with moby's wording. */
export function validateFilters(f: Filters, allowed: readonly string[]): void {
  for (const k of f.keys()) {
    if (!allowed.includes(k)) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid filter '${k}'`);
  }
}

/** Match labels: each filter value "k" (present) or "k=v" (equal) must hold. */
export function matchLabels(values: Set<string> | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (!values || values.size === 0) return true;
  const l = labels ?? {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i < 0) { if (!(v in l)) return false; }
    else if (l[v.slice(0, i)] !== v.slice(i + 1)) return false;
  }
  return true;
}

/**
 * Docker timestamps for since/until: unix seconds with optional fraction, or RFC 3339.
 * Returns nanoseconds since the epoch as bigint.
 */
export function parseTimestamp(s: string, now = Date.now()): bigint {
  const t = s.trim();
  if (/^-?\d+(\.\d{1,9})?$/.test(t)) {
    const [sec, frac = ''] = t.split('.');
    return BigInt(sec!) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
  }
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(t);
  if (dur) {
    const mult: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
    return BigInt(Math.round(now - Number(dur[1]) * mult[dur[2]!]!)) * 1_000_000n;
  }
  const ms = Date.parse(t);
  // Docker's API reads "seconds[.nanoseconds]" with strconv.ParseInt: its words for anything else.
  if (Number.isNaN(ms)) throw new BerthError('ERR_INVALID_ARGUMENT', `strconv.ParseInt: parsing ${JSON.stringify(s.split('.')[0])}: invalid syntax`);
  return BigInt(ms) * 1_000_000n;
}

/** Credentials for one registry (POST /auth body, X-Registry-Auth payload). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), as stored in ~/.docker/config.json. */
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Decode X-Registry-Auth: base64url or standard base64 JSON; missing or "{}" → undefined. */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (!header || header.trim() === '') return undefined;
  let text: string;
  try {
    const norm = header.trim().replace(/-/g, '+').replace(/_/g, '/');
    text = Buffer.from(norm, 'base64').toString('utf8');
  } catch { return undefined; }
  let obj: unknown;
  try { obj = JSON.parse(text); } catch { return undefined; }
  if (obj === null || typeof obj !== 'object') return undefined;
  const a = obj as Record<string, unknown>;
  const pick = (k: string): string | undefined => {
    const v = a[k] ?? a[k.charAt(0).toUpperCase() + k.slice(1)];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const out: AuthConfig = {};
  for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    const v = pick(k);
    if (v !== undefined) out[k] = v;
  }
  if (out.auth && !out.username) {
    const dec = Buffer.from(out.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) { out.username = dec.slice(0, i); out.password = dec.slice(i + 1); }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}
