/* sp_event_t: what CPython's lock_tests.py checks for Event (is_set,
 * notify of every waiter, timeouts, issue 13502 set-then-clear), every bad
 * input, destroy with waiters, and a ping-pong stress of set/clear/wait with
 * timed waiters racing. */
#include "helpers.h"

#include <string.h>

typedef struct {
  sp_event_t e;
  sp_event_t pong;
  int started;    /* atomic */
  int violations; /* atomic */
  int stop;       /* atomic */
  int token;      /* plain: handed over by set/wait (checked by TSan) */
  long iters;
  long rounds;
  int64_t deadline;
  int64_t timeout;
  int rc[T_MAX_BUNCH];
  t_bunch b;
} shared_t;

static void init_shared(shared_t *s) {
  memset(s, 0, sizeof *s);
  assert_rc(SP_OK, sp_event_init(&s->e));
}

/* White box: threads inside the event's condition wait (read under its
 * mutex), so a test can wait until its waiters are really blocked. */
static unsigned sleepers(sp_event_t *e) {
  assert_rc(SP_OK, sp_mutex_lock(&e->mu_));
  unsigned n = e->cv_.nwaiters_;
  assert_rc(SP_OK, sp_mutex_unlock(&e->mu_));
  return n;
}

static void wait_sleepers(sp_event_t *e, unsigned n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sleepers(e) != n) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for %u sleepers, have %u", n, sleepers(e));
    t_sleep_ns(100000);
  }
}

static void test_is_set(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_int_equal(0, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_set(&s.e));
  assert_int_equal(1, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_set(&s.e));
  assert_int_equal(1, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_clear(&s.e));
  assert_int_equal(0, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_clear(&s.e));
  assert_int_equal(0, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

static void waiter(void *p, int i) {
  shared_t *s = p;
  s->rc[i] = sp_event_wait(&s->e, s->timeout);
}

/* lock_tests _check_notify: every waiter blocks until set, then all return
 * SP_OK; checked twice (the second time after a clear), with waiters that
 * wait forever and with waiters that have a (long) timeout. */
static void check_notify(shared_t *s, int n) {
  for (int i = 0; i < n; i++)
    s->rc[i] = -100;
  t_bunch_start(&s->b, n, waiter, s);
  wait_sleepers(&s->e, (unsigned)n);
  assert_int_equal(0, t_load(&s->b.finished));
  assert_rc(SP_OK, sp_event_set(&s->e));
  t_bunch_join(&s->b);
  for (int i = 0; i < n; i++)
    assert_rc(SP_OK, s->rc[i]);
}

static void test_notify(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  const int64_t timeouts[] = {SP_FOREVER, 10 * SP_NS_PER_S};
  for (int k = 0; k < 2; k++) {
    s.timeout = timeouts[k];
    check_notify(&s, 5);
    assert_rc(SP_OK, sp_event_clear(&s.e));
    check_notify(&s, 5);
    assert_rc(SP_OK, sp_event_clear(&s.e));
  }
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

static void timeout_worker(void *p, int i) {
  shared_t *s = p;
  int64_t t0 = t_now_ns();
  s->rc[i] = sp_event_wait(&s->e, s->timeout);
  if (s->rc[i] == SP_TIMEDOUT && t_now_ns() - t0 < s->timeout)
    t_inc(&s->violations);
}

/* lock_tests EventTests.test_timeout: a wait on a clear event times out, no
 * earlier than asked; on a set event it returns SP_OK at once. */
static void test_timeout(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_BUSY, sp_event_wait(&s.e, 0));
  const int64_t timeouts[] = {1 * MS, 10 * MS, 50 * MS};
  for (int k = 0; k < 3; k++) {
    s.timeout = timeouts[k];
    t_bunch_start(&s.b, 3, timeout_worker, &s);
    t_bunch_join(&s.b);
    for (int i = 0; i < 3; i++)
      assert_rc(SP_TIMEDOUT, s.rc[i]);
  }
  assert_int_equal(0, t_load(&s.violations));
  assert_int_equal(0, sp_event_is_set(&s.e));
  assert_rc(SP_OK, sp_event_set(&s.e));
  assert_rc(SP_OK, sp_event_wait(&s.e, 0));
  int64_t t0 = t_now_ns();
  assert_rc(SP_OK, sp_event_wait(&s.e, 10 * SP_NS_PER_S));
  assert_rc(SP_OK, sp_event_wait(&s.e, SP_FOREVER));
  assert_true(t_now_ns() - t0 < 5 * SP_NS_PER_S); /* did not wait */
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

/* lock_tests EventTests.test_set_and_clear (issue 13502): threads waiting
 * when the event is set return SP_OK even though it is cleared again at
 * once, before they can run. Repeated, so the set-clear pair often lands
 * while the woken waiters are still on their way. */
static void test_set_and_clear(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  const int n = 5;
  long rounds = t_iters(20);
  for (long r = 0; r < rounds; r++) {
    s.timeout = (r & 1) ? SP_FOREVER : 5 * SP_NS_PER_S;
    for (int i = 0; i < n; i++)
      s.rc[i] = -100;
    t_bunch_start(&s.b, n, waiter, &s);
    wait_sleepers(&s.e, (unsigned)n);
    assert_rc(SP_OK, sp_event_set(&s.e));
    assert_rc(SP_OK, sp_event_clear(&s.e));
    assert_int_equal(0, sp_event_is_set(&s.e));
    t_bunch_join(&s.b);
    for (int i = 0; i < n; i++)
      assert_rc(SP_OK, s.rc[i]);
  }
  /* A wait that starts after the clear does not see the old set. */
  assert_rc(SP_BUSY, sp_event_wait(&s.e, 0));
  assert_rc(SP_TIMEDOUT, sp_event_wait(&s.e, 1 * MS));
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

static void test_bad_inputs(void **state) {
  (void)state;
  sp_event_t e;
  assert_rc(SP_EINVAL, sp_event_init(NULL));
  assert_rc(SP_EINVAL, sp_event_destroy(NULL));
  assert_rc(SP_EINVAL, sp_event_set(NULL));
  assert_rc(SP_EINVAL, sp_event_clear(NULL));
  assert_rc(SP_EINVAL, sp_event_is_set(NULL));
  assert_rc(SP_EINVAL, sp_event_wait(NULL, 0));
  memset(&e, 0xA5,
         sizeof e); /* garbage: not an object (zero-filled is valid) */
  assert_rc(SP_EINVAL, sp_event_set(&e));
  assert_rc(SP_EINVAL, sp_event_clear(&e));
  assert_rc(SP_EINVAL, sp_event_is_set(&e));
  assert_rc(SP_EINVAL, sp_event_wait(&e, 0));
  assert_rc(SP_EINVAL, sp_event_destroy(&e));
  assert_rc(SP_OK, sp_event_init(&e));
  assert_rc(SP_EINVAL, sp_event_wait(&e, -2));
  assert_rc(SP_EINVAL, sp_event_wait(&e, INT64_MIN));
  assert_rc(SP_OK, sp_event_set(&e));
  /* A bad timeout is refused even when the wait would succeed at once. */
  assert_rc(SP_EINVAL, sp_event_wait(&e, -2));
  assert_int_equal(1, sp_event_is_set(&e));
  assert_rc(SP_OK, sp_event_destroy(&e)); /* set is fine */
  assert_rc(SP_EINVAL, sp_event_set(&e));
  assert_rc(SP_EINVAL, sp_event_clear(&e));
  assert_rc(SP_EINVAL, sp_event_is_set(&e));
  assert_rc(SP_EINVAL, sp_event_wait(&e, 0));
  assert_rc(SP_EINVAL, sp_event_destroy(&e));
}

static void *blocked_waiter(void *p) {
  shared_t *s = p;
  s->rc[0] = sp_event_wait(&s->e, SP_FOREVER);
  return NULL;
}

static void test_destroy_with_waiter(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  t_thread t = t_start(blocked_waiter, &s);
  wait_sleepers(&s.e, 1);
  assert_rc(SP_EPERM, sp_event_destroy(&s.e));
  assert_int_equal(0, sp_event_is_set(&s.e)); /* still usable */
  assert_rc(SP_OK, sp_event_set(&s.e));
  t_join(t);
  assert_rc(SP_OK, s.rc[0]);
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

/* Ping-pong: two threads hand a token back and forth with two events
 * (wait, clear, write, set), thousands of times; a lost set would hang a
 * side (its wait then fails after 10 s). Meanwhile noise threads wait on
 * the ping event with small timeouts: they must get SP_OK, SP_BUSY or
 * SP_TIMEDOUT, never a timeout before it passed. Under TSan the plain
 * token also checks that set/wait order memory. */
static void *ponger(void *p) {
  shared_t *s = p;
  for (;;) {
    if (sp_event_wait(&s->e, 10 * SP_NS_PER_S) != SP_OK) {
      t_inc(&s->violations);
      break;
    }
    sp_event_clear(&s->e);
    if (t_load(&s->stop))
      break;
    s->token++; /* the pinger wrote it before its set */
    sp_event_set(&s->pong);
  }
  return NULL;
}

static void noise_worker(void *p, int i) {
  shared_t *s = p;
  const int64_t tos[] = {0, 1000, 20000, 100000};
  long k = 0;
  while (!t_load(&s->stop)) {
    int64_t to = tos[(i + k++) % 4];
    int64_t t0 = t_now_ns();
    int rc = sp_event_wait(&s->e, to);
    if (rc == SP_TIMEDOUT && t_now_ns() - t0 < to)
      t_inc(&s->violations);
    else if (rc != SP_OK && rc != SP_BUSY && rc != SP_TIMEDOUT)
      t_inc(&s->violations);
    if (rc == SP_OK)
      t_yield();
  }
}

static void test_stress_ping_pong(void **state) {
  (void)state;
  shared_t s;
  init_shared(&s);
  assert_rc(SP_OK, sp_event_init(&s.pong));
  s.iters = t_iters(20000);
  s.deadline = t_stress_deadline();
  t_thread t = t_start(ponger, &s);
  t_bunch_start(&s.b, 3, noise_worker, &s);
  long k = 0;
  for (; k < s.iters; k++) {
    if (k > 0 && (k & 63) == 0 && t_now_ns() > s.deadline)
      break;
    s.token++;
    assert_rc(SP_OK, sp_event_set(&s.e));
    int rc = sp_event_wait(&s.pong, 10 * SP_NS_PER_S);
    if (rc != SP_OK) {
      t_inc(&s.violations);
      break;
    }
    assert_rc(SP_OK, sp_event_clear(&s.pong));
    if (s.token != 2 * (int)(k + 1)) /* the ponger's write is visible */
      t_inc(&s.violations);
  }
  t_store(&s.stop, 1);
  assert_rc(SP_OK, sp_event_set(&s.e));
  t_join(t);
  t_bunch_join(&s.b);
  assert_int_equal(0, t_load(&s.violations));
  assert_true(k > 0);
  assert_rc(SP_OK, sp_event_destroy(&s.pong));
  assert_rc(SP_OK, sp_event_destroy(&s.e));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_is_set),
      cmocka_unit_test(test_notify),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_set_and_clear),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_destroy_with_waiter),
      cmocka_unit_test(test_stress_ping_pong),
  };
  return T_RUN("event", tests);
}
