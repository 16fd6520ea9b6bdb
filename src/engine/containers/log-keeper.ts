// `--log-opt max-file=N` (with max-size): Docker's json-file driver keeps N files. conmon keeps one:
// past max-size it writes a new file and renames it over the log, and the old one is gone. So the
// daemon holds a second hard link to the file conmon writes, "<log>.cur": when conmon renames a new
// file in, the old one lives on under that link and becomes "<log>.1" (older ones move up one, the
// oldest beyond N-1 goes). A rotation while the daemon was down is caught up when it adopts the
// container again; a second rotation before the daemon reacts to the first loses the one between
// (the log then holds fewer files, never wrong ones). Readers: rotatedLogs, oldest first.
import { linkSync, promises as fsp, renameSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { log } from '../../util/log.js';

export class LogKeeper {
  private watcher: FSWatcher | undefined;

  /** `files`: how many files to keep in all, the current one included (max-file). */
  constructor(private readonly path: string, private readonly files: number) {}

  start(): void {
    this.sync();
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, f) => { if (f === name) this.sync(); });
      this.watcher.on('error', () => this.detach());
    } catch (e) {
      log.warn('cannot watch a log for rotation', { path: this.path, err: String(e) });
    }
  }

  /** The container has stopped: keep what conmon replaced last, then drop the extra link. */
  stop(): void {
    this.detach();
    this.sync();
    rmSync(`${this.path}.cur`, { force: true });
  }

  /** Stop watching, leaving the files as they are (the daemon is closing; it adopts them again). */
  detach(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Make "<log>.cur" the file conmon writes now; the file it held before becomes "<log>.1". */
  sync(): void {
    const cur = `${this.path}.cur`;
    const ino = (p: string) => { try { return statSync(p).ino; } catch { return undefined; } };
    try {
      const now = ino(this.path);
      if (now === undefined) return;
      const held = ino(cur);
      if (held === now) return;
      if (held !== undefined) this.shift(cur);
      linkSync(this.path, cur);
    } catch (e) {
      log.warn('log rotation failed', { path: this.path, err: String(e) });
    }
  }

  private shift(cur: string): void {
    const keep = this.files - 1;
    if (keep < 1) { rmSync(cur, { force: true }); return; }
    rmSync(`${this.path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      try { renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`); } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    renameSync(cur, `${this.path}.1`);
  }
}

/** The rotated files of the log at `path` ("<log>.N" … "<log>.1"), oldest first. */
export async function rotatedLogs(path: string): Promise<string[]> {
  const name = basename(path);
  const names = await fsp.readdir(dirname(path)).catch(() => [] as string[]);
  const nums: number[] = [];
  for (const n of names) {
    if (!n.startsWith(`${name}.`)) continue;
    const rest = n.slice(name.length + 1);
    if (/^[1-9]\d{0,5}$/.test(rest)) nums.push(Number(rest));
  }
  return nums.sort((a, b) => b - a).map((i) => join(dirname(path), `${name}.${i}`));
}
