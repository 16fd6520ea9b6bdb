// Container logs: conmon writes the k8s-file format ("<RFC3339Nano> <stdout|stderr> <F|P> <text>"
// per line, P = partial line continued by the next record). Readers turn it back into Docker's
// stream: multiplexed 8-byte frames unless the container has a TTY.
import { promises as fsp, watch } from 'node:fs';
import { dirname } from 'node:path';
import { rotatedLogs } from './log-keeper.js';

export type StreamKind = 'stdout' | 'stderr';

export interface LogEntry { stream: StreamKind; time: string; nanos: bigint; data: Buffer }

/** Docker's 8-byte stream header + payload (1 stdout, 2 stderr, 3 system error). */
export function frame(kind: 0 | 1 | 2 | 3, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = kind;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

/** Parse conmon's RFC 3339 time (local offset, 9 fractional digits) → Docker's UTC form + ns since epoch. */
export function parseLogTime(t: string): { iso: string; nanos: bigint } {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  if (!m) { const ms = Date.parse(t); return { iso: new Date(ms || 0).toISOString(), nanos: BigInt(ms || 0) * 1_000_000n }; }
  const secMs = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  const iso = new Date(secMs).toISOString().slice(0, 19) + '.' + frac + 'Z';
  return { iso, nanos: BigInt(secMs) * 1_000_000n + BigInt(frac) };
}

/** Incremental k8s-file parser: feed bytes, get complete entries (partial records are joined). */
export class LogParser {
  private rest = Buffer.alloc(0);
  // One unfinished line per stream: conmon interleaves the streams' records, and a stdout line
  // written in pieces goes on after stderr lines in between (Docker copies each stream on its own).
  private partial = new Map<StreamKind, { time: string; chunks: Buffer[] }>();

  push(chunk: Buffer): LogEntry[] {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: LogEntry[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const e = this.line(buf.subarray(start, nl));
      if (e) out.push(e);
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
    return out;
  }

  private line(l: Buffer): LogEntry | undefined {
    const s1 = l.indexOf(32);
    const s2 = s1 < 0 ? -1 : l.indexOf(32, s1 + 1);
    const s3 = s2 < 0 ? -1 : l.indexOf(32, s2 + 1);
    if (s3 < 0 && s2 < 0) return undefined;
    const time = l.subarray(0, s1).toString();
    const stream = (l.subarray(s1 + 1, s2).toString() === 'stderr' ? 'stderr' : 'stdout') as StreamKind;
    const flag = l.subarray(s2 + 1, s3 < 0 ? l.length : s3).toString();
    const text = s3 < 0 ? Buffer.alloc(0) : l.subarray(s3 + 1);
    const p = this.partial.get(stream);
    if (flag === 'P') {
      if (p) { p.chunks.push(Buffer.from(text)); p.time = time; } else this.partial.set(stream, { time, chunks: [Buffer.from(text)] });
      return undefined;
    }
    let data = Buffer.concat([...(p?.chunks ?? []), text, Buffer.from('\n')]);
    this.partial.delete(stream);
    const t = parseLogTime(time);
    if (data.length === 0) data = Buffer.from('\n');
    return { stream, time: t.iso, nanos: t.nanos, data };
  }

  /**
   * The unfinished lines left when the log is complete (the process wrote no final newline):
   * Docker logs them as they are, without a newline, once the container's output ended.
   */
  flushPartial(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const [stream, p] of this.partial) {
      const t = parseLogTime(p.time);
      out.push({ stream, time: t.iso, nanos: t.nanos, data: Buffer.concat(p.chunks) });
    }
    this.partial.clear();
    return out.sort((a, b) => (a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0));
  }
}

export interface LogOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  timestamps: boolean;
  /** `details`: each line led by its log attributes (Berth records none, so a space, as Docker prints). */
  details?: boolean;
  /** Number of lines from the end; undefined = all. */
  tail?: number;
  sinceNanos?: bigint;
  untilNanos?: bigint;
  /** The container's output has ended (not running): a last line without newline is shown too. */
  ended?: boolean;
}

/**
 * Read a container's log (its rotated files first, oldest first, then the current one) and emit
 * entries through `emit`. With follow, keep watching until `stopped` resolves (the container
 * exited) and the file is drained, or `signal` aborts; when conmon starts a new file (max-size),
 * the old one is read to its end and the new one from its start. `emit` returns a promise when its
 * reader is behind: reading waits for it.
 */
export async function readLogs(
  path: string, opts: LogOptions, emit: (e: LogEntry) => void | Promise<void>,
  stopped: Promise<unknown> | undefined, signal: AbortSignal,
): Promise<void> {
  const parser = new LogParser();
  const keep = (e: LogEntry) => (e.stream === 'stdout' ? opts.stdout : opts.stderr)
    && (opts.sinceNanos === undefined || e.nanos >= opts.sinceNanos)
    && (opts.untilNanos === undefined || e.nanos <= opts.untilNanos);
  // Initial read: streamed, keeping only the last `tail` entries. As Docker's log readers, the
  // tail is taken from the whole log, and only then are the streams and times filtered
  // (`--tail 1 --until T` shows nothing when the last entry is after T).
  const tailBuf: LogEntry[] = [];
  const tail = opts.tail;
  const take = (e: LogEntry): void | Promise<void> => {
    if (tail === undefined) return keep(e) ? emit(e) : undefined;
    if (tail > 0) { tailBuf.push(e); if (tailBuf.length > tail) tailBuf.shift(); }
  };
  const emitTail = async () => { for (const e of tailBuf) if (keep(e)) await emit(e); };
  // The current file is opened first: a rotation from here on shows as a rotated file holding
  // the same inode (skipped below) and, when following, as a new file at the path.
  let fh: fsp.FileHandle | undefined = await fsp.open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  try {
    const curIno = fh ? (await fh.stat()).ino : undefined;
    const buf = Buffer.alloc(65536);
    // A reader that is behind (emit returns a promise) holds the reading back until it catches up.
    const drain = async (h: fsp.FileHandle, from: number, each: (e: LogEntry) => void | Promise<void>): Promise<number> => {
      let offset = from;
      for (;;) {
        if (signal.aborted) return offset;
        const { bytesRead } = await h.read(buf, 0, buf.length, offset);
        if (bytesRead <= 0) return offset;
        offset += bytesRead;
        for (const e of parser.push(Buffer.from(buf.subarray(0, bytesRead)))) {
          const wait = each(e);
          if (wait) await wait;
        }
      }
    };
    for (const f of await rotatedLogs(path)) {
      const h = await fsp.open(f, 'r').catch(() => undefined);
      if (!h) continue;
      try { if ((await h.stat()).ino !== curIno) await drain(h, 0, take); } finally { await h.close(); }
    }
    if (!fh) { await emitTail(); return; }
    let offset = await drain(fh, 0, take);
    if (opts.ended) for (const e of parser.flushPartial()) await take(e);
    await emitTail();
    if (!opts.follow || !stopped || signal.aborted) return;
    // Follow: read new bytes on every change in the log's directory (a new file is renamed in
    // there), finish after the container stopped.
    let done = false;
    let wake: (() => void) | undefined;
    const poke = () => { const w = wake; wake = undefined; w?.(); };
    const w = watch(dirname(path), { persistent: false }, poke);
    w.on('error', () => { done = true; poke(); });
    void stopped.then(() => { done = true; poke(); });
    signal.addEventListener('abort', () => { done = true; poke(); });
    const follow = (e: LogEntry) => (keep(e) ? emit(e) : undefined);
    let ino = curIno;
    try {
      for (;;) {
        const finishing = done;
        offset = await drain(fh, offset, follow);
        // conmon renamed a new file over the log: this one is complete, go on with the new one.
        const now = await fsp.stat(path).then((st) => st.ino, () => undefined);
        if (now !== undefined && now !== ino) {
          const next = await fsp.open(path, 'r').catch(() => undefined);
          if (next) {
            offset = await drain(fh, offset, follow);
            await fh.close();
            fh = next;
            ino = (await fh.stat()).ino;
            offset = 0;
            continue;
          }
        }
        if (signal.aborted) break;
        if (finishing) {
          for (const e of parser.flushPartial()) await follow(e);
          break;
        }
        await new Promise<void>((r) => { wake = r; if (done) r(); });
      }
    } finally { w.close(); }
  } finally { await fh?.close(); }
}

/** Encode an entry for the wire (frames unless TTY; optional timestamp prefix). */
export function encodeEntry(e: LogEntry, tty: boolean, timestamps: boolean, details = false): Buffer {
  const head = `${timestamps ? `${e.time} ` : ''}${details ? ' ' : ''}`;
  const data = head ? Buffer.concat([Buffer.from(head), e.data]) : e.data;
  return tty ? data : frame(e.stream === 'stderr' ? 2 : 1, data);
}

