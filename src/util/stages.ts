// Per-stage wall-time breakdown for debug logs (e.g. a container's start and exit paths), so a
// latency regression shows where the time went without a profiler.
import { log, logEnabled } from './log.js';

export interface Stages {
  /** Close the current stage under `name`. */
  mark(name: string): void;
  /** Log every stage and the total at debug level. */
  done(fields?: Record<string, unknown>): void;
}

const NOOP: Stages = { mark() {}, done() {} };

export function stages(what: string): Stages {
  if (!logEnabled('debug')) return NOOP;
  const t0 = performance.now();
  let last = t0;
  const parts: Record<string, number> = {};
  const ms = (a: number, b: number) => Math.round((b - a) * 10) / 10;
  return {
    mark(name) { const now = performance.now(); parts[name] = (parts[name] ?? 0) + ms(last, now); last = now; },
    done(fields) { log.debug(what, { ...fields, ...parts, totalMs: ms(t0, performance.now()) }); },
  };
}
