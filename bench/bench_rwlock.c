/* bench_rwlock (issue 13): the reader-writer lock under a read-mostly mix
 * (95% reads) and a write-heavy mix (50% writes), 1 to 4 threads, beside
 * the system's own reader-writer lock in the same run, in operations per
 * second summed over the threads.
 *
 * One operation: pick read or write (a per-thread xorshift, so the mix is
 * the same for both locks), take the lock, read the 8-word shared record
 * (sum it) or update it, release, then one unit of work outside the lock
 * (bench_work, ~50 ns) so that the threads are not always queued.
 *
 * Cases, M in rd95, wr50, N in 1, 2, 3, 4 (smoke: 1 and 4; quick: 1, 2, 4):
 *   sp_M_N     sp_rwlock_t (phase-fair)
 *   raw_M_N    pthread_rwlock_t with default attributes (glibc: prefers
 *              readers), SRWLOCK on Windows                   (backend raw)
 * and the uncontended fast paths, one thread, in ns per lock+unlock pair
 * (ns_per_op): fast_sp_rd, fast_sp_wr; fast_raw_rd, fast_raw_wr (raw).
 */
#include "bench.h"

#include <stdio.h>
#include <syncplus.h>

#define BE   (sp_backend())
#define MAXT 4

typedef struct rwb {
  bench_group g;
  bench_counter ops[MAXT];
  sp_rwlock_t l;
  bench_rrwlock raw;
  unsigned write_pct;
  uint64_t rec[8]; /* the shared record (under the lock) */
  uint64_t sink;   /* atomic: results, so nothing is optimised away */
} rwb;

typedef struct rwarg {
  rwb *b;
  int idx;
} rwarg;

static inline uint32_t xorshift(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

static inline uint64_t read_rec(rwb *b) {
  uint64_t s = 0;
  for (int i = 0; i < 8; i++)
    s += b->rec[i];
  return s;
}

static inline void write_rec(rwb *b) {
  for (int i = 0; i < 8; i++)
    b->rec[i]++;
}

static void *sp_worker(void *p) {
  rwarg *a = p;
  rwb *b = a->b;
  uint32_t x = 2463534242u + 7919u * (uint32_t)a->idx;
  uint64_t acc = 0;
  while (!bench_group_stopping(&b->g)) {
    for (int k = 0; k < 64; k++) {
      if (xorshift(&x) % 100 < b->write_pct) {
        if (sp_rwlock_wrlock(&b->l, SP_FOREVER) != SP_OK)
          bench_die("sp_rwlock_wrlock failed");
        write_rec(b);
      } else {
        if (sp_rwlock_rdlock(&b->l, SP_FOREVER) != SP_OK)
          bench_die("sp_rwlock_rdlock failed");
        acc += read_rec(b);
      }
      sp_rwlock_unlock(&b->l);
      acc = bench_work(acc, 1);
    }
    bench_count(&b->ops[a->idx], 64);
  }
  __atomic_fetch_add(&b->sink, acc, __ATOMIC_RELAXED);
  bench_group_done(&b->g);
  return NULL;
}

static void *raw_worker(void *p) {
  rwarg *a = p;
  rwb *b = a->b;
  uint32_t x = 2463534242u + 7919u * (uint32_t)a->idx;
  uint64_t acc = 0;
  while (!bench_group_stopping(&b->g)) {
    for (int k = 0; k < 64; k++) {
      if (xorshift(&x) % 100 < b->write_pct) {
        bench_rrwlock_wrlock(&b->raw);
        write_rec(b);
        bench_rrwlock_wrunlock(&b->raw);
      } else {
        bench_rrwlock_rdlock(&b->raw);
        acc += read_rec(b);
        bench_rrwlock_rdunlock(&b->raw);
      }
      acc = bench_work(acc, 1);
    }
    bench_count(&b->ops[a->idx], 64);
  }
  __atomic_fetch_add(&b->sink, acc, __ATOMIC_RELAXED);
  bench_group_done(&b->g);
  return NULL;
}

/* ns per iteration of loop(ctx, n), doubling n until a batch lasts 1/8 of
 * the window, then timing batches for the whole window (as bench_pair). */
static double fast_ns(void (*loop)(void *, uint64_t), void *ctx) {
  uint64_t n = 1024;
  int64_t target = bench_o.time_ns / 8;
  int64_t t0 = bench_now_ns();
  while (bench_now_ns() - t0 < bench_o.warmup_ns) /* warm-up */
    loop(ctx, n);
  for (;;) {
    int64_t a = bench_now_ns();
    loop(ctx, n);
    if (bench_now_ns() - a >= target || n >= ((uint64_t)1 << 40))
      break;
    n *= 2;
  }
  uint64_t total = 0;
  int64_t start = bench_now_ns(), now = start;
  while (now - start < bench_o.time_ns) {
    loop(ctx, n);
    total += n;
    now = bench_now_ns();
  }
  return (double)(now - start) / (double)total;
}

static void loop_sp_rd(void *ctx, uint64_t n) {
  sp_rwlock_t *l = ctx;
  for (uint64_t i = 0; i < n; i++) {
    (void)!sp_rwlock_rdlock(l, SP_FOREVER);
    sp_rwlock_unlock(l);
  }
}

static void loop_sp_wr(void *ctx, uint64_t n) {
  sp_rwlock_t *l = ctx;
  for (uint64_t i = 0; i < n; i++) {
    (void)!sp_rwlock_wrlock(l, SP_FOREVER);
    sp_rwlock_unlock(l);
  }
}

static void loop_raw_rd(void *ctx, uint64_t n) {
  bench_rrwlock_loop(ctx, n, 0);
}

static void loop_raw_wr(void *ctx, uint64_t n) {
  bench_rrwlock_loop(ctx, n, 1);
}

static void no_kick(void *p) {
  (void)p; /* nobody waits for anything but the lock */
}

static double run(rwb *b, int n, void *(*fn)(void *)) {
  void *(*fns[MAXT])(void *);
  void *args[MAXT];
  rwarg ra[MAXT];
  for (int i = 0; i < n; i++) {
    b->ops[i].n = 0;
    ra[i].b = b;
    ra[i].idx = i;
    fns[i] = fn;
    args[i] = &ra[i];
  }
  b->g.kick = no_kick;
  b->g.ctx = b;
  b->g.extra = NULL;
  b->g.nextra = 0;
  return bench_group_run(&b->g, n, fns, args, b->ops, n);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {20, 100, 600};
  int rc = bench_init(argc, argv, "rwlock", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  static const struct {
    const char *name;
    unsigned write_pct;
  } mixes[] = {{"rd95", 5}, {"wr50", 50}};
  static const int threads[3][4] = {{1, 4}, {1, 2, 4}, {1, 2, 3, 4}};
  const int *nt = threads[bench_level()];
  int nnt = bench_level() == 0 ? 2 : bench_level() == 1 ? 3 : 4;

  char c[64], r[64], name[160];
  for (int m = 0; m < 2; m++)
    for (int i = 0; i < nnt; i++) {
      snprintf(c, sizeof c, "sp_%s_%d", mixes[m].name, nt[i]);
      snprintf(r, sizeof r, "raw_%s_%d", mixes[m].name, nt[i]);
      snprintf(name, sizeof name, "%s vs %s", c, r);
      bench_ratio(name, "*", c, "raw", r, "ops_per_s");
    }

  bench_ratio("fast_sp_rd vs fast_raw_rd", "*", "fast_sp_rd", "raw",
              "fast_raw_rd", "ns_per_op");
  bench_ratio("fast_sp_wr vs fast_raw_wr", "*", "fast_sp_wr", "raw",
              "fast_raw_wr", "ns_per_op");

  static rwb b;
  if (sp_rwlock_init(&b.l) != SP_OK)
    bench_die("sp_rwlock_init failed");
  bench_rrwlock_init(&b.raw);
  if (bench_want("fast_sp_rd"))
    bench_emit(BE, "fast_sp_rd", "ns_per_op", fast_ns(loop_sp_rd, &b.l));
  if (bench_want("fast_raw_rd"))
    bench_emit("raw", "fast_raw_rd", "ns_per_op", fast_ns(loop_raw_rd, &b.raw));
  if (bench_want("fast_sp_wr"))
    bench_emit(BE, "fast_sp_wr", "ns_per_op", fast_ns(loop_sp_wr, &b.l));
  if (bench_want("fast_raw_wr"))
    bench_emit("raw", "fast_raw_wr", "ns_per_op", fast_ns(loop_raw_wr, &b.raw));
  bench_rrwlock_destroy(&b.raw);
  if (sp_rwlock_destroy(&b.l) != SP_OK)
    bench_die("sp_rwlock_destroy failed");

  for (int m = 0; m < 2; m++) {
    b.write_pct = mixes[m].write_pct;
    for (int i = 0; i < nnt; i++) {
      int n = nt[i];
      snprintf(c, sizeof c, "sp_%s_%d", mixes[m].name, n);
      if (bench_want(c)) {
        if (sp_rwlock_init(&b.l) != SP_OK)
          bench_die("sp_rwlock_init failed");
        bench_emit(BE, c, "ops_per_s", run(&b, n, sp_worker));
        if (sp_rwlock_destroy(&b.l) != SP_OK)
          bench_die("sp_rwlock_destroy failed");
      }
      snprintf(c, sizeof c, "raw_%s_%d", mixes[m].name, n);
      if (bench_want(c)) {
        bench_rrwlock_init(&b.raw);
        bench_emit("raw", c, "ops_per_s", run(&b, n, raw_worker));
        bench_rrwlock_destroy(&b.raw);
      }
    }
  }
  return 0;
}
