// An -o path checked before anything is asked of the daemon, in the docker CLI's words
// (export, save): the directory must be there, and the path must be a file or a directory.
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { cliError } from './args.js';

/** Go's text for a failed stat: "stat /x: no such file or directory". */
function statText(e: unknown, path: string): string {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'ENOTDIR' ? 'not a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
  return `stat ${path}: ${why}`;
}

/** Throws "<prefix>: invalid output path: …" when `out` cannot be written as docker would refuse it. */
export async function checkOutputPath(out: string, prefix: string): Promise<void> {
  const dir = dirname(out);
  if (dir !== '.') {
    let st;
    try { st = await fsp.stat(dir); } catch (e) { throw cliError(`${prefix}: invalid output path: ${statText(e, dir)}`); }
    if (!st.isDirectory()) throw cliError(`${prefix}: invalid output path: stat ${dir}: not a directory`);
  }
  const st = await fsp.stat(out).catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw cliError(`${prefix}: ${statText(e, out)}`); });
  if (st?.isCharacterDevice()) throw cliError(`${prefix}: cannot write to a character device file`);
  if (st && !st.isFile() && !st.isDirectory()) throw cliError(`${prefix}: invalid output path: "${out}" must be a directory or a regular file`);
}
