// Auto-start of the local daemon: when root talks to the default socket and nothing answers, start
// `berth daemon` detached, tell the user once, and wait for /_ping.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { BerthError, isBerthError } from '../errors/index.js';
import type { Client } from '../client/client.js';

const DEFAULT_EXEC_ROOT = '/run/berth';

/** bin/berth of this installation (works from dist/src/cli and from src/cli under tsx). */
export function berthBin(): string {
  const bin = join(packageRoot(), 'bin', 'berth');
  if (!existsSync(bin)) throw new BerthError('ERR_INTERNAL', 'cannot locate bin/berth to start the daemon');
  return bin;
}

function logPath(): string {
  try {
    accessSync('/var/log', constants.W_OK);
    return '/var/log/berth.log';
  } catch {
    mkdirSync(DEFAULT_EXEC_ROOT, { recursive: true, mode: 0o711 });
    return join(DEFAULT_EXEC_ROOT, 'daemon.log');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ensure a daemon answers for `client` (which must point at the default socket). */
export async function ensureDaemon(client: Client, say: (s: string) => void): Promise<void> {
  try {
    await client.ping();
    return;
  } catch (e) {
    if (!isBerthError(e, 'ERR_UNAVAILABLE')) throw e;
  }
  const log = logPath();
  say(`Starting the berth daemon in the background (logs: ${log})\n`);
  const fd = openSync(log, 'a', 0o640);
  let exited: number | null = null;
  try {
    // BERTH_AUTOSTART_ARGS: extra daemon flags (tests point --root/--exec-root at a temp dir).
    const extra = (process.env.BERTH_AUTOSTART_ARGS ?? '').split(/\s+/).filter(Boolean);
    // The flags and variables bin/berth gives a daemon's node (why: see there).
    const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
    // Moved aside, as bin/berth does (util/tls-trust.ts): not parsed at the daemon's start.
    if (env.NODE_EXTRA_CA_CERTS) { env.BERTH_EXTRA_CA_CERTS = env.NODE_EXTRA_CA_CERTS; delete env.NODE_EXTRA_CA_CERTS; }
    const child = spawn(process.execPath, ['--max-semi-space-size=1', '--expose-gc', berthBin(), 'daemon', ...extra], { detached: true, stdio: ['ignore', fd, fd], env });
    child.on('exit', (code) => { exited = code ?? 1; });
    child.on('error', () => { exited = 1; });
    child.unref();
  } finally {
    closeSync(fd);
  }
  // Another CLI may be starting one at the same time (ours then exits on the root lock): keep
  // pinging a little after an exit before giving up.
  let deadline = Date.now() + 30_000;
  let sawExit = false;
  while (Date.now() < deadline) {
    try {
      await client.ping();
      return;
    } catch (e) {
      if (!isBerthError(e, 'ERR_UNAVAILABLE')) throw e;
    }
    if (exited !== null && !sawExit) { sawExit = true; deadline = Math.min(deadline, Date.now() + 3000); }
    await sleep(50);
  }
  throw new BerthError('ERR_UNAVAILABLE', `the berth daemon did not start; see ${log}`);
}
