// Facts about this installation (version from package.json, found next to bin/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { version: string; root: string } | undefined;

export function packageInfo(): { version: string; root: string } {
  if (cached) return cached;
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        const j = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (j.name === 'berth') return (cached = { version: j.version ?? '0.0.0', root: d });
      } catch { /* keep looking */ }
    }
    d = dirname(d);
  }
  return (cached = { version: '0.0.0', root: d });
}
