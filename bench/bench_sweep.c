/* bench_sweep (issue 15, --full only): how each cost grows, for every
 * libsyncplus backend beside the raw OS primitives and the peers, in one
 * process:
 *   counter_T     T threads increment one counter under the mutex (T = 1,
 *                 2, 4, 8, 16, 32, 64): ops_per_s, cs_per_op
 *   broadcast_N   one thread bumps a generation under the mutex, broadcasts
 *                 the condition to N waiters (N = 1, 10, 100, 1000) and
 *                 waits until every waiter has seen it: wake_per_s (the
 *                 waiters' wake-ups per second; broadcasts per second are
 *                 that over N), cs_per_op (context switches per wake-up)
 * Each figure is the median of interleaved rounds of short windows
 * (peers.c). */
#include <stdio.h>
#include <string.h>

#include "peers.h"

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {10, 50, 100};
  int rc = bench_init(argc, argv, "sweep", "all", times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  static const int T[7] = {1, 2, 4, 8, 16, 32, 64};
  static const int N[4] = {1, 10, 100, 1000};

  const spb_impl *impl[SPB_MAX_IMPLS];
  int ni = spb_impls(impl);
  spb_skip_absent("*", NULL);
  static spb_cell cells[SPB_MAX_IMPLS * 11];
  int n = 0;
  for (int t = 0; t < 7; t++)
    for (int i = 0; i < ni; i++)
      spb_add_cell(cells, &n, impl[i]->backend, "counter", impl[i]->counter,
                   T[t], "ops_per_s");
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < ni; i++)
      spb_add_cell(cells, &n, impl[i]->backend, "broadcast", impl[i]->bcast,
                   N[k], "wake_per_s");
  spb_run_cells(cells, n, spb_by_mode(1, 3, 3), bench_o.time_ns / 1000000,
                bench_o.warmup_ns / 1000000);
  return 0;
}
