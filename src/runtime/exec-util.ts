// Small process helpers shared by the runtime driver: run a binary to completion, collecting output.
import { spawn } from 'node:child_process';
import { procStat } from '../util/proc.js';

export interface RunResult { code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Run `bin args` with stdin closed, no shell, and only fds 0-2 (Node closes the rest). */
export function runCommand(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: opts.env ?? { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? -1, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** The message of a runc/crun failure: their JSON log line or plain stderr, trimmed. */
export function runtimeErrorText(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  const msgs = lines.map((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string };
      if (j.msg) return j.msg;
    } catch { /* plain text */ }
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    return m ? m[1]!.replace(/\\"/g, '"') : l;
  });
  return msgs.map(runcWording).join('; ') || 'unknown runtime error';
}

/**
 * crun's failures in runc's words. Docker passes runc's text on, and the docker CLI picks `run`'s
 * exit code from it (127 for "executable file not found" or "no such file or directory", 126 for
 * "permission denied"), in Go's lower case; crun words the same failures its own way, in C's
 * strerror case.
 */
export function runcWording(msg: string): string {
  return msg
    .replace(/^executable file `(.*)` not found in \$PATH: No such file or directory$/, 'exec: "$1": executable file not found in $PATH')
    .replace(/^chdir `(.*)`: No such file or directory$/, 'chdir to cwd ("$1") set in config.json failed: no such file or directory')
    // crun's open of a directory; Go's exec lookup (runc) calls that permission denied.
    .replace(/^open executable: Operation not permitted$/, 'open executable: permission denied')
    .replace(/: (No such file or directory|Permission denied|Operation not permitted|Not a directory|Is a directory)$/, (_, e: string) => `: ${e.toLowerCase()}`);
}

/** Whether `pid` is a live (not zombie) process. */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return !!st && st.state !== 'Z' && st.state !== 'X';
}
