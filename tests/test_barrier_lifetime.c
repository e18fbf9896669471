/* sp_barrier_t: the lifetime promise and the generations without a drain
 * gate.
 *
 * Lifetime: in every round a fresh barrier on the heap; the owner (one of
 * the parties) destroys it, poisons its memory and frees it as soon as its
 * own wait returns, while the other parties may still be inside theirs:
 * the last arriver publishing the release and waking, the released waiters
 * on their way out (destroy waits for them), a breaker (abort, reset, a
 * timed-out party) waking the others. Rounds vary who arrives last and
 * whether the owner is still spinning or already sleeping when released
 * (white box: the SLEEPERS bit of the release word). Thousands of rounds,
 * bounded by t_iters and t_stress_deadline. A touch of freed memory is
 * what ASan reports and TSan reports as a race with the poisoning.
 *
 * Generations: more threads than parties, so that threads arrive for the
 * next generation while the previous one is still leaving (the old design
 * made them wait at a gate; now they do not), with yields sprinkled in:
 * every generation is released whole, the action runs once per
 * generation, and each index is handed out once per generation. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* ---- a pool of persistent workers, one job per round each ---------------- */

#define NWORK 3

typedef struct pool pool_t;
typedef struct {
  pool_t *pool;
  int id;
} wctx_t;

struct pool {
  void (*fn)(pool_t *p, int id);
  sp_barrier_t *b;
  int variant;
  int seq;         /* atomic: rounds posted */
  int done[NWORK]; /* atomic: rounds finished, per worker */
  int quit;        /* atomic */
  int bad;         /* atomic: a worker's call returned something wrong */
  int nworkers;
  wctx_t ctx[NWORK];
  t_thread t[NWORK];
};

static void *worker_main(void *p) {
  wctx_t *c = p;
  pool_t *pl = c->pool;
  for (int seen = 0;;) {
    while (t_load(&pl->seq) == seen && !t_load(&pl->quit))
      t_yield();
    if (t_load(&pl->quit))
      return NULL;
    seen++;
    pl->fn(pl, c->id);
    t_store(&pl->done[c->id], seen);
  }
}

static void pool_start(pool_t *pl, int n) {
  memset(pl, 0, sizeof *pl);
  pl->nworkers = n;
  for (int i = 0; i < n; i++) {
    pl->ctx[i].pool = pl;
    pl->ctx[i].id = i;
    pl->t[i] = t_start(worker_main, &pl->ctx[i]);
  }
}

static void pool_post(pool_t *pl, void (*fn)(pool_t *, int), sp_barrier_t *b,
                      int variant) {
  pl->fn = fn;
  pl->b = b;
  pl->variant = variant;
  t_inc(&pl->seq);
}

static void pool_wait(pool_t *pl) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  for (int i = 0; i < pl->nworkers; i++)
    while (t_load(&pl->done[i]) != t_load(&pl->seq)) {
      if (t_now_ns() > end)
        fail_msg("worker %d did not finish its round in 10 s", i);
      t_yield();
    }
}

static void pool_stop(pool_t *pl) {
  t_store(&pl->quit, 1);
  for (int i = 0; i < pl->nworkers; i++)
    t_join(pl->t[i]);
  assert_int_equal(0, t_load(&pl->bad));
}

/* White box: does a waiter sleep on the release word (SLEEPERS set)? */
static int someone_sleeps(sp_barrier_t *b) {
  return (__atomic_load_n(&b->word_, __ATOMIC_SEQ_CST) & 2u) != 0;
}

/* Spin until the barrier has n waiters (and, if deep, one sleeps). */
static int wait_waiters(sp_barrier_t *b, int n, int deep) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sp_barrier_n_waiting(b) < n || (deep && !someone_sleeps(b))) {
    if (t_now_ns() > end)
      return 0;
    t_yield();
  }
  return 1;
}

static void poison_free(sp_barrier_t *b) {
  memset(b, 0xDD, sizeof *b);
  free(b);
}

static void check(pool_t *pl, int ok) {
  if (!ok)
    t_store(&pl->bad, 1);
}

/* ---- jobs ------------------------------------------------------------------
 * variant bit 0: "deep" (release only once the owner sleeps). */

/* The worker is the last arriver of a 2-party barrier. */
static void job_last_arriver(pool_t *pl, int id) {
  (void)id;
  check(pl, wait_waiters(pl->b, 1, pl->variant & 1));
  check(pl, sp_barrier_wait(pl->b, SP_FOREVER, NULL) == SP_OK);
}

/* The worker is a waiter; the owner arrives last and destroys at once. */
static void job_waiter(pool_t *pl, int id) {
  (void)id;
  check(pl, sp_barrier_wait(pl->b, SP_FOREVER, NULL) == SP_OK);
}

/* Three workers and the owner, in no fixed order. */
static void job_any(pool_t *pl, int id) {
  if ((pl->variant >> 1) % 4 == id)
    t_yield();
  check(pl, sp_barrier_wait(pl->b, SP_FOREVER, NULL) == SP_OK);
}

/* The worker breaks the owner's wait: abort, reset, or its own timeout. */
static void job_breaker(pool_t *pl, int id) {
  (void)id;
  check(pl, wait_waiters(pl->b, 1, pl->variant & 1));
  switch ((pl->variant >> 1) % 3) {
  case 0:
    check(pl, sp_barrier_abort(pl->b) == SP_OK);
    break;
  case 1:
    check(pl, sp_barrier_reset(pl->b) == SP_OK);
    break;
  default:
    check(pl, sp_barrier_wait(pl->b, 0, NULL) == SP_TIMEDOUT);
    break;
  }
}

typedef enum { R_LAST, R_WAITER, R_ANY, R_BREAK } round_kind;

static void run_rounds(round_kind kind) {
  pool_t pl;
  int nw = kind == R_ANY ? 3 : 1;
  pool_start(&pl, nw);
  long rounds = t_iters(2000), k;
  int64_t deadline = t_stress_deadline();
  for (k = 0; k < rounds && ((k & 31) != 0 || t_now_ns() < deadline); k++) {
    sp_barrier_t *b = malloc(sizeof *b);
    assert_non_null(b);
    unsigned parties = kind == R_ANY ? 4 : kind == R_BREAK ? 3 : 2;
    assert_rc(SP_OK, sp_barrier_init(b, parties, NULL, NULL));
    int variant = (int)(k % 24);
    switch (kind) {
    case R_LAST:
      pool_post(&pl, job_last_arriver, b, variant);
      assert_rc(SP_OK, sp_barrier_wait(b, SP_FOREVER, NULL));
      break;
    case R_WAITER:
      pool_post(&pl, job_waiter, b, variant);
      if (!wait_waiters(b, 1, variant & 1))
        fail_msg("the worker never waited");
      assert_rc(SP_OK, sp_barrier_wait(b, SP_FOREVER, NULL));
      break;
    case R_ANY:
      pool_post(&pl, job_any, b, variant);
      if ((variant >> 1) % 4 == 3)
        t_yield();
      assert_rc(SP_OK, sp_barrier_wait(b, SP_FOREVER, NULL));
      break;
    case R_BREAK: {
      pool_post(&pl, job_breaker, b, variant);
      int rc = sp_barrier_wait(b, SP_FOREVER, NULL);
      assert_rc(SP_BROKEN, rc);
      break;
    }
    }
    assert_rc(SP_OK, sp_barrier_destroy(b)); /* waits for leavers */
    poison_free(b);
    pool_wait(&pl);
  }
  pool_stop(&pl);
  assert_true(k > 0);
}

static void test_release_then_free(void **state) {
  (void)state;
  run_rounds(R_LAST);
}

static void test_last_arriver_frees(void **state) {
  (void)state;
  run_rounds(R_WAITER);
}

static void test_any_party_frees(void **state) {
  (void)state;
  run_rounds(R_ANY);
}

static void test_break_then_free(void **state) {
  (void)state;
  run_rounds(R_BREAK);
}

/* ---- generations that overlap ---------------------------------------------
 * T threads, P parties: threads wait again and again (yielding now and
 * then) until the main thread, once enough generations were released,
 * aborts the barrier. Every generation released ran the action once and
 * handed out each index once, so each index was returned exactly as many
 * times as the action ran; every wait returned SP_OK or, at the end,
 * SP_BROKEN. */
typedef struct {
  sp_barrier_t b;
  long actions;   /* atomic: written by the action (under the barrier) */
  int *idx_count; /* [P], atomic */
  int bad;        /* atomic */
  int timed;      /* use long timeouts instead of SP_FOREVER */
} overlap_t;

static void overlap_action(void *p) {
  overlap_t *o = p;
  long n = __atomic_add_fetch(&o->actions, 1, __ATOMIC_SEQ_CST);
  if (n % 7 == 0)
    t_yield(); /* a slow action: the others wait longer */
}

static void overlap_worker(void *p, int i) {
  overlap_t *o = p;
  unsigned seed = 99u + (unsigned)i;
  for (;;) {
    unsigned idx = 12345;
    int rc = o->timed ? sp_barrier_wait(&o->b, 30 * SP_NS_PER_S, &idx)
                      : sp_barrier_wait(&o->b, SP_FOREVER, &idx);
    if (rc == SP_BROKEN)
      return;
    if (rc != SP_OK || idx >= (unsigned)sp_barrier_parties(&o->b)) {
      t_store(&o->bad, 1);
      return;
    }
    __atomic_add_fetch(&o->idx_count[idx], 1, __ATOMIC_RELAXED);
    seed = seed * 1103515245u + 12345u;
    if ((seed >> 16) % 5 == 0)
      t_yield();
  }
}

static void test_overlapping_generations(void **state) {
  (void)state;
  const int configs[][2] = {{2, 6}, {3, 6}, {4, 8}, {2, 2}, {3, 5}};
  const int nconfigs = 5;
  int64_t end = t_stress_deadline();
  for (int c = 0; c < nconfigs; c++) {
    int parties = configs[c][0], threads = configs[c][1];
    overlap_t o;
    memset(&o, 0, sizeof o);
    o.timed = c % 2;
    o.idx_count = calloc((size_t)parties, sizeof(int));
    assert_non_null(o.idx_count);
    assert_rc(SP_OK,
              sp_barrier_init(&o.b, (unsigned)parties, overlap_action, &o));
    t_bunch b;
    t_bunch_start(&b, threads, overlap_worker, &o);
    long target = t_iters(3000);
    int64_t stop_at = t_now_ns() + (end - t_now_ns()) / (nconfigs - c);
    while (__atomic_load_n(&o.actions, __ATOMIC_SEQ_CST) < target &&
           t_now_ns() < stop_at)
      t_sleep_ns(MS);
    assert_rc(SP_OK, sp_barrier_abort(&o.b));
    t_bunch_join(&b);
    assert_int_equal(0, t_load(&o.bad));
    long gens = __atomic_load_n(&o.actions, __ATOMIC_SEQ_CST);
    assert_true(gens > 0);
    for (int i = 0; i < parties; i++)
      assert_int_equal(gens, o.idx_count[i]);
    assert_int_equal(1, sp_barrier_broken(&o.b));
    assert_rc(SP_OK, sp_barrier_destroy(&o.b));
    free(o.idx_count);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_release_then_free),
      cmocka_unit_test(test_last_arriver_frees),
      cmocka_unit_test(test_any_party_frees),
      cmocka_unit_test(test_break_then_free),
      cmocka_unit_test(test_overlapping_generations),
  };
  return T_RUN("barrier_lifetime", tests);
}
