// Give memory back once the API goes quiet. glibc returns heap memory only from the top of a heap,
// and only when a large chunk is freed; the first container run (modules compiled on first use,
// request buffers) leaves free holes under live allocations, so an idle daemon kept 3-6 MB of
// freed memory resident. After a short quiet spell, malloc_trim(0) (build/berth-trim.node, see
// native/berth-trim.c) releases it; it takes 0.1-1.5 ms and runs once per spell.
// Without the addon (no compiler or Node headers at build time) nothing is trimmed.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type http from 'node:http';
import { log } from '../util/log.js';
import { packageRoot } from '../util/package-root.js';

type Trim = () => boolean;

export function loadTrim(): Trim | undefined {
  try {
    const m = createRequire(import.meta.url)(join(packageRoot(), 'build', 'berth-trim.node')) as { trim?: unknown };
    return typeof m.trim === 'function' ? (m.trim as Trim) : undefined;
  } catch (e) {
    log.debug('heap trim unavailable', { err: String(e) });
    return undefined;
  }
}

export interface IdleTrim {
  /** Trims so far (for tests and diagnostics). */
  readonly count: number;
  stop(): void;
}

export function trimWhenIdle(servers: http.Server[], quietMs = 500, trim: Trim | undefined = loadTrim()): IdleTrim {
  let timer: NodeJS.Timeout | undefined;
  let count = 0;
  const run = () => {
    timer = undefined;
    const t0 = performance.now();
    trim!();
    count++;
    log.debug('idle heap trim', { ms: Math.round((performance.now() - t0) * 10) / 10, rssMiB: Math.round(process.memoryUsage.rss() / 104857.6) / 10 });
  };
  // Re-armed by every request: one trim per quiet spell, never during a burst.
  const arm = () => {
    if (timer) timer.refresh();
    else (timer = setTimeout(run, quietMs)).unref();
  };
  if (trim) {
    for (const s of servers) {
      s.on('request', arm);
      s.on('upgrade', arm);
    }
  }
  return {
    get count() { return count; },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const s of servers) {
        s.off('request', arm);
        s.off('upgrade', arm);
      }
    },
  };
}
