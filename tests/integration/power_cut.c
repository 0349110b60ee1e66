/* LD_PRELOAD shim for the integration tests: a power cut at a chosen flush of the store's files.
 *
 * It follows every write to the files named data.mdb (LMDB's data file) and journal (the store's
 * write-ahead journal) and keeps what each unflushed write replaced.
 * A write through a descriptor opened with O_DSYNC or O_SYNC is durable when it returns; any other
 * write is durable once an fsync or fdatasync of the file returns. At the ACTORMQ_POWER_CUT_AT-th
 * flush of either file (counted from 1) the shim waits ACTORMQ_POWER_CUT_DELAY_MS milliseconds
 * (default 300: whatever the process released too early leaves meanwhile), then writes what a
 * power cut would leave on disk at that instant, each file with every unflushed write undone, to
 * ACTORMQ_POWER_CUT_IMAGE (data.mdb) and ACTORMQ_POWER_CUT_JOURNAL_IMAGE (the journal, if the
 * process wrote one), and ends the process with _exit(86) without running the flush.
 * ACTORMQ_POWER_CUT_ONLY=data.mdb (or journal) counts the flushes of that file only.
 * Unset or 0: it only follows writes and counts flushes.
 *
 * LMDB writes its pages with pwrite, or lseek and writev, and its meta page with pwrite; it
 * flushes with fdatasync (fsync on some kernels). A test replaces the store's data.mdb with the
 * image, restarts the node, and checks that every message whose receipt a client saw is there
 * (test_power_cut.py).
 *
 * Built by shim.cmake as the shared library actormq_power_cut. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 4096
#define CUT_EXIT_CODE 86

struct undo {
  off_t offset;
  size_t size;
  char* old_bytes; /* what the write replaced; zeros past the old end of the file */
  struct undo* next;
};

/* Recursive: the cut itself writes and flushes (the image) through these same functions. */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
/* A followed file. */
struct tracked {
  const char* suffix;    /* the end of its path */
  const char* image_env; /* where the cut writes its image */
  char path[4096];
  int reader_fd;         /* our own descriptor onto it, to read old bytes; -1 until seen */
  struct undo* undo_log; /* newest first */
};
static struct tracked files[2] = {{"/data.mdb", "ACTORMQ_POWER_CUT_IMAGE", "", -1, NULL},
                                  {"/journal", "ACTORMQ_POWER_CUT_JOURNAL_IMAGE", "", -1, NULL}};
/* Per descriptor: 0 unknown, -1 other, else 1 + the index in files (+ 10 when opened with
 * O_DSYNC or O_SYNC: durable when written). */
static signed char fd_kind[MAX_FDS];
static long flushes;

static void* next_symbol(const char* name) {
  return dlsym(RTLD_NEXT, name);
}

static long env_long(const char* name, long fallback) {
  const char* text = getenv(name);
  if (text == NULL || *text == '\0')
    return fallback;
  return strtol(text, NULL, 10);
}

/* Which kind of file `fd` is; remembered until close. Called with the lock held. */
static int kind_of(int fd) {
  if (fd < 0 || fd >= MAX_FDS)
    return -1;
  if (fd_kind[fd] != 0)
    return fd_kind[fd];
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  int kind = -1;
  if (n > 0) {
    target[n] = '\0';
    size_t len = (size_t)n;
    for (int i = 0; i < 2; ++i) {
      struct tracked* t = &files[i];
      size_t suffix = strlen(t->suffix);
      if (len < suffix || strcmp(target + len - suffix, t->suffix) != 0)
        continue;
      int flags = fcntl(fd, F_GETFL);
      kind = 1 + i + ((flags >= 0 && (flags & (O_DSYNC | O_SYNC)) != 0) ? 10 : 0);
      if (t->reader_fd < 0) {
        memcpy(t->path, target, len + 1);
        t->reader_fd = open(t->path, O_RDONLY | O_CLOEXEC);
      }
    }
  }
  fd_kind[fd] = (signed char)kind;
  return kind;
}

/* The followed file whose unflushed writes `fd` makes, or NULL. Lock held. */
static struct tracked* unflushed_file(int fd) {
  int kind = kind_of(fd);
  return kind >= 1 && kind <= 2 ? &files[kind - 1] : NULL;
}

/* The followed file `fd` is open on (synced writes or not), or NULL. Lock held. */
static struct tracked* followed_file(int fd) {
  int kind = kind_of(fd);
  if (kind > 10)
    kind -= 10;
  return kind >= 1 && kind <= 2 ? &files[kind - 1] : NULL;
}

/* Before an unflushed write of `size` bytes at `offset` of `t`: keep what it replaces. */
static void remember(struct tracked* t, off_t offset, size_t size) {
  struct undo* u = calloc(1, sizeof *u);
  char* bytes = calloc(size > 0 ? size : 1, 1);
  if (u == NULL || bytes == NULL) {
    fprintf(stderr, "power_cut: out of memory\n");
    _exit(87);
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(t->reader_fd, bytes + done, size - done, offset + (off_t)done);
    if (n <= 0)
      break; /* past the end of the file: stays zero */
    done += (size_t)n;
  }
  u->offset = offset;
  u->size = size;
  u->old_bytes = bytes;
  u->next = t->undo_log;
  t->undo_log = u;
}

static void forget_all(struct tracked* t) {
  while (t->undo_log != NULL) {
    struct undo* next = t->undo_log->next;
    free(t->undo_log->old_bytes);
    free(t->undo_log);
    t->undo_log = next;
  }
}

/* Writes the image of `t` as a power cut now would leave it. Lock held. */
static void write_image(struct tracked* t) {
  const char* image = getenv(t->image_env);
  int out = image != NULL ? open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
  if (out < 0) {
    fprintf(stderr, "power_cut: cannot write the image %s\n", image ? image : "(unset)");
    _exit(88);
  }
  static char buffer[1 << 16];
  off_t at = 0;
  for (;;) {
    ssize_t n = pread(t->reader_fd, buffer, sizeof buffer, at);
    if (n <= 0)
      break;
    if (pwrite(out, buffer, (size_t)n, at) != n)
      _exit(88);
    at += n;
  }
  /* Newest first: the oldest write's old bytes are what the disk holds. */
  for (struct undo* u = t->undo_log; u != NULL; u = u->next)
    if (pwrite(out, u->old_bytes, u->size, u->offset) != (ssize_t)u->size)
      _exit(88);
  fsync(out);
  close(out);
}

/* Writes every followed file as a power cut now would leave it, then ends the process. */
static void cut(struct tracked* flushed) {
  if (files[0].reader_fd < 0) {
    fprintf(stderr, "power_cut: data.mdb was never written\n");
    _exit(88);
  }
  for (int i = 0; i < 2; ++i)
    if (files[i].reader_fd >= 0)
      write_image(&files[i]);
  fprintf(stderr, "power_cut: cut at flush %ld, of %s\n", flushes, flushed->path);
  _exit(CUT_EXIT_CODE);
}

static void before_write(int fd, off_t offset, size_t size) {
  pthread_mutex_lock(&lock);
  struct tracked* t = unflushed_file(fd);
  if (t != NULL)
    remember(t, offset, size);
  pthread_mutex_unlock(&lock);
}

/* A flush of `fd` is about to run: the cut, if this is its flush. Returns the file flushed. */
static struct tracked* before_flush(int fd) {
  pthread_mutex_lock(&lock);
  struct tracked* ours = followed_file(fd);
  const char* only = getenv("ACTORMQ_POWER_CUT_ONLY");
  int counted = ours != NULL && (only == NULL || strcmp(ours->suffix + 1, only) == 0);
  int cut_now = counted && ++flushes == env_long("ACTORMQ_POWER_CUT_AT", 0);
  pthread_mutex_unlock(&lock);
  if (cut_now) {
    /* Without the lock: the other threads go on (and send what they were allowed to send);
     * only this one writes the data file, and it waits here. */
    long ms = env_long("ACTORMQ_POWER_CUT_DELAY_MS", 300);
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
    pthread_mutex_lock(&lock);
    cut(ours);
  }
  return ours;
}

static void after_flush(struct tracked* ours, int rc) {
  if (ours == NULL || rc != 0)
    return;
  pthread_mutex_lock(&lock);
  forget_all(ours);
  pthread_mutex_unlock(&lock);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off_t) = NULL;
  if (real == NULL)
    *(void**)&real = next_symbol("pwrite");
  before_write(fd, offset, count);
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  return pwrite(fd, buf, count, offset);
}

ssize_t write(int fd, const void* buf, size_t count) {
  static ssize_t (*real)(int, const void*, size_t) = NULL;
  if (real == NULL)
    *(void**)&real = next_symbol("write");
  pthread_mutex_lock(&lock);
  int ours = unflushed_file(fd) != NULL;
  pthread_mutex_unlock(&lock);
  if (ours)
    before_write(fd, lseek(fd, 0, SEEK_CUR), count);
  return real(fd, buf, count);
}

static size_t iov_bytes(const struct iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i)
    total += iov[i].iov_len;
  return total;
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  static ssize_t (*real)(int, const struct iovec*, int) = NULL;
  if (real == NULL)
    *(void**)&real = next_symbol("writev");
  pthread_mutex_lock(&lock);
  int ours = unflushed_file(fd) != NULL;
  pthread_mutex_unlock(&lock);
  if (ours)
    before_write(fd, lseek(fd, 0, SEEK_CUR), iov_bytes(iov, count));
  return real(fd, iov, count);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  static ssize_t (*real)(int, const struct iovec*, int, off_t) = NULL;
  if (real == NULL)
    *(void**)&real = next_symbol("pwritev");
  before_write(fd, offset, iov_bytes(iov, count));
  return real(fd, iov, count, offset);
}

typedef int (*flush_fn)(int);

static int flush_with(const char* name, flush_fn* real, int fd) {
  if (*real == NULL)
    *(void**)real = next_symbol(name);
  struct tracked* ours = before_flush(fd);
  int rc = (*real)(fd);
  after_flush(ours, rc);
  return rc;
}

int fdatasync(int fd) {
  static flush_fn real = NULL;
  return flush_with("fdatasync", &real, fd);
}

int fsync(int fd) {
  static flush_fn real = NULL;
  return flush_with("fsync", &real, fd);
}

int close(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL)
    *(void**)&real = next_symbol("close");
  pthread_mutex_lock(&lock);
  if (fd >= 0 && fd < MAX_FDS)
    fd_kind[fd] = 0;
  pthread_mutex_unlock(&lock);
  return real(fd);
}
