// Reading conmon's k8s-file container logs: "<RFC3339Nano time> <stdout|stderr> <F|P> <text>",
// one entry per line; P marks a partial line continued by the next entry.
import { promises as fsp, createReadStream, watch } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LogEntry {
  time: Date;
  /** The timestamp as written (nanosecond precision, which Date cannot hold). */
  timeText: string;
  stream: 'stdout' | 'stderr';
  /** true: the line continues in the next entry (no newline after `text`). */
  partial: boolean;
  text: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const timeText = line.slice(0, a);
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  const text = c < 0 ? '' : line.slice(c + 1);
  const time = new Date(timeText);
  if (Number.isNaN(time.getTime())) return undefined;
  return { time, timeText, stream, partial: tag.split(':').includes('P'), text };
}

export interface ReadLogOptions {
  /** Only the last `tail` entries that exist when reading starts. */
  tail?: number;
  since?: Date;
  until?: Date;
  /** Keep reading new entries until `until` or `done` settles (then drain what is left). */
  follow?: boolean;
  /** Typically runtime.waitExit(id): following stops once it settles and the file is drained. */
  done?: Promise<unknown>;
  signal?: AbortSignal;
}

/** Entries of a k8s-file log, optionally followed as conmon appends (survives truncation). */
export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry) => (!opts.since || e.time >= opts.since) && (!opts.until || e.time <= opts.until);
  let offset = 0;
  let pending = '';
  const readFrom = async function* (): AsyncGenerator<LogEntry> {
    const st = await fsp.stat(path).catch(() => undefined);
    if (!st) return;
    if (st.size < offset) { offset = 0; pending = ''; } // truncated by --log-size-max
    if (st.size === offset) return;
    const stream = createReadStream(path, { start: offset, end: st.size - 1, encoding: 'utf8' });
    let chunkText = pending;
    for await (const chunk of stream) {
      offset += Buffer.byteLength(chunk as string);
      chunkText += chunk as string;
      let nl: number;
      while ((nl = chunkText.indexOf('\n')) >= 0) {
        const e = parseLogLine(chunkText.slice(0, nl));
        chunkText = chunkText.slice(nl + 1);
        if (e && keep(e)) yield e;
      }
    }
    pending = chunkText;
  };

  if (opts.tail !== undefined && opts.tail >= 0) {
    // Bounded memory: a ring of the last `tail` entries.
    const ring: LogEntry[] = [];
    if (opts.tail > 0) {
      const st = await fsp.stat(path).catch(() => undefined);
      if (st) {
        const rl = createInterface({ input: createReadStream(path, { end: Math.max(0, st.size - 1) }), crlfDelay: Infinity });
        for await (const line of rl) {
          const e = parseLogLine(line);
          if (!e || !keep(e)) continue;
          ring.push(e);
          if (ring.length > opts.tail) ring.shift();
        }
        offset = st.size;
      }
    } else {
      offset = (await fsp.stat(path).catch(() => undefined))?.size ?? 0;
    }
    yield* ring;
  } else {
    yield* readFrom();
  }
  if (!opts.follow) return;

  let finished = false;
  void opts.done?.then(() => { finished = true; }, () => { finished = true; });
  while (!opts.signal?.aborted) {
    const wasFinished = finished;
    yield* readFrom();
    if (wasFinished) return;
    if (opts.until && Date.now() > opts.until.getTime()) return;
    await new Promise<void>((resolve) => {
      let w: ReturnType<typeof watch> | undefined;
      const end = () => { w?.close(); opts.signal?.removeEventListener('abort', end); resolve(); };
      try { w = watch(path, end); w.on('error', end); } catch { setTimeout(end, 100); }
      opts.signal?.addEventListener('abort', end);
      void opts.done?.then(end, end);
      // The file may have grown between the read and the watch.
      void fsp.stat(path).then((st) => { if (st.size !== offset) end(); }, end);
    });
  }
}
