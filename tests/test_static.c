/* Static initialisation and the object life cycle (issue 12): file-scope
 * objects made with the SP_*_INIT macros, zero-filled objects, many threads
 * racing on the first use of an object that was never set up (whose lazy
 * set-up must run exactly once), and destroyed objects (SP_EINVAL from
 * every call until zero-filled or initialised again). */
#include "helpers.h"

#include "../src/test_hooks.h"

#include <stdlib.h>
#include <string.h>

/* ---- file-scope objects --------------------------------------------- */

static sp_mutex_t g_mutex = SP_MUTEX_INIT;
static sp_cond_t g_cond = SP_COND_INIT;
static sp_lock_t g_lock = SP_LOCK_INIT;
static sp_rlock_t g_rlock = SP_RLOCK_INIT;
static sp_event_t g_event = SP_EVENT_INIT;
static sp_sem_t g_sem = SP_SEM_INIT(2, 3);
static sp_sem_t g_bad_sem = SP_SEM_INIT(5, 3); /* value above its bound */
static sp_barrier_t g_barrier = SP_BARRIER_INIT(1, NULL, NULL);
static sp_barrier_t g_zero_barrier; /* zero-filled: 0 parties */
static sp_queue_t g_queue = SP_QUEUE_INIT(2);
static sp_queue_t g_bad_queue = SP_QUEUE_INIT(-1);
static sp_queue_t g_zero_queue; /* zero-filled: unbounded */

static void test_file_scope_objects(void **state) {
  (void)state;
  assert_rc(SP_OK, sp_mutex_lock(&g_mutex));
  assert_rc(SP_EPERM, sp_mutex_lock(&g_mutex));
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&g_cond, &g_mutex, 1000));
  assert_rc(SP_OK, sp_cond_signal(&g_cond));
  assert_rc(SP_OK, sp_mutex_unlock(&g_mutex));
  assert_rc(SP_EPERM, sp_mutex_unlock(&g_mutex));

  assert_rc(SP_OK, sp_lock_acquire(&g_lock, 0));
  assert_rc(SP_BUSY, sp_lock_acquire(&g_lock, 0));
  assert_rc(SP_OK, sp_lock_release(&g_lock));

  assert_rc(SP_OK, sp_rlock_acquire(&g_rlock, 0));
  assert_rc(SP_OK, sp_rlock_acquire(&g_rlock, 0));
  assert_int_equal(1, sp_rlock_is_owned(&g_rlock));
  assert_rc(SP_OK, sp_rlock_release(&g_rlock));
  assert_rc(SP_OK, sp_rlock_release(&g_rlock));
  assert_rc(SP_EPERM, sp_rlock_release(&g_rlock));

  assert_int_equal(0, sp_event_is_set(&g_event));
  assert_rc(SP_BUSY, sp_event_wait(&g_event, 0));
  assert_rc(SP_OK, sp_event_set(&g_event));
  assert_rc(SP_OK, sp_event_wait(&g_event, SP_FOREVER));

  assert_int_equal(2, sp_sem_value(&g_sem));
  assert_rc(SP_OK, sp_sem_release(&g_sem, 1));
  assert_rc(SP_EPERM, sp_sem_release(&g_sem, 1)); /* bound 3 */
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, sp_sem_acquire(&g_sem, 0));
  assert_rc(SP_BUSY, sp_sem_acquire(&g_sem, 0));
  /* Bad parameters are caught on first use, by every call. */
  assert_rc(SP_EINVAL, sp_sem_value(&g_bad_sem));
  assert_rc(SP_EINVAL, sp_sem_acquire(&g_bad_sem, 0));
  assert_rc(SP_EINVAL, sp_sem_release(&g_bad_sem, 1));
  assert_rc(SP_EINVAL, sp_sem_destroy(&g_bad_sem));

  unsigned idx = 9;
  assert_int_equal(1, sp_barrier_parties(&g_barrier));
  assert_rc(SP_OK, sp_barrier_wait(&g_barrier, 0, &idx));
  assert_int_equal(0, idx);
  assert_rc(SP_EINVAL, sp_barrier_parties(&g_zero_barrier));
  assert_rc(SP_EINVAL, sp_barrier_wait(&g_zero_barrier, 0, &idx));

  void *item = NULL;
  assert_rc(SP_OK, sp_queue_put(&g_queue, &idx, 0));
  assert_rc(SP_OK, sp_queue_put(&g_queue, &item, 0));
  assert_rc(SP_BUSY, sp_queue_put(&g_queue, NULL, 0)); /* maxsize 2 */
  assert_rc(SP_OK, sp_queue_get(&g_queue, &item, 0));
  assert_ptr_equal(&idx, item);
  assert_rc(SP_EINVAL, sp_queue_size(&g_bad_queue));
  assert_rc(SP_EINVAL, sp_queue_put(&g_bad_queue, NULL, 0));
  for (int i = 0; i < 100; i++)
    assert_rc(SP_OK, sp_queue_put(&g_zero_queue, NULL, 0));
  assert_int_equal(100, sp_queue_size(&g_zero_queue));
  assert_rc(SP_OK, sp_queue_destroy(&g_zero_queue)); /* frees the ring */
  assert_rc(SP_OK, sp_queue_destroy(&g_queue));
}

/* ---- zero-filled and destroyed objects -------------------------------- */

typedef struct {
  sp_mutex_t m;
  sp_cond_t c;
  sp_lock_t l;
  sp_rlock_t r;
  sp_event_t e;
  sp_sem_t s;
  sp_barrier_t b;
  sp_queue_t q;
} all_t;

/* Every object of *a works, as zero-filled ones do (b has 1 party). */
static void exercise(all_t *a) {
  void *item;
  unsigned idx;
  assert_rc(SP_OK, sp_mutex_lock(&a->m));
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&a->c, &a->m, 0));
  assert_rc(SP_OK, sp_cond_broadcast(&a->c));
  assert_rc(SP_OK, sp_mutex_unlock(&a->m));
  assert_rc(SP_OK, sp_lock_acquire(&a->l, 0));
  assert_rc(SP_OK, sp_lock_release(&a->l));
  assert_rc(SP_OK, sp_rlock_acquire(&a->r, 0));
  assert_rc(SP_OK, sp_rlock_release(&a->r));
  assert_rc(SP_OK, sp_event_set(&a->e));
  assert_rc(SP_OK, sp_event_wait(&a->e, 0));
  assert_rc(SP_OK, sp_sem_release(&a->s, 1));
  assert_rc(SP_OK, sp_sem_acquire(&a->s, 0));
  assert_rc(SP_OK, sp_barrier_wait(&a->b, 0, &idx));
  assert_rc(SP_OK, sp_queue_put(&a->q, a, 0));
  assert_rc(SP_OK, sp_queue_get(&a->q, &item, 0));
  assert_ptr_equal(a, item);
  assert_rc(SP_OK, sp_queue_task_done(&a->q));
}

static void destroy_all(all_t *a) {
  assert_rc(SP_OK, sp_mutex_destroy(&a->m));
  assert_rc(SP_OK, sp_cond_destroy(&a->c));
  assert_rc(SP_OK, sp_lock_destroy(&a->l));
  assert_rc(SP_OK, sp_rlock_destroy(&a->r));
  assert_rc(SP_OK, sp_event_destroy(&a->e));
  assert_rc(SP_OK, sp_sem_destroy(&a->s));
  assert_rc(SP_OK, sp_barrier_destroy(&a->b));
  assert_rc(SP_OK, sp_queue_destroy(&a->q));
}

/* Every call on a destroyed object is SP_EINVAL, and changes nothing. */
static void expect_dead(all_t *a) {
  void *item;
  unsigned idx;
  assert_rc(SP_EINVAL, sp_mutex_lock(&a->m));
  assert_rc(SP_EINVAL, sp_mutex_trylock(&a->m));
  assert_rc(SP_EINVAL, sp_mutex_timedlock(&a->m, 0));
  assert_rc(SP_EINVAL, sp_mutex_timedlock_until(&a->m, 0));
  assert_rc(SP_EINVAL, sp_mutex_unlock(&a->m));
  assert_rc(SP_EINVAL, sp_mutex_destroy(&a->m));
  assert_rc(SP_EINVAL, sp_cond_signal(&a->c));
  assert_rc(SP_EINVAL, sp_cond_broadcast(&a->c));
  assert_rc(SP_EINVAL, sp_cond_destroy(&a->c));
  assert_rc(SP_EINVAL, sp_lock_acquire(&a->l, 0));
  assert_rc(SP_EINVAL, sp_lock_release(&a->l));
  assert_rc(SP_EINVAL, sp_lock_locked(&a->l));
  assert_rc(SP_EINVAL, sp_lock_destroy(&a->l));
  assert_rc(SP_EINVAL, sp_rlock_acquire(&a->r, 0));
  assert_rc(SP_EINVAL, sp_rlock_release(&a->r));
  assert_rc(SP_EINVAL, sp_rlock_is_owned(&a->r));
  assert_rc(SP_EINVAL, sp_rlock_destroy(&a->r));
  assert_rc(SP_EINVAL, sp_event_set(&a->e));
  assert_rc(SP_EINVAL, sp_event_clear(&a->e));
  assert_rc(SP_EINVAL, sp_event_is_set(&a->e));
  assert_rc(SP_EINVAL, sp_event_wait(&a->e, 0));
  assert_rc(SP_EINVAL, sp_event_destroy(&a->e));
  assert_rc(SP_EINVAL, sp_sem_acquire(&a->s, 0));
  assert_rc(SP_EINVAL, sp_sem_release(&a->s, 1));
  assert_rc(SP_EINVAL, sp_sem_value(&a->s));
  assert_rc(SP_EINVAL, sp_sem_destroy(&a->s));
  assert_rc(SP_EINVAL, sp_barrier_wait(&a->b, 0, &idx));
  assert_rc(SP_EINVAL, sp_barrier_parties(&a->b));
  assert_rc(SP_EINVAL, sp_barrier_destroy(&a->b));
  assert_rc(SP_EINVAL, sp_queue_put(&a->q, NULL, 0));
  assert_rc(SP_EINVAL, sp_queue_get(&a->q, &item, 0));
  assert_rc(SP_EINVAL, sp_queue_size(&a->q));
  assert_rc(SP_EINVAL, sp_queue_destroy(&a->q));
  /* A live mutex with a destroyed condition (and the reverse). */
  sp_mutex_t live = SP_MUTEX_INIT;
  assert_rc(SP_OK, sp_mutex_lock(&live));
  assert_rc(SP_EINVAL, sp_cond_wait(&a->c, &live, 0));
  assert_rc(SP_OK, sp_mutex_unlock(&live));
  sp_cond_t live_c = SP_COND_INIT;
  assert_rc(SP_EINVAL, sp_cond_wait(&live_c, &a->m, 0));
}

static void test_zero_filled_then_destroyed(void **state) {
  (void)state;
  all_t *a = calloc(1, sizeof *a);
  assert_non_null(a);
  a->b = (sp_barrier_t)SP_BARRIER_INIT(1, NULL, NULL);
  exercise(a);
  destroy_all(a);
  expect_dead(a);
  /* Zero-filled again: valid again. */
  memset(a, 0, sizeof *a);
  a->b = (sp_barrier_t)SP_BARRIER_INIT(1, NULL, NULL);
  exercise(a);
  destroy_all(a);
  /* Initialised, destroyed, initialised. */
  assert_rc(SP_OK, sp_mutex_init(&a->m));
  assert_rc(SP_OK, sp_cond_init(&a->c));
  assert_rc(SP_OK, sp_lock_init(&a->l));
  assert_rc(SP_OK, sp_rlock_init(&a->r));
  assert_rc(SP_OK, sp_event_init(&a->e));
  assert_rc(SP_OK, sp_sem_init(&a->s, 0, 0));
  assert_rc(SP_OK, sp_barrier_init(&a->b, 1, NULL, NULL));
  assert_rc(SP_OK, sp_queue_init(&a->q, 0));
  exercise(a);
  destroy_all(a);
  expect_dead(a);
  free(a);
}

/* ---- many threads racing on the first use ------------------------------ */

#define RACERS 8

typedef struct {
  all_t a;
  sp_mutex_t cm;        /* the mutex of a.c's waiters */
  int gate;             /* atomic: 1 opens the start */
  long counter;         /* under a.m */
  int idx_seen[RACERS]; /* atomic */
  long got_sum;         /* atomic */
  int bad;              /* atomic */
} race_t;

#define CHECK(expr)                                                            \
  do {                                                                         \
    if (!(expr))                                                               \
      t_store(&r->bad, __LINE__);                                              \
  } while (0)

static void racer(void *p, int i) {
  race_t *r = p;
  while (!t_load(&r->gate))
    t_yield();
  all_t *a = &r->a;
  for (int k = 0; k < 50; k++) {
    CHECK(sp_mutex_lock(&a->m) == SP_OK);
    r->counter++;
    CHECK(sp_mutex_unlock(&a->m) == SP_OK);
  }
  CHECK(sp_mutex_lock(&r->cm) == SP_OK);
  int rc = sp_cond_wait(&a->c, &r->cm, 0);
  CHECK(rc == SP_TIMEDOUT || rc == SP_OK);
  CHECK(sp_cond_broadcast(&a->c) == SP_OK);
  CHECK(sp_mutex_unlock(&r->cm) == SP_OK);
  CHECK(sp_lock_acquire(&a->l, SP_FOREVER) == SP_OK);
  CHECK(sp_lock_release(&a->l) == SP_OK);
  CHECK(sp_rlock_acquire(&a->r, SP_FOREVER) == SP_OK);
  CHECK(sp_rlock_acquire(&a->r, SP_FOREVER) == SP_OK);
  CHECK(sp_rlock_release(&a->r) == SP_OK);
  CHECK(sp_rlock_release(&a->r) == SP_OK);
  CHECK(sp_sem_acquire(&a->s, SP_FOREVER) == SP_OK);
  CHECK(sp_sem_release(&a->s, 1) == SP_OK);
  CHECK(sp_queue_put(&a->q, (void *)(intptr_t)(i + 1), SP_FOREVER) == SP_OK);
  void *item = NULL;
  CHECK(sp_queue_get(&a->q, &item, SP_FOREVER) == SP_OK);
  __atomic_add_fetch(&r->got_sum, (long)(intptr_t)item, __ATOMIC_SEQ_CST);
  if (i == 0)
    CHECK(sp_event_set(&a->e) == SP_OK);
  CHECK(sp_event_wait(&a->e, SP_FOREVER) == SP_OK);
  unsigned idx = RACERS;
  CHECK(sp_barrier_wait(&a->b, SP_FOREVER, &idx) == SP_OK);
  if (idx < RACERS)
    t_inc(&r->idx_seen[idx]);
}

/* The objects whose magic_ left 0: each was set up once by sp_lazy_init_
 * (mutex, lock, rlock and event need no set-up and stay 0). */
static long set_up_count(race_t *r) {
  all_t *a = &r->a;
  unsigned *magics[] = {&a->c.magic_,     &a->s.magic_, &a->s.cv_.magic_,
                        &a->e.cv_.magic_, &a->b.magic_, &a->q.magic_};
  long n = 0;
  for (size_t k = 0; k < sizeof magics / sizeof magics[0]; k++)
    n += *magics[k] != 0;
  assert_int_equal(0, a->m.magic_);
  assert_int_equal(0, a->l.magic_);
  assert_int_equal(0, a->r.magic_);
  assert_int_equal(0, a->e.magic_);
  return n;
}

static void test_first_use_race(void **state) {
  (void)state;
  long rounds = t_iters(150);
  int64_t deadline = t_stress_deadline();
  long k;
  for (k = 0; k < rounds && t_now_ns() < deadline; k++) {
    race_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->a.s = (sp_sem_t)SP_SEM_INIT(2, 2);
    r->a.b = (sp_barrier_t)SP_BARRIER_INIT(RACERS, NULL, NULL);
    sp_fault_set_(SP_FAULT_LAZY_INIT_, 0); /* count the set-ups */
    t_bunch b;
    t_bunch_start(&b, RACERS, racer, r);
    t_store(&r->gate, 1);
    t_bunch_join(&b);
    long setups = sp_fault_count_(SP_FAULT_LAZY_INIT_);
    sp_fault_clear_();
    if (t_load(&r->bad))
      fail_msg("round %ld: a call failed at line %d", k, t_load(&r->bad));
    assert_int_equal(RACERS * 50, r->counter);
    assert_int_equal(RACERS * (RACERS + 1) / 2, r->got_sum);
    for (int i = 0; i < RACERS; i++)
      assert_int_equal(1, t_load(&r->idx_seen[i]));
    assert_int_equal(2, sp_sem_value(&r->a.s));
    /* exactly one set-up per object that was set up */
    assert_int_equal(set_up_count(r), setups);
    destroy_all(&r->a);
    assert_rc(SP_OK, sp_mutex_destroy(&r->cm));
    free(r);
  }
  assert_true(k > 0);
}

/* The same race on file-scope objects, once per process. */
static sp_mutex_t s_race_m = SP_MUTEX_INIT;
static sp_cond_t s_race_c = SP_COND_INIT;
static sp_sem_t s_race_s = SP_SEM_INIT(1, 1);
static sp_queue_t s_race_q = SP_QUEUE_INIT(0);
static int s_gate, s_bad;
static long s_count;

static void static_racer(void *p, int i) {
  (void)p;
  while (!t_load(&s_gate))
    t_yield();
  for (int k = 0; k < 100; k++) {
    if (sp_mutex_lock(&s_race_m) != SP_OK)
      t_store(&s_bad, 1);
    s_count++;
    if (sp_cond_wait(&s_race_c, &s_race_m, 0) < 0)
      t_store(&s_bad, 2);
    if (sp_mutex_unlock(&s_race_m) != SP_OK)
      t_store(&s_bad, 3);
    if (sp_sem_acquire(&s_race_s, SP_FOREVER) != SP_OK ||
        sp_sem_release(&s_race_s, 1) != SP_OK)
      t_store(&s_bad, 4);
  }
  if (sp_queue_put(&s_race_q, (void *)(intptr_t)i, SP_FOREVER) != SP_OK)
    t_store(&s_bad, 5);
}

static void test_file_scope_first_use_race(void **state) {
  (void)state;
  t_bunch b;
  t_bunch_start(&b, RACERS, static_racer, NULL);
  t_store(&s_gate, 1);
  t_bunch_join(&b);
  assert_int_equal(0, t_load(&s_bad));
  assert_int_equal(RACERS * 100, s_count);
  assert_int_equal(RACERS, sp_queue_size(&s_race_q));
  assert_int_equal(1, sp_sem_value(&s_race_s));
  assert_rc(SP_OK, sp_queue_destroy(&s_race_q));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_scope_objects),
      cmocka_unit_test(test_zero_filled_then_destroyed),
      cmocka_unit_test(test_first_use_race),
      cmocka_unit_test(test_file_scope_first_use_race),
  };
  return T_RUN("static", tests);
}
