// A tiny C helper, built once with the host C compiler and cached under the exec root, for the
// things Node cannot do itself (a static binary starts in ~1 ms, against ~10-40 ms for mount(8),
// umount(8) or the runtime's own CLI):
//  - `attach DIR SOCK TOKEN ...`: Node has no AF_UNIX SOCK_SEQPACKET, and conmon's attach socket is
//    one. The relay maps the packet stream onto frames on a stream connection to the daemon
//    (runtime/relay.ts). It runs only while a client is attached (no process per container), and is
//    started through `serve`, so attaching forks no daemon-sized process.
//  - `exec N PROG ARGS...` (`netns-exec NS N PROG ARGS...`: in network namespace NS, as
//    `nsenter --net=NS` would, without its exec): close every fd >= N, then exec PROG. libuv only
//    closes the fds it marked close-on-exec, so fds our own parent leaked to us would reach conmon
//    and the container (security.md R9); this makes the inherited set exactly 0..N-1.
//  - `mount-overlay DIR OPTS TARGET` / `umount TARGET`: the mount(2)/umount2(2) syscalls for
//    container root filesystems.
//  - `netns-new PATH`: a new network namespace kept alive by a bind mount on PATH (removed with
//    `umount PATH` and an unlink), so a container's network can be plumbed while the runtime
//    creates the container, instead of after.
//  - `conmon-create DIR CONMON ARGS...`: start conmon for `runtime create` and print its sync reply
//    (through `serve`, so starting a container forks no daemon-sized process).
//  - `cgroup-warm PROCS MS`: rejoin our own cgroup every 2 ms for MS ms, so the runtime's own
//    cgroup write does not wait for an RCU grace period (runtime/cgroup-warm.ts).
//  - `start FIFO PID`: what `runc start` does for a created container — read the byte its init
//    process writes to the exec fifo (releasing it to exec the command), then remove the fifo — but
//    without starting a Go binary. Gives up (exit 7) if the init process dies first.
//  - `serve`: run any of these per request, each in a forked handler; built-ins run in the handler,
//    `exec`/`netns-exec` in a grandchild started with vfork (fork costs are the point: see handle).
import { promises as fsp, constants } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BerthError } from '../errors/index.js';
import { runCommand } from './exec-util.js';
import { SAFE_PATH } from './binaries.js';

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
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>

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

static int read_full(int fd, char *p, size_t n);

/* One frame to the daemon: a type byte, the length (4 bytes, big endian), the data. */
static int put_frame(int fd, char type, const char *data, size_t len) {
  char h[5] = { type, (char)(len >> 24), (char)(len >> 16), (char)(len >> 8), (char)len };
  return write_all(fd, h, sizeof h) == 0 && write_all(fd, data, len) == 0 ? 0 : -1;
}

#define STDIN_FRAME_MAX 32768

/* The attach relay (runtime/relay.ts has the daemon's side). It connects to the daemon's relay
 * socket SOCK and names itself with TOKEN; with "wait" it then waits for the daemon's go frame
 * (started ahead, while the runtime creates the container). Then it connects to DIR/attach and
 * reports "1" (connected: output sent from now on reaches us) or "0". From there: each packet
 * from conmon (tagged 2 stdout, 3 stderr) goes to the daemon as a frame of type 1 or 2; the
 * daemon's frames bring stdin data ('i') and its end ('e', a half-close towards conmon). The
 * relay ends when conmon closes the socket (the daemon sees the end) or the daemon closes its
 * connection (the client is gone). */
static int attach(const char *dir, const char *sock, const char *token, int wait, int with_stdin) {
  signal(SIGPIPE, SIG_IGN);
  int d = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (d < 0) return 4;
  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
  if (strlen(sock) >= sizeof a.sun_path) return 4;
  strcpy(a.sun_path, sock);
  if (connect(d, (struct sockaddr *)&a, sizeof a) != 0) return 5;
  if (write_all(d, token, strlen(token)) != 0 || write_all(d, "\n", 1) != 0) return 5;
  char h[5];
  if (wait && (read_full(d, h, sizeof h) != 0 || h[0] != 'g')) return 6;
  if (chdir(dir) != 0) { write_all(d, "0", 1); return 3; }
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) { write_all(d, "0", 1); return 4; }
  memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
  strcpy(a.sun_path, "attach");
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { write_all(d, "0", 1); return 5; }
  if (write_all(d, "1", 1) != 0) return 0;
  static char buf[STDIN_FRAME_MAX + 1];
  for (;;) {
    struct pollfd p[2] = { { s, POLLIN, 0 }, { d, POLLIN, 0 } };
    int n = poll(p, 2, -1);
    if (n < 0) { if (errno == EINTR) continue; return 7; }
    if (p[0].revents) {
      ssize_t r = recv(s, buf, sizeof buf, 0);
      if (r < 0) { if (errno == EINTR) continue; return 0; }
      if (r == 0) return 0;
      if (r > 1 && put_frame(d, buf[0] == 3 ? 2 : 1, buf + 1, (size_t)r - 1) != 0) return 0;
    }
    if (p[1].revents) {
      if (read_full(d, h, sizeof h) != 0) return 0; /* the daemon closed: the client is gone */
      size_t len = ((size_t)(unsigned char)h[1] << 24) | ((size_t)(unsigned char)h[2] << 16) | ((size_t)(unsigned char)h[3] << 8) | (unsigned char)h[4];
      if (len > STDIN_FRAME_MAX || (len > 0 && read_full(d, buf, len) != 0)) return 0;
      if (!with_stdin) continue;
      if (h[0] == 'i' && len > 0 && send(s, buf, len, MSG_NOSIGNAL) < 0) return 0;
      if (h[0] == 'e') shutdown(s, SHUT_WR);
    }
  }
}

static int fail(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  return 1;
}

/* Relative lowerdirs (long layer chains) resolve against DIR ("-": no chdir). */
static int mount_overlay(const char *dir, const char *opts, const char *target) {
  if (strcmp(dir, "-") != 0 && chdir(dir) != 0) return fail("chdir");
  if (mount("overlay", target, "overlay", 0, opts) != 0) return fail("mount");
  return 0;
}

/* Not mounted (EINVAL) or missing (ENOENT) is success; busy falls back to a lazy detach. */
static int unmount(const char *target) {
  if (umount2(target, UMOUNT_NOFOLLOW) == 0 || errno == EINVAL || errno == ENOENT) return 0;
  if (errno == EBUSY && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return 0;
  return fail("umount");
}

static int netns_new(const char *path) {
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) return fail("create netns file");
  close(fd);
  if (unshare(CLONE_NEWNET) != 0) { int e = errno; unlink(path); errno = e; return fail("unshare"); }
  if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) != 0) { int e = errno; unlink(path); errno = e; return fail("bind netns"); }
  return 0;
}

static int dead(long pid) {
  char p[64], buf[512];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 1;
  buf[n] = 0;
  char *e = strrchr(buf, ')');
  return !e || e[1] == 0 || e[2] == 'Z' || e[2] == 'X';
}

/* 0 started; 3 no fifo (not a created container); 6 already started; 7 init died; else error. */
static int start_fifo(const char *path, long pid) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? 3 : fail("open exec fifo");
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) { fprintf(stderr, "exec fifo: not a fifo\n"); return 4; }
  for (;;) {
    struct pollfd p = { fd, POLLIN, 0 };
    int n = poll(&p, 1, 100);
    if (n < 0) { if (errno == EINTR) continue; return fail("poll"); }
    if (n == 0) {
      /* Like runc: the init process may also have exited before writing. */
      if (pid > 0 && dead(pid)) return 7;
      continue;
    }
    char b[16];
    ssize_t r = read(fd, b, sizeof b);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r < 0) return fail("read exec fifo");
    if (r == 0) return 6;
    if (unlink(path) != 0 && errno != ENOENT) return fail("remove exec fifo");
    return 0;
  }
}

static int dispatch(int argc, char **argv);

/* Start conmon detached (own session, cwd DIR, fds: /dev/null, /dev/null, a stderr pipe, the sync
 * pipe as 3, nothing else) and print its first sync line, plus whatever it wrote to stderr by then. */
static int conmon_create(const char *dir, char **argv) {
  int sp[2], ep[2];
  if (pipe2(sp, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) return fail("pipe");
  pid_t c = fork();
  if (c < 0) return fail("fork");
  if (c == 0) {
    setsid();
    if (chdir(dir) != 0) _exit(127);
    int nul = open("/dev/null", O_RDWR);
    if (nul < 0) _exit(127);
    dup2(nul, 0); dup2(nul, 1); dup2(ep[1], 2); dup2(sp[1], 3);
    close_from(4);
    setenv("_OCI_SYNCPIPE", "3", 1);
    /* conmon forks once loaded and the child stays: symbols it would bind lazily after that fork
     * fault the loader and the libraries' symbol tables into the child (~0.4 MB of RSS); bound
     * before the fork, those pages are not copied into the child's page tables. */
    setenv("LD_BIND_NOW", "1", 1);
    unsetenv("LC_ALL");
    execv(argv[0], argv);
    _exit(127);
  }
  close(sp[1]); close(ep[1]);
  char line[4096];
  size_t n = 0;
  while (n < sizeof line - 1) {
    ssize_t r = read(sp[0], line + n, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || line[n] == '\n') break;
    n++;
  }
  write_all(1, line, n);
  write_all(1, "\n", 1);
  fcntl(ep[0], F_SETFL, O_NONBLOCK);
  char e[2048];
  ssize_t r = read(ep[0], e, sizeof e);
  if (r > 0) write_all(2, e, (size_t)r);
  return 0;
}

static int read_full(int fd, char *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r; n -= (size_t)r;
  }
  return 0;
}

#define REPLY_MAX 4096 /* PIPE_BUF: one write() per reply keeps concurrent replies whole */
#define OUT_MAX 65536

/* Write the reply "<id> <code> <outlen> <errlen> <truncated>\n" + out + err, in one write. */
static void reply(int fd, const char *id, int code, const char *o, size_t ol, const char *e, size_t el, int trunc) {
  static char r[REPLY_MAX];
  int hl = snprintf(r, sizeof r, "%s %d %zu %zu %d\n", id, code, ol, el, trunc);
  size_t room = sizeof r - (size_t)hl;
  if (ol + el > room) {
    /* Too long for one atomic reply: the caller runs the command itself. */
    hl = snprintf(r, sizeof r, "%s %d 0 0 1\n", id, code);
    ol = el = 0;
  }
  memcpy(r + hl, o, ol); memcpy(r + hl + ol, e, el);
  write_all(fd, r, (size_t)hl + ol + el);
}

/* A built-in command (mount, umount, netns-new, start, cgroup-warm, conmon-create) runs in the
 * handler itself, its stdout and stderr in memory files: one fork per request, not two (a fork of
 * even this small process costs ~0.5 ms of CPU on the 2-core test host). */
static void handle_builtin(const char *id, int argc, char **argv) {
  int out = fcntl(1, F_DUPFD_CLOEXEC, 3);
  int mo = memfd_create("out", MFD_CLOEXEC), me = memfd_create("err", MFD_CLOEXEC);
  int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || mo < 0 || me < 0 || nul < 0) _exit(2);
  dup2(nul, 0); dup2(mo, 1); dup2(me, 2);
  int code = dispatch(argc, argv);
  fflush(stdout); fflush(stderr);
  static char o[OUT_MAX], e[OUT_MAX];
  ssize_t ol = pread(mo, o, sizeof o, 0), el = pread(me, e, sizeof e, 0);
  if (ol < 0) ol = 0;
  if (el < 0) el = 0;
  int trunc = lseek(mo, 0, SEEK_END) > ol || lseek(me, 0, SEEK_END) > el;
  reply(out, id, code, o, (size_t)ol, e, (size_t)el, trunc);
  _exit(0);
}

/* One request, in a forked handler. "exec" and "netns-exec" run in a grandchild with its stdio on
 * pipes, started with vfork (it only rearranges fds, may join a namespace, and execs: no copy of
 * our page tables needed); the handler feeds it the input and collects its output. Built-ins run
 * in the handler (handle_builtin). */
static void handle(char *buf, size_t len) {
  signal(SIGCHLD, SIG_DFL);
  char *end = buf + len, *p = buf;
  char *id = p; p += strlen(p) + 1;
  if (p >= end) _exit(2);
  int nargs = atoi(p); p += strlen(p) + 1;
  if (nargs < 1 || nargs > 4096) _exit(2);
  char **argv = calloc((size_t)nargs + 2, sizeof *argv);
  if (!argv) _exit(2);
  argv[0] = "berth-helper";
  for (int i = 0; i < nargs; i++) {
    if (p >= end) _exit(2);
    argv[i + 1] = p; p += strlen(p) + 1;
  }
  if (strcmp(argv[1], "exec") != 0 && strcmp(argv[1], "netns-exec") != 0) handle_builtin(id, nargs + 1, argv);
  const char *input = p < end ? p : end;
  size_t ilen = (size_t)(end - input);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) _exit(2);
  pid_t g = vfork();
  if (g < 0) _exit(2);
  if (g == 0) {
    dup2(in[0], 0); dup2(out[1], 1); dup2(err[1], 2);
    close_from(3);
    _exit(dispatch(nargs + 1, argv));
  }
  close(in[0]); close(out[1]); close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  static char o[OUT_MAX], e[OUT_MAX];
  size_t ol = 0, el = 0, done = 0;
  int trunc = 0, open_o = 1, open_e = 1, open_i = 1;
  if (ilen == 0) { close(in[1]); open_i = 0; }
  while (open_o || open_e) {
    struct pollfd f[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
    if (!open_o) f[0].fd = -1;
    if (!open_e) f[1].fd = -1;
    if (!open_i) f[2].fd = -1;
    if (poll(f, 3, -1) < 0) { if (errno == EINTR) continue; break; }
    if (f[2].revents) {
      ssize_t w = write(in[1], input + done, ilen - done);
      if (w > 0) done += (size_t)w;
      if (w < 0 && errno != EINTR && errno != EAGAIN) done = ilen;
      if (done >= ilen) { close(in[1]); open_i = 0; }
    }
    for (int k = 0; k < 2; k++) {
      if (!f[k].revents) continue;
      char tmp[8192];
      ssize_t r = read(f[k].fd, tmp, sizeof tmp);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { if (k == 0) open_o = 0; else open_e = 0; continue; }
      char *dst = k == 0 ? o : e;
      size_t *dl = k == 0 ? &ol : &el;
      size_t n = (size_t)r;
      if (*dl + n > OUT_MAX) { n = OUT_MAX - *dl; trunc = 1; }
      memcpy(dst + *dl, tmp, n); *dl += n;
    }
  }
  if (open_i) close(in[1]);
  int st = 0, code = 255;
  while (waitpid(g, &st, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(st)) code = WEXITSTATUS(st); else if (WIFSIGNALED(st)) code = 128 + WTERMSIG(st);
  reply(1, id, code, o, ol, e, el, trunc);
  _exit(0);
}

/* Requests on stdin: "<len>\n" + "<id>\0<nargs>\0<arg>\0...<input>"; each is handled in a forked
 * process (forking this small process is far cheaper than forking the daemon). Exits at EOF. */
static int serve(void) {
  close_from(3);
  signal(SIGCHLD, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  for (;;) {
    char hdr[24];
    size_t h = 0;
    for (;;) {
      ssize_t r = read(0, hdr + h, 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0;
      if (hdr[h] == '\n') break;
      if (++h >= sizeof hdr - 1) return 2;
    }
    hdr[h] = 0;
    size_t len = strtoul(hdr, NULL, 10);
    if (len == 0 || len > (16u << 20)) return 2;
    char *buf = malloc(len + 1);
    if (!buf || read_full(0, buf, len) != 0) return 0;
    buf[len] = 0;
    pid_t p = fork();
    if (p == 0) handle(buf, len);
    free(buf);
  }
}

/* usage: berth-helper attach DIR SOCK TOKEN wait|now stdin|nostdin -- relay DIR/attach to the
 *          daemon's SOCK (chdir keeps sun_path short; see attach)
 *        berth-helper exec N PROG ARG... -- close fds >= N, exec PROG
 *        berth-helper netns-exec NS N PROG ARG... -- the same in network namespace NS (nsenter --net)
 *        berth-helper mount-overlay DIR OPTS TARGET | umount TARGET | start FIFO PID | netns-new PATH
 *        berth-helper cgroup-warm PROCS MS
 *        berth-helper conmon-create DIR CONMON ARG... -- see conmon_create
 *        berth-helper serve            -- run any of the above per request (see serve) */
int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "serve") == 0) return serve();
  return dispatch(argc, argv);
}

/* Rejoin our own cgroup (write "0" to its PROCS file) now and every 2 ms until MS ms have passed;
 * see runtime/cgroup-warm.ts for why. */
static int cgroup_warm(const char *procs, long ms) {
  if (ms < 0 || ms > 1000) ms = 1000;
  int fd = open(procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail("open cgroup.procs");
  struct timespec t0, now, nap = { 0, 2000000 };
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    if (write(fd, "0", 1) < 0 && errno != EINTR) { int e = errno; close(fd); errno = e; return fail("write cgroup.procs"); }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= ms) break;
    nanosleep(&nap, NULL);
  }
  close(fd);
  return 0;
}

static int dispatch(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "cgroup-warm") == 0) return cgroup_warm(argv[2], atol(argv[3]));
  if (argc == 7 && strcmp(argv[1], "attach") == 0) return attach(argv[2], argv[3], argv[4], strcmp(argv[5], "wait") == 0, strcmp(argv[6], "stdin") == 0);
  if (argc == 5 && strcmp(argv[1], "mount-overlay") == 0) return mount_overlay(argv[2], argv[3], argv[4]);
  if (argc == 3 && strcmp(argv[1], "umount") == 0) return unmount(argv[2]);
  if (argc == 3 && strcmp(argv[1], "netns-new") == 0) return netns_new(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "conmon-create") == 0) return conmon_create(argv[2], argv + 3);
  if (argc == 4 && strcmp(argv[1], "start") == 0) return start_fifo(argv[2], atol(argv[3]));
  if (argc >= 5 && strcmp(argv[1], "netns-exec") == 0) {
    int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
    if (ns < 0) return fail("open network namespace");
    if (setns(ns, CLONE_NEWNET) != 0) return fail("setns");
    close(ns);
    int n = atoi(argv[3]);
    if (n < 3) n = 3;
    close_from(n);
    execv(argv[4], argv + 4);
    return 127;
  }
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

export interface HelperResult { code: number; stdout: string; stderr: string }

/**
 * One long-lived `berth-helper serve` per helper binary, running helper commands (and, through
 * `exec`, the OCI runtime) on request. Forking the daemon costs ~2-5 ms of event-loop time per
 * process on a busy host; forking this small server costs a fraction of that. Referenced only
 * while requests are pending, so it never keeps the daemon alive; it exits when our end closes.
 */
class HelperServer {
  private child: ChildProcess | undefined;
  private seq = 0;
  private readonly pending = new Map<string, { resolve: (r: HelperResult) => void; reject: (e: Error) => void }>();
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly bin: string) {}

  run(args: string[], input = ''): Promise<HelperResult> {
    if (args.some((a) => a.includes('\0'))) return Promise.reject(new Error('NUL in helper argument'));
    const child = this.ensure();
    const id = String(++this.seq);
    const body = Buffer.concat([Buffer.from(`${id}\0${args.length}\0`), ...args.map((a) => Buffer.from(`${a}\0`)), Buffer.from(input)]);
    return new Promise<HelperResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.setRef();
      child.stdin!.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
    });
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const c = spawn(this.bin, ['serve'], { stdio: ['pipe', 'pipe', 'ignore'], env: { PATH: SAFE_PATH, LC_ALL: 'C' } });
    this.child = c;
    this.buf = Buffer.alloc(0);
    c.stdout!.on('data', (d: Buffer) => this.onData(d));
    c.stdin!.on('error', () => { /* reported through exit */ });
    const gone = (why: string) => {
      if (this.child !== c) return;
      this.child = undefined;
      for (const p of this.pending.values()) p.reject(new Error(`runtime helper server ${why}`));
      this.pending.clear();
    };
    c.once('error', (e) => gone(`failed: ${e.message}`));
    c.once('exit', (code, sig) => gone(`exited (${sig ?? code})`));
    return c;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0) break;
      const [id = '', code, ol, el, trunc] = this.buf.subarray(0, nl).toString().split(' ');
      const outLen = Number(ol);
      const errLen = Number(el);
      if (this.buf.length < nl + 1 + outLen + errLen) break;
      const stdout = this.buf.subarray(nl + 1, nl + 1 + outLen).toString('utf8');
      const stderr = this.buf.subarray(nl + 1 + outLen, nl + 1 + outLen + errLen).toString('utf8');
      this.buf = this.buf.subarray(nl + 1 + outLen + errLen);
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      if (trunc === '1') p.reject(new Error('helper reply truncated'));
      else p.resolve({ code: Number(code), stdout, stderr });
    }
    this.setRef();
  }

  private setRef(): void {
    const c = this.child;
    if (!c) return;
    const on = this.pending.size > 0;
    for (const h of [c, c.stdout, c.stdin] as ({ ref?: () => void; unref?: () => void } | null)[]) {
      if (on) h?.ref?.(); else h?.unref?.();
    }
  }
}

const servers = new Map<string, HelperServer>();

/**
 * Run `helper ARGS` (stdin = `input`) through the helper's server; if the server is unusable or
 * the output too long for its replies, as a plain child process instead — unless `once` (commands
 * that must not run twice, e.g. starting conmon): then the server's failure is the caller's.
 */
export async function runHelper(helper: string, args: string[], input?: string, opts: { once?: boolean } = {}): Promise<HelperResult> {
  let s = servers.get(helper);
  if (!s) { s = new HelperServer(helper); servers.set(helper, s); }
  try {
    return await s.run(args, input);
  } catch (e) {
    if (opts.once) throw e;
    const r = await runCommand(helper, args, input !== undefined ? { input } : {});
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }
}
