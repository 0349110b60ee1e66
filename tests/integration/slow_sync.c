/* LD_PRELOAD shim for the integration tests: makes every fsync and fdatasync slow.
 *
 * Each call sleeps ACTORMQ_SLOW_SYNC_MS milliseconds (read from the environment at every call;
 * unset, empty, or 0 means no delay) and then calls the real function (dlsym RTLD_NEXT). A node
 * started with this library in LD_PRELOAD commits its LMDB transactions slowly, so a test can kill
 * it while a group commit is inside its sync (test_master_slave.py).
 *
 * Built by shim.cmake as the shared library actormq_slow_sync. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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

int fdatasync(int fd) {
  static sync_fn real = NULL;
  if (real == NULL)
    real = next_fn("fdatasync");
  slow_down();
  return real != NULL ? real(fd) : -1;
}

int fsync(int fd) {
  static sync_fn real = NULL;
  if (real == NULL)
    real = next_fn("fsync");
  slow_down();
  return real != NULL ? real(fd) : -1;
}
