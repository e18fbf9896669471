/* The libsyncplus side of the peer benches (peers.h): one backend's table.
 * Built once per backend: SPB_SP_NAME names the table (spb_impl_sem, ...)
 * and SPB_SP_BACKEND is the backend it must be linked with (checked at
 * run time against sp_backend()). In a multi-backend build this file and
 * the backend's static library become one object whose only global symbol
 * is the table (bench/CMakeLists.txt). */
#include <string.h>
#include <syncplus.h>

#include "peers.h"

#ifndef SPB_SP_NAME
#error "define SPB_SP_NAME (the table's name) and SPB_SP_BACKEND"
#endif
/* The CSV backend column (experiments with variants of one backend set it;
 * by default the backend's name). */
#ifndef SPB_SP_LABEL
#define SPB_SP_LABEL SPB_SP_BACKEND
#endif

static void sp_check_(int rc, const char *what) {
  if (rc != SP_OK)
    bench_die(what);
}

#define TM_PREFIX           spi_
#define TM_MUTEX_T          sp_mutex_t
#define TM_MUTEX_INIT(m)    sp_check_(sp_mutex_init(m), "sp_mutex_init failed")
#define TM_MUTEX_DESTROY(m) (void)sp_mutex_destroy(m)
#define TM_LOCK(m)          (void)!sp_mutex_lock(m)
#define TM_UNLOCK(m)        (void)sp_mutex_unlock(m)
#define TM_HAVE_RMUTEX
#define TM_RMUTEX_T       sp_rlock_t
#define TM_RMUTEX_INIT(m) sp_check_(sp_rlock_init(m), "sp_rlock_init failed")
#define TM_RLOCK(m)       (void)!sp_rlock_acquire(m, SP_FOREVER)
#define TM_RUNLOCK(m)     (void)sp_rlock_release(m)
#define TM_HAVE_COND
#define TM_COND_T          sp_cond_t
#define TM_COND_INIT(c)    sp_check_(sp_cond_init(c), "sp_cond_init failed")
#define TM_COND_DESTROY(c) (void)sp_cond_destroy(c)
#define TM_WAIT(c, m)      (void)!sp_cond_wait(c, m, SP_FOREVER)
#define TM_SIGNAL(c)       (void)sp_cond_signal(c)
#define TM_BROADCAST(c)    (void)sp_cond_broadcast(c)
#define TM_HAVE_BARRIER
#define TM_BARRIER_T sp_barrier_t
#define TM_BARRIER_INIT(b, n)                                                  \
  sp_check_(sp_barrier_init(b, n, NULL, NULL), "sp_barrier_init failed")
#define TM_BARRIER_DESTROY(b) (void)sp_barrier_destroy(b)
#define TM_BARRIER_WAIT(b)    (void)!sp_barrier_wait(b, SP_FOREVER, NULL)
#define TM_HAVE_UQUEUE
#define TM_UQ_T          sp_queue_t
#define TM_UQ_INIT(q)    sp_check_(sp_queue_init(q, 0), "sp_queue_init failed")
#define TM_UQ_DESTROY(q) sp_uq_destroy_(q)
#define TM_UQ_PUT(q, it)                                                       \
  sp_check_(sp_queue_put(q, it, SP_FOREVER), "put failed")
#define TM_UQ_GET(q) sp_uq_get_(q)

static void sp_uq_destroy_(sp_queue_t *q) {
  void *it;
  while (sp_queue_get(q, &it, 0) == SP_OK)
    ;
  sp_check_(sp_queue_destroy(q), "sp_queue_destroy failed");
}

static void *sp_uq_get_(sp_queue_t *q) {
  void *it = NULL;
  return sp_queue_get(q, &it, SP_FOREVER) == SP_OK ? it : NULL;
}

#include "peer_tmpl.h"

/* ---- sp_lock: the uncontended path, and two locks used as binary
 * semaphores the Python way (the producer acquires `empty` and releases
 * `full`, the consumer the reverse) ---- */

static sp_lock_t fast_l_;

static void sp_fast_lock_(uint64_t n) {
  sp_lock_t *l = &fast_l_;
  for (uint64_t i = 0; i < n; i++) {
    (void)!sp_lock_acquire(l, SP_FOREVER);
    (void)sp_lock_release(l);
  }
}

static struct {
  bench_group g;
  bench_counter tx;
  _Alignas(64) sp_lock_t empty;
  _Alignas(64) sp_lock_t full;
} lp_;

static void *lp_prod_(void *arg) {
  (void)arg;
  while (!bench_group_stopping(&lp_.g)) {
    (void)!sp_lock_acquire(&lp_.empty, SP_FOREVER);
    (void)sp_lock_release(&lp_.full);
    bench_count(&lp_.tx, 1);
  }
  bench_group_done(&lp_.g);
  return NULL;
}

static void *lp_cons_(void *arg) {
  (void)arg;
  while (!bench_group_stopping(&lp_.g)) {
    (void)!sp_lock_acquire(&lp_.full, SP_FOREVER);
    (void)sp_lock_release(&lp_.empty);
  }
  bench_group_done(&lp_.g);
  return NULL;
}

static void lp_kick_(void *arg) {
  (void)arg;
  (void)sp_lock_release(&lp_.empty); /* SP_EPERM if already free: fine */
  (void)sp_lock_release(&lp_.full);
}

static double sp_lock_pair_(int unused) {
  (void)unused;
  sp_check_(sp_lock_init(&lp_.empty), "sp_lock_init failed");
  sp_check_(sp_lock_init(&lp_.full), "sp_lock_init failed");
  (void)!sp_lock_acquire(&lp_.full, 0); /* no token yet */
  lp_.g.extra = NULL;
  lp_.g.nextra = 0;
  double r =
      bench_group_run_pair(&lp_.g, &lp_.tx, NULL, lp_prod_, lp_cons_, lp_kick_);
  /* teardown leaves them in any state: free both before destroying */
  (void)!sp_lock_acquire(&lp_.empty, 0);
  (void)sp_lock_release(&lp_.empty);
  (void)!sp_lock_acquire(&lp_.full, 0);
  (void)sp_lock_release(&lp_.full);
  (void)sp_lock_destroy(&lp_.empty);
  (void)sp_lock_destroy(&lp_.full);
  return r;
}

/* ---- sp_gil_yield with no waiter: the holder's check point ---- */

static sp_gil_t fast_g_;

static void sp_fast_gil_yield_(uint64_t n) {
  sp_gil_t *g = &fast_g_;
  (void)sp_gil_acquire(g);
  for (uint64_t i = 0; i < n; i++)
    (void)sp_gil_yield(g);
  (void)sp_gil_release(g);
}

static void sp_setup_(void) {
  if (strcmp(sp_backend(), SPB_SP_BACKEND) != 0)
    bench_die("impl_sp.c linked with the wrong backend");
  spi_fast_init();
  spi_fast_rinit();
  sp_check_(sp_lock_init(&fast_l_), "sp_lock_init failed");
  sp_check_(sp_gil_init(&fast_g_, NULL), "sp_gil_init failed");
}

const spb_impl SPB_SP_NAME = {
    .backend = SPB_SP_LABEL,
    .setup = sp_setup_,
    .fast = {{"fast_sp_mutex", spi_fast_mutex},
             {"fast_sp_rlock", spi_fast_rmutex},
             {"fast_sp_lock", sp_fast_lock_},
             {"fast_sp_gil_yield", sp_fast_gil_yield_}},
    .pair = {{"cond", spi_cond_pair}, {"lock", sp_lock_pair_}},
    .counter = spi_counter,
    .barrier = spi_barrier,
    .uqueue_case = "sp_unbounded",
    .uqueue = spi_uqueue,
    .bcast = spi_bcast,
};
