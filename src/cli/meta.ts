// Facts about this installation (version from package.json, found next to bin/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

let cached: { version: string; root: string } | undefined;

export function packageInfo(): { version: string; root: string } {
  if (cached) return cached;
  const root = packageRoot();
  let version = '0.0.0';
  try {
    const j = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
    if (j.name === 'berth') version = j.version ?? version;
  } catch { /* no package.json: unknown version */ }
  return (cached = { version, root });
}
