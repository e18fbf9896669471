/* sp_barrier_t: the default timeout given at init (threading.Barrier's
 * `timeout`: SP_DEFAULT_TIMEOUT uses it, any other timeout overrides it),
 * its static initializer, the _until variant (never early; a passed
 * deadline succeeds only for the last party), an action that aborts its
 * generation (Python: an action that raises), and every new bad input. */
#include "helpers.h"

#include <string.h>

#include "../src/test_hooks.h"

typedef struct {
  sp_barrier_t b;
  int rc[T_MAX_BUNCH];
  unsigned idx[T_MAX_BUNCH];
  int64_t timeout; /* per waiter, or the deadline for _until */
  int use_until;
  int early; /* atomic: a timeout reported before it passed */
  int action_runs;
} shared_t;

static void waiter(void *p, int i) {
  shared_t *s = p;
  if (s->use_until) {
    s->rc[i] = sp_barrier_wait_until(&s->b, s->timeout, &s->idx[i]);
    if (s->rc[i] == SP_TIMEDOUT && sp_now_ns() < s->timeout)
      t_inc(&s->early);
  } else {
    s->rc[i] = sp_barrier_wait(&s->b, s->timeout, &s->idx[i]);
  }
}

static void wait_n_waiting(sp_barrier_t *b, int n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sp_barrier_n_waiting(b) != n) {
    if (t_now_ns() > end)
      fail_msg("n_waiting stayed at %d, not %d", sp_barrier_n_waiting(b), n);
    t_sleep_ns(100000);
  }
}

static void test_bad_inputs(void **state) {
  (void)state;
  sp_barrier_t b;
  unsigned idx = 77;
  assert_rc(SP_EINVAL, sp_barrier_init_timeout(NULL, 2, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_barrier_init_timeout(&b, 0, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_barrier_init_timeout(&b, (unsigned)INT32_MAX + 1u,
                                               NULL, NULL, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_barrier_init_timeout(&b, 2, NULL, NULL, -2));
  assert_rc(SP_EINVAL, sp_barrier_init_timeout(&b, 2, NULL, NULL, INT64_MIN));
  assert_rc(SP_EINVAL, sp_barrier_wait_until(NULL, 0, &idx));
  /* A bad static default timeout: every call is SP_EINVAL. */
  sp_barrier_t bad = SP_BARRIER_INIT_TIMEOUT(2, NULL, NULL, -7);
  assert_rc(SP_EINVAL, sp_barrier_wait(&bad, SP_DEFAULT_TIMEOUT, &idx));
  assert_rc(SP_EINVAL, sp_barrier_wait_until(&bad, 0, &idx));
  assert_rc(SP_EINVAL, sp_barrier_parties(&bad));
  assert_rc(SP_EINVAL, sp_barrier_destroy(&bad));
  /* A timeout below -2 is bad; SP_DEFAULT_TIMEOUT (-2) is not. */
  assert_rc(SP_OK, sp_barrier_init_timeout(&b, 2, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_barrier_wait(&b, -3, &idx));
  assert_rc(SP_EINVAL, sp_barrier_wait(&b, INT64_MIN, &idx));
  assert_int_equal(77, idx);
  assert_int_equal(0, sp_barrier_n_waiting(&b));
  assert_int_equal(0, sp_barrier_broken(&b));
  /* The default here is 0: a lone waiter breaks the barrier at once. */
  assert_rc(SP_TIMEDOUT, sp_barrier_wait(&b, SP_DEFAULT_TIMEOUT, &idx));
  assert_int_equal(1, sp_barrier_broken(&b));
  assert_rc(SP_OK, sp_barrier_destroy(&b));
  assert_rc(SP_EINVAL, sp_barrier_wait_until(&b, INT64_MAX, &idx));
  assert_rc(SP_EINVAL, sp_barrier_wait(&b, SP_DEFAULT_TIMEOUT, &idx));
  assert_int_equal(77, idx);
}

/* The default timeout: a waiter passing SP_DEFAULT_TIMEOUT times out after
 * it (never earlier) and breaks the barrier; the others get SP_BROKEN. */
static void default_waiter(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = sp_now_ns();
  s->rc[i] = sp_barrier_wait(&s->b, i == 0 ? SP_DEFAULT_TIMEOUT : SP_FOREVER,
                             &s->idx[i]);
  if (i == 0 && s->rc[i] == SP_TIMEDOUT && sp_now_ns() - t0 < 30 * MS)
    t_inc(&s->early);
}

static void test_default_timeout(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_barrier_init_timeout(&s.b, 4, NULL, NULL, 30 * MS));
  for (int round = 0; round < 3; round++) {
    t_bunch b;
    t_bunch_start(&b, 3, default_waiter, &s);
    t_bunch_join(&b);
    assert_rc(SP_TIMEDOUT, s.rc[0]);
    assert_rc(SP_BROKEN, s.rc[1]);
    assert_rc(SP_BROKEN, s.rc[2]);
    assert_int_equal(0, t_load(&s.early));
    assert_int_equal(1, sp_barrier_broken(&s.b));
    assert_rc(SP_BROKEN, sp_barrier_wait(&s.b, SP_DEFAULT_TIMEOUT, NULL));
    assert_rc(SP_OK, sp_barrier_reset(&s.b));
  }
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
  /* With every party there in time, the default does not fire. */
  assert_rc(SP_OK,
            sp_barrier_init_timeout(&s.b, 4, NULL, NULL, 10 * SP_NS_PER_S));
  s.timeout = SP_DEFAULT_TIMEOUT;
  t_bunch b;
  t_bunch_start(&b, 3, waiter, &s);
  wait_n_waiting(&s.b, 3);
  assert_rc(SP_OK, sp_barrier_wait(&s.b, SP_DEFAULT_TIMEOUT, &s.idx[3]));
  t_bunch_join(&b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
  /* A caller's own timeout overrides the default: SP_FOREVER waits longer
   * than the default for the last party. */
  assert_rc(SP_OK, sp_barrier_init_timeout(&s.b, 4, NULL, NULL, 20 * MS));
  s.timeout = SP_FOREVER;
  t_bunch_start(&b, 3, waiter, &s);
  wait_n_waiting(&s.b, 3);
  t_sleep_ns(50 * MS);
  assert_int_equal(0, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_wait(&s.b, 0, &s.idx[3]));
  t_bunch_join(&b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));

  /* sp_barrier_init's default is SP_FOREVER; so is SP_BARRIER_INIT's. */
  sp_barrier_t st = SP_BARRIER_INIT(2, NULL, NULL);
  sp_barrier_t st2 = SP_BARRIER_INIT_TIMEOUT(2, NULL, NULL, 20 * MS);
  for (int k = 0; k < 2; k++) {
    memset(&s, 0, sizeof s);
    if (k == 0)
      assert_rc(SP_OK, sp_barrier_init(&s.b, 2, NULL, NULL));
    else
      s.b = st;
    s.timeout = SP_DEFAULT_TIMEOUT;
    t_bunch_start(&b, 1, waiter, &s);
    wait_n_waiting(&s.b, 1);
    t_sleep_ns(30 * MS);
    assert_int_equal(0, sp_barrier_broken(&s.b));
    assert_rc(SP_OK, sp_barrier_wait(&s.b, SP_DEFAULT_TIMEOUT, NULL));
    t_bunch_join(&b);
    assert_rc(SP_OK, s.rc[0]);
    assert_rc(SP_OK, sp_barrier_destroy(&s.b));
  }
  int64_t t0 = sp_now_ns();
  assert_rc(SP_TIMEDOUT, sp_barrier_wait(&st2, SP_DEFAULT_TIMEOUT, NULL));
  assert_true(sp_now_ns() - t0 >= 20 * MS);
  assert_rc(SP_OK, sp_barrier_destroy(&st2));
}

/* _until: never early; a passed deadline breaks unless last; INT64_MAX. */
static void test_wait_until(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_barrier_init(&s.b, 3, NULL, NULL));
  s.use_until = 1;
  for (int k = 0; k < 3; k++) {
    s.timeout = sp_now_ns() + (k + 1) * 10 * MS;
    t_bunch b;
    t_bunch_start(&b, 2, waiter, &s);
    t_bunch_join(&b);
    /* One timed out (and broke it), the other saw it broken. */
    assert_true((s.rc[0] == SP_TIMEDOUT && s.rc[1] == SP_BROKEN) ||
                (s.rc[1] == SP_TIMEDOUT && s.rc[0] == SP_BROKEN) ||
                (s.rc[0] == SP_TIMEDOUT && s.rc[1] == SP_TIMEDOUT));
    assert_true(sp_now_ns() >= s.timeout);
    assert_int_equal(0, t_load(&s.early));
    assert_rc(SP_OK, sp_barrier_reset(&s.b));
  }
  /* A passed deadline: the last party still succeeds. */
  s.timeout = INT64_MAX;
  t_bunch b;
  t_bunch_start(&b, 2, waiter, &s);
  wait_n_waiting(&s.b, 2);
  unsigned idx = 9;
  assert_rc(SP_OK, sp_barrier_wait_until(&s.b, 0, &idx));
  assert_int_equal(2, idx);
  t_bunch_join(&b);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, s.rc[1]);
  assert_true(s.idx[0] + s.idx[1] == 1);
  /* ... and breaks the barrier for a non-last one. */
  assert_rc(SP_TIMEDOUT, sp_barrier_wait_until(&s.b, sp_now_ns() - 1, NULL));
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* An action that aborts: its generation fails (every party, the action's
 * thread included, gets SP_BROKEN), the action ran once, and the barrier
 * works again after a reset. */
static void aborting_action(void *p) {
  shared_t *s = p;
  s->action_runs++;
  if (s->action_runs == 1)
    assert_rc(SP_OK, sp_barrier_abort(&s->b));
}

static void test_action_abort(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_barrier_init(&s.b, 3, aborting_action, &s));
  s.timeout = SP_FOREVER;
  t_bunch b;
  t_bunch_start(&b, 3, waiter, &s);
  t_bunch_join(&b);
  for (int i = 0; i < 3; i++)
    assert_rc(SP_BROKEN, s.rc[i]);
  assert_int_equal(1, s.action_runs);
  assert_int_equal(1, sp_barrier_broken(&s.b));
  assert_int_equal(0, sp_barrier_n_waiting(&s.b));
  assert_rc(SP_OK, sp_barrier_reset(&s.b));
  t_bunch_start(&b, 3, waiter, &s);
  t_bunch_join(&b);
  unsigned seen = 0;
  for (int i = 0; i < 3; i++) {
    assert_rc(SP_OK, s.rc[i]);
    seen |= 1u << s.idx[i];
  }
  assert_int_equal(7, seen);
  assert_int_equal(2, s.action_runs);
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

/* The barrier's waits take no OS semaphore: with that fault site failing
 * from the first call, blocking waits still work and never reach it. */
static void test_no_semaphore(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_barrier_init(&s.b, 4, NULL, NULL));
  s.timeout = SP_FOREVER;
  sp_fault_set_from_(SP_FAULT_SEMA_INIT_, 1);
  for (int round = 0; round < 20; round++) {
    t_bunch b;
    t_bunch_start(&b, 4, waiter, &s);
    t_bunch_join(&b);
    for (int i = 0; i < 4; i++)
      assert_rc(SP_OK, s.rc[i]);
  }
  assert_rc(SP_TIMEDOUT, sp_barrier_wait(&s.b, MS, NULL));
  assert_int_equal(0, sp_fault_count_(SP_FAULT_SEMA_INIT_));
  sp_fault_clear_();
  assert_rc(SP_OK, sp_barrier_destroy(&s.b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_default_timeout),
      cmocka_unit_test(test_wait_until),
      cmocka_unit_test(test_action_abort),
      cmocka_unit_test(test_no_semaphore),
  };
  return T_RUN("barrier_timeout", tests);
}
