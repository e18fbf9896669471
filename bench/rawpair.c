/* The raw baselines of the producer/consumer pair (bench.h), shared by
 * bench_pair and bench_giltest so that both measure exactly the same
 * ping-pong: a producer and a consumer hand one token back and forth, one
 * transaction per token, through the OS primitives alone. */
#include "bench.h"

typedef struct rawpair {
  bench_group g;
  bench_counter tx; /* producer's count */
  int token;        /* pthread_cond: 1 when the slot holds a token */
  bench_rmutex m;
  bench_rcond ne, nf; /* not empty, not full */
  bench_rsem se, sf;  /* sem_t: empty slots, full slots */
  int word;           /* futex: 0 producer's turn, 1 consumer's turn */
} rawpair;

static double rawpair_run(rawpair *p, void *(*prod)(void *),
                          void *(*cons)(void *), void (*kick)(void *)) {
  return bench_group_run_pair(&p->g, &p->tx, p, prod, cons, kick);
}

/* ---- pthread_mutex_t + two pthread_cond_t ---- */

static void *rcond_prod(void *arg) {
  rawpair *p = arg;
  for (;;) {
    bench_rmutex_lock(&p->m);
    while (p->token && !bench_group_stopping(&p->g))
      bench_rcond_wait(&p->nf, &p->m);
    p->token = 1;
    bench_rcond_signal(&p->ne);
    bench_rmutex_unlock(&p->m);
    bench_count(&p->tx, 1);
    if (bench_group_stopping(&p->g))
      break;
  }
  bench_group_done(&p->g);
  return NULL;
}

static void *rcond_cons(void *arg) {
  rawpair *p = arg;
  for (;;) {
    bench_rmutex_lock(&p->m);
    while (!p->token && !bench_group_stopping(&p->g))
      bench_rcond_wait(&p->ne, &p->m);
    p->token = 0;
    bench_rcond_signal(&p->nf);
    bench_rmutex_unlock(&p->m);
    if (bench_group_stopping(&p->g))
      break;
  }
  bench_group_done(&p->g);
  return NULL;
}

static void rcond_kick(void *arg) {
  rawpair *p = arg;
  bench_rmutex_lock(&p->m);
  bench_rcond_broadcast(&p->ne);
  bench_rcond_broadcast(&p->nf);
  bench_rmutex_unlock(&p->m);
}

double bench_rawpair_cond(void) {
  static rawpair p;
  p.token = 0;
  bench_rmutex_init(&p.m);
  bench_rcond_init(&p.ne);
  bench_rcond_init(&p.nf);
  double rate = rawpair_run(&p, rcond_prod, rcond_cons, rcond_kick);
  bench_rcond_destroy(&p.ne);
  bench_rcond_destroy(&p.nf);
  bench_rmutex_destroy(&p.m);
  return rate;
}

/* ---- two sem_t ---- */

static void *rsem_prod(void *arg) {
  rawpair *p = arg;
  while (!bench_group_stopping(&p->g)) {
    bench_rsem_wait(&p->se);
    bench_rsem_post(&p->sf);
    bench_count(&p->tx, 1);
  }
  bench_group_done(&p->g);
  return NULL;
}

static void *rsem_cons(void *arg) {
  rawpair *p = arg;
  while (!bench_group_stopping(&p->g)) {
    bench_rsem_wait(&p->sf);
    bench_rsem_post(&p->se);
  }
  bench_group_done(&p->g);
  return NULL;
}

static void rsem_kick(void *arg) {
  rawpair *p = arg;
  bench_rsem_post(&p->se);
  bench_rsem_post(&p->sf);
}

double bench_rawpair_sem(void) {
  static rawpair p;
  bench_rsem_init(&p.se, 1);
  bench_rsem_init(&p.sf, 0);
  double rate = rawpair_run(&p, rsem_prod, rsem_cons, rsem_kick);
  bench_rsem_destroy(&p.se);
  bench_rsem_destroy(&p.sf);
  return rate;
}

/* ---- one futex word ---- */

static void futex_turn(rawpair *p, int mine) {
  while (bench_load(&p->word) != mine && !bench_group_stopping(&p->g))
    bench_futex_wait(&p->word, !mine, -1);
  bench_store(&p->word, !mine);
  bench_futex_wake(&p->word, 1);
}

static void *futex_prod(void *arg) {
  rawpair *p = arg;
  while (!bench_group_stopping(&p->g)) {
    futex_turn(p, 0);
    bench_count(&p->tx, 1);
  }
  bench_group_done(&p->g);
  return NULL;
}

static void *futex_cons(void *arg) {
  rawpair *p = arg;
  while (!bench_group_stopping(&p->g))
    futex_turn(p, 1);
  bench_group_done(&p->g);
  return NULL;
}

static void futex_kick(void *arg) {
  rawpair *p = arg;
  bench_futex_wake(&p->word, 2);
}

double bench_rawpair_futex(void) {
  static rawpair p;
  p.word = 0;
  return rawpair_run(&p, futex_prod, futex_cons, futex_kick);
}
