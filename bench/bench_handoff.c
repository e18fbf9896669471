/* bench_handoff (issue 10): what one I/O hand-off costs each side, and where
 * the time goes.
 *
 * A CPU thread F holds the GIL and works, yielding every NET_CHECK_UNITS
 * units (~4 us); an I/O thread H loops: release the GIL, "block", acquire
 * it (SP_GIL_IO), hold it for HOLD_UNITS units, repeat. Both timestamp
 * every step outside the library, on the same clock, so each hand-off
 * cycle F -> H -> F splits into:
 *   t_in   F enters the yield that hands over    t_got  H's acquire returns
 *   t_rel  H calls release                       t_back F's yield returns
 *   give_us   t_got - t_in: F's hand-off until H runs with the lock
 *             (H's wake-up if it slept, the transfer of the lock's lines)
 *   back_us   t_back - t_rel: H's release until F runs again
 *   hold_us   t_rel - t_got: H's own work (not an overhead)
 *   cpu_loss_us  (t_back - t_in) - hold: what F lost per cycle beyond H's
 *             work: the hand-off's cost on the CPU side
 *   io_wait_us  H's acquire call to return (includes waiting for F's next
 *             check point, at most one yield period)
 *   kept      F's work rate during / alone (same run)
 * Cases (PRIORITY, and in --full FAIR and LEGACY, defaults): P/spin (H "blocks"
 * by spinning 20 us without the GIL: always on a CPU) and P/sleep (H sleeps 50
 * us in nanosleep: a real wake-up, like a socket). Medians over the cycles of
 * one window; run.sh takes medians over repeats. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <time.h>
#endif

#define BE (sp_backend())

enum { HOLD_UNITS = 25, CAP = 1 << 18 };

typedef struct ho_world {
  sp_gil_t gil;
  int stop;  /* atomic */
  int sleep; /* H sleeps (1) or spins (0) */
  bench_counter units;
  /* F: per switched yield: t_in, t_back */
  double *f_in, *f_back;
  size_t nf;
  /* H: per cycle: t_call, t_got, t_rel */
  double *h_call, *h_got, *h_rel;
  size_t nh;
} ho_world;

static ho_world W;

static void *ho_cpu(void *p) {
  (void)p;
  uint64_t x = 1;
  if (sp_gil_acquire_ex(&W.gil, SP_GIL_CPU, SP_FOREVER) != SP_OK)
    bench_die("acquire");
  while (!bench_load(&W.stop)) {
    x = bench_work(x, NET_CHECK_UNITS);
    bench_count(&W.units, NET_CHECK_UNITS);
    int sw = 0;
    int64_t t0 = bench_now_ns();
    if (sp_gil_yield_ex(&W.gil, &sw) != SP_OK)
      bench_die("yield");
    if (sw && W.nf < CAP) {
      W.f_in[W.nf] = (double)t0;
      W.f_back[W.nf++] = (double)bench_now_ns();
    }
  }
  if (sp_gil_release(&W.gil) != SP_OK)
    bench_die("release");
  return (void *)(uintptr_t)(x & 1);
}

static void ho_block(void) {
  if (W.sleep) {
#ifndef _WIN32
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
#else
    bench_sleep_ns(50000);
#endif
  } else {
    int64_t end = bench_now_ns() + 20000;
    while (bench_now_ns() < end) {
    }
  }
}

static void *ho_io(void *p) {
  (void)p;
  uint64_t x = 3;
  if (sp_gil_acquire(&W.gil) != SP_OK)
    bench_die("acquire");
  while (!bench_load(&W.stop)) {
    double rel = (double)bench_now_ns();
    if (sp_gil_release(&W.gil) != SP_OK)
      bench_die("release");
    ho_block();
    double call = (double)bench_now_ns();
    if (sp_gil_acquire(&W.gil) != SP_OK)
      bench_die("acquire");
    double got = (double)bench_now_ns();
    x = bench_work(x, HOLD_UNITS);
    if (W.nh < CAP) {
      W.h_rel[W.nh] = rel; /* of the previous cycle: matched below */
      W.h_call[W.nh] = call;
      W.h_got[W.nh++] = got;
    }
  }
  if (sp_gil_release(&W.gil) != SP_OK)
    bench_die("release");
  return (void *)(uintptr_t)(x & 1);
}

static double ho_rate_alone(void) {
  bench_thread f;
  W.units.n = 0;
  W.stop = 0;
  W.nf = 0;
  bench_thread_start(&f, ho_cpu, NULL);
  double r = bench_rate_window(&W.units, 1);
  bench_store(&W.stop, 1);
  bench_thread_join(&f);
  return r;
}

static void ho_case(int policy, int sleep) {
  char c[64];
  snprintf(c, sizeof c, "%s/%s", net_policy_name(policy),
           sleep ? "sleep" : "spin");
  if (!bench_want(c))
    return;
  sp_gil_config cfg;
  sp_gil_config_default(&cfg, policy);
  if (sp_gil_init(&W.gil, &cfg) != SP_OK)
    bench_die("sp_gil_init");
  W.sleep = sleep;
  double alone = ho_rate_alone();
  bench_thread f, h;
  W.units.n = 0;
  W.stop = 0;
  W.nf = W.nh = 0;
  bench_thread_start(&f, ho_cpu, NULL);
  bench_thread_start(&h, ho_io, NULL);
  double during = bench_rate_window(&W.units, 1);
  bench_store(&W.stop, 1);
  bench_thread_join(&h);
  bench_thread_join(&f);
  if (sp_gil_destroy(&W.gil) != SP_OK)
    bench_die("sp_gil_destroy");
  /* Match each H cycle (call, got; rel = the next entry's h_rel) with the
   * F yield that handed over to it: the last f_in before got, whose f_back
   * follows rel. */
  static double give[CAP], back[CAP], loss[CAP], wait[CAP], hold[CAP];
  size_t n = 0, j = 0;
  for (size_t i = 0; i + 1 < W.nh; i++) {
    double got = W.h_got[i], rel = W.h_rel[i + 1];
    while (j + 1 < W.nf && W.f_in[j + 1] < got)
      j++;
    if (j >= W.nf || W.f_in[j] > got || W.f_back[j] < rel)
      continue; /* F did not wait for this cycle (it was elsewhere) */
    give[n] = (got - W.f_in[j]) / 1e3;
    back[n] = (W.f_back[j] - rel) / 1e3;
    hold[n] = (rel - got) / 1e3;
    loss[n] = (W.f_back[j] - W.f_in[j]) / 1e3 - hold[n];
    wait[n] = (got - W.h_call[i]) / 1e3;
    n++;
  }
  bench_emit(BE, c, "kept", alone > 0 ? during / alone : 0);
  bench_emit(BE, c, "cycles_per_s",
             (double)W.nh * 1e9 / (double)bench_o.time_ns);
  if (n == 0)
    return;
  bench_emit(BE, c, "give_us", bench_median(give, n));
  bench_emit(BE, c, "back_us", bench_median(back, n));
  bench_emit(BE, c, "hold_us", bench_median(hold, n));
  bench_emit(BE, c, "cpu_loss_us", bench_median(loss, n));
  bench_emit(BE, c, "cpu_loss_p90_us", bench_quantile(loss, n, 0.9));
  bench_emit(BE, c, "io_wait_us", bench_median(wait, n));
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {40, 150, 1000};
  int rc = bench_init(argc, argv, "handoff", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  if (bench_o.list_ratios)
    return 0;
  W.f_in = malloc(CAP * sizeof(double));
  W.f_back = malloc(CAP * sizeof(double));
  W.h_call = malloc(CAP * sizeof(double));
  W.h_got = malloc(CAP * sizeof(double));
  W.h_rel = malloc(CAP * sizeof(double));
  if (!W.f_in || !W.f_back || !W.h_call || !W.h_got || !W.h_rel)
    bench_die("out of memory");
  static const int pols[3] = {SP_GIL_PRIORITY, SP_GIL_FAIR, SP_GIL_LEGACY};
  int npol = bench_level() == 2 ? 3 : 1; /* quick and smoke: PRIORITY */
  for (int s = 0; s < 2; s++)
    for (int p = 0; p < npol; p++)
      ho_case(pols[p], s);
  free(W.f_in);
  free(W.f_back);
  free(W.h_call);
  free(W.h_got);
  free(W.h_rel);
  return 0;
}
