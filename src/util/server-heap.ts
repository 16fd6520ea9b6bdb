// V8 settings of the daemon, made as it starts rather than on node's command line: bin/berth's
// first line serves the CLI too, and any V8 flag there makes node reject the code cache of its own
// built-in modules (V8 checks a hash of the flags), so every CLI command compiled node:http,
// node:net and the rest again: ~12 ms of the ~45 it takes node to start and load them on the
// 2-core test host. (`registry serve` keeps V8's defaults: its young generation may grow.)
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keep V8's young generation at its initial semi-spaces (1 MiB each). Left to grow, they reach
 * 8 MiB and stay resident once touched: 3-9 MB of an idle daemon's RSS. The growth factor is read
 * each time V8 would grow them, so it works when set after start (--max-semi-space-size does not).
 */
export function tuneServerHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** V8's full collection: node's `gc` when started with --expose-gc, else exposed now; undefined if V8 refuses. */
export function fullCollector(): (() => void) | undefined {
  let g = (globalThis as { gc?: unknown }).gc;
  if (typeof g !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      // The flag applies to contexts made from now on.
      g = runInNewContext('gc') as unknown;
    } catch {
      return undefined;
    }
  }
  const collect = g;
  return typeof collect === 'function' ? () => { (collect as () => void)(); } : undefined;
}
