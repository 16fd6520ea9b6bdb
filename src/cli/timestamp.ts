// `--since`/`--until` as the docker CLI turns them into the API's timestamps before it sends
// them: a Go duration before now ("1h30m", "-5m"), a date or time (local unless it has a zone),
// or unix seconds passed on as they are. Errors read as the docker CLI's.

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration: nanoseconds, or the error text Go gives ("time: missing unit …"). */
export function parseGoDuration(v: string): { ns: number } | { error: string } {
  const q = JSON.stringify(v);
  let s = v;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') { neg = s[0] === '-'; s = s.slice(1); }
  if (s === '0') return { ns: 0 };
  if (s === '') return { error: `time: invalid duration ${q}` };
  let ns = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (!num[1] && !num[2]) return { error: `time: invalid duration ${q}` };
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') return { error: `time: missing unit in duration ${q}` };
    const mult = UNIT_NS[unit];
    if (mult === undefined) return { error: `time: unknown unit ${JSON.stringify(unit)} in duration ${q}` };
    s = s.slice(unit.length);
    ns += Number(`${num[1] || '0'}.${num[2] || '0'}`) * mult;
  }
  return { ns: neg ? -ns : ns };
}

/** Go's time.ParseDuration, in nanoseconds; undefined when `v` is not a duration. */
export function goDuration(v: string): number | undefined {
  const d = parseGoDuration(v);
  return 'ns' in d ? d.ns : undefined;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function parseTime(v: string, zoned: boolean): { sec: number; nanos: number } {
  const fail = (what: string): never => { throw new Error(`parsing time "${v}"${what}`); };
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!m || Boolean(m[8]) !== zoned) return fail(': cannot parse as a date or time');
  const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (mo! < 1 || mo! > 12) fail(': month out of range');
  if (d! < 1 || d! > new Date(Date.UTC(y!, mo!, 0)).getUTCDate()) fail(': day out of range');
  if (h > 23) fail(': hour out of range');
  if (mi > 59) fail(': minute out of range');
  if (s > 59) fail(': second out of range');
  const nanos = Number((m[7] ?? '').padEnd(9, '0'));
  let ms: number;
  if (!zoned) ms = new Date(y!, mo! - 1, d!, h, mi, s).getTime();
  else {
    const z = m[8]!;
    const off = /^[zZ]$/.test(z) ? 0 : (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(4, 6)));
    ms = Date.UTC(y!, mo! - 1, d!, h, mi, s) - off * 60_000;
  }
  return { sec: Math.floor(ms / 1000), nanos };
}

/**
 * docker's GetTimestamp: the value to send for `since`/`until` ("<sec>" or "<sec>.<9 digits>").
 * Throws with the docker CLI's message when the value is none of the accepted forms.
 */
export function getTimestamp(v: string, now = Date.now()): string {
  const d = v === '0' ? undefined : goDuration(v);
  if (d !== undefined) return String(Math.floor((now - d / 1e6) / 1000));
  // A zone ("Z", "+hh:mm") or a negative offset (a third dash) means the time is not local.
  const zoned = /[zZ+]/.test(v) || (v.match(/-/g) ?? []).length === 3;
  if (/^\d{4}-/.test(v) || v.includes('-')) {
    const t = parseTime(v, zoned);
    return `${t.sec}.${pad(t.nanos, 9)}`;
  }
  // Unix seconds, with an optional fraction, go to the daemon as they are.
  if (/^\d+(\.\d*)?$/.test(v)) return v;
  throw new Error(`failed to parse value as time or duration: "${v}"`);
}
