// Docker's detach keys (ctrl-p,ctrl-q unless told otherwise): the daemon watches an attach's input
// for them and ends the attach, and the CLI does the same on its side.
import { errors } from '../errors/index.js';

const CTRL_PUNCT: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, '_': 31 };

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Docker's detach-key syntax: comma-separated single characters or ctrl-<key>. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const m = /^ctrl-(.)$/i.exec(k);
    const c = m?.[1]!.toLowerCase();
    if (k.length === 1) out.push(k.charCodeAt(0));
    else if (c && c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c && c in CTRL_PUNCT) out.push(CTRL_PUNCT[c]!);
    else throw errors.invalid(`Invalid detach keys (${spec}) provided`);
  }
  return Buffer.from(out);
}

/**
 * Pass input through, holding back what may be the start of the detach sequence; calls onDetach
 * once the whole sequence was typed (the sequence itself is never passed on).
 */
export function detachFilter(keys: Buffer, send: (b: Buffer) => void, onDetach: () => void): (d: Buffer) => void {
  let held = 0;
  return (d: Buffer) => {
    const out: number[] = [];
    for (const byte of d) {
      if (byte === keys[held]) {
        if (++held < keys.length) continue;
        if (out.length) send(Buffer.from(out));
        onDetach();
        return;
      }
      // Not the sequence after all: release what was held back.
      out.push(...keys.subarray(0, held));
      held = byte === keys[0] ? 1 : 0;
      if (held === 0) out.push(byte);
    }
    if (out.length) send(Buffer.from(out));
  };
}
