// Raw hijacked connections (attach, exec start) for the container commands: an HTTP/1.1 request
// with `Upgrade: tcp` written by hand, 101 expected, then the socket carries the streams.
import net from 'node:net';
import type { Client } from '../../client/client.js';
import { BerthError, codeForStatus } from '../../errors/index.js';
import { cliError } from '../args.js';

/** A TTY session with stdin needs a terminal on our side, as the docker CLI checks before it asks the daemon anything. */
export function checkTty(stdin: { isTTY?: boolean }, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && stdin.isTTY !== true) throw cliError('the input device is not a TTY', 1);
}

export async function hijack(client: Client, path: string, body?: unknown): Promise<net.Socket> {
  const ep = client.transport.endpoint;
  const sock = ep.socketPath ? net.connect(ep.socketPath) : net.connect(Number(ep.port), ep.hostname);
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const data = body === undefined ? '' : JSON.stringify(body);
  sock.write(`POST ${path} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`
    + (data ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(data)}\r\n` : 'Content-Length: 0\r\n') + `\r\n${data}`);
  const head = await new Promise<{ status: number; rest: Buffer; text: string }>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    // Removed with the head read: the stream's own end must not build an error nobody sees.
    const onEnd = () => reject(new BerthError('ERR_UNAVAILABLE', 'connection closed before the response'));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.pause();
      const text = buf.subarray(0, i).toString();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, rest: buf.subarray(i + 4), text });
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('end', onEnd);
  });
  if (head.status !== 101 && head.status !== 200) {
    // Error body: read the rest (Content-Length bounded by the close of the connection).
    let rest = head.rest;
    sock.resume();
    await new Promise<void>((r) => { sock.on('data', (d: Buffer) => { rest = Buffer.concat([rest, d]); if (/content-length: (\d+)/i.exec(head.text) && rest.length >= Number(/content-length: (\d+)/i.exec(head.text)![1])) r(); }); sock.once('end', () => r()); sock.once('close', () => r()); });
    sock.destroy();
    let msg = rest.toString().trim();
    try { msg = (JSON.parse(msg) as { message: string }).message; } catch { /* plain text */ }
    throw new BerthError(codeForStatus(head.status), msg || `status ${head.status}`, { cause: { daemon: true, status: head.status } });
  }
  if (head.rest.length) sock.unshift(head.rest);
  return sock;
}

/** Split Docker's 8-byte-framed stream into stdout/stderr writers. */
export function demux(src: NodeJS.ReadableStream, out: (b: Buffer) => void, err: (b: Buffer) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  src.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const payload = buf.subarray(8, 8 + size);
      if (buf[0] === 2 || buf[0] === 3) err(payload); else out(payload);
      buf = buf.subarray(8 + size);
    }
  });
}
