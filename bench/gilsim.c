/* gilsim: the simulated interpreter (see gilsim.h). Portable: it uses only
 * syncplus and the bench.h OS layer. */
#include "gilsim.h"

#include <stdlib.h>

/* Per-thread interpreter state: the work chain and the tick counter. */
typedef struct gs_ts {
  gs_world *w;
  uint64_t x;
  unsigned ticks;
  int idx;
} gs_ts;

static void gs_die_rc(const char *what, int rc) {
  (void)rc;
  bench_die(what);
}

static void gs_gil_acquire(gs_world *w) {
  if (w->use_gil) {
    int rc = sp_gil_acquire(&w->gil);
    if (rc != SP_OK)
      gs_die_rc("sp_gil_acquire failed", rc);
  }
}

static void gs_gil_release(gs_world *w) {
  if (w->use_gil) {
    int rc = sp_gil_release(&w->gil);
    if (rc != SP_OK)
      gs_die_rc("sp_gil_release failed", rc);
  }
}

/* Interpret `units` units of work, calling sp_gil_yield at every check
 * interval boundary (GS_CHECK_UNITS units, counted per thread). */
static void gs_tick(gs_ts *t, unsigned units) {
  t->x = bench_work(t->x, units);
  t->ticks += units;
  if (t->ticks >= GS_CHECK_UNITS) {
    t->ticks -= GS_CHECK_UNITS;
    if (t->w->use_gil) {
      int rc = sp_gil_yield(&t->w->gil);
      if (rc != SP_OK)
        gs_die_rc("sp_gil_yield failed", rc);
    }
  }
}

void gs_init(gs_world *w, const sp_gil_config *cfg) {
  w->use_gil = cfg != NULL;
  if (cfg != NULL) {
    w->cfg = *cfg; /* LEGACY's default yield_skip is 1: one check = Python
                      2's 100 ticks (gilsim.h) */
    if (sp_gil_init(&w->gil, &w->cfg) != SP_OK)
      bench_die("sp_gil_init failed");
  }
  if (sp_lock_init(&w->empty) || sp_lock_init(&w->full) ||
      sp_mutex_init(&w->m) || sp_cond_init(&w->not_empty) ||
      sp_cond_init(&w->not_full))
    bench_die("init failed");
  bench_chan_open(&w->ch);
  w->caplat = 1 << 18;
  w->lat = malloc(w->caplat * sizeof *w->lat);
  w->lat_gil = malloc(w->caplat * sizeof *w->lat_gil);
  if (w->lat == NULL || w->lat_gil == NULL)
    bench_die("out of memory");
}

void gs_destroy(gs_world *w) {
  if (w->use_gil && sp_gil_destroy(&w->gil) != SP_OK)
    bench_die("sp_gil_destroy failed (still held?)");
  sp_lock_destroy(&w->empty);
  sp_lock_destroy(&w->full);
  sp_cond_destroy(&w->not_empty);
  sp_cond_destroy(&w->not_full);
  sp_mutex_destroy(&w->m);
  bench_chan_close(&w->ch);
  free(w->lat);
  free(w->lat_gil);
}

const char *gs_policy_name(int policy) {
  switch (policy) {
  case SP_GIL_LEGACY:
    return "legacy";
  case SP_GIL_FAIR:
    return "fair";
  case SP_GIL_PRIORITY:
    return "priority";
  default:
    return "unknown";
  }
}

double gs_unit_ns(void) {
  uint64_t x = 1;
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    int64_t t0 = bench_now_ns();
    x = bench_work(x, 20000);
    double ns = (double)(bench_now_ns() - t0) / 20000.0;
    if (ns < best)
      best = ns;
  }
  return best + (double)(x & 1) * 1e-9;
}

/* ---- thread bodies ---- */

typedef struct gs_arg {
  gs_world *w;
  int idx;
} gs_arg;

static void *gs_cpu_thread(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, (uint64_t)a->idx + 1, 0, a->idx};
  gs_gil_acquire(t.w);
  while (!bench_group_stopping(&t.w->g)) {
    gs_tick(&t, GS_CHECK_UNITS);
    bench_count(&t.w->cpu[t.idx], GS_CHECK_UNITS);
  }
  gs_gil_release(t.w);
  bench_group_done(&t.w->g);
  return (void *)(uintptr_t)(t.x & 1);
}

/* Acquire an sp_lock_t as an interpreter does. */
static void gs_lock_acquire(gs_world *w, sp_lock_t *l) {
  if (sp_lock_acquire(l, 0) == SP_OK)
    return;
  gs_gil_release(w);
  (void)!sp_lock_acquire(l, SP_FOREVER);
  gs_gil_acquire(w);
}

static void *gs_lock_prod(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 7, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  while (!bench_group_stopping(&w->g)) {
    gs_lock_acquire(w, &w->empty);
    gs_tick(&t, 1);
    sp_lock_release(&w->full);
    bench_count(&w->tx, 1);
  }
  gs_gil_release(w);
  bench_group_done(&w->g);
  return NULL;
}

static void *gs_lock_cons(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 9, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  while (!bench_group_stopping(&w->g)) {
    gs_lock_acquire(w, &w->full);
    gs_tick(&t, 1);
    sp_lock_release(&w->empty);
  }
  gs_gil_release(w);
  bench_group_done(&w->g);
  return NULL;
}

static void gs_lock_kick(void *p) {
  gs_world *w = p;
  (void)sp_lock_release(&w->empty); /* SP_EPERM when already free: fine */
  (void)sp_lock_release(&w->full);
}

/* One condition-variable turn: wait until token == want, then flip it and
 * signal the peer. Non-blocking attempt first, with the GIL held. */
static void gs_cond_turn(gs_world *w, int want, sp_cond_t *mine,
                         sp_cond_t *peer) {
  if (sp_mutex_trylock(&w->m) == SP_OK) {
    if (w->token == want) {
      w->token = !want;
      sp_cond_signal(peer);
      sp_mutex_unlock(&w->m);
      return;
    }
    sp_mutex_unlock(&w->m);
  }
  gs_gil_release(w);
  (void)!sp_mutex_lock(&w->m);
  while (w->token != want && !bench_group_stopping(&w->g))
    (void)!sp_cond_wait(mine, &w->m, SP_FOREVER);
  w->token = !want;
  sp_cond_signal(peer);
  sp_mutex_unlock(&w->m);
  gs_gil_acquire(w);
}

static void *gs_cond_prod(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 11, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  while (!bench_group_stopping(&w->g)) {
    gs_cond_turn(w, 0, &w->not_full, &w->not_empty);
    gs_tick(&t, 1);
    bench_count(&w->tx, 1);
  }
  gs_gil_release(w);
  bench_group_done(&w->g);
  return NULL;
}

static void *gs_cond_cons(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 13, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  while (!bench_group_stopping(&w->g)) {
    gs_cond_turn(w, 1, &w->not_empty, &w->not_full);
    gs_tick(&t, 1);
  }
  gs_gil_release(w);
  bench_group_done(&w->g);
  return NULL;
}

static void gs_cond_kick(void *p) {
  gs_world *w = p;
  (void)!sp_mutex_lock(&w->m);
  sp_cond_broadcast(&w->not_empty);
  sp_cond_broadcast(&w->not_full);
  sp_mutex_unlock(&w->m);
}

/* Latency: the I/O interpreter thread reads timestamps from end 1. */
static void *gs_io_thread(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 17, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  for (;;) {
    int64_t sent;
    bench_store(&w->io_idle, 1);
    gs_gil_release(w);
    if (bench_chan_read(&w->ch, 1, &sent, sizeof sent) != 0 || sent < 0)
      break; /* stop sentinel, without the GIL */
    int64_t woke = bench_now_ns();
    gs_gil_acquire(w);
    int64_t got = bench_now_ns();
    if (bench_load(&w->g.measuring) && w->nlat < w->caplat) {
      w->lat_gil[w->nlat] = (double)(got - woke);
      w->lat[w->nlat++] = (double)(got - sent);
    }
    gs_tick(&t, 1); /* handle the event */
  }
  bench_group_done(&w->g);
  return NULL;
}

/* Latency: the waker (no GIL) writes timestamps to end 0. */
static void *gs_waker_thread(void *p) {
  gs_arg *a = p;
  gs_world *w = a->w;
  int64_t next = bench_now_ns();
  while (!bench_group_stopping(&w->g)) {
    next += w->period_ns;
    bench_sleep_until_ns(next);
    if (bench_xchg(&w->io_idle, 0)) {
      int64_t now = bench_now_ns();
      bench_chan_write(&w->ch, 0, &now, sizeof now);
      if (bench_load(&w->g.measuring))
        w->sent++;
    } else if (bench_load(&w->g.measuring)) {
      w->skipped++;
    }
    int64_t now = bench_now_ns();
    if (next < now - w->period_ns) /* fell behind (descheduled): resync */
      next = now;
  }
  int64_t stop = -1;
  bench_chan_write(&w->ch, 0, &stop, sizeof stop);
  bench_group_done(&w->g);
  return NULL;
}

/* Echo: the interpreter thread answers on end 1. */
static void *gs_echo_thread(void *p) {
  gs_arg *a = p;
  gs_ts t = {a->w, 19, 0, 0};
  gs_world *w = t.w;
  gs_gil_acquire(w);
  for (;;) {
    int64_t msg;
    gs_gil_release(w);
    int rc = bench_chan_read(&w->ch, 1, &msg, sizeof msg);
    if (rc != 0 || msg < 0)
      break; /* without the GIL */
    gs_gil_acquire(w);
    gs_tick(&t, 1);
    gs_gil_release(w);
    bench_chan_write(&w->ch, 1, &msg, sizeof msg);
    gs_gil_acquire(w);
  }
  bench_group_done(&w->g);
  return NULL;
}

/* Echo: the client (no GIL) on end 0. */
static void *gs_client_thread(void *p) {
  gs_arg *a = p;
  gs_world *w = a->w;
  int64_t msg = 1;
  while (!bench_group_stopping(&w->g)) {
    if (bench_chan_write(&w->ch, 0, &msg, sizeof msg) != 0 ||
        bench_chan_read(&w->ch, 0, &msg, sizeof msg) != 0)
      break;
    bench_count(&w->tx, 1);
  }
  msg = -1;
  bench_chan_write(&w->ch, 0, &msg, sizeof msg);
  bench_group_done(&w->g);
  return NULL;
}

/* ---- scenarios ---- */

/* Run ncpu CPU threads plus the given extra threads over one window. The
 * rate returned is of w->tx when nextra > 0, else of the CPU counters. */
static double gs_run(gs_world *w, int ncpu, int nextra,
                     void *(*const *extra)(void *), void (*kick)(void *),
                     double *cpu_rate) {
  void *(*fns[GS_MAX_CPU + 4])(void *);
  void *args[GS_MAX_CPU + 4];
  gs_arg ga[GS_MAX_CPU + 4];
  if (ncpu > GS_MAX_CPU || nextra > 4)
    bench_die("too many threads");
  int n = 0;
  for (int i = 0; i < nextra; i++, n++) {
    ga[n].w = w;
    ga[n].idx = i;
    fns[n] = extra[i];
    args[n] = &ga[n];
  }
  for (int i = 0; i < ncpu; i++, n++) {
    ga[n].w = w;
    ga[n].idx = i;
    fns[n] = gs_cpu_thread;
    args[n] = &ga[n];
  }
  for (int i = 0; i < GS_MAX_CPU; i++)
    w->cpu[i].n = 0;
  w->tx.n = 0;
  w->g.kick = kick;
  w->g.ctx = w;
  double r;
  sp_gil_stats_t st0;
  if (w->use_gil)
    sp_gil_stats(&w->gil, &st0);
  if (nextra > 0) {
    w->g.extra = w->cpu;
    w->g.nextra = ncpu;
    r = bench_group_run(&w->g, n, fns, args, &w->tx, 1);
    if (cpu_rate != NULL)
      *cpu_rate = w->g.extra_rate;
  } else {
    w->g.extra = NULL;
    w->g.nextra = 0;
    r = bench_group_run(&w->g, n, fns, args, w->cpu, ncpu);
    if (cpu_rate != NULL)
      *cpu_rate = r;
  }
  w->tx_total = w->tx.n;
  if (w->use_gil) {
    sp_gil_stats_t st1;
    sp_gil_stats(&w->gil, &st1);
    w->st.acquisitions = st1.acquisitions - st0.acquisitions;
    w->st.handoffs_io = st1.handoffs_io - st0.handoffs_io;
    w->st.handoffs_cpu = st1.handoffs_cpu - st0.handoffs_cpu;
    w->st.yields = st1.yields - st0.yields;
    w->st.yields_noop = st1.yields_noop - st0.yields_noop;
    w->st.wait_total_ns = st1.wait_total_ns - st0.wait_total_ns;
    w->st.wait_max_ns = st1.wait_max_ns; /* since init */
  }
  return r;
}

double gs_run_cpu(gs_world *w, int ncpu) {
  return gs_run(w, ncpu, 0, NULL, NULL, NULL);
}

double gs_measure_e(gs_world *w, int rounds, double *cpu1, double *cpu2) {
  double r1[16], r2[16], e[16];
  int64_t saved = bench_o.time_ns;
  if (rounds < 1)
    rounds = 1;
  if (rounds > 16)
    rounds = 16;
  bench_o.time_ns = saved / rounds;
  for (int i = 0; i < rounds; i++) {
    r1[i] = gs_run(w, 1, 0, NULL, NULL, NULL);
    r2[i] = gs_run(w, 2, 0, NULL, NULL, NULL);
    e[i] = r1[i] > 0 ? r2[i] / r1[i] : 0;
  }
  bench_o.time_ns = saved;
  *cpu1 = bench_median(r1, (size_t)rounds);
  *cpu2 = bench_median(r2, (size_t)rounds);
  return bench_median(e, (size_t)rounds);
}

static void gs_reset_locks(gs_world *w) {
  /* empty free (the producer may go), full taken (no token yet) */
  (void)!sp_lock_acquire(&w->empty, 0);
  (void)sp_lock_release(&w->empty);
  (void)!sp_lock_acquire(&w->full, 0);
}

double gs_run_pair_lock(gs_world *w, int ncpu, double *cpu_rate) {
  static void *(*const fns[2])(void *) = {gs_lock_prod, gs_lock_cons};
  gs_reset_locks(w);
  return gs_run(w, ncpu, 2, fns, gs_lock_kick, cpu_rate);
}

double gs_run_pair_cond(gs_world *w, int ncpu, double *cpu_rate) {
  static void *(*const fns[2])(void *) = {gs_cond_prod, gs_cond_cons};
  w->token = 0;
  return gs_run(w, ncpu, 2, fns, gs_cond_kick, cpu_rate);
}

void gs_run_latency(gs_world *w, int ncpu, int64_t period_ns, gs_latency *out) {
  static void *(*const fns[2])(void *) = {gs_io_thread, gs_waker_thread};
  w->period_ns = period_ns;
  w->nlat = 0;
  w->sent = w->skipped = 0;
  w->io_idle = 0;
  gs_run(w, ncpu, 2, fns, NULL, &out->cpu_rate);
  out->samples = (double)w->nlat;
  out->skipped = (double)w->skipped;
  out->max_us = bench_max(w->lat, w->nlat) / 1e3;
  out->p99_us = bench_quantile(w->lat, w->nlat, 0.99) / 1e3;
  out->med_us = bench_median(w->lat, w->nlat) / 1e3;
  out->gil_p99_us = bench_quantile(w->lat_gil, w->nlat, 0.99) / 1e3;
  out->gil_med_us = bench_median(w->lat_gil, w->nlat) / 1e3;
}

double gs_run_echo(gs_world *w, int ncpu, double *cpu_rate) {
  static void *(*const fns[2])(void *) = {gs_echo_thread, gs_client_thread};
  return gs_run(w, ncpu, 2, fns, NULL, cpu_rate);
}
