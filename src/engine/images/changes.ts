// `commit --change` and `import --change`: the Dockerfile instructions Docker takes there, applied to
// an image config as Docker's builder dispatches them (its checks and words included).
import { posix } from 'node:path';
import { BerthError } from '../../errors/index.js';

/** What Docker's daemon accepts as a change (moby's validCommitCommands): no STOPSIGNAL, no RUN. */
const COMMANDS = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);

const bad = (msg: string) => new BerthError('ERR_INVALID_ARGUMENT', msg);

/**
 * Split `text` into words as Dockerfile arguments are split: on whitespace outside quotes, the
 * quotes and escapes kept (they are interpreted later, word by word, by `processWord`).
 */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!quote && /\s/.test(ch)) {
      if (inWord) { words.push(cur); cur = ''; inWord = false; }
      continue;
    }
    inWord = true;
    cur += ch;
    if (ch === '\\' && quote !== "'" && i + 1 < text.length) { cur += text[++i]; continue; }
    if (quote ? ch === quote : ch === '"' || ch === "'") quote = quote ? '' : ch;
  }
  if (inWord) words.push(cur);
  return words;
}

/** One word as Docker's shell lexer reads it: quotes removed, escapes and $VAR / ${VAR} expanded from `env`. */
function processWord(word: string, env: string[]): string {
  const lookup = (name: string) => {
    for (let i = env.length - 1; i >= 0; i--) if (env[i]!.startsWith(`${name}=`)) return env[i]!.slice(name.length + 1);
    return undefined;
  };
  let out = '';
  let quote = '';
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (quote === "'") { if (ch === "'") quote = ''; else out += ch; continue; }
    if (ch === '\\' && i + 1 < word.length) {
      const next = word[i + 1]!;
      // Inside double quotes only \" \\ \$ are escapes; elsewhere any character is taken as is.
      if (quote === '"' && !['"', '\\', '$'].includes(next)) out += ch;
      else i++;
      out += next;
      continue;
    }
    if (ch === '"') { quote = quote ? '' : '"'; continue; }
    if (ch === "'" && !quote) { quote = "'"; continue; }
    if (ch === '$') {
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}/.exec(word.slice(i));
      const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(word.slice(i));
      if (braced) {
        const v = lookup(braced[1]!);
        out += braced[2] === ':-' ? (v || braced[3]!) : braced[2] === ':+' ? (v ? braced[3]! : '') : (v ?? '');
        i += braced[0].length - 1;
        continue;
      }
      if (plain) { out += lookup(plain[1]!) ?? ''; i += plain[0].length - 1; continue; }
    }
    out += ch;
  }
  return out;
}

/** `KEY=value ...` pairs (or the legacy `KEY value`) of ENV and LABEL, in Docker's words when malformed. */
function nameValues(kw: string, rest: string, env: string[]): [string, string][] {
  const words = splitWords(rest);
  if (!words.length) throw bad(`${kw} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 2) throw bad(`${kw} must have two arguments`);
    const value = rest.trim().slice(parts[0]!.length).trim();
    return [[processWord(parts[0]!, env), processWord(value, env)]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) throw bad(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    return [processWord(w.slice(0, i), env), processWord(w.slice(i + 1), env)];
  });
}

/** A JSON array of strings (exec form), or undefined for the shell form. */
function execForm(rest: string): string[] | undefined {
  const t = rest.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch { /* not JSON: shell form, as Docker reads it */ }
  return undefined;
}

/** A Go duration ("30s", "1m30s") in nanoseconds. */
function goDuration(s: string): number {
  const unit: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const body = s.replace(/^[+-]/, '');
  let total = 0;
  let matched = '';
  for (const m of body.matchAll(/(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) { total += Number(m[1]) * unit[m[2]!]!; matched += m[0]; }
  if (body !== '0' && (matched !== body || body === '')) throw bad(`time: invalid duration ${JSON.stringify(s)}`);
  return Math.round(s.startsWith('-') ? -total : total);
}

function healthcheck(rest: string): Record<string, unknown> {
  const words = splitWords(rest);
  const opts: Record<string, number> = {};
  const fields: Record<string, string> = { interval: 'Interval', timeout: 'Timeout', 'start-period': 'StartPeriod', 'start-interval': 'StartInterval', retries: 'Retries' };
  let i = 0;
  for (; i < words.length && words[i]!.startsWith('--'); i++) {
    const [name = '', value = ''] = words[i]!.slice(2).split(/=(.*)/s, 2);
    const field = fields[name];
    if (!field) throw bad(`Unknown flag: ${name}`);
    if (name === 'retries') {
      const n = Number(value);
      if (!/^-?\d+$/.test(value)) throw bad(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
      if (n < 0) throw bad(`--retries cannot be negative (${n})`);
      if (n) opts[field] = n;
    } else {
      const ns = goDuration(value);
      if (ns) opts[field] = ns;
    }
  }
  const typ = (words[i] ?? '').toUpperCase();
  if (!typ) throw bad('HEALTHCHECK requires at least one argument');
  if (typ === 'NONE') {
    if (words.length > i + 1) throw bad('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (typ !== 'CMD') throw bad(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmdText = rest.slice(rest.search(/\bCMD\b/i) + 3).trim();
  const exec = execForm(cmdText);
  return { Test: exec ? ['CMD', ...exec] : ['CMD-SHELL', cmdText], ...opts };
}

/** `EXPOSE` ports: `80`, `80/udp`, `8000-8002/tcp`, as Docker's nat package reads them. */
function exposed(word: string): string[] {
  const [range = '', proto = 'tcp'] = word.split('/', 2);
  if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw bad(`Invalid proto: ${proto}`);
  const m = /^(\d+)(?:-(\d+))?$/.exec(range);
  const start = m ? Number(m[1]) : NaN;
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535 || end < start) throw bad(`Invalid containerPort: ${range}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto.toLowerCase()}`);
  return out;
}

/**
 * Apply Dockerfile-style `changes` to an image's run config (a copy is returned). As Docker's
 * builder: every instruction is checked against the allowed ones first, ENTRYPOINT drops an
 * inherited CMD unless a CMD came before it, relative WORKDIRs join the current one, and
 * ENV/LABEL/EXPOSE/VOLUME/USER/WORKDIR words are unquoted and expanded from the config's Env.
 */
export function applyChanges(base: Record<string, unknown>, changes: string[]): Record<string, unknown> {
  const c: Record<string, unknown> = { ...base };
  // Docker reads the changes as the lines of one Dockerfile: blank and comment lines are skipped,
  // and changes given with no instruction at all are refused.
  const lines = changes.flatMap((l) => l.split('\n')).map((l) => /^\s*(\w+)(?:\s+([\s\S]*))?$/.exec(l)).filter((m): m is RegExpExecArray => !!m);
  if (changes.length && !lines.length) throw bad('file with no instructions');
  for (const m of lines) if (!COMMANDS.has(m[1]!.toLowerCase())) throw bad(`${m[1]!.toLowerCase()} is not a valid change command`);
  let cmdSet = false;
  const shell = () => (Array.isArray(c.Shell) && c.Shell.length ? (c.Shell as string[]) : ['/bin/sh', '-c']);
  const env = () => (c.Env as string[] | undefined) ?? [];
  // Exec form (an empty list is none, as Docker stores it) or shell form.
  const command = (arg: string) => {
    const exec = execForm(arg);
    if (exec) return exec.length ? exec : null;
    return arg ? [...shell(), arg] : shell();
  };
  for (const m of lines) {
    const kw = m[1]!.toUpperCase();
    const rest = m[2] ?? '';
    const arg = rest.trim();
    switch (kw) {
      case 'CMD':
        c.Cmd = command(arg);
        cmdSet = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = command(arg);
        if (!cmdSet) c.Cmd = null;
        break;
      case 'ENV': {
        const next = [...env()];
        for (const [k, v] of nameValues(kw, rest, env())) {
          const i = next.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) next[i] = `${k}=${v}`; else next.push(`${k}=${v}`);
        }
        c.Env = next;
        break;
      }
      case 'LABEL': {
        const labels = { ...((c.Labels as Record<string, string> | null | undefined) ?? {}) };
        for (const [k, v] of nameValues(kw, rest, env())) labels[k] = v;
        c.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const words = splitWords(rest);
        if (!words.length) throw bad('EXPOSE requires at least one argument');
        const ports = { ...((c.ExposedPorts as Record<string, object> | null | undefined) ?? {}) };
        for (const w of words) for (const p of exposed(processWord(w, env()))) ports[p] = {};
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const list = execForm(arg) ?? splitWords(rest).map((w) => processWord(w, env()));
        if (!list.length) throw bad('VOLUME requires at least one argument');
        const vols = { ...((c.Volumes as Record<string, object> | null | undefined) ?? {}) };
        for (const v of list) {
          if (!v.trim()) throw bad('VOLUME specified can not be an empty string');
          vols[v.trim()] = {};
        }
        c.Volumes = vols;
        break;
      }
      case 'USER':
        if (!arg) throw bad('USER requires exactly one argument');
        c.User = processWord(arg, env());
        break;
      case 'WORKDIR': {
        if (!arg) throw bad('WORKDIR requires exactly one argument');
        const w = processWord(arg, env());
        if (!w) throw bad('cannot normalize nothing');
        c.WorkingDir = w.startsWith('/') ? w : posix.join('/', (c.WorkingDir as string | undefined) ?? '', w);
        break;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = healthcheck(rest);
        break;
      case 'ONBUILD': {
        if (!arg) throw bad('ONBUILD requires at least one argument');
        const trigger = arg.split(/\s+/)[0]!.toUpperCase();
        if (trigger === 'ONBUILD') throw bad('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw bad(`${trigger} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...((c.OnBuild as string[] | null | undefined) ?? []), arg];
        break;
      }
    }
  }
  return c;
}
