/* libsyncplus benchmarks: the shared harness.
 *
 * Every bench program is built once per backend (bench_<name>_<backend>),
 * runs each of its cases once per invocation, and prints one CSV line per
 * measurement on stdout:
 *
 *     bench,backend,case,metric,value
 *
 * bench/run.sh runs every program for every backend R times, interleaved,
 * and aggregates medians and spreads. Cases that use no syncplus object
 * (the raw OS baselines) are reported under backend "raw", or "none" for
 * figures that do not depend on the OS primitive at all.
 *
 * Portability: this header and bench.c are portable C11 (plus GCC/Clang
 * __atomic builtins, which mingw has). The clock, sleeping and threads are
 * libsyncplus's own (sp_now_ns, sp_sleep_until, sp_thread_*), wrapped in
 * bench.c. What else touches the OS -- the raw baselines (mutex,
 * condition, semaphore, rwlock, futex), byte channels, the CPU count -- is
 * declared here and implemented in bench_posix.c and bench_win32.c
 * (SRWLOCK, CONDITION_VARIABLE, semaphores, a pipe pair). */
#ifndef SP_BENCH_H
#define SP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <syncplus.h>

/* ---- options (bench.c) ------------------------------------------------ */

typedef struct bench_opts {
  const char *bench;   /* program's bench name, e.g. "pair" */
  const char *backend; /* sp_backend() of the linked library */
  const char *mode;    /* "smoke", "quick" or "full" */
  int64_t time_ns;     /* measured window of one figure */
  int64_t warmup_ns;   /* warm-up before each window */
  const char *only;    /* run only cases whose name starts with this */
  int list_ratios;     /* --ratios: print the ratio declarations, run none */
} bench_opts;

extern bench_opts bench_o;

/* Parse argv: --mode smoke|quick|full (default quick), --time-ms N,
 * --warmup-ms N, --only PREFIX, --ratios. `times_ms` gives the window for
 * smoke, quick and full. Returns 0 to run the cases, 1 to exit 0 now (after
 * --help; with --ratios the program still declares its ratios and skips
 * the cases through bench_want()), 2 on a usage error (already reported). */
int bench_init(int argc, char **argv, const char *bench, const char *backend,
               const int64_t times_ms[3]);

/* 0 = smoke, 1 = quick, 2 = full. */
int bench_level(void);

/* Pick a value by mode: v[0] smoke, v[1] quick, v[2] full. */
int64_t bench_by_mode(const int64_t v[3]);

/* 1 if case `name` should run (not filtered by --only, not in --ratios). */
int bench_want(const char *name);

/* Print one measurement line: bench,backend,case,metric,value. */
void bench_emit(const char *backend, const char *case_, const char *metric,
                double value);

/* Declare a ratio for run.sh's table, printed only under --ratios as
 *   #ratio,bench,name,num_backend,num_case,den_backend,den_case,metric
 * "*" as num_backend means each syncplus backend (and den_backend "*" the
 * same backend as the numerator). run.sh computes ratios of medians. */
void bench_ratio(const char *name, const char *num_backend,
                 const char *num_case, const char *den_backend,
                 const char *den_case, const char *metric);

/* Report a failure on stderr and exit(1). */
void bench_die(const char *what);

/* ---- statistics (bench.c) --------------------------------------------- */

/* These sort v in place. Nearest-rank quantile, q in [0, 1]. */
double bench_quantile(double *v, size_t n, double q);
double bench_median(double *v, size_t n);
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);

/* ---- atomics (GCC/Clang builtins) ------------------------------------- */

static inline int bench_load(const int *p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void bench_store(int *p, int v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline int bench_xchg(int *p, int v) {
  return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL);
}
static inline int bench_add(int *p, int v) {
  return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL);
}

/* A per-thread event counter on its own cache line: its thread bumps it
 * with bench_count(), the measuring thread reads it. */
typedef struct bench_counter {
  uint64_t n;
  char pad_[64 - sizeof(uint64_t)];
} bench_counter;

static inline void bench_count(bench_counter *c, uint64_t k) {
  __atomic_store_n(&c->n, __atomic_load_n(&c->n, __ATOMIC_RELAXED) + k,
                   __ATOMIC_RELAXED);
}
uint64_t bench_counters_sum(bench_counter *c, int n);

/* The measuring thread's window: sleep bench_o.warmup_ns, read the sum of
 * the n counters, sleep bench_o.time_ns, read it again; returns the events
 * per second in the window. */
double bench_rate_window(bench_counter *c, int n);

/* A group of threads measured over one window. Each thread runs until it
 * sees `stop`, then bumps `ndone` and returns. bench_group_run starts the
 * n threads fns[i](args[i]), measures the rate of the nc counters as
 * bench_rate_window does (with `measuring` set to 1 during the window),
 * sets `stop`, then calls kick(ctx) every millisecond until every thread is
 * done (so it can unblock threads that wait for a peer that has gone), and
 * joins them. Returns the rate. */
typedef struct bench_group {
  int stop;      /* atomic */
  int ndone;     /* atomic */
  int measuring; /* atomic: 1 during the measured window */
  void (*kick)(void *ctx);
  void *ctx;
  bench_counter *extra; /* optional second set of counters, measured over */
  int nextra;           /* the same window: its rate goes to extra_rate */
  double extra_rate;
  double cs_per_s; /* out: the process's context switches per second in
                      the window (bench_ctx_switches), -1 if unknown */
} bench_group;

/* The context switches per second of the last bench_group_run window (the
 * g->cs_per_s of that call), for callers that do not see its group. */
extern double bench_last_cs_per_s;

/* 1001 for a broadcast to 1000 waiters (bench_sweep). */
#define BENCH_MAX_THREADS 1024
double bench_group_run(bench_group *g, int n, void *(*const *fns)(void *),
                       void *const *args, bench_counter *c, int nc);
/* Two threads prod(ctx) and cons(ctx) in group g (kick(ctx) unblocks
 * them at the end), over one window: the rate of counter *tx, which is
 * reset first. The producer/consumer pairs of bench_pair and rawpair.c. */
double bench_group_run_pair(bench_group *g, bench_counter *tx, void *ctx,
                            void *(*prod)(void *), void *(*cons)(void *),
                            void (*kick)(void *));
/* Called by a group thread as it exits. */
static inline void bench_group_done(bench_group *g) {
  bench_add(&g->ndone, 1);
}
static inline int bench_group_stopping(bench_group *g) {
  return bench_load(&g->stop);
}

/* ---- simulated work (bench.c) ----------------------------------------- */

/* One "unit" of CPU work: a dependent chain of BENCH_UNIT_ITERS multiply-
 * adds (about 40-60 ns on a current x86 core). Returns a value the caller
 * must consume (feed it back as `x`) so the work cannot be optimised away. */
#define BENCH_UNIT_ITERS 32
uint64_t bench_work(uint64_t x, unsigned units);

/* ---- clock, sleep, threads (bench.c, on libsyncplus) ----------------- */

/* Monotonic clock in nanoseconds (sp_now_ns). */
int64_t bench_now_ns(void);
/* Sleep for at least ns nanoseconds. */
void bench_sleep_ns(int64_t ns);
/* Sleep until the monotonic clock reaches `deadline` (ns). */
void bench_sleep_until_ns(int64_t deadline);

typedef struct bench_thread {
  sp_thread_t t_;
} bench_thread;
/* Start fn(arg) in a new thread (sp_thread_start); exits the program if it
 * cannot. */
void bench_thread_start(bench_thread *t, void *(*fn)(void *), void *arg);
void bench_thread_join(bench_thread *t);

/* ---- OS layer (bench_posix.c, bench_win32.c) -------------------------- */

/* Number of online CPUs. */
int bench_ncpu(void);
/* Context switches (voluntary and involuntary) of the whole process so
 * far (getrusage), or -1 where the OS does not count them. */
int64_t bench_ctx_switches(void);

#define BENCH_STORAGE_(bytes)                                                  \
  union {                                                                      \
    unsigned char b_[(bytes)];                                                 \
    void *p_;                                                                  \
    long long ll_;                                                             \
    double d_;                                                                 \
  }

/* Raw OS primitives, the baselines (pthread_mutex_t, pthread_cond_t, sem_t
 * on POSIX). Init functions exit the program on failure. */
typedef struct bench_rmutex {
  BENCH_STORAGE_(64) s_;
} bench_rmutex;
typedef struct bench_rcond {
  BENCH_STORAGE_(64) s_;
} bench_rcond;
typedef struct bench_rsem {
  BENCH_STORAGE_(64) s_;
} bench_rsem;

void bench_rmutex_init(bench_rmutex *m);
void bench_rmutex_destroy(bench_rmutex *m);
void bench_rmutex_lock(bench_rmutex *m);
void bench_rmutex_unlock(bench_rmutex *m);
/* n lock+unlock pairs calling the OS directly (fast-path baseline). */
void bench_rmutex_loop(bench_rmutex *m, uint64_t n);
void bench_rcond_init(bench_rcond *c);
void bench_rcond_destroy(bench_rcond *c);
void bench_rcond_wait(bench_rcond *c, bench_rmutex *m);
void bench_rcond_signal(bench_rcond *c);
void bench_rcond_broadcast(bench_rcond *c);
/* Raw reader-writer lock: pthread_rwlock_t (POSIX, the system's default
 * attributes), SRWLOCK (Windows). */
typedef struct bench_rrwlock {
  BENCH_STORAGE_(64) s_;
} bench_rrwlock;
void bench_rrwlock_init(bench_rrwlock *l);
void bench_rrwlock_destroy(bench_rrwlock *l);
void bench_rrwlock_rdlock(bench_rrwlock *l);
void bench_rrwlock_rdunlock(bench_rrwlock *l);
void bench_rrwlock_wrlock(bench_rrwlock *l);
void bench_rrwlock_wrunlock(bench_rrwlock *l);
/* n read (write = 0) or write lock+unlock pairs calling the OS directly
 * (fast-path baseline). */
void bench_rrwlock_loop(bench_rrwlock *l, uint64_t n, int write);
void bench_rsem_init(bench_rsem *s, unsigned count);
void bench_rsem_destroy(bench_rsem *s);
void bench_rsem_wait(bench_rsem *s);
void bench_rsem_post(bench_rsem *s);

/* A recursive mutex (PTHREAD_MUTEX_RECURSIVE; a CRITICAL_SECTION on
 * Windows): the baseline of the recursive locks. */
typedef struct bench_rrmutex {
  BENCH_STORAGE_(64) s_;
} bench_rrmutex;
void bench_rrmutex_init(bench_rrmutex *m);
void bench_rrmutex_destroy(bench_rrmutex *m);
/* n lock+unlock pairs calling the OS directly (fast-path baseline). */
void bench_rrmutex_loop(bench_rrmutex *m, uint64_t n);

/* A barrier (pthread_barrier_t) where the OS has one:
 * bench_rbarrier_available() is 0 elsewhere (Windows: the Win32 baseline has
 * none before Windows 8) and the barrier cases are skipped. wait returns 1
 * in one thread of each generation, else 0. */
typedef struct bench_rbarrier {
  BENCH_STORAGE_(64) s_;
} bench_rbarrier;
int bench_rbarrier_available(void);
void bench_rbarrier_init(bench_rbarrier *b, unsigned parties);
void bench_rbarrier_destroy(bench_rbarrier *b);
int bench_rbarrier_wait(bench_rbarrier *b);

/* Futex (Linux), or WaitOnAddress (Windows). bench_futex_available() is 0
 * where neither exists; the futex cases are then skipped. wait blocks while
 * *addr == expected (may return spuriously, or after timeout_ns when it is
 * >= 0). */
int bench_futex_available(void);
void bench_futex_wait(int *addr, int expected, int64_t timeout_ns);
void bench_futex_wake(int *addr, int nwake);

/* ---- raw producer/consumer baselines (rawpair.c) ----------------------- */

/* A producer and a consumer hand one token back and forth through the raw
 * OS primitives only, over one bench_group_run window; each returns the
 * transactions per second. cond: a mutex and two conditions (not empty,
 * not full); sem: two semaphores (empty and full slots); futex: one word
 * whose owner flips it and wakes the peer (call only when
 * bench_futex_available()). Used by bench_pair and bench_giltest. */
double bench_rawpair_cond(void);
double bench_rawpair_sem(void);
double bench_rawpair_futex(void);

/* A connected pair of byte streams (socketpair): what one end writes the
 * other reads. read/write move exactly n bytes, blocking; 0 or -1. */
typedef struct bench_chan {
  intptr_t fd[2];
} bench_chan;
void bench_chan_open(bench_chan *c);
void bench_chan_close(bench_chan *c);
int bench_chan_write(bench_chan *c, int end, const void *buf, size_t n);
int bench_chan_read(bench_chan *c, int end, void *buf, size_t n);

#endif
