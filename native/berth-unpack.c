// berth-unpack: extract an uncompressed tar stream (stdin) into a directory without ever
// following a path out of it.
//
// Usage: berth-unpack [--apply] [--sync] [--gzip] [--digest] [--max-entries N] [--max-bytes N]
//                     [--prefix DIR] <target-dir>
//        berth-unpack --topdir <dir>
//        berth-unpack --features
//   default  overlay mode: OCI whiteouts become overlayfs whiteouts (char 0/0, opaque xattr)
//   --apply  whiteouts are applied: the named entry is deleted / the directory is cleared
//   --sync   syncfs() the target filesystem before reporting success
//   --gzip   stdin is gzip; --digest  report the sha256 of the tar bytes as "diffId"
//            (both only when built with -DBERTH_ZLIB; --features prints "gzip digest" then)
//   --max-entries / --max-bytes  refuse layers with more entries / regular-file bytes (0: no limit)
//   --prefix DIR  put archive paths (and hard-link targets) under DIR, still resolved inside the
//            target: `docker cp` into /some/dir of a container rootfs uses target=rootfs, prefix=dir
//   --topdir DIR  only mark DIR as the top of directory hierarchies (FS_TOPDIR_FL, chattr +T) and
//            exit; best effort, 0 even where the filesystem has no such flag. On ext4 this makes
//            each snapshot directory made under DIR start in its own block group instead of the
//            parent's, away from the inodes of snapshots just removed: on ext4 without a journal
//            every new inode otherwise scans past all recently freed inodes of its group, which
//            made file creation ~20x slower right after an `rmi`.
//
// Every filesystem operation is relative to a directory fd obtained with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the target, and the final component is
// never followed (O_NOFOLLOW / AT_SYMLINK_NOFOLLOW / O_EXCL creates). So `..`, absolute symlink
// targets and symlinked parents all resolve inside the target: the path-check-then-use race of
// string based extractors does not exist here.
//
// On success one JSON line is printed on stdout; on a bad archive a message goes to stderr and the
// exit status is 1 (the target may hold a partial tree; the caller discards it).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (1u << 20)          /* stdin read size */
#define MAX_PAX (1u << 20)        /* PAX extended header bound */
#define MAX_PATH_LEN 4096u        /* entry path / link target bound */
#define MAX_XATTR (64u << 10)     /* one xattr value bound */

static const char *prog = "berth-unpack";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}
static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) die("out of memory");
  return p;
}
static char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

/* ---------------------------------------------------------------- input */

static unsigned char *ibuf;
static size_t ipos, ilen;
static uint64_t total_in; /* tar bytes (after decompression) */
static uint64_t raw_in;   /* bytes read from stdin */
static int ieof;

static ssize_t read_stdin(unsigned char *b, size_t n) {
  ssize_t r;
  do r = read(0, b, n); while (r < 0 && errno == EINTR);
  if (r < 0) die("read stdin: %s", strerror(errno));
  raw_in += (uint64_t)r;
  return r;
}

#ifdef BERTH_ZLIB
/* --gzip: stdin is gzip (concatenated members allowed, as in Go's reader); inflated here so the
 * daemon moves only compressed bytes and both cores work when layers unpack side by side.
 * --digest: the diff ID (sha256 of the tar bytes) is computed here as well. */
/* the plain SHA256_* calls: no provider or config loading, still the CPU's SHA extensions */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <zlib.h>
static int gz_mode, digest_mode;
static z_stream zs;
static unsigned char *zbuf;
static int zs_end; /* the current member ended */
static SHA256_CTX md;

static size_t inflate_some(void) {
  for (;;) {
    if (zs.avail_in == 0) {
      ssize_t n = read_stdin(zbuf, BUFSZ);
      if (n == 0) {
        if (!zs_end) die("unexpected end of archive (truncated gzip stream)");
        return 0;
      }
      zs.next_in = zbuf;
      zs.avail_in = (uInt)n;
    }
    if (zs_end) {
      /* another member must follow; anything else is an error, as in Go */
      if (inflateReset(&zs) != Z_OK) die("gzip: reset failed");
      zs_end = 0;
    }
    zs.next_out = ibuf;
    zs.avail_out = BUFSZ;
    int r = inflate(&zs, Z_NO_FLUSH);
    if (r == Z_STREAM_END) zs_end = 1;
    else if (r == Z_MEM_ERROR) die("out of memory");
    else if (r != Z_OK && r != Z_BUF_ERROR) die("invalid gzip data: %s", zs.msg ? zs.msg : "error");
    size_t got = BUFSZ - zs.avail_out;
    if (got) return got;
    if (r == Z_BUF_ERROR && zs.avail_in) die("invalid gzip data");
  }
}
#endif

static int fill(void) {
  if (ipos < ilen) return 1;
  if (ieof) return 0;
  size_t n;
#ifdef BERTH_ZLIB
  if (gz_mode) n = inflate_some();
  else
#endif
    n = (size_t)read_stdin(ibuf, BUFSZ);
  if (n == 0) { ieof = 1; return 0; }
#ifdef BERTH_ZLIB
  if (digest_mode) SHA256_Update(&md, ibuf, n);
#endif
  ipos = 0;
  ilen = n;
  total_in += (uint64_t)n;
  return 1;
}

/* returns bytes read (< n only at EOF) */
static size_t read_upto(void *dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (!fill()) break;
    size_t k = ilen - ipos;
    if (k > n - got) k = n - got;
    memcpy((char *)dst + got, ibuf + ipos, k);
    ipos += k;
    got += k;
  }
  return got;
}

static void read_exact(void *dst, size_t n) {
  if (read_upto(dst, n) != n) die("unexpected end of archive");
}

static void skip_bytes(uint64_t n) {
  while (n) {
    if (!fill()) die("unexpected end of archive");
    size_t k = ilen - ipos;
    if ((uint64_t)k > n) k = (size_t)n;
    ipos += k;
    n -= k;
  }
}

static void write_all(int fd, const unsigned char *p, size_t n, const char *what) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write %s: %s", what, strerror(errno));
    }
    p += w;
    n -= (size_t)w;
  }
}

static void copy_to_fd(int fd, uint64_t n, const char *what) {
  while (n) {
    if (!fill()) die("unexpected end of archive in %s", what);
    size_t k = ilen - ipos;
    if ((uint64_t)k > n) k = (size_t)n;
    write_all(fd, ibuf + ipos, k, what);
    ipos += k;
    n -= k;
  }
}

static void drain(void) {
  ipos = ilen;
  while (fill()) ipos = ilen;
}

/* ---------------------------------------------------------------- tar header */

struct ustar {
  char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag, linkname[100],
      magic[6], version[2], uname[32], gname[32], devmajor[8], devminor[8], prefix[155], pad[12];
};

/* octal or base-256 numeric field */
static uint64_t parse_num(const char *f, size_t len, const char *what) {
  const unsigned char *u = (const unsigned char *)f;
  uint64_t v = 0;
  if (u[0] & 0x80) {
    if (u[0] == 0xff) die("negative %s in tar header", what);
    v = u[0] & 0x7f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 56) die("%s overflows in tar header", what);
      v = (v << 8) | u[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < len && (f[i] == ' ' || f[i] == 0)) i++;
  for (; i < len && f[i] != 0 && f[i] != ' '; i++) {
    if (f[i] < '0' || f[i] > '7') die("invalid %s in tar header", what);
    if (v >> 60) die("%s overflows in tar header", what);
    v = v * 8 + (uint64_t)(f[i] - '0');
  }
  return v;
}

static int header_ok(const unsigned char *b) {
  const struct ustar *h = (const struct ustar *)b;
  uint64_t want = parse_num(h->chksum, sizeof h->chksum, "checksum");
  uint64_t us = 0;
  int64_t ss = 0;
  for (int i = 0; i < 512; i++) {
    unsigned char c = (i >= 148 && i < 156) ? ' ' : b[i];
    us += c;
    ss += (signed char)c;
  }
  return want == us || (int64_t)want == ss;
}

static size_t fieldlen(const char *f, size_t max) {
  size_t n = 0;
  while (n < max && f[n]) n++;
  return n;
}

/* ---------------------------------------------------------------- PAX */

struct xattr { char *name; char *val; size_t len; };

struct pax {
  char *path, *linkpath;
  int has_size, has_uid, has_gid, has_mtime, has_atime;
  uint64_t size, uid, gid;
  struct timespec mtime, atime;
  struct xattr *xa;
  size_t nxa;
};

static void pax_clear(struct pax *p) {
  free(p->path);
  free(p->linkpath);
  for (size_t i = 0; i < p->nxa; i++) { free(p->xa[i].name); free(p->xa[i].val); }
  free(p->xa);
  memset(p, 0, sizeof *p);
}

static uint64_t parse_dec(const char *s, size_t n, const char *what) {
  if (n == 0) die("invalid PAX %s", what);
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') die("invalid PAX %s", what);
    if (v > (UINT64_MAX - 9) / 10) die("PAX %s overflows", what);
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  return v;
}

static struct timespec parse_time(const char *s, size_t n) {
  struct timespec ts = {0, 0};
  int neg = 0;
  size_t i = 0;
  if (i < n && s[i] == '-') { neg = 1; i++; }
  size_t j = i;
  while (j < n && s[j] != '.') j++;
  uint64_t sec = parse_dec(s + i, j - i, "time");
  if (sec > (uint64_t)INT64_MAX / 2) die("PAX time out of range");
  long ns = 0;
  if (j < n) {
    long scale = 100000000;
    for (size_t k = j + 1; k < n; k++) {
      if (s[k] < '0' || s[k] > '9') die("invalid PAX time");
      ns += (s[k] - '0') * scale;
      scale /= 10;
    }
  }
  ts.tv_sec = (time_t)sec;
  ts.tv_nsec = ns;
  if (neg) {
    ts.tv_sec = -ts.tv_sec;
    if (ns) { ts.tv_sec -= 1; ts.tv_nsec = 1000000000 - ns; }
  }
  return ts;
}

static int keyeq(const char *k, size_t kl, const char *lit) {
  return strlen(lit) == kl && memcmp(k, lit, kl) == 0;
}

/* Parses "LEN key=value\n" records. global headers only get the safety checks. */
static void parse_pax(char *b, size_t n, struct pax *p, int global) {
  size_t off = 0;
  while (off < n) {
    if (b[off] == 0) break; /* NUL padding after the last record */
    size_t i = off, len = 0;
    while (i < n && b[i] >= '0' && b[i] <= '9') {
      len = len * 10 + (size_t)(b[i] - '0');
      if (len > n) die("invalid PAX record length");
      i++;
    }
    if (i == off || i >= n || b[i] != ' ' || len < (i - off) + 3 || off + len > n) die("invalid PAX record");
    char *rec_end = b + off + len - 1;
    if (*rec_end != '\n') die("invalid PAX record terminator");
    char *key = b + i + 1;
    char *eq = memchr(key, '=', (size_t)(rec_end - key));
    if (!eq) die("invalid PAX record (no '=')");
    size_t kl = (size_t)(eq - key);
    char *val = eq + 1;
    size_t vl = (size_t)(rec_end - val);
    off += len;

    if (kl >= 11 && memcmp(key, "GNU.sparse.", 11) == 0) die("GNU sparse files are not supported");
    if (global) continue;
    if (keyeq(key, kl, "path") || keyeq(key, kl, "linkpath")) {
      if (vl > MAX_PATH_LEN) die("PAX %.*s longer than %u bytes", (int)kl, key, MAX_PATH_LEN);
      if (memchr(val, 0, vl)) die("PAX %.*s contains NUL", (int)kl, key);
      char **dst = key[0] == 'p' ? &p->path : &p->linkpath;
      free(*dst);
      *dst = xstrndup(val, vl);
    } else if (keyeq(key, kl, "size")) {
      p->size = parse_dec(val, vl, "size");
      p->has_size = 1;
    } else if (keyeq(key, kl, "uid")) {
      p->uid = parse_dec(val, vl, "uid");
      p->has_uid = 1;
    } else if (keyeq(key, kl, "gid")) {
      p->gid = parse_dec(val, vl, "gid");
      p->has_gid = 1;
    } else if (keyeq(key, kl, "mtime")) {
      p->mtime = parse_time(val, vl);
      p->has_mtime = 1;
    } else if (keyeq(key, kl, "atime")) {
      p->atime = parse_time(val, vl);
      p->has_atime = 1;
    } else if (kl > 13 && memcmp(key, "SCHILY.xattr.", 13) == 0) {
      if (vl > MAX_XATTR) die("xattr value larger than %u bytes", MAX_XATTR);
      if (kl - 13 > 255) die("xattr name too long");
      p->xa = xrealloc(p->xa, (p->nxa + 1) * sizeof *p->xa);
      p->xa[p->nxa].name = xstrndup(key + 13, kl - 13);
      p->xa[p->nxa].val = xstrndup(val, vl);
      p->xa[p->nxa].len = vl;
      p->nxa++;
    }
    /* other keys (uname, gname, ctime, comment, LIBARCHIVE.*) carry nothing we apply */
  }
}

/* ---------------------------------------------------------------- root-relative fs ops */

static int rootfd = -1;
static int apply_mode = 0;
static int is_root_user = 0;
static uint64_t max_entries, max_bytes; /* 0: unlimited */
static char *prefix = ""; /* cleaned --prefix: archive paths land under it, resolution stays rooted at the target */

static int open_in_root(const char *path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  if (!*path) path = ".";
  for (int tries = 0;; tries++) {
    long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0) return (int)fd;
    /* EAGAIN: a concurrent rename raced the lookup; the kernel asks us to retry */
    if ((errno == EAGAIN || errno == EINTR) && tries < 100) continue;
    return -1;
  }
}

/* Clean an archive path into root-relative components: "", "." dropped, ".." pops (clamped at the root). */
static char *clean_path(const char *in) {
  size_t n = strlen(in);
  char *out = xmalloc(n + 1);
  size_t o = 0;
  const char *s = in;
  while (*s) {
    while (*s == '/') s++;
    if (!*s) break;
    const char *e = s;
    while (*e && *e != '/') e++;
    size_t cl = (size_t)(e - s);
    if (cl == 1 && s[0] == '.') {
      /* skip */
    } else if (cl == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--;
    } else {
      if (o) out[o++] = '/';
      memcpy(out + o, s, cl);
      o += cl;
    }
    s = e;
  }
  out[o] = 0;
  return out;
}

/* clean an archive path and put it under the prefix */
static char *archive_path(const char *raw) {
  char *c = clean_path(raw);
  if (!*prefix) return c;
  size_t pl = strlen(prefix), cl = strlen(c);
  char *out = xmalloc(pl + cl + 2);
  memcpy(out, prefix, pl);
  if (cl) { out[pl] = '/'; memcpy(out + pl + 1, c, cl + 1); }
  else out[pl] = 0;
  free(c);
  return out;
}

/* split "a/b/c" into parent "a/b" (new string) and base pointer "c" */
static char *split_parent(const char *path, const char **base) {
  const char *sl = strrchr(path, '/');
  if (!sl) { *base = path; return xstrndup("", 0); }
  *base = sl + 1;
  return xstrndup(path, (size_t)(sl - path));
}

/* One cached parent directory fd: consecutive entries in one directory are the common case. */
static char *cache_path;
static int cache_fd = -1;

static void cache_drop(void) {
  if (cache_fd >= 0) close(cache_fd);
  cache_fd = -1;
  free(cache_path);
  cache_path = NULL;
}

/* Opens directory `path` inside the root, creating missing components (0755) on the way. */
static int mkdir_p(const char *path) {
  int prev = open_in_root("", O_RDONLY | O_DIRECTORY);
  if (prev < 0) die("open target: %s", strerror(errno));
  size_t n = strlen(path);
  char *pre = xmalloc(n + 1);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && path[j] != '/') j++;
    memcpy(pre, path, j);
    pre[j] = 0;
    int fd = open_in_root(pre, O_RDONLY | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      char *comp = xstrndup(path + i, j - i);
      if (mkdirat(prev, comp, 0755) < 0 && errno != EEXIST) die("mkdir %s: %s", pre, strerror(errno));
      free(comp);
      fd = open_in_root(pre, O_RDONLY | O_DIRECTORY);
    }
    if (fd < 0) die("cannot open directory %s: %s", pre, strerror(errno));
    close(prev);
    prev = fd;
    i = j + 1;
  }
  free(pre);
  return prev;
}

static int parent_fd(const char *parent) {
  if (cache_path && strcmp(cache_path, parent) == 0) return cache_fd;
  cache_drop();
  int fd = open_in_root(parent, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    if (errno == ENOENT) fd = mkdir_p(parent);
    else die("cannot open directory %s: %s", parent, strerror(errno));
  }
  cache_fd = fd;
  cache_path = xstrndup(parent, strlen(parent));
  return fd;
}

static void remove_tree_at(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    if (errno == ENOTDIR || errno == ELOOP) {
      if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) die("remove %s: %s", name, strerror(errno));
      return;
    }
    die("open %s for removal: %s", name, strerror(errno));
  }
  DIR *d = fdopendir(fd);
  if (!d) die("fdopendir: %s", strerror(errno));
  struct dirent *de;
  while ((errno = 0, de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    if (unlinkat(fd, de->d_name, 0) == 0) continue;
    if (errno == EISDIR || errno == EPERM) remove_tree_at(fd, de->d_name);
    else if (errno != ENOENT) die("remove %s: %s", de->d_name, strerror(errno));
  }
  closedir(d);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) die("remove %s: %s", name, strerror(errno));
}

/* Removes whatever is at parentfd/base (never following it). keep_dir: leave an existing directory.
 * Returns 1 when a directory was kept. */
static int remove_existing(int pfd, const char *base, int keep_dir) {
  struct stat st;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0;
    die("stat %s: %s", base, strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return 1;
    remove_tree_at(pfd, base);
  } else if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT) {
    die("remove %s: %s", base, strerror(errno));
  }
  return 0;
}

/* ---------------------------------------------------------------- apply-mode path set */
/* Paths written by this layer: an opaque whiteout must not delete its own layer's siblings. */

static char **set_tab;
static size_t set_cap, set_n;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ull; }
  return h;
}

static void set_add(const char *s);
static void set_grow(void) {
  char **old = set_tab;
  size_t oc = set_cap;
  set_cap = oc ? oc * 2 : 1024;
  set_tab = calloc(set_cap, sizeof *set_tab);
  if (!set_tab) die("out of memory");
  set_n = 0;
  for (size_t i = 0; i < oc; i++) if (old[i]) { set_add(old[i]); free(old[i]); }
  free(old);
}

static int set_has(const char *s) {
  if (!set_cap) return 0;
  for (size_t i = hash_str(s) & (set_cap - 1);; i = (i + 1) & (set_cap - 1)) {
    if (!set_tab[i]) return 0;
    if (!strcmp(set_tab[i], s)) return 1;
  }
}

static void set_add(const char *s) {
  if ((set_n + 1) * 2 > set_cap) set_grow();
  for (size_t i = hash_str(s) & (set_cap - 1);; i = (i + 1) & (set_cap - 1)) {
    if (!set_tab[i]) { set_tab[i] = xstrndup(s, strlen(s)); set_n++; return; }
    if (!strcmp(set_tab[i], s)) return;
  }
}

/* the entry and every directory above it (implicitly created parents belong to this layer too) */
static void set_add_with_parents(const char *path) {
  size_t n = strlen(path);
  char *p = xstrndup(path, n);
  for (size_t i = n; i > 0; i--) {
    if (i == n || p[i] == '/') {
      p[i] = 0;
      if (set_has(p)) break; /* its parents were added with it */
      set_add(p);
    }
  }
  free(p);
}

/* AUFS bookkeeping entries (.wh..wh.plnk, .wh..wh.aufs, ...) are not content: skip them and what is under them. */
static int is_aufs_meta(const char *path) {
  for (const char *c = path; c; c = strchr(c, '/')) {
    if (*c == '/') c++;
    if (!strncmp(c, ".wh..wh.", 8)) {
      const char *end = strchr(c, '/');
      size_t len = end ? (size_t)(end - c) : strlen(c);
      if (!(len == 12 && !strncmp(c, ".wh..wh..opq", 12) && !end)) return 1;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- metadata */

struct entry {
  char type;
  char *path;   /* cleaned, root relative; "" is the root */
  char *link;   /* raw link target */
  uint64_t size, uid, gid, mode;
  unsigned devmaj, devmin;
  struct timespec ts[2]; /* atime, mtime */
  struct xattr *xa;
  size_t nxa;
};

static void do_chown_fd(int fd, const struct entry *e) {
  if (fchown(fd, (uid_t)e->uid, (gid_t)e->gid) < 0 && (is_root_user || errno != EPERM))
    die("chown %s: %s", e->path, strerror(errno));
}

static void do_chown_at(int pfd, const char *base, const struct entry *e) {
  if (fchownat(pfd, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW) < 0 &&
      (is_root_user || errno != EPERM))
    die("chown %s: %s", e->path, strerror(errno));
}

static int skip_xattr(const char *name) {
  /* overlay's own attributes are ours to set (opaque/redirect from an image would alter merging) */
  return strncmp(name, "trusted.overlay.", 16) == 0;
}

static int xattr_err_ignorable(int err) { return err == ENOTSUP || (!is_root_user && err == EPERM); }

static void set_xattrs_fd(int fd, const struct entry *e) {
  for (size_t i = 0; i < e->nxa; i++) {
    if (skip_xattr(e->xa[i].name)) continue;
    if (fsetxattr(fd, e->xa[i].name, e->xa[i].val, e->xa[i].len, 0) < 0 && !xattr_err_ignorable(errno))
      die("setxattr %s on %s: %s", e->xa[i].name, e->path, strerror(errno));
  }
}

/* For symlinks and device nodes (no usable fd): the pinned parent fd through /proc, last component not followed. */
static void set_xattrs_at(int pfd, const char *base, const struct entry *e) {
  if (!e->nxa) return;
  char p[64 + MAX_PATH_LEN];
  snprintf(p, sizeof p, "/proc/self/fd/%d/%s", pfd, base);
  for (size_t i = 0; i < e->nxa; i++) {
    if (skip_xattr(e->xa[i].name)) continue;
    if (lsetxattr(p, e->xa[i].name, e->xa[i].val, e->xa[i].len, 0) < 0 && !xattr_err_ignorable(errno) &&
        errno != EPERM /* user.* on symlinks/devices */)
      die("setxattr %s on %s: %s", e->xa[i].name, e->path, strerror(errno));
  }
}

/* ---------------------------------------------------------------- deferred directory times */

struct dtime { char *path; struct timespec ts[2]; };
static struct dtime *dtimes;
static size_t ndtimes, capdtimes;

static void defer_dir_time(const struct entry *e) {
  if (ndtimes == capdtimes) {
    capdtimes = capdtimes ? capdtimes * 2 : 256;
    dtimes = xrealloc(dtimes, capdtimes * sizeof *dtimes);
  }
  dtimes[ndtimes].path = xstrndup(e->path, strlen(e->path));
  dtimes[ndtimes].ts[0] = e->ts[0];
  dtimes[ndtimes].ts[1] = e->ts[1];
  ndtimes++;
}

static void apply_dir_times(void) {
  cache_drop();
  for (size_t i = ndtimes; i-- > 0;) {
    struct dtime *d = &dtimes[i];
    if (!*d->path) {
      if (futimens(rootfd, d->ts) < 0) die("utimes /: %s", strerror(errno));
    } else {
      const char *base;
      char *parent = split_parent(d->path, &base);
      int pfd = open_in_root(parent, O_PATH | O_DIRECTORY);
      /* the directory may have been replaced or whited out later in the stream */
      if (pfd >= 0) {
        if (utimensat(pfd, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
          die("utimes %s: %s", d->path, strerror(errno));
        close(pfd);
      }
      free(parent);
    }
    free(d->path);
  }
  ndtimes = 0;
}

/* ---------------------------------------------------------------- entry handlers */

static uint64_t n_entries, n_files, n_dirs, n_links, n_symlinks, n_devices, n_whiteouts, file_bytes;

static void extract_file(int pfd, const char *base, const struct entry *e) {
  if (max_bytes && (e->size > max_bytes || file_bytes + e->size > max_bytes))
    die("layer exceeds the size limit of %" PRIu64 " bytes", max_bytes);
  /* Created with its final permission bits (umask is 0) so the usual case needs no chmod; the
   * special bits come only after the chown, which would clear them. */
  mode_t perm = (mode_t)(e->mode & 0777);
  int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
  if (fd < 0 && errno == EEXIST) {
    remove_existing(pfd, base, 0);
    fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
  }
  if (fd < 0) die("create %s: %s", e->path, strerror(errno));
  copy_to_fd(fd, e->size, e->path);
  /* one fstat saves the chown and chmod when owner and mode came out right (a setgid parent or a
   * default ACL can make them differ: then they are set as before) */
  struct stat st;
  int have_st = fstat(fd, &st) == 0;
  if (!have_st || st.st_uid != (uid_t)e->uid || st.st_gid != (gid_t)e->gid) do_chown_fd(fd, e);
  /* after chown: chown clears setuid/setgid */
  if ((!have_st || (st.st_mode & 07777) != (e->mode & 07777) || (e->mode & 07000)) &&
      fchmod(fd, (mode_t)(e->mode & 07777)) < 0)
    die("chmod %s: %s", e->path, strerror(errno));
  set_xattrs_fd(fd, e);
  if (futimens(fd, e->ts) < 0) die("utimes %s: %s", e->path, strerror(errno));
  if (close(fd) < 0) die("close %s: %s", e->path, strerror(errno));
  n_files++;
  file_bytes += e->size;
}

static void extract_dir(int pfd, const char *base, const struct entry *e) {
  int fd;
  if (!*e->path) {
    fd = open_in_root("", O_RDONLY | O_DIRECTORY);
  } else {
    if (mkdirat(pfd, base, 0700) < 0) {
      if (errno != EEXIST) die("mkdir %s: %s", e->path, strerror(errno));
      if (!remove_existing(pfd, base, 1)) {
        if (mkdirat(pfd, base, 0700) < 0) die("mkdir %s: %s", e->path, strerror(errno));
      }
    }
    fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) die("open %s: %s", e->path, strerror(errno));
  do_chown_fd(fd, e);
  if (fchmod(fd, (mode_t)(e->mode & 07777)) < 0) die("chmod %s: %s", e->path, strerror(errno));
  set_xattrs_fd(fd, e);
  close(fd);
  defer_dir_time(e);
  n_dirs++;
}

static void extract_symlink(int pfd, const char *base, const struct entry *e) {
  if (!*e->link) die("empty symlink target for %s", e->path);
  if (symlinkat(e->link, pfd, base) < 0) {
    if (errno != EEXIST) die("symlink %s: %s", e->path, strerror(errno));
    remove_existing(pfd, base, 0);
    if (symlinkat(e->link, pfd, base) < 0) die("symlink %s: %s", e->path, strerror(errno));
  }
  do_chown_at(pfd, base, e);
  set_xattrs_at(pfd, base, e);
  if (utimensat(pfd, base, e->ts, AT_SYMLINK_NOFOLLOW) < 0) die("utimes %s: %s", e->path, strerror(errno));
  n_symlinks++;
}

/* Hard link: the target is resolved inside the root (never cwd or the entry's dir) and must exist.
 * No metadata is applied: it belongs to the target (CVE-2021-32760 chmod-through-link). */
static void extract_hardlink(int pfd, const char *base, const struct entry *e) {
  char *target = archive_path(e->link);
  if (!*target) die("invalid hardlink target %s for %s", e->link, e->path);
  const char *tbase;
  char *tparent = split_parent(target, &tbase);
  int tfd = open_in_root(tparent, O_PATH | O_DIRECTORY);
  if (tfd < 0) die("invalid hardlink target %s for %s: %s", e->link, e->path, strerror(errno));
  if (linkat(tfd, tbase, pfd, base, 0) < 0) {
    if (errno != EEXIST) die("invalid hardlink target %s for %s: %s", e->link, e->path, strerror(errno));
    struct stat a, b;
    if (fstatat(tfd, tbase, &a, AT_SYMLINK_NOFOLLOW) < 0) die("invalid hardlink target %s: %s", e->link, strerror(errno));
    if (fstatat(pfd, base, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      /* already the same file (e.g. a link to itself) */
    } else {
      remove_existing(pfd, base, 0);
      if (linkat(tfd, tbase, pfd, base, 0) < 0)
        die("invalid hardlink target %s for %s: %s", e->link, e->path, strerror(errno));
    }
  }
  close(tfd);
  free(tparent);
  free(target);
  n_links++;
}

static void extract_node(int pfd, const char *base, const struct entry *e) {
  mode_t fmt = e->type == '3' ? S_IFCHR : e->type == '4' ? S_IFBLK : S_IFIFO;
  dev_t dev = fmt == S_IFIFO ? 0 : makedev(e->devmaj, e->devmin);
  mode_t perm = (mode_t)(e->mode & 0777);
  if (mknodat(pfd, base, fmt | perm, dev) < 0) {
    if (errno != EEXIST) die("mknod %s: %s", e->path, strerror(errno));
    remove_existing(pfd, base, 0);
    if (mknodat(pfd, base, fmt | perm, dev) < 0) die("mknod %s: %s", e->path, strerror(errno));
  }
  do_chown_at(pfd, base, e);
  if (e->mode & 07000) {
    /* special bits: chmod through an O_PATH fd of the node we just made (never a path string) */
    int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) die("open %s: %s", e->path, strerror(errno));
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    if (chmod(p, (mode_t)(e->mode & 07777)) < 0) die("chmod %s: %s", e->path, strerror(errno));
    close(fd);
  }
  set_xattrs_at(pfd, base, e);
  if (utimensat(pfd, base, e->ts, AT_SYMLINK_NOFOLLOW) < 0) die("utimes %s: %s", e->path, strerror(errno));
  n_devices++;
}

static void clear_dir(int pfd, const char *dirpath) {
  int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", dirpath, strerror(errno));
  DIR *d = fdopendir(fd);
  if (!d) die("fdopendir: %s", strerror(errno));
  size_t dl = strlen(dirpath);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    size_t nl = strlen(de->d_name);
    char *child = xmalloc(dl + nl + 2);
    if (dl) { memcpy(child, dirpath, dl); child[dl] = '/'; memcpy(child + dl + 1, de->d_name, nl + 1); }
    else memcpy(child, de->d_name, nl + 1);
    if (!set_has(child)) remove_existing(pfd, de->d_name, 0);
    free(child);
  }
  closedir(d);
}

static void whiteout(int pfd, const char *parent, const char *base, const struct entry *e) {
  const char *name = base + 4;
  n_whiteouts++;
  if (!strcmp(name, ".wh..opq")) {
    if (apply_mode) clear_dir(pfd, parent);
    else if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
      die("set opaque xattr on %s: %s", *parent ? parent : "/", strerror(errno));
    return;
  }
  if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
    die("invalid whiteout %s", e->path);
  remove_existing(pfd, name, 0);
  if (!apply_mode && mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
    die("create whiteout for %s: %s", e->path, strerror(errno));
}

/* ---------------------------------------------------------------- main loop */

static int all_zero(const unsigned char *b) {
  for (int i = 0; i < 512; i++) if (b[i]) return 0;
  return 1;
}

static char *read_meta_blob(uint64_t size, uint64_t max, const char *what) {
  if (size > max) die("%s of %" PRIu64 " bytes exceeds the %" PRIu64 "-byte limit", what, size, max);
  char *b = xmalloc((size_t)size + 1);
  read_exact(b, (size_t)size);
  b[size] = 0;
  skip_bytes((512 - size % 512) % 512);
  return b;
}

static void usage(void) {
  fprintf(stderr, "usage: %s [--apply] [--sync] [--gzip] [--digest] [--max-entries N] [--max-bytes N] [--prefix DIR] <target-dir>\n"
          "       %s --topdir <dir>\n       %s --features\n", prog, prog, prog);
  exit(2);
}

/* --topdir: set FS_TOPDIR_FL on a directory; filesystems without it (or without flags) are fine */
static int mark_topdir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die("open %s: %s", dir, strerror(errno));
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && !(flags & FS_TOPDIR_FL)) {
    flags |= FS_TOPDIR_FL;
    (void)ioctl(fd, FS_IOC_SETFLAGS, &flags);
  }
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  int do_sync = 0;
  const char *target = NULL;
  if (argc == 3 && !strcmp(argv[1], "--topdir")) return mark_topdir(argv[2]);
  if (argc == 2 && !strcmp(argv[1], "--features")) {
#ifdef BERTH_ZLIB
    puts("gzip digest");
#else
    puts("");
#endif
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--apply")) apply_mode = 1;
    else if (!strcmp(argv[i], "--sync")) do_sync = 1;
#ifdef BERTH_ZLIB
    else if (!strcmp(argv[i], "--gzip")) gz_mode = 1;
    else if (!strcmp(argv[i], "--digest")) digest_mode = 1;
#endif
    else if (!strcmp(argv[i], "--prefix") && i + 1 < argc) prefix = clean_path(argv[++i]);
    else if (!strcmp(argv[i], "--max-entries") && i + 1 < argc) max_entries = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--max-bytes") && i + 1 < argc) max_bytes = strtoull(argv[++i], NULL, 10);
    else if (argv[i][0] == '-' || target) usage();
    else target = argv[i];
  }
  if (!target) usage();
  umask(0);
  is_root_user = geteuid() == 0;
  /* deep trees being replaced hold one fd per level */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  rootfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die("open %s: %s", target, strerror(errno));
  ibuf = xmalloc(BUFSZ);
#ifdef BERTH_ZLIB
  if (gz_mode) {
    zbuf = xmalloc(BUFSZ);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) die("gzip: init failed");
  }
  if (digest_mode) {
    SHA256_Init(&md);
  }
#endif
  /* a bigger pipe means fewer wakeups between the feeding process and us (no-op on a file) */
  (void)fcntl(0, F_SETPIPE_SZ, (int)BUFSZ);

  struct pax pax;
  memset(&pax, 0, sizeof pax);
  char *longname = NULL, *longlink = NULL;
  unsigned char hb[512];

  for (;;) {
    size_t got = read_upto(hb, 512);
    if (got == 0) break; /* EOF without end-of-archive blocks: accepted */
    if (got != 512) die("unexpected end of archive");
    if (all_zero(hb)) { drain(); break; }
    if (!header_ok(hb)) die("invalid tar header (checksum mismatch) at offset %" PRIu64, total_in - (ilen - ipos) - 512);
    const struct ustar *h = (const struct ustar *)hb;
    char type = h->typeflag;
    uint64_t hsize = parse_num(h->size, sizeof h->size, "size");

    switch (type) {
      case 'x': case 'g': {
        char *b = read_meta_blob(hsize, MAX_PAX, "PAX header");
        parse_pax(b, (size_t)hsize, &pax, type == 'g');
        free(b);
        continue;
      }
      case 'L': case 'K': {
        char *b = read_meta_blob(hsize, MAX_PATH_LEN + 1, type == 'L' ? "GNU long name" : "GNU long link");
        char **dst = type == 'L' ? &longname : &longlink;
        free(*dst);
        *dst = b; /* NUL-terminated at the first NUL */
        continue;
      }
      case 'S': die("GNU sparse files are not supported");
      case 'M': case 'N': die("multi-volume archives are not supported");
      case 'V': skip_bytes(hsize + (512 - hsize % 512) % 512); continue;
      default: break;
    }

    struct entry e;
    memset(&e, 0, sizeof e);
    char *raw;
    if (pax.path) raw = xstrndup(pax.path, strlen(pax.path));
    else if (longname) raw = xstrndup(longname, strlen(longname));
    else {
      size_t nl = fieldlen(h->name, sizeof h->name);
      size_t pl = memcmp(h->magic, "ustar\0", 6) == 0 ? fieldlen(h->prefix, sizeof h->prefix) : 0;
      raw = xmalloc(pl + nl + 2);
      size_t o = 0;
      if (pl) { memcpy(raw, h->prefix, pl); raw[pl] = '/'; o = pl + 1; }
      memcpy(raw + o, h->name, nl);
      raw[o + nl] = 0;
    }
    if (strlen(raw) > MAX_PATH_LEN) die("entry path longer than %u bytes", MAX_PATH_LEN);
    if (pax.linkpath) e.link = xstrndup(pax.linkpath, strlen(pax.linkpath));
    else if (longlink) e.link = xstrndup(longlink, strlen(longlink));
    else e.link = xstrndup(h->linkname, fieldlen(h->linkname, sizeof h->linkname));
    if (strlen(e.link) > MAX_PATH_LEN) die("link target longer than %u bytes", MAX_PATH_LEN);

    e.type = type;
    size_t rl_ = strlen(raw);
    if ((type == '0' || type == 0 || type == '7') && rl_ && raw[rl_ - 1] == '/') e.type = '5'; /* old-style dir */
    if (type == 0 || type == '7') e.type = '0';
    e.path = archive_path(raw);
    free(raw);
    e.mode = parse_num(h->mode, sizeof h->mode, "mode");
    e.uid = pax.has_uid ? pax.uid : parse_num(h->uid, sizeof h->uid, "uid");
    e.gid = pax.has_gid ? pax.gid : parse_num(h->gid, sizeof h->gid, "gid");
    if (e.uid > UINT32_MAX - 1 || e.gid > UINT32_MAX - 1) die("uid/gid out of range for %s", e.path);
    e.size = pax.has_size ? pax.size : hsize;
    if (type == '3' || type == '4') { /* other writers leave junk in these fields */
      uint64_t ma = parse_num(h->devmajor, sizeof h->devmajor, "devmajor");
      uint64_t mi = parse_num(h->devminor, sizeof h->devminor, "devminor");
      if (ma > 0xfffff || mi > 0xfffff) die("device number out of range for %s", e.path);
      e.devmaj = (unsigned)ma;
      e.devmin = (unsigned)mi;
    }
    if (pax.has_mtime) e.ts[1] = pax.mtime;
    else e.ts[1].tv_sec = (time_t)parse_num(h->mtime, sizeof h->mtime, "mtime");
    e.ts[0] = pax.has_atime ? pax.atime : e.ts[1];
    e.xa = pax.xa;
    e.nxa = pax.nxa;

    /* only regular files carry data (as Go's archive/tar: header-only types ignore size) */
    uint64_t data = e.type == '0' ? e.size : 0;
    if (e.type != '0' && e.type != '1' && e.type != '2' && e.type != '3' && e.type != '4' && e.type != '5' &&
        e.type != '6')
      die("unsupported tar entry type '%c' for %s", type, e.path);

    n_entries++;
    if (max_entries && n_entries > max_entries) die("layer has more than %" PRIu64 " entries", max_entries);
    const char *base;
    char *parent = split_parent(e.path, &base);
    if (!*e.path && e.type != '5') die("invalid entry path for a non-directory");

    if (is_aufs_meta(e.path)) {
      skip_bytes(data);
    } else if (!*e.path) {
      extract_dir(-1, "", &e);
    } else {
      int pfd = parent_fd(parent);
      if (strncmp(base, ".wh.", 4) == 0) {
        whiteout(pfd, parent, base, &e);
        skip_bytes(data);
      } else {
        switch (e.type) {
          case '0': extract_file(pfd, base, &e); break;
          case '1': extract_hardlink(pfd, base, &e); break;
          case '2': extract_symlink(pfd, base, &e); break;
          case '3': case '4': case '6': extract_node(pfd, base, &e); break;
          case '5': extract_dir(pfd, base, &e); break;
        }
        if (apply_mode) set_add_with_parents(e.path);
      }
    }
    skip_bytes((512 - data % 512) % 512);
    free(parent);
    free(e.path);
    free(e.link);
    /* xattrs belong to pax; freed with it */
    pax_clear(&pax);
    free(longname);
    free(longlink);
    longname = longlink = NULL;
  }
  apply_dir_times();
  /* how long the writeback took, reported so the daemon can log it (--log-level debug) */
  uint64_t sync_ms = 0;
  if (do_sync) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (syncfs(rootfd) < 0) die("syncfs: %s", strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* signed: tv_nsec of the end may be below that of the start */
    int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (int64_t)(t1.tv_nsec - t0.tv_nsec);
    sync_ms = ns > 0 ? (uint64_t)ns / 1000000 : 0;
  }
  char diff[128] = "";
#ifdef BERTH_ZLIB
  if (digest_mode) {
    unsigned char h[32];
    SHA256_Final(h, &md);
    char *o = diff + sprintf(diff, ",\"diffId\":\"sha256:");
    for (int k = 0; k < 32; k++) o += sprintf(o, "%02x", h[k]);
    strcpy(o, "\"");
  }
#endif
  printf("{\"entries\":%" PRIu64 ",\"files\":%" PRIu64 ",\"dirs\":%" PRIu64 ",\"hardlinks\":%" PRIu64
         ",\"symlinks\":%" PRIu64 ",\"devices\":%" PRIu64 ",\"whiteouts\":%" PRIu64 ",\"fileBytes\":%" PRIu64
         ",\"bytes\":%" PRIu64 ",\"rawBytes\":%" PRIu64 ",\"syncMs\":%" PRIu64 "%s}\n",
         n_entries, n_files, n_dirs, n_links, n_symlinks, n_devices, n_whiteouts, file_bytes, total_in, raw_in, sync_ms, diff);
  return 0;
}
