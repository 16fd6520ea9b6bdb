// ~/.docker/config.json credentials (the "auths" section), compatible with the docker CLI.
// Credential helpers (credsStore/credHelpers) are not run; their keys are preserved on write.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promises as fsp } from 'node:fs';
import { BerthError } from '../../errors/index.js';
import { writeFileAtomic } from '../../util/fs.js';
import { DEFAULT_DOMAIN } from '../../oci/reference.js';

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token from a previous login. */
  identitytoken?: string;
  /** A bearer token used as is. */
  registrytoken?: string;
  serveraddress?: string;
}

export interface AuthEntry { auth?: string; identitytoken?: string; username?: string; password?: string; email?: string }
export interface DockerConfig { auths?: Record<string, AuthEntry>; [k: string]: unknown }

/** Directory of config.json: $DOCKER_CONFIG or ~/.docker. */
export function configDir(): string {
  return process.env.DOCKER_CONFIG || join(homedir(), '.docker');
}

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Key under "auths" for a server as typed by the user or a reference domain. */
export function serverKey(server: string | undefined): string {
  const s = (server ?? '').trim();
  if (s === '') return DOCKER_HUB_KEY;
  const host = hostOf(s);
  return HUB_ALIASES.has(host) ? DOCKER_HUB_KEY : host;
}

/** "https://host:port/path" → "host:port" (lower-cased host). */
function hostOf(s: string): string {
  let x = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = x.indexOf('/');
  if (slash >= 0) x = x.slice(0, slash);
  return x.toLowerCase();
}

export async function readConfig(dir = configDir()): Promise<DockerConfig> {
  let text: string;
  try { text = await fsp.readFile(join(dir, 'config.json'), 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  if (text.trim() === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as DockerConfig;
  } catch (e) {
    throw new BerthError('ERR_INVALID_ARGUMENT', `loading config file ${join(dir, 'config.json')}: ${(e as Error).message}`);
  }
}

export async function writeConfig(cfg: DockerConfig, dir = configDir()): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, 'config.json'), JSON.stringify(cfg, null, '\t') + '\n', 0o600);
}

function decodeEntry(e: AuthEntry, key: string): Credentials {
  const c: Credentials = { serveraddress: key };
  if (e.auth) {
    const raw = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = raw.indexOf(':');
    if (i > 0) { c.username = raw.slice(0, i); c.password = raw.slice(i + 1); }
  } else if (e.username !== undefined) {
    c.username = e.username;
    c.password = e.password;
  }
  if (e.identitytoken) c.identitytoken = e.identitytoken;
  return c;
}

/** Credentials stored for a registry domain (a reference's domain or a server address). */
export function credentialsFromConfig(cfg: DockerConfig, server: string): Credentials | undefined {
  const want = serverKey(server === DEFAULT_DOMAIN ? '' : server);
  for (const [k, e] of Object.entries(cfg.auths ?? {})) {
    if (serverKey(k) === want && e && (e.auth || e.identitytoken || e.username)) return decodeEntry(e, k);
  }
  return undefined;
}

export async function getCredentials(server: string, dir = configDir()): Promise<Credentials | undefined> {
  return credentialsFromConfig(await readConfig(dir), server);
}

/** Store credentials (identity token when present, else user:pass), replacing any entry for the same server. */
export async function storeCredentials(server: string, creds: Credentials, dir = configDir()): Promise<void> {
  const cfg = await readConfig(dir);
  const key = serverKey(server);
  const auths: Record<string, AuthEntry> = { ...(cfg.auths ?? {}) };
  for (const k of Object.keys(auths)) if (serverKey(k) === key) delete auths[k];
  const entry: AuthEntry = {};
  if (creds.identitytoken) {
    entry.auth = Buffer.from(`${creds.username ?? ''}:`).toString('base64');
    entry.identitytoken = creds.identitytoken;
  } else {
    entry.auth = Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64');
  }
  auths[key] = entry;
  await writeConfig({ ...cfg, auths }, dir);
}

/** Remove stored credentials; returns false when there were none. */
export async function removeCredentials(server: string, dir = configDir()): Promise<boolean> {
  const cfg = await readConfig(dir);
  const key = serverKey(server);
  const auths = { ...(cfg.auths ?? {}) };
  let found = false;
  for (const k of Object.keys(auths)) if (serverKey(k) === key) { delete auths[k]; found = true; }
  if (found) await writeConfig({ ...cfg, auths }, dir);
  return found;
}

/** Domain to contact for a server key (the Hub key maps to docker.io). */
export function domainForServer(server: string): string {
  const key = serverKey(server);
  return key === DOCKER_HUB_KEY ? DEFAULT_DOMAIN : key;
}

export interface AuthChecker { checkAuth(domain: string, creds: Credentials): Promise<unknown> }

/** Verify the credentials against the registry, then store them. */
export async function login(server: string, username: string, password: string,
  opts: { client: AuthChecker; dir?: string }): Promise<void> {
  await opts.client.checkAuth(domainForServer(server), { username, password });
  await storeCredentials(server, { username, password }, opts.dir);
}

export async function logout(server: string, dir = configDir()): Promise<boolean> {
  return removeCredentials(server, dir);
}
