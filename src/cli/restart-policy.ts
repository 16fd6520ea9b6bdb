// `--restart` for run, create and update, read as the docker CLI reads it. A module of its own:
// imported from commands/container-extra.js (a module `run` and `ps` otherwise never load), it
// made every command of commands/containers.js slower: `berth ps` went from 145 to 215 M
// instructions under callgrind.

/**
 * `--restart` as the docker CLI reads it: "name[:count]", the count an integer. The name itself
 * is the daemon's to judge (its message for an unknown one). Throws the bare reason.
 */
export function parseRestartPolicy(s: string): { Name: string; MaximumRetryCount: number } {
  const i = s.indexOf(':');
  const name = i < 0 ? s : s.slice(0, i);
  const count = i < 0 ? '' : s.slice(i + 1);
  if (i >= 0 && name === '') throw new Error('invalid restart policy format: no policy provided before colon');
  // Go's strconv.Atoi: an optional sign, then digits.
  if (count !== '' && !/^[+-]?\d+$/.test(count)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) };
}
