// A small flag parser with pflag's (docker's) conventions: -abc bundles, -f value / -fvalue,
// --flag value / --flag=value, --bool=false, repeatable list flags, "--" ends flags, flags and
// arguments may interleave unless the command stops at its first argument.
import { BerthError } from '../errors/index.js';

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  long: string;
  short?: string;
  type: FlagType;
  description: string;
  /** Placeholder shown in help ("string", "list", …). */
  valueName?: string;
  default?: string | number | boolean;
  hidden?: boolean;
  /** A deprecated name: hidden from help, and its use warned about ("Flag --x has been deprecated, <this>"). */
  deprecated?: string;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/**
 * Information carried in BerthError.cause for errors that set the exit status. `usage`: followed by
 * the command's usage and help hint (a bad flag value); `hint`: reported as the docker CLI reports a
 * run or create it refused ("berth: <message>", then only the help hint).
 */
export interface CliErrorInfo { cli: true; exitCode: number; usage?: boolean; hint?: boolean }

export function cliError(message: string, exitCode = 1, usage = false): BerthError {
  const info: CliErrorInfo = { cli: true, exitCode, usage };
  return new BerthError('ERR_INVALID_ARGUMENT', message, { cause: info });
}

/** A refusal reported "berth: <message>" and the help hint, exit 125 unless said (see CliErrorInfo). */
export function hintError(message: string, exitCode = 125): BerthError {
  const info: CliErrorInfo = { cli: true, exitCode, hint: true };
  return new BerthError('ERR_INVALID_ARGUMENT', message, { cause: info });
}

/** `--filter name=value` flags as the filters map the API takes (values of one name add up). */
export function filterFlags(list: string[]): Record<string, string[]> {
  const filters: Record<string, string[]> = {};
  for (const x of list) {
    const i = x.indexOf('=');
    if (i <= 0) throw cliError('bad format of filter (expected name=value)');
    (filters[x.slice(0, i)] ??= []).push(x.slice(i + 1));
  }
  return filters;
}

export function cliErrorInfo(e: unknown): CliErrorInfo | undefined {
  const c = (e as { cause?: unknown } | null)?.cause as Partial<CliErrorInfo> | undefined;
  return c && typeof c === 'object' && c.cli === true ? (c as CliErrorInfo) : undefined;
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export interface ParseResult { flags: FlagValues; args: string[]; warnings: string[] }

/** Parse argv against specs. Flag errors exit 125 like docker's. */
export function parseFlags(argv: string[], specs: FlagSpec[], opts: { interspersed?: boolean } = {}): ParseResult {
  const interspersed = opts.interspersed ?? true;
  const flags: FlagValues = {};
  for (const s of specs) {
    if (s.type === 'list') flags[s.long] = [];
    else if (s.default !== undefined) flags[s.long] = s.default;
    else if (s.type === 'bool') flags[s.long] = false;
  }
  const args: string[] = [];
  const warnings: string[] = [];
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const set = (s: FlagSpec, raw: string) => {
    // pflag names the flag in its errors with its shorthand whichever form was used.
    const shown = s.short ? `-${s.short}, --${s.long}` : `--${s.long}`;
    switch (s.type) {
      case 'bool':
        if (BOOL_TRUE.has(raw)) flags[s.long] = true;
        else if (BOOL_FALSE.has(raw)) flags[s.long] = false;
        else throw cliError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`, 125, true);
        break;
      case 'int': {
        if (!/^[-+]?\d+$/.test(raw)) throw cliError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseInt: parsing "${raw}": invalid syntax`, 125, true);
        flags[s.long] = Number(raw);
        break;
      }
      case 'list': (flags[s.long] as string[]).push(raw); break;
      default: flags[s.long] = raw;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = byLong.get(name);
      if (!s) throw cliError(`unknown flag: --${name}`, 125, true);
      if (s.deprecated) warnings.push(`Flag --${name} has been deprecated, ${s.deprecated}`);
      if (eq > 0) set(s, a.slice(eq + 1));
      else if (s.type === 'bool') flags[s.long] = true;
      else {
        if (i + 1 >= argv.length) throw cliError(`flag needs an argument: --${name}`, 125, true);
        set(s, argv[++i]!);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const ch = a[j]!;
        const s = byShort.get(ch);
        if (!s) throw cliError(`unknown shorthand flag: '${ch}' in ${a}`, 125, true);
        if (s.type === 'bool') {
          if (a[j + 1] === '=') { set(s, a.slice(j + 2)); break; }
          flags[s.long] = true;
          continue;
        }
        let v = a.slice(j + 1);
        if (v.startsWith('=')) v = v.slice(1);
        else if (v === '') {
          if (i + 1 >= argv.length) throw cliError(`flag needs an argument: '${ch}' in -${ch}`, 125, true);
          v = argv[++i]!;
        }
        set(s, v);
        break;
      }
      continue;
    }
    args.push(a);
    if (!interspersed) { args.push(...argv.slice(i + 1)); break; }
  }
  return { flags, args, warnings };
}

/** pflag-style option listing for --help. */
export function flagUsage(specs: FlagSpec[]): string {
  const rows = specs.filter((s) => !s.hidden && !s.deprecated).map((s) => {
    const value = s.type === 'bool' ? '' : ` ${s.valueName ?? (s.type === 'list' ? 'list' : s.type)}`;
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${value}`;
    const def = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${typeof s.default === 'string' ? `"${s.default}"` : s.default})` : '';
    return [left, s.description + def] as const;
  });
  const w = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([l, d]) => `  ${l.padEnd(w)}   ${d}`).join('\n');
}
