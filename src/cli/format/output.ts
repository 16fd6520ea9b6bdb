// `--format` handling shared by list commands: docker's default tables, "table …" templates,
// plain templates, and "json" (one object per line).
import { alignTabs } from './table.js';
import { goJson, parseTemplate, preformat } from './template.js';

export type Row = Record<string, string>;
/**
 * A field of a listed object as templates see it: text, a null where docker's field is a nil
 * pointer (`ps`'s Platform), or a method that takes an argument (`ps`'s `{{.Label "name"}}`),
 * which `json` leaves out as Go's marshalling does.
 */
export type RowValue = string | null | ((arg: string) => string);

/**
 * Render rows. `headers` names the columns (fields without one get their upper-cased name).
 * Returns the text to print (with a trailing newline when non-empty).
 */
export function renderRows(format: string | undefined, defaultFormat: string, headers: Record<string, RowValue>, rows: Record<string, RowValue>[]): string {
  // "table" alone means the default table, as in docker.
  const f = format && format.trim() !== '' && format.trim() !== 'table' ? format : defaultFormat;
  // Go marshals the row map with sorted keys, for "json" and for `{{json .}}` alike.
  rows = rows.map((r) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]])));
  if (f.trim() === 'json') return rows.map((r) => goJson(r) + '\n').join('');
  const { table, format: body } = preformat(f);
  const tpl = parseTemplate(body);
  const out: string[] = [];
  if (table) {
    const keys = new Set([...Object.keys(headers), ...rows.flatMap((r) => Object.keys(r))]);
    const h: Record<string, RowValue> = {};
    for (const k of keys) h[k] = headers[k] ?? k.toUpperCase();
    out.push(tpl.execute(h));
  }
  for (const r of rows) out.push(tpl.execute(r));
  if (!table) return out.map((l) => l + '\n').join('');
  const lines = out.join('\n').split('\n');
  return alignTabs(lines).map((l) => l + '\n').join('');
}

/** "docker.io/library/busybox" → "busybox", "docker.io/foo/bar" → "foo/bar" (familiar names). */
export function familiarRepo(name: string): string {
  let n = name;
  for (const p of ['docker.io/', 'index.docker.io/']) if (n.startsWith(p)) { n = n.slice(p.length); break; }
  if (n !== name && n.startsWith('library/') && n.indexOf('/', 8) < 0) n = n.slice(8);
  return n;
}

/** Split "repo:tag" / "repo@digest" (the separator after the last '/'). */
export function splitRepo(ref: string): { repo: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: familiarRepo(ref.slice(0, at)), digest: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: familiarRepo(ref.slice(0, colon)), tag: ref.slice(colon + 1) };
  return { repo: familiarRepo(ref) };
}
