/* The driver of the peer benches (peers.h): collects the implementations,
 * runs their workloads in interleaved rounds and prints medians. */
#include "peers.h"

#include <stdio.h>
#include <string.h>

double spb_handoff_ratio = -1.0;

int spb_impls(const spb_impl **out) {
  int n = 0;
  for (int i = 0; spb_sp_impls[i] != NULL && n < SPB_MAX_IMPLS; i++)
    out[n++] = spb_sp_impls[i];
  for (int i = 0; spb_peer_impls[i] != NULL && n < SPB_MAX_IMPLS; i++)
    out[n++] = spb_peer_impls[i];
  for (int i = 0; i < n; i++)
    if (out[i]->setup != NULL)
      out[i]->setup();
  return n;
}

void spb_skip_absent(const char *case_, int (*wanted)(const char *backend)) {
  if (bench_o.list_ratios)
    return;
  for (int i = 0; spb_absent_peers[i].backend != NULL; i++) {
    const spb_absent *a = &spb_absent_peers[i];
    if (wanted == NULL || wanted(a->backend))
      printf("#skip,%s,%s,%s,%s\n", bench_o.bench, a->backend, case_,
             a->reason);
  }
  fflush(stdout);
}

int spb_by_mode(int smoke, int quick, int full) {
  int lv = bench_level();
  return lv == 0 ? smoke : lv == 1 ? quick : full;
}

void spb_add_cell(spb_cell *cells, int *n, const char *backend,
                  const char *prefix, spb_run_fn run, int param,
                  const char *metric) {
  if (run == NULL)
    return;
  spb_cell *c = &cells[*n];
  snprintf(c->case_, sizeof c->case_, "%s_%d", prefix, param);
  if (!bench_want(c->case_))
    return;
  c->backend = backend;
  c->metric = metric;
  c->run = run;
  c->param = param;
  (*n)++;
}

void spb_run_cells(spb_cell *cells, int ncells, int rounds, int64_t window_ms,
                   int64_t warmup_ms) {
  int64_t time_ns = bench_o.time_ns, warmup_ns = bench_o.warmup_ns;
  if (rounds > (int)(sizeof cells[0].rate / sizeof cells[0].rate[0]))
    rounds = (int)(sizeof cells[0].rate / sizeof cells[0].rate[0]);
  bench_o.time_ns = window_ms * 1000000;
  bench_o.warmup_ns = warmup_ms * 1000000;
  for (int i = 0; i < ncells; i++)
    cells[i].n = 0;
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < ncells; k++) {
      spb_cell *c = &cells[r % 2 == 0 ? k : ncells - 1 - k];
      if (c->n < 0)
        continue; /* not measurable here */
      double v = c->run(c->param);
      if (v < 0) {
        c->n = -1;
        continue;
      }
      double cs = bench_last_cs_per_s;
      c->rate[c->n] = v;
      c->cs[c->n] = cs >= 0 && v > 0 ? cs / v : -1.0;
      c->n++;
    }
  }
  bench_o.time_ns = time_ns;
  bench_o.warmup_ns = warmup_ns;
  for (int i = 0; i < ncells; i++) {
    spb_cell *c = &cells[i];
    if (c->n < 0) {
      printf("#skip,%s,%s,%s,not available on this system\n", bench_o.bench,
             c->backend, c->case_);
      fflush(stdout);
      continue;
    }
    if (c->n == 0)
      continue;
    bench_emit(c->backend, c->case_, c->metric,
               bench_median(c->rate, (size_t)c->n));
    if (bench_min(c->cs, (size_t)c->n) >= 0)
      bench_emit(c->backend, c->case_, "cs_per_op",
                 bench_median(c->cs, (size_t)c->n));
  }
}

void spb_run_fast(spb_fcell *cells, int ncells, int rounds, int64_t batch_us) {
  int64_t target = batch_us * 1000;
  int maxr = (int)(sizeof cells[0].ns / sizeof cells[0].ns[0]);
  if (rounds > maxr)
    rounds = maxr;
  /* calibrate (and warm up): the batch that lasts about batch_us */
  for (int i = 0; i < ncells; i++) {
    uint64_t n = 64;
    for (;;) {
      int64_t t0 = bench_now_ns();
      cells[i].loop(n);
      int64_t dt = bench_now_ns() - t0;
      if (dt >= target || n >= ((uint64_t)1 << 32)) {
        /* scale to the target from the last try */
        double k = dt > 0 ? (double)target / (double)dt : 1.0;
        uint64_t b = (uint64_t)((double)n * (k < 1.0 ? 1.0 : k));
        cells[i].batch = b > 0 ? b : 1;
        break;
      }
      n *= 2;
    }
    cells[i].n = 0;
  }
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < ncells; k++) {
      spb_fcell *c = &cells[r % 2 == 0 ? k : ncells - 1 - k];
      int64_t t0 = bench_now_ns();
      c->loop(c->batch);
      int64_t dt = bench_now_ns() - t0;
      c->ns[c->n++] = (double)dt / (double)c->batch;
    }
  }
  for (int i = 0; i < ncells; i++)
    bench_emit(cells[i].backend, cells[i].case_, "ns_per_op",
               bench_median(cells[i].ns, (size_t)cells[i].n));
}
