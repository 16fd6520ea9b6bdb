// Start a real registry (Debian's docker-registry, CNCF distribution 2.8) on a free loopback port.
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import bcrypt from 'bcryptjs';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** Storage directory (filesystem driver root). */
  dir: string;
  logs(): string;
  stop(): Promise<void>;
}

export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BIN);
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

function probe(host: string): Promise<number> {
  return new Promise((res) => {
    const req = http.get(`http://${host}/v2/`, { timeout: 1000 }, (r) => { r.resume(); res(r.statusCode ?? 0); });
    req.on('error', () => res(0));
    req.on('timeout', () => { req.destroy(); res(0); });
  });
}

export async function startRegistry(opts: { htpasswd?: { user: string; pass: string } } = {}): Promise<TestRegistry> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'berth-registry-'));
  let lastErr: unknown;
  // A port picked by listen(0) can be taken before the registry binds it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
    ];
    if (opts.htpasswd) {
      const hash = bcrypt.hashSync(opts.htpasswd.pass, 5);
      await fsp.writeFile(join(dir, 'htpasswd'), `${opts.htpasswd.user}:${hash}\n`);
      lines.push('auth:', '  htpasswd:', '    realm: berth-test', `    path: ${join(dir, 'htpasswd')}`);
    }
    await fsp.writeFile(join(dir, 'config.yml'), lines.join('\n') + '\n');
    const child = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    let exited = false;
    const exitP = new Promise<void>((r) => child.on('exit', () => { exited = true; r(); }));
    const stop = async () => {
      if (!exited) { child.kill('SIGTERM'); await Promise.race([exitP, new Promise((r) => setTimeout(r, 3000))]); }
      if (!exited) { child.kill('SIGKILL'); await exitP; }
      await fsp.rm(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 200 && !exited; i++) {
      const st = await probe(host);
      if (st === 200 || st === 401) return { host, dir: join(dir, 'data'), logs: () => out, stop };
      await new Promise((r) => setTimeout(r, 50));
    }
    lastErr = new Error(`registry did not start on ${host}: ${out}`);
    if (!exited) { child.kill('SIGKILL'); await exitP; }
  }
  await fsp.rm(dir, { recursive: true, force: true });
  throw lastErr;
}
