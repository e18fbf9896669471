/* Test helpers: threads, a monotonic clock, sleeping (thin wrappers of the
 * library's portable ones: no platform code here), thread bunches, and the
 * bounds every stress test uses. Include this instead of cmocka.h. */
#ifndef SP_TEST_HELPERS_H
#define SP_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <syncplus.h>

#define MS (SP_NS_PER_MS)

/* Assert a result code, naming both codes on failure. */
#define assert_rc(expected, expr)                                              \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    if (rc_ != (expected))                                                     \
      fail_msg("%s: got %s (%d), expected %s", #expr, sp_strerror(rc_), rc_,   \
               sp_strerror(expected));                                         \
  } while (0)

/* sp_now_ns(), sp_sleep_ns(ns) and sp_sleep_ns(0) (a yield), asserting. */
int64_t t_now_ns(void);
void t_sleep_ns(int64_t ns);
void t_yield(void);

/* A started thread running fn(arg) (an sp_thread_t). Assert-fails if it
 * cannot start; t_join returns what fn returned. */
typedef struct t_thread {
  sp_thread_t t;
} t_thread;
t_thread t_start(void *(*fn)(void *), void *arg);
void *t_join(t_thread t);

/* A bunch of n threads, each running fn(arg, i) for i in 0..n-1, like
 * CPython lock_tests' Bunch. t_bunch_join waits for all of them. */
#define T_MAX_BUNCH 128
typedef struct t_bunch {
  int n;
  void (*fn)(void *arg, int i);
  void *arg;
  int started;  /* atomic */
  int finished; /* atomic */
  t_thread threads[T_MAX_BUNCH];
} t_bunch;
void t_bunch_start(t_bunch *b, int n, void (*fn)(void *, int), void *arg);
void t_bunch_join(t_bunch *b);
/* Wait (polling, up to 10 s) until *counter (atomic int) reaches value. */
void t_wait_for_count(int *counter, int value);

/* Atomic int helpers for test code. */
static inline int t_load(int *p) {
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
static inline void t_store(int *p, int v) {
  __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}
static inline int t_inc(int *p) {
  return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

/* Stress bounds: every stress loop stops at its iteration count or at the
 * deadline, whichever comes first. SP_STRESS_SECONDS (default 2) sets the
 * time budget of one stress test, SP_STRESS_SCALE (default 1.0) scales the
 * iteration counts (e.g. 0.2 under wine or a sanitizer). */
long t_iters(long n);
int64_t t_stress_deadline(void);

/* 1 on the backends whose condition never returns spuriously ("sem",
 * "win32-sem", documented in cond.h), where wakeups can be counted exactly;
 * asked of the library at run time (sp_backend()). */
int t_exact_wakeups(void);

/* NULL where fork() may be called while other threads run; else why it
 * cannot be tested here: under qemu-user (the emulator's own state is not
 * fork-safe with several guest threads: its child aborts in qemu's code,
 * not ours; the aarch64 stage sets SP_TEST_EMULATOR=qemu-user). The native
 * stages (gcc, asan, musl, i386) run those cases. */
const char *t_fork_with_threads_unsupported(void);

/* Run the group on the library's backend and print its name. */
int t_run(const char *name, const struct CMUnitTest *tests, size_t n);
#define T_RUN(name, tests) t_run(name, tests, sizeof(tests) / sizeof(tests[0]))

#endif
