/* sp_lock_t: what CPython's lock_tests.py checks for Lock, plus stress of
 * timeouts racing releases. */
#include "helpers.h"

#include <string.h>

typedef struct {
  sp_lock_t l;
  int phase;    /* atomic */
  int acquired; /* atomic */
  int inside;   /* atomic: threads inside the critical section */
  int violations;
  long iters;
  int64_t deadline;
  int64_t timeout;
  int rc[T_MAX_BUNCH];
} shared_t;

static void init_shared(shared_t *s) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_lock_init(&s->l));
}

static void test_acquire_release(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_int_equal(0, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  assert_int_equal(1, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_int_equal(0, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, 0));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, 10 * MS));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void test_reacquire_is_not_recursive(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  assert_rc(SP_BUSY, sp_lock_acquire(&s.l, 0));
  assert_rc(SP_TIMEDOUT, sp_lock_acquire(&s.l, 1 * MS));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void test_double_release(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_EPERM, sp_lock_release(&s.l)); /* release unacquired */
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_EPERM, sp_lock_release(&s.l));
  assert_int_equal(0, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, 0)); /* still usable */
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void try_acquire_worker(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_lock_acquire(&s->l, 0);
}

static void test_try_acquire_contended(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  t_bunch b;
  t_bunch_start(&b, 4, try_acquire_worker, &s);
  t_bunch_join(&b);
  for (int i = 0; i < 4; i++)
    assert_rc(SP_BUSY, s.rc[i]);
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

/* N threads block in acquire; each release lets exactly one through. */
static void acquire_worker(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_lock_acquire(&s->l, SP_FOREVER);
  t_inc(&s->acquired);
}

static void test_acquire_contended_phased(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  const int n = 10;
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  t_bunch b;
  t_bunch_start(&b, n, acquire_worker, &s);
  t_sleep_ns(20 * MS);
  assert_int_equal(0, t_load(&s.acquired));
  for (int k = 1; k <= n; k++) {
    assert_rc(SP_OK, sp_lock_release(&s.l)); /* from a non-acquirer */
    t_wait_for_count(&s.acquired, k);
    t_sleep_ns(2 * MS);
    assert_int_equal(k, t_load(&s.acquired)); /* exactly one got through */
  }
  t_bunch_join(&b);
  for (int i = 0; i < n; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_int_equal(1, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void timeout_worker(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_lock_acquire(&s->l, s->timeout);
  int64_t elapsed = t_now_ns() - t0;
  if (s->rc[i] == SP_TIMEDOUT && elapsed < s->timeout)
    t_inc(&s->violations);
}

static void test_timeout_no_earlier_than_asked(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS, 100 * MS};
  for (size_t k = 0; k < 4; k++) {
    s.timeout = timeouts[k];
    t_bunch b;
    t_bunch_start(&b, 3, timeout_worker, &s);
    t_bunch_join(&b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_TIMEDOUT, s.rc[i]);
    assert_int_equal(0, t_load(&s.violations));
  }
  /* The lock is unaffected by the timeouts. */
  assert_int_equal(1, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, 0));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void *release_later(void *p) {
  shared_t *s = p;
  t_sleep_ns(30 * MS);
  s->rc[0] = sp_lock_release(&s->l);
  return NULL;
}

static void test_release_from_other_thread(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  t_thread t = t_start(release_later, &s);
  /* Blocks until the other thread releases it: a binary semaphore. */
  assert_rc(SP_OK, sp_lock_acquire(&s.l, 10 * SP_NS_PER_S));
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

static void *blocked_acquirer(void *p) {
  shared_t *s = p;
  t_inc(&s->phase);
  s->rc[1] = sp_lock_acquire(&s->l, SP_FOREVER);
  return NULL;
}

static void test_destroy_with_waiter(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  t_thread t = t_start(blocked_acquirer, &s);
  t_wait_for_count(&s.phase, 1);
  t_sleep_ns(20 * MS);
  assert_rc(SP_EPERM, sp_lock_destroy(&s.l));
  assert_rc(SP_OK, sp_lock_release(&s.l));
  t_join(t);
  assert_rc(SP_OK, s.rc[1]);
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l)); /* locked-but-unwaited is fine */
}

/* Mutual exclusion under heavy contention with mixed timeouts: some threads
 * wait forever, some with tiny timeouts that race the releases. Checks that
 * nobody is ever inside together and that nobody hangs (a wakeup absorbed
 * by a timed-out waiter must not be lost for a forever-waiter). */
static void mixed_worker(void *p, int i) {
  shared_t *s = p;
  const int64_t tos[] = {SP_FOREVER, 0, 1000, 50000, 200000};
  long k = 0;
  for (; k < s->iters; k++) {
    if ((k & 63) == 0 && t_now_ns() > s->deadline)
      break;
    int64_t to = tos[(i + k) % 5];
    int rc = sp_lock_acquire(&s->l, to);
    if (rc == SP_OK) {
      if (t_inc(&s->inside) != 1)
        t_inc(&s->violations);
      t_inc(&s->acquired);
      __atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
      if (sp_lock_release(&s->l) != SP_OK)
        t_inc(&s->violations);
    } else if (rc != SP_BUSY && rc != SP_TIMEDOUT) {
      t_inc(&s->violations);
    }
  }
}

static void test_stress_timeouts_race_releases(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  s.iters = t_iters(50000);
  s.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, 6, mixed_worker, &s);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&s.violations));
  assert_true(t_load(&s.acquired) > 0);
  assert_int_equal(0, sp_lock_locked(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acquire_release),
      cmocka_unit_test(test_reacquire_is_not_recursive),
      cmocka_unit_test(test_double_release),
      cmocka_unit_test(test_try_acquire_contended),
      cmocka_unit_test(test_acquire_contended_phased),
      cmocka_unit_test(test_timeout_no_earlier_than_asked),
      cmocka_unit_test(test_release_from_other_thread),
      cmocka_unit_test(test_destroy_with_waiter),
      cmocka_unit_test(test_stress_timeouts_race_releases),
  };
  return T_RUN("lock", tests);
}
