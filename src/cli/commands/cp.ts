// berth cp / container cp: copy between a container and the host through the archive endpoints
// (GET/PUT /containers/{id}/archive, HEAD for stat), with docker's rules for where the copy lands.
import { promises as fsp, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Client } from '../../client/client.js';
import type { ContainerPathStat } from '../../client/types.js';
import { daemonErrorInfo } from '../../client/transport.js';
import { cliError } from '../args.js';
import { flag, type Command, type Context } from '../command.js';
import { humanSize } from '../format/human.js';

/** Go's os.ModeDir and os.ModeSymlink bits, as the path-stat header carries them. */
const MODE_DIR = 0x80000000;
const MODE_SYMLINK = 0x08000000;

const isDir = (s: ContainerPathStat) => (s.mode & MODE_DIR) !== 0;
const isLink = (s: ContainerPathStat) => (s.mode & MODE_SYMLINK) !== 0;

interface Location { container?: string; path: string }

/** docker's split: absolute or "."-prefixed paths are local even when they contain ':'. */
export function splitCpArg(arg: string): Location {
  if (isAbsolute(arg)) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Paths inside the container are taken from its root. */
const inContainer = (p: string) => (p.startsWith('/') ? p : `/${p}`);

const endsWithSep = (p: string) => p.endsWith('/');
/** "dir/." copies the directory's contents, not the directory. */
const contentsOnly = (p: string) => p === '.' || p.endsWith('/.');

/** Last component of a path that may end in "/" or "/.". */
function baseOf(p: string): string {
  const trimmed = p.replace(/\/\.$/, '').replace(/\/+$/, '');
  return posix.basename(trimmed) || '/';
}

/** Counts the bytes going through (docker reports the archive's size). */
function counter(): Transform & { bytes: number } {
  const t = new Transform({ transform(chunk: Buffer, _enc, cb) { t.bytes += chunk.length; cb(null, chunk); } }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

const notFound = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? undefined : Promise.reject(e);

// ---- container → host ------------------------------------------------------------------------

async function copyFromContainer(ctx: Context, client: Client, ctr: string, srcArg: string, dst: string, f: { followLink: boolean; quiet: boolean }): Promise<void> {
  let src = inContainer(srcArg);
  if (f.followLink) {
    const st = await client.statContainerPath(ctr, src).catch(() => undefined);
    if (st && isLink(st)) src = posix.isAbsolute(st.linkTarget) ? st.linkTarget : posix.join(posix.dirname(src), st.linkTarget);
  }
  if (dst === '-') {
    const { tar: body } = await client.getContainerArchive(ctr, src);
    await pipeline(body, ctx.stdout, { end: false });
    return;
  }
  // A destination that is a symlink is followed, as docker does.
  let dstPath = resolve(dst) + (endsWithSep(dst) ? '/' : '');
  // Under a file: docker's stat(2) says so ("stat /f/x: not a directory").
  let dstSt: Stats | undefined = await fsp.lstat(dstPath).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOTDIR') e.syscall = 'stat'; return notFound(e); });
  if (dstSt?.isSymbolicLink()) {
    const target = await fsp.readlink(dstPath);
    dstPath = resolve(dirname(resolve(dst)), target);
    dstSt = await fsp.stat(dstPath).catch(notFound);
  }
  const parent = dirname(resolve(dstPath));
  if (!(await fsp.stat(parent).catch(() => undefined))) throw cliError(`invalid output path: directory "${parent}" does not exist`);

  const { stat, tar: body } = await client.getContainerArchive(ctr, src);
  const srcIsDir = isDir(stat);
  // Where the archive's top entry lands.
  let target: string;
  if (dstSt?.isDirectory()) {
    // A followed link keeps the link's name, as docker's rebase does.
    target = srcIsDir && contentsOnly(srcArg) ? resolve(dstPath) : join(dstPath, baseOf(inContainer(srcArg)));
  } else {
    if (dstSt && srcIsDir) { body.destroy(); throw cliError('cannot copy directory'); }
    if (!dstSt && !srcIsDir && endsWithSep(dst)) { body.destroy(); throw cliError('no such directory'); }
    target = resolve(dstPath);
  }
  const count = counter();
  const { extractTar } = await import('../untar.js');
  body.on('error', (e) => count.destroy(e));
  try {
    await extractTar(body.pipe(count), { target, chown: process.getuid?.() === 0 });
  } finally {
    body.destroy();
  }
  if (!f.quiet && ctx.stderr.isTTY) ctx.err(`Successfully copied ${humanSize(count.bytes)} to ${resolve(dst)}\n`);
}

// ---- host → container ------------------------------------------------------------------------

/** An entry without a body; a failed upload surfaces through the pack, not through it. */
function addEntry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): NodeJS.WritableStream {
  const entry = pack.entry(header);
  entry.on('error', () => {});
  return entry;
}

/** Pack a host path as `name` (recursively), streaming file contents with backpressure. */
async function packPath(pack: tar.Pack, full: string, name: string, st: Stats): Promise<void> {
  const common = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    if (name !== '') addEntry(pack, { ...common, type: 'directory' });
    for (const e of (await fsp.readdir(full)).sort()) {
      const p = join(full, e);
      await packPath(pack, p, name === '' ? e : `${name}/${e}`, await fsp.lstat(p));
    }
  } else if (st.isSymbolicLink()) {
    addEntry(pack, { ...common, type: 'symlink', linkname: await fsp.readlink(full) });
  } else if (st.isFile()) {
    const fh = await fsp.open(full, 'r');
    try {
      const size = (await fh.stat()).size;
      const header = { ...common, type: 'file' as const, size };
      // Read exactly the size announced in the header, even if the file grows meanwhile.
      if (size === 0) addEntry(pack, header).end();
      else await pipeline(fh.createReadStream({ start: 0, end: size - 1, autoClose: false }), pack.entry(header));
    } finally { await fh.close(); }
  }
  // Sockets, FIFOs and devices are skipped.
}

async function copyToContainer(ctx: Context, client: Client, src: string, ctr: string, dstArg: string, f: { followLink: boolean; archive: boolean; quiet: boolean }): Promise<void> {
  let dstPath = inContainer(dstArg);
  // Errors are left to the upload, which reports them the daemon's way (no such container, …).
  const statOf = (p: string) => client.statContainerPath(ctr, p).catch((e: unknown) => { if (daemonErrorInfo(e)) return undefined; throw e; });
  let dstStat = await statOf(dstPath);
  if (dstStat && isLink(dstStat)) {
    dstPath = posix.isAbsolute(dstStat.linkTarget) ? dstStat.linkTarget : posix.join(posix.dirname(dstPath), dstStat.linkTarget);
    dstStat = await statOf(dstPath);
  }
  let content: Readable;
  let putDir: string;
  if (src === '-') {
    if (!dstStat || !isDir(dstStat)) throw cliError(`destination "${ctr}:${dstPath}" must be a directory`);
    content = ctx.stdin;
    putDir = dstPath;
  } else {
    const srcPath = resolve(src);
    let st = await fsp.lstat(srcPath).catch(async (e: NodeJS.ErrnoException) => {
      // docker resolves the source's directory first: a missing one is named, not the file.
      if (e.code === 'ENOENT') {
        let missing = srcPath;
        while (dirname(missing) !== missing && !(await fsp.lstat(dirname(missing)).then(() => true, () => false))) missing = dirname(missing);
        e.path = missing;
      }
      throw e;
    });
    if (f.followLink && st.isSymbolicLink()) st = await fsp.stat(srcPath);
    const srcIsDir = st.isDirectory();
    let name: string;
    if (dstStat && isDir(dstStat)) {
      putDir = dstPath;
      name = srcIsDir && contentsOnly(src) ? '' : basename(srcPath);
    } else if (dstStat) {
      if (srcIsDir) throw cliError('cannot copy directory');
      putDir = posix.dirname(dstPath);
      name = posix.basename(dstPath);
    } else {
      if (!srcIsDir && dstPath.endsWith('/')) throw cliError('no such directory');
      putDir = posix.dirname(dstPath.replace(/\/+$/, '') || '/');
      name = posix.basename(dstPath.replace(/\/+$/, ''));
    }
    const pack = tar.pack();
    const out = new PassThrough();
    // The packer runs while the upload reads; its failure aborts the upload.
    void (async () => {
      try {
        await packPath(pack, srcPath, name, st);
        pack.finalize();
      } catch (e) { pack.destroy(e as Error); }
    })();
    pack.on('error', (e) => out.destroy(e));
    pack.pipe(out);
    content = out;
  }
  const count = counter();
  content.on('error', (e) => count.destroy(e));
  await client.putContainerArchive(ctr, putDir, content.pipe(count), { noOverwriteDirNonDir: true, copyUIDGID: f.archive });
  if (src !== '-' && !f.quiet && ctx.stderr.isTTY) ctx.err(`Successfully copied ${humanSize(count.bytes)} to ${ctr}:${dstArg}\n`);
}

const command: Command = {
  usage: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description: 'Copy files/folders between a container and the local filesystem',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { long: 'archive', short: 'a', type: 'bool', description: 'Archive mode (copy all uid/gid information)' },
    { long: 'follow-link', short: 'L', type: 'bool', description: 'Always follow symbol link in SRC_PATH' },
    { long: 'quiet', short: 'q', type: 'bool', description: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  extraHelp: "Use '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  async run(ctx, args, fl) {
    const src = splitCpArg(args[0]!);
    const dst = splitCpArg(args[1]!);
    if (src.container !== undefined && dst.container !== undefined) throw cliError('copying between containers is not supported');
    if (src.container === undefined && dst.container === undefined) throw cliError('must specify at least one container source');
    const opts = { followLink: flag.bool(fl, 'follow-link'), archive: flag.bool(fl, 'archive'), quiet: flag.bool(fl, 'quiet') };
    const client = await ctx.client();
    if (src.container !== undefined) {
      if (!src.container) throw cliError('must specify a container name');
      await copyFromContainer(ctx, client, src.container, src.path, args[1]!, opts);
    } else {
      if (!dst.container) throw cliError('must specify a container name');
      await copyToContainer(ctx, client, args[0]!, dst.container!, dst.path, opts);
    }
  },
};

export default command;
