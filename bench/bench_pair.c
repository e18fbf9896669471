/* bench_pair (issue 2): rendezvous rate of a producer/consumer pair.
 *
 * A producer and a consumer hand one token back and forth; one transaction
 * is one token produced and consumed (the producer then waits for the slot
 * to be free again), reported as transactions per second (tx_per_s).
 *
 * Cases (backend column = this binary's backend unless noted):
 *   cond            sp_mutex_t + two sp_cond_t (not_empty, not_full)
 *   lock            two sp_lock_t used as binary semaphores (Python style:
 *                   the producer acquires `empty`, releases `full`; the
 *                   consumer acquires `full`, releases `empty`)
 *   pthread_cond    raw: pthread_mutex_t + two pthread_cond_t   (backend raw)
 *   sem_t           raw: two sem_t                               (backend raw)
 *   futex           raw: one futex word, unconditional wake      (backend raw)
 * and the uncontended fast paths, in ns per lock+unlock pair (ns_per_op):
 *   fast_sp_mutex   sp_mutex_lock + sp_mutex_unlock
 *   fast_sp_lock    sp_lock_acquire(FOREVER) + sp_lock_release
 *   fast_pthread_mutex  raw pthread_mutex_lock + unlock          (backend raw)
 */
#include "bench.h"

#include <syncplus.h>

#define BE (sp_backend())

typedef struct pair {
  bench_group g;
  bench_counter tx; /* producer's count */
  int token;        /* 1 when the slot holds a token (under the mutex) */
  sp_mutex_t m;
  sp_cond_t not_empty, not_full;
  sp_lock_t empty, full;
  bench_rmutex rm; /* fast_pthread_mutex */
} pair;

static double run_pair(pair *p, void *(*prod)(void *), void *(*cons)(void *),
                       void (*kick)(void *)) {
  return bench_group_run_pair(&p->g, &p->tx, p, prod, cons, kick);
}

/* ---- sp_cond ---- */

static void *cond_prod(void *arg) {
  pair *p = arg;
  for (;;) {
    (void)!sp_mutex_lock(&p->m);
    while (p->token && !bench_group_stopping(&p->g))
      (void)!sp_cond_wait(&p->not_full, &p->m, SP_FOREVER);
    p->token = 1;
    sp_cond_signal(&p->not_empty);
    sp_mutex_unlock(&p->m);
    bench_count(&p->tx, 1);
    if (bench_group_stopping(&p->g))
      break;
  }
  bench_group_done(&p->g);
  return NULL;
}

static void *cond_cons(void *arg) {
  pair *p = arg;
  for (;;) {
    (void)!sp_mutex_lock(&p->m);
    while (!p->token && !bench_group_stopping(&p->g))
      (void)!sp_cond_wait(&p->not_empty, &p->m, SP_FOREVER);
    p->token = 0;
    sp_cond_signal(&p->not_full);
    sp_mutex_unlock(&p->m);
    if (bench_group_stopping(&p->g))
      break;
  }
  bench_group_done(&p->g);
  return NULL;
}

static void cond_kick(void *arg) {
  pair *p = arg;
  (void)!sp_mutex_lock(&p->m);
  sp_cond_broadcast(&p->not_empty);
  sp_cond_broadcast(&p->not_full);
  sp_mutex_unlock(&p->m);
}

/* ---- sp_lock as binary semaphores ---- */

static void *lock_prod(void *arg) {
  pair *p = arg;
  while (!bench_group_stopping(&p->g)) {
    (void)!sp_lock_acquire(&p->empty, SP_FOREVER);
    sp_lock_release(&p->full);
    bench_count(&p->tx, 1);
  }
  bench_group_done(&p->g);
  return NULL;
}

static void *lock_cons(void *arg) {
  pair *p = arg;
  while (!bench_group_stopping(&p->g)) {
    (void)!sp_lock_acquire(&p->full, SP_FOREVER);
    sp_lock_release(&p->empty);
  }
  bench_group_done(&p->g);
  return NULL;
}

static void lock_kick(void *arg) {
  pair *p = arg;
  (void)sp_lock_release(&p->empty); /* SP_EPERM if already free: fine */
  (void)sp_lock_release(&p->full);
}

/* ---- uncontended fast paths ---- */

/* ns per iteration of loop(ctx, n), doubling n until a batch lasts 1/8 of
 * the window, then timing batches for the whole window. */
static double fast_ns(void (*loop)(void *, uint64_t), void *ctx) {
  uint64_t n = 1024;
  int64_t target = bench_o.time_ns / 8;
  int64_t t0 = bench_now_ns(), dt = 0;
  while (bench_now_ns() - t0 < bench_o.warmup_ns) /* warm-up */
    loop(ctx, n);
  for (;;) {
    int64_t a = bench_now_ns();
    loop(ctx, n);
    dt = bench_now_ns() - a;
    if (dt >= target || n >= ((uint64_t)1 << 40))
      break;
    n *= 2;
  }
  uint64_t total = 0;
  int64_t start = bench_now_ns(), now = start;
  while (now - start < bench_o.time_ns) {
    loop(ctx, n);
    total += n;
    now = bench_now_ns();
  }
  return (double)(now - start) / (double)total;
}

static void loop_sp_mutex(void *ctx, uint64_t n) {
  sp_mutex_t *m = ctx;
  for (uint64_t i = 0; i < n; i++) {
    (void)!sp_mutex_lock(m);
    sp_mutex_unlock(m);
  }
}

static void loop_sp_lock(void *ctx, uint64_t n) {
  sp_lock_t *l = ctx;
  for (uint64_t i = 0; i < n; i++) {
    (void)!sp_lock_acquire(l, SP_FOREVER);
    sp_lock_release(l);
  }
}

static void loop_raw_mutex(void *ctx, uint64_t n) {
  bench_rmutex_loop(ctx, n);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {40, 300, 800};
  int rc = bench_init(argc, argv, "pair", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  bench_ratio("cond vs raw pthread_cond", "*", "cond", "raw", "pthread_cond",
              "tx_per_s");
  bench_ratio("lock vs raw pthread_cond", "*", "lock", "raw", "pthread_cond",
              "tx_per_s");
  bench_ratio("cond: sem vs pthread", "sem", "cond", "pthread", "cond",
              "tx_per_s");
  bench_ratio("lock: sem vs pthread", "sem", "lock", "pthread", "lock",
              "tx_per_s");
  bench_ratio("raw sem_t vs raw pthread_cond", "raw", "sem_t", "raw",
              "pthread_cond", "tx_per_s");
  bench_ratio("fast sp_mutex vs pthread_mutex (time)", "*", "fast_sp_mutex",
              "raw", "fast_pthread_mutex", "ns_per_op");
  bench_ratio("fast sp_lock vs pthread_mutex (time)", "*", "fast_sp_lock",
              "raw", "fast_pthread_mutex", "ns_per_op");

  static pair p;
  if (sp_mutex_init(&p.m) || sp_cond_init(&p.not_empty) ||
      sp_cond_init(&p.not_full) || sp_lock_init(&p.empty) ||
      sp_lock_init(&p.full))
    bench_die("init failed");
  bench_rmutex_init(&p.rm);

  if (bench_want("cond")) {
    p.token = 0;
    bench_emit(BE, "cond", "tx_per_s",
               run_pair(&p, cond_prod, cond_cons, cond_kick));
  }
  if (bench_want("lock")) {
    (void)!sp_lock_acquire(&p.full, 0); /* no token yet */
    bench_emit(BE, "lock", "tx_per_s",
               run_pair(&p, lock_prod, lock_cons, lock_kick));
    /* reset both to free (teardown leaves them in any state) */
    (void)!sp_lock_acquire(&p.empty, 0);
    sp_lock_release(&p.empty);
    (void)!sp_lock_acquire(&p.full, 0);
    sp_lock_release(&p.full);
  }
  /* The raw baselines (rawpair.c). */
  if (bench_want("pthread_cond"))
    bench_emit("raw", "pthread_cond", "tx_per_s", bench_rawpair_cond());
  if (bench_want("sem_t"))
    bench_emit("raw", "sem_t", "tx_per_s", bench_rawpair_sem());
  if (bench_want("futex") && bench_futex_available())
    bench_emit("raw", "futex", "tx_per_s", bench_rawpair_futex());
  if (bench_want("fast_sp_mutex"))
    bench_emit(BE, "fast_sp_mutex", "ns_per_op", fast_ns(loop_sp_mutex, &p.m));
  if (bench_want("fast_sp_lock"))
    bench_emit(BE, "fast_sp_lock", "ns_per_op",
               fast_ns(loop_sp_lock, &p.empty));
  if (bench_want("fast_pthread_mutex"))
    bench_emit("raw", "fast_pthread_mutex", "ns_per_op",
               fast_ns(loop_raw_mutex, &p.rm));

  bench_rmutex_destroy(&p.rm);
  return 0;
}
