// The container runtime driver: one conmon per container (detached, survives the daemon), runc or
// crun underneath, exit codes from conmon's exit files, attach through conmon's socket.
import {
  promises as fsp, constants, statSync, watch, type FSWatcher, mkdirSync, rmSync, writeFileSync, renameSync, openSync, readFileSync, fstatSync, closeSync, existsSync,
} from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, posix } from 'node:path';
import { tmpdir, constants as osConstants } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BerthError, errors, isBerthError } from '../errors/index.js';
import { readJson, tempName } from '../util/fs.js';
import { log } from '../util/log.js';
import { buildSpec, type OciProcess, type OciSpec } from './spec.js';
import { SAFE_PATH, which } from './binaries.js';
import { ensureHelper, runHelper } from './helper.js';
import { findOwnCgroupProcs, WARM_MS } from './cgroup-warm.js';
import { isAlive, runCommand, runtimeErrorText } from './exec-util.js';
import { liftPidsLimit, readStats, type ContainerStats } from './stats.js';
import { parseLogLine } from './logs.js';
import { deleteStoppedRunc } from './runc-delete.js';
import { frame, relaySocketPath, relayStreams, RelayHub } from './relay.js';

export type { ContainerStats } from './stats.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface RuntimeInfo { name: string; path: string; version?: string; reason?: string }

/** `runc --version` / `crun --version` → "1.1.5" (undefined when unparsable). */
async function runtimeVersion(bin: string): Promise<string | undefined> {
  const r = await runCommand(bin, ['--version']).catch(() => undefined);
  return r && /version\s+v?([0-9]+\.[0-9]+(?:\.[0-9]+)?)/.exec(r.stdout)?.[1];
}

function versionBelow(v: string, min: [number, number, number]): boolean {
  const [a = 0, b = 0, c = 0] = v.split('.').map(Number);
  return a !== min[0] ? a < min[0] : b !== min[1] ? b < min[1] : c < min[2];
}

/** A runtime chosen by name for one container: only the ones Berth drives, and installed. */
export function namedRuntime(name: string): RuntimeInfo {
  if (name !== 'runc' && name !== 'crun') throw errors.invalid(`unknown or invalid runtime name: ${name}`);
  const path = which(name);
  if (!path) throw errors.invalid(`unknown or invalid runtime name: ${name}`);
  return { name, path };
}

let probeCache: { key: string; info: Promise<RuntimeInfo> } | undefined;

/**
 * Choose the OCI runtime: crun when it can really create a container on this host, else runc.
 * (crun 1.8 refuses hybrid cgroup v1/v2 hosts.) Probed once per process and crun binary.
 */
export function detectRuntime(): Promise<RuntimeInfo> {
  const crun = which('crun');
  const runc = which('runc');
  let key = 'none';
  if (crun) { const st = statSync(crun); key = `${crun}:${st.size}:${st.mtimeMs}`; }
  if (probeCache && probeCache.key === key) return probeCache.info;
  const info = (async (): Promise<RuntimeInfo> => {
    let reason = 'crun not installed';
    if (crun) {
      const r = await probeRuntime(crun);
      if (r === undefined) return { name: 'crun', path: crun, version: await runtimeVersion(crun) };
      reason = `crun unusable here: ${r}`;
    }
    if (!runc) throw new BerthError('ERR_UNAVAILABLE', `no OCI runtime found (install runc or crun); ${reason}`);
    const version = await runtimeVersion(runc);
    // runc before 1.0.0-rc6 lets a container overwrite the host runc binary (CVE-2019-5736).
    if (version && versionBelow(version, [1, 0, 0])) {
      throw new BerthError('ERR_UNAVAILABLE', `runc ${version} is too old (CVE-2019-5736); install runc 1.0.0 or later`);
    }
    return { name: 'runc', path: runc, version, reason };
  })();
  probeCache = { key, info };
  info.catch(() => { probeCache = undefined; });
  return info;
}

/** Create (never start) a tiny container with `bin`; undefined when that works, else the error. */
export async function probeRuntime(bin: string): Promise<string | undefined> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-probe-'));
  const id = `berth-probe-${process.pid}-${randomBytes(4).toString('hex')}`;
  const state = join(dir, 'state');
  try {
    await fsp.mkdir(join(dir, 'rootfs'));
    await fsp.mkdir(state);
    // crun looks the command up at create (runc only at start): it must exist, though it never runs.
    await fsp.writeFile(join(dir, 'rootfs', 'probe'), '', { mode: 0o755 });
    const spec = buildSpec({ id, rootfs: 'rootfs', cmd: ['/probe'], seccomp: 'unconfined' });
    spec.mounts = spec.mounts.filter((m) => m.destination === '/proc' || m.destination === '/dev');
    await fsp.writeFile(join(dir, 'config.json'), JSON.stringify(spec));
    // Errors go to a file, not a pipe: a created container's init inherits the runtime's stdio and
    // keeps it open until deleted, so a pipe would never close.
    const errFile = join(dir, 'stderr');
    const code = await untilExit(bin, ['--root', state, 'create', '--bundle', dir, id], errFile);
    await untilExit(bin, ['--root', state, 'delete', '--force', id], join(dir, 'delete-stderr')).catch(() => undefined);
    return code === 0 ? undefined : runtimeErrorText(await fsp.readFile(errFile, 'utf8'));
  } catch (e) {
    return (e as Error).message;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Run `bin` with stdout and stderr to `errFile`; its exit code once it exits (not its stdio). */
async function untilExit(bin: string, args: string[], errFile: string): Promise<number> {
  const fd = openSync(errFile, 'w', 0o600);
  try {
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: { PATH: SAFE_PATH } });
    return await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => resolve(code ?? -1));
    });
  } finally {
    closeSync(fd);
  }
}

export interface CreateOptions {
  id: string;
  /** Directory holding config.json (and where conmon puts the attach socket and ctl fifo). */
  bundle: string;
  tty: boolean;
  /** Keep a stdin pipe to the container (docker run -i). */
  stdin: boolean;
  /** Close the container's stdin when the first attached client detaches (Docker StdinOnce). Default true. */
  stdinOnce?: boolean;
  /** k8s-file log written by conmon; undefined: no log (`--log-driver none`). */
  logPath: string | undefined;
  logSizeMax?: number;
  /** Where conmon writes `<id>` with the exit code; default <execRoot>/exits. */
  exitDir?: string;
  /** Called once conmon is on its way (e.g. to fork attach relays while the runtime works). */
  onStarted?: () => void;
  name?: string;
  /** `runc` or `crun` for this container (docker run --runtime); default: the probed one. */
  runtime?: string;
}

export interface ContainerState { status: 'created' | 'running' | 'paused' | 'stopped'; pid: number }
export interface ExitStatus {
  exitCode: number;
  finishedAt: Date;
  /** The kernel's OOM killer hit the container (conmon's `oom` file); containers only, not execs. */
  oomKilled?: boolean;
}

export interface AttachStreams {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when the attach connection ends (container exited or close() was called). */
  done: Promise<void>;
  close(): void;
}

export interface ExecOptions { tty: boolean; stdin: boolean; detach: boolean; consoleSize?: { height: number; width: number } }
export interface ExecSession {
  id: string;
  pid: number;
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<ExitStatus>;
  resize(height: number, width: number): Promise<void>;
  /** Stop relaying stdio (the attach ends); the process runs on, its output goes to conmon's log only. */
  detach(): void;
}

/** Everything needed to find a container again after a daemon restart. */
interface ContainerRecord {
  id: string;
  bundle: string;
  runtime: string;
  runtimeRoot: string;
  exitDir: string;
  logPath?: string;
  tty: boolean;
  stdin: boolean;
  conmonPidFile: string;
  pidFile: string;
  createdAt: string;
}

/**
 * Whether the container runs under runc. Where runc and crun behave differently the runtime layer
 * evens it out (runc's exec fifo and state.json; crun's paused SIGKILL and pids limit).
 */
function isRunc(rec: ContainerRecord): boolean {
  return posix.basename(rec.runtime) === 'runc';
}

/** One fs.watch per exit directory, shared by all waiters in it. */
class ExitWatcher {
  private watcher: FSWatcher | undefined;
  private waiters = new Map<string, Set<() => void>>();
  constructor(private dir: string, private onIdle: () => void) {}
  add(name: string, cb: () => void): () => void {
    if (!this.watcher) {
      this.watcher = watch(this.dir, { persistent: true }, (_ev, file) => {
        if (file === null) { for (const s of this.waiters.values()) for (const f of s) f(); return; }
        const s = this.waiters.get(file.toString());
        if (s) for (const f of [...s]) f();
      });
      this.watcher.on('error', () => { for (const s of this.waiters.values()) for (const f of s) f(); });
    }
    let s = this.waiters.get(name);
    if (!s) { s = new Set(); this.waiters.set(name, s); }
    s.add(cb);
    return () => {
      s!.delete(cb);
      if (s!.size === 0) this.waiters.delete(name);
      if (this.waiters.size === 0 && this.watcher) { this.watcher.close(); this.watcher = undefined; this.onIdle(); }
    };
  }
}

function readLineFrom(stream: Readable, what: string, stderrText: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) { cleanup(); resolve(buf.slice(0, i)); }
    };
    const onEnd = () => {
      cleanup();
      if (buf.trim()) resolve(buf.trim());
      else reject(errors.internal(`conmon closed its ${what} pipe without a reply: ${stderrText().trim() || 'no error output'}`));
    };
    const onError = (e: Error) => { cleanup(); reject(errors.internal(`conmon ${what} pipe: ${e.message}`)); };
    const cleanup = () => {
      stream.off('data', onData); stream.off('end', onEnd); stream.off('close', onEnd); stream.off('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}

/** "SIGTERM", "term", "15", 15 → 15 (runc and crun both take numbers). */
export function signalNumber(signal: string | number): number {
  const n = parseSignal(signal);
  if (!signalSupported(n)) throw errors.invalid(`Invalid signal: ${signal}`);
  return n;
}

/**
 * A signal as Docker reads one: a number (any but 0), or a name with or without "SIG" in any case,
 * the real-time ones included (RTMIN, RTMIN+n, RTMAX-n, RTMAX). Whether this host has it is
 * signalSupported's question.
 */
export function parseSignal(signal: string | number): number {
  if (typeof signal === 'number') return signal;
  if (/^[+-]?\d+$/.test(signal)) {
    const n = Number(signal);
    if (n === 0) throw errors.invalid(`Invalid signal: ${signal}`);
    return n;
  }
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    // Linux's real-time range as glibc leaves it to programs: 34 (RTMIN) to 64 (RTMAX).
    const n = (rt[1] === 'MIN' ? 34 : 64) + (rt[2] === '+' ? 1 : rt[2] === '-' ? -1 : 0) * Number(rt[3] ?? 0);
    if ((rt[1] === 'MIN' && rt[2] !== '-') || (rt[1] === 'MAX' && rt[2] !== '+')) {
      if (n >= 34 && n <= 64) return n;
    }
    throw errors.invalid(`Invalid signal: ${signal}`);
  }
  const n = osConstants.signals[`SIG${name}` as keyof typeof osConstants.signals];
  if (n === undefined) throw errors.invalid(`Invalid signal: ${signal}`);
  return n;
}

/** Whether a container on Linux can be sent signal `n`: 1-31, and the real-time 34-64 (glibc keeps 32 and 33). */
export function signalSupported(n: number): boolean {
  return Number.isInteger(n) && ((n >= 1 && n <= 31) || (n >= 34 && n <= 64));
}

/** Mark a promise as handled (the caller still awaits it through Promise.race). */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function spawnFailure(child: ChildProcess): Promise<never> {
  return quiet(new Promise<never>((_, reject) => child.once('error', (e) => reject(errors.internal(`cannot run conmon: ${e.message}`)))));
}

function parseSync(line: string): { data: number; message?: string } {
  try {
    const j = JSON.parse(line) as { data?: number; pid?: number; message?: string };
    return { data: j.data ?? j.pid ?? -1, message: j.message };
  } catch {
    return { data: -1, message: line };
  }
}

/** Turn an OCI runtime's complaint into Docker's error shape. */
function runtimeError(op: string, id: string, stderr: string): BerthError {
  const msg = runtimeErrorText(stderr);
  if (/does not exist|not found/i.test(msg)) return errors.noSuchContainer(id);
  if (/not running|stopped|cannot (start|pause|resume)|is not paused|is paused|already/i.test(msg)) {
    return new BerthError('ERR_CONFLICT', `Cannot ${op} container: ${id}: ${msg}`);
  }
  return errors.internal(`OCI runtime ${op} failed: ${msg}`);
}

export class Runtime {
  readonly execRoot: string;
  private readonly requested?: string;
  private info?: Promise<RuntimeInfo>;
  private readonly watchers = new Map<string, ExitWatcher>();
  private readonly conmonPath: string;
  private warnedNoHelper = false;
  /** Made once, on the first attach (concurrent first attaches share it). */
  private relays: Promise<RelayHub> | undefined;
  /** Records this process wrote or read (it is the only writer of its exec root): no re-read per call. */
  private readonly records = new Map<string, ContainerRecord>();
  /** The cgroup.procs file of our own cgroup (warmCgroupLock); looked up once. */
  private ownProcs: Promise<string | undefined> | undefined;
  /** When the last warm-up stops (ms since the epoch). */
  private warmUntil = 0;
  /** Shared directories already made by this process. */
  private readonly madeDirs = new Set<string>();

  constructor(opts: { execRoot: string; runtime?: 'runc' | 'crun' | string; conmon?: string }) {
    this.execRoot = opts.execRoot;
    this.requested = opts.runtime;
    this.conmonPath = opts.conmon ?? which('conmon') ?? '/usr/bin/conmon';
  }

  /** The OCI runtime in use ({name: 'runc'|'crun', path}); detected on first use. */
  runtimeInfo(): Promise<RuntimeInfo> {
    if (!this.info) {
      const r = this.requested;
      if (!r) this.info = detectRuntime();
      else if (r.includes('/')) this.info = Promise.resolve({ name: r.split('/').pop()!, path: r });
      else {
        const p = which(r);
        this.info = p ? Promise.resolve({ name: r, path: p }) : Promise.reject(new BerthError('ERR_UNAVAILABLE', `OCI runtime ${r} not found`));
      }
    }
    return this.info;
  }

  private get recordsDir() { return join(this.execRoot, 'containers'); }
  private get socketDir() { return join(this.execRoot, 's'); }
  private get defaultExitDir() { return join(this.execRoot, 'exits'); }
  private ctrDir(id: string) { return join(this.recordsDir, id); }
  private recordPath(id: string) { return join(this.recordsDir, `${id}.json`); }

  private checkId(id: string): void {
    if (!ID_RE.test(id)) throw errors.invalid(`invalid container id ${JSON.stringify(id)}`);
  }

  private async record(id: string): Promise<ContainerRecord> {
    this.checkId(id);
    const cached = this.records.get(id);
    if (cached) return cached;
    let rec: ContainerRecord | undefined;
    try { rec = await readJson<ContainerRecord>(this.recordPath(id)); } catch (e) {
      throw errors.internal(`container ${id}: unreadable runtime record`, e);
    }
    if (!rec) throw errors.noSuchContainer(id);
    this.records.set(id, rec);
    return rec;
  }

  /** Run the OCI runtime (through the helper's `exec 3`, so it inherits only fds 0-2). */
  private async rt(rec: ContainerRecord, ...args: string[]) {
    const helper = await this.helper();
    const argv = ['--root', rec.runtimeRoot, ...args];
    return helper ? runHelper(helper, ['exec', '3', rec.runtime, ...argv]) : runCommand(rec.runtime, argv);
  }

  private helper(): Promise<string | undefined> {
    return ensureHelper(join(this.execRoot, 'bin')).catch((e: Error) => {
      if (!this.warnedNoHelper) {
        this.warnedNoHelper = true;
        log.warn('runtime helper unavailable; spawning conmon/runc directly (inherited fds are not scrubbed)', { error: e.message });
      }
      return undefined;
    });
  }

  /**
   * Spawn conmon detached (setsid: it must outlive us and not share our session) through the
   * helper's `exec`, so it inherits exactly fds 0..nfds-1 (stdin/stdout ignored, stderr and the
   * sync/start/attach pipes) and nothing our own parent may have leaked to us.
   */
  private async spawnConmon(args: string[], cwd: string, nfds: number, env: Record<string, string>): Promise<ChildProcess> {
    const stdio: ('ignore' | 'pipe')[] = ['ignore', 'ignore', ...Array<'pipe'>(nfds - 2).fill('pipe')];
    const helper = await this.helper();
    const [bin, argv] = helper ? [helper, ['exec', String(nfds), this.conmonPath, ...args]] : [this.conmonPath, args];
    return spawn(bin, argv, { cwd, detached: true, stdio, env: { PATH: SAFE_PATH, ...env } });
  }

  /** Start conmon, which runs `runtime create`; resolves once the container exists (stopped at create). */
  async create(opts: CreateOptions): Promise<{ pid: number }> {
    this.checkId(opts.id);
    const rt = opts.runtime ? namedRuntime(opts.runtime) : await this.runtimeInfo();
    const id = opts.id;
    const dir = this.ctrDir(id);
    const exitDir = opts.exitDir ?? this.defaultExitDir;
    const runtimeRoot = join(this.execRoot, 'runtime', rt.name);
    // Synchronous on purpose: a few metadata syscalls on our own local directories take ~0.1 ms
    // together, where the same calls through libuv's thread pool cost 2-6 ms on the start path
    // (one round trip each; measured on the 2-core test host).
    for (const d of [exitDir, this.socketDir, runtimeRoot]) {
      if (!this.madeDirs.has(d)) { mkdirSync(d, { recursive: true, mode: 0o700 }); this.madeDirs.add(d); }
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A previous run of the same container left its exit file: it must not answer this run's wait.
    rmSync(join(exitDir, id), { force: true });
    const rec: ContainerRecord = {
      id, bundle: opts.bundle, runtime: rt.path, runtimeRoot, exitDir, logPath: opts.logPath, tty: opts.tty,
      stdin: opts.stdin, conmonPidFile: join(dir, 'conmon.pid'), pidFile: join(dir, 'pid'), createdAt: new Date().toISOString(),
    };
    writeRecordSync(this.recordPath(id), rec);
    this.records.set(id, rec);

    const args = [
      '--api-version', '1', '-c', id, '-u', id, '-n', opts.name ?? id, '-r', rt.path, '-b', opts.bundle,
      '-p', rec.pidFile, '-P', rec.conmonPidFile, '-l', opts.logPath ? `k8s-file:${opts.logPath}` : 'none', '--exit-dir', exitDir,
      '--socket-dir-path', this.socketDir, '--runtime-arg', '--root', '--runtime-arg', runtimeRoot,
      '--no-sync-log', '--log-level', 'error', '--persist-dir', dir,
    ];
    if (opts.logSizeMax && opts.logSizeMax > 0) args.push('--log-size-max', String(opts.logSizeMax));
    if (opts.tty) args.push('-t');
    if (opts.stdin) {
      args.push('-i');
      if (opts.stdinOnce === false) args.push('--leave-stdin-open');
    }
    const helper = await this.helper();
    if (helper) {
      this.warmCgroupLock(helper);
      // Through the helper's server: no fork of the daemon on the start path.
      const pending = runHelper(helper, ['conmon-create', dir, this.conmonPath, ...args], undefined, { once: true });
      opts.onStarted?.();
      const h = await pending.catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
      const line = h.stdout.trim();
      const res = line ? parseSync(line) : { data: -1, message: `conmon closed its sync pipe without a reply: ${h.stderr.trim() || 'no error output'}` };
      if (h.code === 0 && res.data > 0) return { pid: res.data };
      await this.cleanupFiles(rec).catch(() => {});
      throw errors.internal(`OCI runtime create failed: ${runtimeErrorText(res.message ?? h.stderr)}`);
    }
    // LD_BIND_NOW: see conmon_create in helper.ts (less RSS in the conmon that stays).
    const child = await this.spawnConmon(args, dir, 4, { _OCI_SYNCPIPE: '3', LD_BIND_NOW: '1' });
    opts.onStarted?.();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString(); });
    const spawnError = spawnFailure(child);
    try {
      const line = await Promise.race([quiet(readLineFrom(child.stdio[3] as Readable, 'sync', () => stderr)), spawnError]);
      const res = parseSync(line);
      if (res.data <= 0) throw errors.internal(`OCI runtime create failed: ${runtimeErrorText(res.message ?? stderr)}`);
      return { pid: res.data };
    } catch (e) {
      await this.cleanupFiles(rec).catch(() => {});
      throw e;
    } finally {
      (child.stdio[3] as Readable | null)?.destroy();
      child.stderr!.destroy();
      child.unref();
    }
  }

  /** `pid`: the init pid create() returned (saves reading the pid file). */
  async start(id: string, pid?: number): Promise<void> {
    const rec = await this.record(id);
    if (await this.fastStart(rec, pid)) return;
    const r = await this.rt(rec, 'start', id);
    if (r.code !== 0) throw runtimeError('start', id, r.stderr);
  }

  /**
   * runc's `start` of a created container is: read the byte its init process writes to
   * `<root>/<id>/exec.fifo`, then remove the fifo (that is also how runc tells created from
   * running). The helper does exactly that, saving a Go binary start on every container start.
   * False when this is not a runc container waiting on its fifo: the caller then asks the runtime.
   */
  private async fastStart(rec: ContainerRecord, knownPid?: number): Promise<boolean> {
    if (!isRunc(rec)) return false;
    const helper = await this.helper();
    if (!helper) return false;
    const pid = knownPid ?? Number.parseInt(await fsp.readFile(rec.pidFile, 'utf8').catch(() => ''), 10);
    if (!(pid > 0)) return false;
    const r = await runHelper(helper, ['start', join(rec.runtimeRoot, rec.id, 'exec.fifo'), String(pid)], undefined, { once: true }).catch(() => undefined);
    if (!r) return false;
    if (r.code === 0) return true;
    if (r.code === 7) throw errors.internal('OCI runtime start failed: container process is already dead');
    return false;
  }

  /**
   * Have a throwaway helper process rejoin its own cgroup for a moment, right before the runtime
   * moves a process into the container's cgroups (see cgroup-warm.ts). Fire and forget: it only
   * saves time, and changes nothing if it fails.
   */
  private warmCgroupLock(helper: string | undefined): void {
    // One warm-up at a time: while one still has a while to run, the lock is warm already.
    if (!helper || Date.now() < this.warmUntil - WARM_MS / 2) return;
    this.warmUntil = Date.now() + WARM_MS;
    this.ownProcs ??= findOwnCgroupProcs();
    void this.ownProcs.then(async (procs) => {
      if (!procs) return;
      const r = await runHelper(helper, ['cgroup-warm', procs, String(WARM_MS)], undefined, { once: true });
      // Not writable here (a read-only /sys/fs/cgroup, say): stop trying.
      if (r.code !== 0) this.ownProcs = Promise.resolve(undefined);
    }).catch(() => undefined);
  }

  /** The compiled helper (mount/umount syscalls for root filesystems); undefined without a C compiler. */
  helperPath(): Promise<string | undefined> {
    return this.helper();
  }

  /**
   * Run a system tool (looked up in the safe PATH) through the helper's server; rejects when the
   * helper is unavailable so the caller spawns the tool itself.
   */
  toolRunner(): (bin: string, args: string[], input?: string, netns?: string) => Promise<{ code: number; stdout: string; stderr: string }> {
    return async (bin, args, input, netns) => {
      const helper = await this.helper();
      const path = bin.includes('/') ? bin : which(bin);
      if (!helper || !path) throw new Error(`cannot run ${bin} through the helper`);
      // In a network namespace: the helper joins it itself (what nsenter --net does, one exec less).
      return runHelper(helper, netns ? ['netns-exec', netns, '3', path, ...args] : ['exec', '3', path, ...args], input);
    };
  }

  /** Where pinned network namespaces live (newNetns). */
  get netnsDir(): string { return join(this.execRoot, 'netns'); }

  /**
   * A new, empty network namespace pinned by a bind mount at `<netnsDir>/<name>`, for a container
   * to join (its network can then be set up while the runtime creates the container). Undefined
   * when the helper is unavailable: the caller falls back to the runtime's own namespace.
   */
  async newNetns(name: string): Promise<string | undefined> {
    if (!ID_RE.test(name)) throw errors.invalid(`invalid network namespace name ${JSON.stringify(name)}`);
    const helper = await this.helper();
    if (!helper) return undefined;
    await fsp.mkdir(this.netnsDir, { recursive: true, mode: 0o700 });
    const path = join(this.netnsDir, name);
    const r = await runHelper(helper, ['netns-new', path]);
    if (r.code !== 0) throw errors.internal(`creating a network namespace failed: ${r.stderr.trim()}`);
    return path;
  }

  /** Unpin a namespace made by newNetns (it dies with its last user); a missing one is fine. */
  async removeNetns(path: string): Promise<void> {
    if (posix.dirname(path) !== this.netnsDir) throw errors.invalid(`not a pinned network namespace: ${path}`);
    const helper = await this.helper();
    if (!helper) return;
    const r = await runHelper(helper, ['umount', path]);
    if (r.code !== 0) throw errors.internal(`unpinning network namespace ${path} failed: ${r.stderr.trim()}`);
    await fsp.rm(path, { force: true });
  }

  async kill(id: string, signal: string | number = 'SIGKILL'): Promise<void> {
    const rec = await this.record(id);
    const sig = signalNumber(signal);
    const r = await this.rt(rec, 'kill', id, String(sig));
    if (r.code !== 0) {
      const msg = runtimeErrorText(r.stderr);
      if (/not running|process already finished|no such process/i.test(msg)) {
        throw new BerthError('ERR_CONFLICT', `Cannot kill container: ${id}: Container ${id} is not running`);
      }
      throw runtimeError('kill', id, r.stderr);
    }
    // A frozen process cannot die: runc thaws a paused container after SIGKILL, crun does not.
    if (sig === 9 && !isRunc(rec)) await this.rt(rec, 'resume', id).catch(() => undefined);
  }

  /**
   * Docker's stop: `signal` (the image's StopSignal, default SIGTERM), then SIGKILL after
   * `timeoutSeconds` (negative: wait forever). Resolves with the exit status.
   */
  async stop(id: string, opts: { signal?: string | number; timeoutSeconds?: number; onKill?: () => void } = {}): Promise<ExitStatus> {
    const done = await this.exitStatus(id);
    if (done) return done;
    const exit = this.waitExit(id);
    const ignoreNotRunning = (e: unknown) => { if (!isBerthError(e, 'ERR_CONFLICT')) throw e; };
    // As Docker: a stop signal that cannot be sent (a number the kernel has no signal for, which
    // create lets through as Docker does) gets 2 s for the container to end anyway, then SIGKILL.
    const sent = await this.kill(id, opts.signal ?? 'SIGTERM').then(() => true, (e: unknown) => isBerthError(e, 'ERR_CONFLICT'));
    const timeout = sent ? opts.timeoutSeconds ?? 10 : 2;
    if (timeout < 0) return exit;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), timeout * 1000); });
    const first = await Promise.race([exit, expired]);
    clearTimeout(timer);
    if (first) return first;
    opts.onKill?.(); // the caller's event for the escalation, before the exit it causes
    await this.kill(id, 'SIGKILL').catch(ignoreNotRunning);
    return exit;
  }

  async pause(id: string): Promise<void> {
    const rec = await this.record(id);
    const r = await this.rt(rec, 'pause', id);
    if (r.code !== 0) throw runtimeError('pause', id, r.stderr);
  }

  async resume(id: string): Promise<void> {
    const rec = await this.record(id);
    const r = await this.rt(rec, 'resume', id);
    if (r.code !== 0) throw runtimeError('unpause', id, r.stderr);
  }

  /** The runtime's view of the container; undefined when neither it nor our record knows it. */
  /** Apply new cgroup limits (OCI LinuxResources JSON) to a running container: `runtime update`. */
  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    const rec = await this.record(id);
    const file = join(this.ctrDir(id), 'update.json');
    // crun writes a pids limit of -1 into pids.max as it is, which the kernel refuses (runc writes
    // "max"): for crun the limit is lifted here, after the rest.
    const pids = resources.pids as { limit?: number } | undefined;
    const lift = pids?.limit === -1 && !isRunc(rec);
    if (lift) { resources = { ...resources }; delete resources.pids; }
    await fsp.writeFile(file, JSON.stringify(resources), { mode: 0o600 });
    try {
      const r = await this.rt(rec, 'update', '-r', file, id);
      if (r.code !== 0) throw errors.internal(`Cannot update container ${id}: ${runtimeErrorText(r.stderr)}`);
    } finally { await fsp.rm(file, { force: true }); }
    if (lift) {
      const st = await this.state(id);
      if (st?.pid) await liftPidsLimit(st.pid);
    }
  }

  async state(id: string): Promise<ContainerState | undefined> {
    let rec: ContainerRecord;
    try { rec = await this.record(id); } catch (e) {
      if ((e as BerthError).code === 'ERR_NO_SUCH_CONTAINER') return undefined;
      throw e;
    }
    const r = await this.rt(rec, 'state', id);
    if (r.code === 0) {
      const j = JSON.parse(r.stdout) as { status: string; pid: number };
      const status = (['created', 'running', 'paused', 'stopped'].includes(j.status) ? j.status : 'stopped') as ContainerState['status'];
      return { status, pid: status === 'stopped' ? 0 : j.pid };
    }
    // Known to us but gone from the runtime (deleted after exit): stopped.
    return { status: 'stopped', pid: 0 };
  }

  /** The exit status if conmon has recorded one. */
  async exitStatus(id: string): Promise<ExitStatus | undefined> {
    const rec = await this.record(id);
    const st = readExitFile(join(rec.exitDir, id));
    return st && this.withOom(id, st);
  }

  private withOom(id: string, st: ExitStatus): ExitStatus {
    return { ...st, oomKilled: existsSync(join(this.ctrDir(id), 'oom')) };
  }

  /** Resolves when conmon records the exit (works for containers created by an earlier daemon too). */
  async waitExit(id: string): Promise<ExitStatus> {
    const rec = await this.record(id);
    return this.withOom(id, await this.waitExitFile(rec.exitDir, id, rec.conmonPidFile));
  }

  private waitExitFile(dir: string, name: string, conmonPidFile: string): Promise<ExitStatus> {
    let w = this.watchers.get(dir);
    if (!w) {
      const created: ExitWatcher = new ExitWatcher(dir, () => { if (this.watchers.get(dir) === created) this.watchers.delete(dir); });
      w = created;
      this.watchers.set(dir, w);
    }
    const watcher = w;
    const file = join(dir, name);
    return new Promise<ExitStatus>((resolve, reject) => {
      let done = false;
      let checking = false;
      let again = false;
      const finish = (v: ExitStatus | Error) => {
        if (done) return;
        done = true;
        remove();
        clearInterval(timer);
        if (v instanceof Error) reject(v); else resolve(v);
      };
      const check = async (livenessProbe = false) => {
        if (done) return;
        if (checking) { again = true; return; }
        checking = true;
        try {
          const st = readExitFile(file);
          if (st) return finish(st);
          if (livenessProbe) {
            // Safety net, not the main path: conmon died without writing an exit file.
            const pid = Number.parseInt(await fsp.readFile(conmonPidFile, 'utf8').catch(() => ''), 10);
            if (pid > 0 && !isAlive(pid)) {
              const st2 = readExitFile(file);
              finish(st2 ?? { exitCode: 255, finishedAt: new Date() });
            }
          }
        } catch (e) {
          finish(e as Error);
        } finally {
          checking = false;
          if (again && !done) { again = false; void check(); }
        }
      };
      const remove = watcher.add(name, () => void check());
      const timer = setInterval(() => void check(true), 2000);
      timer.unref();
      void check();
    });
  }

  /** Remove the container from the runtime. Running containers need force (Docker's rule). */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const rec = await this.record(id);
    // An exit file means the process is gone: skip asking the runtime (one spawn less per `run --rm`).
    const exited = readExitFile(join(rec.exitDir, id));
    const st = exited ? undefined : await this.state(id);
    if (st && (st.status === 'running' || st.status === 'paused') && !opts.force) {
      throw new BerthError('ERR_CONTAINER_RUNNING', `You cannot remove a ${st.status} container ${id}. Stop the container before attempting removal or force remove`);
    }
    // Exited under runc: its bookkeeping is removed here unless something needs runc (runc-delete.ts).
    const done = !!exited && isRunc(rec) && await deleteStoppedRunc(rec.runtimeRoot, id).catch(() => false);
    if (!done) {
      const r = await this.rt(rec, 'delete', ...(opts.force || st?.status === 'created' ? ['--force'] : []), id);
      if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) throw runtimeError('delete', id, r.stderr);
    }
    // Let conmon finish (it writes the exit file once the init process is reaped).
    const conmonPid = Number.parseInt(await fsp.readFile(rec.conmonPidFile, 'utf8').catch(() => ''), 10);
    if (conmonPid > 0 && isAlive(conmonPid)) {
      await Promise.race([
        this.waitExitFile(rec.exitDir, id, rec.conmonPidFile).catch(() => undefined),
        new Promise((r2) => setTimeout(r2, 5000).unref()),
      ]);
    }
    await this.cleanupFiles(rec);
  }

  private async cleanupFiles(rec: ContainerRecord): Promise<void> {
    this.records.delete(rec.id);
    await fsp.rm(join(this.socketDir, rec.id), { force: true });
    await fsp.rm(join(rec.exitDir, rec.id), { force: true });
    await fsp.rm(this.ctrDir(rec.id), { recursive: true, force: true });
    await fsp.rm(this.recordPath(rec.id), { force: true });
  }

  /** IDs of every container this exec root knows (for re-adoption after a daemon restart). */
  async list(): Promise<string[]> {
    let names: string[];
    try { names = await fsp.readdir(this.recordsDir); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)).filter((n) => ID_RE.test(n)).sort();
  }

  /** Connect to conmon's attach socket. Output flows from now on; earlier output is in the log. */
  async attach(id: string): Promise<AttachStreams> {
    const rec = await this.record(id);
    return this.connectAttach(rec.bundle, rec.stdin);
  }

  /**
   * Start an attach relay for a container that is still being created (`bundle`, as given to
   * create; `withStdin` as its `stdin` option): the process starts now, while the runtime works,
   * and connects when `go()` is called after create. `cancel()` if the start is abandoned.
   */
  async prepareAttach(bundle: string, withStdin: boolean): Promise<{ go(): Promise<AttachStreams>; cancel(): void }> {
    const r = await this.startRelay(bundle, withStdin, true);
    return {
      go: async () => {
        const c = await r.socket;
        c.write(frame('g'));
        return relayStreams(c, withStdin);
      },
      cancel: () => { r.cancel(); void r.socket.then((c) => c.destroy(), () => {}); },
    };
  }

  private async connectAttach(dir: string, withStdin: boolean): Promise<AttachStreams> {
    const r = await this.startRelay(dir, withStdin, false);
    return relayStreams(await r.socket, withStdin);
  }

  /**
   * Start `berth-helper attach` through the helper's server (no fork of the daemon, whose page
   * tables a fork copies and whose pages it then faults in again, ~6 ms of CPU per attach on the
   * 2-core test host); it connects back to the relay hub. The socket promise rejects (ERR_CONFLICT,
   * as when conmon's socket is missing) if the relay ends without connecting.
   */
  private async startRelay(dir: string, withStdin: boolean, wait: boolean): Promise<{ socket: Promise<Socket>; cancel(): void }> {
    const helper = await ensureHelper(join(this.execRoot, 'bin'));
    this.relays ??= relaySocketPath(this.execRoot).then((p) => new RelayHub(p));
    const hub = await this.relays;
    const token = randomBytes(16).toString('hex');
    const x = await hub.expect(token);
    // Exec'd (not only forked) by the server, so it shows as `berth-helper attach DIR ...` in ps.
    runHelper(helper, ['exec', '3', helper, 'attach', dir, hub.path, token, wait ? 'wait' : 'now', withStdin ? 'stdin' : 'nostdin']).then(
      (res) => x.cancel(new BerthError('ERR_CONFLICT', `cannot attach: the attach relay ended (${res.code}): ${res.stderr.trim() || 'the container is not running'}`)),
      (e: Error) => x.cancel(e),
    );
    return { socket: x.socket, cancel: () => x.cancel() };
  }

  /** Set the terminal size of a tty container (through conmon's ctl fifo). */
  async resize(id: string, height: number, width: number): Promise<void> {
    const rec = await this.record(id);
    await writeResize(rec.bundle, height, width);
  }

  /** cgroup numbers for the /stats API. */
  async stats(id: string): Promise<ContainerStats> {
    const st = await this.state(id);
    if (!st || st.pid <= 0) throw new BerthError('ERR_CONFLICT', `Container ${id} is not running`);
    return readStats(st.pid);
  }

  /** Read the container's config.json. */
  async spec(id: string): Promise<OciSpec> {
    const rec = await this.record(id);
    const s = await readJson<OciSpec>(join(rec.bundle, 'config.json'));
    if (!s) throw errors.noSuchContainer(id);
    return s;
  }

  /**
   * Run a process in the container through `conmon --exec`: conmon owns stdio/tty, records the exit
   * code in an exit file, and attach goes through its socket (so `-t`, `-i` and `-d` all work).
   */
  async exec(id: string, proc: Partial<OciProcess> & { args: string[] }, opts: ExecOptions): Promise<ExecSession> {
    const rec = await this.record(id);
    const st = await this.state(id);
    if (!st || st.status !== 'running') throw new BerthError('ERR_CONFLICT', `Container ${id} is not running`);
    if (st.status === 'running' && (await this.exitStatus(id))) throw new BerthError('ERR_CONFLICT', `Container ${id} is not running`);
    const base = (await this.spec(id)).process;
    const execId = randomBytes(16).toString('hex');
    const dir = join(this.execRoot, 'exec', execId);
    const exitDir = join(dir, 'exit');
    await fsp.mkdir(exitDir, { recursive: true, mode: 0o700 });
    const cwd = proc.cwd ?? base.cwd;
    const ncwd = posix.normalize(cwd);
    // CVE-2024-21626: a cwd under /proc (e.g. /proc/self/fd/N) could reach a leaked host fd.
    // A relative one is refused by runc (Docker passes it on): its words.
    if (!cwd.startsWith('/')) throw errors.internal('OCI runtime exec failed: exec failed: Cwd must be an absolute path');
    if (ncwd === '/proc' || ncwd.startsWith('/proc/')) throw errors.invalid(`invalid working directory ${cwd}`);
    const envMap = new Map<string, string>();
    for (const e of base.env ?? []) envMap.set(e.split('=')[0]!, e);
    // As Docker: NAME without "=" (`exec -e NAME` with NAME unset on the client) unsets it.
    for (const e of proc.env ?? []) if (e.includes('=')) envMap.set(e.split('=')[0]!, e); else envMap.delete(e);
    const p: OciProcess = {
      ...base,
      ...proc,
      terminal: opts.tty,
      args: proc.args,
      env: [...envMap.values()],
      cwd,
      user: proc.user ?? base.user,
      capabilities: proc.capabilities ?? base.capabilities,
    };
    if (opts.tty && opts.consoleSize) p.consoleSize = opts.consoleSize; else delete p.consoleSize;
    await fsp.writeFile(join(dir, 'process.json'), JSON.stringify(p), { mode: 0o600 });
    const attach = !opts.detach;
    const args = [
      '--api-version', '1', '-c', id, '-u', execId, '-r', rec.runtime, '-b', dir, '-p', join(dir, 'pid'),
      '-P', join(dir, 'conmon.pid'), '-l', `k8s-file:${join(dir, 'log')}`, '--exit-dir', exitDir,
      '--socket-dir-path', this.socketDir, '--runtime-arg', '--root', '--runtime-arg', rec.runtimeRoot,
      '--exec', '--exec-process-spec', join(dir, 'process.json'), '--no-sync-log', '--log-level', 'error',
    ];
    if (attach) args.push('--exec-attach');
    if (opts.tty) args.push('-t');
    if (opts.stdin && attach) args.push('-i');
    this.warmCgroupLock(await this.helper());
    const child = await this.spawnConmon(args, dir, 6, { _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(attach ? { _OCI_ATTACHPIPE: '5' } : {}) });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 65536) stderr += d.toString(); });
    const spawnError = spawnFailure(child);
    const sync = child.stdio[3] as Readable;
    const start = child.stdio[4] as Writable;
    start.on('error', () => {}); // conmon gone: reported through the sync pipe instead
    let streams: AttachStreams | undefined;
    const cleanupDir = () => fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
    try {
      start.write('0');
      if (attach) {
        const line = await Promise.race([quiet(readLineFrom((child.stdio as unknown as Readable[])[5]!, 'attach', () => stderr)), spawnError]);
        const a = parseSync(line);
        if (a.data < 0) throw errors.internal(`exec attach failed: ${a.message ?? ''}`);
        streams = await this.connectAttach(dir, opts.stdin);
        start.write('0');
      }
      const line = await Promise.race([quiet(readLineFrom(sync, 'sync', () => stderr)), spawnError]);
      const res = parseSync(line);
      if (res.data <= 0) {
        streams?.close();
        throw errors.internal(`OCI runtime exec failed: ${runtimeErrorText(res.message ?? stderr)}`);
      }
      // The output goes through streams of our own, so that what conmon's log holds can be added
      // when the attach connection brought nothing (below).
      const out = new PassThrough();
      const err = new PassThrough();
      const delivered = { stdout: 0, stderr: 0 };
      let detached = false;
      if (streams) {
        for (const [from, to, kind] of [[streams.stdout, out, 'stdout'], [streams.stderr, err, 'stderr']] as const) {
          from.on('data', (d: Buffer) => { delivered[kind] += d.length; });
          from.pipe(to, { end: false });
        }
      } else {
        // Detached: nobody reads them, and they must still end.
        out.resume();
        err.resume();
      }
      // conmon names the exec's exit file after the container (-c), in the exec's own exit dir.
      const exit = this.waitExitFile(exitDir, id, join(dir, 'conmon.pid')).then(async (x) => {
        if (streams) {
          await streams.done;
          // conmon 2.1 can see a short exec end before it has accepted our attach connection
          // (`docker exec -it ctr echo hi` with a byte on the client's stdin lost its output in
          // 1-5% of runs): the relay then misses the start of the output (all of it, or all but
          // the TTY's echo of that byte), which conmon wrote to the exec's log.
          if (!detached) await replayMissed(join(dir, 'log'), delivered, out, err);
        }
        if (!detached) { out.end(); err.end(); }
        // Resolve once a consumer has had every byte (the API closes the client's stream then); a
        // stream nobody reads (stderr of a TTY exec, say) is not waited for.
        await Promise.all([out, err].map((s) => (s.readableFlowing ? ended(s) : undefined)));
        await fsp.rm(join(this.socketDir, execId), { force: true });
        await cleanupDir();
        return x;
      });
      return {
        id: execId,
        pid: res.data,
        stdin: streams?.stdin ?? null,
        stdout: out,
        stderr: err,
        exit,
        resize: (h, w) => writeResize(dir, h, w),
        detach: () => {
          if (detached) return;
          detached = true;
          if (streams) {
            streams.stdout.unpipe(out);
            streams.stderr.unpipe(err);
            streams.close();
          }
          out.end();
          err.end();
        },
      };
    } catch (e) {
      await cleanupDir();
      throw e;
    } finally {
      sync.destroy();
      start.destroy();
      (child.stdio as unknown as (Readable | undefined)[])[5]?.destroy();
      child.stderr!.destroy();
      child.unref();
    }
  }
}

/** The largest exec log replayMissed reads. */
const REPLAY_MAX = 1024 * 1024;

/**
 * What conmon's k8s-file log holds beyond what the attach relay delivered, per stream: the relay
 * only gets what came after conmon accepted it, so the part missed is the start of the log's.
 */
async function replayMissed(path: string, delivered: { stdout: number; stderr: number }, stdout: Writable, stderr: Writable): Promise<void> {
  // Only a short exec can end before conmon takes the attach; a long log was streamed as it came
  // (and is not read into memory here).
  const size = await fsp.stat(path).then((s) => s.size, () => 0);
  if (size === 0 || size > REPLAY_MAX) return;
  let buf: Buffer;
  try { buf = await fsp.readFile(path); } catch { return; }
  const logged = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const line of buf.toString('latin1').split('\n')) {
    const e = parseLogLine(line);
    if (!e) continue;
    logged[e.stream === 'stderr' ? 'stderr' : 'stdout'].push(Buffer.from(e.partial ? e.text : `${e.text}\n`, 'latin1'));
  }
  for (const [kind, to] of [['stdout', stdout], ['stderr', stderr]] as const) {
    const all = Buffer.concat(logged[kind]);
    if (all.length > delivered[kind]) to.write(all.subarray(0, all.length - delivered[kind]));
  }
}

/** Resolves when a readable has ended (or was destroyed); at once if it already has. */
function ended(s: Readable): Promise<void> {
  if (s.readableEnded || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => { s.once('end', resolve); s.once('close', resolve); });
}

// The exec root lives on tmpfs (/run) and is rebuilt at boot, so records skip fsync; the rename
// still makes them appear whole.
/** Temp file then rename (no fsync: the record describes processes a host crash ends anyway). */
function writeRecordSync(path: string, value: unknown): void {
  const tmp = tempName(path);
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, path);
}

/** Synchronous: a few bytes from a local file, on the path between an exit and the client's wait. */
function readExitFile(file: string): ExitStatus | undefined {
  let fd: number;
  try { fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const t = readFileSync(fd, 'utf8').trim();
    if (!/^-?[0-9]+$/.test(t)) return undefined; // still being written
    return { exitCode: Number(t), finishedAt: fstatSync(fd).mtime };
  } finally {
    closeSync(fd);
  }
}

async function writeResize(dir: string, height: number, width: number): Promise<void> {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
    throw errors.invalid('invalid terminal size');
  }
  // Docker takes any 32-bit size; a terminal's is 16-bit, so a larger one is its largest.
  height = Math.min(height, 65535);
  width = Math.min(width, 65535);
  let fh;
  try {
    // O_NONBLOCK: fail fast (ENXIO) instead of hanging when conmon is gone.
    fh = await fsp.open(join(dir, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENXIO') throw new BerthError('ERR_CONFLICT', 'cannot resize: the container is not running');
    throw e;
  }
  try { await fh.write(`1 ${height} ${width}\n`); } finally { await fh.close(); }
}
