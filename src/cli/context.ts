// Builds the command context: output helpers, config location, and a lazily connected client.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '../client/client.js';
import type { Context } from './command.js';

export interface GlobalOptions {
  host?: string;
  config?: string;
  debug: boolean;
}

export function configDirFrom(env: NodeJS.ProcessEnv, explicit?: string): string {
  return explicit ?? env.DOCKER_CONFIG ?? join(env.HOME || homedir(), '.docker');
}

export function createContext(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Context {
  let client: Promise<Client> | undefined;
  const ctx: Context = {
    prog: 'berth',
    stdout: process.stdout,
    stderr: process.stderr,
    // On first use: node builds process.stdin when it is first read (~2 ms for a terminal), and
    // most commands never read it.
    get stdin() { return process.stdin; },
    env,
    host: g.host,
    configDir: configDirFrom(env, g.config),
    debug: g.debug,
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
    client: () => (client ??= (async () => {
      const { connect } = await import('../client/client.js');
      const c = connect({ host: g.host, env });
      const root = typeof process.getuid === 'function' && process.getuid() === 0;
      if (c.hostSource === 'default' && root && env.BERTH_NO_AUTOSTART !== '1') {
        const { ensureDaemon } = await import('./autostart.js');
        await ensureDaemon(c, ctx.err);
      }
      return c;
    })()),
  };
  return ctx;
}
