/* bench_contended (issue 15): a counter incremented under one mutex by T
 * threads (T = 2, 4), for every libsyncplus backend's sp_mutex_t beside
 * pthread_mutex_t (raw), GMutex (glib), uv_mutex_t (libuv) and mtx_t (c11),
 * in one process: counter_T, ops_per_s (lock+increment+unlock per second,
 * all threads) and cs_per_op (the process's context switches per
 * operation). Each figure is the median of interleaved rounds of short
 * windows (peers.c). The sweep over 1..64 threads is bench_sweep's. */
#include <stdio.h>
#include <string.h>

#include "peers.h"

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {10, 50, 200};
  int rc = bench_init(argc, argv, "contended", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  static const int T[2] = {2, 4};
  for (int t = 0; t < 2; t++) {
    char c[32], name[64];
    snprintf(c, sizeof c, "counter_%d", T[t]);
    snprintf(name, sizeof name, "%s vs GMutex", c);
    bench_ratio(name, "*", c, "glib", c, "ops_per_s");
    snprintf(name, sizeof name, "%s vs pthread_mutex", c);
    bench_ratio(name, "*", c, "raw", c, "ops_per_s");
  }

  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  spb_skip_absent("*", NULL);
  static spb_cell cells[SPB_MAX_IMPLS * 2];
  int n = 0;
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < ni; i++)
      spb_add_cell(cells, &n, impl[i]->backend, "counter", impl[i]->counter,
                   T[t], "ops_per_s");
  spb_run_cells(cells, n, spb_by_mode(1, 3, 5), bench_o.time_ns / 1000000,
                bench_o.warmup_ns / 1000000);
  return 0;
}
