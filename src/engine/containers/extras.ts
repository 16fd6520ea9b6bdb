// Container operations beyond the lifecycle: top, stats (Docker's JSON shape), export, commit,
// changes and the archive (docker cp) endpoints.
import { promises as fsp, constants } from 'node:fs';
import { join, posix } from 'node:path';
import { spawn } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { errors } from '../../errors/index.js';
import { runCommand } from '../../runtime/exec-util.js';
import type { ContainerStats } from '../../runtime/index.js';
import { resolveUser } from '../../runtime/index.js';
import { hostPathOf, mountAt, resolveInView, type RootView } from '../../util/in-root.js';
import { deviceNumbers } from '../../util/fs.js';
import type { ContainerRecord } from './types.js';
import { containerSizes } from './view.js';
import { matchLabels, parseTimestamp, validateFilters, type Filters } from '../../api/query.js';
import type { ContainerService } from './service.js';

/** PIDs (host view) of the processes in the container: same pid namespace as its init. */
async function containerPids(initPid: number): Promise<number[]> {
  const ns = await fsp.readlink(`/proc/${initPid}/ns/pid`).catch(() => undefined);
  if (!ns) return [];
  const out: number[] = [];
  for (const n of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const l = await fsp.readlink(`/proc/${n}/ns/pid`).catch(() => undefined);
    if (l === ns) out.push(Number(n));
  }
  return out;
}

export async function top(svc: ContainerService, ref: string, psArgs = '-ef'): Promise<{ Titles: string[]; Processes: string[][] }> {
  const c = svc.get(ref);
  if (c.State.Status !== 'running' && c.State.Status !== 'paused') throw errors.conflict(`Container ${c.Id} is not running`);
  const pids = new Set(await containerPids(c.State.Pid));
  const args = psArgs.split(/\s+/).filter(Boolean);
  const r = await runCommand('ps', args);
  // As Docker: the first line of ps's complaint (the rest is its usage text).
  if (r.code !== 0) throw errors.internal(`ps: ${r.stderr.trim().split('\n')[0] || `exit status ${r.code}`}`);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  const titles = lines[0]!.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw errors.invalid(`Couldn't find PID field in ps output`);
  const procs: string[][] = [];
  for (const l of lines.slice(1)) {
    const f = l.trim().split(/\s+/);
    if (!pids.has(Number(f[pidCol]))) continue;
    // The last column (command) may contain spaces.
    procs.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  }
  svc.publish(c, 'top');
  return { Titles: titles, Processes: procs };
}

/**
 * One /stats request's memory: its previous sample, which the next one reports as precpu_stats (as
 * Docker does within a request; a request's first sample, and a one-shot, have an empty precpu).
 */
export interface StatsSession { prev?: { cpu: Record<string, unknown>; read: string } }

const BLKIO_KEYS = ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queue_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive'] as const;
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's sample for a container that is not running: zero values throughout, no time read. */
function emptyStats(c: ContainerRecord): Record<string, unknown> {
  const cpu = () => ({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
  return {
    read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: Object.fromEntries(BLKIO_KEYS.map((k) => [k, null])),
    num_procs: 0, storage_stats: {}, cpu_stats: cpu(), precpu_stats: cpu(), memory_stats: {}, name: `/${c.Name}`, id: c.Id,
  };
}

/** The memory.stat keys Docker reports on cgroup v1 (a fixed set, 0 when the kernel has none). */
const MEMORY_V1_KEYS = ['active_anon', 'active_file', 'cache', 'dirty', 'inactive_anon', 'inactive_file', 'mapped_file', 'pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'rss', 'rss_huge', 'unevictable', 'writeback'];
function memoryStatsV1(raw: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { hierarchical_memory_limit: raw.hierarchical_memory_limit ?? 0, hierarchical_memsw_limit: raw.hierarchical_memsw_limit ?? 0 };
  for (const k of MEMORY_V1_KEYS) { out[k] = raw[k] ?? 0; out[`total_${k}`] = raw[`total_${k}`] ?? 0; }
  return out;
}

/** One stats sample in Docker's JSON shape. */
export async function statsOnce(svc: ContainerService, c: ContainerRecord, session: StatsSession = {}): Promise<Record<string, unknown>> {
  const running = c.State.Status === 'running' || c.State.Status === 'paused';
  let s: ContainerStats | undefined;
  if (running) s = await svc.runtime.stats(c.Id).catch(() => undefined);
  if (!s) return emptyStats(c);
  // Interface counters from the container's own network namespace (none on the host's network).
  const mode = c.HostConfig.NetworkMode ?? 'bridge';
  const networks = running && c.State.Pid > 0 && mode !== 'host' && !mode.startsWith('container:')
    ? await fsp.readFile(`/proc/${c.State.Pid}/net/dev`, 'utf8').then(parseNetDev, () => ({}))
    : {};
  const read = new Date().toISOString();
  const prev = session.prev;
  const cpu = {
    cpu_usage: {
      total_usage: s.cpu.totalUsage, usage_in_kernelmode: s.cpu.usageInKernelmode, usage_in_usermode: s.cpu.usageInUsermode,
      ...(s.cpu.perCpuUsage ? { percpu_usage: s.cpu.perCpuUsage } : {}),
    },
    system_cpu_usage: s.cpu.systemUsage, online_cpus: s.cpu.onlineCpus,
    throttling_data: { periods: s.cpu.throttling.periods, throttled_periods: s.cpu.throttling.throttledPeriods, throttled_time: s.cpu.throttling.throttledTime },
  };
  // The request's previous sample as it was sent (Docker's precpu_stats), else zeros.
  const precpu = prev?.cpu ?? { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  session.prev = { cpu, read };
  // cgroup v1: every counter a list (empty when the kernel keeps none), as Docker reads them; v2:
  // bytes and operations only, null when no device has any.
  const blk = (e: { major: number; minor: number; op: string; value: number }[] | undefined) =>
    e && (e.length || s.cgroupVersion === 1) ? e.map((x) => ({ major: x.major, minor: x.minor, op: x.op, value: x.value })) : null;
  const more = s.blkio.more;
  return {
    read, preread: prev?.read ?? ZERO_TIME,
    pids_stats: { current: s.pids.current, ...(s.pids.limit ? { limit: s.pids.limit } : {}) },
    blkio_stats: {
      io_service_bytes_recursive: blk(s.blkio.ioServiceBytesRecursive), io_serviced_recursive: blk(s.blkio.ioServicedRecursive),
      io_queue_recursive: blk(more?.io_queue_recursive), io_service_time_recursive: blk(more?.io_service_time_recursive), io_wait_time_recursive: blk(more?.io_wait_time_recursive),
      io_merged_recursive: blk(more?.io_merged_recursive), io_time_recursive: blk(more?.io_time_recursive), sectors_recursive: blk(more?.sectors_recursive),
    },
    num_procs: 0, storage_stats: {}, cpu_stats: cpu, precpu_stats: precpu,
    memory_stats: { usage: s.memory.usage, ...(s.memory.maxUsage !== undefined ? { max_usage: s.memory.maxUsage } : {}), stats: s.cgroupVersion === 1 ? memoryStatsV1(s.memory.stats) : s.memory.stats, limit: s.memory.limit },
    name: `/${c.Name}`, id: c.Id,
    ...(Object.keys(networks).length > 0 ? { networks } : {}),
  };
}

type NetCounters = Record<'rx_bytes' | 'rx_packets' | 'rx_errors' | 'rx_dropped' | 'tx_bytes' | 'tx_packets' | 'tx_errors' | 'tx_dropped', number>;

/** /proc/<pid>/net/dev → Docker's per-interface counters, loopback left out (as Docker does). */
export function parseNetDev(text: string): Record<string, NetCounters> {
  const out: Record<string, NetCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out[m[1]!] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return out;
}

// ---- prune ---------------------------------------------------------------------------------------

/**
 * POST /containers/prune: every container not running, narrowed by Docker's filters: `until`
 * (created before; a timestamp or a duration back from now), `label` (all must match) and
 * `label!` (none may match). Filters are checked before anything is removed.
 */
export async function pruneContainers(svc: ContainerService, f: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  validateFilters(f, ['label', 'label!', 'until']);
  let until: bigint | undefined;
  for (const v of f.get('until') ?? []) {
    try { until = parseTimestamp(v); } catch { throw errors.invalid(`failed to parse value as time or duration: ${JSON.stringify(v)}`); }
  }
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const c of svc.all()) {
    if (svc.isRunning(c)) continue;
    const labels = c.Config.Labels ?? {};
    if (!matchLabels(f.get('label'), labels)) continue;
    if ([...f.get('label!') ?? []].some((l) => matchLabels(new Set([l]), labels))) continue;
    if (until !== undefined && BigInt(Date.parse(c.Created)) * 1_000_000n >= until) continue;
    const { SizeRw } = await containerSizes(svc, c);
    await svc.remove(c.Id).then(() => { deleted.push(c.Id); reclaimed += SizeRw; }, () => {});
  }
  // Docker's event for every prune, with what it freed (no actor).
  svc.d.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
  return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

// ---- filesystem: export / changes / archive / commit ----------------------------------------------

/** Mount the rootfs if the container is not running (overlay assembled on demand). */
async function withRootfs<T>(svc: ContainerService, c: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T> {
  return svc.withRootfs(c, fn);
}

/** As withRootfs, with the container's mounts over the rootfs (what docker cp sees). */
async function withView<T>(svc: ContainerService, c: ContainerRecord, fn: (view: RootView) => Promise<T>): Promise<T> {
  return svc.withRootfs(c, (root) => fn(svc.archiveView(c, root)));
}

export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

/** Go's os.FileMode bits from a unix mode (what docker cp's stat header carries). */
function goMode(st: import('node:fs').Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m |= 0x80000000;
  if (st.isSymbolicLink()) m |= 0x08000000;
  if (st.mode & 0o4000) m |= 0x00800000;
  if (st.mode & 0o2000) m |= 0x00400000;
  if (st.mode & 0o1000) m |= 0x00100000;
  return m >>> 0;
}

export async function archiveStat(svc: ContainerService, ref: string, path: string): Promise<PathStat> {
  const c = svc.get(ref);
  return withView(svc, c, async (view) => {
    // As Docker: "link/" and "link/." stand for what the link names; a link's target is given
    // fully resolved in the container, as an absolute path ("rel -> f1" in /d shows "/d/f1").
    const follow = /\/\.?$/.test(path);
    const full = (await resolveInView(view, path, follow)).host;
    const st = await fsp.lstat(full).catch(() => undefined);
    if (!st) throw errors.notFound(`Could not find the file ${path} in container ${c.Name}`);
    notDirectory(path, st.isDirectory());
    const linkTarget = st.isSymbolicLink() ? (await resolveInView(view, path, true)).path : '';
    return { name: posix.basename(path) || '/', size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(), linkTarget };
  });
}

/** GET /archive: a tar of `path` (its basename as the top entry), streamed into `out`. */
export async function archiveGet(svc: ContainerService, ref: string, path: string, out: Writable, onStat: (s: PathStat) => void): Promise<void> {
  const c = svc.get(ref);
  await withView(svc, c, async (view) => {
    const follow = path.endsWith('/') || path.endsWith('/.');
    const at = await resolveInView(view, path, follow);
    const full = at.host;
    const st = await fsp.lstat(full).catch(() => undefined);
    if (!st) throw errors.notFound(`Could not find the file ${path} in container ${c.Name}`);
    notDirectory(path, st.isDirectory());
    const linkTarget = st.isSymbolicLink() ? (await resolveInView(view, path, true)).path : ''; // as archiveStat
    // "dir/." stands for the directory's contents: entries are named from "." (Docker's rebase).
    const contents = path.endsWith('/.');
    onStat({ name: contents ? '.' : posix.basename(path.replace(/\/$/, '')) || '/', size: st.size, mode: goMode(st), mtime: st.mtime.toISOString(), linkTarget });
    // Docker's event for a copy out, once the archive is under way.
    svc.publish(c, 'archive-path');
    const pack = tar.pack();
    const base = contents ? '.' : posix.basename(path.replace(/\/$/, '')) || '.';
    const done = pipeline(pack, out);
    // A client that goes away mid-download ends the pipeline early: stop packing, never crash.
    done.catch(() => {});
    try {
      await packTree(pack, { view, cp: at.path }, base);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
    await done;
  });
}

/** A path written with a trailing "/" (or "/.") must be a directory, as lstat(2) has it. */
function notDirectory(path: string, isDirectory: boolean): void {
  if (!isDirectory && (path.endsWith('/') || path.endsWith('/.'))) throw errors.internal(`lstat ${path}: not a directory`);
}

/**
 * Pack `at` as `name`: a host path, or a container path in a view (so a mount met on the way down,
 * a bind under the directory being copied, is packed from its source as the container sees it).
 */
async function packTree(pack: tar.Pack, at: string | { view: RootView; cp: string }, name: string): Promise<void> {
  if (pack.destroyed) throw new Error('archive stream closed');
  const full = typeof at === 'string' ? at : hostPathOf(at.view, at.cp);
  const st = await fsp.lstat(full);
  const common = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    // Directories end in "/", as in Docker's archives (and GNU tar's listings).
    addEntry(pack, { ...common, name: `${name}/`, type: 'directory' });
    for (const e of (await fsp.readdir(full)).sort()) {
      await packTree(pack, typeof at === 'string' ? join(full, e) : { view: at.view, cp: posix.join(at.cp, e) }, `${name}/${e}`);
    }
  } else if (st.isFIFO()) {
    addEntry(pack, { ...common, type: 'fifo' });
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    const { major, minor } = deviceNumbers(st.rdev);
    addEntry(pack, { ...common, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
  } else if (st.isSymbolicLink()) {
    addEntry(pack, { ...common, type: 'symlink', linkname: await fsp.readlink(full) });
  } else if (st.isFile()) {
    // O_NOFOLLOW: the file could have been swapped for a symlink since lstat.
    const fh = await fsp.open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const entry = addEntry(pack, { ...common, type: 'file', size: st.size });
      const buf = Buffer.alloc(65536);
      let left = st.size;
      let pos = 0;
      while (left > 0) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), pos);
        if (bytesRead <= 0) break;
        pos += bytesRead;
        left -= bytesRead;
        // Copy: the buffer is reused for the next read.
        if (!entry.write(Buffer.from(buf.subarray(0, bytesRead)))) await entryEvent(pack, entry, 'drain');
      }
      // The file shrank meanwhile: pad so the tar stays well-formed.
      if (left > 0) entry.write(Buffer.alloc(left));
      const finished = entryEvent(pack, entry, 'finish');
      (entry as NodeJS.WritableStream).end();
      await finished;
    } finally { await fh.close(); }
  }
}

/**
 * Add an entry whose failure is observed through the pack (entryEvent): when the client goes
 * away the pack tears its entries down with an error nobody else listens for.
 */
function addEntry(pack: tar.Pack, header: Parameters<tar.Pack['entry']>[0]): NodeJS.WritableStream {
  const entry = pack.entry(header);
  entry.on('error', () => {});
  return entry;
}

/** Wait for `ev` on a tar entry; fails instead of hanging when the archive stream was torn down. */
function entryEvent(pack: tar.Pack, entry: NodeJS.EventEmitter, ev: 'drain' | 'finish'): Promise<void> {
  if (pack.destroyed) return Promise.reject(new Error('archive stream closed'));
  return new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => {
      pack.off('close', onClose); entry.off(ev, onEvent); entry.off('error', done);
      if (e) reject(e); else resolve();
    };
    const onClose = () => done(new Error('archive stream closed'));
    const onEvent = () => done();
    pack.once('close', onClose);
    entry.once(ev, onEvent);
    entry.once('error', done);
  });
}

/** PUT /archive: extract a tar into `path` (a directory) inside the container, never escaping it. */
export async function archivePut(svc: ContainerService, ref: string, path: string, body: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void> {
  const c = svc.get(ref);
  await withView(svc, c, async (view) => {
    const dest = await resolveInView(view, path, true);
    const st = await fsp.stat(dest.host).catch(() => undefined);
    if (!st) throw errors.notFound(`Could not find the file ${path} in container ${c.Name}`);
    if (!st.isDirectory()) throw errors.invalid(`extraction point is not a directory`);
    const destRel = dest.path;
    // As Docker: nothing lands on a read-only rootfs or in a read-only mount.
    const writable = (cp: string) => {
      const m = mountAt(view, cp);
      if (m?.readOnly) throw errors.internal('mounted volume is marked read-only');
      if (!m && c.HostConfig.ReadonlyRootfs) throw errors.internal('container rootfs is marked read-only');
      return m;
    };
    writable(destRel);
    // As Docker: the archive's owners are kept (the docker CLI sends the host files' owners);
    // with copyUIDGID (`cp -a`) a container with a User gets everything owned by that user.
    // Docker looks that name up on the daemon's host; here it is looked up in the container.
    const owner = opts.copyUIDGID && c.Config.User ? await resolveUser(view.root, c.Config.User) : undefined;
    const ex = tar.extract();
    const work = (async () => {
      for await (const entry of ex) {
        const h = entry.header;
        const rel = posix.normalize('/' + h.name).replace(/(.)\/+$/, '$1'); // "dir/" names dir
        if (rel === '/') { entry.resume(); continue; }
        const at = await resolveInView(view, posix.join(destRel, posix.dirname(rel)), true);
        const parent = at.host;
        const cp = posix.join(at.path, posix.basename(rel));
        const target = join(parent, posix.basename(rel));
        // A file mounted on its own (/etc/hosts, a -v file) cannot be replaced, as in Docker.
        if (writable(cp)?.dest === cp && !(await fsp.stat(target).then((s) => s.isDirectory(), () => true))) {
          throw errors.internal(`unlinkat ${cp}: device or resource busy`);
        }
        const mode = (h.mode ?? 0o644) & 0o7777;
        const uid = owner?.uid ?? h.uid ?? 0;
        const gid = owner?.gid ?? h.gid ?? 0;
        await fsp.mkdir(parent, { recursive: true });
        const existing = await fsp.lstat(target).catch(() => undefined);
        if (h.type === 'directory') {
          if (existing && !existing.isDirectory()) {
            if (opts.noOverwriteDirNonDir) throw overwriteRefused('non-directory', 'directory', posix.join(destRel, rel), destRel);
            await fsp.rm(target, { force: true });
          }
          if (!existing || !existing.isDirectory()) await fsp.mkdir(target, { mode });
          await fsp.lchown(target, uid, gid).catch(() => {});
          entry.resume();
        } else if (h.type === 'file' || h.type === 'contiguous-file') {
          if (existing?.isDirectory()) {
            if (opts.noOverwriteDirNonDir) throw overwriteRefused('directory', 'non-directory', posix.join(destRel, rel), destRel);
            await fsp.rm(target, { recursive: true, force: true });
          } else if (existing) await fsp.rm(target, { force: true });
          // O_EXCL|O_NOFOLLOW: never write through a symlink planted in the container.
          const fh = await fsp.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
          try { for await (const chunk of entry) await fh.write(chunk as Buffer); } finally { await fh.close(); }
          await fsp.lchown(target, uid, gid).catch(() => {});
          await fsp.chmod(target, mode);
          if (h.mtime) await fsp.utimes(target, h.mtime, h.mtime).catch(() => {});
        } else if (h.type === 'symlink') {
          if (existing) await fsp.rm(target, { recursive: true, force: true });
          await fsp.symlink(h.linkname ?? '', target);
          await fsp.lchown(target, uid, gid).catch(() => {});
          entry.resume();
        } else if (h.type === 'fifo') {
          if (existing) await fsp.rm(target, { recursive: true, force: true });
          const r = await runCommand('mkfifo', ['-m', (mode & 0o777).toString(8), target]);
          if (r.code !== 0) throw errors.internal(`mkfifo ${rel}: ${r.stderr.trim()}`);
          await fsp.lchown(target, uid, gid).catch(() => {});
          entry.resume();
        } else entry.resume();
      }
    })();
    // As Docker, the archive may come compressed (gzip, zstd).
    const { autoDecompress } = await import('../images/compress.js');
    await Promise.all([pipeline(autoDecompress(body), ex), work]).catch((e: unknown) => { throw tarReadError(e); });
  });
  svc.publish(c, 'extract-to-dir');
}

/** A malformed archive in the words of Go's tar reader (Docker's), not tar-stream's. */
function tarReadError(e: unknown): unknown {
  const msg = (e as Error | undefined)?.message ?? '';
  if (msg === 'Unexpected end of data') return errors.internal('unexpected EOF');
  if (msg.startsWith('Invalid tar header')) return errors.internal('archive/tar: invalid tar header');
  return e;
}

/**
 * Docker's extractor refusing to replace a directory by a file or the reverse (`noOverwriteDirNonDir`,
 * as `docker cp` sends): the entry's path and the extraction point, in container terms, and a 500.
 */
function overwriteRefused(existing: string, incoming: string, path: string, dest: string): Error {
  return errors.internal(`cannot overwrite ${existing} ${JSON.stringify(path)} with ${incoming} ${JSON.stringify(dest)}`);
}

/** GET /export: a tar of the whole container filesystem. */
export async function exportFs(svc: ContainerService, ref: string, out: Writable): Promise<void> {
  const c = svc.get(ref);
  await withRootfs(svc, c, async (root) => {
    // Entries named as Docker names them ("bin/sh", no "./" and no entry for the root): tar gets
    // the top-level names on stdin (NUL-separated, verbatim: a name may start with "-").
    const top = (await fsp.readdir(root)).sort();
    const child = spawn('tar', ['--numeric-owner', '--xattrs', '--sort=name', '-C', root, '--null', '--verbatim-files-from', '-T', '-', '-cf', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => { /* tar failed early: its exit status reports it */ });
    child.stdin.end(top.map((n) => `${n}\0`).join(''));
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exit = new Promise<number>((r) => child.once('close', (code) => r(code ?? 1)));
    await pipeline(child.stdout, out);
    const code = await exit;
    if (code !== 0 && code !== 1) throw errors.internal(`export failed: ${err.trim()}`);
  });
  svc.publish(c, 'export');
}

/**
 * The image's entries in directory `p` (container path) that the container's directory of that
 * name hides: one made again after an `rm -rf` is opaque in the upper dir (an overlayfs xattr,
 * which node cannot read), so they are the image's names the mounted rootfs no longer shows.
 */
async function hiddenByOpaque(svc: ContainerService, c: ContainerRecord, root: string, p: string, upperNames: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of await svc.imageDirNames(c, p)) {
    if (upperNames.includes(n)) continue;
    if (!(await fsp.lstat(join(root, p, n)).then(() => true, () => false))) out.push(n);
  }
  return out;
}

/**
 * GET /changes: entries of the upper dir (A added, C changed, D deleted by whiteout), and as
 * Docker, a D for each image entry an opaque directory hides.
 */
export async function changes(svc: ContainerService, ref: string): Promise<{ Path: string; Kind: number }[] | null> {
  const c = svc.get(ref);
  const upper = join(svc.cdir(c.Id), 'upper');
  const out: { Path: string; Kind: number }[] = [];
  const layersHave = async (p: string) => svc.existsInImage(c, p);
  await withRootfs(svc, c, async (root) => {
    // Entries recorded under `dir`. As Docker compares a directory with the image's: changed when
    // its mode or owner differ or something in it changed (not for its times: copied up, or made
    // again after an rm -rf, with nothing else done, it is no change).
    const walk = async (dir: string, rel: string): Promise<number> => {
      let names: string[];
      try { names = (await fsp.readdir(dir)).sort(); } catch { return 0; }
      const before = out.length;
      for (const n of names) {
        const full = join(dir, n);
        const p = posix.join(rel, n);
        const st = await fsp.lstat(full);
        if (st.isCharacterDevice() && st.rdev === 0) { out.push({ Path: p, Kind: 2 }); continue; }
        if (['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev', '/proc', '/sys'].includes(p)) continue;
        const inImage = await layersHave(p);
        if (!st.isDirectory()) { out.push({ Path: p, Kind: inImage ? 0 : 1 }); continue; }
        const at = out.length;
        out.push({ Path: p, Kind: inImage ? 0 : 1 });
        let inside = 0;
        if (inImage) for (const h of await hiddenByOpaque(svc, c, root, p, await fsp.readdir(full))) { out.push({ Path: posix.join(p, h), Kind: 2 }); inside++; }
        inside += await walk(full, p);
        const was = inImage ? await svc.imageStat(c, p) : undefined;
        if (was?.isDirectory() && !inside && was.mode === st.mode && was.uid === st.uid && was.gid === st.gid) out.splice(at, 1);
      }
      return out.length - before;
    };
    await walk(upper, '/');
  });
  return out.length ? out : null;
}

export { Readable };

// ---- commit ------------------------------------------------------------------------------------------

/** Write the container's upper dir as a layer tar (overlay whiteouts → .wh. files). */
async function packUpper(upper: string, out: Writable, hides: (rel: string, names: string[]) => Promise<boolean>): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const skip = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf']);
  const walk = async (dir: string, rel: string) => {
    let names: string[];
    try { names = (await fsp.readdir(dir)).sort(); } catch { return; }
    for (const n of names) {
      const full = join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      if (skip.has(r)) continue;
      const st = await fsp.lstat(full);
      if (st.isCharacterDevice() && st.rdev === 0) {
        pack.entry({ name: rel ? `${rel}/.wh.${n}` : `.wh.${n}`, type: 'file', size: 0, mode: 0o644, mtime: st.mtime }, Buffer.alloc(0));
        continue;
      }
      if (st.isDirectory()) {
        pack.entry({ name: r, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime });
        // An opaque directory (made again after an rm -rf) hides the image's entries: the layer
        // says so with the OCI opaque whiteout, or they would come back in the committed image.
        if (await hides(r, await fsp.readdir(full))) pack.entry({ name: `${r}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644, mtime: st.mtime }, Buffer.alloc(0));
        await walk(full, r);
      } else await packTree(pack, full, r);
    }
  };
  await walk(upper, '');
  pack.finalize();
  await done;
}

export interface CommitOptions { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: Record<string, unknown> }

export async function commit(svc: ContainerService, ref: string, o: CommitOptions): Promise<string> {
  return commitNow(svc, svc.get(ref), o);
}

async function commitNow(svc: ContainerService, c: ContainerRecord, o: CommitOptions): Promise<string> {
  const images = svc.d.images;
  const img = images.d.meta.get(c.ImageId);
  if (!img) throw errors.noSuchImage(c.ImageId);
  const { storeLayer, applyChanges } = await import('../images/archive.js');
  const { computeChainIds } = await import('../images/deps.js');
  const { DigestStream, digestOf } = await import('../../util/digest.js');
  const { createWriteStream, createReadStream } = await import('node:fs');
  const { parseReference, withDefaultTag, familiarString } = await import('../../oci/reference.js');
  const tmp = join(images.d.tmpDir, `commit-${c.Id.slice(0, 12)}-${Date.now()}`);
  // As Docker (`--pause`, on unless the client says false): a running container is paused while
  // its changes are read, with the pause and unpause events; a pause that fails is no error.
  const paused = o.pause !== false && c.State.Status === 'running' && await svc.pause(c.Id).then(() => true, () => false);
  await fsp.mkdir(tmp, { recursive: true });
  try {
    const tarFile = join(tmp, 'layer.tar');
    const ds = new DigestStream();
    const upper = join(svc.cdir(c.Id), 'upper');
    const { PassThrough } = await import('node:stream');
    const pt = new PassThrough();
    await withRootfs(svc, c, (root) => Promise.all([
      packUpper(upper, pt, async (rel, names) => (svc.existsInImage(c, `/${rel}`).then(async (has) => has && (await hiddenByOpaque(svc, c, root, `/${rel}`, names)).length > 0))),
      pipeline(pt, ds, createWriteStream(tarFile)),
    ]));
    const diffId = ds.digest();
    const base = img.config as { config?: Record<string, unknown>; rootfs?: { diff_ids?: string[] }; history?: unknown[] };
    const diffIds = [...(base.rootfs?.diff_ids ?? img.layers.map((l) => l.diffId)), diffId];
    const chains = computeChainIds(diffIds);
    const chainId = chains[chains.length - 1]!;
    const parentChain = chains.length > 1 ? chains[chains.length - 2] : undefined;
    const layer = await storeLayer(images, tmp, tarFile, diffId, ds.bytes, parentChain, chainId);
    void createReadStream;
    const cc = c.Config;
    let runCfg: Record<string, unknown> = {
      ...(base.config ?? {}),
      Env: cc.Env ?? [], Cmd: cc.Cmd ?? null, Entrypoint: cc.Entrypoint ?? null, WorkingDir: cc.WorkingDir ?? '', User: cc.User ?? '',
      Labels: cc.Labels ?? {}, ...(cc.ExposedPorts && Object.keys(cc.ExposedPorts).length ? { ExposedPorts: cc.ExposedPorts } : {}),
      ...(o.config ?? {}),
    };
    const applied = applyChanges(runCfg, o.changes ?? []);
    // Docker's merge of the changed config with the container's: with no entrypoint left, an empty
    // CMD (or one an ENTRYPOINT [] dropped) is the container's again.
    if (!(applied.Entrypoint as string[] | null | undefined)?.length) {
      if (!(applied.Cmd as string[] | null | undefined)?.length) applied.Cmd = runCfg.Cmd;
      if (applied.Entrypoint == null) applied.Entrypoint = runCfg.Entrypoint;
    }
    runCfg = applied;
    const created = new Date().toISOString();
    const cfg: Record<string, unknown> = {
      ...base, created, config: runCfg, container: c.Id, ...(o.author ? { author: o.author } : {}),
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [...(base.history ?? []), { created, created_by: [c.Path, ...c.Args].join(' '), ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}) }],
    };
    const buf = Buffer.from(JSON.stringify(cfg));
    const id = digestOf(buf);
    await images.d.content.writeBuffer(buf, id);
    await images.d.meta.put(await images.withContentSizes({
      id, config: cfg, configMediaType: img.configMediaType, layers: [...img.layers, layer], repoTags: [], repoDigests: [],
      created, size: img.size + ds.bytes, loadedAt: Date.now(), parent: img.id, comment: o.comment ?? '',
    }));
    // As moby: the new tag's image event first, then the commit naming the image and the tag.
    let imageRef = '';
    if (o.repo) {
      imageRef = familiarString(withDefaultTag(parseReference(o.tag ? `${o.repo}:${o.tag}` : o.repo)));
      await images.setTag(images.d.meta.get(id)!, imageRef);
      svc.d.events.publish('image', 'tag', id, { ...((runCfg.Labels as Record<string, string> | null) ?? {}), name: imageRef });
    }
    svc.publish(c, 'commit', { comment: o.comment ?? '', imageID: id, imageRef });
    return id;
  } finally {
    if (paused) await svc.unpause(c.Id).catch(() => {});
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
