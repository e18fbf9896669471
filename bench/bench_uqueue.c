/* bench_uqueue (issue 15; its rows belong to bench "queue"): an unbounded
 * queue with N threads, half producers putting as fast as they can, half
 * consumers (N = 2, 4, 100), for every libsyncplus backend's sp_queue_t
 * (maxsize 0) beside an unbounded ring on a pthread mutex and condition
 * (raw) and GLib's GAsyncQueue, in one process: sp_unbounded_N,
 * ring_unbounded_N, gasyncqueue_N; items_per_s (items got by the consumers
 * per second) and cs_per_op (context switches per item). Each figure is
 * the median of interleaved rounds of short windows (peers.c). The bounded
 * queue is bench_queue's. */
#include <stdio.h>
#include <string.h>

#include "peers.h"

static int has_uqueue_(const char *backend) {
  return strcmp(backend, "glib") == 0;
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {10, 40, 200};
  int rc = bench_init(argc, argv, "queue", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  static const int N[3] = {2, 4, 100};
  for (int k = 0; k < 3; k++) {
    char a[48], b[48], name[128];
    snprintf(a, sizeof a, "sp_unbounded_%d", N[k]);
    snprintf(b, sizeof b, "ring_unbounded_%d", N[k]);
    snprintf(name, sizeof name, "%s vs raw %s", a, b);
    bench_ratio(name, "*", a, "raw", b, "items_per_s");
    snprintf(b, sizeof b, "gasyncqueue_%d", N[k]);
    snprintf(name, sizeof name, "%s vs %s", a, b);
    bench_ratio(name, "*", a, "glib", b, "items_per_s");
  }

  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  spb_skip_absent("gasyncqueue_*", has_uqueue_);
  static spb_cell cells[SPB_MAX_IMPLS * 3];
  int n = 0;
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < ni; i++)
      if (impl[i]->uqueue_case != NULL)
        spb_add_cell(cells, &n, impl[i]->backend, impl[i]->uqueue_case,
                     impl[i]->uqueue, N[k], "items_per_s");
  spb_run_cells(cells, n, spb_by_mode(1, 3, 5), bench_o.time_ns / 1000000,
                bench_o.warmup_ns / 1000000);
  return 0;
}
