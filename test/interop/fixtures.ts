// Test image material: a rootfs with a static busybox, as a tar file.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, copyFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

/** Why the docker-CLI interop tests cannot run here, or undefined. */
export function dockerCliMissing(): string | undefined {
  return !existsSync('/usr/local/bin/docker') ? 'docker CLI not installed' : !busyboxPath() ? 'busybox-static not installed' : undefined;
}

export function busyboxPath(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  return undefined;
}

/** Build <dir>/rootfs.tar holding /bin/busybox, /bin/sh link and a marker file. */
export function makeRootfsTar(dir: string, marker = 'hello', extraBytes = 0): string {
  const rootfs = join(dir, `rootfs-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  copyFileSync(busyboxPath()!, join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  execFileSync('ln', ['-s', 'busybox', join(rootfs, 'bin/sh')]);
  writeFileSync(join(rootfs, 'etc/marker'), marker + '\n');
  // Incompressible filler makes a layer big enough to interrupt mid-download.
  if (extraBytes > 0) writeFileSync(join(rootfs, 'filler.bin'), randomBytes(extraBytes));
  const tar = join(dir, `${marker}.tar`);
  execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-cf', tar, '.']);
  return tar;
}

/** Run the real docker CLI against a host; returns {code, stdout, stderr}. Async so in-process servers keep running. */
export function dockerCli(env: Record<string, string>, args: string[], input?: Buffer, bin = '/usr/local/bin/docker'): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    c.stdin.end(input);
  });
}

/** A docker-save archive of a two-layer image (second layer adds a file and whites out /etc/marker). */
export function makeTwoLayerArchive(dir: string, tag: string): { file: string; diffIds: string[] } {
  const base = makeRootfsTar(dir, 'base2');
  const l2dir = join(dir, `l2-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(l2dir, 'etc'), { recursive: true });
  writeFileSync(join(l2dir, 'etc', 'second'), 'layer two\n');
  writeFileSync(join(l2dir, 'etc', '.wh.marker'), '');
  const l2 = join(dir, 'l2.tar');
  execFileSync('tar', ['-C', l2dir, '--numeric-owner', '-cf', l2, '.']);
  const sha = (f: string) => 'sha256:' + createHash('sha256').update(readFileSync(f)).digest('hex');
  const diffIds = [sha(base), sha(l2)];
  const arch = join(dir, `arch-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(arch, 'blobs', 'sha256'), { recursive: true });
  copyFileSync(base, join(arch, 'blobs', 'sha256', diffIds[0]!.slice(7)));
  copyFileSync(l2, join(arch, 'blobs', 'sha256', diffIds[1]!.slice(7)));
  const cfg = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'base' }, { created: '2024-01-01T00:00:00Z', created_by: 'second' }],
  }));
  const cfgHex = createHash('sha256').update(cfg).digest('hex');
  writeFileSync(join(arch, 'blobs', 'sha256', cfgHex), cfg);
  writeFileSync(join(arch, 'manifest.json'), JSON.stringify([{ Config: `blobs/sha256/${cfgHex}`, RepoTags: [tag], Layers: diffIds.map((d) => `blobs/sha256/${d.slice(7)}`) }]));
  const file = join(dir, `two-layer-${randomBytes(3).toString('hex')}.tar`);
  execFileSync('tar', ['-C', arch, '-cf', file, '.']);
  return { file, diffIds };
}
