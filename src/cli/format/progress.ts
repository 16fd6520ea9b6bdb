// Rendering of JSON progress streams (pull, push, load, import) the way the docker CLI does: on a
// terminal, one line per layer ID redrawn in place with cursor movement; otherwise plain status
// lines with byte-count updates left out.
import type { ProgressMessage, ProgressDetail } from '../../api/progress.js';
import { humanSize } from './human.js';

export interface TermOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface DetailExt extends ProgressDetail { start?: number; units?: string; hidecounts?: boolean }

/** Go's time.Duration.String() for whole seconds ("1m5s", "45s"). */
function goDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.trunc(s / 3600), m = Math.trunc((s % 3600) / 60), r = s % 60;
  if (h) return `${h}h${m}m${r}s`;
  if (m) return `${m}m${r}s`;
  return `${r}s`;
}

/** The text after the status: "[====>     ]  1.2MB/4.5MB", bar only on terminals wider than 110. */
export function progressText(d: DetailExt | undefined, width: number, nowSeconds = Date.now() / 1000): string {
  if (!d) return '';
  const cur = d.current ?? 0;
  const total = d.total ?? 0;
  if (cur <= 0 && total <= 0) return '';
  if (total <= 0) return d.units ? `${cur} ${d.units}` : humanSize(cur, 4).padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((cur / total) * 100) / 2));
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  let numbers = '';
  if (!d.hidecounts) {
    if (d.units) numbers = `${cur}/${total} ${d.units}`;
    else numbers = cur > total ? humanSize(cur, 4).padStart(8) : `${humanSize(cur, 4).padStart(8)}/${humanSize(total, 4)}`;
  }
  let left = '';
  if (cur > 0 && d.start && d.start > 0 && pct < 50) {
    const perByte = (nowSeconds - d.start) / cur;
    left = ` ${goDuration((total - cur) * perByte)}`;
  }
  return bar + numbers + left;
}

export class ProgressPrinter {
  private ids = new Map<string, number>();
  private readonly tty: boolean;

  constructor(private readonly out: TermOut, tty?: boolean) {
    this.tty = tty ?? out.isTTY === true;
  }

  private width(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 200;
  }

  /** Render one message (errors and aux messages are the caller's business). */
  push(m: ProgressMessage): void {
    if (m.aux !== undefined || m.error || m.errorDetail) return;
    let diff = 0;
    const hasProgress = m.progressDetail !== undefined && m.progressDetail !== null;
    if (m.id && (hasProgress || m.progress)) {
      let line = this.ids.get(m.id);
      if (line === undefined) {
        line = this.ids.size;
        this.ids.set(m.id, line);
        if (this.tty) this.out.write('\n');
      }
      diff = this.ids.size - line;
      if (this.tty && diff > 0) this.out.write(`\x1b[${diff}A`);
    } else {
      // Something that is not a layer line: older layer lines are no longer redrawn.
      this.ids.clear();
    }
    this.display(m, hasProgress);
    if (m.id && this.tty && diff > 0) this.out.write(`\x1b[${diff}B`);
  }

  private display(m: ProgressMessage, hasProgress: boolean): void {
    let endl = '';
    const text = hasProgress ? progressText(m.progressDetail as DetailExt, this.width()) : '';
    if (this.tty && !m.stream && hasProgress) {
      this.out.write('\x1b[2K\r');
      endl = '\r';
    } else if (hasProgress && text !== '') {
      return; // byte counts are noise in logs
    }
    let s = '';
    if (m.id) s += `${m.id}: `;
    const status = m.status ?? '';
    if (hasProgress && this.tty) s += `${status} ${text}${endl}`;
    else if (m.progress) s += `${status} ${m.progress}${endl}`;
    else if (m.stream) s += m.stream + endl;
    else s += `${status}${endl}\n`;
    this.out.write(s);
  }
}
