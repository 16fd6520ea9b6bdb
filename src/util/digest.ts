import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../errors/index.js';

// Strict per-algorithm patterns: a digest is validated before it touches a path, URL or map key.
const PATTERNS: Record<string, RegExp> = {
  sha256: /^sha256:[a-f0-9]{64}$/,
  sha512: /^sha512:[a-f0-9]{128}$/,
};

export type Algorithm = 'sha256' | 'sha512';

export function isDigest(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const i = s.indexOf(':');
  const re = PATTERNS[s.slice(0, i)];
  return re !== undefined && re.test(s);
}

/** Throws ERR_INVALID_DIGEST unless `s` is a well-formed sha256/sha512 digest. */
export function assertDigest(s: unknown): string {
  if (!isDigest(s)) throw new BerthError('ERR_INVALID_DIGEST', `invalid digest: ${String(s).slice(0, 200)}`);
  return s;
}

export function splitDigest(d: string): { algorithm: Algorithm; hex: string } {
  assertDigest(d);
  const i = d.indexOf(':');
  return { algorithm: d.slice(0, i) as Algorithm, hex: d.slice(i + 1) };
}

export function digestOf(data: Buffer | string, algorithm: Algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

export const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Pass-through stream that hashes and counts what flows through it. */
export class DigestStream extends Transform {
  private hash: Hash;
  readonly algorithm: Algorithm;
  bytes = 0;
  constructor(algorithm: Algorithm = 'sha256') {
    super();
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  /** Valid once the stream has ended. */
  digest(): string {
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

/** Short (12-hex) form of an ID as Docker prints it. */
export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice(7) : id;
  return hex.slice(0, 12);
}
