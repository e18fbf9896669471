/* The raw OS baselines of the peer benches (peers.h), backend "raw":
 * pthread_mutex_t (normal and recursive), pthread_cond_t, sem_t, a futex
 * word, pthread_barrier_t and an unbounded ring on a pthread mutex and
 * condition, all through the OS layer of bench.h (bench_posix.c; SRWLOCK,
 * CONDITION_VARIABLE and semaphores in bench_win32.c). The fast paths call
 * the OS directly from a loop in that layer (bench_rmutex_loop); the other
 * workloads pay one call more per operation than a program calling the OS
 * itself, as bench/rawpair.c does. */
#include <stdlib.h>

#include "peers.h"

#define TM_PREFIX           raw_
#define TM_MUTEX_T          bench_rmutex
#define TM_MUTEX_INIT(m)    bench_rmutex_init(m)
#define TM_MUTEX_DESTROY(m) bench_rmutex_destroy(m)
#define TM_LOCK(m)          bench_rmutex_lock(m)
#define TM_UNLOCK(m)        bench_rmutex_unlock(m)
#define TM_HAVE_COND
#define TM_COND_T          bench_rcond
#define TM_COND_INIT(c)    bench_rcond_init(c)
#define TM_COND_DESTROY(c) bench_rcond_destroy(c)
#define TM_WAIT(c, m)      bench_rcond_wait(c, m)
#define TM_SIGNAL(c)       bench_rcond_signal(c)
#define TM_BROADCAST(c)    bench_rcond_broadcast(c)
#define TM_HAVE_BARRIER
#define TM_BARRIER_T          bench_rbarrier
#define TM_BARRIER_INIT(b, n) bench_rbarrier_init(b, n)
#define TM_BARRIER_DESTROY(b) bench_rbarrier_destroy(b)
#define TM_BARRIER_WAIT(b)    (void)bench_rbarrier_wait(b)
#define TM_HAVE_UQUEUE
#define TM_UQ_T          raw_ring_
#define TM_UQ_INIT(q)    raw_ring_init_(q)
#define TM_UQ_DESTROY(q) raw_ring_destroy_(q)
#define TM_UQ_PUT(q, it) raw_ring_put_(q, it)
#define TM_UQ_GET(q)     raw_ring_get_(q)

/* The unbounded queue a C programmer writes on pthreads: a ring that
 * doubles when full, one mutex, one condition (not empty) signalled once
 * per put. */
typedef struct raw_ring_ {
  bench_rmutex m;
  bench_rcond ne;
  void **slot;
  size_t cap, head, count; /* cap a power of two */
} raw_ring_;

static void raw_ring_init_(raw_ring_ *q) {
  bench_rmutex_init(&q->m);
  bench_rcond_init(&q->ne);
  q->cap = 64;
  q->head = q->count = 0;
  q->slot = malloc(q->cap * sizeof *q->slot);
  if (q->slot == NULL)
    bench_die("out of memory");
}

static void raw_ring_destroy_(raw_ring_ *q) {
  free(q->slot);
  bench_rcond_destroy(&q->ne);
  bench_rmutex_destroy(&q->m);
}

static void raw_ring_put_(raw_ring_ *q, void *it) {
  bench_rmutex_lock(&q->m);
  if (q->count == q->cap) {
    void **s = malloc(2 * q->cap * sizeof *s);
    if (s == NULL)
      bench_die("out of memory");
    for (size_t i = 0; i < q->count; i++)
      s[i] = q->slot[(q->head + i) & (q->cap - 1)];
    free(q->slot);
    q->slot = s;
    q->head = 0;
    q->cap *= 2;
  }
  q->slot[(q->head + q->count) & (q->cap - 1)] = it;
  q->count++;
  bench_rcond_signal(&q->ne);
  bench_rmutex_unlock(&q->m);
}

static void *raw_ring_get_(raw_ring_ *q) {
  bench_rmutex_lock(&q->m);
  while (q->count == 0)
    bench_rcond_wait(&q->ne, &q->m);
  void *it = q->slot[q->head];
  q->head = (q->head + 1) & (q->cap - 1);
  q->count--;
  bench_rmutex_unlock(&q->m);
  return it;
}

#include "peer_tmpl.h"

static bench_rmutex fast_m_;
static bench_rrmutex fast_r_;

static void raw_fast_mutex_(uint64_t n) {
  bench_rmutex_loop(&fast_m_, n);
}

static void raw_fast_rmutex_(uint64_t n) {
  bench_rrmutex_loop(&fast_r_, n);
}

static double raw_pair_cond_(int unused) {
  (void)unused;
  return bench_rawpair_cond();
}

static double raw_pair_sem_(int unused) {
  (void)unused;
  return bench_rawpair_sem();
}

/* Negative: not measurable here (the driver prints a #skip line). */
static double raw_pair_futex_(int unused) {
  (void)unused;
  return bench_futex_available() ? bench_rawpair_futex() : -1.0;
}

static double raw_barrier_(int n) {
  return bench_rbarrier_available() ? raw_barrier(n) : -1.0;
}

static void raw_setup_(void) {
  bench_rmutex_init(&fast_m_);
  bench_rrmutex_init(&fast_r_);
}

const spb_impl spb_impl_raw = {
    .backend = "raw",
    .setup = raw_setup_,
    .fast = {{"fast_pthread_mutex", raw_fast_mutex_},
             {"fast_pthread_rmutex", raw_fast_rmutex_}},
    .pair = {{"pthread_cond", raw_pair_cond_},
             {"sem_t", raw_pair_sem_},
             {"futex", raw_pair_futex_}},
    .counter = raw_counter,
    .barrier = raw_barrier_,
    .uqueue_case = "ring_unbounded",
    .uqueue = raw_uqueue,
    .bcast = raw_bcast,
};
