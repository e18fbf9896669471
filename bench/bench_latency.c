/* bench_latency (issue 5b): I/O responsiveness of the interpreter lock.
 *
 * For each policy P (default configs) and N in 0, 1, 2, 4 CPU threads:
 *   P/lat_cpuN   lat_med_us, lat_p99_us, lat_max_us
 *                An I/O interpreter thread blocks reading a socketpair with
 *                the GIL released; a waker thread (no GIL, standing for
 *                another process) sends it a timestamp every PERIOD; the
 *                sample is send -> the I/O thread holds the GIL again.
 *                gil_med_us, gil_p99_us: the part of it from read()
 *                returning to sp_gil_acquire() returning (the rest is the
 *                OS waking the thread and giving it a CPU);
 *                samples: samples in the window; skipped: waker ticks
 *                skipped because the I/O thread had not come back yet;
 *                cpu_units_per_s: the CPU threads' work meanwhile.
 *   P/bw_cpuN    rt_per_s: ccbench's bandwidth figure, echo round trips
 *                per second over a socketpair (an echo interpreter thread
 *                releasing the GIL around each read and write; a client
 *                without GIL); pct_of_0: as a percentage of the 0-thread
 *                rate of the same run. N in 0..4.
 */
#include "gilsim.h"

#include <stdio.h>

#define BE (sp_backend())

#define PERIOD_NS 500000 /* waker period: 2000 wakeups per second */

static void policy_cases(int policy) {
  static gs_world w;
  static const int lat_threads[4] = {0, 1, 2, 4};
  sp_gil_config cfg;
  char c[64];
  const char *pn = gs_policy_name(policy);
  sp_gil_config_default(&cfg, policy);
  gs_init(&w, &cfg);

  for (int i = 0; i < 4; i++) {
    int n = lat_threads[i];
    snprintf(c, sizeof c, "%s/lat_cpu%d", pn, n);
    if (!bench_want(c))
      continue;
    gs_latency l;
    gs_run_latency(&w, n, PERIOD_NS, &l);
    if (l.samples > 0) { /* none: the I/O thread starved all window */
      bench_emit(BE, c, "lat_med_us", l.med_us);
      bench_emit(BE, c, "lat_p99_us", l.p99_us);
      bench_emit(BE, c, "lat_max_us", l.max_us);
      bench_emit(BE, c, "gil_med_us", l.gil_med_us);
      bench_emit(BE, c, "gil_p99_us", l.gil_p99_us);
    }
    bench_emit(BE, c, "samples", l.samples);
    bench_emit(BE, c, "skipped", l.skipped);
    if (n > 0)
      bench_emit(BE, c, "cpu_units_per_s", l.cpu_rate);
  }

  snprintf(c, sizeof c, "%s/bw_", pn);
  if (bench_want(c)) {
    double base = 0;
    for (int n = 0; n <= 4; n++) {
      double cpu = 0;
      double rt = gs_run_echo(&w, n, &cpu);
      if (n == 0)
        base = rt;
      snprintf(c, sizeof c, "%s/bw_cpu%d", pn, n);
      bench_emit(BE, c, "rt_per_s", rt);
      bench_emit(BE, c, "pct_of_0", base > 0 ? 100.0 * rt / base : 0);
    }
  }
  gs_destroy(&w);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {30, 150, 600};
  int rc = bench_init(argc, argv, "latency", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  bench_ratio("lat_cpu1 median: fair / priority", "*", "fair/lat_cpu1", "*",
              "priority/lat_cpu1", "lat_med_us");
  bench_ratio("lat_cpu2 median: fair / priority", "*", "fair/lat_cpu2", "*",
              "priority/lat_cpu2", "lat_med_us");
  bench_ratio("lat_cpu1 p99: fair / priority", "*", "fair/lat_cpu1", "*",
              "priority/lat_cpu1", "lat_p99_us");
  bench_ratio("lat_cpu1 median: sem / pthread", "sem", "priority/lat_cpu1",
              "pthread", "priority/lat_cpu1", "lat_med_us");

  policy_cases(SP_GIL_LEGACY);
  policy_cases(SP_GIL_FAIR);
  policy_cases(SP_GIL_PRIORITY);
  return 0;
}
