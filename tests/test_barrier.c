/* sp_barrier_t: what CPython's lock_tests.py checks for Barrier (phases,
 * indices, action, abort, reset, abort-then-reset, timeout), plus thousands
 * of generations with 2 to 8 threads and reset while threads wait. */
#include "helpers.h"

#include <string.h>

#define MAXN 8

typedef struct {
  sp_barrier_t b;
  int n;
  long generations;
  int64_t timeout;
  int action_runs;       /* written by the action only (under the barrier) */
  int errors;            /* atomic */
  int phase_count[4096]; /* atomic */
  int rc[T_MAX_BUNCH];
  unsigned idx[T_MAX_BUNCH];
  int seen_index[MAXN]; /* atomic */
  int arrived;          /* atomic */
} shared_t;

static void count_action(void *p) {
  shared_t *s = p;
  s->action_runs++;
}

static void init_shared(shared_t *s, int n, sp_barrier_action_fn fn) {
  memset(s, 0, sizeof *s);
  s->n = n;
  s->timeout = SP_FOREVER;
  assert_rc(SP_OK, sp_barrier_init(&s->b, (unsigned)n, fn, s));
}

/* Every thread passes generation g only after all have reached it: the
 * count of arrivals at g is n when anyone leaves g. */
static void phases_worker(void *p, int i) {
  shared_t *s = p;
  (void)i;
  for (long g = 0; g < s->generations; g++) {
    t_inc(&s->phase_count[g % 4096]);
    unsigned idx;
    int rc = sp_barrier_wait(&s->b, s->timeout, &idx);
    if (rc != SP_OK || idx >= (unsigned)s->n ||
        t_load(&s->phase_count[g % 4096]) < s->n * (int)(g / 4096 + 1))
      t_inc(&s->errors);
    /* Action ran exactly once per generation, before anyone left. */
    if (s->b.action_ != NULL &&
        __atomic_load_n(&s->action_runs, __ATOMIC_SEQ_CST) < (int)g + 1)
      t_inc(&s->errors);
  }
}

static void test_barrier_phases(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 5, NULL);
  s.generations = 3;
  t_bunch b;
  t_bunch_start(&b, 5, phases_worker, &s);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&s.errors));
  assert_int_equal(0, sp_barrier_n_waiting(&s.b));
  assert_int_equal(0, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* Indices 0..n-1, each exactly once per generation. */
static void index_worker(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_barrier_wait(&s->b, SP_FOREVER, &s->idx[i]);
}

static void test_distinct_indices(void **state) {
  (void)state;
  for (int n = 1; n <= MAXN; n++) {
    shared_t s;
    init_shared(&s, n, NULL);
    for (int round = 0; round < 3; round++) {
      t_bunch b;
      t_bunch_start(&b, n, index_worker, &s);
      t_bunch_join(&b);
      int seen[MAXN] = {0};
      for (int i = 0; i < n; i++) {
        assert_rc(SP_OK, s.rc[i]);
        assert_in_range(s.idx[i], 0, (unsigned)n - 1);
        seen[s.idx[i]]++;
      }
      for (int i = 0; i < n; i++)
        assert_int_equal(1, seen[i]);
    }
    assert_rc(SP_OK, sp_barrier_destroy(&s.b));
  }
}

static void test_action_once_per_generation(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 4, count_action);
  s.generations = 50;
  t_bunch b;
  t_bunch_start(&b, 4, phases_worker, &s);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&s.errors));
  assert_int_equal(50, s.action_runs);
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* Thousands of generations with 2 to 8 threads, bounded by count and time.
 * The action decides when to stop (it runs once per generation before
 * anyone is released), so every thread stops after the same generation. */
static int64_t stop_deadline;

static void stop_flag_action(void *p) {
  shared_t *s = p;
  s->action_runs++;
  if (s->action_runs >= s->generations || t_now_ns() > stop_deadline)
    t_store(&s->arrived, 1);
}

static void many_worker(void *p, int i) {
  shared_t *s = p;
  (void)i;
  for (;;) {
    unsigned idx;
    int rc = sp_barrier_wait(&s->b, 30 * SP_NS_PER_S, &idx);
    if (rc != SP_OK || idx >= (unsigned)s->n) {
      t_inc(&s->errors);
      return;
    }
    t_inc(&s->seen_index[idx]);
    if (t_load(&s->arrived))
      return;
  }
}

static void test_thousands_of_generations(void **state) {
  (void)state;
  for (int n = 2; n <= MAXN; n += 2) {
    shared_t s;
    init_shared(&s, n, stop_flag_action);
    s.generations = t_iters(5000);
    stop_deadline = t_now_ns() + (t_stress_deadline() - t_now_ns()) / 4;
    t_bunch b;
    t_bunch_start(&b, n, many_worker, &s);
    t_bunch_join(&b);
    assert_int_equal(0, t_load(&s.errors));
    int gens = s.action_runs;
    assert_true(gens > 0);
    /* each index was handed out once in every generation */
    for (int i = 0; i < n; i++)
      assert_int_equal(gens, t_load(&s.seen_index[i]));
    assert_rc(SP_OK, sp_barrier_destroy(&s.b));
  }
}

/* Abort: the waiters get SP_BROKEN; later waits too, until reset. */
static void abort_worker(void *p, int i) {
  shared_t *s = p;
  t_inc(&s->arrived);
  s->rc[i] = sp_barrier_wait(&s->b, s->timeout, NULL);
}

static void wait_n_waiting(shared_t *s, int n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sp_barrier_n_waiting(&s->b) < n) {
    if (t_now_ns() > end)
      fail_msg("n_waiting stayed below %d", n);
    t_sleep_ns(200000);
  }
}

static void test_abort(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 4, NULL);
  t_bunch b;
  t_bunch_start(&b, 3, abort_worker, &s);
  wait_n_waiting(&s, 3);
  assert_int_equal(3, sp_barrier_n_waiting(&s.b));
  assert_rc(SP_OK, sp_barrier_abort(&s.b));
  t_bunch_join(&b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_BROKEN, s.rc[i]);
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_rc(SP_BROKEN, sp_barrier_wait(&s.b, SP_FOREVER, NULL));
  assert_rc(SP_BROKEN, sp_barrier_wait(&s.b, 0, NULL));
  assert_int_equal(0, sp_barrier_n_waiting(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* Reset while threads wait: they get SP_BROKEN, and the barrier works
 * again for a full generation afterwards. */
static void test_reset_while_waiting(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 3, NULL);
  for (int round = 0; round < 5; round++) {
    t_bunch b;
    t_bunch_start(&b, 2, abort_worker, &s);
    wait_n_waiting(&s, 2);
    assert_rc(SP_OK, sp_barrier_reset(&s.b));
    t_bunch_join(&b);
    assert_rc(SP_BROKEN, s.rc[0]);
    assert_rc(SP_BROKEN, s.rc[1]);
    assert_int_equal(0, sp_barrier_broken(&s.b));
    t_bunch_start(&b, 3, index_worker, &s);
    t_bunch_join(&b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_OK, s.rc[i]);
  }
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

static void test_abort_then_reset(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 3, NULL);
  t_bunch b;
  t_bunch_start(&b, 2, abort_worker, &s);
  wait_n_waiting(&s, 2);
  assert_rc(SP_OK, sp_barrier_abort(&s.b));
  t_bunch_join(&b);
  assert_rc(SP_BROKEN, s.rc[0]);
  assert_rc(SP_BROKEN, s.rc[1]);
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_reset(&s.b));
  assert_int_equal(0, sp_barrier_broken(&s.b));
  for (int round = 0; round < 3; round++) {
    t_bunch_start(&b, 3, index_worker, &s);
    t_bunch_join(&b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_OK, s.rc[i]);
  }
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* A waiter whose timeout passes breaks the barrier and gets SP_TIMEDOUT
 * (no earlier than asked); the others get SP_BROKEN. */
static void timeout_worker(void *p, int i) {
  shared_t *s = p;
  int64_t to = i == 0 ? 40 * MS : SP_FOREVER;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_barrier_wait(&s->b, to, NULL);
  if (i == 0 && s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < to)
    t_inc(&s->errors);
}

static void test_timeout_breaks(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 4, NULL);
  t_bunch b;
  t_bunch_start(&b, 3, timeout_worker, &s);
  t_bunch_join(&b);
  assert_rc(SP_TIMEDOUT, s.rc[0]);
  assert_rc(SP_BROKEN, s.rc[1]);
  assert_rc(SP_BROKEN, s.rc[2]);
  assert_int_equal(0, t_load(&s.errors));
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_reset(&s.b));
  /* zero timeout: only the last party succeeds; a lone one breaks it */
  assert_rc(SP_TIMEDOUT, sp_barrier_wait(&s.b, 0, NULL));
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

static void test_single_party(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 1, count_action);
  for (int i = 0; i < 10; i++) {
    unsigned idx = 99;
    assert_rc(SP_OK, sp_barrier_wait(&s.b, 0, &idx));
    assert_int_equal(0, idx);
  }
  assert_int_equal(10, s.action_runs);
  assert_int_equal(1, sp_barrier_parties(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* The action may not re-enter the barrier: it gets SP_EPERM, no deadlock
 * (abort is the exception: see test_action_abort). */
#define NREENTRY 7
static int reentry_rc[NREENTRY];
static void reentrant_action(void *p) {
  shared_t *s = p;
  reentry_rc[0] = sp_barrier_wait(&s->b, 0, NULL);
  reentry_rc[1] = sp_barrier_wait_until(&s->b, 0, NULL);
  reentry_rc[2] = sp_barrier_reset(&s->b);
  reentry_rc[3] = sp_barrier_n_waiting(&s->b);
  reentry_rc[4] = sp_barrier_broken(&s->b);
  reentry_rc[5] = sp_barrier_destroy(&s->b);
  reentry_rc[6] = sp_barrier_wait(&s->b, SP_DEFAULT_TIMEOUT, NULL);
}

static void test_action_reentry_is_refused(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 2, reentrant_action);
  t_bunch b;
  t_bunch_start(&b, 2, index_worker, &s);
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, s.rc[1]);
  for (int i = 0; i < NREENTRY; i++)
    assert_rc(SP_EPERM, reentry_rc[i]);
  assert_int_equal(0, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

static void test_destroy_while_waiting(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 2, NULL);
  t_bunch b;
  t_bunch_start(&b, 1, abort_worker, &s);
  wait_n_waiting(&s, 1);
  assert_rc(SP_EPERM, sp_barrier_destroy(&s.b));
  assert_rc(SP_OK, sp_barrier_wait(&s.b, SP_FOREVER, NULL));
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* Stress: resets and aborts racing full generations. Whatever the
 * interleaving, every wait returns SP_OK, SP_BROKEN or SP_TIMEDOUT, nobody
 * hangs, and SP_OK results of one generation carry distinct indices. */
typedef struct {
  shared_t s;
  int stop; /* atomic */
  int ok;   /* atomic */
} chaos_t;

static void chaos_worker(void *p, int i) {
  chaos_t *c = p;
  if (i == 0) {
    int64_t end = t_stress_deadline();
    long k = 0;
    while (t_now_ns() < end && k < t_iters(3000)) {
      t_sleep_ns(100000);
      if (k % 3 == 0)
        assert_rc(SP_OK, sp_barrier_abort(&c->s.b));
      assert_rc(SP_OK, sp_barrier_reset(&c->s.b));
      k++;
    }
    t_store(&c->stop, 1);
    /* Keep releasing until the workers have noticed the stop flag. */
    for (int r = 0; r < 50; r++) {
      assert_rc(SP_OK, sp_barrier_abort(&c->s.b));
      t_sleep_ns(1 * MS);
    }
    return;
  }
  while (!t_load(&c->stop)) {
    int rc = sp_barrier_wait(&c->s.b, 50 * MS, NULL);
    if (rc == SP_OK)
      t_inc(&c->ok);
    else if (rc != SP_BROKEN && rc != SP_TIMEDOUT)
      t_inc(&c->s.errors);
  }
}

static void test_reset_abort_race_stress(void **state) {
  (void)state;
  chaos_t c;
  memset(&c, 0, sizeof c);
  init_shared(&c.s, 3, NULL);
  t_bunch b;
  t_bunch_start(&b, 4, chaos_worker, &c);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&c.s.errors));
  assert_true(t_load(&c.ok) > 0);
  assert_rc(SP_OK, sp_barrier_reset(&c.s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&c.s.b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_barrier_phases),
      cmocka_unit_test(test_distinct_indices),
      cmocka_unit_test(test_action_once_per_generation),
      cmocka_unit_test(test_thousands_of_generations),
      cmocka_unit_test(test_abort),
      cmocka_unit_test(test_reset_while_waiting),
      cmocka_unit_test(test_abort_then_reset),
      cmocka_unit_test(test_timeout_breaks),
      cmocka_unit_test(test_single_party),
      cmocka_unit_test(test_action_reentry_is_refused),
      cmocka_unit_test(test_destroy_while_waiting),
      cmocka_unit_test(test_reset_abort_race_stress),
  };
  return T_RUN("barrier", tests);
}
