// Sizes as Docker's go-units reads them ("64m", "1.5g", "2 KiB", "512"), shared by the CLI's flags
// and the engine's log options.

/**
 * Bytes, or undefined when unreadable. `unit`: 1024 as RAMInBytes (memory, tmpfs), 1000 as
 * FromHumanSize (log drivers' max-size). Callers word their own errors.
 */
export function parseSize(s: string, unit: 1000 | 1024): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(s.trim());
  if (!m) return undefined;
  return Math.trunc(Number(m[1]) * unit ** (m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0));
}
