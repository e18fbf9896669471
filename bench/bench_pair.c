/* bench_pair (issues 2 and 15): the rendezvous rate of a producer/consumer
 * pair and the uncontended fast paths, for every libsyncplus backend beside
 * the raw OS primitives and the peers (peers.h), in one process.
 *
 * Ping-pong: a producer and a consumer hand one token back and forth; one
 * transaction is one token produced and consumed (tx_per_s), with the
 * context switches per transaction (cs_per_op). Cases, by backend:
 *   each backend  cond          sp_mutex_t + two sp_cond_t
 *                 lock          two sp_lock_t used as binary semaphores
 *                               (Python style)
 *   raw           pthread_cond  pthread_mutex_t + two pthread_cond_t
 *                 sem_t         two sem_t
 *                 futex         one futex word, unconditional wake
 *   glib          gcond         GMutex + two GCond
 *   libuv         uv_cond       uv_mutex_t + two uv_cond_t
 *                 uv_sem        two uv_sem_t
 *   c11           cnd           mtx_t + two cnd_t
 * Uncontended fast paths, ns per lock+unlock pair (ns_per_op):
 *   each backend  fast_sp_mutex, fast_sp_rlock, fast_sp_lock
 *   raw           fast_pthread_mutex, fast_pthread_rmutex (recursive)
 *   glib          fast_gmutex, fast_grecmutex
 *   libuv         fast_uv_mutex
 *   c11           fast_mtx, fast_mtx_recursive
 * Each figure is the median of interleaved rounds (peers.c): the fast paths
 * as short batches of every loop in turn, the pairs as short windows of
 * every pair in turn. */
#include <stdio.h>

#include "peers.h"

static int has_pair_(const char *backend) {
  (void)backend;
  return 1;
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {20, 80, 300};
  int rc = bench_init(argc, argv, "pair", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  bench_ratio("cond vs raw pthread_cond", "*", "cond", "raw", "pthread_cond",
              "tx_per_s");
  bench_ratio("cond vs raw futex", "*", "cond", "raw", "futex", "tx_per_s");
  bench_ratio("lock vs raw pthread_cond", "*", "lock", "raw", "pthread_cond",
              "tx_per_s");
  bench_ratio("lock vs raw sem_t", "*", "lock", "raw", "sem_t", "tx_per_s");
  bench_ratio("cond: sem vs pthread", "sem", "cond", "pthread", "cond",
              "tx_per_s");
  bench_ratio("lock: sem vs pthread", "sem", "lock", "pthread", "lock",
              "tx_per_s");
  bench_ratio("raw sem_t vs raw pthread_cond", "raw", "sem_t", "raw",
              "pthread_cond", "tx_per_s");
  bench_ratio("cond vs GCond", "*", "cond", "glib", "gcond", "tx_per_s");
  bench_ratio("fast sp_mutex vs pthread_mutex (time)", "*", "fast_sp_mutex",
              "raw", "fast_pthread_mutex", "ns_per_op");
  bench_ratio("fast sp_mutex vs GMutex (time)", "*", "fast_sp_mutex", "glib",
              "fast_gmutex", "ns_per_op");
  bench_ratio("fast sp_lock vs pthread_mutex (time)", "*", "fast_sp_lock",
              "raw", "fast_pthread_mutex", "ns_per_op");
  bench_ratio("fast sp_rlock vs recursive pthread_mutex (time)", "*",
              "fast_sp_rlock", "raw", "fast_pthread_rmutex", "ns_per_op");

  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  spb_skip_absent("*", has_pair_);

  static spb_fcell fc[SPB_MAX_IMPLS * SPB_LIST_MAX];
  int nf = 0;
  for (int i = 0; i < ni; i++)
    for (int k = 0; k < SPB_LIST_MAX && impl[i]->fast[k].case_ != NULL; k++)
      if (bench_want(impl[i]->fast[k].case_)) {
        fc[nf].backend = impl[i]->backend;
        fc[nf].case_ = impl[i]->fast[k].case_;
        fc[nf].loop = impl[i]->fast[k].loop;
        nf++;
      }
  if (nf > 0)
    spb_run_fast(fc, nf, spb_by_mode(10, 150, 400), spb_by_mode(100, 200, 500));

  static spb_cell pc[SPB_MAX_IMPLS * SPB_LIST_MAX];
  int np = 0;
  for (int i = 0; i < ni; i++)
    for (int k = 0; k < SPB_LIST_MAX && impl[i]->pair[k].case_ != NULL; k++)
      if (bench_want(impl[i]->pair[k].case_)) {
        spb_cell *c = &pc[np++];
        c->backend = impl[i]->backend;
        snprintf(c->case_, sizeof c->case_, "%s", impl[i]->pair[k].case_);
        c->metric = "tx_per_s";
        c->run = impl[i]->pair[k].run;
        c->param = 0;
      }
  if (np > 0)
    spb_run_cells(pc, np, spb_by_mode(1, 3, 5), bench_o.time_ns / 1000000,
                  bench_o.warmup_ns / 1000000);
  return 0;
}
