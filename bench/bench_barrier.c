/* bench_barrier (issue 15, minimal): T threads pass a barrier again and
 * again (T = 2, 4), through sp_barrier_t (the linked backend) and, in the
 * same process, through pthread_barrier_t (backend raw; POSIX only):
 * barrier_T, gen_per_s (generations per second). The perf helper's
 * bench_barrier (peers, context switches) supersedes this one.
 *
 * Stopping: after the window, thread 0 picks the generation after which
 * every thread leaves (quit_at) and publishes it before it arrives there,
 * so the others read it after that generation's release: all leave after
 * the same generation, none is left waiting. */
#include "bench.h"

#include <stdio.h>
#include <syncplus.h>

#ifndef _WIN32
#include <pthread.h>
#endif

#define BE   (sp_backend())
#define MAXT 4

typedef struct bb {
  bench_group g;
  bench_counter gens[1];
  sp_barrier_t sb;
#ifndef _WIN32
  pthread_barrier_t pb;
#endif
  int raw;
  long quit_at; /* atomic: leave after this generation (0: not yet) */
} bb;

typedef struct barg {
  bb *b;
  int idx;
} barg;

/* One wait on the barrier being measured. */
static void wait_once(bb *b) {
#ifndef _WIN32
  if (b->raw) {
    (void)pthread_barrier_wait(&b->pb);
    return;
  }
#endif
  if (sp_barrier_wait(&b->sb, SP_FOREVER, NULL) != SP_OK)
    bench_die("sp_barrier_wait failed");
}

static void *bar_thread(void *p) {
  barg *a = p;
  bb *b = a->b;
  for (long g = 1;; g++) {
    if (a->idx == 0 && bench_group_stopping(&b->g) &&
        __atomic_load_n(&b->quit_at, __ATOMIC_ACQUIRE) == 0)
      __atomic_store_n(&b->quit_at, g, __ATOMIC_RELEASE);
    wait_once(b);
    if (a->idx == 0)
      bench_count(&b->gens[0], 1);
    if (__atomic_load_n(&b->quit_at, __ATOMIC_ACQUIRE) == g)
      break;
  }
  bench_group_done(&b->g);
  return NULL;
}

static void no_kick(void *p) {
  (void)p;
}

static double run(bb *b, int n) {
  void *(*fns[MAXT])(void *);
  void *args[MAXT];
  barg ba[MAXT];
  b->gens[0].n = 0;
  __atomic_store_n(&b->quit_at, 0, __ATOMIC_RELEASE);
  for (int i = 0; i < n; i++) {
    ba[i].b = b;
    ba[i].idx = i;
    fns[i] = bar_thread;
    args[i] = &ba[i];
  }
  b->g.kick = no_kick;
  b->g.ctx = b;
  b->g.extra = NULL;
  b->g.nextra = 0;
  return bench_group_run(&b->g, n, fns, args, b->gens, 1);
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {30, 200, 600};
  int rc = bench_init(argc, argv, "barrier", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;
  static const int T[2] = {2, 4};
  char c[32], name[64];
  for (int t = 0; t < 2; t++) {
    snprintf(c, sizeof c, "barrier_%d", T[t]);
    snprintf(name, sizeof name, "%s vs pthread_barrier", c);
    bench_ratio(name, "*", c, "raw", c, "gen_per_s");
  }
  static bb b;
  for (int t = 0; t < 2; t++) {
    snprintf(c, sizeof c, "barrier_%d", T[t]);
    if (!bench_want(c))
      continue;
    if (sp_barrier_init(&b.sb, (unsigned)T[t], NULL, NULL) != SP_OK)
      bench_die("sp_barrier_init failed");
    b.raw = 0;
    bench_emit(BE, c, "gen_per_s", run(&b, T[t]));
    if (sp_barrier_destroy(&b.sb) != SP_OK)
      bench_die("sp_barrier_destroy failed");
#ifndef _WIN32
    if (pthread_barrier_init(&b.pb, NULL, (unsigned)T[t]) != 0)
      bench_die("pthread_barrier_init failed");
    b.raw = 1;
    bench_emit("raw", c, "gen_per_s", run(&b, T[t]));
    pthread_barrier_destroy(&b.pb);
#else
    printf("#skip,barrier,raw,%s,no pthread_barrier_t on Windows\n", c);
#endif
  }
  return 0;
}
