/* sp_sem_t: what CPython's lock_tests.py checks for Semaphore and
 * BoundedSemaphore (constructor, acquire, try_acquire, contended acquire in
 * phases, multirelease, timeouts, release unacquired, release past the
 * bound), plus every bad input, overflow, phased wakeups, destroy in use,
 * and a stress of mixed timeouts racing releases. The contended tests run
 * for both kinds. */
#include "helpers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  sp_sem_t s;
  int phase;  /* atomic: the phase number the workers record */
  int done;   /* atomic: successful acquires by workers */
  int inside; /* atomic */
  int max_inside;
  int limit;
  int violations; /* atomic */
  long iters;
  int64_t deadline;
  int64_t timeout;
  int rc[T_MAX_BUNCH];
  int results[2 * T_MAX_BUNCH]; /* phase at each acquire, in done order */
  t_bunch b;
} shared_t;

static void init_shared(shared_t *s, int value, int bound) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_sem_init(&s->s, value, bound));
}

/* White box: threads inside the semaphore's condition wait (read under its
 * mutex), so a test can wait until its waiters are really blocked. */
static unsigned sleepers(sp_sem_t *s) {
  assert_rc(SP_OK, sp_mutex_lock(&s->mu_));
  unsigned n = s->cv_.nwaiters_;
  assert_rc(SP_OK, sp_mutex_unlock(&s->mu_));
  return n;
}

/* Wait until every worker of the bunch is either finished or asleep in the
 * semaphore: then the number of acquires can no longer change by itself. */
static void settle(shared_t *s) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while ((int)sleepers(&s->s) + t_load(&s->b.finished) != s->b.n) {
    if (t_now_ns() > end)
      fail_msg("workers did not settle: %u asleep, %d finished",
               sleepers(&s->s), t_load(&s->b.finished));
    t_sleep_ns(100000);
  }
}

static int cmp_int(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* Assert that the first n recorded phases, sorted, are c0 zeros, c1 ones
 * and c2 twos. */
static void check_phases(shared_t *s, int c0, int c1, int c2) {
  int n = c0 + c1 + c2;
  assert_int_equal(n, t_load(&s->done));
  int sorted[2 * T_MAX_BUNCH];
  for (int i = 0; i < n; i++)
    sorted[i] = __atomic_load_n(&s->results[i], __ATOMIC_SEQ_CST);
  qsort(sorted, (size_t)n, sizeof(int), cmp_int);
  for (int i = 0; i < n; i++)
    assert_int_equal(i < c0 ? 0 : i < c0 + c1 ? 1 : 2, sorted[i]);
}

static void record(shared_t *s, int rc) {
  if (rc != SP_OK) {
    t_inc(&s->violations);
    return;
  }
  int phase = t_load(&s->phase);
  int k = t_inc(&s->done) - 1;
  __atomic_store_n(&s->results[k], phase, __ATOMIC_SEQ_CST);
}

static void test_constructor_and_bad_inputs(void **state) {
  (void)state;
  sp_sem_t s;
  assert_rc(SP_EINVAL, sp_sem_init(NULL, 1, 0));
  assert_rc(SP_EINVAL, sp_sem_init(&s, -1, 0));
  assert_rc(SP_EINVAL, sp_sem_init(&s, INT_MIN, 0));
  assert_rc(SP_EINVAL, sp_sem_init(&s, 0, -1));
  assert_rc(SP_EINVAL, sp_sem_init(&s, 3, 2)); /* value above the bound */
  assert_rc(SP_EINVAL, sp_sem_destroy(NULL));
  assert_rc(SP_EINVAL, sp_sem_acquire(NULL, 0));
  assert_rc(SP_EINVAL, sp_sem_release(NULL, 1));
  assert_rc(SP_EINVAL, sp_sem_value(NULL));
  memset(&s, 0xA5,
         sizeof s); /* garbage: not an object (zero-filled is valid) */
  assert_rc(SP_EINVAL, sp_sem_acquire(&s, 0));
  assert_rc(SP_EINVAL, sp_sem_release(&s, 1));
  assert_rc(SP_EINVAL, sp_sem_value(&s));
  assert_rc(SP_EINVAL, sp_sem_destroy(&s));
  for (int bound = 0; bound <= 2; bound += 2) {
    assert_rc(SP_OK, sp_sem_init(&s, 2, bound)); /* value == bound is fine */
    assert_rc(SP_EINVAL, sp_sem_acquire(&s, -2));
    assert_rc(SP_EINVAL, sp_sem_acquire(&s, INT64_MIN));
    assert_rc(SP_EINVAL, sp_sem_release(&s, 0));
    assert_rc(SP_EINVAL, sp_sem_release(&s, -1));
    assert_rc(SP_EINVAL, sp_sem_release(&s, INT_MIN));
    assert_int_equal(2, sp_sem_value(&s)); /* bad calls left no trace */
    assert_rc(SP_OK, sp_sem_destroy(&s));
    assert_rc(SP_EINVAL, sp_sem_acquire(&s, 0));
    assert_rc(SP_EINVAL, sp_sem_release(&s, 1));
    assert_rc(SP_EINVAL, sp_sem_value(&s));
    assert_rc(SP_EINVAL, sp_sem_destroy(&s));
  }
  assert_rc(SP_OK, sp_sem_init(&s, 0, 0));
  assert_int_equal(0, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));
  assert_rc(SP_OK, sp_sem_init(&s, INT_MAX, INT_MAX));
  assert_int_equal(INT_MAX, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));
}

/* lock_tests test_acquire and test_try_acquire. */
static void test_acquire_and_try_acquire(void **state) {
  (void)state;
  for (int bound = 0; bound <= 2; bound += 2) {
    sp_sem_t s;
    assert_rc(SP_OK, sp_sem_init(&s, 1, bound == 0 ? 0 : 1));
    assert_rc(SP_OK, sp_sem_acquire(&s, SP_FOREVER));
    assert_int_equal(0, sp_sem_value(&s));
    assert_rc(SP_OK, sp_sem_release(&s, 1));
    assert_int_equal(1, sp_sem_value(&s));
    assert_rc(SP_OK, sp_sem_destroy(&s));
    assert_rc(SP_OK, sp_sem_init(&s, 2, bound));
    assert_rc(SP_OK, sp_sem_acquire(&s, 0));
    assert_rc(SP_OK, sp_sem_acquire(&s, 0));
    assert_rc(SP_BUSY, sp_sem_acquire(&s, 0));
    assert_int_equal(0, sp_sem_value(&s));
    assert_rc(SP_OK, sp_sem_release(&s, 1));
    assert_rc(SP_OK, sp_sem_acquire(&s, 0));
    assert_rc(SP_OK, sp_sem_release(&s, 2));
    assert_int_equal(2, sp_sem_value(&s));
    assert_rc(SP_OK, sp_sem_destroy(&s));
  }
}

/* lock_tests test_try_acquire_contended: sem(4) with one unit taken, five
 * threads try twice each: exactly 3 succeed. */
static void try_twice_worker(void *p, int i) {
  shared_t *s = p;
  s->results[2 * i] = sp_sem_acquire(&s->s, 0);
  s->results[2 * i + 1] = sp_sem_acquire(&s->s, 0);
}

static void test_try_acquire_contended(void **state) {
  (void)state;
  for (int bound = 0; bound <= 4; bound += 4) {
    shared_t s;
    init_shared(&s, 4, bound);
    assert_rc(SP_OK, sp_sem_acquire(&s.s, 0));
    t_bunch_start(&s.b, 5, try_twice_worker, &s);
    t_bunch_join(&s.b);
    int ok = 0, busy = 0;
    for (int i = 0; i < 10; i++) {
      ok += s.results[i] == SP_OK;
      busy += s.results[i] == SP_BUSY;
    }
    assert_int_equal(3, ok);
    assert_int_equal(7, busy);
    assert_int_equal(0, sp_sem_value(&s.s));
    assert_rc(SP_OK, sp_sem_release(&s.s, 4));
    assert_rc(SP_OK, sp_sem_destroy(&s.s));
  }
}

/* lock_tests test_acquire_contended / test_multirelease: sem(7), one unit
 * taken by the test, 10 threads acquire twice each, recording the phase.
 * Releases come in phases (7, then 6, then 1) and exactly that many
 * acquires complete in each phase. */
static void twice_worker(void *p, int i) {
  shared_t *s = p;
  (void)i;
  record(s, sp_sem_acquire(&s->s, SP_FOREVER));
  record(s, sp_sem_acquire(&s->s, SP_FOREVER));
}

static void release_units(shared_t *s, int n, int multi) {
  if (multi) {
    assert_rc(SP_OK, sp_sem_release(&s->s, n));
  } else {
    for (int i = 0; i < n; i++)
      assert_rc(SP_OK, sp_sem_release(&s->s, 1));
  }
}

static void contended_phases(int bound, int multi) {
  shared_t s;
  init_shared(&s, 7, bound);
  assert_rc(SP_OK, sp_sem_acquire(&s.s, SP_FOREVER));
  t_bunch_start(&s.b, 10, twice_worker, &s);
  t_wait_for_count(&s.done, 6);
  settle(&s);
  check_phases(&s, 6, 0, 0);
  t_store(&s.phase, 1);
  release_units(&s, 7, multi);
  t_wait_for_count(&s.done, 13);
  settle(&s);
  check_phases(&s, 6, 7, 0);
  t_store(&s.phase, 2);
  release_units(&s, 6, multi);
  t_wait_for_count(&s.done, 19);
  settle(&s);
  check_phases(&s, 6, 7, 6);
  assert_rc(SP_BUSY, sp_sem_acquire(&s.s, 0)); /* still locked */
  assert_int_equal(0, sp_sem_value(&s.s));
  assert_rc(SP_OK, sp_sem_release(&s.s, 1)); /* let the last one finish */
  t_bunch_join(&s.b);
  assert_int_equal(20, t_load(&s.done));
  assert_int_equal(0, t_load(&s.violations));
  assert_int_equal(0, sp_sem_value(&s.s));
  assert_rc(SP_OK, sp_sem_destroy(&s.s));
}

static void test_acquire_contended(void **state) {
  (void)state;
  contended_phases(0, 0);
  contended_phases(7, 0);
}

static void test_multirelease(void **state) {
  (void)state;
  contended_phases(0, 1);
  contended_phases(7, 1);
}

/* Phased wakeups: 10 threads wait on sem(0); release(1) lets exactly one
 * through, release(3) three more, release(6) the rest. */
static void once_worker(void *p, int i) {
  shared_t *s = p;
  (void)i;
  record(s, sp_sem_acquire(&s->s, SP_FOREVER));
}

static void test_phased_release(void **state) {
  (void)state;
  for (int bound = 0; bound <= 10; bound += 10) {
    shared_t s;
    init_shared(&s, 0, bound);
    t_bunch_start(&s.b, 10, once_worker, &s);
    settle(&s);
    assert_int_equal(0, t_load(&s.done));
    assert_rc(SP_OK, sp_sem_release(&s.s, 1));
    t_wait_for_count(&s.done, 1);
    settle(&s);
    assert_int_equal(1, t_load(&s.done));
    assert_rc(SP_OK, sp_sem_release(&s.s, 3));
    t_wait_for_count(&s.done, 4);
    settle(&s);
    assert_int_equal(4, t_load(&s.done));
    assert_rc(SP_OK, sp_sem_release(&s.s, 6));
    t_bunch_join(&s.b);
    assert_int_equal(10, t_load(&s.done));
    assert_int_equal(0, sp_sem_value(&s.s));
    assert_rc(SP_OK, sp_sem_destroy(&s.s));
  }
}

static void timeout_worker(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_sem_acquire(&s->s, s->timeout);
  if (s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < s->timeout)
    t_inc(&s->violations);
}

/* lock_tests test_acquire_timeout, and timeouts never early. */
static void test_acquire_timeout(void **state) {
  (void)state;
  for (int bound = 0; bound <= 2; bound += 2) {
    shared_t s;
    init_shared(&s, 2, bound);
    assert_rc(SP_OK, sp_sem_acquire(&s.s, 5 * MS));
    assert_rc(SP_OK, sp_sem_acquire(&s.s, 5 * MS));
    assert_rc(SP_TIMEDOUT, sp_sem_acquire(&s.s, 5 * MS));
    assert_rc(SP_OK, sp_sem_release(&s.s, 1));
    assert_rc(SP_OK, sp_sem_acquire(&s.s, 5 * MS));
    const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS};
    for (int k = 0; k < 3; k++) {
      s.timeout = timeouts[k];
      t_bunch_start(&s.b, 3, timeout_worker, &s);
      t_bunch_join(&s.b);
      for (int i = 0; i < 3; i++)
        assert_rc(SP_TIMEDOUT, s.rc[i]);
    }
    assert_int_equal(0, t_load(&s.violations));
    assert_int_equal(0, sp_sem_value(&s.s)); /* timeouts took nothing */
    assert_rc(SP_OK, sp_sem_release(&s.s, 2));
    assert_rc(SP_OK, sp_sem_destroy(&s.s));
  }
}

/* lock_tests test_default_value: a zero semaphore blocks until released,
 * here by another thread (a semaphore has no owner). */
static void *release_later(void *p) {
  shared_t *s = p;
  while (sleepers(&s->s) != 1)
    t_sleep_ns(100000);
  s->rc[0] = sp_sem_release(&s->s, 1);
  return NULL;
}

static void test_release_from_other_thread(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 0, 1);
  t_thread t = t_start(release_later, &s);
  assert_rc(SP_OK, sp_sem_acquire(&s.s, 10 * SP_NS_PER_S));
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  assert_int_equal(0, sp_sem_value(&s.s));
  assert_rc(SP_OK, sp_sem_destroy(&s.s));
}

/* SemaphoreTests.test_release_unacquired: an unbounded semaphore may be
 * released more often than acquired. */
static void test_unbounded_release_unacquired(void **state) {
  (void)state;
  sp_sem_t s;
  assert_rc(SP_OK, sp_sem_init(&s, 1, 0));
  assert_rc(SP_OK, sp_sem_release(&s, 1));
  assert_rc(SP_OK, sp_sem_acquire(&s, 0));
  assert_rc(SP_OK, sp_sem_acquire(&s, 0));
  assert_rc(SP_BUSY, sp_sem_acquire(&s, 0));
  assert_rc(SP_OK, sp_sem_release(&s, 1));
  assert_rc(SP_OK, sp_sem_release(&s, 1));
  assert_int_equal(2, sp_sem_value(&s));
  /* Overflow past INT_MAX is refused and changes nothing. */
  assert_rc(SP_OK, sp_sem_release(&s, INT_MAX - 3));
  assert_int_equal(INT_MAX - 1, sp_sem_value(&s));
  assert_rc(SP_EPERM, sp_sem_release(&s, 2));
  assert_rc(SP_EPERM, sp_sem_release(&s, INT_MAX));
  assert_int_equal(INT_MAX - 1, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_release(&s, 1));
  assert_rc(SP_EPERM, sp_sem_release(&s, 1));
  assert_int_equal(INT_MAX, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_acquire(&s, 0));
  assert_int_equal(INT_MAX - 1, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));
}

/* BoundedSemaphoreTests.test_release_unacquired: releasing past the bound
 * is refused (SP_EPERM) and changes nothing. */
static void test_bounded_release_unacquired(void **state) {
  (void)state;
  sp_sem_t s;
  assert_rc(SP_OK, sp_sem_init(&s, 1, 1));
  assert_rc(SP_EPERM, sp_sem_release(&s, 1));
  assert_int_equal(1, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_acquire(&s, 0));
  assert_rc(SP_OK, sp_sem_release(&s, 1));
  assert_rc(SP_EPERM, sp_sem_release(&s, 1));
  assert_int_equal(1, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));

  assert_rc(SP_OK, sp_sem_init(&s, 3, 5));
  assert_rc(SP_EPERM, sp_sem_release(&s, 3)); /* 6 > 5: all or nothing */
  assert_int_equal(3, sp_sem_value(&s));
  assert_rc(SP_EPERM, sp_sem_release(&s, INT_MAX));
  assert_rc(SP_OK, sp_sem_release(&s, 2));
  assert_int_equal(5, sp_sem_value(&s));
  assert_rc(SP_EPERM, sp_sem_release(&s, 1));
  assert_int_equal(5, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));

  assert_rc(SP_OK, sp_sem_init(&s, 0, 2)); /* may start below its bound */
  assert_rc(SP_BUSY, sp_sem_acquire(&s, 0));
  assert_rc(SP_OK, sp_sem_release(&s, 2));
  assert_rc(SP_EPERM, sp_sem_release(&s, 1));
  assert_int_equal(2, sp_sem_value(&s));
  assert_rc(SP_OK, sp_sem_destroy(&s));
}

static void *blocked_acquirer(void *p) {
  shared_t *s = p;
  s->rc[1] = sp_sem_acquire(&s->s, SP_FOREVER);
  return NULL;
}

static void test_destroy_with_waiter(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s, 0, 0);
  t_thread t = t_start(blocked_acquirer, &s);
  while (sleepers(&s.s) != 1)
    t_sleep_ns(100000);
  assert_rc(SP_EPERM, sp_sem_destroy(&s.s));
  assert_int_equal(0, sp_sem_value(&s.s)); /* still usable */
  assert_rc(SP_OK, sp_sem_release(&s.s, 1));
  t_join(t);
  assert_rc(SP_OK, s.rc[1]);
  assert_rc(SP_OK, sp_sem_destroy(&s.s));
}

/* At most `limit` threads inside, under contention with mixed timeouts that
 * race the releases (single and multi-unit), and no unit lost or made up:
 * the value ends where it started. Nobody may hang. */
static void stress_worker(void *p, int i) {
  shared_t *s = p;
  const int64_t tos[] = {SP_FOREVER, 0, 1000, 50000, 200000};
  for (long k = 0; k < s->iters; k++) {
    if (k > 0 && (k & 63) == 0 && t_now_ns() > s->deadline)
      break;
    int n = (i + k) % 4 == 0 ? 2 : 1; /* sometimes take two units */
    int got = 0;
    for (; got < n; got++) {
      /* Never wait forever while holding a unit (hold and wait). */
      int64_t to = got == 0 ? tos[(i + k) % 5] : tos[1 + (i + k) % 4];
      int rc = sp_sem_acquire(&s->s, to);
      if (rc == SP_BUSY || rc == SP_TIMEDOUT)
        break;
      if (rc != SP_OK) {
        t_inc(&s->violations);
        break;
      }
    }
    if (got > 0) {
      int in = __atomic_add_fetch(&s->inside, got, __ATOMIC_SEQ_CST);
      if (in > s->limit)
        t_inc(&s->violations);
      t_inc(&s->done);
      if ((k & 15) == 0)
        t_yield(); /* let others pile up waiting */
      __atomic_sub_fetch(&s->inside, got, __ATOMIC_SEQ_CST);
      if (sp_sem_release(&s->s, got) != SP_OK)
        t_inc(&s->violations);
    }
  }
}

static void test_stress_mixed_timeouts(void **state) {
  (void)state;
  for (int bound = 0; bound <= 3; bound += 3) {
    shared_t s;
    init_shared(&s, 3, bound);
    s.limit = 3;
    s.iters = t_iters(20000);
    s.deadline = t_now_ns() + (t_stress_deadline() - t_now_ns()) / 2;
    t_bunch_start(&s.b, 8, stress_worker, &s);
    t_bunch_join(&s.b);
    assert_int_equal(0, t_load(&s.violations));
    assert_true(t_load(&s.done) > 0);
    assert_int_equal(3, sp_sem_value(&s.s));
    assert_rc(SP_OK, sp_sem_destroy(&s.s));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constructor_and_bad_inputs),
      cmocka_unit_test(test_acquire_and_try_acquire),
      cmocka_unit_test(test_try_acquire_contended),
      cmocka_unit_test(test_acquire_contended),
      cmocka_unit_test(test_multirelease),
      cmocka_unit_test(test_phased_release),
      cmocka_unit_test(test_acquire_timeout),
      cmocka_unit_test(test_release_from_other_thread),
      cmocka_unit_test(test_unbounded_release_unacquired),
      cmocka_unit_test(test_bounded_release_unacquired),
      cmocka_unit_test(test_destroy_with_waiter),
      cmocka_unit_test(test_stress_mixed_timeouts),
  };
  return T_RUN("semaphore", tests);
}
