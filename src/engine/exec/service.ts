// Exec instances (docker exec): created against a running container, started once through the
// runtime (conmon --exec). The exit code is recorded before the caller closes the stream, because
// clients inspect the exec exactly once after the stream ends.
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { BerthError, errors, isBerthError } from '../../errors/index.js';
import { resolveUser, computeCapabilities, processCapabilities, type ExecSession } from '../../runtime/index.js';
import { frame } from '../containers/logs.js';
import { execLine } from '../events.js';
import { DEFAULT_DETACH_KEYS, detachFilter, parseDetachKeys } from '../../util/detach-keys.js';
import type { ContainerService } from '../containers/service.js';

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
  ConsoleSize?: number[] | null;
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  session?: ExecSession;
  done?: Promise<void>;
  /** DetachKeys as bytes (empty: the default sequence). */
  detachKeys: Buffer;
  /** Detached by the keys: the record keeps Docker's 126 whatever the process exits with later. */
  keyDetached?: boolean;
}

/** What Docker's daemon writes to an exec's stream when the detach keys end it. */
const EXEC_DETACH_MESSAGE = 'exec attach failed: error on attach stdin: read escape sequence\r\n';

const MAX_EXECS = 4096;

export class ExecService {
  private execs = new Map<string, ExecRecord>();

  constructor(private readonly containers: ContainerService) {
    containers.execIds = (id) => this.idsOf(id);
  }

  /** A container's execs created or running, not ended (Docker's ExecIDs). */
  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && (!e.started || e.running)).map((e) => e.id);
  }

  create(ref: string, cfg: ExecConfig): { Id: string } {
    const c = this.containers.get(ref);
    if (c.State.Status === 'paused') throw errors.conflict(`Container ${ref} is paused, unpause the container before exec`); // the name as given, as Docker
    if (c.State.Status !== 'running') throw errors.conflict(`Container ${c.Id} is not running`);
    if (!cfg || !Array.isArray(cfg.Cmd) || cfg.Cmd.length === 0) throw errors.invalid('No exec command specified');
    let detachKeys: Buffer = Buffer.alloc(0);
    if (cfg.DetachKeys) {
      // Docker's words, and its status: a plain error (500), not a 400.
      try { detachKeys = parseDetachKeys(cfg.DetachKeys); } catch { throw errors.internal(`Invalid escape keys (${cfg.DetachKeys}) provided`); }
    }
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: c.Id, config: cfg, running: false, started: false, exitCode: null, pid: 0, detachKeys });
    // Bound memory: forget the oldest finished execs.
    if (this.execs.size > MAX_EXECS) {
      for (const [k, e] of this.execs) { if (!e.running) { this.execs.delete(k); if (this.execs.size <= MAX_EXECS) break; } }
    }
    this.containers.publish(c, `exec_create: ${execLine(cfg.Cmd)}`, { execID: id });
    return { Id: id };
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw errors.noSuchExec(id);
    return e;
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    const cmd = e.config.Cmd ?? [];
    return {
      ID: e.id, Running: e.running, ExitCode: e.exitCode, ProcessConfig: {
        tty: !!e.config.Tty, entrypoint: cmd[0] ?? '', arguments: cmd.slice(1), privileged: !!e.config.Privileged, ...(e.config.User ? { user: e.config.User } : {}),
      },
      OpenStdin: !!e.config.AttachStdin, OpenStderr: !!e.config.AttachStderr, OpenStdout: !!e.config.AttachStdout,
      // A byte slice in Docker's daemon, so JSON carries it in base64.
      CanRemove: false, ContainerID: e.containerId, DetachKeys: e.detachKeys.toString('base64'), Pid: e.pid,
    };
  }

  /**
   * Start the exec. With `sock` (attached), output goes there (framed unless TTY) and client bytes
   * feed stdin; resolves after the exit code is recorded — the caller then closes the stream.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: number[] | null }, sock?: Duplex): Promise<void> {
    const e = this.get(id);
    if (e.started) throw alreadyStarted(id, e.running);
    const c = this.containers.get(e.containerId);
    if (c.State.Status !== 'running') throw errors.conflict(`Container ${c.Id} is not running`);
    e.started = true;
    e.running = true;
    const tty = opts.tty ?? !!e.config.Tty;
    const cfg = e.config;
    const cmd = cfg.Cmd!;
    this.containers.publish(c, `exec_start: ${execLine(cmd)}`, { execID: id });
    let session: ExecSession;
    try {
      // As Docker: the user named here, with the container's --group-add.
      const user = cfg.User ? await resolveUser(this.containers.rootfsPath(c.Id), cfg.User, c.HostConfig.GroupAdd ?? []) : undefined;
      const cs = opts.consoleSize ?? cfg.ConsoleSize;
      // TERM as Docker sets it for an exec: xterm with a TTY, none without, unless the container's
      // own environment names one. (The process inherits the container's, whose TERM follows *its* TTY.)
      const ownTerm = (c.Config.Env ?? []).find((v) => v.startsWith('TERM='));
      const env = [ownTerm ?? (tty ? 'TERM=xterm' : 'TERM'), ...(cfg.Env ?? [])];
      session = await this.containers.runtime.exec(c.Id, {
        args: cmd, env, ...(cfg.WorkingDir ? { cwd: cfg.WorkingDir } : {}), ...(user ? { user } : {}),
        // `exec --privileged`: every capability for this process, as Docker (seccomp stays the container's).
        ...(cfg.Privileged ? { capabilities: processCapabilities(computeCapabilities({ privileged: true })) } : {}),
      }, { tty, stdin: !!cfg.AttachStdin && !opts.detach, detach: opts.detach || !sock, consoleSize: tty && cs && cs[0] ? { height: cs[0], width: cs[1] ?? 80 } : undefined });
    } catch (err) {
      const msg = isBerthError(err) ? err.message : (err as Error).message;
      e.running = false;
      e.exitCode = execFailureCode(msg, cmd[0]!);
      this.containers.publish(c, 'exec_die', { execID: id, exitCode: String(e.exitCode) });
      if (sock && !sock.destroyed) {
        const text = Buffer.from(`${msg}\r\n`);
        sock.write(tty ? text : frame(1, text));
        return;
      }
      if (isBerthError(err) && err.code !== 'ERR_INTERNAL') throw err;
      throw new BerthError('ERR_INTERNAL', msg);
    }
    e.session = session;
    e.pid = session.pid;
    const finish = session.exit.then((st) => { if (!e.keyDetached) e.exitCode = st.exitCode; }, () => { if (!e.keyDetached) e.exitCode = 126; }).then(() => {
      e.running = false;
      e.session = undefined;
      this.containers.publish(c, 'exec_die', { execID: id, exitCode: String(e.exitCode) });
    });
    e.done = finish;
    if (!sock || opts.detach) return;
    const pipe = (src: NodeJS.ReadableStream, kind: 1 | 2, want: boolean) => {
      src.on('data', (d: Buffer) => { if (want && !sock.destroyed) sock.write(tty ? d : frame(kind, d)); });
    };
    pipe(session.stdout, 1, cfg.AttachStdout !== false);
    pipe(session.stderr, 2, cfg.AttachStderr !== false);
    let detached: Promise<void> | undefined;
    if (session.stdin) {
      const stdin = session.stdin;
      if (tty) {
        // As Docker's daemon with a TTY: the detach keys end the attach with an error (the exec is
        // then recorded as failed, 126, and the process loses its terminal: Docker closes the pty,
        // which hangs it up); the client's end of input ends the attach and the process runs on.
        let done = () => {};
        detached = new Promise<void>((r) => { done = r; });
        let over = false;
        const detach = (byKeys: boolean) => {
          if (over) return;
          over = true;
          if (!e.running) { done(); return; } // exited meanwhile: nothing to detach from
          session.detach();
          if (byKeys) {
            e.keyDetached = true;
            e.exitCode = 126;
            e.running = false;
            if (!sock.destroyed) sock.write(EXEC_DETACH_MESSAGE);
            try { process.kill(session.pid, 'SIGHUP'); } catch { /* already gone */ }
          }
          done();
        };
        const feed = detachFilter(e.detachKeys.length ? e.detachKeys : parseDetachKeys(DEFAULT_DETACH_KEYS), (b) => stdin.write(b), () => detach(true));
        sock.on('data', (d: Buffer) => { if (!over) feed(d); });
        for (const ev of ['end', 'error', 'close']) sock.on(ev, () => detach(false));
        // (The client may have ended or left while the process was being started.)
        if (sock.destroyed || sock.readableEnded) detach(false);
      } else {
        // The client's end of input, or the client gone, closes the process's stdin, as Docker's.
        const endStdin = () => { if (!stdin.writableEnded) stdin.end(); };
        sock.on('data', (d: Buffer) => stdin.write(d));
        for (const ev of ['end', 'error', 'close']) sock.on(ev, endStdin);
        // A client that left while the process was being started (its 'end' and 'close' are past):
        // `exec -i … cat` would otherwise wait for input forever.
        if (sock.destroyed || sock.readableEnded) endStdin();
      }
      // Reading the start body may have paused the socket (when the body came in a packet of its
      // own), and a 'data' listener does not resume a paused stream: the client's stdin and its
      // EOF would then never arrive (seen as `exec -i … cat` hanging in ~3% of runs).
      sock.resume();
    }
    await (detached ? Promise.race([finish, detached]) : finish);
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.get(id);
    if (!e.session) throw errors.conflict(`Exec ${id} is not running`);
    await e.session.resize(h, w);
  }
}

/** A second start of an exec, in Docker's words (409). */
export function alreadyStarted(id: string, running: boolean): BerthError {
  return errors.conflict(`Error: Exec command ${id} ${running ? 'is already running' : 'has already run'}`);
}

/**
 * The exit code of an exec that could not start, by moby's rule for runtime start errors: 127 when
 * the message names the command and says it is not there, 126 when it may not be run, and 126 for
 * anything else (a missing working directory is not a missing command).
 */
export function execFailureCode(message: string, command: string): number {
  const m = message.toLowerCase();
  let code = 126;
  if (m.includes(command.toLowerCase()) && (m.includes('no such file or directory') || m.includes('executable file not found'))) code = 127;
  if (m.includes('permission denied')) code = 126;
  if (m.includes('not a directory')) code = 127;
  return code;
}

/** Docker's "entrypoint args…" in exec event actions (a trailing space when there are no args). */
