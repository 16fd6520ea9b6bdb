// Host facts for /info, read when asked (cheap: a few stat calls), never hard-coded.
import { existsSync, readdirSync, statfsSync } from 'node:fs';

/** "2" on a unified cgroup v2 host, "1" on v1 or hybrid hosts (where v1 controllers are in use). */
export function cgroupVersion(): '1' | '2' {
  return existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

/** Whether a block I/O weight can be set: cgroup v1's blkio controller with CFQ's or BFQ's weight file. */
export function blkioWeightSupported(): boolean {
  return existsSync('/sys/fs/cgroup/blkio/blkio.weight') || existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight');
}

// statfs f_type magic numbers (linux/magic.h) → the names Docker prints as "Backing Filesystem".
const FS_NAMES: Record<number, string> = {
  0xef53: 'extfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x01021994: 'tmpfs', 0x794c7630: 'overlayfs',
  0x2fc12fc1: 'zfs', 0x6969: 'nfs', 0xf15f: 'ecryptfs', 0x65735546: 'fuse',
};

export function backingFilesystem(path: string): string {
  try {
    const t = statfsSync(path).type;
    return FS_NAMES[t] ?? `0x${t.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

/** Open file descriptors of this process (Docker's NFd). */
export function openFds(): number {
  try { return readdirSync('/proc/self/fd').length; } catch { return 0; }
}
