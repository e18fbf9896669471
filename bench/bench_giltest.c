/* bench_giltest (issue 5a): the interpreter lock under each policy, on the
 * simulated interpreter of gilsim.h.
 *
 * Cases, for each policy P in legacy, fair, priority (default configs):
 *   P/cpu1        units_per_s   1 CPU thread
 *   P/cpu2        units_per_s   2 CPU threads (total)
 *   P/e           e             cpu2 / cpu1 (ideal 1.0: the GIL
 *                               serialises, so 2 threads should do as much
 *                               work as 1): median of 1-vs-2-thread window
 *                               pairs run back to back (gs_measure_e)
 *   P/pc_lock     tx_per_s      producer/consumer through two sp_lock_t
 *   P/pc_lock_cpu1 tx_per_s     the same while 1 CPU thread runs
 *                 cpu_units_per_s  that CPU thread's rate meanwhile
 *                 kept          pc_lock_cpu1 / pc_lock: median of the ratios
 *                               of back-to-back window pairs
 *                 handoffs_{io,cpu}_per_tx, gil_wait_us_per_tx: the GIL's
 *                               statistics per transaction (why it costs)
 *   P/pc_cond     tx_per_s      producer/consumer through sp_mutex+sp_cond
 * and, with no GIL (the raw rates of the same pairs, same code paths):
 *   nogil/pc_lock, nogil/pc_cond  tx_per_s
 *   pthread_cond, sem_t           tx_per_s  (backend raw: bench_pair's
 *                                 baselines, repeated here side by side)
 *   unit          ns            one unit of simulated work (backend none) */
#include "gilsim.h"

#include <stdio.h>

#define BE (sp_backend())

static void policy_cases(int policy) {
  static gs_world w;
  sp_gil_config cfg;
  char c[64];
  const char *pn = gs_policy_name(policy);
  sp_gil_config_default(&cfg, policy);
  gs_init(&w, &cfg);

  snprintf(c, sizeof c, "%s/", pn);
  if (bench_want(c)) {
    static const int64_t rounds[3] = {1, 3, 5};
    double cpu1, cpu2;
    double e = gs_measure_e(&w, (int)bench_by_mode(rounds), &cpu1, &cpu2);
    snprintf(c, sizeof c, "%s/cpu1", pn);
    bench_emit(BE, c, "units_per_s", cpu1);
    snprintf(c, sizeof c, "%s/cpu2", pn);
    bench_emit(BE, c, "units_per_s", cpu2);
    snprintf(c, sizeof c, "%s/e", pn);
    bench_emit(BE, c, "e", e);

    /* pc_lock without and with a CPU thread, in back-to-back window pairs
     * (like e): kept is the median of the per-pair ratios. */
    int nr = (int)bench_by_mode(rounds);
    double v0[8], v1[8], vk[8], vc[8], h0[8], hio[8], hcpu[8], wt[8];
    int64_t saved = bench_o.time_ns;
    bench_o.time_ns = saved / nr;
    for (int i = 0; i < nr; i++) {
      v0[i] = gs_run_pair_lock(&w, 0, NULL);
      double t0 = w.tx_total ? (double)w.tx_total : 1;
      h0[i] = (double)(w.st.handoffs_io + w.st.handoffs_cpu) / t0;
      v1[i] = gs_run_pair_lock(&w, 1, &vc[i]);
      double t1 = w.tx_total ? (double)w.tx_total : 1;
      hio[i] = (double)w.st.handoffs_io / t1;
      hcpu[i] = (double)w.st.handoffs_cpu / t1;
      wt[i] = (double)w.st.wait_total_ns / 1e3 / t1;
      vk[i] = v0[i] > 0 ? v1[i] / v0[i] : 0;
    }
    bench_o.time_ns = saved;
    size_t n = (size_t)nr;
    double pc = bench_median(v0, n), pc1 = bench_median(v1, n);
    double cpu_rate = bench_median(vc, n), hand0 = bench_median(h0, n);
    snprintf(c, sizeof c, "%s/pc_lock", pn);
    bench_emit(BE, c, "tx_per_s", pc);
    bench_emit(BE, c, "handoffs_per_tx", hand0);
    snprintf(c, sizeof c, "%s/pc_lock_cpu1", pn);
    bench_emit(BE, c, "tx_per_s", pc1);
    bench_emit(BE, c, "cpu_units_per_s", cpu_rate);
    bench_emit(BE, c, "kept", bench_median(vk, n));
    bench_emit(BE, c, "handoffs_io_per_tx", bench_median(hio, n));
    bench_emit(BE, c, "handoffs_cpu_per_tx", bench_median(hcpu, n));
    bench_emit(BE, c, "gil_wait_us_per_tx", bench_median(wt, n));

    snprintf(c, sizeof c, "%s/pc_cond", pn);
    bench_emit(BE, c, "tx_per_s", gs_run_pair_cond(&w, 0, NULL));
  }
  gs_destroy(&w);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {30, 150, 600};
  int rc = bench_init(argc, argv, "giltest", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  bench_ratio("priority/pc_lock: GIL vs no GIL", "*", "priority/pc_lock", "*",
              "nogil/pc_lock", "tx_per_s");
  bench_ratio("fair/pc_lock: GIL vs no GIL", "*", "fair/pc_lock", "*",
              "nogil/pc_lock", "tx_per_s");
  bench_ratio("nogil/pc_cond vs raw pthread_cond", "*", "nogil/pc_cond", "raw",
              "pthread_cond", "tx_per_s");
  bench_ratio("priority/pc_cond: sem vs pthread", "sem", "priority/pc_cond",
              "pthread", "priority/pc_cond", "tx_per_s");
  bench_ratio("nogil/pc_cond: sem vs pthread", "sem", "nogil/pc_cond",
              "pthread", "nogil/pc_cond", "tx_per_s");

  if (bench_want("unit"))
    bench_emit("none", "unit", "ns", gs_unit_ns());

  policy_cases(SP_GIL_LEGACY);
  policy_cases(SP_GIL_FAIR);
  policy_cases(SP_GIL_PRIORITY);

  if (bench_want("nogil/")) {
    static gs_world w;
    gs_init(&w, NULL);
    bench_emit(BE, "nogil/pc_lock", "tx_per_s", gs_run_pair_lock(&w, 0, NULL));
    bench_emit(BE, "nogil/pc_cond", "tx_per_s", gs_run_pair_cond(&w, 0, NULL));
    gs_destroy(&w);
  }

  /* The raw baselines (rawpair.c), the same as bench_pair's. */
  if (bench_want("pthread_cond"))
    bench_emit("raw", "pthread_cond", "tx_per_s", bench_rawpair_cond());
  if (bench_want("sem_t"))
    bench_emit("raw", "sem_t", "tx_per_s", bench_rawpair_sem());
  return 0;
}
