// Test helpers: a raw tar writer (hostile archives need fields no friendly library will write),
// tree hashing for "nothing outside the root changed" oracles, and xattr reads via python3.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { helperPath } from '../../src/store/snapshots/index.js';

/** Builds build/berth-unpack when running straight from sources (tsx) without `npm run build`. */
export function ensureHelper(): void {
  if (existsSync(helperPath())) return;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-native.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the native helper failed');
}

export interface Hdr {
  name: string;
  /** tar typeflag: '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo, 'x', 'g', 'L', 'K', 'S' */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** size field (defaults to body length) */
  size?: number;
  body?: Buffer | string;
  /** PAX records emitted in an 'x' header before this entry */
  pax?: Record<string, string | Buffer>;
  /** write a broken checksum */
  badChecksum?: boolean;
}

function oct(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** One 512-byte ustar header. */
export function header(h: Hdr): Buffer {
  const b = Buffer.alloc(512);
  const name = Buffer.from(h.name);
  if (name.length > 100) throw new Error('name > 100: use pax or L');
  name.copy(b, 0);
  b.write(oct(h.mode ?? 0o644, 8), 100, 'latin1');
  b.write(oct(h.uid ?? 0, 8), 108, 'latin1');
  b.write(oct(h.gid ?? 0, 8), 116, 'latin1');
  const size = h.size ?? (h.body ? Buffer.byteLength(h.body) : 0);
  b.write(oct(size, 12), 124, 'latin1');
  b.write(oct(h.mtime ?? 1_600_000_000, 12), 136, 'latin1');
  b.write(h.type ?? '0', 156, 'latin1');
  if (h.linkname) Buffer.from(h.linkname).copy(b, 157, 0, 100);
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.write(oct(h.devmajor ?? 0, 8), 329, 'latin1');
  b.write(oct(h.devminor ?? 0, 8), 337, 'latin1');
  b.fill(' ', 148, 156);
  let sum = 0;
  for (const c of b) sum += c;
  if (h.badChecksum) sum += 1;
  b.write(oct(sum, 7) + ' ', 148, 'latin1');
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

export function paxRecords(pax: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(pax)) {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.isBuffer(v) ? v : Buffer.from(v), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  return Buffer.concat(parts);
}

/** Header(s) plus padded body for one entry. */
export function entry(h: Hdr): Buffer {
  const parts: Buffer[] = [];
  if (h.pax) {
    const recs = paxRecords(h.pax);
    parts.push(header({ name: 'PaxHeaders/x', type: 'x', size: recs.length }), recs, pad(recs.length));
  }
  parts.push(header(h));
  if (h.body !== undefined) {
    const body = Buffer.isBuffer(h.body) ? h.body : Buffer.from(h.body);
    parts.push(body, pad(body.length));
  }
  return Buffer.concat(parts);
}

/** GNU long name ('L') or long link ('K') record for the next entry. */
export function gnuLong(type: 'L' | 'K', value: string): Buffer {
  const v = Buffer.concat([Buffer.from(value), Buffer.alloc(1)]);
  return Buffer.concat([header({ name: '././@LongLink', type, size: v.length }), v, pad(v.length)]);
}

export const END = Buffer.alloc(1024);

export function tarOf(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, END]);
}

export function streamOf(buf: Buffer): Readable {
  return Readable.from([buf]);
}

export function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/**
 * A fingerprint of a tree that changes if anything in it (or the tree root) is created, removed,
 * written, chmod/chown'ed, re-timed or given xattrs. Symlinks are not followed.
 */
export async function hashTree(...roots: string[]): Promise<string> {
  const h = createHash('sha256');
  const paths: string[] = [];
  const walk = async (p: string, rel: string): Promise<void> => {
    paths.push(p);
    const st = await fsp.lstat(p);
    h.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.mtimeMs}\0${st.ino}\0${st.nlink}\0${st.size}\0`);
    if (st.isSymbolicLink()) h.update(await fsp.readlink(p));
    else if (st.isFile()) h.update(await fsp.readFile(p));
    else if (st.isDirectory()) {
      for (const n of (await fsp.readdir(p)).sort()) await walk(join(p, n), `${rel}/${n}`);
    }
  };
  for (const root of roots) await walk(root, root);
  h.update(JSON.stringify(xattrsMany(paths) ?? null));
  return h.digest('hex');
}

let hasPython: boolean | undefined;
export function pythonAvailable(): boolean {
  if (hasPython === undefined) hasPython = spawnSync('python3', ['-c', 'import os; os.getxattr'], { stdio: 'ignore' }).status === 0;
  return hasPython;
}

const PY_XATTRS =
  'import os,sys,json\n' +
  'print(json.dumps([{n: os.getxattr(p,n,follow_symlinks=False).hex() for n in sorted(os.listxattr(p,follow_symlinks=False))} for p in sys.argv[1:]]))';

/** xattrs of many paths (final symlinks not followed) as name → hex, via python3's os.*xattr. */
export function xattrsMany(paths: string[]): Record<string, string>[] | undefined {
  if (!pythonAvailable()) return undefined;
  const r = spawnSync('python3', ['-c', PY_XATTRS, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xattr read failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>[];
}

/** All xattrs of one path, or undefined without python3. */
export function xattrs(path: string): Record<string, string> | undefined {
  return xattrsMany([path])?.[0];
}

export async function tmpBase(prefix: string): Promise<string> {
  const os = await import('node:os');
  return fsp.mkdtemp(join(os.tmpdir(), prefix));
}
