// Human-readable sizes and durations the way the docker CLI prints them (go-units semantics).

/** Go's fmt "%.<p>g": p significant digits, exponent form for very small/large values, no trailing zeros. */
export function formatG(x: number, p: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const [mant, expStr] = x.toExponential(p - 1).split('e') as [string, string];
  const exp = Number(expStr);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= p) {
    const e = Math.abs(exp);
    return `${trim(mant)}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return trim(x.toFixed(Math.max(0, p - 1 - exp)));
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scale(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) { size /= base; i++; }
  return [size, units[i]!];
}

/** Decimal units with `precision` significant digits: 1984172 → "1.98MB" (images, history, df). */
export function humanSize(n: number, precision = 3): string {
  const [v, u] = scale(n, 1000, DECIMAL);
  return formatG(v, precision) + u;
}

/** Binary units, as docker prints memory ("1.944GiB"). */
export function bytesSize(n: number): string {
  const [v, u] = scale(n, 1024, BINARY);
  return formatG(v, 4) + u;
}

/** go-units HumanDuration: "Less than a second", "About a minute", "2 hours", "3 weeks", … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "<duration> ago" for a unix-seconds timestamp. */
export function since(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Go's time.Time.String() for a whole-second time in the local zone: "2026-11-28 16:43:59 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const zone = `${sign}${pad2(Math.trunc(Math.abs(off) / 60))}${pad2(Math.abs(off) % 60)}`;
  const name = off === 0 ? 'UTC' : zone;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${zone} ${name}`;
}

/** RFC 3339 in the local zone, as `docker history --human=false` prints ("2026-11-28T16:43:26Z"). */
export function rfc3339(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const base = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (off === 0) return base + 'Z';
  return `${base}${off < 0 ? '-' : '+'}${pad2(Math.trunc(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
}

/** First 12 hex digits of an ID, without the algorithm prefix. */
export function shortId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** Truncate to `max` display characters with a trailing "…" (docker's Ellipsis). */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 1) return chars.slice(0, max).join('');
  return chars.slice(0, max - 1).join('') + '…';
}
