// Column alignment like Go's text/tabwriter as docker configures it (minwidth 10, padding 3,
// spaces): tab-terminated cells align per column block; the last cell of a line is not padded.

export interface TableOptions { minWidth?: number; padding?: number }

const width = (s: string) => [...s].length;

/** Align lines whose cells are separated by '\t'. Input/output are whole lines (no trailing newline). */
export function alignTabs(lines: string[], opts: TableOptions = {}): string[] {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[][] = rows.map(() => []);
  // A column block is a run of consecutive lines that all have a terminated cell in that column.
  const layout = (col: number, from: number, to: number): void => {
    let i = from;
    while (i < to) {
      if (rows[i]!.length - 1 <= col) { i++; continue; }
      const start = i;
      let w = minWidth;
      while (i < to && rows[i]!.length - 1 > col) {
        w = Math.max(w, width(rows[i]![col]!) + padding);
        i++;
      }
      for (let j = start; j < i; j++) widths[j]![col] = w;
      layout(col + 1, start, i);
    }
  };
  layout(0, 0, rows.length);
  return rows.map((cells, r) => cells.map((c, k) => (k < cells.length - 1 ? c + ' '.repeat(Math.max(0, widths[r]![k]! - width(c))) : c)).join(''));
}
