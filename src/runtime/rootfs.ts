// Container root filesystems: an overlay of image layers (top-most first) under the engine's init
// layer, with the container's upper/work dirs; a copy-based fallback where overlay is unavailable.
// The init layer owns /dev, /proc, /sys and /etc/{hosts,hostname,resolv.conf}: as a directory or
// file above the image it hides any image symlink at those paths (security.md R7, test 7).
// The small metadata calls here (mkdir, lstat, tiny files) are synchronous: they are on the start
// path, and ~20 of them cost ~0.5 ms that way against 1.5-6 ms of round trips through libuv's
// thread pool on the 2-core test host, where they also queue behind background cleanup.
import {
  promises as fsp, constants, readFileSync, mkdirSync, chmodSync, openSync, fchmodSync, closeSync, symlinkSync, lstatSync, writeFileSync, renameSync, rmSync, readdirSync, realpathSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError, errors, isBerthError } from '../errors/index.js';
import { log } from '../util/log.js';
import { runCommand } from './exec-util.js';
import { runHelper } from './helper.js';

/** overlayfs' limit on lower layers (OVL_MAX_STACK). */
export const MAX_LOWER_LAYERS = 500;
// mount(2) copies at most one page of option data.
const OPTION_LIMIT = 4096 - 1;

export function overlaySupported(): boolean {
  try { return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')); } catch { return false; }
}

export interface OverlayOptions {
  /** Layer directories, top-most first (the init layer first, then the image's top layer ... base). */
  lowerdirs: string[];
  upperdir: string;
  workdir: string;
  target: string;
  /** A directory we own for the short layer links used when the option string would not fit a page. */
  linkDir: string;
  /** The runtime helper (ensureHelper): mount(2) directly instead of spawning mount(8). */
  helper?: string;
  /**
   * overlayfs `volatile` (Linux 5.10+; mounted without it where unsupported): no syncs, in particular
   * none of the whole upper filesystem at unmount. The upper dir cannot be mounted again afterwards,
   * so only for a writable layer that is thrown away after one run.
   */
  volatile?: boolean;
}

function unsafeOptionPath(p: string): boolean {
  return /[,:\\\n]/.test(p);
}

/**
 * Mount an overlay. Long chains are made to fit the one-page option limit with a directory of
 * short symlinks (`linkDir/<n>` → layer) and mounting from inside that directory (relative lowerdirs).
 */
export async function mountOverlay(o: OverlayOptions): Promise<void> {
  if (o.lowerdirs.length === 0) throw errors.invalid('overlay needs at least one lower layer');
  if (o.lowerdirs.length > MAX_LOWER_LAYERS) throw errors.invalid(`max depth exceeded: ${o.lowerdirs.length} layers (overlay allows ${MAX_LOWER_LAYERS})`);
  for (const p of [o.upperdir, o.workdir]) if (unsafeOptionPath(p)) throw errors.invalid(`unsupported character in path ${p}`);
  // A volatile mount of this upper dir before (a --rm container's preparation given back before its
  // start) leaves work/incompat/volatile, and overlayfs refuses the dir until it is gone. The dir is
  // ours, and unsynced data after a host crash is what volatile accepted.
  rmSync(join(o.workdir, 'work', 'incompat', 'volatile'), { recursive: true, force: true });
  mkdirSync(o.upperdir, { recursive: true, mode: 0o755 });
  mkdirSync(o.workdir, { recursive: true, mode: 0o700 });
  mkdirSync(o.target, { recursive: true, mode: 0o755 });
  const direct = `lowerdir=${o.lowerdirs.join(':')},upperdir=${o.upperdir},workdir=${o.workdir}`;
  let options = direct;
  let cwd: string | undefined;
  if (direct.length > OPTION_LIMIT || o.lowerdirs.some(unsafeOptionPath)) {
    await fsp.rm(o.linkDir, { recursive: true, force: true });
    await fsp.mkdir(o.linkDir, { recursive: true, mode: 0o700 });
    await Promise.all(o.lowerdirs.map((d, i) => fsp.symlink(d, join(o.linkDir, i.toString(36)))));
    options = `lowerdir=${o.lowerdirs.map((_, i) => i.toString(36)).join(':')},upperdir=${o.upperdir},workdir=${o.workdir}`;
    cwd = o.linkDir;
    if (options.length > OPTION_LIMIT) throw errors.invalid('overlay mount options too long (upper/work paths)');
  }
  const mount = (opts: string) => o.helper
    ? runHelper(o.helper, ['mount-overlay', cwd ?? '-', opts, o.target])
    : runCommand('mount', ['-t', 'overlay', '-o', opts, 'overlay', o.target], { cwd });
  let r = await mount(o.volatile && options.length + 9 <= OPTION_LIMIT ? `${options},volatile` : options);
  if (r.code !== 0 && o.volatile) r = await mount(options); // kernel without volatile support
  if (r.code !== 0) throw errors.internal(`mounting the container root filesystem failed: ${r.stderr.trim()}`);
}

/** A shareable-IPC container's /dev/shm on the host, in its directory (`--ipc shareable`). */
export const SHM_DIR = 'shm';

/**
 * Mount the tmpfs a shareable-IPC container (and those joining its IPC namespace) bind as /dev/shm,
 * as Docker's daemon does: it lives on the host, so another container can bind it too. Kept until
 * releaseRootfs. Rare, so through mount(8) rather than the helper.
 */
export async function mountShm(containerDir: string, sizeBytes: number): Promise<string> {
  const target = join(containerDir, SHM_DIR);
  mkdirSync(target, { recursive: true, mode: 0o700 });
  if (await isMountPoint(target)) return target;
  const r = await runCommand('mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,noexec,mode=1777,size=${sizeBytes}`, 'shm', target]);
  if (r.code !== 0) throw errors.internal(`mounting /dev/shm for the container failed: ${r.stderr.trim()}`);
  return target;
}

/** Unmount a container rootfs (no error when it is not mounted). */
export async function unmountRootfs(target: string, helper?: string): Promise<void> {
  if (helper) {
    // umount2(2), lazily when busy; "not mounted" is success.
    const h = await runHelper(helper, ['umount', target]);
    if (h.code !== 0) throw errors.internal(`unmounting ${target} failed: ${h.stderr.trim()}`);
    return;
  }
  const r = await runCommand('umount', [target]);
  if (r.code !== 0 && !/not mounted|no mount point|not found|No such file/i.test(r.stderr)) {
    // Busy (e.g. a leftover process): detach lazily so the directory can go.
    const r2 = await runCommand('umount', ['-l', target]);
    if (r2.code !== 0 && !/not mounted|no mount point|not found/i.test(r2.stderr)) {
      throw errors.internal(`unmounting ${target} failed: ${r.stderr.trim()}`);
    }
  }
}

/**
 * Whether something is mounted on `p`, for the directories we mount on (an overlay or a tmpfs, each with
 * a device of its own): a device other than its parent's. Two stats, where scanning mountinfo reads
 * a line per mount on the host.
 */
async function isMountPoint(p: string): Promise<boolean> {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) return false;
  return st.dev !== lstatSync(dirname(p)).dev;
}

// ---- init layer -------------------------------------------------------------------------------

// Docker's init layer makes every one of them 0755, files included: what `export`, `cp` and a
// stopped container show (a running container has its own mounts over all of them).
const INIT_DIRS: [string, number][] = [
  ['dev', 0o755], ['dev/pts', 0o755], ['dev/shm', 0o755], ['proc', 0o755], ['sys', 0o755], ['etc', 0o755],
];
const INIT_FILES: [string, number][] = [
  ['etc/hosts', 0o755], ['etc/hostname', 0o755], ['etc/resolv.conf', 0o755], ['.dockerenv', 0o755], ['dev/console', 0o755],
];

/**
 * Build the engine's init layer in `dir` (created fresh; it must not exist): empty /dev, /proc, /sys
 * directories and placeholder /etc/{hosts,hostname,resolv.conf} files as mount targets. Every entry
 * is created exclusively, so nothing here can be redirected by a symlink.
 */
export async function createInitLayer(dir: string): Promise<void> {
  makeInitLayer(dir);
}

function makeInitLayer(dir: string): void {
  mkdirSync(dir, { mode: 0o755 });
  for (const [rel, mode] of INIT_DIRS) {
    const p = join(dir, rel);
    mkdirSync(p, { mode });
    chmodSync(p, mode); // umask-free
  }
  for (const [rel, mode] of INIT_FILES) {
    const fd = openSync(join(dir, rel), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    try { fchmodSync(fd, mode); } finally { closeSync(fd); }
  }
  symlinkSync('/proc/mounts', join(dir, 'etc/mtab'));
}

/**
 * The init layer shared by every container of a daemon root (its content is the same for all; as an
 * overlay lower dir it is never written): made once, under a temp name then renamed into place, so a
 * crash never leaves a half-made one at `path`. Saves each create ~20 inode creations. Synchronous
 * from the check to the rename, so callers in one process cannot interleave (the root's lock keeps
 * other processes out).
 */
export function ensureSharedInitLayer(path: string): string {
  if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) return path;
  // What a crash during an earlier attempt left.
  const base = `${basename(path)}.tmp-`;
  for (const n of readdirSync(dirname(path))) if (n.startsWith(base)) rmSync(join(dirname(path), n), { recursive: true, force: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  makeInitLayer(tmp);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    // Someone else put it in place first (EEXIST/ENOTEMPTY): theirs is as good as ours.
    if (!lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) throw e;
  }
  return path;
}

export interface EtcFilesOptions {
  hostname: string;
  /**
   * The whole hosts file (the engine builds it with network/etc.ts); undefined: a copy of the
   * host's own, for `--network host` without --add-host, as Docker.
   */
  hosts?: string;
  /** resolv.conf text; default: the host's (minus loopback nameservers unless on the host's network). */
  resolvConf?: string;
  /**
   * The host's network (`--network host`): the host's resolv.conf kept as is (its loopback
   * nameservers are reachable there). Copies: the container must never write the host's own files.
   */
  hostNetwork?: boolean;
}

/** Write hosts, hostname and resolv.conf into `dir` (the container dir); returns their paths for the spec. */
export async function writeEtcFiles(dir: string, o: EtcFilesOptions): Promise<{ hostsPath: string; hostnamePath: string; resolvConfPath: string }> {
  const hostsPath = join(dir, 'hosts');
  const hostnamePath = join(dir, 'hostname');
  const resolvConfPath = join(dir, 'resolv.conf');
  const hostFile = (p: string) => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };
  let resolv = o.resolvConf;
  if (resolv === undefined) {
    const host = hostFile('/etc/resolv.conf');
    // Loopback resolvers of the host are unreachable from a container network namespace.
    resolv = o.hostNetwork ? host : host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n');
  }
  const hostsText = o.hosts ?? hostFile('/etc/hosts');
  writeOwned(hostsPath, hostsText.endsWith('\n') || hostsText === '' ? hostsText : hostsText + '\n');
  writeOwned(hostnamePath, o.hostname + '\n');
  writeOwned(resolvConfPath, resolv.endsWith('\n') || resolv === '' ? resolv : resolv + '\n');
  return { hostsPath, hostnamePath, resolvConfPath };
}

/** A few hundred bytes, synchronously (see the top of this file). */
function writeOwned(p: string, text: string): void {
  const tmp = `${p}.${process.pid}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  // No fsync: these files are rewritten at every start, so a crash can only lose a copy nobody reads.
  try { writeFileSync(fd, text); } finally { closeSync(fd); }
  renameSync(tmp, p);
}

/**
 * Refuse a root filesystem whose special paths are not what the init layer made them: /dev, /proc,
 * /sys, /etc must be real directories and /etc/{hosts,hostname,resolv.conf} regular files.
 */
export async function checkSpecialPaths(rootfs: string): Promise<void> {
  const dirs = INIT_DIRS.map(([rel]) => rel).filter((rel) => rel !== 'dev/pts' && rel !== 'dev/shm');
  const files = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf'];
  const stat = (rel: string) => lstatSync(join(rootfs, rel), { throwIfNoEntry: false });
  const ds = dirs.map(stat);
  const fs = files.map(stat);
  dirs.forEach((rel, i) => { const st = ds[i]; if (!st || !st.isDirectory()) throw refusal(rel, st); });
  files.forEach((rel, i) => { const st = fs[i]; if (!st || !st.isFile()) throw refusal(rel, st); });
}

function refusal(rel: string, st: import('node:fs').Stats | undefined): BerthError {
  const what = !st ? 'missing' : st.isSymbolicLink() ? 'a symbolic link' : 'not the expected type';
  return new BerthError('ERR_INVALID_ARGUMENT', `refusing container root filesystem: /${rel} is ${what}`);
}

// ---- copy fallback ----------------------------------------------------------------------------

/**
 * Merge layer directories (top-most first) into `target` by copying, bottom layer first, with
 * overlay whiteouts (0:0 character devices) applied. Never follows a symlink in `target`: a
 * non-directory is replaced before anything is copied beneath its name.
 * Limits: opaque-directory xattrs and device nodes other than whiteouts are not reproduced.
 */
export async function copyLayers(lowerdirs: string[], target: string): Promise<void> {
  await fsp.mkdir(target, { recursive: true, mode: 0o755 });
  for (const layer of [...lowerdirs].reverse()) await mergeDir(layer, target);
}

async function mergeDir(src: string, dst: string): Promise<void> {
  const entries = await fsp.readdir(src, { withFileTypes: true });
  for (const e of entries) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    const st = await fsp.lstat(s);
    const existing = await fsp.lstat(d).catch(() => undefined);
    if (st.isCharacterDevice() && st.rdev === 0) {
      if (existing) await fsp.rm(d, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      if (existing && !existing.isDirectory()) await fsp.rm(d, { force: true });
      if (!existing || !existing.isDirectory()) await fsp.mkdir(d, { mode: st.mode & 0o7777 });
      await mergeDir(s, d);
      await fsp.chmod(d, st.mode & 0o7777);
      await fsp.lchown(d, st.uid, st.gid);
      await fsp.utimes(d, st.atime, st.mtime);
      continue;
    }
    if (existing) await fsp.rm(d, { recursive: true, force: true });
    if (st.isSymbolicLink()) {
      await fsp.symlink(await fsp.readlink(s), d);
      await fsp.lchown(d, st.uid, st.gid);
    } else if (st.isFile()) {
      await fsp.copyFile(s, d, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      await fsp.lchown(d, st.uid, st.gid);
      await fsp.chmod(d, st.mode & 0o7777);
      await fsp.utimes(d, st.atime, st.mtime);
    }
    // FIFOs, sockets and device nodes are skipped (no mknod from Node).
  }
}

// ---- the whole rootfs -------------------------------------------------------------------------

export interface PrepareRootfsOptions {
  /** Image layer directories, top-most first. */
  layers: string[];
  /** The container's init layer (createInitLayer). */
  initLayer: string;
  /** The container's own directory: rootfs, upper, work and link dirs go here. */
  containerDir: string;
  /** 'auto' (default): overlay when available, else copy. */
  mode?: 'auto' | 'overlay' | 'copy';
  /** The runtime helper, for mount(2)/umount2(2) without spawning mount(8)/umount(8). */
  helper?: string;
  /** Mount the overlay `volatile` (see OverlayOptions.volatile). */
  volatile?: boolean;
}

/** Assemble and mount the rootfs at `<containerDir>/rootfs`; returns its path and how it was made. */
export async function prepareRootfs(o: PrepareRootfsOptions): Promise<{ rootfs: string; mode: 'overlay' | 'copy' }> {
  const rootfs = join(o.containerDir, 'rootfs');
  const lowers = [o.initLayer, ...o.layers];
  const mode = o.mode ?? 'auto';
  if (mode !== 'copy' && (mode === 'overlay' || overlaySupported())) {
    if (await isMountPoint(rootfs).catch(() => false)) await unmountRootfs(rootfs, o.helper);
    let mounted = false;
    try {
      await mountOverlay({ lowerdirs: lowers, upperdir: join(o.containerDir, 'upper'), workdir: join(o.containerDir, 'work'), target: rootfs, linkDir: join(o.containerDir, 'l'), helper: o.helper, volatile: o.volatile });
      mounted = true;
    } catch (e) {
      // e.g. the container dir is itself on overlayfs: fall back to copying (auto mode only).
      if (mode === 'overlay' || isBerthError(e, 'ERR_INVALID_ARGUMENT')) throw e;
      log.warn('overlay mount failed, copying layers instead', { error: (e as Error).message });
    }
    if (mounted) {
      try {
        await checkSpecialPaths(rootfs);
      } catch (e) {
        await unmountRootfs(rootfs, o.helper);
        throw e;
      }
      return { rootfs, mode: 'overlay' };
    }
  }
  // Copy mode: the writable layer is the copy itself; rebuilt only when missing.
  const marker = join(o.containerDir, '.rootfs-copied');
  const done = await fsp.lstat(marker).then(() => true, () => false);
  if (!done) {
    await fsp.rm(rootfs, { recursive: true, force: true });
    await copyLayers(lowers, rootfs);
    await fsp.writeFile(marker, '');
  }
  await checkSpecialPaths(rootfs);
  return { rootfs, mode: 'copy' };
}

/** Undo prepareRootfs (unmount); the container dir itself is the caller's to remove. */
export async function releaseRootfs(containerDir: string, helper?: string): Promise<void> {
  const rootfs = join(containerDir, 'rootfs');
  const shm = join(containerDir, SHM_DIR);
  if (await isMountPoint(shm).catch(() => false)) await unmountRootfs(shm, helper);
  // The helper's umount2 answers "not mounted" itself: no mountinfo scan needed.
  if (helper) await unmountRootfs(rootfs, helper);
  else if (await isMountPoint(rootfs).catch(() => false)) await unmountRootfs(rootfs);
}

/**
 * A bind asking for shared (or slave) propagation needs its source on a mount that is shared (or
 * shared or slave) in the daemon's mount namespace, or nothing propagates: Docker's daemon refuses
 * the start then, in these words. Other propagations are not checked.
 */
export function checkBindPropagation(source: string, propagation: string): void {
  const shared = propagation === 'shared' || propagation === 'rshared';
  if (!shared && propagation !== 'slave' && propagation !== 'rslave') return;
  let path = source;
  try { path = realpathSync(source); } catch { /* runc reports a missing source */ }
  let best: { point: string; optional: string[] } | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 6) continue;
    const point = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const within = point === '/' || path === point || path.startsWith(`${point}/`);
    // The longest mount point holding the path; of mounts stacked on one point, the top one.
    if (within && (!best || point.length >= best.point.length)) best = { point, optional: f.slice(6, sep) };
  }
  if (!best) return;
  const isShared = best.optional.some((o) => o.startsWith('shared:'));
  const isSlave = best.optional.some((o) => o.startsWith('master:'));
  if (shared && !isShared) throw errors.internal(`path ${source} is mounted on ${best.point} but it is not a shared mount`);
  if (!shared && !isShared && !isSlave) throw errors.internal(`path ${source} is mounted on ${best.point} but it is not a shared or slave mount`);
}
