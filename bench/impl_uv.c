/* libuv's thread primitives in the peer benches (peers.h), backend
 * "libuv": uv_mutex_t, uv_cond_t, uv_sem_t, uv_barrier_t. Built when
 * pkg-config finds libuv. (libuv aborts the process when the OS refuses
 * one of these calls; that is its contract, not ours.) */
#include <uv.h>

#include "peers.h"

static void uv_check_(int rc, const char *what) {
  if (rc != 0)
    bench_die(what);
}

#define TM_PREFIX           uvi_
#define TM_MUTEX_T          uv_mutex_t
#define TM_MUTEX_INIT(m)    uv_check_(uv_mutex_init(m), "uv_mutex_init failed")
#define TM_MUTEX_DESTROY(m) uv_mutex_destroy(m)
#define TM_LOCK(m)          uv_mutex_lock(m)
#define TM_UNLOCK(m)        uv_mutex_unlock(m)
#define TM_HAVE_COND
#define TM_COND_T          uv_cond_t
#define TM_COND_INIT(c)    uv_check_(uv_cond_init(c), "uv_cond_init failed")
#define TM_COND_DESTROY(c) uv_cond_destroy(c)
#define TM_WAIT(c, m)      uv_cond_wait(c, m)
#define TM_SIGNAL(c)       uv_cond_signal(c)
#define TM_BROADCAST(c)    uv_cond_broadcast(c)
#define TM_HAVE_BARRIER
#define TM_BARRIER_T uv_barrier_t
#define TM_BARRIER_INIT(b, n)                                                  \
  uv_check_(uv_barrier_init(b, n), "uv_barrier_init failed")
#define TM_BARRIER_DESTROY(b) uv_barrier_destroy(b)
#define TM_BARRIER_WAIT(b)    (void)uv_barrier_wait(b)

#include "peer_tmpl.h"

/* ---- two uv_sem_t handing a token back and forth (as rawpair.c's sem_t
 * pair) ---- */

static struct {
  bench_group g;
  bench_counter tx;
  _Alignas(64) uv_sem_t empty;
  _Alignas(64) uv_sem_t full;
} usem_;

static void *sem_prod_(void *arg) {
  (void)arg;
  while (!bench_group_stopping(&usem_.g)) {
    uv_sem_wait(&usem_.empty);
    uv_sem_post(&usem_.full);
    bench_count(&usem_.tx, 1);
  }
  bench_group_done(&usem_.g);
  return NULL;
}

static void *sem_cons_(void *arg) {
  (void)arg;
  while (!bench_group_stopping(&usem_.g)) {
    uv_sem_wait(&usem_.full);
    uv_sem_post(&usem_.empty);
  }
  bench_group_done(&usem_.g);
  return NULL;
}

static void sem_kick_(void *arg) {
  (void)arg;
  uv_sem_post(&usem_.empty);
  uv_sem_post(&usem_.full);
}

static double uv_sem_pair_(int unused) {
  (void)unused;
  uv_check_(uv_sem_init(&usem_.empty, 1), "uv_sem_init failed");
  uv_check_(uv_sem_init(&usem_.full, 0), "uv_sem_init failed");
  usem_.g.extra = NULL;
  usem_.g.nextra = 0;
  double r = bench_group_run_pair(&usem_.g, &usem_.tx, NULL, sem_prod_,
                                  sem_cons_, sem_kick_);
  uv_sem_destroy(&usem_.empty);
  uv_sem_destroy(&usem_.full);
  return r;
}

const spb_impl spb_impl_libuv = {
    .backend = "libuv",
    .setup = uvi_fast_init,
    .fast = {{"fast_uv_mutex", uvi_fast_mutex}},
    .pair = {{"uv_cond", uvi_cond_pair}, {"uv_sem", uv_sem_pair_}},
    .counter = uvi_counter,
    .barrier = uvi_barrier,
    .bcast = uvi_bcast,
};
