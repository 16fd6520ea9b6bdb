// Finding host binaries on a fixed safe PATH (never the caller's PATH: the daemon runs as root).
import { statSync } from 'node:fs';
import { join } from 'node:path';

export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function which(name: string): string | undefined {
  for (const d of SAFE_PATH.split(':')) {
    const p = join(d, name);
    try { if (statSync(p).isFile()) return p; } catch { /* next */ }
  }
  return undefined;
}

/** The OCI runtimes Berth can drive that are installed here (usable or not: the probe decides). */
export function installedRuntimes(): { name: string; path: string }[] {
  return ['runc', 'crun'].flatMap((name) => { const path = which(name); return path ? [{ name, path }] : []; });
}
