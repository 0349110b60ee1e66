/* LD_PRELOAD shim for the integration tests: makes every fsync and fdatasync slow, or some of
 * the store's fail.
 *
 * Each call sleeps ACTORMQ_SLOW_SYNC_MS milliseconds (read from the environment at every call;
 * unset, empty, or 0 means no delay) and then calls the real function (dlsym RTLD_NEXT). A node
 * started with this library in LD_PRELOAD commits its LMDB transactions slowly, so a test can kill
 * it while a group commit is inside its sync (test_master_slave.py).
 *
 * With ACTORMQ_FAIL_SYNC_AFTER=N, the flushes of a file named data.mdb (or the name in
 * ACTORMQ_FAIL_SYNC_FILE, e.g. journal) after the N-th fail with EIO without flushing anything,
 * ACTORMQ_FAIL_SYNC_COUNT of them (default 1): a disk whose writeback failed
 * (test_disk_faults.py).
 *
 * Built by shim.cmake as the shared library actormq_slow_sync. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static void slow_down(void) {
  const char* text = getenv("ACTORMQ_SLOW_SYNC_MS");
  if (text == NULL || *text == '\0')
    return;
  long ms = strtol(text, NULL, 10);
  if (ms <= 0)
    return;
  struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
  int saved = errno;
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  errno = saved;
}

static sync_fn next_fn(const char* name) {
  sync_fn fn = NULL;
  void* symbol = dlsym(RTLD_NEXT, name);
  /* POSIX's way from an object pointer to a function pointer (ISO C has none). */
  memcpy(&fn, &symbol, sizeof fn);
  if (fn == NULL)
    errno = ENOSYS;
  return fn;
}

static long env_long(const char* name, long fallback) {
  const char* text = getenv(name);
  if (text == NULL || *text == '\0')
    return fallback;
  return strtol(text, NULL, 10);
}

static int is_failing_file(int fd) {
  const char* name = getenv("ACTORMQ_FAIL_SYNC_FILE");
  if (name == NULL || *name == '\0')
    name = "data.mdb";
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  size_t len = strlen(name);
  if (n <= (ssize_t)len)
    return 0;
  target[n] = '\0';
  return target[n - (ssize_t)len - 1] == '/' && strcmp(target + n - len, name) == 0;
}

/* True if this flush is one that must fail (ACTORMQ_FAIL_SYNC_AFTER). */
static int must_fail(int fd) {
  static atomic_long flushes;
  long after = env_long("ACTORMQ_FAIL_SYNC_AFTER", -1);
  if (after < 0 || !is_failing_file(fd))
    return 0;
  long n = atomic_fetch_add(&flushes, 1) + 1;
  return n > after && n <= after + env_long("ACTORMQ_FAIL_SYNC_COUNT", 1);
}

static int sync_with(const char* name, sync_fn* real, int fd) {
  if (*real == NULL)
    *real = next_fn(name);
  slow_down();
  if (must_fail(fd)) {
    errno = EIO;
    return -1;
  }
  return *real != NULL ? (*real)(fd) : -1;
}

int fdatasync(int fd) {
  static sync_fn real = NULL;
  return sync_with("fdatasync", &real, fd);
}

int fsync(int fd) {
  static sync_fn real = NULL;
  return sync_with("fsync", &real, fd);
}
