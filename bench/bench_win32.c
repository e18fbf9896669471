/* The OS half of the bench harness on Win32: the raw baselines (SRWLOCK,
 * CONDITION_VARIABLE, Win32 semaphores), byte channels (two anonymous
 * pipes) and the CPU count (the clock and threads are libsyncplus's,
 * bench.c). The futex cases are
 * skipped here (bench_futex_available() is 0), so the bench needs no
 * Windows 8 API. Results under wine are indicative only. */
#include "bench.h"

#include <stdlib.h>
#include <windows.h>

_Static_assert(sizeof(SRWLOCK) <= sizeof(((bench_rmutex *)0)->s_),
               "SRWLOCK does not fit bench_rmutex");
_Static_assert(sizeof(CONDITION_VARIABLE) <= sizeof(((bench_rcond *)0)->s_),
               "CONDITION_VARIABLE does not fit bench_rcond");
_Static_assert(sizeof(CRITICAL_SECTION) <= sizeof(((bench_rrmutex *)0)->s_),
               "CRITICAL_SECTION does not fit bench_rrmutex");

#define WM_(m)  ((SRWLOCK *)(void *)&(m)->s_)
#define WRW_(l) ((SRWLOCK *)(void *)&(l)->s_)
#define WC_(c)  ((CONDITION_VARIABLE *)(void *)&(c)->s_)
#define WS_(s)  (*(HANDLE *)(void *)&(s)->s_)
#define WR_(m)  ((CRITICAL_SECTION *)(void *)&(m)->s_)
#define WM_(m)  ((SRWLOCK *)(void *)&(m)->s_)
#define WC_(c)  ((CONDITION_VARIABLE *)(void *)&(c)->s_)
#define WS_(s)  (*(HANDLE *)(void *)&(s)->s_)
#define WR_(m)  ((CRITICAL_SECTION *)(void *)&(m)->s_)

int bench_ncpu(void) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
}

/* Windows keeps no per-process count of context switches that is cheap to
 * read: cs_per_op is not reported there. */
int64_t bench_ctx_switches(void) {
  return -1;
}

/* ---- raw baselines ---- */

void bench_rrwlock_init(bench_rrwlock *l) {
  InitializeSRWLock(WRW_(l));
}
void bench_rrwlock_destroy(bench_rrwlock *l) {
  (void)l;
}
void bench_rrwlock_rdlock(bench_rrwlock *l) {
  AcquireSRWLockShared(WRW_(l));
}
void bench_rrwlock_rdunlock(bench_rrwlock *l) {
  ReleaseSRWLockShared(WRW_(l));
}
void bench_rrwlock_wrlock(bench_rrwlock *l) {
  AcquireSRWLockExclusive(WRW_(l));
}
void bench_rrwlock_wrunlock(bench_rrwlock *l) {
  ReleaseSRWLockExclusive(WRW_(l));
}
void bench_rrwlock_loop(bench_rrwlock *l, uint64_t n, int write) {
  SRWLOCK *rw = WRW_(l);
  for (uint64_t i = 0; i < n; i++) {
    if (write) {
      AcquireSRWLockExclusive(rw);
      ReleaseSRWLockExclusive(rw);
    } else {
      AcquireSRWLockShared(rw);
      ReleaseSRWLockShared(rw);
    }
  }
}

void bench_rmutex_init(bench_rmutex *m) {
  InitializeSRWLock(WM_(m));
}
void bench_rmutex_destroy(bench_rmutex *m) {
  (void)m;
}
void bench_rmutex_lock(bench_rmutex *m) {
  AcquireSRWLockExclusive(WM_(m));
}
void bench_rmutex_unlock(bench_rmutex *m) {
  ReleaseSRWLockExclusive(WM_(m));
}
void bench_rmutex_loop(bench_rmutex *m, uint64_t n) {
  SRWLOCK *l = WM_(m);
  for (uint64_t i = 0; i < n; i++) {
    AcquireSRWLockExclusive(l);
    ReleaseSRWLockExclusive(l);
  }
}

void bench_rrmutex_init(bench_rrmutex *m) {
  InitializeCriticalSection(WR_(m));
}
void bench_rrmutex_destroy(bench_rrmutex *m) {
  DeleteCriticalSection(WR_(m));
}
void bench_rrmutex_loop(bench_rrmutex *m, uint64_t n) {
  CRITICAL_SECTION *cs = WR_(m);
  for (uint64_t i = 0; i < n; i++) {
    EnterCriticalSection(cs);
    LeaveCriticalSection(cs);
  }
}

/* No barrier baseline (SynchronizationBarrier needs Windows 8 headers). */
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

void bench_rcond_init(bench_rcond *c) {
  InitializeConditionVariable(WC_(c));
}
void bench_rcond_destroy(bench_rcond *c) {
  (void)c;
}
void bench_rcond_wait(bench_rcond *c, bench_rmutex *m) {
  SleepConditionVariableSRW(WC_(c), WM_(m), INFINITE, 0);
}
void bench_rcond_signal(bench_rcond *c) {
  WakeConditionVariable(WC_(c));
}
void bench_rcond_broadcast(bench_rcond *c) {
  WakeAllConditionVariable(WC_(c));
}

void bench_rsem_init(bench_rsem *s, unsigned count) {
  HANDLE h = CreateSemaphoreW(NULL, (LONG)count, 0x7fffffff, NULL);
  if (h == NULL)
    bench_die("CreateSemaphore failed");
  WS_(s) = h;
}
void bench_rsem_destroy(bench_rsem *s) {
  CloseHandle(WS_(s));
}
void bench_rsem_wait(bench_rsem *s) {
  WaitForSingleObject(WS_(s), INFINITE);
}
void bench_rsem_post(bench_rsem *s) {
  ReleaseSemaphore(WS_(s), 1, NULL);
}

/* No futex baseline on Windows (WaitOnAddress needs Windows 8). */
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

/* ---- channels: two anonymous pipes, one per direction. End e writes to
 * pipe e and reads from pipe 1-e. fd[0] holds the four handles' block. */

typedef struct {
  HANDLE rd[2], wr[2];
} bench_pipes_;

void bench_chan_open(bench_chan *c) {
  bench_pipes_ *p = malloc(sizeof *p);
  if (p == NULL || !CreatePipe(&p->rd[0], &p->wr[0], NULL, 0) ||
      !CreatePipe(&p->rd[1], &p->wr[1], NULL, 0))
    bench_die("CreatePipe failed");
  c->fd[0] = (intptr_t)p;
  c->fd[1] = 0;
}

void bench_chan_close(bench_chan *c) {
  bench_pipes_ *p = (bench_pipes_ *)c->fd[0];
  for (int i = 0; i < 2; i++) {
    CloseHandle(p->rd[i]);
    CloseHandle(p->wr[i]);
  }
  free(p);
}

int bench_chan_write(bench_chan *c, int end, const void *buf, size_t n) {
  bench_pipes_ *p = (bench_pipes_ *)c->fd[0];
  const char *b = buf;
  while (n > 0) {
    DWORD k = 0;
    if (!WriteFile(p->wr[end], b, (DWORD)n, &k, NULL) || k == 0)
      return -1;
    b += k;
    n -= k;
  }
  return 0;
}

int bench_chan_read(bench_chan *c, int end, void *buf, size_t n) {
  bench_pipes_ *p = (bench_pipes_ *)c->fd[0];
  char *b = buf;
  while (n > 0) {
    DWORD k = 0;
    if (!ReadFile(p->rd[1 - end], b, (DWORD)n, &k, NULL) || k == 0)
      return -1;
    b += k;
    n -= k;
  }
  return 0;
}
