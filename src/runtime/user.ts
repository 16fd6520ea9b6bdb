// Resolve a Docker USER spec ("name", "uid", "name:group", "uid:gid") to numeric ids by reading
// the image's /etc/passwd and /etc/group without ever following a symlink out of the rootfs and
// with a size cap (security.md R2; CVE-2024-9676, CVE-2024-40635).
import { constants, openSync, closeSync, fstatSync, readSync } from 'node:fs';
import { BerthError } from '../errors/index.js';
import type { OciUser } from './spec.js';

const MAX_FILE = 1024 * 1024;
const MAX_ID = 2 ** 31 - 1;

/**
 * Open `rel` (e.g. "etc/passwd") under `root`, one component at a time with O_NOFOLLOW, each lookup
 * relative to the previous directory's fd through /proc/self/fd (an openat() without native code).
 * Returns undefined when a component is missing; throws when it is a symlink or not what it should be.
 * Synchronous: a start reads two small files this way, and a dozen calls through libuv's thread pool
 * cost ~2 ms of the start path here; O_NONBLOCK keeps a FIFO planted in the image from blocking.
 */
function openConfined(root: string, rel: string): number | undefined {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new BerthError('ERR_INVALID_ARGUMENT', `invalid path ${rel}`);
  let dir: number | undefined = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (last ? 0 : constants.O_DIRECTORY);
      let next: number;
      try {
        next = openSync(`/proc/self/fd/${dir}/${parts[i]}`, flags);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return undefined;
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          throw new BerthError('ERR_INVALID_ARGUMENT', `unable to read /${rel} in the container: not a regular file inside the root filesystem`);
        }
        throw e;
      }
      closeSync(dir);
      dir = next;
    }
    if (!fstatSync(dir).isFile()) {
      throw new BerthError('ERR_INVALID_ARGUMENT', `unable to read /${rel} in the container: not a regular file`);
    }
    const fd = dir;
    dir = undefined;
    return fd;
  } finally {
    if (dir !== undefined) closeSync(dir);
  }
}

/** Read a small file of the rootfs through the confined opener (capped at 1 MiB). */
export async function readConfinedFile(root: string, rel: string, max = MAX_FILE): Promise<string | undefined> {
  const fd = openConfined(root, rel);
  if (fd === undefined) return undefined;
  try {
    // Sized from fstat (plus one byte to notice growth); grown to the cap only if the file grew.
    let buf = Buffer.allocUnsafe(Math.min(max, fstatSync(fd).size) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (buf.length > max) break;
        const bigger = Buffer.allocUnsafe(max + 1);
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    if (n > max) throw new BerthError('ERR_INVALID_ARGUMENT', `/${rel} in the container is larger than ${max} bytes`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

interface PasswdEntry { name: string; uid: number; gid: number }
interface GroupEntry { name: string; gid: number; members: string[] }

/**
 * A numeric uid or gid read as Docker reads one (Go's Atoi): NaN for what is not a number that
 * fits 64 bits (looked up as a name then), and Docker's refusal for one outside 0-2^31-1.
 */
function parseId(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) return NaN;
  const n = BigInt(s);
  if (n > 2n ** 63n - 1n || n < -(2n ** 63n)) return NaN;
  if (n < 0n || n > BigInt(MAX_ID)) throw new BerthError('ERR_INVALID_ARGUMENT', `uids and gids must be in range 0-${MAX_ID}`);
  return Number(n);
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const uid = /^[0-9]{1,10}$/.test(f[2]!) ? Number(f[2]) : NaN;
    const gid = /^[0-9]{1,10}$/.test(f[3]!) ? Number(f[3]) : NaN;
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3) continue;
    const gid = /^[0-9]{1,10}$/.test(f[2]!) ? Number(f[2]) : NaN;
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean) });
  }
  return out;
}

/**
 * Resolve `userSpec` against `rootfsDir`'s etc/passwd and etc/group. Numeric ids need no entry;
 * names must exist (Docker's wording). Supplementary groups are those listing the user as member.
 */
export async function resolveUser(rootfsDir: string, userSpec: string | undefined, extraGroups: string[] = []): Promise<OciUser> {
  const spec = (userSpec ?? '').trim();
  const [userPart = '', groupPart] = spec === '' ? ['root'] : spec.split(':', 2);
  const passwdText = await readConfinedFile(rootfsDir, 'etc/passwd');
  const groupText = await readConfinedFile(rootfsDir, 'etc/group');
  const passwd = passwdText ? parsePasswd(passwdText) : [];
  const groups = groupText ? parseGroup(groupText) : [];

  let uid: number;
  let gid: number;
  let name: string | undefined;
  const numericUid = parseId(userPart);
  if (!Number.isNaN(numericUid)) {
    uid = numericUid;
    const e = passwd.find((p) => p.uid === uid);
    gid = e ? e.gid : 0;
    name = e?.name;
  } else {
    const e = passwd.find((p) => p.name === userPart);
    if (e) {
      uid = e.uid;
      gid = e.gid;
      name = e.name;
    } else if (userPart === 'root' && spec === '') {
      // No passwd file (scratch images): the default user is still root, --group-add still applies.
      uid = 0;
      gid = 0;
    } else {
      throw new BerthError('ERR_INVALID_ARGUMENT', `unable to find user ${userPart}: no matching entries in passwd file`);
    }
  }
  if (uid > MAX_ID || gid > MAX_ID) throw new BerthError('ERR_INVALID_ARGUMENT', `uid/gid out of range for user ${userPart}`);
  if (groupPart !== undefined && groupPart !== '') {
    const g = parseId(groupPart);
    if (!Number.isNaN(g)) gid = g;
    else {
      const ge = groups.find((x) => x.name === groupPart);
      if (!ge) throw new BerthError('ERR_INVALID_ARGUMENT', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = ge.gid;
    }
  }
  // The primary group comes first among the supplementary ones, as Docker sets it since
  // CVE-2022-36109: a process that changes its gid keeps the primary group's (deny) permissions.
  const additional = new Set<number>([gid]);
  // Only a named user gets supplementary groups from the file; an explicit group replaces them.
  if (name !== undefined && groupPart === undefined) {
    for (const g of groups) if (g.members.includes(name)) additional.add(g.gid);
  }
  for (const eg of extraGroups) {
    const n = parseId(eg);
    if (!Number.isNaN(n)) additional.add(n);
    else {
      const ge = groups.find((x) => x.name === eg);
      // Docker's wording for --group-add (capitalised, unlike the user's own group above).
      if (!ge) throw new BerthError('ERR_INVALID_ARGUMENT', `Unable to find group ${eg}: no matching entries in group file`);
      additional.add(ge.gid);
    }
  }
  for (const g of additional) if (g > MAX_ID) throw new BerthError('ERR_INVALID_ARGUMENT', `gid ${g} is out of range`);
  return { uid, gid, additionalGids: [...additional] };
}
