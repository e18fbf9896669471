/* The portable half of the bench harness: options, CSV output, statistics,
 * rate windows and the simulated CPU work. See bench.h. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bench_opts bench_o;
double bench_last_cs_per_s = -1.0;
static int bench_level_ = 1;

static void bench_usage_(FILE *f, const char *prog) {
  fprintf(f,
          "usage: %s [--mode smoke|quick|full] [--time-ms N] [--warmup-ms N]\n"
          "          [--only CASE_PREFIX] [--ratios]\n"
          "Prints one CSV line per measurement: bench,backend,case,metric,"
          "value\n",
          prog);
}

int bench_init(int argc, char **argv, const char *bench, const char *backend,
               const int64_t times_ms[3]) {
  int64_t time_ms = -1, warmup_ms = -1;
  memset(&bench_o, 0, sizeof bench_o);
  bench_o.bench = bench;
  bench_o.backend = backend;
  bench_o.mode = "quick";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--ratios") == 0) {
      bench_o.list_ratios = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      bench_usage_(stdout, argv[0]);
      return 1;
    } else if (v != NULL && strcmp(a, "--mode") == 0) {
      bench_o.mode = v;
      i++;
    } else if (v != NULL && strcmp(a, "--time-ms") == 0) {
      time_ms = atoll(v);
      i++;
    } else if (v != NULL && strcmp(a, "--warmup-ms") == 0) {
      warmup_ms = atoll(v);
      i++;
    } else if (v != NULL && strcmp(a, "--only") == 0) {
      bench_o.only = v;
      i++;
    } else {
      fprintf(stderr, "%s: bad argument '%s'\n", argv[0], a);
      bench_usage_(stderr, argv[0]);
      return 2;
    }
  }
  if (strcmp(bench_o.mode, "smoke") == 0)
    bench_level_ = 0;
  else if (strcmp(bench_o.mode, "quick") == 0)
    bench_level_ = 1;
  else if (strcmp(bench_o.mode, "full") == 0)
    bench_level_ = 2;
  else {
    fprintf(stderr, "%s: --mode must be smoke, quick or full\n", argv[0]);
    return 2;
  }
  if (time_ms < 0)
    time_ms = times_ms[bench_level_];
  if (warmup_ms < 0) /* a fifth of the window, at least 10 ms */
    warmup_ms = time_ms / 5 > 10 ? time_ms / 5 : 10;
  bench_o.time_ns = time_ms * 1000000;
  bench_o.warmup_ns = warmup_ms * 1000000;
  return 0;
}

int bench_level(void) {
  return bench_level_;
}

int64_t bench_by_mode(const int64_t v[3]) {
  return v[bench_level_];
}

int bench_want(const char *name) {
  if (bench_o.list_ratios)
    return 0;
  return bench_o.only == NULL ||
         strncmp(name, bench_o.only, strlen(bench_o.only)) == 0;
}

void bench_emit(const char *backend, const char *case_, const char *metric,
                double value) {
  printf("%s,%s,%s,%s,%.6g\n", bench_o.bench, backend, case_, metric, value);
  fflush(stdout);
}

void bench_ratio(const char *name, const char *num_backend,
                 const char *num_case, const char *den_backend,
                 const char *den_case, const char *metric) {
  if (bench_o.list_ratios)
    printf("#ratio,%s,%s,%s,%s,%s,%s,%s\n", bench_o.bench, name, num_backend,
           num_case, den_backend, den_case, metric);
}

/* ---- clock, sleep, threads: libsyncplus's portable ones ---- */

int64_t bench_now_ns(void) {
  return sp_now_ns();
}

void bench_sleep_until_ns(int64_t deadline) {
  if (deadline > 0)
    (void)sp_sleep_until(deadline);
}

void bench_sleep_ns(int64_t ns) {
  if (ns > 0)
    (void)sp_sleep_ns(ns);
}

/* Bench threads use little stack (no deep recursion, buffers of a few KiB);
 * 256 KiB each lets bench_sweep start 1000 waiters in a 32-bit process,
 * where the 8 MiB default would exhaust the address space. */
#define BENCH_STACK_ ((size_t)256 * 1024)

void bench_thread_start(bench_thread *t, void *(*fn)(void *), void *arg) {
  if (sp_thread_start_ex(&t->t_, fn, arg, BENCH_STACK_) != SP_OK)
    bench_die("sp_thread_start_ex failed");
}

void bench_thread_join(bench_thread *t) {
  if (sp_thread_join(&t->t_, NULL) != SP_OK)
    bench_die("sp_thread_join failed");
}

void bench_die(const char *what) {
  fprintf(stderr, "bench_%s_%s: %s\n", bench_o.bench ? bench_o.bench : "?",
          bench_o.backend ? bench_o.backend : "?", what);
  exit(1);
}

/* ---- statistics ---- */

static int bench_cmp_(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q) {
  if (n == 0)
    return 0.0;
  qsort(v, n, sizeof *v, bench_cmp_);
  /* nearest rank: the smallest value with at least q*n values <= it */
  double r = q * (double)n;
  size_t k = (size_t)r;
  if ((double)k < r)
    k++;
  if (k < 1)
    k = 1;
  if (k > n)
    k = n;
  return v[k - 1];
}

double bench_median(double *v, size_t n) {
  if (n == 0)
    return 0.0;
  qsort(v, n, sizeof *v, bench_cmp_);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double bench_min(const double *v, size_t n) {
  double m = n ? v[0] : 0.0;
  for (size_t i = 1; i < n; i++)
    if (v[i] < m)
      m = v[i];
  return m;
}

double bench_max(const double *v, size_t n) {
  double m = n ? v[0] : 0.0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > m)
      m = v[i];
  return m;
}

/* ---- counters and windows ---- */

uint64_t bench_counters_sum(bench_counter *c, int n) {
  uint64_t s = 0;
  for (int i = 0; i < n; i++)
    s += __atomic_load_n(&c[i].n, __ATOMIC_RELAXED);
  return s;
}

double bench_rate_window(bench_counter *c, int n) {
  bench_sleep_ns(bench_o.warmup_ns);
  int64_t t0 = bench_now_ns();
  uint64_t c0 = bench_counters_sum(c, n);
  bench_sleep_ns(bench_o.time_ns);
  uint64_t c1 = bench_counters_sum(c, n);
  int64_t t1 = bench_now_ns();
  return t1 > t0 ? (double)(c1 - c0) * 1e9 / (double)(t1 - t0) : 0.0;
}

double bench_group_run(bench_group *g, int n, void *(*const *fns)(void *),
                       void *const *args, bench_counter *c, int nc) {
  bench_thread th[BENCH_MAX_THREADS];
  if (n > BENCH_MAX_THREADS)
    bench_die("too many threads");
  bench_store(&g->stop, 0);
  bench_store(&g->ndone, 0);
  bench_store(&g->measuring, 0);
  for (int i = 0; i < n; i++)
    bench_thread_start(&th[i], fns[i], args[i]);
  bench_sleep_ns(bench_o.warmup_ns);
  bench_store(&g->measuring, 1);
  int64_t t0 = bench_now_ns();
  uint64_t c0 = bench_counters_sum(c, nc);
  uint64_t e0 = bench_counters_sum(g->extra, g->nextra);
  int64_t s0 = bench_ctx_switches();
  bench_sleep_ns(bench_o.time_ns);
  int64_t s1 = bench_ctx_switches();
  uint64_t c1 = bench_counters_sum(c, nc);
  uint64_t e1 = bench_counters_sum(g->extra, g->nextra);
  int64_t t1 = bench_now_ns();
  bench_store(&g->measuring, 0);
  bench_store(&g->stop, 1);
  while (bench_load(&g->ndone) < n) {
    if (g->kick != NULL)
      g->kick(g->ctx);
    bench_sleep_ns(1000000);
  }
  for (int i = 0; i < n; i++)
    bench_thread_join(&th[i]);
  g->extra_rate = t1 > t0 ? (double)(e1 - e0) * 1e9 / (double)(t1 - t0) : 0.0;
  g->cs_per_s = s0 >= 0 && s1 >= s0 && t1 > t0
                    ? (double)(s1 - s0) * 1e9 / (double)(t1 - t0)
                    : -1.0;
  bench_last_cs_per_s = g->cs_per_s;
  return t1 > t0 ? (double)(c1 - c0) * 1e9 / (double)(t1 - t0) : 0.0;
}

/* ---- simulated work ---- */

uint64_t bench_work(uint64_t x, unsigned units) {
  for (unsigned u = 0; u < units; u++) {
    for (int i = 0; i < BENCH_UNIT_ITERS; i++)
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    /* an empty asm with x as operand keeps the chain from being folded */
    __asm__ volatile("" : "+r"(x));
  }
  return x;
}

double bench_group_run_pair(bench_group *g, bench_counter *tx, void *ctx,
                            void *(*prod)(void *), void *(*cons)(void *),
                            void (*kick)(void *)) {
  void *(*fns[2])(void *) = {prod, cons};
  void *args[2] = {ctx, ctx};
  tx->n = 0;
  g->kick = kick;
  g->ctx = ctx;
  return bench_group_run(g, 2, fns, args, tx, 1);
}
