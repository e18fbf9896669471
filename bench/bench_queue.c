/* bench_queue (issue 3): a producer/consumer queue with 2, 4 and 100
 * threads (half producers, half consumers), in items per second (items
 * got by the consumers). (The unbounded cases are bench_uqueue's.)
 *
 * Cases, N in 2, 4, 100:
 *   sp_bounded_N           sp_queue_t (FIFO), maxsize 64
 *   sp_lifo_bounded_N      sp_queue_t made by sp_queue_init_lifo, maxsize
 *                          64 (issue 13)
 *   sp_priority_bounded_N  sp_queue_t made by sp_queue_init_priority,
 *                          maxsize 64, items of 1000 priorities compared
 *                          as integers (issue 13)
 *   ring_N                 raw: a bounded ring of 64 slots with one
 *                          pthread_mutex_t and two pthread_cond_t
 *                          (not_empty, not_full), signalling one waiter
 *                          per put/get, as Python's queue.Queue does
 *                          (backend raw)
 * The LIFO and priority rows run at N = 4 only, except in --mode full
 * (the default run's time budget). */
#include "bench.h"

#include <stdio.h>
#include <syncplus.h>

#define BE (sp_backend())

#define QCAP 64
#define MAXT 100

typedef struct qb {
  bench_group g;
  bench_counter got[MAXT / 2];
  sp_queue_t q;
  /* raw ring */
  bench_rmutex m;
  bench_rcond ne, nf;
  void *ring[QCAP];
  size_t head, count;
  int nthreads;
  int kind; /* 0 FIFO, 1 LIFO, 2 priority */
} qb;

/* The priority queue's order: smaller integers first. */
static int by_value(const void *x, const void *y) {
  uintptr_t a = (uintptr_t)x, b = (uintptr_t)y;
  return (a > b) - (a < b);
}

typedef struct qarg {
  qb *b;
  int idx;
} qarg;

#define ITEM ((void *)(uintptr_t)1)

static void *sp_prod(void *p) {
  qarg *a = p;
  qb *b = a->b;
  uintptr_t k = (uintptr_t)a->idx * 7919u;
  while (!bench_group_stopping(&b->g)) {
    /* Items 1..1000 (never NULL, the consumers' stop item): the priority
     * queue's priorities; one constant item costs the same elsewhere. */
    void *it = b->kind == 2 ? (void *)(1 + k++ % 1000) : ITEM;
    (void)!sp_queue_put(&b->q, it, SP_FOREVER);
  }
  bench_group_done(&b->g);
  return NULL;
}

static void *sp_cons(void *p) {
  qarg *a = p;
  qb *b = a->b;
  for (;;) {
    void *it = NULL;
    (void)!sp_queue_get(&b->q, &it, SP_FOREVER);
    if (it == NULL || bench_group_stopping(&b->g))
      break;
    bench_count(&b->got[a->idx], 1);
  }
  bench_group_done(&b->g);
  return NULL;
}

/* Unblock everyone at teardown: make room for blocked producers and give
 * blocked consumers a NULL item. Repeated by bench_group_run until all are
 * done. */
static void sp_kick(void *p) {
  qb *b = p;
  void *it;
  while (sp_queue_get(&b->q, &it, 0) == SP_OK)
    ;
  for (int i = 0; i < b->nthreads / 2; i++)
    (void)!sp_queue_put(&b->q, NULL, 0);
}

static void *ring_prod(void *p) {
  qarg *a = p;
  qb *b = a->b;
  for (;;) {
    bench_rmutex_lock(&b->m);
    while (b->count == QCAP && !bench_group_stopping(&b->g))
      bench_rcond_wait(&b->nf, &b->m);
    if (bench_group_stopping(&b->g)) {
      bench_rmutex_unlock(&b->m);
      break;
    }
    b->ring[(b->head + b->count) % QCAP] = ITEM;
    b->count++;
    bench_rcond_signal(&b->ne);
    bench_rmutex_unlock(&b->m);
  }
  bench_group_done(&b->g);
  return NULL;
}

static void *ring_cons(void *p) {
  qarg *a = p;
  qb *b = a->b;
  for (;;) {
    bench_rmutex_lock(&b->m);
    while (b->count == 0 && !bench_group_stopping(&b->g))
      bench_rcond_wait(&b->ne, &b->m);
    if (bench_group_stopping(&b->g)) {
      bench_rmutex_unlock(&b->m);
      break;
    }
    void *it = b->ring[b->head];
    b->head = (b->head + 1) % QCAP;
    b->count--;
    bench_rcond_signal(&b->nf);
    bench_rmutex_unlock(&b->m);
    if (it != NULL)
      bench_count(&b->got[a->idx], 1);
  }
  bench_group_done(&b->g);
  return NULL;
}

static void ring_kick(void *p) {
  qb *b = p;
  bench_rmutex_lock(&b->m);
  bench_rcond_broadcast(&b->ne);
  bench_rcond_broadcast(&b->nf);
  bench_rmutex_unlock(&b->m);
}

static double run(qb *b, int n, void *(*prod)(void *), void *(*cons)(void *),
                  void (*kick)(void *)) {
  void *(*fns[MAXT])(void *);
  void *args[MAXT];
  qarg qa[MAXT];
  b->nthreads = n;
  for (int i = 0; i < n / 2; i++) {
    b->got[i].n = 0;
    qa[i].b = b;
    qa[i].idx = i;
    fns[i] = cons;
    args[i] = &qa[i];
    qa[n / 2 + i].b = b;
    qa[n / 2 + i].idx = i;
    fns[n / 2 + i] = prod;
    args[n / 2 + i] = &qa[n / 2 + i];
  }
  b->g.kick = kick;
  b->g.ctx = b;
  b->g.extra = NULL;
  b->g.nextra = 0;
  return bench_group_run(&b->g, n, fns, args, b->got, n / 2);
}

static void drain(qb *b) {
  void *it;
  while (sp_queue_get(&b->q, &it, 0) == SP_OK)
    ;
}

int main(int argc, char **argv) {
  static const int64_t times_ms[3] = {30, 200, 600};
  int rc = bench_init(argc, argv, "queue", BE, times_ms);
  if (rc != 0)
    return rc == 1 ? 0 : 2;

  static const int NT[3] = {2, 4, 100};
  char c[64], r[64];
  for (int i = 0; i < 3; i++) {
    snprintf(c, sizeof c, "sp_bounded_%d", NT[i]);
    snprintf(r, sizeof r, "ring_%d", NT[i]);
    char name[160];
    snprintf(name, sizeof name, "%s vs raw %s", c, r);
    bench_ratio(name, "*", c, "raw", r, "items_per_s");
  }
  bench_ratio("sp_bounded_4: sem vs pthread", "sem", "sp_bounded_4", "pthread",
              "sp_bounded_4", "items_per_s");
  bench_ratio("sp_lifo_bounded_4 vs raw ring_4", "*", "sp_lifo_bounded_4",
              "raw", "ring_4", "items_per_s");
  bench_ratio("sp_priority_bounded_4 vs raw ring_4", "*",
              "sp_priority_bounded_4", "raw", "ring_4", "items_per_s");

  static qb b;
  bench_rmutex_init(&b.m);
  bench_rcond_init(&b.ne);
  bench_rcond_init(&b.nf);
  static const char *const kinds[3] = {"sp_bounded", "sp_lifo_bounded",
                                       "sp_priority_bounded"};
  for (int i = 0; i < 3; i++) {
    int n = NT[i];
    for (int kind = 0; kind < 3; kind++) {
      if (kind > 0 && n != 4 && bench_level() < 2)
        continue;
      snprintf(c, sizeof c, "%s_%d", kinds[kind], n);
      if (!bench_want(c))
        continue;
      int rc = kind == 0   ? sp_queue_init(&b.q, QCAP)
               : kind == 1 ? sp_queue_init_lifo(&b.q, QCAP)
                           : sp_queue_init_priority(&b.q, QCAP, by_value);
      if (rc != SP_OK)
        bench_die("sp_queue_init failed");
      b.kind = kind;
      bench_emit(BE, c, "items_per_s", run(&b, n, sp_prod, sp_cons, sp_kick));
      drain(&b);
      if (sp_queue_destroy(&b.q) != SP_OK)
        bench_die("sp_queue_destroy failed");
    }
    snprintf(c, sizeof c, "ring_%d", n);
    if (bench_want(c)) {
      b.head = b.count = 0;
      bench_emit("raw", c, "items_per_s",
                 run(&b, n, ring_prod, ring_cons, ring_kick));
    }
  }
  bench_rcond_destroy(&b.ne);
  bench_rcond_destroy(&b.nf);
  bench_rmutex_destroy(&b.m);
  return 0;
}
