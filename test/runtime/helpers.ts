// Shared fixtures for the runtime tests: a busybox root filesystem and a bundle built with buildSpec.
import { promises as fsp, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildSpec, type SpecOptions } from '../../src/runtime/spec.js';

export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
export const HAVE_TOOLS = !!BUSYBOX && existsSync('/usr/bin/conmon') && (existsSync('/usr/sbin/runc') || existsSync('/usr/bin/runc'));
export const IS_ROOT = process.getuid?.() === 0;

const APPLETS = ['sh', 'echo', 'true', 'false', 'sleep', 'cat', 'ls', 'id', 'mknod', 'head', 'grep', 'stty', 'touch', 'mount', 'unshare', 'test', 'wc', 'readlink', 'tty', 'stat'];

/** A minimal root filesystem: static busybox plus applet links, passwd and group. */
export async function makeBusyboxRootfs(dir: string): Promise<void> {
  await fsp.mkdir(join(dir, 'bin'), { recursive: true });
  await fsp.mkdir(join(dir, 'etc'), { recursive: true });
  await fsp.mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o1777 });
  await fsp.copyFile(BUSYBOX!, join(dir, 'bin/busybox'));
  await fsp.chmod(join(dir, 'bin/busybox'), 0o755);
  for (const a of APPLETS) await fsp.symlink('busybox', join(dir, 'bin', a));
  await fsp.writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
  await fsp.writeFile(join(dir, 'etc/group'), 'root:x:0:\nalice:x:1000:\nstaff:x:50:alice\nnogroup:x:65534:\n');
}

export async function tempDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), prefix));
}

/** Write `<bundle>/config.json` for the rootfs at `<bundle>/rootfs`. */
export async function writeBundle(bundle: string, opts: Omit<SpecOptions, 'rootfs'> & { rootfs?: string }): Promise<void> {
  const spec = buildSpec({ rootfs: opts.rootfs ?? join(bundle, 'rootfs'), ...opts });
  await fsp.writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
}

export function randomId(): string {
  return `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
}
