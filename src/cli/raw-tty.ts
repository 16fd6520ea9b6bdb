// Raw mode for a session with a container's TTY (run -it, attach, exec -it), as the docker CLI sets
// it. node's setRawMode (libuv) leaves output processing on (OPOST with ONLCR), so each "\n" the
// container's own terminal sent was turned into "\r\n" once more: "\r\r\n" for every line, and a line
// feed that a full-screen program meant as "one row down" also went back to column 0. `stty -opost`
// clears that; node puts the terminal's own settings back when raw mode ends or the process exits.
import { spawnSync } from 'node:child_process';

/** Raw mode on `stdin` (a TTY); returns the function that ends it. */
export function enterRaw(stdin: NodeJS.ReadStream): () => void {
  stdin.setRawMode(true);
  spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  return () => { stdin.setRawMode(false); };
}
