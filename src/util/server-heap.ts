// The daemon's V8 settings when its node was started without the flags bin/berth gives it
// (--max-semi-space-size=1 --expose-gc; see there), e.g. by `node bin/berth daemon`: they cannot
// go on the CLI's command line (with any V8 flag node rejects the code cache of its own built-in
// modules, ~12 ms per command), so a daemon started some other way sets what it can at run time.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keep V8's young generation from growing (left alone, its semi-spaces reach 8 MiB and stay
 * resident once touched). The growth factor is read each time V8 would grow them, so it works when
 * set after start; --max-semi-space-size does not, and it is still the better setting: a daemon
 * with it idled ~2 MB smaller than one with only this.
 */
export function tuneServerHeap(): void {
  if (process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

let collector: (() => void) | undefined;

/** V8's full collection: node's `gc` when started with --expose-gc, else exposed now (once); undefined if V8 refuses. */
export function fullCollector(): (() => void) | undefined {
  if (collector) return collector;
  let g = (globalThis as { gc?: unknown }).gc;
  if (typeof g !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      // The flag applies to contexts made from now on: one more context, made once.
      g = runInNewContext('gc') as unknown;
    } catch {
      return undefined;
    }
  }
  const collect = g;
  if (typeof collect === 'function') collector = () => { (collect as () => void)(); };
  return collector;
}
