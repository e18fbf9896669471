/* sp_rlock_t: what CPython's lock_tests.py checks for RLock (reacquire,
 * release unacquired, release by another thread, _is_owned, the Lock tests
 * that apply), every bad input, and a stress of nested acquires with mixed
 * timeouts. */
#include "helpers.h"

#include <string.h>

typedef struct {
  sp_rlock_t r;
  int phase;    /* atomic */
  int acquired; /* atomic */
  int go;       /* atomic */
  int inside;   /* atomic */
  int violations;
  long iters;
  int64_t deadline;
  int64_t timeout;
  int rc[T_MAX_BUNCH];
  int owned[T_MAX_BUNCH];
  int base; /* added to a worker's index (others_try) */
} shared_t;

static void init_shared(shared_t *s) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_rlock_init(&s->r));
}

/* White box: threads in the slow path of acquire (spinning briefly, then
 * asleep on the lock word), so a test can wait until its waiters are
 * blocked. */
static unsigned sleepers(sp_rlock_t *r) {
  return __atomic_load_n(&r->waiters_, __ATOMIC_SEQ_CST);
}

static void wait_sleepers(sp_rlock_t *r, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sleepers(r) != n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for %u sleepers, have %u", n, sleepers(r));
    t_sleep_ns(100000);
  }
}

static void test_acquire_release(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_int_equal(1, sp_rlock_is_owned(&s.r));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 0));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 10 * MS));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

static void try_acquire_worker(void *p, int i) {
  shared_t *s = p;
  i += s->base;
  s->rc[i] = sp_rlock_acquire(&s->r, 0);
  s->owned[i] = sp_rlock_is_owned(&s->r);
  if (s->rc[i] == SP_OK)
    sp_rlock_release(&s->r);
}

/* Run 3 other threads, one after another (so that they cannot find the
 * lock held by each other), that each try once and record the result. */
static void others_try(shared_t *s, int expect_rc) {
  for (int i = 0; i < 3; i++) {
    t_bunch b;
    s->base = i;
    t_bunch_start(&b, 1, try_acquire_worker, s);
    t_bunch_join(&b);
  }
  for (int i = 0; i < 3; i++) {
    assert_rc(expect_rc, s->rc[i]);
    assert_int_equal(expect_rc == SP_OK, s->owned[i]);
  }
}

/* lock_tests RLockTests.test_reacquire: the owner's nested acquires never
 * block, and only the last release frees the lock for others. */
static void test_reacquire(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 0)); /* timeout 0: still OK */
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 1 * MS));
  assert_int_equal(3, (int)s.r.count_);
  others_try(&s, SP_BUSY);
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_int_equal(1, sp_rlock_is_owned(&s.r));
  others_try(&s, SP_BUSY); /* still held once */
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  others_try(&s, SP_OK);
  assert_rc(SP_EPERM, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

/* lock_tests test_release_unacquired. */
static void test_release_unacquired(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_EPERM, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_EPERM, sp_rlock_release(&s.r));
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  others_try(&s, SP_OK); /* the failed releases broke nothing */
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

/* A thread takes the rlock (twice) and holds it until told to go. */
static void *holder(void *p) {
  shared_t *s = p;
  s->rc[0] = sp_rlock_acquire(&s->r, SP_FOREVER);
  s->rc[1] = sp_rlock_acquire(&s->r, SP_FOREVER);
  s->owned[0] = sp_rlock_is_owned(&s->r);
  t_store(&s->phase, 1);
  while (t_load(&s->go) == 0)
    t_sleep_ns(100000);
  s->owned[1] = sp_rlock_is_owned(&s->r); /* after main's failed release */
  s->rc[2] = sp_rlock_release(&s->r);
  s->rc[3] = sp_rlock_release(&s->r);
  s->owned[2] = sp_rlock_is_owned(&s->r);
  return NULL;
}

/* lock_tests test_different_thread and test__is_owned: a non-owner cannot
 * release, sees is_owned 0, and changes nothing by trying. */
static void test_release_by_non_owner(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  t_thread t = t_start(holder, &s);
  t_wait_for_count(&s.phase, 1);
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  assert_rc(SP_EPERM, sp_rlock_release(&s.r));
  assert_rc(SP_EPERM, sp_rlock_release(&s.r));
  assert_rc(SP_BUSY, sp_rlock_acquire(&s.r, 0));
  assert_rc(SP_TIMEDOUT, sp_rlock_acquire(&s.r, 1 * MS));
  assert_rc(SP_EPERM, sp_rlock_destroy(&s.r)); /* owned by another thread */
  t_store(&s.go, 1);
  t_join(t);
  for (int i = 0; i < 4; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_int_equal(1, s.owned[0]);
  assert_int_equal(1, s.owned[1]); /* its count survived our releases */
  assert_int_equal(0, s.owned[2]);
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 0));
  assert_int_equal(1, sp_rlock_is_owned(&s.r));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

/* lock_tests test_acquire_contended, adapted to an owned lock: 10 threads
 * block; each release by the current owner lets exactly one through. Every
 * worker acquires twice (nested) and releases twice. */
static void contended_worker(void *p, int i) {
  shared_t *s = p;
  int rc = sp_rlock_acquire(&s->r, SP_FOREVER);
  int rc2 = sp_rlock_acquire(&s->r, SP_FOREVER);
  if (t_inc(&s->inside) != 1)
    t_inc(&s->violations);
  int k = t_inc(&s->acquired);
  while (t_load(&s->go) < k)
    t_sleep_ns(100000);
  __atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
  int rc3 = sp_rlock_release(&s->r);
  int rc4 = sp_rlock_release(&s->r);
  s->rc[i] = rc != SP_OK ? rc : rc2 != SP_OK ? rc2 : rc3 != SP_OK ? rc3 : rc4;
}

static void test_acquire_contended_phased(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  const int n = 10;
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  t_bunch b;
  t_bunch_start(&b, n, contended_worker, &s);
  wait_sleepers(&s.r, (unsigned)n);
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  t_sleep_ns(5 * MS);
  assert_int_equal(0, t_load(&s.acquired)); /* still held once */
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  for (int k = 1; k <= n; k++) {
    t_wait_for_count(&s.acquired, k);
    wait_sleepers(&s.r, (unsigned)(n - k));
    assert_int_equal(k, t_load(&s.acquired)); /* exactly one got through */
    t_store(&s.go, k);
  }
  t_bunch_join(&b);
  for (int i = 0; i < n; i++)
    assert_rc(SP_OK, s.rc[i]);
  assert_int_equal(0, s.violations);
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, 0));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

static void timeout_worker(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_rlock_acquire(&s->r, s->timeout);
  int64_t elapsed = t_now_ns() - t0;
  if (s->rc[i] == SP_TIMEDOUT && elapsed < s->timeout)
    t_inc(&s->violations);
  s->owned[i] = sp_rlock_is_owned(&s->r);
}

static void test_timeout_no_earlier_than_asked(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  const int64_t timeouts[] = {0, 1 * MS, 10 * MS, 50 * MS};
  for (size_t k = 0; k < 4; k++) {
    s.timeout = timeouts[k];
    t_bunch b;
    t_bunch_start(&b, 3, timeout_worker, &s);
    t_bunch_join(&b);
    for (int i = 0; i < 3; i++) {
      assert_rc(k == 0 ? SP_BUSY : SP_TIMEDOUT, s.rc[i]);
      assert_int_equal(0, s.owned[i]);
    }
    assert_int_equal(0, t_load(&s.violations));
  }
  assert_int_equal(1, sp_rlock_is_owned(&s.r));
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  others_try(&s, SP_OK);
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

static void *blocked_acquirer(void *p) {
  shared_t *s = p;
  s->rc[1] = sp_rlock_acquire(&s->r, SP_FOREVER);
  s->rc[2] = sp_rlock_release(&s->r);
  return NULL;
}

static void test_destroy_in_use(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_rlock_acquire(&s.r, SP_FOREVER));
  assert_rc(SP_EPERM, sp_rlock_destroy(&s.r)); /* owned by the caller */
  t_thread t = t_start(blocked_acquirer, &s);
  wait_sleepers(&s.r, 1);
  assert_rc(SP_EPERM, sp_rlock_destroy(&s.r));  /* owned and waited on */
  assert_int_equal(1, sp_rlock_is_owned(&s.r)); /* still usable */
  assert_rc(SP_OK, sp_rlock_release(&s.r));
  t_join(t);
  assert_rc(SP_OK, s.rc[1]);
  assert_rc(SP_OK, s.rc[2]);
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

static void test_bad_inputs(void **state) {
  (void)state;
  sp_rlock_t r;
  assert_rc(SP_EINVAL, sp_rlock_init(NULL));
  assert_rc(SP_EINVAL, sp_rlock_destroy(NULL));
  assert_rc(SP_EINVAL, sp_rlock_acquire(NULL, 0));
  assert_rc(SP_EINVAL, sp_rlock_release(NULL));
  assert_rc(SP_EINVAL, sp_rlock_is_owned(NULL));
  memset(&r, 0xA5,
         sizeof r); /* garbage: not an object (zero-filled is valid) */
  assert_rc(SP_EINVAL, sp_rlock_acquire(&r, 0));
  assert_rc(SP_EINVAL, sp_rlock_release(&r));
  assert_rc(SP_EINVAL, sp_rlock_is_owned(&r));
  assert_rc(SP_EINVAL, sp_rlock_destroy(&r));
  assert_rc(SP_OK, sp_rlock_init(&r));
  assert_rc(SP_EINVAL, sp_rlock_acquire(&r, -2));
  assert_rc(SP_EINVAL, sp_rlock_acquire(&r, INT64_MIN));
  assert_int_equal(0, sp_rlock_is_owned(&r)); /* bad timeout: no trace */
  assert_rc(SP_OK, sp_rlock_acquire(&r, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_rlock_acquire(&r, -2)); /* even for the owner */
  assert_int_equal(1, (int)r.count_);
  /* Count overflow is refused and changes nothing (white box: the owner's
   * count is set near its limit). */
  r.count_ = UINT64_MAX - 1;
  assert_rc(SP_OK, sp_rlock_acquire(&r, 0));
  assert_rc(SP_EPERM, sp_rlock_acquire(&r, 0));
  assert_true(r.count_ == UINT64_MAX);
  r.count_ = 1;
  assert_rc(SP_OK, sp_rlock_release(&r));
  assert_rc(SP_EPERM, sp_rlock_release(&r));
  assert_rc(SP_OK, sp_rlock_destroy(&r));
  assert_rc(SP_EINVAL, sp_rlock_acquire(&r, 0));
  assert_rc(SP_EINVAL, sp_rlock_release(&r));
  assert_rc(SP_EINVAL, sp_rlock_is_owned(&r));
  assert_rc(SP_EINVAL, sp_rlock_destroy(&r));
}

/* Mutual exclusion and ownership under contention: each thread nests 1 to 3
 * acquires (the first with a timeout from a mix that races the releases),
 * checks it is alone and the owner, and releases as often. Nobody may hang:
 * a wakeup absorbed by a timed-out waiter must not be lost. */
static void stress_worker(void *p, int i) {
  shared_t *s = p;
  const int64_t tos[] = {SP_FOREVER, 0, 1000, 50000, 200000};
  for (long k = 0; k < s->iters; k++) {
    if (k > 0 && (k & 63) == 0 && t_now_ns() > s->deadline)
      break;
    int rc = sp_rlock_acquire(&s->r, tos[(i + k) % 5]);
    if (rc == SP_BUSY || rc == SP_TIMEDOUT) {
      if (sp_rlock_is_owned(&s->r) != 0)
        t_inc(&s->violations);
      continue;
    }
    if (rc != SP_OK) {
      t_inc(&s->violations);
      continue;
    }
    int depth = 1 + (int)((i + k) % 3);
    for (int d = 1; d < depth; d++)
      if (sp_rlock_acquire(&s->r, 0) != SP_OK)
        t_inc(&s->violations);
    if (t_inc(&s->inside) != 1 || sp_rlock_is_owned(&s->r) != 1)
      t_inc(&s->violations);
    t_inc(&s->acquired);
    if ((k & 15) == 0)
      t_yield(); /* let others pile up in the slow path */
    __atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
    for (int d = 0; d < depth; d++) {
      if (sp_rlock_is_owned(&s->r) != 1 || sp_rlock_release(&s->r) != SP_OK)
        t_inc(&s->violations);
    }
    if (sp_rlock_is_owned(&s->r) != 0)
      t_inc(&s->violations);
  }
}

static void test_stress_nested_mixed_timeouts(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  s.iters = t_iters(30000);
  s.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, 6, stress_worker, &s);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&s.violations));
  assert_true(t_load(&s.acquired) > 0);
  assert_int_equal(0, sp_rlock_is_owned(&s.r));
  assert_int_equal(0, __atomic_load_n(&s.r.word_, __ATOMIC_SEQ_CST) &
                          ~3u); /* fully released */
  assert_rc(SP_OK, sp_rlock_destroy(&s.r));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acquire_release),
      cmocka_unit_test(test_reacquire),
      cmocka_unit_test(test_release_unacquired),
      cmocka_unit_test(test_release_by_non_owner),
      cmocka_unit_test(test_acquire_contended_phased),
      cmocka_unit_test(test_timeout_no_earlier_than_asked),
      cmocka_unit_test(test_destroy_in_use),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_stress_nested_mixed_timeouts),
  };
  return T_RUN("rlock", tests);
}
