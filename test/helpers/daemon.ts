// Start a real berth daemon process on a temp root for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export interface TestDaemon {
  socket: string;
  root: string;
  execRoot: string;
  env: { DOCKER_HOST: string };
  /** Collected stderr of every run of this daemon (restarts included). */
  logs(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
}

export interface StartDaemonOptions {
  insecureRegistries?: string[];
  logLevel?: string;
  extraArgs?: string[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
/** Repo root whether running from test/helpers (tsx) or dist/test/helpers (compiled). */
function repoRoot(): string {
  let d = here;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = resolve(d, '..');
  }
  throw new Error('repo root not found');
}

/**
 * How to start the daemon. Compiled tests run `node bin/berth daemon` (the CLI) when its daemon
 * command is built, else the daemon's own entry; source runs (tsx) start the daemon from source.
 */
export function daemonCommand(): { cmd: string; args: string[] } {
  const root = repoRoot();
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) {
    if (process.env.BERTH_TEST_DAEMON_ENTRY !== 'daemon' && existsSync(join(root, 'dist/src/cli/main.js')) && existsSync(join(root, 'dist/src/cli/commands/daemon.js'))) {
      return { cmd: process.execPath, args: [join(root, 'bin/berth'), 'daemon'] };
    }
    return { cmd: process.execPath, args: [join(root, 'dist/src/daemon/main.js')] };
  }
  return { cmd: process.execPath, args: ['--import', 'tsx', join(root, 'src/daemon/main.ts')] };
}

function ping(socket: string): Promise<boolean> {
  return new Promise((res) => {
    const req = http.request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 2000 }, (r) => { r.resume(); res(r.statusCode === 200); });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

/** Lazily unmount whatever this test's daemon left mounted under `base` (container rootfs). */
async function unmountUnder(base: string): Promise<void> {
  let mounts: string;
  try { mounts = await fsp.readFile('/proc/self/mounts', 'utf8'); } catch { return; }
  const points = mounts.split('\n').map((l) => l.split(' ')[1] ?? '').map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === base || p.startsWith(base + '/')).sort((a, b) => b.length - a.length);
  for (const p of points) {
    await new Promise<void>((r) => { const c = spawn('umount', ['-l', p], { stdio: 'ignore' }); c.on('exit', () => r()); c.on('error', () => r()); });
  }
}

export async function startDaemon(opts: StartDaemonOptions = {}): Promise<TestDaemon> {
  const base = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const root = join(base, 'root');
  const execRoot = join(base, 'exec');
  const socket = join(base, 'berth.sock');
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    const { cmd, args } = daemonCommand();
    const full = [...args, '--root', root, '--exec-root', execRoot, '--host', `unix://${socket}`, '--log-level', opts.logLevel ?? 'info',
      ...(opts.insecureRegistries ?? []).flatMap((r) => ['--insecure-registry', r]), ...(opts.extraArgs ?? [])];
    // (Kept across restarts: a test may look for what the previous run logged, its clean stop.)
    const c = spawn(cmd, full, { stdio: ['ignore', 'ignore', 'pipe'], cwd: repoRoot() });
    child = c;
    c.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<never>((_, rej) => c.once('exit', (code) => rej(new Error(`daemon exited (${code}): ${stderr}`))));
    exited.catch(() => {});
    for (let i = 0; i < 300; i++) {
      if (c.exitCode !== null) await exited;
      if (await ping(socket)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    c.kill('SIGKILL');
    throw new Error(`daemon did not come up: ${stderr}`);
  };

  const waitExit = (c: ChildProcess) => new Promise<void>((r) => { if (c.exitCode !== null || c.signalCode !== null) r(); else c.once('exit', () => r()); });

  const stopChild = async (sig: NodeJS.Signals) => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode === null && c.signalCode === null) c.kill(sig);
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await waitExit(c);
    clearTimeout(t);
  };

  await launch();
  return {
    socket, root, execRoot,
    env: { DOCKER_HOST: `unix://${socket}` },
    logs: () => stderr,
    stop: async () => {
      await stopChild('SIGTERM');
      await unmountUnder(base);
      await fsp.rm(base, { recursive: true, force: true }).catch(async () => {
        // Busy files: retry once after a moment.
        await new Promise((r) => setTimeout(r, 200));
        await unmountUnder(base);
        await fsp.rm(base, { recursive: true, force: true });
      });
    },
    kill9: async () => { await stopChild('SIGKILL'); },
    restart: async () => { await stopChild('SIGTERM'); await launch(); },
  };
}
