/* The lifetime promise (docs/primitives.md): an object may be destroyed, and
 * its memory freed, as soon as the last thread that used it has returned,
 * including a releaser. Issue 11, item 1's reproducer pattern for every
 * primitive: a worker releases (unlock, release, post, set, put, the last
 * barrier party); the owner, whose blocking call that release ended,
 * destroys the object, poisons its memory and frees it at once, while the
 * worker may still be inside its release. A release that touches the
 * object after making it available writes or reads freed memory, which
 * ASan reports (and TSan reports as a race with the free or the poisoning);
 * a plain build may see SP_EINVAL or SP_ESYS from the release.
 *
 * Each round uses fresh heap memory, and the worker releases only once the
 * owner sleeps in its blocking call (white box: the lock word's waiters bit,
 * or a waiter count), so the release takes its slow path, the one that wakes
 * someone. Thousands of rounds, bounded by t_iters and t_stress_deadline.
 * The worker is one persistent thread that runs one job per round. */
#include "helpers.h"

#include "../src/test_hooks.h"

#include <stdlib.h>
#include <string.h>

/* ---- a persistent worker running one job at a time ------------------- */

typedef struct {
  void (*fn)(void *);
  void *arg;
  int seq;  /* atomic: jobs posted */
  int done; /* atomic: jobs finished */
  int quit; /* atomic */
  int rc;   /* the job's result, read after done */
} runner_t;

static void *runner_main(void *p) {
  runner_t *r = p;
  int seen = 0;
  for (;;) {
    while (t_load(&r->seq) == seen && !t_load(&r->quit))
      t_yield();
    if (t_load(&r->quit))
      return NULL;
    seen++;
    r->fn(r->arg);
    t_store(&r->done, seen);
  }
}

static void post(runner_t *r, void (*fn)(void *), void *arg) {
  r->fn = fn;
  r->arg = arg;
  t_inc(&r->seq);
}

static void wait_done(runner_t *r) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (t_load(&r->done) != t_load(&r->seq)) {
    if (t_now_ns() > end)
      fail_msg("the worker did not finish its job in 10 s");
    t_yield();
  }
}

/* Spin (yielding) until *word & mask is nonzero, i.e. the owner sleeps. */
static void wait_bits(uint32_t *word, uint32_t mask) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while ((__atomic_load_n(word, __ATOMIC_SEQ_CST) & mask) == 0) {
    if (t_now_ns() > end)
      fail_msg("the owner never blocked");
    t_yield();
  }
}

/* Spin (yielding) until *count, read under the mutex m that guards it, is
 * nonzero: a condition's waiters or a queue's getters (white box). */
static void wait_count(sp_mutex_t *m, const unsigned *count) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  for (;;) {
    if (sp_mutex_lock(m) != SP_OK)
      fail_msg("cannot lock the object's mutex");
    unsigned n = *count;
    (void)sp_mutex_unlock(m);
    if (n > 0)
      return;
    if (t_now_ns() > end)
      fail_msg("the owner never blocked");
    t_yield();
  }
}

static void poison_free(void *p, size_t n) {
  memset(p, 0xDD, n);
  free(p);
}

typedef struct {
  runner_t r;
  t_thread t;
  long rounds;
  int64_t deadline;
  void *obj; /* this round's object (worker reads it before releasing) */
  int bad;   /* atomic: a worker call returned an unexpected code */
} fixture_t;

static void fixture_start(fixture_t *f, long iters) {
  memset(f, 0, sizeof *f);
  f->t = t_start(runner_main, &f->r);
  f->rounds = t_iters(iters);
  f->deadline = t_stress_deadline();
}

static void fixture_stop(fixture_t *f, long done) {
  t_store(&f->r.quit, 1);
  t_join(f->t);
  assert_int_equal(0, t_load(&f->bad));
  assert_true(done > 0);
}

/* One round of a test: make a fresh object, have the worker release it
 * (post), take it back, destroy, poison and free it. k is the round. */
typedef void round_fn(fixture_t *f, long k);

static fixture_t *g_f;

/* The rounds of a test: t_iters(iters) at most, bounded by the stress
 * deadline, with the persistent worker started before and joined after. */
static void run_rounds(long iters, round_fn *round) {
  fixture_t f;
  fixture_start(&f, iters);
  g_f = &f;
  long k;
  for (k = 0; k < f.rounds && ((k & 31) != 0 || t_now_ns() < f.deadline); k++)
    round(&f, k);
  fixture_stop(&f, k);
}

/* In a worker job: flag the test as failed unless ok. */
static void expect(int ok) {
  if (!ok)
    t_store(&g_f->bad, 1);
}

/* Retry a destroy that says SP_EPERM while a thread is still inside the
 * object, until the time end at most, and assert it then succeeds. */
static void destroy_when_left(int (*destroy)(void *), void *obj, int64_t end) {
  int rc;
  while ((rc = destroy(obj)) == SP_EPERM && t_now_ns() < end)
    t_yield();
  assert_rc(SP_OK, rc);
}

/* ---- sp_lock_t: a worker releases the lock the owner waits for ------ */

static void lock_release_job(void *p) {
  sp_lock_t *l = p;
  wait_bits(&l->state_, 2u); /* the owner sleeps: state 2 */
  expect(sp_lock_release(l) == SP_OK);
}

static void lock_release_round(fixture_t *f, long k) {
  (void)k;
  sp_lock_t *l = malloc(sizeof *l);
  assert_non_null(l);
  assert_rc(SP_OK, sp_lock_init(l));
  assert_rc(SP_OK, sp_lock_acquire(l, SP_FOREVER));
  post(&f->r, lock_release_job, l);
  assert_rc(SP_OK, sp_lock_acquire(l, SP_FOREVER)); /* the worker frees it */
  assert_rc(SP_OK, sp_lock_release(l));
  assert_rc(SP_OK, sp_lock_destroy(l));
  poison_free(l, sizeof *l);
  wait_done(&f->r);
}

static void test_lock_release_then_free(void **state) {
  (void)state;
  run_rounds(3000, lock_release_round);
}

/* The same after a timed-out acquire left the state at 2 (the issue's
 * exact trigger): the owner then takes the lock back with one release's
 * slow path racing its free. */
static void lock_timed_job(void *p) {
  sp_lock_t *l = p;
  /* 1 us: leaves state 2 */
  expect(sp_lock_acquire(l, 1000) == SP_TIMEDOUT);
}

static void lock_release_only_job(void *p) {
  expect(sp_lock_release(p) == SP_OK);
}

static void lock_timeout_round(fixture_t *f, long k) {
  (void)k;
  sp_lock_t *l = malloc(sizeof *l);
  assert_non_null(l);
  assert_rc(SP_OK, sp_lock_init(l));
  assert_rc(SP_OK, sp_lock_acquire(l, SP_FOREVER));
  post(&f->r, lock_timed_job, l);
  wait_done(&f->r);
  assert_int_equal(2, __atomic_load_n(&l->state_, __ATOMIC_SEQ_CST));
  post(&f->r, lock_release_only_job, l); /* slow release: old value 2 */
  while (sp_lock_acquire(l, 0) != SP_OK)
    t_yield();
  assert_rc(SP_OK, sp_lock_release(l));
  assert_rc(SP_OK, sp_lock_destroy(l));
  poison_free(l, sizeof *l);
  wait_done(&f->r);
}

static void test_lock_release_after_timeout_then_free(void **state) {
  (void)state;
  run_rounds(3000, lock_timeout_round);
}

/* ---- sp_mutex_t: the holder unlocks while the owner-to-be sleeps ---- */

typedef struct {
  sp_mutex_t m;
  int locked; /* atomic */
} mutex_box_t;

static void mutex_unlock_job(void *p) {
  mutex_box_t *b = p;
  expect(sp_mutex_lock(&b->m) == SP_OK);
  t_store(&b->locked, 1);
  wait_bits(&b->m.word_, 1u); /* the main thread sleeps on the word */
  expect(sp_mutex_unlock(&b->m) == SP_OK);
}

static void mutex_round(fixture_t *f, long k) {
  (void)k;
  mutex_box_t *b = calloc(1, sizeof *b); /* zero-filled: valid */
  assert_non_null(b);
  post(&f->r, mutex_unlock_job, b);
  while (!t_load(&b->locked))
    t_yield();
  assert_rc(SP_OK, sp_mutex_lock(&b->m));
  assert_rc(SP_OK, sp_mutex_unlock(&b->m));
  assert_rc(SP_OK, sp_mutex_destroy(&b->m));
  poison_free(b, sizeof *b);
  wait_done(&f->r);
}

static void test_mutex_unlock_then_free(void **state) {
  (void)state;
  run_rounds(3000, mutex_round);
}

/* ---- sp_cond_t through the mutex's deferred wake list ------------------
 * The owner waits on the condition; the worker signals (or broadcasts)
 * with the mutex held and unlocks, which posts the chosen waiter after
 * freeing the word (emulated backends) or signals the OS condition under
 * the mutex (native ones). The owner returns, destroys both, frees. */

typedef struct {
  sp_mutex_t m;
  sp_cond_t c;
  int go;   /* under m */
  int mode; /* 0 signal, 1 broadcast */
} cond_box_t;

static void cond_signal_job(void *p) {
  cond_box_t *b = p;
  if (sp_mutex_lock(&b->m) != SP_OK) {
    expect(0);
    return;
  }
  b->go = 1;
  int rc = b->mode ? sp_cond_broadcast(&b->c) : sp_cond_signal(&b->c);
  expect(rc == SP_OK);
  expect(sp_mutex_unlock(&b->m) == SP_OK);
}

static void cond_round(fixture_t *f, long k) {
  cond_box_t *b = calloc(1, sizeof *b);
  assert_non_null(b);
  b->mode = (int)(k & 1);
  assert_rc(SP_OK, sp_mutex_lock(&b->m));
  post(&f->r, cond_signal_job, b);
  while (!b->go)
    assert_rc(SP_OK, sp_cond_wait(&b->c, &b->m, SP_FOREVER));
  assert_rc(SP_OK, sp_mutex_unlock(&b->m));
  assert_rc(SP_OK, sp_cond_destroy(&b->c));
  /* The worker may still be inside sp_mutex_unlock: the mutex is free,
   * so destroy succeeds at once, and the unlock must not touch it. */
  while (sp_mutex_destroy(&b->m) != SP_OK)
    t_yield();
  poison_free(b, sizeof *b);
  wait_done(&f->r);
}

static void test_cond_signal_then_free(void **state) {
  (void)state;
  run_rounds(3000, cond_round);
}

/* ---- sp_rlock_t: the final release of a nested hold ------------------- */

typedef struct {
  sp_rlock_t r;
  int locked; /* atomic */
} rlock_box_t;

static void rlock_release_job(void *p) {
  rlock_box_t *b = p;
  expect(sp_rlock_acquire(&b->r, SP_FOREVER) == SP_OK &&
         sp_rlock_acquire(&b->r, SP_FOREVER) == SP_OK);
  t_store(&b->locked, 1);
  wait_bits(&b->r.word_, 1u);
  expect(sp_rlock_release(&b->r) == SP_OK && sp_rlock_release(&b->r) == SP_OK);
}

static void rlock_round(fixture_t *f, long k) {
  (void)k;
  rlock_box_t *b = calloc(1, sizeof *b);
  assert_non_null(b);
  post(&f->r, rlock_release_job, b);
  while (!t_load(&b->locked))
    t_yield();
  assert_rc(SP_OK, sp_rlock_acquire(&b->r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_release(&b->r));
  assert_rc(SP_OK, sp_rlock_destroy(&b->r));
  poison_free(b, sizeof *b);
  wait_done(&f->r);
}

static void test_rlock_release_then_free(void **state) {
  (void)state;
  run_rounds(3000, rlock_round);
}

/* ---- sp_sem_t, sp_event_t, sp_queue_t: release, set, put -------------- */

static void sem_release_job(void *p) {
  sp_sem_t *s = p;
  wait_count(&s->mu_, &s->cv_.nwaiters_); /* the owner waits */
  expect(sp_sem_release(s, 1) == SP_OK);
}

static void sem_round(fixture_t *f, long k) {
  (void)k;
  sp_sem_t *s = malloc(sizeof *s);
  assert_non_null(s);
  assert_rc(SP_OK, sp_sem_init(s, 0, 1));
  post(&f->r, sem_release_job, s);
  assert_rc(SP_OK, sp_sem_acquire(s, SP_FOREVER));
  while (sp_sem_destroy(s) != SP_OK) /* SP_EPERM while a waiter leaves */
    t_yield();
  poison_free(s, sizeof *s);
  wait_done(&f->r);
}

static void test_sem_release_then_free(void **state) {
  (void)state;
  run_rounds(3000, sem_round);
}

static void event_set_job(void *p) {
  sp_event_t *e = p;
  wait_count(&e->mu_, &e->cv_.nwaiters_);
  expect(sp_event_set(e) == SP_OK);
}

static void event_round(fixture_t *f, long k) {
  (void)k;
  sp_event_t *e = calloc(1, sizeof *e); /* zero-filled: a clear event */
  assert_non_null(e);
  post(&f->r, event_set_job, e);
  assert_rc(SP_OK, sp_event_wait(e, SP_FOREVER));
  assert_rc(SP_OK, sp_event_destroy(e));
  poison_free(e, sizeof *e);
  wait_done(&f->r);
}

static void test_event_set_then_free(void **state) {
  (void)state;
  run_rounds(3000, event_round);
}

static void queue_put_job(void *p) {
  sp_queue_t *q = p;
  wait_count(&q->mu_, &q->ngetters_); /* a blocked getter */
  expect(sp_queue_put(q, q, SP_FOREVER) == SP_OK);
}

static void queue_round(fixture_t *f, long k) {
  (void)k;
  sp_queue_t *q = calloc(1, sizeof *q); /* zero-filled: unbounded */
  assert_non_null(q);
  void *item = NULL;
  post(&f->r, queue_put_job, q);
  assert_rc(SP_OK, sp_queue_get(q, &item, SP_FOREVER));
  assert_ptr_equal(q, item);
  assert_rc(SP_OK, sp_queue_task_done(q));
  assert_rc(SP_OK, sp_queue_destroy(q));
  poison_free(q, sizeof *q);
  wait_done(&f->r);
}

static void test_queue_put_then_free(void **state) {
  (void)state;
  run_rounds(3000, queue_round);
}

/* ---- sp_barrier_t: the last party releases, the owner frees ---------- */

static void barrier_job(void *p) {
  sp_barrier_t *b = p;
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sp_barrier_n_waiting(b) != 1) { /* the owner waits */
    if (t_now_ns() > end)
      fail_msg("the owner never blocked");
    t_yield();
  }
  expect(sp_barrier_wait(b, SP_FOREVER, NULL) == SP_OK);
}

static void barrier_round(fixture_t *f, long k) {
  (void)k;
  sp_barrier_t *b = malloc(sizeof *b);
  assert_non_null(b);
  assert_rc(SP_OK, sp_barrier_init(b, 2, NULL, NULL));
  post(&f->r, barrier_job, b);
  assert_rc(SP_OK, sp_barrier_wait(b, SP_FOREVER, NULL));
  while (sp_barrier_destroy(b) != SP_OK) /* EPERM until the worker left */
    t_yield();
  poison_free(b, sizeof *b);
  wait_done(&f->r);
}

static void test_barrier_release_then_free(void **state) {
  (void)state;
  run_rounds(3000, barrier_round);
}

/* ---- sp_gil_t: a yield, while another thread takes and frees ---------
 * (The release of every policy has its own test in test_gil_api.c.) A
 * yield releases the lock and takes it back, so it touches the lock after
 * making it available by design; what keeps that safe is that the yielder
 * stays counted as a thread inside a call, so sp_gil_destroy says SP_EPERM
 * until it has returned. The worker holds the lock and yields once the
 * owner waits for it; the owner takes it, releases it and destroys it
 * (retrying SP_EPERM), poisons and frees it. Each policy in turn:
 *  - LEGACY (every yield releases): a timed-out acquire left the state
 *    word at 2, so the yield's release takes its slow path, where the
 *    release hook sleeps right after the lock became free; the owner,
 *    spinning on a try, takes it meanwhile. A yielder that is not counted
 *    lets the destroy succeed and then takes the freed lock back (ASan:
 *    heap-use-after-free in sp_legacy_trylock_; the bug this caught);
 *  - PRIORITY: the owner is queued, and the yield hands it the lock;
 *  - FAIR: the owner waits until it asks for a drop, and the yield drops.
 */

static const int gil_policies[3] = {SP_GIL_LEGACY, SP_GIL_PRIORITY,
                                    SP_GIL_FAIR};

static int gil_destroy_(void *g) {
  return sp_gil_destroy(g);
}

static int sem_destroy_(void *s) {
  return sp_sem_destroy(s);
}

typedef struct {
  sp_gil_t g;
  int policy;
  int holding; /* atomic: 1 worker holds, 2 the owner waits (or spins) */
} gil_box_t;

static void gil_yield_job(void *p) {
  gil_box_t *b = p;
  if (sp_gil_acquire(&b->g) != SP_OK) {
    expect(0);
    return;
  }
  t_store(&b->holding, 1);
  while (t_load(&b->holding) != 2)
    t_yield();
  /* PRIORITY: the owner is queued; FAIR: it asked for a drop. */
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (t_now_ns() < end &&
         ((b->policy == SP_GIL_PRIORITY &&
           __atomic_load_n(&b->g.state_, __ATOMIC_SEQ_CST) != 2) ||
          (b->policy == SP_GIL_FAIR &&
           !__atomic_load_n(&b->g.drop_request_, __ATOMIC_SEQ_CST))))
    t_yield();
  expect(sp_gil_yield(&b->g) == SP_OK); /* the call under test */
  expect(sp_gil_release(&b->g) == SP_OK);
}

static void gil_pause(void) {
  t_sleep_ns(20000);
}

static void gil_yield_round(fixture_t *f, long k) {
  gil_box_t *b = calloc(1, sizeof *b);
  assert_non_null(b);
  b->policy = gil_policies[k % 3];
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, b->policy));
  cfg.interval_ns = 50000; /* FAIR: the drop request comes soon */
  cfg.yield_skip = 1;      /* every yield is a check point */
  assert_rc(SP_OK, sp_gil_init(&b->g, &cfg));
  post(&f->r, gil_yield_job, b);
  while (!t_load(&b->holding))
    t_yield();
  int rc;
  if (b->policy == SP_GIL_LEGACY) {
    assert_rc(SP_TIMEDOUT, sp_gil_acquire_ex(&b->g, SP_GIL_IO, 1000));
    t_store(&b->holding, 2);
    while ((rc = sp_gil_acquire_ex(&b->g, SP_GIL_IO, 0)) == SP_BUSY)
      ;
  } else {
    t_store(&b->holding, 2);
    rc = sp_gil_acquire(&b->g);
  }
  assert_rc(SP_OK, rc);
  assert_rc(SP_OK, sp_gil_release(&b->g));
  destroy_when_left(gil_destroy_, &b->g, t_now_ns() + 10 * SP_NS_PER_S);
  poison_free(b, sizeof *b);
  wait_done(&f->r);
}

static void test_gil_yield_then_free(void **state) {
  (void)state;
  sp_gil_set_release_hook_(gil_pause);
  run_rounds(600, gil_yield_round); /* LEGACY rounds sleep in the hook */
  sp_gil_set_release_hook_(NULL);
}

/* A GIL-aware blocking call releases the GIL while it blocks and takes it
 * back before it returns: the caller is inside a call all along, so while
 * another thread holds, releases and tries to destroy the GIL, destroy says
 * SP_EPERM until the caller has returned (it said SP_OK before, and the
 * caller's re-acquire then met a destroyed lock, returning without the GIL;
 * or, freed, a use after free). Each policy; the owner frees at the end. */
typedef struct {
  sp_gil_t g;
  sp_sem_t s;
  int rc; /* the blocking call's result */
} gil_blk_box_t;

static void gil_blocking_job(void *p) {
  gil_blk_box_t *b = p;
  if (sp_gil_acquire(&b->g) != SP_OK) {
    expect(0);
    return;
  }
  b->rc = sp_gil_sem_acquire(&b->g, &b->s, SP_FOREVER);
  expect(sp_gil_held(&b->g) == 1 && sp_gil_release(&b->g) == SP_OK);
}

static void gil_blocking_round(fixture_t *f, long k) {
  gil_blk_box_t *b = calloc(1, sizeof *b);
  assert_non_null(b);
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, gil_policies[k % 3]));
  assert_rc(SP_OK, sp_gil_init(&b->g, &cfg));
  assert_rc(SP_OK, sp_sem_init(&b->s, 0, 0));
  post(&f->r, gil_blocking_job, b);
  /* blocked, GIL released */
  wait_count(&b->s.mu_, &b->s.cv_.nwaiters_);
  assert_rc(SP_OK, sp_gil_acquire(&b->g));
  assert_rc(SP_OK, sp_gil_release(&b->g));
  assert_rc(SP_EPERM, sp_gil_destroy(&b->g)); /* a thread is inside */
  assert_rc(SP_OK, sp_sem_release(&b->s, 1));
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S; /* for both destroys */
  destroy_when_left(gil_destroy_, &b->g, end);
  destroy_when_left(sem_destroy_, &b->s, end);
  wait_done(&f->r);
  assert_rc(SP_OK, b->rc);
  poison_free(b, sizeof *b);
}

static void test_gil_blocking_call_then_free(void **state) {
  (void)state;
  run_rounds(3000, gil_blocking_round);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_release_then_free),
      cmocka_unit_test(test_lock_release_after_timeout_then_free),
      cmocka_unit_test(test_mutex_unlock_then_free),
      cmocka_unit_test(test_cond_signal_then_free),
      cmocka_unit_test(test_rlock_release_then_free),
      cmocka_unit_test(test_sem_release_then_free),
      cmocka_unit_test(test_event_set_then_free),
      cmocka_unit_test(test_queue_put_then_free),
      cmocka_unit_test(test_barrier_release_then_free),
      cmocka_unit_test(test_gil_yield_then_free),
      cmocka_unit_test(test_gil_blocking_call_then_free),
  };
  return T_RUN("lifetime", tests);
}
