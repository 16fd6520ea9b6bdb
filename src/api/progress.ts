// Docker's JSON progress messages (pull/push/load/import streams). Pure formatting, no I/O.

export interface ProgressDetail { current?: number; total?: number }
export interface ProgressMessage {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  stream?: string;
  aux?: unknown;
  errorDetail?: { message: string; code?: number };
  error?: string;
}

/** Decimal size with 3 significant digits, as go-units HumanSize prints ("1.23MB", "512B"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** The progress bar string Docker renders next to "Downloading"/"Pushing"/"Extracting". */
export function progressBar(current: number, total?: number): string {
  if (!total || total <= 0) return humanSize(current);
  const width = 50;
  const pct = Math.min(1, Math.max(0, current / total));
  const n = Math.floor(pct * width);
  const bar = '='.repeat(n) + (n < width ? '>' + ' '.repeat(width - n - 1) : '');
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** One line of a progress stream: JSON + CRLF, as moby's jsonmessage writer emits. */
export function encodeProgress(m: ProgressMessage): string {
  return JSON.stringify(m) + '\r\n';
}

export function errorMessage(message: string): ProgressMessage {
  return { errorDetail: { message }, error: message };
}
