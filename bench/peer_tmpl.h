/* The workloads every implementation shares, written once (see peers.h).
 * An implementation file defines the macros below, then includes this file
 * (once), which defines static functions named TM_PREFIX##name:
 *
 *   TM_PREFIX         a name prefix, e.g. glib_
 *   TM_MUTEX_T        mutex type, with TM_MUTEX_INIT(m), TM_MUTEX_DESTROY(m),
 *                     TM_LOCK(m), TM_UNLOCK(m)          -> fast_mutex, counter
 *   TM_HAVE_RMUTEX    and TM_RMUTEX_T, TM_RMUTEX_INIT(m), TM_RLOCK(m),
 *                     TM_RUNLOCK(m)                     -> fast_rmutex
 *   TM_HAVE_COND      and TM_COND_T, TM_COND_INIT(c), TM_COND_DESTROY(c),
 *                     TM_WAIT(c, m), TM_SIGNAL(c), TM_BROADCAST(c)
 *                                                       -> cond_pair, bcast
 *   TM_HAVE_BARRIER   and TM_BARRIER_T, TM_BARRIER_INIT(b, n),
 *                     TM_BARRIER_DESTROY(b), TM_BARRIER_WAIT(b) -> barrier
 *   TM_HAVE_UQUEUE    and TM_UQ_T, TM_UQ_INIT(q), TM_UQ_DESTROY(q) (it may
 *                     still hold items), TM_UQ_PUT(q, item), TM_UQ_GET(q)
 *                     (blocks while empty; returns the item) -> uqueue
 *
 * Every object a workload uses lives on its own cache line (the bench
 * group's flags, read by every thread, do not share a line with the lock),
 * is set up at the start of each window and destroyed at its end. */
#include "peers.h"

#define TM_CAT2_(a, b) a##b
#define TM_CAT_(a, b)  TM_CAT2_(a, b)
#define TM_(name)      TM_CAT_(TM_PREFIX, name)
/* An implementation uses only some of the functions defined here. */
#define TM_FN_ static __attribute__((unused))

/* Lock+unlock pairs per bump of a thread's counter in the contended loop. */
#define TM_BATCH_ 16
/* Most threads of the counter sweep. */
#define TM_MAXT_ 64

/* ---- uncontended fast path ---- */

static TM_MUTEX_T TM_(fast_m_);

TM_FN_ void TM_(fast_init)(void) {
  TM_MUTEX_INIT(&TM_(fast_m_));
}

TM_FN_ void TM_(fast_mutex)(uint64_t n) {
  TM_MUTEX_T *m = &TM_(fast_m_);
  for (uint64_t i = 0; i < n; i++) {
    TM_LOCK(m);
    TM_UNLOCK(m);
  }
}

#ifdef TM_HAVE_RMUTEX
static TM_RMUTEX_T TM_(fast_r_);

TM_FN_ void TM_(fast_rinit)(void) {
  TM_RMUTEX_INIT(&TM_(fast_r_));
}

TM_FN_ void TM_(fast_rmutex)(uint64_t n) {
  TM_RMUTEX_T *m = &TM_(fast_r_);
  for (uint64_t i = 0; i < n; i++) {
    TM_RLOCK(m);
    TM_RUNLOCK(m);
  }
}
#endif

/* ---- contended counter ---- */

static struct {
  bench_group g;
  bench_counter c[TM_MAXT_];
  _Alignas(64) TM_MUTEX_T m;
  uint64_t value; /* under m */
#ifdef TM_HANDOFFS
  void *last;        /* under m: the thread of the last increment */
  uint64_t handoffs; /* under m: increments by another thread than last */
#endif
} TM_(cnt_);

TM_FN_ void *TM_(cnt_thread_)(void *arg) {
  bench_counter *c = arg;
  TM_MUTEX_T *m = &TM_(cnt_).m;
  while (!bench_group_stopping(&TM_(cnt_).g)) {
    for (int i = 0; i < TM_BATCH_; i++) {
      TM_LOCK(m);
      TM_(cnt_).value++;
#ifdef TM_HANDOFFS
      if (TM_(cnt_).last != c) {
        TM_(cnt_).last = c;
        TM_(cnt_).handoffs++;
      }
#endif
      TM_UNLOCK(m);
    }
    bench_count(c, TM_BATCH_);
  }
  bench_group_done(&TM_(cnt_).g);
  return NULL;
}

TM_FN_ double TM_(counter)(int n) {
  void *(*fns[TM_MAXT_])(void *);
  void *args[TM_MAXT_];
  if (n > TM_MAXT_)
    bench_die("too many counter threads");
  TM_MUTEX_INIT(&TM_(cnt_).m);
  TM_(cnt_).value = 0;
  for (int i = 0; i < n; i++) {
    TM_(cnt_).c[i].n = 0;
    fns[i] = TM_(cnt_thread_);
    args[i] = &TM_(cnt_).c[i];
  }
  TM_(cnt_).g.kick = NULL;
  TM_(cnt_).g.extra = NULL;
  TM_(cnt_).g.nextra = 0;
  double r = bench_group_run(&TM_(cnt_).g, n, fns, args, TM_(cnt_).c, n);
  TM_MUTEX_DESTROY(&TM_(cnt_).m);
#ifdef TM_HANDOFFS
  /* experiments: the fraction of increments that changed threads */
  spb_handoff_ratio = TM_(cnt_).value
                          ? (double)TM_(cnt_).handoffs / (double)TM_(cnt_).value
                          : 0.0;
  TM_(cnt_).handoffs = 0;
  TM_(cnt_).last = NULL;
#endif
  return r;
}

#ifdef TM_HAVE_COND
/* ---- condition ping-pong (as bench/rawpair.c's pthread_cond pair) ---- */

static struct {
  bench_group g;
  bench_counter tx;
  _Alignas(64) TM_MUTEX_T m;
  TM_COND_T ne, nf; /* not empty, not full */
  int token;        /* under m */
} TM_(pp_);

TM_FN_ void *TM_(pp_prod_)(void *arg) {
  (void)arg;
  for (;;) {
    TM_LOCK(&TM_(pp_).m);
    while (TM_(pp_).token && !bench_group_stopping(&TM_(pp_).g))
      TM_WAIT(&TM_(pp_).nf, &TM_(pp_).m);
    TM_(pp_).token = 1;
    TM_SIGNAL(&TM_(pp_).ne);
    TM_UNLOCK(&TM_(pp_).m);
    bench_count(&TM_(pp_).tx, 1);
    if (bench_group_stopping(&TM_(pp_).g))
      break;
  }
  bench_group_done(&TM_(pp_).g);
  return NULL;
}

TM_FN_ void *TM_(pp_cons_)(void *arg) {
  (void)arg;
  for (;;) {
    TM_LOCK(&TM_(pp_).m);
    while (!TM_(pp_).token && !bench_group_stopping(&TM_(pp_).g))
      TM_WAIT(&TM_(pp_).ne, &TM_(pp_).m);
    TM_(pp_).token = 0;
    TM_SIGNAL(&TM_(pp_).nf);
    TM_UNLOCK(&TM_(pp_).m);
    if (bench_group_stopping(&TM_(pp_).g))
      break;
  }
  bench_group_done(&TM_(pp_).g);
  return NULL;
}

TM_FN_ void TM_(pp_kick_)(void *arg) {
  (void)arg;
  TM_LOCK(&TM_(pp_).m);
  TM_BROADCAST(&TM_(pp_).ne);
  TM_BROADCAST(&TM_(pp_).nf);
  TM_UNLOCK(&TM_(pp_).m);
}

TM_FN_ double TM_(cond_pair)(int unused) {
  (void)unused;
  TM_MUTEX_INIT(&TM_(pp_).m);
  TM_COND_INIT(&TM_(pp_).ne);
  TM_COND_INIT(&TM_(pp_).nf);
  TM_(pp_).token = 0;
  TM_(pp_).g.extra = NULL;
  TM_(pp_).g.nextra = 0;
  double r = bench_group_run_pair(&TM_(pp_).g, &TM_(pp_).tx, NULL,
                                  TM_(pp_prod_), TM_(pp_cons_), TM_(pp_kick_));
  TM_COND_DESTROY(&TM_(pp_).ne);
  TM_COND_DESTROY(&TM_(pp_).nf);
  TM_MUTEX_DESTROY(&TM_(pp_).m);
  return r;
}

/* ---- broadcast to n waiters: one thread bumps a generation and
 * broadcasts, then waits until every waiter has seen it. The rate counts
 * the waiters' wake-ups (each waiter that sees a new generation), so a
 * window shorter than one broadcast to 1000 waiters still measures. ---- */

static struct {
  bench_group g;
  bench_counter tx; /* wake-ups seen, bumped under m */
  _Alignas(64) TM_MUTEX_T m;
  TM_COND_T go, back;
  uint64_t gen; /* under m */
  int nback;    /* under m: waiters that have seen gen */
  int nw;
} TM_(bc_);

TM_FN_ void *TM_(bc_waiter_)(void *arg) {
  (void)arg;
  uint64_t seen = 0;
  TM_LOCK(&TM_(bc_).m);
  for (;;) {
    while (TM_(bc_).gen == seen && !bench_group_stopping(&TM_(bc_).g))
      TM_WAIT(&TM_(bc_).go, &TM_(bc_).m);
    if (bench_group_stopping(&TM_(bc_).g))
      break;
    seen = TM_(bc_).gen;
    bench_count(&TM_(bc_).tx, 1);
    if (++TM_(bc_).nback == TM_(bc_).nw)
      TM_SIGNAL(&TM_(bc_).back);
  }
  TM_UNLOCK(&TM_(bc_).m);
  bench_group_done(&TM_(bc_).g);
  return NULL;
}

TM_FN_ void *TM_(bc_caster_)(void *arg) {
  (void)arg;
  TM_LOCK(&TM_(bc_).m);
  for (;;) {
    TM_(bc_).gen++;
    TM_(bc_).nback = 0;
    TM_BROADCAST(&TM_(bc_).go);
    while (TM_(bc_).nback < TM_(bc_).nw && !bench_group_stopping(&TM_(bc_).g))
      TM_WAIT(&TM_(bc_).back, &TM_(bc_).m);
    if (bench_group_stopping(&TM_(bc_).g))
      break;
  }
  TM_UNLOCK(&TM_(bc_).m);
  bench_group_done(&TM_(bc_).g);
  return NULL;
}

TM_FN_ void TM_(bc_kick_)(void *arg) {
  (void)arg;
  TM_LOCK(&TM_(bc_).m);
  TM_BROADCAST(&TM_(bc_).go);
  TM_BROADCAST(&TM_(bc_).back);
  TM_UNLOCK(&TM_(bc_).m);
}

TM_FN_ double TM_(bcast)(int nw) {
  static void *(*fns[BENCH_MAX_THREADS])(void *);
  static void *args[BENCH_MAX_THREADS];
  if (nw + 1 > BENCH_MAX_THREADS)
    bench_die("too many waiters");
  TM_MUTEX_INIT(&TM_(bc_).m);
  TM_COND_INIT(&TM_(bc_).go);
  TM_COND_INIT(&TM_(bc_).back);
  TM_(bc_).gen = 0;
  TM_(bc_).nback = 0;
  TM_(bc_).nw = nw;
  TM_(bc_).tx.n = 0;
  for (int i = 0; i < nw; i++) {
    fns[i] = TM_(bc_waiter_);
    args[i] = NULL;
  }
  fns[nw] = TM_(bc_caster_);
  args[nw] = NULL;
  TM_(bc_).g.kick = TM_(bc_kick_);
  TM_(bc_).g.ctx = NULL;
  TM_(bc_).g.extra = NULL;
  TM_(bc_).g.nextra = 0;
  double r = bench_group_run(&TM_(bc_).g, nw + 1, fns, args, &TM_(bc_).tx, 1);
  TM_COND_DESTROY(&TM_(bc_).go);
  TM_COND_DESTROY(&TM_(bc_).back);
  TM_MUTEX_DESTROY(&TM_(bc_).m);
  return r;
}
#endif /* TM_HAVE_COND */

#ifdef TM_HAVE_BARRIER
/* ---- barrier generations. The threads leave together: thread 0 decides
 * to stop before it enters a wait and says after which of its waits
 * (quit_gen); every thread counts its own waits and stops after the wait
 * with that number (the barrier orders thread 0's store before the others'
 * load, and thread 0 cannot be more than one generation ahead). ---- */

static struct {
  bench_group g;
  bench_counter tx; /* generations, counted by thread 0 */
  _Alignas(64) TM_BARRIER_T b;
  _Alignas(64) unsigned quit_gen;
  int idx[TM_MAXT_];
} TM_(bar_);

TM_FN_ void *TM_(bar_thread_)(void *arg) {
  int me = *(int *)arg;
  unsigned k = 0;
  for (;;) {
    if (me == 0 && bench_group_stopping(&TM_(bar_).g))
      __atomic_store_n(&TM_(bar_).quit_gen, k + 1, __ATOMIC_RELAXED);
    TM_BARRIER_WAIT(&TM_(bar_).b);
    k++;
    if (__atomic_load_n(&TM_(bar_).quit_gen, __ATOMIC_RELAXED) == k)
      break;
    if (me == 0)
      bench_count(&TM_(bar_).tx, 1);
  }
  bench_group_done(&TM_(bar_).g);
  return NULL;
}

TM_FN_ double TM_(barrier)(int n) {
  void *(*fns[TM_MAXT_])(void *);
  void *args[TM_MAXT_];
  if (n > TM_MAXT_)
    bench_die("too many barrier threads");
  TM_BARRIER_INIT(&TM_(bar_).b, (unsigned)n);
  TM_(bar_).quit_gen = 0;
  TM_(bar_).tx.n = 0;
  for (int i = 0; i < n; i++) {
    TM_(bar_).idx[i] = i;
    fns[i] = TM_(bar_thread_);
    args[i] = &TM_(bar_).idx[i];
  }
  TM_(bar_).g.kick = NULL;
  TM_(bar_).g.extra = NULL;
  TM_(bar_).g.nextra = 0;
  double r = bench_group_run(&TM_(bar_).g, n, fns, args, &TM_(bar_).tx, 1);
  TM_BARRIER_DESTROY(&TM_(bar_).b);
  return r;
}
#endif /* TM_HAVE_BARRIER */

#ifdef TM_HAVE_UQUEUE
/* ---- unbounded queue: n/2 producers put as fast as they can, n/2
 * consumers get; items got per second. At the end blocked consumers get a
 * stop item each (repeated every millisecond by bench_group_run). ---- */

#define TM_ITEM_ ((void *)(uintptr_t)1)
#define TM_STOP_ ((void *)(uintptr_t)2)

static struct {
  bench_group g;
  bench_counter got[TM_MAXT_];
  _Alignas(64) TM_UQ_T q;
  int nc;
} TM_(uq_);

TM_FN_ void *TM_(uq_prod_)(void *arg) {
  (void)arg;
  while (!bench_group_stopping(&TM_(uq_).g)) {
    for (int i = 0; i < TM_BATCH_; i++)
      TM_UQ_PUT(&TM_(uq_).q, TM_ITEM_);
  }
  bench_group_done(&TM_(uq_).g);
  return NULL;
}

TM_FN_ void *TM_(uq_cons_)(void *arg) {
  bench_counter *c = arg;
  for (;;) {
    void *it = TM_UQ_GET(&TM_(uq_).q);
    if (it != TM_ITEM_ || bench_group_stopping(&TM_(uq_).g))
      break;
    bench_count(c, 1);
  }
  bench_group_done(&TM_(uq_).g);
  return NULL;
}

TM_FN_ void TM_(uq_kick_)(void *arg) {
  (void)arg;
  for (int i = 0; i < TM_(uq_).nc; i++)
    TM_UQ_PUT(&TM_(uq_).q, TM_STOP_);
}

TM_FN_ double TM_(uqueue)(int n) {
  void *(*fns[TM_MAXT_ * 2])(void *);
  void *args[TM_MAXT_ * 2];
  int nc = n / 2;
  if (nc < 1 || nc > TM_MAXT_)
    bench_die("bad queue thread count");
  TM_UQ_INIT(&TM_(uq_).q);
  TM_(uq_).nc = nc;
  for (int i = 0; i < nc; i++) {
    TM_(uq_).got[i].n = 0;
    fns[i] = TM_(uq_cons_);
    args[i] = &TM_(uq_).got[i];
    fns[nc + i] = TM_(uq_prod_);
    args[nc + i] = NULL;
  }
  TM_(uq_).g.kick = TM_(uq_kick_);
  TM_(uq_).g.ctx = NULL;
  TM_(uq_).g.extra = NULL;
  TM_(uq_).g.nextra = 0;
  double r = bench_group_run(&TM_(uq_).g, 2 * nc, fns, args, TM_(uq_).got, nc);
  TM_UQ_DESTROY(&TM_(uq_).q);
  return r;
}
#endif /* TM_HAVE_UQUEUE */
