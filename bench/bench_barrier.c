/* bench_barrier (issue 15): T threads pass a barrier again and again
 * (T = 2, 4), for every libsyncplus backend's sp_barrier_t beside
 * pthread_barrier_t (raw) and uv_barrier_t (libuv), in one process:
 * barrier_T, gen_per_s (generations per second) and cs_per_op (the
 * process's context switches per generation). GLib and C11 have no
 * barrier. Each figure is the median of interleaved rounds of short
 * windows (peers.c). */
#include <stdio.h>
#include <string.h>

#include "peers.h"

static int has_barrier_(const char *backend) {
  return strcmp(backend, "libuv") == 0;
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {10, 50, 200};
  int rc = bench_init(argc, argv, "barrier", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  static const int T[2] = {2, 4};
  for (int t = 0; t < 2; t++) {
    char c[32], name[64];
    snprintf(c, sizeof c, "barrier_%d", T[t]);
    snprintf(name, sizeof name, "%s vs pthread_barrier", c);
    bench_ratio(name, "*", c, "raw", c, "gen_per_s");
  }

  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  spb_skip_absent("*", has_barrier_);
  static spb_cell cells[SPB_MAX_IMPLS * 2];
  int n = 0;
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < ni; i++)
      spb_add_cell(cells, &n, impl[i]->backend, "barrier", impl[i]->barrier,
                   T[t], "gen_per_s");
  spb_run_cells(cells, n, spb_by_mode(1, 3, 5), bench_o.time_ns / 1000000,
                bench_o.warmup_ns / 1000000);
  return 0;
}
