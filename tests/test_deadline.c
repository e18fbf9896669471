/* sp_now_ns() and the _until variant of every timed wait (mutex, lock,
 * rlock, semaphore, event, condition, rwlock): an absolute deadline on
 * sp_now_ns()'s clock that several calls can share. For each: a deadline
 * that passes while the object is busy gives SP_TIMEDOUT, never before it,
 * never SP_BUSY; a deadline already passed tries once (SP_OK if free,
 * SP_TIMEDOUT if not, at once); INT64_MAX waits for a release by another
 * thread; one deadline across two calls; bad objects give SP_EINVAL. */
#include "helpers.h"

#include <string.h>

static void test_now_ns(void **state) {
  (void)state;
  int64_t prev = sp_now_ns();
  assert_true(prev >= 0);
  for (int i = 0; i < 100000; i++) {
    int64_t now = sp_now_ns();
    assert_true(now >= prev);
    prev = now;
  }
  /* the same clock as the tests' (CLOCK_MONOTONIC, QPC) */
  int64_t a = sp_now_ns(), t = t_now_ns(), b = sp_now_ns();
  assert_true(a <= t + 1000 && t <= b + 1000);
  t_sleep_ns(2 * MS);
  assert_true(sp_now_ns() - b >= 2 * MS);
}

/* One kind of object behind a uniform interface: take it (for the test's
 * main thread, as "busy" for the others), give it back, and the _until call
 * under test. */
enum { O_MUTEX, O_LOCK, O_RLOCK, O_SEM, O_EVENT, O_COND, O_RDWR, O_WRRD, NOBJ };
static const char *const obj_name[NOBJ] = {"mutex",
                                           "lock",
                                           "rlock",
                                           "semaphore",
                                           "event",
                                           "cond",
                                           "rwlock held for writing",
                                           "rwlock held for reading"};

typedef struct {
  int kind;
  sp_mutex_t m;
  sp_lock_t l;
  sp_rlock_t r;
  sp_sem_t s;
  sp_event_t e;
  sp_cond_t c;
  sp_mutex_t cm; /* the condition's mutex */
  sp_rwlock_t rw;
  int flag; /* the condition's predicate, under cm */
} obj_t;

/* Make the object busy (from the main thread). */
static void make_busy(obj_t *o) {
  switch (o->kind) {
  case O_MUTEX:
    assert_rc(SP_OK, sp_mutex_lock(&o->m));
    break;
  case O_LOCK:
    assert_rc(SP_OK, sp_lock_acquire(&o->l, SP_FOREVER));
    break;
  case O_RLOCK:
    assert_rc(SP_OK, sp_rlock_acquire(&o->r, SP_FOREVER));
    break;
  case O_SEM:
    assert_rc(SP_OK, sp_sem_acquire(&o->s, SP_FOREVER));
    break;
  case O_EVENT:
    assert_rc(SP_OK, sp_event_clear(&o->e));
    break;
  case O_COND:
    o->flag = 0;
    break;
  case O_RDWR:
    assert_rc(SP_OK, sp_rwlock_wrlock(&o->rw, SP_FOREVER));
    break;
  default:
    assert_rc(SP_OK, sp_rwlock_rdlock(&o->rw, SP_FOREVER));
  }
}

static void make_free(obj_t *o) {
  switch (o->kind) {
  case O_MUTEX:
    assert_rc(SP_OK, sp_mutex_unlock(&o->m));
    break;
  case O_LOCK:
    assert_rc(SP_OK, sp_lock_release(&o->l));
    break;
  case O_RLOCK:
    assert_rc(SP_OK, sp_rlock_release(&o->r));
    break;
  case O_SEM:
    assert_rc(SP_OK, sp_sem_release(&o->s, 1));
    break;
  case O_EVENT:
    assert_rc(SP_OK, sp_event_set(&o->e));
    break;
  case O_COND:
    assert_rc(SP_OK, sp_mutex_lock(&o->cm));
    o->flag = 1;
    assert_rc(SP_OK, sp_cond_broadcast(&o->c));
    assert_rc(SP_OK, sp_mutex_unlock(&o->cm));
    break;
  default:
    assert_rc(SP_OK, sp_rwlock_unlock(&o->rw));
  }
}

static int flag_set(void *p) {
  return ((obj_t *)p)->flag;
}

/* The call under test, from a thread that does not hold the object; on
 * SP_OK it gives back what it took. */
static int try_until(obj_t *o, int64_t deadline) {
  int rc;
  switch (o->kind) {
  case O_MUTEX:
    rc = sp_mutex_timedlock_until(&o->m, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_mutex_unlock(&o->m));
    return rc;
  case O_LOCK:
    rc = sp_lock_acquire_until(&o->l, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_lock_release(&o->l));
    return rc;
  case O_RLOCK:
    rc = sp_rlock_acquire_until(&o->r, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_rlock_release(&o->r));
    return rc;
  case O_SEM:
    rc = sp_sem_acquire_until(&o->s, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_sem_release(&o->s, 1));
    return rc;
  case O_EVENT:
    return sp_event_wait_until(&o->e, deadline);
  case O_COND:
    assert_rc(SP_OK, sp_mutex_lock(&o->cm));
    rc = sp_cond_wait_for_until(&o->c, &o->cm, flag_set, o, deadline);
    assert_rc(SP_OK, sp_mutex_unlock(&o->cm));
    return rc;
  case O_RDWR: /* write-held: a reader waits */
    rc = sp_rwlock_rdlock_until(&o->rw, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_rwlock_unlock(&o->rw));
    return rc;
  default: /* read-held: a writer waits */
    rc = sp_rwlock_wrlock_until(&o->rw, deadline);
    if (rc == SP_OK)
      assert_rc(SP_OK, sp_rwlock_unlock(&o->rw));
    return rc;
  }
}

typedef struct {
  obj_t *o;
  int64_t deadline;
  int rc;
  int64_t returned_at;
  int started; /* atomic */
} call_t;

static void *caller(void *p) {
  call_t *c = p;
  t_store(&c->started, 1);
  c->rc = try_until(c->o, c->deadline);
  c->returned_at = sp_now_ns();
  return NULL;
}

static int other_thread_until(obj_t *o, int64_t deadline, int64_t *at) {
  call_t c;
  memset(&c, 0, sizeof c);
  c.o = o;
  c.deadline = deadline;
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, caller, &c));
  assert_rc(SP_OK, sp_thread_join(&t, NULL));
  if (at != NULL)
    *at = c.returned_at;
  return c.rc;
}

static void obj_init(obj_t *o, int kind) {
  memset(o, 0, sizeof *o); /* every object valid zero-filled... */
  o->kind = kind;
  assert_rc(SP_OK, sp_sem_init(&o->s, 1, 0)); /* ...but a semaphore of 1 */
}

static void obj_fini(obj_t *o) {
  assert_rc(SP_OK, sp_mutex_destroy(&o->m));
  assert_rc(SP_OK, sp_lock_destroy(&o->l));
  assert_rc(SP_OK, sp_rlock_destroy(&o->r));
  assert_rc(SP_OK, sp_sem_destroy(&o->s));
  assert_rc(SP_OK, sp_event_destroy(&o->e));
  assert_rc(SP_OK, sp_cond_destroy(&o->c));
  assert_rc(SP_OK, sp_mutex_destroy(&o->cm));
  assert_rc(SP_OK, sp_rwlock_destroy(&o->rw));
}

static void test_until_times_out_never_early(void **state) {
  (void)state;
  static obj_t o;
  for (int kind = 0; kind < NOBJ; kind++) {
    obj_init(&o, kind);
    make_busy(&o);
    const int64_t lens[] = {1, 200000, 3 * MS, 12 * MS};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
      int64_t deadline = sp_now_ns() + lens[i], at = 0;
      int rc = other_thread_until(&o, deadline, &at);
      if (rc != SP_TIMEDOUT || at < deadline)
        fail_msg("%s: _until returned %s %lld ns before its deadline",
                 obj_name[kind], sp_strerror(rc), (long long)(deadline - at));
    }
    make_free(&o);
    obj_fini(&o);
  }
}

static void test_until_passed_deadline_tries_once(void **state) {
  (void)state;
  static obj_t o;
  for (int kind = 0; kind < NOBJ; kind++) {
    obj_init(&o, kind);
    if (kind == O_EVENT || kind == O_COND)
      make_free(&o); /* their "free" is a raised flag */
    const int64_t past[] = {0, 1, sp_now_ns() - 1, -1, INT64_MIN};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++)
      if (other_thread_until(&o, past[i], NULL) != SP_OK)
        fail_msg("%s: a free object and a passed deadline: not SP_OK",
                 obj_name[kind]);
    make_busy(&o);
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
      int rc = other_thread_until(&o, past[i], NULL);
      if (rc != SP_TIMEDOUT)
        fail_msg("%s: a busy object and a passed deadline gave %s",
                 obj_name[kind], sp_strerror(rc));
    }
    make_free(&o);
    obj_fini(&o);
  }
}

/* INT64_MAX: no limit; the call returns when another thread frees the
 * object. */
static void test_until_forever(void **state) {
  (void)state;
  static obj_t o;
  for (int kind = 0; kind < NOBJ; kind++) {
    obj_init(&o, kind);
    make_busy(&o);
    call_t c;
    memset(&c, 0, sizeof c);
    c.o = &o;
    c.deadline = INT64_MAX;
    sp_thread_t t;
    assert_rc(SP_OK, sp_thread_start(&t, caller, &c));
    t_wait_for_count(&c.started, 1);
    t_sleep_ns(2 * MS);
    make_free(&o);
    assert_rc(SP_OK, sp_thread_join(&t, NULL));
    if (c.rc != SP_OK)
      fail_msg("%s: INT64_MAX gave %s", obj_name[kind], sp_strerror(c.rc));
    obj_fini(&o);
  }
}

/* One deadline for a sequence: take two locks before one deadline; the
 * second call, made after the first used up the time, tries once. */
static void *two_locks_one_deadline(void *p) {
  obj_t *o = p;
  int64_t deadline = sp_now_ns() + 10 * MS;
  int rc1 = sp_lock_acquire_until(&o->l, deadline); /* busy: times out */
  int64_t after1 = sp_now_ns();
  int rc2 = sp_mutex_timedlock_until(&o->m, deadline); /* free: taken */
  int rc3 = sp_rlock_acquire_until(&o->r, deadline);   /* busy: at once */
  assert_rc(SP_TIMEDOUT, rc1);
  assert_true(after1 >= deadline);
  assert_rc(SP_OK, rc2);
  assert_rc(SP_TIMEDOUT, rc3);
  assert_rc(SP_OK, sp_mutex_unlock(&o->m));
  return NULL;
}

static void test_one_deadline_for_several_calls(void **state) {
  (void)state;
  static obj_t o;
  obj_init(&o, O_LOCK);
  assert_rc(SP_OK, sp_lock_acquire(&o.l, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_acquire(&o.r, SP_FOREVER));
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, two_locks_one_deadline, &o));
  assert_rc(SP_OK, sp_thread_join(&t, NULL));
  assert_rc(SP_OK, sp_rlock_release(&o.r));
  assert_rc(SP_OK, sp_lock_release(&o.l));
  obj_fini(&o);
}

/* The owner of an rlock nests whatever the deadline; the event returns
 * SP_OK for a raised flag whatever the deadline. */
static void test_until_no_wait_cases(void **state) {
  (void)state;
  sp_rlock_t r = SP_RLOCK_INIT;
  assert_rc(SP_OK, sp_rlock_acquire_until(&r, INT64_MAX));
  assert_rc(SP_OK, sp_rlock_acquire_until(&r, 0));
  assert_rc(SP_OK, sp_rlock_acquire_until(&r, INT64_MIN));
  assert_int_equal(3, (int)sp_rlock_count(&r));
  for (int i = 0; i < 3; i++)
    assert_rc(SP_OK, sp_rlock_release(&r));
  sp_event_t e = SP_EVENT_INIT;
  assert_rc(SP_OK, sp_event_set(&e));
  assert_rc(SP_OK, sp_event_wait_until(&e, 0));
  assert_rc(SP_OK, sp_event_wait_until(&e, INT64_MIN));
  assert_rc(SP_OK, sp_event_destroy(&e));
}

static void test_bad_input(void **state) {
  (void)state;
  assert_rc(SP_EINVAL, sp_lock_acquire_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_rlock_acquire_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_sem_acquire_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_event_wait_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_until(NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_mutex_timedlock_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock_until(NULL, 0));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock_until(NULL, 0));
  static obj_t o;
  obj_init(&o, O_MUTEX);
  obj_fini(&o); /* every object destroyed */
  assert_rc(SP_EINVAL, sp_lock_acquire_until(&o.l, INT64_MAX));
  assert_rc(SP_EINVAL, sp_rlock_acquire_until(&o.r, INT64_MAX));
  assert_rc(SP_EINVAL, sp_sem_acquire_until(&o.s, INT64_MAX));
  assert_rc(SP_EINVAL, sp_event_wait_until(&o.e, INT64_MAX));
  assert_rc(SP_EINVAL, sp_mutex_timedlock_until(&o.m, INT64_MAX));
  assert_rc(SP_EINVAL, sp_rwlock_rdlock_until(&o.rw, INT64_MAX));
  assert_rc(SP_EINVAL, sp_rwlock_wrlock_until(&o.rw, INT64_MAX));
  sp_mutex_t m = SP_MUTEX_INIT;
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_EINVAL, sp_cond_wait_until(&o.c, &m, INT64_MAX));
  assert_rc(SP_OK, sp_mutex_unlock(&m));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_now_ns),
      cmocka_unit_test(test_until_times_out_never_early),
      cmocka_unit_test(test_until_passed_deadline_tries_once),
      cmocka_unit_test(test_until_forever),
      cmocka_unit_test(test_one_deadline_for_several_calls),
      cmocka_unit_test(test_until_no_wait_cases),
      cmocka_unit_test(test_bad_input),
  };
  return T_RUN("deadline", tests);
}
