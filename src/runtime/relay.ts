// The daemon's side of the attach relays. A relay (`berth-helper attach`, started through the
// helper's server so that attaching forks no daemon-sized process) connects to the daemon's relay
// socket and names itself with a token. Over that one stream connection:
//   relay → daemon: "<token>\n"; then "1" (connected to conmon's attach socket) or "0"; then
//                   frames: type 1 (stdout) or 2 (stderr), length (4 bytes, big endian), data.
//   daemon → relay: frames of the same shape: 'g' (go: connect now, for a relay started ahead),
//                   'i' (stdin data), 'e' (end of stdin).
// Closing the connection ends the relay (the client is gone); the relay closing it means the
// container's streams ended.
import net from 'node:net';
import { rmSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { BerthError } from '../errors/index.js';

const TOKEN_RE = /^[0-9a-f]{32}$/;
const STDIN_FRAME_MAX = 32768; // the relay's buffer

export interface RelayStreams {
  stdin: Writable | null;
  stdout: PassThrough;
  stderr: PassThrough;
  done: Promise<void>;
  close(): void;
}

export function frame(type: string, data?: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(data?.length ?? 0, 1);
  return data?.length ? Buffer.concat([h, data]) : h;
}

/**
 * Where the hub listens: `<execRoot>/relay.sock`, or, when that is too long for a socket address
 * (108 bytes), in a new private (0700) directory in the temp dir.
 */
export async function relaySocketPath(execRoot: string): Promise<string> {
  const p = join(execRoot, 'relay.sock');
  if (Buffer.byteLength(p) < 108) return p;
  return join(await fsp.mkdtemp(join(tmpdir(), 'berth-relay-')), 's');
}

/** Relays connecting back, matched to their starters by token. */
export class RelayHub {
  private server: net.Server | undefined;
  private listening: Promise<void> | undefined;
  private readonly waiting = new Map<string, { resolve: (s: net.Socket) => void; reject: (e: Error) => void }>();

  constructor(readonly path: string) {}

  /** Wait for the relay named `token`; `cancel` gives up (a relay arriving later is closed). */
  async expect(token: string): Promise<{ socket: Promise<net.Socket>; cancel(e?: Error): void }> {
    await this.listen();
    let entry!: { resolve: (s: net.Socket) => void; reject: (e: Error) => void };
    const socket = new Promise<net.Socket>((resolve, reject) => { entry = { resolve, reject }; });
    socket.catch(() => {});
    this.waiting.set(token, entry);
    this.server!.ref();
    return {
      socket,
      cancel: (e) => {
        if (this.waiting.get(token) !== entry) return;
        this.waiting.delete(token);
        this.unrefIfIdle();
        entry.reject(e ?? new Error('relay cancelled'));
      },
    };
  }

  close(): void {
    for (const w of this.waiting.values()) w.reject(new Error('daemon stopping'));
    this.waiting.clear();
    this.server?.close();
    this.server = undefined;
    this.listening = undefined;
  }

  private listen(): Promise<void> {
    this.listening ??= new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => { this.listening = undefined; reject(e); };
      // A socket file left by a daemon that was killed: ours now (the exec root is ours).
      try { rmSync(this.path, { force: true }); } catch (e) { fail(e as Error); return; }
      const srv = net.createServer((c) => this.accept(c));
      srv.once('error', fail);
      srv.listen(this.path, () => { srv.unref(); resolve(); });
      this.server = srv;
    });
    return this.listening;
  }

  private accept(c: net.Socket): void {
    c.on('error', () => {});
    let head = '';
    const onData = (d: Buffer) => {
      const nl = d.indexOf(10);
      head += d.subarray(0, nl < 0 ? d.length : nl).toString('latin1');
      if (nl < 0) { if (head.length > 64) c.destroy(); return; }
      c.off('data', onData);
      c.pause();
      const rest = d.subarray(nl + 1);
      if (rest.length) c.unshift(rest);
      const w = TOKEN_RE.test(head) ? this.waiting.get(head) : undefined;
      if (!w) { c.destroy(); return; }
      this.waiting.delete(head);
      this.unrefIfIdle();
      w.resolve(c);
    };
    c.on('data', onData);
  }

  private unrefIfIdle(): void {
    if (this.waiting.size === 0) this.server?.unref();
  }
}

/**
 * The attach streams of a relay's connection, once it reports its connection to conmon (an
 * ERR_CONFLICT if it could not connect: the container is not running).
 */
export async function relayStreams(c: net.Socket, withStdin: boolean): Promise<RelayStreams> {
  const status = await new Promise<string>((resolve) => {
    const onData = (d: Buffer) => {
      c.off('data', onData);
      c.pause();
      if (d.length > 1) c.unshift(d.subarray(1));
      resolve(d.subarray(0, 1).toString('latin1'));
    };
    c.on('data', onData);
    c.once('close', () => resolve('0'));
    c.resume();
  });
  if (status !== '1') {
    c.destroy();
    throw new BerthError('ERR_CONFLICT', 'cannot attach: the container is not running (no attach socket)');
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let buf: Buffer = Buffer.alloc(0);
  c.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    let blocked: PassThrough | undefined;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const to = buf[0] === 2 ? stderr : stdout;
      // Copied: the rest of `buf` is kept and would otherwise stay referenced by what was pushed.
      if (!to.write(Buffer.from(buf.subarray(5, 5 + len)))) blocked = to;
      buf = buf.subarray(5 + len);
    }
    // Backpressure: the relay (and conmon behind it) waits while a reader is behind.
    if (blocked) {
      c.pause();
      blocked.once('drain', () => c.resume());
    }
  });
  let over = false;
  const ended = () => { if (!over) { over = true; stdout.end(); stderr.end(); } };
  c.once('end', ended);
  // (Already closed: the relay ended right after its status; 'close' will not come again.)
  const done = c.closed ? Promise.resolve().then(ended) : new Promise<void>((resolve) => c.once('close', () => { ended(); resolve(); }));
  const stdin = withStdin ? new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (c.destroyed) { cb(); return; } // the container's streams ended: input goes nowhere, as with a closed pipe
      let ok = true;
      for (let i = 0; i < chunk.length; i += STDIN_FRAME_MAX) ok = c.write(frame('i', chunk.subarray(i, i + STDIN_FRAME_MAX)));
      if (ok) { cb(); return; }
      const go = () => { c.off('drain', go); c.off('close', go); cb(); };
      c.on('drain', go);
      c.on('close', go);
    },
    final(cb) {
      if (!c.destroyed) c.write(frame('e'));
      cb();
    },
  }) : null;
  c.resume();
  return { stdin, stdout, stderr, done, close: () => c.destroy() };
}
