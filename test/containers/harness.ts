// Shared fixtures for the container tests: a Berth daemon, the real docker CLI pointed at it, and
// a busybox image imported offline.
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';

export const DOCKER = '/usr/local/bin/docker';
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
export const IS_ROOT = process.getuid?.() === 0;
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/bin/crun'].some((p) => existsSync(p));

/** Why the container tests cannot run here, or undefined. */
export function missing(): string | undefined {
  if (!IS_ROOT) return 'needs root';
  if (!existsSync(DOCKER)) return 'docker CLI not installed';
  if (!BUSYBOX) return 'busybox-static not installed';
  if (!existsSync('/usr/bin/conmon')) return 'conmon not installed';
  if (!RUNC) return 'runc/crun not installed';
  return undefined;
}

export interface Run { code: number; stdout: string; stderr: string }

export interface Env {
  host: string;
  daemon?: TestDaemon;
  work: string;
  image: string;
  docker(args: string[], opts?: { input?: string | Buffer; timeoutMs?: number }): Promise<Run>;
  close(): Promise<void>;
}

export function runDocker(host: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(DOCKER, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', DOCKER_HOST: host, DOCKER_CONFIG: join(tmpdir(), 'berth-test-docker-config') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    c.on('error', reject);
    c.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
    c.stdin.on('error', () => {});
    if (opts.input !== undefined) c.stdin.end(opts.input); else c.stdin.end();
  });
}

const APPLETS = ['sh', 'echo', 'true', 'false', 'sleep', 'cat', 'ls', 'id', 'hostname', 'pwd', 'env', 'tty', 'stty', 'head', 'wc', 'nc', 'httpd', 'printf', 'ps', 'touch', 'mkdir', 'rm', 'seq', 'grep', 'trap', 'kill', 'test', 'mknod', 'mount', 'umount'];

/** A busybox rootfs tarball (static busybox + applet links + passwd/group). */
export async function busyboxTar(dir: string): Promise<string> {
  const root = join(dir, 'rootfs');
  await fsp.mkdir(join(root, 'bin'), { recursive: true });
  await fsp.mkdir(join(root, 'etc'), { recursive: true });
  await fsp.mkdir(join(root, 'tmp'), { recursive: true });
  await fsp.chmod(join(root, 'tmp'), 0o1777);
  await fsp.copyFile(BUSYBOX!, join(root, 'bin/busybox'));
  await fsp.chmod(join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) await fsp.symlink('busybox', join(root, 'bin', a)).catch(() => {});
  await fsp.writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  await fsp.writeFile(join(root, 'etc/group'), 'root:x:0:\nalice:x:1000:\n');
  await fsp.writeFile(join(root, 'etc/motd'), 'hello from the image\n');
  const out = join(dir, 'busybox.tar');
  await new Promise<void>((resolve, reject) => {
    const c = spawn('tar', ['-C', root, '-cf', out, '.'], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}`))));
  });
  return out;
}

/**
 * Start a daemon (or use BERTH_TEST_DOCKER_HOST, an already running one) and import the test image.
 */
export async function setup(image = 'berth-test/busybox:latest'): Promise<Env> {
  const work = await fsp.mkdtemp(join(tmpdir(), 'berth-ctr-test-'));
  let daemon: TestDaemon | undefined;
  let host = process.env.BERTH_TEST_DOCKER_HOST;
  try {
    if (!host) {
      daemon = await startDaemon();
      host = daemon.env.DOCKER_HOST;
    }
    const tarFile = await busyboxTar(work);
    const r = await runDocker(host, ['import', tarFile, image]);
    if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  } catch (e) {
    await daemon?.stop().catch(() => {});
    await fsp.rm(work, { recursive: true, force: true });
    throw e;
  }
  const h = host;
  return {
    host: h, daemon, work, image,
    docker: (args, opts) => runDocker(h, args, opts),
    close: async () => {
      if (daemon) await daemon.stop().catch(() => {});
      await fsp.rm(work, { recursive: true, force: true }).catch(() => {});
    },
  };
}

export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`;
}
