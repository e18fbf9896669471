/* sp_mutex_t: mutual exclusion, trylock, owner rules. */
#include "cond_pair.h"

#include <string.h>

typedef struct {
  sp_mutex_t m;
  long counter;
  long iters;
  int64_t deadline;
  int rc;
} shared_t;

static void *try_from_other(void *p) {
  shared_t *s = p;
  s->rc = sp_mutex_trylock(&s->m);
  if (s->rc == SP_OK)
    sp_mutex_unlock(&s->m);
  return NULL;
}

static void *unlock_from_other(void *p) {
  shared_t *s = p;
  s->rc = sp_mutex_unlock(&s->m);
  return NULL;
}

static void test_lock_unlock(void **state) {
  (void)state;
  shared_t s;
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  for (int i = 0; i < 3; i++) {
    assert_rc(SP_OK, sp_mutex_lock(&s.m));
    assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  }
  assert_rc(SP_OK, sp_mutex_trylock(&s.m));
  /* Another thread cannot take it, nor unlock it. */
  t_join(t_start(try_from_other, &s));
  assert_rc(SP_BUSY, s.rc);
  t_join(t_start(unlock_from_other, &s));
  assert_rc(SP_EPERM, s.rc);
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t_start(try_from_other, &s));
  assert_rc(SP_OK, s.rc);
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

/* N threads increment a plain counter under the mutex: no update is lost.
 * Each thread's own count is compared, so an early stop is accounted for. */
typedef struct {
  shared_t *s;
  long done[8];
} counted_t;

static void counted_worker(void *p, int i) {
  counted_t *c = p;
  shared_t *s = c->s;
  long k = 0;
  for (; k < s->iters; k++) {
    if ((k & 255) == 0 && t_now_ns() > s->deadline)
      break;
    assert_rc(SP_OK, sp_mutex_lock(&s->m));
    long v = s->counter;
    s->counter = v + 1;
    assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  }
  c->done[i] = k;
}

static void test_contended_counter(void **state) {
  (void)state;
  shared_t s;
  counted_t c = {&s, {0}};
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  s.counter = 0;
  s.iters = t_iters(200000);
  s.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, 8, counted_worker, &c);
  t_bunch_join(&b);
  long total = 0;
  for (int i = 0; i < 8; i++)
    total += c.done[i];
  assert_true(total > 0);
  assert_int_equal(total, s.counter);
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

static void test_trylock_contended(void **state) {
  (void)state;
  /* trylock never blocks and never lets two threads in at once. */
  shared_t s;
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  for (int i = 0; i < 5; i++) {
    t_join(t_start(try_from_other, &s));
    assert_rc(SP_BUSY, s.rc);
  }
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

/* sp_mutex_timedlock and _until: SP_OK when free or freed in time, SP_BUSY
 * for 0, SP_TIMEDOUT never before the timeout, SP_EPERM for the holder,
 * SP_EINVAL for a bad timeout; a failed call changes nothing. */
static void *hold_then_release(void *p) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  t_store(&s->rc, 1);
  t_sleep_ns(30 * MS);
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void *timed_from_other(void *p) {
  shared_t *s = p;
  const int64_t tos[] = {1, 1000, MS / 2, MS, 3 * MS, 10 * MS};
  for (size_t k = 0; k < sizeof tos / sizeof tos[0]; k++) {
    int64_t t0 = t_now_ns();
    int rc = sp_mutex_timedlock(&s->m, tos[k]);
    int64_t elapsed = t_now_ns() - t0;
    if (rc != SP_TIMEDOUT || elapsed < tos[k])
      fail_msg("timedlock(%lld ns): %s after %lld ns", (long long)tos[k],
               sp_strerror(rc), (long long)elapsed);
    int64_t deadline = sp_now_ns() + tos[k];
    rc = sp_mutex_timedlock_until(&s->m, deadline);
    if (rc != SP_TIMEDOUT || sp_now_ns() < deadline)
      fail_msg("timedlock_until(+%lld ns): %s early", (long long)tos[k],
               sp_strerror(rc));
  }
  assert_rc(SP_BUSY, sp_mutex_timedlock(&s->m, 0));
  assert_rc(SP_TIMEDOUT, sp_mutex_timedlock_until(&s->m, 0)); /* passed */
  assert_rc(SP_TIMEDOUT, sp_mutex_timedlock_until(&s->m, INT64_MIN));
  return NULL;
}

static void test_timedlock(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  assert_rc(SP_OK, sp_mutex_timedlock(&s.m, 0));
  assert_rc(SP_EPERM, sp_mutex_timedlock(&s.m, 10 * MS)); /* holder */
  assert_rc(SP_EPERM, sp_mutex_timedlock(&s.m, SP_FOREVER));
  assert_rc(SP_EPERM, sp_mutex_timedlock_until(&s.m, INT64_MAX));
  assert_rc(SP_EINVAL, sp_mutex_timedlock(&s.m, -2));
  assert_rc(SP_EINVAL, sp_mutex_timedlock(&s.m, INT64_MIN));
  t_join(t_start(timed_from_other, &s));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m)); /* the failed calls left it ours */
  assert_rc(SP_EPERM, sp_mutex_unlock(&s.m));
  assert_rc(SP_OK, sp_mutex_timedlock(&s.m, SP_FOREVER));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  assert_rc(SP_OK, sp_mutex_timedlock_until(&s.m, INT64_MAX));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  assert_rc(SP_OK, sp_mutex_timedlock_until(&s.m, 0)); /* free: taken */
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  /* Released while waiting: taken before the timeout. */
  s.rc = 0;
  t_thread t = t_start(hold_then_release, &s);
  while (!t_load(&s.rc))
    t_yield();
  assert_rc(SP_OK, sp_mutex_timedlock(&s.m, 10 * SP_NS_PER_S));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t);
  s.rc = 0;
  t = t_start(hold_then_release, &s);
  while (!t_load(&s.rc))
    t_yield();
  assert_rc(SP_OK,
            sp_mutex_timedlock_until(&s.m, sp_now_ns() + 10 * SP_NS_PER_S));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t);
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

/* Timed lockers racing plain lockers on a counter: mutual exclusion holds,
 * and every SP_OK is matched by one increment. */
static void timed_counter_worker(void *p, int i) {
  counted_t *c = p;
  shared_t *s = c->s;
  long k = 0, ok = 0;
  for (; k < s->iters; k++) {
    if ((k & 255) == 0 && t_now_ns() > s->deadline)
      break;
    int rc = (i & 1) ? sp_mutex_timedlock(&s->m, (k % 3) * 20000)
                     : sp_mutex_lock(&s->m);
    if (rc == SP_BUSY || rc == SP_TIMEDOUT)
      continue;
    assert_rc(SP_OK, rc);
    s->counter++;
    ok++;
    assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  }
  c->done[i] = ok;
}

static void test_timedlock_stress(void **state) {
  (void)state;
  shared_t s;
  counted_t c = {&s, {0}};
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  s.counter = 0;
  s.iters = t_iters(100000);
  s.deadline = t_stress_deadline();
  t_bunch b;
  t_bunch_start(&b, 4, timed_counter_worker, &c);
  t_bunch_join(&b);
  long total = 0;
  for (int i = 0; i < 4; i++)
    total += c.done[i];
  assert_true(total > 0);
  assert_int_equal(total, s.counter);
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

/* Issue 11, item 4: a mutex that a thread will re-lock as it leaves
 * sp_cond_wait cannot be destroyed (it used to return SP_OK, and the
 * waiter then returned as if it held a destroyed mutex). */
static void test_destroy_with_cond_waiter(void **state) {
  (void)state;
  t_cond_pair w;
  memset(&w, 0, sizeof w);
  t_thread t = t_start(t_cond_waiter, &w);
  t_wait_cond_waiting(&w);
  /* The waiter sleeps in sp_cond_wait with m released. */
  assert_rc(SP_EPERM, sp_mutex_destroy(&w.m));
  assert_rc(SP_EPERM, sp_cond_destroy(&w.c));
  assert_rc(SP_OK, sp_mutex_lock(&w.m)); /* still a working mutex */
  w.go = 1;
  assert_rc(SP_OK, sp_cond_signal(&w.c));
  assert_rc(SP_OK, sp_mutex_unlock(&w.m));
  t_join(t);
  assert_rc(SP_OK, w.rc);
  assert_rc(SP_OK, sp_cond_destroy(&w.c));
  assert_rc(SP_OK, sp_mutex_destroy(&w.m));
}

/* The owner check reads the lock word: another thread's unlock, and the
 * holder's relock, are refused however the word's flags stand (a sleeper
 * sets the waiters bit). */
static void *lock_and_sleep(void *p) {
  shared_t *s = p;
  assert_rc(SP_OK, sp_mutex_lock(&s->m)); /* sleeps: the word has W */
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void test_owner_checks_with_sleepers(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_mutex_lock(&s.m)); /* zero-filled mutex */
  t_thread t = t_start(lock_and_sleep, &s);
  while ((__atomic_load_n(&s.m.word_, __ATOMIC_SEQ_CST) & 1u) == 0)
    t_yield();
  assert_rc(SP_EPERM, sp_mutex_lock(&s.m));
  assert_rc(SP_EPERM, sp_mutex_trylock(&s.m));
  assert_rc(SP_EPERM, sp_mutex_timedlock(&s.m, MS));
  t_join(t_start(unlock_from_other, &s));
  assert_rc(SP_EPERM, s.rc);
  t_join(t_start(try_from_other, &s));
  assert_rc(SP_BUSY, s.rc);
  assert_rc(SP_EPERM, sp_mutex_destroy(&s.m));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t);
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_unlock),
      cmocka_unit_test(test_contended_counter),
      cmocka_unit_test(test_trylock_contended),
      cmocka_unit_test(test_timedlock),
      cmocka_unit_test(test_timedlock_stress),
      cmocka_unit_test(test_destroy_with_cond_waiter),
      cmocka_unit_test(test_owner_checks_with_sleepers),
  };
  return T_RUN("mutex", tests);
}
