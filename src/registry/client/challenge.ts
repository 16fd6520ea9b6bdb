// WWW-Authenticate parsing (RFC 7235 challenges: scheme, then comma-separated auth-params).

export interface Challenge {
  scheme: string; // lower case: 'bearer', 'basic', ...
  params: Record<string, string>; // keys lower case
}

/** Parse a WWW-Authenticate header value into its challenges (several may share one header). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) {
    let i = 0;
    const s = value;
    let cur: Challenge | undefined;
    const skipWs = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
    const token = () => { const st = i; while (i < s.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++; return s.slice(st, i); };
    while (i < s.length) {
      skipWs();
      if (s[i] === ',') { i++; continue; }
      const start = i;
      const t = token();
      if (t === '') { i++; continue; }
      skipWs();
      if (s[i] === '=') {
        i++;
        skipWs();
        let v = '';
        if (s[i] === '"') {
          i++;
          while (i < s.length && s[i] !== '"') {
            if (s[i] === '\\' && i + 1 < s.length) i++;
            v += s[i];
            i++;
          }
          i++; // closing quote
        } else {
          const st = i;
          while (i < s.length && s[i] !== ',' && s[i] !== ' ') i++;
          v = s.slice(st, i);
        }
        if (cur) cur.params[t.toLowerCase()] = v;
        else void start;
      } else {
        cur = { scheme: t.toLowerCase(), params: {} };
        out.push(cur);
      }
    }
  }
  return out;
}
