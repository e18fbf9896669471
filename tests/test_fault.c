/* The fault-injection seam (src/fault.h) and the error paths it reaches:
 * each site fails on the k-th call, the error reaches the caller, the
 * object is left as its header says (mutex held again after a failed
 * condition wait, values unchanged, nothing lost), and the next call works.
 * The full matrix over every primitive and GIL policy builds on this. */
#include "cond_pair.h"

#include "../src/test_hooks.h"

#include <string.h>

static int native_cond(void) {
  return !t_exact_wakeups(); /* "pthread", "win32": an OS condition */
}

static int teardown(void **state) {
  (void)state;
  sp_fault_clear_();
  return 0;
}

/* The seam's own contract, on the allocator site through the queue. */
static void test_seam_counts_and_fails_kth(void **state) {
  (void)state;
  sp_queue_t q = SP_QUEUE_INIT(0);
  sp_fault_set_(SP_FAULT_ALLOC_, 2);
  for (int i = 0; i < 8; i++) /* the first allocation: 8 slots */
    assert_rc(SP_OK, sp_queue_put(&q, NULL, 0));
  assert_int_equal(1, sp_fault_count_(SP_FAULT_ALLOC_));
  assert_rc(SP_ENOMEM, sp_queue_put(&q, NULL, 0)); /* the 2nd fails */
  assert_int_equal(8, sp_queue_size(&q));
  assert_rc(SP_OK, sp_queue_put(&q, NULL, 0)); /* the 3rd works */
  assert_int_equal(3, sp_fault_count_(SP_FAULT_ALLOC_));
  assert_int_equal(9, sp_queue_size(&q));
  /* From the k-th on. */
  sp_fault_set_from_(SP_FAULT_ALLOC_, 1);
  for (int i = 0; i < 7; i++) /* room for 16 */
    assert_rc(SP_OK, sp_queue_put(&q, NULL, 0));
  assert_rc(SP_ENOMEM, sp_queue_put(&q, NULL, 0));
  assert_rc(SP_ENOMEM, sp_queue_put(&q, NULL, 0));
  assert_int_equal(2, sp_fault_count_(SP_FAULT_ALLOC_));
  /* Cleared: nothing fails, nothing is counted. */
  sp_fault_clear_();
  assert_rc(SP_OK, sp_queue_put(&q, NULL, 0));
  assert_int_equal(17, sp_queue_size(&q));
  /* Counting only. */
  sp_fault_set_(SP_FAULT_ALLOC_, 0);
  for (int i = 0; i < 16; i++)
    assert_rc(SP_OK, sp_queue_put(&q, NULL, 0));
  assert_int_equal(1, sp_fault_count_(SP_FAULT_ALLOC_)); /* 32 -> 64 */
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* sp_cond_init's OS set-up (native backends only). */
static void test_cond_init_fails(void **state) {
  (void)state;
  sp_cond_t c;
  sp_fault_set_(SP_FAULT_COND_INIT_, 1);
  int rc = sp_cond_init(&c);
  if (native_cond()) {
    assert_rc(SP_ESYS, rc);
    assert_int_equal(1, sp_fault_count_(SP_FAULT_COND_INIT_));
    assert_rc(SP_OK, sp_cond_init(&c)); /* the next one works */
  } else {
    assert_rc(SP_OK, rc); /* the emulated condition needs no OS object */
    assert_int_equal(0, sp_fault_count_(SP_FAULT_COND_INIT_));
  }
  assert_rc(SP_OK, sp_cond_destroy(&c));
  /* The same set-up, on the first use of a zero-filled condition. */
  sp_cond_t z = SP_COND_INIT;
  sp_mutex_t m = SP_MUTEX_INIT;
  sp_fault_set_(SP_FAULT_COND_INIT_, 1);
  assert_rc(SP_OK, sp_mutex_lock(&m));
  rc = sp_cond_wait(&z, &m, 0);
  assert_rc(native_cond() ? SP_ESYS : SP_TIMEDOUT, rc);
  assert_rc(SP_EPERM, sp_mutex_lock(&m)); /* still held by the caller */
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&z, &m, 0)); /* set up now */
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_OK, sp_cond_destroy(&z));
  assert_rc(SP_OK, sp_mutex_destroy(&m));
}

/* First-use set-up of zero-filled objects, every backend. */
static void test_lazy_init_fails(void **state) {
  (void)state;
  sp_mutex_t m = SP_MUTEX_INIT;
  sp_cond_t c = SP_COND_INIT;
  sp_fault_set_(SP_FAULT_LAZY_INIT_, 1);
  assert_rc(SP_OK, sp_mutex_lock(&m));
  assert_rc(SP_ESYS, sp_cond_wait(&c, &m, SP_FOREVER)); /* did not wait */
  assert_int_equal(0, c.magic_);                        /* not set up */
  assert_rc(SP_EPERM, sp_mutex_trylock(&m));            /* still held */
  assert_rc(SP_TIMEDOUT, sp_cond_wait(&c, &m, 1000));
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_OK, sp_cond_destroy(&c));

  sp_sem_t s = SP_SEM_INIT(1, 0);
  sp_fault_set_(SP_FAULT_LAZY_INIT_, 1);
  assert_rc(SP_ESYS, sp_sem_acquire(&s, 0));
  assert_int_equal(1, sp_sem_value(&s)); /* unchanged; set up now */
  assert_rc(SP_OK, sp_sem_acquire(&s, 0));
  assert_rc(SP_OK, sp_sem_destroy(&s));

  sp_barrier_t b = SP_BARRIER_INIT(1, NULL, NULL);
  sp_fault_set_(SP_FAULT_LAZY_INIT_, 1);
  assert_rc(SP_ESYS, sp_barrier_wait(&b, 0, NULL));
  assert_rc(SP_OK, sp_barrier_wait(&b, 0, NULL));
  assert_int_equal(0, sp_barrier_broken(&b));
  assert_rc(SP_OK, sp_barrier_destroy(&b));

  sp_queue_t q = SP_QUEUE_INIT(0);
  void *item = &q;
  sp_fault_set_(SP_FAULT_LAZY_INIT_, 1);
  assert_rc(SP_ESYS, sp_queue_put(&q, item, 0));
  assert_rc(SP_OK, sp_queue_put(&q, item, 0));
  assert_int_equal(1, sp_queue_size(&q)); /* the failed put added nothing */
  assert_rc(SP_OK, sp_queue_destroy(&q));
}

/* The per-wait semaphore of the emulated condition: the wait fails before
 * it queues, with the mutex still held, and no signal is consumed. */
static void test_sema_init_fails_in_cond_wait(void **state) {
  (void)state;
  t_cond_pair s;
  memset(&s, 0, sizeof s);
  t_thread t = t_start(t_cond_waiter, &s); /* the good waiter */
  t_wait_cond_waiting(&s);
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  sp_fault_set_(SP_FAULT_SEMA_INIT_, 1);
  int rc = sp_cond_wait(&s.c, &s.m, 1000000);
  if (native_cond()) {
    /* No per-wait semaphore: the site is not on this path. Wake it. */
    assert_int_equal(0, sp_fault_count_(SP_FAULT_SEMA_INIT_));
    assert_true(rc == SP_OK || rc == SP_TIMEDOUT);
  } else {
    assert_rc(SP_ESYS, rc);
    assert_int_equal(1, sp_fault_count_(SP_FAULT_SEMA_INIT_));
  }
  assert_rc(SP_EPERM, sp_mutex_trylock(&s.m)); /* held again */
  s.go = 1;
  assert_rc(SP_OK, sp_cond_signal(&s.c)); /* reaches the good waiter */
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t);
  assert_rc(SP_OK, s.rc);
  assert_rc(SP_OK, sp_cond_destroy(&s.c));
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

/* For every k along a scenario: a producer releases units one at a time to
 * a consumer that acquires them; the k-th per-wait semaphore fails. The
 * consumer sees SP_ESYS at most once (exactly when the k-th call happened)
 * and retries; no unit is lost or doubled. */
typedef struct {
  sp_sem_t s;
  int n;
  int got;
  int esys;
  int other;
} sem_run_t;

static void *consumer(void *p) {
  sem_run_t *r = p;
  while (r->got < r->n) {
    int rc = sp_sem_acquire(&r->s, SP_FOREVER);
    if (rc == SP_OK)
      r->got++;
    else if (rc == SP_ESYS)
      r->esys++;
    else
      r->other++;
  }
  return NULL;
}

static long run_sem_scenario(sem_run_t *r, long k) {
  memset(r, 0, sizeof *r);
  r->n = 40;
  assert_rc(SP_OK, sp_sem_init(&r->s, 0, 0));
  sp_fault_set_(SP_FAULT_SEMA_INIT_, k);
  t_thread t = t_start(consumer, r);
  for (int i = 0; i < r->n; i++) {
    if (i % 4 == 0)
      t_sleep_ns(200000); /* let the consumer sleep now and then */
    assert_rc(SP_OK, sp_sem_release(&r->s, 1));
  }
  t_join(t);
  long calls = sp_fault_count_(SP_FAULT_SEMA_INIT_);
  sp_fault_clear_();
  assert_int_equal(r->n, r->got);
  assert_int_equal(0, r->other);
  assert_int_equal(0, sp_sem_value(&r->s));
  assert_rc(SP_OK, sp_sem_destroy(&r->s));
  return calls;
}

static void test_sema_init_fails_every_k(void **state) {
  (void)state;
  sem_run_t r;
  long n = run_sem_scenario(&r, 0); /* count the calls */
  assert_int_equal(0, r.esys);
  if (native_cond())
    assert_int_equal(0, n); /* no per-wait semaphore on this backend */
  for (long k = 1; k <= n; k++) {
    long calls = run_sem_scenario(&r, k);
    assert_int_equal(calls >= k ? 1 : 0, r.esys);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_seam_counts_and_fails_kth, teardown),
      cmocka_unit_test_teardown(test_cond_init_fails, teardown),
      cmocka_unit_test_teardown(test_lazy_init_fails, teardown),
      cmocka_unit_test_teardown(test_sema_init_fails_in_cond_wait, teardown),
      cmocka_unit_test_teardown(test_sema_init_fails_every_k, teardown),
  };
  return T_RUN("fault", tests);
}
