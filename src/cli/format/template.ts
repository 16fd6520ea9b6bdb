// A subset of Go's text/template for `--format`: fields (.A.B), $variables, pipelines, parentheses,
// if/else/with/range (with $k, $v :=), literals, the trim markers {{- -}}, comments, and the
// functions docker users rely on (json, index, join, split, upper, lower, title, len, print(f/ln),
// pad, truncate, eq/ne/lt/le/gt/ge, and/or/not, slice). Values are JSON data; they print the way Go
// prints docker's typed structs (nil lists "[]", nil maps "map[]", structs "{a b}").
import { BerthError } from '../../errors/index.js';

type Tok =
  | { t: 'field'; v: string[] } // .A.B  ('.' alone → [])
  | { t: 'var'; v: string; fields: string[] } // $x.A
  | { t: 'ident'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'chain'; v: string[] } // .A.B directly after ')'
  | { t: '|' } | { t: '(' } | { t: ')' } | { t: ':=' } | { t: '=' } | { t: ',' };

type Arg =
  | { k: 'field'; path: string[] }
  | { k: 'var'; name: string; path: string[] }
  | { k: 'ident'; name: string }
  | { k: 'lit'; v: unknown }
  | { k: 'pipe'; pipe: Pipe; path: string[] };

interface Cmd { args: Arg[]; src: string }
interface Pipe { decl: string[]; assign: boolean; cmds: Cmd[] }

type Node =
  | { n: 'text'; v: string }
  | { n: 'action'; pipe: Pipe }
  | { n: 'if' | 'with'; pipe: Pipe; body: Node[]; els: Node[] }
  | { n: 'range'; pipe: Pipe; body: Node[]; els: Node[] };

function fail(msg: string): never {
  throw new BerthError('ERR_INVALID_ARGUMENT', `template parsing error: template: :1: ${msg}`);
}

function execFail(src: string, msg: string): never {
  throw new BerthError('ERR_INVALID_ARGUMENT', `template parsing error: template: :1: executing "" at <${src}>: ${msg}`);
}

// ---- lexing --------------------------------------------------------------------------------------

function lexAction(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const ident = /[A-Za-z0-9_]/;
  const readPath = (): string[] => {
    const path: string[] = [];
    while (s[i] === '.' && i + 1 < s.length && /[A-Za-z_]/.test(s[i + 1]!)) {
      i++;
      let j = i;
      while (j < s.length && ident.test(s[j]!)) j++;
      path.push(s.slice(i, j));
      i = j;
    }
    return path;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '|' || c === '(' || c === ',') { out.push({ t: c }); i++; continue; }
    if (c === ')') {
      out.push({ t: ')' }); i++;
      if (s[i] === '.') out.push({ t: 'chain', v: readPath() });
      continue;
    }
    if (c === ':' && s[i + 1] === '=') { out.push({ t: ':=' }); i += 2; continue; }
    if (c === '=') { out.push({ t: '=' }); i++; continue; }
    if (c === '.') {
      if (i + 1 < s.length && /[A-Za-z_]/.test(s[i + 1]!)) out.push({ t: 'field', v: readPath() });
      else { out.push({ t: 'field', v: [] }); i++; }
      continue;
    }
    if (c === '$') {
      let j = i + 1;
      while (j < s.length && ident.test(s[j]!)) j++;
      const name = s.slice(i, j);
      i = j;
      out.push({ t: 'var', v: name, fields: readPath() });
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) fail('unterminated quoted string');
      out.push({ t: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw quoted string');
      out.push({ t: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === '\'') {
      const j = s.indexOf('\'', i + 1);
      if (j < 0) fail('unterminated character constant');
      out.push({ t: 'num', v: s.slice(i + 1, j).codePointAt(0) ?? 0 });
      i = j + 1;
      continue;
    }
    const num = /^[-+]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)/.exec(s.slice(i));
    if (num && (/\d/.test(c) || ((c === '-' || c === '+') && /\d/.test(s[i + 1] ?? '')))) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < s.length && ident.test(s[j]!)) j++;
      out.push({ t: 'ident', v: s.slice(i, j) });
      i = j;
      continue;
    }
    fail(`unexpected "${c}" in command`);
  }
  return out;
}

interface RawAction { kind: 'text' | 'action'; v: string }

function splitTemplate(src: string): RawAction[] {
  const parts: RawAction[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (text) parts.push({ kind: 'text', v: text }); break; }
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) { text = text.replace(/\s+$/, ''); start += 2; }
    if (text) parts.push({ kind: 'text', v: text });
    // Find the closing braces outside of string literals.
    let j = start;
    let q: string | undefined;
    for (; j < src.length; j++) {
      const c = src[j]!;
      if (q) { if (c === '\\' && q === '"') j++; else if (c === q) q = undefined; continue; }
      if (c === '"' || c === '`') { q = c; continue; }
      if (c === '}' && src[j + 1] === '}') break;
    }
    if (j >= src.length) fail('unclosed action');
    let body = src.slice(start, j);
    if (/\s-$/.test(body)) { body = body.slice(0, -2); trimNext = true; }
    const t = body.trim();
    if (!(t.startsWith('/*') && t.endsWith('*/'))) parts.push({ kind: 'action', v: t });
    i = j + 2;
  }
  return parts;
}

// ---- parsing -------------------------------------------------------------------------------------

function parsePipe(toks: Tok[], src: string): Pipe {
  let pos = 0;
  const decl: string[] = [];
  let assign = false;
  // Declarations: $x := …  or  $k, $v := …
  const look = toks.findIndex((t) => t.t === ':=' || t.t === '=');
  if (look > 0 && toks.slice(0, look).every((t) => t.t === 'var' || t.t === ',')) {
    for (const t of toks.slice(0, look)) if (t.t === 'var') decl.push(t.v);
    assign = toks[look]!.t === '=';
    pos = look + 1;
  }
  const parseArgs = (stop: (t: Tok) => boolean): Cmd[] => {
    const cmds: Cmd[] = [];
    let args: Arg[] = [];
    const flush = () => { if (args.length === 0) fail(`missing value for command in ${src}`); cmds.push({ args, src }); args = []; };
    while (pos < toks.length && !stop(toks[pos]!)) {
      const t = toks[pos++]!;
      switch (t.t) {
        case 'field': args.push({ k: 'field', path: t.v }); break;
        case 'var': args.push({ k: 'var', name: t.v, path: t.fields }); break;
        case 'str': args.push({ k: 'lit', v: t.v }); break;
        case 'num': args.push({ k: 'lit', v: t.v }); break;
        case 'ident':
          if (t.v === 'true' || t.v === 'false') args.push({ k: 'lit', v: t.v === 'true' });
          else if (t.v === 'nil') args.push({ k: 'lit', v: null });
          else args.push({ k: 'ident', name: t.v });
          break;
        case '|': flush(); break;
        case '(': {
          const inner = parseArgs((x) => x.t === ')');
          if (toks[pos]?.t !== ')') fail('unclosed left paren');
          pos++;
          let path: string[] = [];
          if (toks[pos]?.t === 'chain') path = (toks[pos++] as { v: string[] }).v;
          args.push({ k: 'pipe', pipe: { decl: [], assign: false, cmds: inner }, path });
          break;
        }
        default: fail(`unexpected "${t.t}" in ${src}`);
      }
    }
    if (args.length) flush();
    return cmds;
  };
  const cmds = parseArgs(() => false);
  if (cmds.length === 0) fail(`missing value for ${src}`);
  return { decl, assign, cmds };
}

function parseNodes(actions: RawAction[]): Node[] {
  let pos = 0;
  // Parse nodes until {{end}} / {{else…}} (returned to the caller) or the end of input.
  const parseList = (): { nodes: Node[]; end: 'end' | 'else' | 'else-chain' | 'eof' } => {
    const nodes: Node[] = [];
    while (pos < actions.length) {
      const a = actions[pos++]!;
      if (a.kind === 'text') { nodes.push({ n: 'text', v: a.v }); continue; }
      const kw = /^(if|else|end|range|with)\b\s*(.*)$/s.exec(a.v);
      if (!kw) { nodes.push({ n: 'action', pipe: parsePipe(lexAction(a.v), a.v) }); continue; }
      const [, word, rest] = kw as unknown as [string, string, string];
      if (word === 'end') return { nodes, end: 'end' };
      if (word === 'else') {
        if (rest.trim() === '') return { nodes, end: 'else' };
        // "else if …": re-read the rest as a nested block that shares our {{end}}.
        actions[--pos] = { kind: 'action', v: rest.trim() };
        return { nodes, end: 'else-chain' };
      }
      nodes.push(parseBlock(word as 'if' | 'with' | 'range', rest));
    }
    return { nodes, end: 'eof' };
  };
  const parseBlock = (word: 'if' | 'with' | 'range', rest: string): Node => {
    const pipe = parsePipe(lexAction(rest), rest);
    const body = parseList();
    let els: Node[] = [];
    if (body.end === 'else') {
      const e = parseList();
      if (e.end !== 'end') fail(`unexpected ${e.end === 'eof' ? 'EOF' : '{{else}}'} in ${word}`);
      els = e.nodes;
    } else if (body.end === 'else-chain') {
      const a = actions[pos++]!;
      const kw = /^(if|with)\b\s*(.*)$/s.exec(a.v);
      if (!kw) fail(`expected if or with after else in ${word}`);
      els = [parseBlock(kw[1] as 'if' | 'with', kw[2]!)];
    } else if (body.end !== 'end') {
      fail(`unexpected EOF in ${word}`);
    }
    return { n: word, pipe, body: body.nodes, els } as Node;
  };
  const r = parseList();
  if (r.end !== 'eof') fail(`unexpected {{${r.end === 'end' ? 'end' : 'else'}}}`);
  return r.nodes;
}

// ---- values --------------------------------------------------------------------------------------

const LIST_KEYS = new Set(['Cmd', 'Entrypoint', 'Env', 'RepoTags', 'RepoDigests', 'Layers', 'OnBuild', 'Shell', 'Tags', 'Binds',
  'Mounts', 'Args', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'CapAdd', 'CapDrop', 'Aliases', 'DNSNames', 'Links',
  'SecurityOpt', 'Devices', 'Test', 'Warnings', 'GroupAdd', 'Ulimits', 'Platforms', 'Manifests', 'Names', 'Ports']);
const MAP_KEYS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'Data', 'Options', 'Annotations', 'Attributes', 'DriverOpts',
  'Networks', 'Sysctls', 'StorageOpt', 'Tmpfs', 'PortBindings', 'IndexConfigs', 'Runtimes', 'Status', 'annotations']);

/** Go's %v of a JSON value; `key` is the field it came from (decides how a nil prints). */
export function goString(v: unknown, key?: string): string {
  if (v === undefined) return '<no value>';
  if (v === null) return key && LIST_KEYS.has(key) ? '[]' : key && MAP_KEYS.has(key) ? 'map[]' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : formatFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => goString(x)).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // A value with no field name (a range's element, a list's item) is one of docker's structs far
    // more often than a map.
    if (key !== undefined && MAP_KEYS.has(key)) {
      return `map[${Object.keys(o).sort().map((k) => `${k}:${goString(o[k], k)}`).join(' ')}]`;
    }
    return `{${Object.entries(o).map(([k, x]) => goString(x, k)).join(' ')}}`;
  }
  return String(v);
}

function formatFloat(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e21)) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(v);
}

/** Go's encoding/json: HTML-sensitive characters escaped. */
export function goJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v);
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function sprintf(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%([-+ #0]*\d*(?:\.\d+)?)([vsdqxfgt%])/g, (_m, flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    let s: string;
    switch (verb) {
      case 'q': s = JSON.stringify(goString(a)); break;
      case 'd': s = String(Math.trunc(Number(a))); break;
      case 'x': s = typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex'); break;
      case 'f': { const p = /\.(\d+)/.exec(flags); s = Number(a).toFixed(p ? Number(p[1]) : 6); break; }
      default: s = goString(a);
    }
    const w = /^([-+ #0]*)(\d+)/.exec(flags);
    if (w) {
      const n = Number(w[2]);
      if (w[1]!.includes('-')) s = s.padEnd(n);
      else if (w[1]!.includes('0') && /[dxf]/.test(verb)) s = s.startsWith('-') ? '-' + s.slice(1).padStart(n - 1, '0') : s.padStart(n, '0');
      else s = s.padStart(n);
    }
    return s;
  });
}

const compare = (a: unknown, b: unknown): number => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = goString(a), y = goString(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

type Fn = (...args: unknown[]) => unknown;

const FUNCS: Record<string, Fn> = {
  json: (v) => goJson(v),
  index: (x, ...keys) => {
    let cur = x;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new Error('index of untyped nil');
      if (Array.isArray(cur)) {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 0 || n >= cur.length) throw new Error(`error calling index: index out of range: ${goString(k)}`);
        cur = cur[n];
      } else if (typeof cur === 'object') {
        const v = (cur as Record<string, unknown>)[String(k)];
        cur = v === undefined ? '' : v;
      } else if (typeof cur === 'string') {
        cur = cur.charCodeAt(Number(k));
      } else throw new Error(`can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  join: (list, sep) => (Array.isArray(list) ? list.map((x) => goString(x)).join(String(sep ?? '')) : goString(list)),
  split: (s, sep) => goString(s).split(String(sep)),
  upper: (s) => goString(s).toUpperCase(),
  lower: (s) => goString(s).toLowerCase(),
  title: (s) => goString(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  len: (v) => {
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    if (v === null) return 0;
    throw new Error(`len of type ${typeof v}`);
  },
  print: (...a) => a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + goString(x)).join(''),
  println: (...a) => a.map((x) => goString(x)).join(' ') + '\n',
  printf: (fmt, ...a) => sprintf(goString(fmt), a),
  pad: (s, l, r) => ' '.repeat(Number(l) || 0) + goString(s) + ' '.repeat(Number(r) || 0),
  truncate: (s, n) => { const c = [...goString(s)]; return c.length > Number(n) ? c.slice(0, Number(n)).join('') : c.join(''); },
  eq: (a, ...bs) => bs.some((b) => compare(a, b) === 0 && typeof a === typeof b),
  ne: (a, b) => !(compare(a, b) === 0 && typeof a === typeof b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !truthy(a),
  and: (...a) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  slice: (x, i, j) => {
    if (typeof x === 'string' || Array.isArray(x)) return x.slice(Number(i ?? 0), j === undefined ? undefined : Number(j));
    throw new Error('can\'t slice item');
  },
};

// ---- execution -----------------------------------------------------------------------------------

interface Scope { vars: Map<string, unknown>[] }

function lookupVar(scope: Scope, name: string, src: string): unknown {
  for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i]!.has(name)) return scope.vars[i]!.get(name);
  return execFail(src, `undefined variable: ${name}`);
}

function walk(base: unknown, path: string[], src: string): { v: unknown; key?: string } {
  let cur = base;
  let key: string | undefined;
  for (const p of path) {
    if (cur === null || cur === undefined) execFail(src, `nil pointer evaluating interface {}.${p}`);
    if (typeof cur !== 'object' || Array.isArray(cur)) execFail(src, `can't evaluate field ${p} in type ${Array.isArray(cur) ? '[]interface {}' : typeof cur}`);
    const o = cur as Record<string, unknown>;
    if (!(p in o)) execFail(src, `map has no entry for key "${p}"`);
    cur = o[p];
    key = p;
  }
  return { v: cur, key };
}

function evalArg(a: Arg, dot: unknown, scope: Scope, src: string): { v: unknown; key?: string } {
  switch (a.k) {
    case 'field': return walk(dot, a.path, src);
    case 'var': return walk(lookupVar(scope, a.name, src), a.path, src);
    case 'lit': return { v: a.v };
    case 'pipe': return walk(evalPipe(a.pipe, dot, scope).v, a.path, src);
    case 'ident': {
      const f = FUNCS[a.name];
      if (!f) fail(`function "${a.name}" not defined`);
      return { v: call(a.name, f, [], src) };
    }
  }
}

function call(name: string, f: Fn, args: unknown[], src: string): unknown {
  try { return f(...args); } catch (e) {
    if ((e as { code?: string }).code) throw e;
    return execFail(src, `error calling ${name}: ${(e as Error).message}`);
  }
}

function evalPipe(p: Pipe, dot: unknown, scope: Scope): { v: unknown; key?: string } {
  let last: { v: unknown; key?: string } | undefined;
  for (const c of p.cmds) {
    const [head, ...rest] = c.args;
    if (head!.k === 'ident') {
      const f = FUNCS[head!.name];
      if (!f) fail(`function "${head!.name}" not defined`);
      const args = rest.map((a) => evalArg(a, dot, scope, c.src).v);
      if (last) args.push(last.v);
      last = { v: call(head!.name, f, args, c.src) };
    } else {
      const v = evalArg(head!, dot, scope, c.src);
      if (typeof v.v === 'function') {
        // A method of the data (docker's `{{.Label "name"}}` in `ps`): called with the
        // command's arguments, as Go calls a method at the end of a field chain.
        const f = v.v as Fn;
        const args = rest.map((a) => evalArg(a, dot, scope, c.src).v);
        if (last) args.push(last.v);
        const name = head!.k === 'field' ? head!.path[head!.path.length - 1] : c.src;
        if (args.length !== f.length) execFail(c.src, `wrong number of args for ${name}: want ${f.length} got ${args.length}`);
        last = { v: call(String(name), f, args, c.src) };
      } else {
        if (rest.length > 0 || last) execFail(c.src, `can't give argument to non-function ${c.src}`);
        last = v;
      }
    }
  }
  if (p.decl.length === 1) {
    const frame = p.assign ? [...scope.vars].reverse().find((f) => f.has(p.decl[0]!)) ?? scope.vars[scope.vars.length - 1]! : scope.vars[scope.vars.length - 1]!;
    frame.set(p.decl[0]!, last!.v);
  }
  return last!;
}

function exec(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
  for (const node of nodes) {
    switch (node.n) {
      case 'text': out.push(node.v); break;
      case 'action': {
        const r = evalPipe(node.pipe, dot, scope);
        if (node.pipe.decl.length === 0) out.push(goString(r.v, r.key));
        break;
      }
      case 'if': case 'with': {
        scope.vars.push(new Map());
        const r = evalPipe({ ...node.pipe, decl: node.pipe.decl.length === 1 ? node.pipe.decl : [] }, dot, scope);
        if (truthy(r.v)) exec(node.body, node.n === 'with' ? r.v : dot, scope, out);
        else exec(node.els, dot, scope, out);
        scope.vars.pop();
        break;
      }
      case 'range': {
        const vars = node.pipe.decl;
        const r = evalPipe({ ...node.pipe, decl: [] }, dot, scope);
        const v = r.v;
        let entries: [unknown, unknown][] = [];
        if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
        else if (v && typeof v === 'object') entries = Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]);
        else if (typeof v === 'number') entries = Array.from({ length: v }, (_x, i) => [i, i]);
        else if (v !== null && v !== undefined) execFail(`range`, `range can't iterate over ${goString(v)}`);
        if (entries.length === 0) { exec(node.els, dot, scope, out); break; }
        for (const [k, x] of entries) {
          const frame = new Map<string, unknown>();
          if (vars.length === 1) frame.set(vars[0]!, x);
          else if (vars.length === 2) { frame.set(vars[0]!, k); frame.set(vars[1]!, x); }
          scope.vars.push(frame);
          exec(node.body, x, scope, out);
          scope.vars.pop();
        }
        break;
      }
    }
  }
}

export interface Template { execute(data: unknown): string }

/** Parse once, execute per item. `\t`/`\n` escapes are NOT processed here (see preformat). */
export function parseTemplate(src: string): Template {
  const nodes = parseNodes(splitTemplate(src));
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      exec(nodes, data, { vars: [new Map([['$', data]])] }, out);
      return out.join('');
    },
  };
}

/** Docker's --format preprocessing: "table" prefix, literal \t and \n escapes. */
export function preformat(format: string): { table: boolean; format: string } {
  let f = format;
  let table = false;
  if (f.startsWith('table')) { table = true; f = f.slice(5); }
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  return { table, format: f };
}
