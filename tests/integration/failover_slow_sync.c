/* LD_PRELOAD shim for test_failover.py: widens the window between a commit and its receipt.
 *
 * ACTORMQ_SLOW_SYNC_MS: every fsync and fdatasync sleeps that many milliseconds first (as
 * slow_sync.c does). ACTORMQ_SLOW_SEND_MS: every write to a socket (send, sendmsg, write, writev
 * on a descriptor that is a socket) sleeps that many milliseconds first, so the receipts of
 * messages already committed leave the node late: a SIGKILL then most likely lands after a commit
 * and before its receipts, and the producer's resends are recognised as duplicates. Unset, empty
 * or 0: no delay. Build: cc -shared -fPIC -O2 -o libfailover_slow_sync.so failover_slow_sync.c
 * -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(const char* variable) {
  const char* text = getenv(variable);
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

static int is_socket(int fd) {
  struct stat st;
  int saved = errno;
  int yes = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  errno = saved;
  return yes;
}

static void* next(const char* name) {
  return dlsym(RTLD_NEXT, name);
}

int fdatasync(int fd) {
  int (*real)(int) = NULL;
  void* symbol = next("fdatasync");
  memcpy(&real, &symbol, sizeof real);
  pause_ms("ACTORMQ_SLOW_SYNC_MS");
  return real != NULL ? real(fd) : -1;
}

int fsync(int fd) {
  int (*real)(int) = NULL;
  void* symbol = next("fsync");
  memcpy(&real, &symbol, sizeof real);
  pause_ms("ACTORMQ_SLOW_SYNC_MS");
  return real != NULL ? real(fd) : -1;
}

ssize_t send(int fd, const void* buf, size_t len, int flags) {
  ssize_t (*real)(int, const void*, size_t, int) = NULL;
  void* symbol = next("send");
  memcpy(&real, &symbol, sizeof real);
  pause_ms("ACTORMQ_SLOW_SEND_MS");
  return real != NULL ? real(fd, buf, len, flags) : -1;
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  ssize_t (*real)(int, const struct msghdr*, int) = NULL;
  void* symbol = next("sendmsg");
  memcpy(&real, &symbol, sizeof real);
  pause_ms("ACTORMQ_SLOW_SEND_MS");
  return real != NULL ? real(fd, msg, flags) : -1;
}

ssize_t write(int fd, const void* buf, size_t len) {
  ssize_t (*real)(int, const void*, size_t) = NULL;
  void* symbol = next("write");
  memcpy(&real, &symbol, sizeof real);
  if (is_socket(fd))
    pause_ms("ACTORMQ_SLOW_SEND_MS");
  return real != NULL ? real(fd, buf, len) : -1;
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  ssize_t (*real)(int, const struct iovec*, int) = NULL;
  void* symbol = next("writev");
  memcpy(&real, &symbol, sizeof real);
  if (is_socket(fd))
    pause_ms("ACTORMQ_SLOW_SEND_MS");
  return real != NULL ? real(fd, iov, count) : -1;
}
