// One daemon per root. The lock file holds "pid starttime"; a lock whose process is gone (or whose
// pid was reused by another process, detected by start time) is stale — so a kill -9 never wedges it.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError } from '../errors/index.js';
import { procStat } from '../util/proc.js';

function startTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

function alive(pid: number, start: string | undefined): boolean {
  try { process.kill(pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false; }
  const st = procStat(pid);
  // A killed daemon its parent has not reaped yet (a zombie) holds nothing any more: right after
  // `kill -9`, a new daemon must not be refused for it.
  if (st?.state === 'Z' || st?.state === 'X') return false;
  const now = st?.startTime;
  return now === undefined || start === undefined || now === start;
}

export interface RootLock { path: string; release(): Promise<void> }

export async function lockRoot(root: string): Promise<RootLock> {
  const path = join(root, 'daemon.lock');
  const me = `${process.pid} ${startTime(process.pid) ?? ''}\n`;
  const tmp = join(root, `.daemon.lock.${randomBytes(6).toString('hex')}`);
  await fsp.writeFile(tmp, me, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await fsp.link(tmp, path); // atomic: fails if a lock exists
        return {
          path,
          release: async () => {
            const cur = await fsp.readFile(path, 'utf8').catch(() => '');
            if (cur === me) await fsp.rm(path, { force: true });
          },
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const text = await fsp.readFile(path, 'utf8').catch(() => '');
      const [pidS, start] = text.trim().split(' ');
      const pid = Number(pidS);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid, start)) {
        throw new BerthError('ERR_CONFLICT', `another berth daemon (pid ${pid}) is already running with root ${root}; stop it first`);
      }
      // Stale lock from a dead daemon: remove only if unchanged, then retry.
      const again = await fsp.readFile(path, 'utf8').catch(() => '');
      if (again === text) await fsp.rm(path, { force: true });
    }
    throw new BerthError('ERR_CONFLICT', `cannot lock daemon root ${root}`);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
