// A tiny C helper, built once with the host C compiler and cached under the exec root, for the two
// things Node cannot do itself:
//  - `attach DIR`: Node has no AF_UNIX SOCK_SEQPACKET, and conmon's attach socket is one. The relay
//    maps the packet stream onto plain pipes: our stdin → socket, packets tagged 2 → stdout,
//    3 → stderr. It runs only while a client is attached (no process per container).
//  - `exec N PROG ARGS...`: close every fd >= N, then exec PROG. libuv only closes the fds it
//    marked close-on-exec, so fds our own parent leaked to us would reach conmon and the container
//    (security.md R9); this makes the inherited set exactly 0..N-1.
import { promises as fsp, constants } from 'node:fs';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';

export const ATTACH_HELPER_SOURCE = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/syscall.h>

static void close_from(int lo) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)lo, ~0U, 0) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 1048576) max = 1048576;
  for (long fd = lo; fd < max; fd++) close((int)fd);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    p += w; n -= (size_t)w;
  }
  return 0;
}

static int attach(const char *dir) {
  close_from(4);
  signal(SIGPIPE, SIG_IGN);
  if (chdir(dir) != 0) { write_all(3, "0", 1); return 3; }
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) return 4;
  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
  strcpy(a.sun_path, "attach");
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { write_all(3, "0", 1); return 5; }
  /* Tell the parent on fd 3 that we are connected: output sent from now on reaches us. */
  if (write_all(3, "1", 1) == 0) close(3);
  char buf[32768 + 1];
  int stdin_open = 1;
  for (;;) {
    struct pollfd p[2] = { { s, POLLIN, 0 }, { 0, POLLIN, 0 } };
    int n = poll(p, stdin_open ? 2 : 1, -1);
    if (n < 0) { if (errno == EINTR) continue; return 7; }
    if (p[0].revents) {
      ssize_t r = recv(s, buf, sizeof buf, 0);
      if (r < 0) { if (errno == EINTR) continue; return 0; }
      if (r == 0) return 0;
      if (r > 1) {
        int fd = buf[0] == 3 ? 2 : 1;
        if (write_all(fd, buf + 1, (size_t)r - 1) != 0) return 0;
      }
    }
    if (stdin_open && p[1].revents) {
      ssize_t r = read(0, buf, 8192);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { stdin_open = 0; shutdown(s, SHUT_WR); continue; }
      if (send(s, buf, (size_t)r, MSG_NOSIGNAL) < 0) return 0;
    }
  }
}

/* usage: berth-helper attach DIR       -- relay DIR/attach (chdir keeps sun_path short)
 *        berth-helper exec N PROG ARG... -- close fds >= N, exec PROG */
int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "attach") == 0) return attach(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "exec") == 0) {
    int n = atoi(argv[2]);
    if (n < 3) n = 3;
    close_from(n);
    execv(argv[3], argv + 3);
    return 127;
  }
  return 2;
}
`;

const building = new Map<string, Promise<string>>();

/** Path of the compiled relay, compiling it into `dir` on first use (content-addressed name). */
export function ensureHelper(dir: string): Promise<string> {
  const env = process.env.BERTH_RUNTIME_HELPER;
  if (env) return Promise.resolve(env);
  const hash = createHash('sha256').update(ATTACH_HELPER_SOURCE).digest('hex').slice(0, 16);
  const bin = join(dir, `berth-helper-${hash}`);
  let p = building.get(bin);
  if (!p) {
    p = build(dir, bin);
    building.set(bin, p);
    p.catch(() => building.delete(bin));
  }
  return p;
}

async function build(dir: string, bin: string): Promise<string> {
  try {
    await fsp.access(bin, constants.X_OK);
    return bin;
  } catch { /* build it */ }
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const src = `${bin}.${process.pid}.c`;
  const tmp = `${bin}.${process.pid}.tmp`;
  await fsp.writeFile(src, ATTACH_HELPER_SOURCE, { mode: 0o600 });
  try {
    const cc = process.env.CC || 'cc';
    const err = await new Promise<string>((resolve, reject) => {
      const child = spawn(cc, ['-O2', '-static', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
      let out = '';
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve('') : resolve(out || `exit ${code}`)));
    }).catch((e: Error) => e.message);
    if (err) {
      // Retry dynamically linked (no static libc on some hosts).
      const err2 = await new Promise<string>((resolve) => {
        const child = spawn(process.env.CC || 'cc', ['-O2', '-o', tmp, src], { stdio: ['ignore', 'ignore', 'pipe'] });
        let out = '';
        child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
        child.on('error', (e) => resolve(e.message));
        child.on('close', (code) => resolve(code === 0 ? '' : out || `exit ${code}`));
      });
      if (err2) throw new BerthError('ERR_INTERNAL', `cannot build the runtime helper (a C compiler is needed): ${err2}`);
    }
    await fsp.chmod(tmp, 0o755);
    await fsp.rename(tmp, bin);
  } finally {
    await fsp.rm(src, { force: true });
    await fsp.rm(tmp, { force: true });
  }
  return bin;
}
