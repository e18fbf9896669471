/* bench_gilsweep (issue 5c): the trade-off between I/O responsiveness and
 * CPU throughput as the FAIR interval and the PRIORITY yield_skip/interval
 * change.
 *
 * Cases: one per configuration, named fair_i<interval> or
 * prio_s<yield_skip>_i<interval> (interval in us), each with:
 *   e            2 CPU threads' total units/s over 1 CPU thread's, with
 *                this configuration (gs_measure_e: median of back-to-back
 *                1-vs-2-thread window pairs)
 *   lat_med_us, lat_p99_us   I/O latency with 2 CPU threads (bench_latency's
 *                scenario; with 2, CPU hand-offs happen, so yield_skip and
 *                the interval matter)
 *   pc_tx_per_s  producer/consumer through sp_lock with 1 CPU thread
 */
#include "gilsim.h"

#include <stdio.h>

#define BE (sp_backend())

typedef struct point {
  int policy;
  int64_t interval_us;
  unsigned yield_skip;
} point;

static const point POINTS[] = {
    {SP_GIL_FAIR, 500, 100},          {SP_GIL_FAIR, 1000, 100},
    {SP_GIL_FAIR, 5000, 100}, /* default */
    {SP_GIL_FAIR, 20000, 100},        {SP_GIL_PRIORITY, 5000, 10},
    {SP_GIL_PRIORITY, 5000, 100}, /* default */
    {SP_GIL_PRIORITY, 5000, 1000},    {SP_GIL_PRIORITY, 1000, 1000000},
    {SP_GIL_PRIORITY, 5000, 1000000}, {SP_GIL_PRIORITY, 20000, 1000000},
};

static void point_name(const point *p, char *buf, size_t n) {
  if (p->policy == SP_GIL_FAIR)
    snprintf(buf, n, "fair_i%lld", (long long)p->interval_us);
  else
    snprintf(buf, n, "prio_s%u_i%lld", p->yield_skip,
             (long long)p->interval_us);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {20, 100, 400};
  int rc = bench_init(argc, argv, "gilsweep", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  static gs_world w;

  for (size_t i = 0; i < sizeof POINTS / sizeof POINTS[0]; i++) {
    const point *p = &POINTS[i];
    char c[64];
    point_name(p, c, sizeof c);
    if (!bench_want(c))
      continue;
    sp_gil_config cfg;
    sp_gil_config_default(&cfg, p->policy);
    cfg.interval_ns = p->interval_us * 1000;
    cfg.yield_skip = p->yield_skip;
    gs_init(&w, &cfg);
    static const int64_t rounds[3] = {1, 2, 4};
    double cpu1, cpu2;
    double e = gs_measure_e(&w, (int)bench_by_mode(rounds), &cpu1, &cpu2);
    gs_latency l;
    gs_run_latency(&w, 2, 500000, &l);
    double pc = gs_run_pair_lock(&w, 1, NULL);
    gs_destroy(&w);
    bench_emit(BE, c, "e", e);
    bench_emit(BE, c, "lat_med_us", l.med_us);
    bench_emit(BE, c, "lat_p99_us", l.p99_us);
    bench_emit(BE, c, "pc_tx_per_s", pc);
  }
  return 0;
}
