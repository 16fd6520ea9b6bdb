// Start the registry CLI entry point in a child process (same loader as this test: tsx or compiled JS).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child { proc: ChildProcess; port: number; stderr: () => string; kill9(): Promise<void> }

export async function spawnServe(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const script = fileURLToPath(new URL(`./fixtures/serve${ext}`, import.meta.url));
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--test'));
  const proc = spawn(process.execPath, [...execArgv, script, '--addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /"msg":"listening","addr":"[^"]*:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`registry exited (${code}): ${err}`)));
  });
  return {
    proc, port, stderr: () => err,
    kill9: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    }),
  };
}
