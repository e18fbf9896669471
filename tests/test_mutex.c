/* sp_mutex_t: mutual exclusion, trylock, owner rules. */
#include "helpers.h"

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_unlock),
      cmocka_unit_test(test_contended_counter),
      cmocka_unit_test(test_trylock_contended),
  };
  return T_RUN("mutex", tests);
}
