// Give memory back once the API goes quiet. glibc returns heap memory only from the top of a heap,
// and only when a large chunk is freed; the first container run (modules compiled on first use,
// request buffers) leaves free holes under live allocations, so an idle daemon kept 3-6 MB of
// freed memory resident. After a short quiet spell, malloc_trim(0) (build/berth-trim.node, see
// native/berth-trim.c) releases it; it takes 0.1-1.5 ms and runs once per spell.
// Without the addon (no compiler or Node headers at build time) nothing is trimmed.
// Before the trim, a full V8 collection (8-15 ms) when the old generation grew by more than 1 MiB
// since the last one: V8 collects it only under allocation pressure, so after a burst of work (250
// container runs) ~5 MB of dead objects stayed resident for as long as the daemon stayed idle. The
// collector is node's `gc` (bin/berth gives the daemon --expose-gc) or, without that flag, exposed
// at run time (util/server-heap.ts); where V8 refuses both, the daemon only trims.
// After a collection, one more trim 250 ms later: V8 gives part of what it collected back only
// after the collection returns (its sweeping and unmapping finish in the background), so the trim
// right after it left 2-3 MB more resident (61 MiB idle after 250 runs; 58.7 MiB once trimmed again).
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';
import { join } from 'node:path';
import type http from 'node:http';
import { log, logEnabled } from '../util/log.js';
import { fullCollector } from '../util/server-heap.js';
import { packageRoot } from '../util/package-root.js';

type Trim = () => boolean;
type Collect = () => void;

const GROWTH = 1 << 20;

/** Bytes in V8's old generation (young garbage goes at the next scavenge anyway). */
function oldGeneration(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (!s.space_name.startsWith('new_')) n += s.space_used_size;
  return n;
}

const mib = (n: number) => Math.round(n / 104857.6) / 10;

/** For the debug log: what is resident, and how much of it V8's heap and buffers hold. */
function memoryMiB(): Record<string, number> {
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external) };
}

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
  /** Full V8 collections so far. */
  readonly collections: number;
  stop(): void;
}

export function trimWhenIdle(
  servers: http.Server[], quietMs = 500, trim: Trim | undefined = loadTrim(), collect: Collect | undefined = fullCollector(), settleMs = 250,
): IdleTrim {
  let timer: NodeJS.Timeout | undefined;
  let followUp: NodeJS.Timeout | undefined;
  let count = 0;
  let collections = 0;
  // Old generation after the last collection (or at start): a quiet spell after a ping does not collect.
  let settled = oldGeneration();
  const run = () => {
    timer = undefined;
    const t0 = performance.now();
    let gcMs: number | undefined;
    if (collect && oldGeneration() > settled + GROWTH) {
      // Twice: the second collection compacts pages the first left fragmented (V8 keeps such pages
      // committed): after 250 runs 12 MiB of heap instead of 15, for ~10 ms more while idle. A third
      // gave nothing more.
      collect();
      collect();
      collections++;
      settled = oldGeneration();
      gcMs = Math.round((performance.now() - t0) * 10) / 10;
    }
    trim?.();
    count++;
    if (logEnabled('debug')) log.debug('idle heap trim', { ms: Math.round((performance.now() - t0) * 10) / 10, gcMs, ...memoryMiB() });
    if (gcMs !== undefined && trim) {
      (followUp = setTimeout(() => {
        followUp = undefined;
        trim();
        count++;
        if (logEnabled('debug')) log.debug('idle heap trim after the collection settled', memoryMiB());
      }, settleMs)).unref();
    }
  };
  // Re-armed by every request: one trim per quiet spell, never during a burst.
  const arm = () => {
    if (followUp) { clearTimeout(followUp); followUp = undefined; }
    if (timer) timer.refresh();
    else (timer = setTimeout(run, quietMs)).unref();
  };
  if (trim || collect) {
    for (const s of servers) {
      s.on('request', arm);
      s.on('upgrade', arm);
    }
  }
  return {
    get count() { return count; },
    get collections() { return collections; },
    stop() {
      if (timer) clearTimeout(timer);
      if (followUp) clearTimeout(followUp);
      timer = followUp = undefined;
      for (const s of servers) {
        s.off('request', arm);
        s.off('upgrade', arm);
      }
    },
  };
}
