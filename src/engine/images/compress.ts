// Layer (de)compression: gzip through zlib with large chunks, zstd through the `zstd` binary,
// plain tar passed through. Chosen by media type, with a magic-byte sniff as fallback.
import { spawn } from 'node:child_process';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { BerthError } from '../../errors/index.js';

export type Compression = 'gzip' | 'zstd' | 'none';

const CHUNK = 1 << 20;

export function compressionOf(mediaType: string): Compression | undefined {
  if (/(\+|\.)gzip$/.test(mediaType) || mediaType.endsWith('tar.gzip')) return 'gzip';
  if (/(\+|\.)zstd$/.test(mediaType)) return 'zstd';
  if (mediaType.endsWith('.tar') || mediaType.endsWith('tar')) return 'none';
  return undefined;
}

export function sniff(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function zstdDecompress(): Transform {
  // A Duplex wrapper around `zstd -dc` so it pipes like zlib streams.
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const out = new PassThrough({ highWaterMark: CHUNK });
  child.stdout.pipe(out);
  const t = new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      if (!child.stdin.write(chunk)) child.stdin.once('drain', () => cb()); else cb();
    },
    flush(cb) {
      child.stdin.end();
      child.on('close', (code) => {
        if (code !== 0) cb(new BerthError('ERR_INTERNAL', `zstd failed: ${stderr.trim() || `exit ${code}`}`));
        else cb();
      });
    },
  });
  child.on('error', (e) => t.destroy(new BerthError('ERR_INTERNAL', `cannot run zstd: ${e.message}`)));
  child.stdin.on('error', () => { /* reported through exit code */ });
  out.on('data', (d: Buffer) => { t.push(d); });
  t.on('close', () => { if (child.exitCode === null) child.kill(); });
  return t;
}

/** A transform that decompresses according to `c`. */
export function decompressor(c: Compression): Transform {
  if (c === 'gzip') return createGunzip({ chunkSize: CHUNK });
  if (c === 'zstd') return zstdDecompress();
  return new PassThrough({ highWaterMark: CHUNK });
}

/** Decompress a stream whose compression is found from its first bytes. */
export function autoDecompress(src: Readable): Readable {
  const out = new PassThrough({ highWaterMark: CHUNK });
  let decided = false;
  const first: Buffer[] = [];
  let firstLen = 0;
  const decide = () => {
    decided = true;
    const head = Buffer.concat(first);
    const d = decompressor(sniff(head));
    d.on('error', (e) => out.destroy(e));
    d.pipe(out);
    d.write(head);
    src.pipe(d);
  };
  const onData = (c: Buffer) => {
    first.push(c);
    firstLen += c.length;
    if (firstLen >= 8) { src.off('data', onData); src.off('end', onEnd); src.pause(); decide(); }
  };
  const onEnd = () => { if (!decided) { const d = decompressor(sniff(Buffer.concat(first))); d.on('error', (e) => out.destroy(e)); d.pipe(out); d.end(Buffer.concat(first)); } };
  src.on('data', onData);
  src.on('end', onEnd);
  src.on('error', (e) => out.destroy(e));
  return out;
}

export function gzipper(): Transform {
  return createGzip({ chunkSize: CHUNK, level: 6 });
}
