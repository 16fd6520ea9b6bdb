// Registry credentials for the CLI: the docker config file (~/.docker/config.json "auths", via
// the registry client's auth-config module, so berth and docker share one store) plus docker
// credential helpers (credsStore / credHelpers), which that module leaves alone.
import { spawn } from 'node:child_process';
import { BerthError } from '../errors/index.js';
import {
  DOCKER_HUB_KEY, readConfig, credentialsFromConfig, storeCredentials, removeCredentials, serverKey as configKey,
  type DockerConfig,
} from '../registry/client/auth-config.js';
import type { AuthConfig } from '../client/types.js';

/** The key Docker Hub credentials live under. */
export const INDEX_SERVER = DOCKER_HUB_KEY;

interface HelperConfig extends DockerConfig { credsStore?: string; credHelpers?: Record<string, string> }

/** "https://host:5000/v2/" → "host:5000" (docker's ConvertToHostname). */
export function hostnameOf(server: string): string {
  let s = server.replace(/^https?:\/\//, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  return s;
}

/** The config key for a server or reference domain (Docker Hub → the index URL). */
export function serverKey(server: string): string {
  return configKey(server);
}

/** Registry domain of an image reference, without normalising anything else. */
export function domainOfReference(ref: string): string {
  const i = ref.indexOf('/');
  if (i < 0) return 'docker.io';
  const first = ref.slice(0, i);
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) return first;
  return 'docker.io';
}

function helperFor(cfg: HelperConfig, key: string): string | undefined {
  return cfg.credHelpers?.[hostnameOf(key)] ?? cfg.credHelpers?.[key] ?? cfg.credsStore;
}

/** Run docker-credential-<helper> <action> with `input` on stdin. */
function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(`docker-credential-${helper}`, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const verb = action === 'get' ? 'getting' : action === 'store' ? 'storing' : 'erasing';
    p.stdout.on('data', (d: Buffer) => { out += d; });
    p.stderr.on('data', (d: Buffer) => { err += d; });
    p.on('error', (e) => reject(new BerthError('ERR_INTERNAL', `error ${verb} credentials - err: ${e.message}`)));
    p.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new BerthError('ERR_INTERNAL', `error ${verb} credentials - err: exit status ${code}, out: \`${(out || err).trim()}\``));
    });
    p.stdin.on('error', () => { /* helper exited early; reported by close */ });
    p.stdin.end(input);
  });
}

/** Stored credentials for a registry domain (or undefined: anonymous). */
export async function lookupAuth(configDir: string, domain: string): Promise<AuthConfig | undefined> {
  const cfg = (await readConfig(configDir)) as HelperConfig;
  const key = serverKey(domain);
  const helper = helperFor(cfg, key);
  if (helper) {
    try {
      const out = JSON.parse(await runHelper(helper, 'get', key)) as { Username?: string; Secret?: string };
      if (out.Username === '<token>') return { identitytoken: out.Secret, serveraddress: key };
      if (out.Username || out.Secret) return { username: out.Username, password: out.Secret, serveraddress: key };
    } catch { /* not stored there: fall back to the file */ }
  }
  const c = credentialsFromConfig(cfg, domain);
  if (!c || !(c.username || c.identitytoken)) return undefined;
  const a: AuthConfig = { serveraddress: key };
  if (c.username) a.username = c.username;
  if (c.password) a.password = c.password;
  if (c.identitytoken) a.identitytoken = c.identitytoken;
  return a;
}

/** Save credentials under `key` (an identity token replaces the password, as docker does). */
export async function storeAuth(configDir: string, key: string, a: { username: string; password?: string; identitytoken?: string }): Promise<void> {
  const cfg = (await readConfig(configDir)) as HelperConfig;
  const helper = helperFor(cfg, key);
  if (helper) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: a.identitytoken ? '<token>' : a.username, Secret: a.identitytoken ?? a.password ?? '' }));
    return;
  }
  await storeCredentials(key, a, configDir);
}

/** Remove credentials for `key`; false when there were none. */
export async function eraseAuth(configDir: string, key: string): Promise<boolean> {
  const cfg = (await readConfig(configDir)) as HelperConfig;
  const helper = helperFor(cfg, key);
  let erased = false;
  if (helper) erased = await runHelper(helper, 'erase', key).then(() => true, () => false);
  return (await removeCredentials(key, configDir)) || erased;
}
