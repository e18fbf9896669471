/* The OS half of the bench harness on POSIX (Linux: futex): the raw
 * baselines, byte channels and the CPU count (the clock and threads are
 * libsyncplus's, bench.c). Everything POSIX-only in bench/ is in this file;
 * bench_win32.c implements the same functions of bench.h on Win32. */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((bench_rmutex *)0)->s_),
               "pthread_mutex_t does not fit bench_rmutex");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(((bench_rcond *)0)->s_),
               "pthread_cond_t does not fit bench_rcond");
_Static_assert(sizeof(sem_t) <= sizeof(((bench_rsem *)0)->s_),
               "sem_t does not fit bench_rsem");
_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((bench_rrmutex *)0)->s_),
               "pthread_mutex_t does not fit bench_rrmutex");
#if defined(_POSIX_BARRIERS) && _POSIX_BARRIERS > 0
#define BENCH_HAVE_BARRIER_ 1
_Static_assert(sizeof(pthread_barrier_t) <= sizeof(((bench_rbarrier *)0)->s_),
               "pthread_barrier_t does not fit bench_rbarrier");
#define PB_(b) ((pthread_barrier_t *)(void *)&(b)->s_)
#endif

_Static_assert(sizeof(pthread_rwlock_t) <= sizeof(((bench_rrwlock *)0)->s_),
               "pthread_rwlock_t does not fit bench_rrwlock");

#define PM_(m)  ((pthread_mutex_t *)(void *)&(m)->s_)
#define PRW_(l) ((pthread_rwlock_t *)(void *)&(l)->s_)
#define PC_(c)  ((pthread_cond_t *)(void *)&(c)->s_)
#define PS_(s)  ((sem_t *)(void *)&(s)->s_)

static struct timespec bench_ts_(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  return ts;
}

int bench_ncpu(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int64_t bench_ctx_switches(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return -1;
  return (int64_t)ru.ru_nvcsw + (int64_t)ru.ru_nivcsw;
}

/* ---- raw baselines ---- */

void bench_rrwlock_init(bench_rrwlock *l) {
  if (pthread_rwlock_init(PRW_(l), NULL) != 0)
    bench_die("pthread_rwlock_init failed");
}
void bench_rrwlock_destroy(bench_rrwlock *l) {
  pthread_rwlock_destroy(PRW_(l));
}
void bench_rrwlock_rdlock(bench_rrwlock *l) {
  pthread_rwlock_rdlock(PRW_(l));
}
void bench_rrwlock_rdunlock(bench_rrwlock *l) {
  pthread_rwlock_unlock(PRW_(l));
}
void bench_rrwlock_wrlock(bench_rrwlock *l) {
  pthread_rwlock_wrlock(PRW_(l));
}
void bench_rrwlock_wrunlock(bench_rrwlock *l) {
  pthread_rwlock_unlock(PRW_(l));
}
void bench_rrwlock_loop(bench_rrwlock *l, uint64_t n, int write) {
  pthread_rwlock_t *rw = PRW_(l);
  for (uint64_t i = 0; i < n; i++) {
    if (write)
      pthread_rwlock_wrlock(rw);
    else
      pthread_rwlock_rdlock(rw);
    pthread_rwlock_unlock(rw);
  }
}

void bench_rmutex_init(bench_rmutex *m) {
  if (pthread_mutex_init(PM_(m), NULL) != 0)
    bench_die("pthread_mutex_init failed");
}
void bench_rmutex_destroy(bench_rmutex *m) {
  pthread_mutex_destroy(PM_(m));
}
void bench_rmutex_lock(bench_rmutex *m) {
  pthread_mutex_lock(PM_(m));
}
void bench_rmutex_unlock(bench_rmutex *m) {
  pthread_mutex_unlock(PM_(m));
}
void bench_rmutex_loop(bench_rmutex *m, uint64_t n) {
  pthread_mutex_t *pm = PM_(m);
  for (uint64_t i = 0; i < n; i++) {
    pthread_mutex_lock(pm);
    pthread_mutex_unlock(pm);
  }
}

void bench_rrmutex_init(bench_rrmutex *m) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  if (pthread_mutex_init(PM_(m), &a) != 0)
    bench_die("pthread_mutex_init (recursive) failed");
  pthread_mutexattr_destroy(&a);
}
void bench_rrmutex_destroy(bench_rrmutex *m) {
  pthread_mutex_destroy(PM_(m));
}
void bench_rrmutex_loop(bench_rrmutex *m, uint64_t n) {
  pthread_mutex_t *pm = PM_(m);
  for (uint64_t i = 0; i < n; i++) {
    pthread_mutex_lock(pm);
    pthread_mutex_unlock(pm);
  }
}

#ifdef BENCH_HAVE_BARRIER_
int bench_rbarrier_available(void) {
  return 1;
}
void bench_rbarrier_init(bench_rbarrier *b, unsigned parties) {
  if (pthread_barrier_init(PB_(b), NULL, parties) != 0)
    bench_die("pthread_barrier_init failed");
}
void bench_rbarrier_destroy(bench_rbarrier *b) {
  pthread_barrier_destroy(PB_(b));
}
int bench_rbarrier_wait(bench_rbarrier *b) {
  return pthread_barrier_wait(PB_(b)) == PTHREAD_BARRIER_SERIAL_THREAD;
}
#else
int bench_rbarrier_available(void) {
  return 0;
}
void bench_rbarrier_init(bench_rbarrier *b, unsigned parties) {
  (void)b;
  (void)parties;
  bench_die("no barrier baseline on this system");
}
void bench_rbarrier_destroy(bench_rbarrier *b) {
  (void)b;
}
int bench_rbarrier_wait(bench_rbarrier *b) {
  (void)b;
  return 0;
}
#endif

void bench_rcond_init(bench_rcond *c) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  if (pthread_cond_init(PC_(c), &a) != 0)
    bench_die("pthread_cond_init failed");
  pthread_condattr_destroy(&a);
}
void bench_rcond_destroy(bench_rcond *c) {
  pthread_cond_destroy(PC_(c));
}
void bench_rcond_wait(bench_rcond *c, bench_rmutex *m) {
  pthread_cond_wait(PC_(c), PM_(m));
}
void bench_rcond_signal(bench_rcond *c) {
  pthread_cond_signal(PC_(c));
}
void bench_rcond_broadcast(bench_rcond *c) {
  pthread_cond_broadcast(PC_(c));
}

void bench_rsem_init(bench_rsem *s, unsigned count) {
  if (sem_init(PS_(s), 0, count) != 0)
    bench_die("sem_init failed");
}
void bench_rsem_destroy(bench_rsem *s) {
  sem_destroy(PS_(s));
}
void bench_rsem_wait(bench_rsem *s) {
  while (sem_wait(PS_(s)) != 0 && errno == EINTR)
    ;
}
void bench_rsem_post(bench_rsem *s) {
  sem_post(PS_(s));
}

#ifdef __linux__
int bench_futex_available(void) {
  return 1;
}
void bench_futex_wait(int *addr, int expected, int64_t timeout_ns) {
  struct timespec ts, *tp = NULL;
  if (timeout_ns >= 0) {
    ts = bench_ts_(timeout_ns);
    tp = &ts;
  }
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
}
void bench_futex_wake(int *addr, int nwake) {
  syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, nwake, NULL, NULL, 0);
}
#else
int bench_futex_available(void) {
  return 0;
}
void bench_futex_wait(int *addr, int expected, int64_t timeout_ns) {
  (void)addr;
  (void)expected;
  (void)timeout_ns;
}
void bench_futex_wake(int *addr, int nwake) {
  (void)addr;
  (void)nwake;
}
#endif

/* ---- channels ---- */

void bench_chan_open(bench_chan *c) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    bench_die("socketpair failed");
  c->fd[0] = sv[0];
  c->fd[1] = sv[1];
}

void bench_chan_close(bench_chan *c) {
  close((int)c->fd[0]);
  close((int)c->fd[1]);
}

/* Move all n bytes through fd (write if wr, else read), retrying EINTR
 * and short transfers; -1 on an error or end of file. */
static int chan_all_(int fd, char *p, size_t n, int wr) {
  while (n > 0) {
    ssize_t k = wr ? write(fd, p, n) : read(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

int bench_chan_write(bench_chan *c, int end, const void *buf, size_t n) {
  return chan_all_((int)c->fd[end], (char *)(uintptr_t)buf, n, 1);
}

int bench_chan_read(bench_chan *c, int end, void *buf, size_t n) {
  return chan_all_((int)c->fd[end], buf, n, 0);
}
