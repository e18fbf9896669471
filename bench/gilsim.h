/* gilsim: a simulated interpreter on sp_gil_t, shared by bench_giltest,
 * bench_latency and bench_gilsweep.
 *
 * The model. An interpreter thread holds the GIL while it "interprets": it
 * runs units of CPU work (bench_work(), one unit ~ one bytecode, 30-40 ns
 * here) and, every GS_CHECK_UNITS units (a check interval, ~3-4 us), calls
 * sp_gil_yield() -- the tick counter is per thread. 100 units is Python
 * 2's check interval (sys.setcheckinterval(100)), the setting the seed's
 * priority GIL was built on: there, one yield is one such check, and
 * PRIORITY's yield_skip 100 makes CPU slices of 100 checks. LEGACY counts
 * each sp_gil_yield() as one tick, and its default yield_skip is 1: release
 * and re-acquire at every check of 100 units, as Python 2 does.
 * FAIR is time-based and polls its drop request at every check. Around every
 * blocking call it releases the GIL and re-acquires it afterwards, exactly as
 * an interpreter does (Py_BEGIN/END_ALLOW_THREADS):
 *  - sp_lock_t acquire: first a non-blocking attempt with the GIL held; if
 *    the lock is taken, release the GIL, block, re-acquire the GIL (CPython's
 *    acquire_timed);
 *  - condition: with the GIL held, try the mutex and the predicate without
 *    blocking; otherwise release the GIL, lock, wait on the condition,
 *    update, signal, unlock, re-acquire the GIL;
 *  - socket/pipe read and write: always release the GIL around the call.
 * With use_gil = 0 (gs_init with a NULL config), the same threads run with
 * no GIL: the raw rates of the same scenarios.
 *
 * Threads that are not interpreter threads (the latency "waker", the echo
 * "client") never touch the GIL: they stand for another process. */
#ifndef SP_BENCH_GILSIM_H
#define SP_BENCH_GILSIM_H

#include "bench.h"

#include <syncplus.h>

#define GS_CHECK_UNITS                                                         \
  100                /* units of work per check interval (sp_gil_yield)        \
                      */
#define GS_MAX_CPU 8 /* CPU threads per scenario, at most */

typedef struct gs_world {
  sp_gil_t gil;
  int use_gil;
  sp_gil_config cfg;
  bench_group g;
  bench_counter cpu[GS_MAX_CPU]; /* units done by each CPU thread */
  bench_counter tx;              /* transactions / round trips */
  /* producer/consumer */
  sp_lock_t empty, full;
  sp_mutex_t m;
  sp_cond_t not_empty, not_full;
  int token; /* under m */
  /* I/O */
  bench_chan ch;
  int io_idle;       /* atomic: the I/O thread waits for the next byte */
  int64_t period_ns; /* latency: the waker's period */
  double *lat;       /* latency samples (ns) taken in the window */
  double *lat_gil;   /* their part from read() returning to GIL held */
  size_t nlat, caplat;
  uint64_t sent, skipped; /* waker: sends, and ticks skipped (I/O busy) */
  /* After each scenario: the GIL statistics accumulated during it (warm-up
   * and teardown included) and the transactions counted over the same
   * span, to normalise them. */
  sp_gil_stats_t st;
  uint64_t tx_total;
} gs_world;

/* Set up *w with a GIL of config *cfg, or with no GIL if cfg is NULL.
 * Exits the program on failure. */
void gs_init(gs_world *w, const sp_gil_config *cfg);
void gs_destroy(gs_world *w);

/* The scenarios. ncpu CPU threads (0..GS_MAX_CPU) run beside the measured
 * threads; *cpu_rate (if not NULL) gets their total units per second. */

/* ncpu CPU threads alone: total units per second. */
double gs_run_cpu(gs_world *w, int ncpu);

/* e: 2 CPU threads' total units/s over 1 thread's. Runs `rounds` pairs of
 * windows (1 thread, then 2), each of bench_o.time_ns / rounds, and takes
 * the median of the per-pair ratios (robust to load that comes and goes);
 * *cpu1 and *cpu2 get the median rates. */
double gs_measure_e(gs_world *w, int rounds, double *cpu1, double *cpu2);
/* Producer/consumer through two sp_lock_t: transactions per second. */
double gs_run_pair_lock(gs_world *w, int ncpu, double *cpu_rate);
/* Producer/consumer through sp_mutex_t + sp_cond_t: transactions/s. */
double gs_run_pair_cond(gs_world *w, int ncpu, double *cpu_rate);

/* Latency: an I/O thread blocks reading a socketpair; a waker thread (no
 * GIL) sends it a timestamp every period_ns, skipping a tick while the I/O
 * thread has not yet come back to its read. A sample is the time from the
 * send to the moment the I/O thread holds the GIL again. */
typedef struct gs_latency {
  double med_us, p99_us, max_us;
  double gil_med_us, gil_p99_us; /* the part spent in sp_gil_acquire after
                                    read() returned (the rest is the OS
                                    waking the thread) */
  double samples, skipped, cpu_rate;
} gs_latency;
void gs_run_latency(gs_world *w, int ncpu, int64_t period_ns, gs_latency *out);

/* ccbench's I/O bandwidth: an echo interpreter thread answers a client (no
 * GIL) over a socketpair, releasing the GIL around each read and write:
 * round trips per second. */
double gs_run_echo(gs_world *w, int ncpu, double *cpu_rate);

/* Policy names: "legacy", "fair", "priority". */
const char *gs_policy_name(int policy);

/* Measured duration of one unit of work, in ns (a short calibration). */
double gs_unit_ns(void);

#endif
