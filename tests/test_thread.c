/* sp_thread_t and sleeping: start with an argument, join with a result
 * (pointer-sized on Windows too), detach, the calling thread's id, one
 * join per thread, joining oneself, every bad input, and sleeps that are
 * never short (POSIX: not even when signals interrupt them). */
#include "helpers.h"

#include <string.h>

#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#endif

static void *return_arg_plus_one(void *p) {
  return (char *)p + 1;
}

static void test_start_join_result(void **state) {
  (void)state;
  char buf[4];
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, return_arg_plus_one, buf));
  void *r = NULL;
  assert_rc(SP_OK, sp_thread_join(&t, &r));
  assert_ptr_equal(buf + 1, r);
  /* a NULL result pointer is allowed */
  assert_rc(SP_OK, sp_thread_start(&t, return_arg_plus_one, buf));
  assert_rc(SP_OK, sp_thread_join(&t, NULL));
}

/* A result that does not fit a 32-bit exit code comes back whole. */
static void *return_wide(void *p) {
  (void)p;
  return (void *)(~(uintptr_t)0 - 6);
}

static void test_result_is_pointer_sized(void **state) {
  (void)state;
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, return_wide, NULL));
  void *r = NULL;
  assert_rc(SP_OK, sp_thread_join(&t, &r));
  assert_true((uintptr_t)r == ~(uintptr_t)0 - 6);
}

/* Memory: the starter's writes are seen by the thread, the thread's writes
 * by the joiner (plain, non-atomic data: TSan checks the edges). */
typedef struct {
  int input[64];
  long sum;
  int output[64];
} work_t;

static void *sum_and_fill(void *p) {
  work_t *w = p;
  for (int i = 0; i < 64; i++) {
    w->sum += w->input[i];
    w->output[i] = w->input[i] * 2;
  }
  return &w->sum;
}

static void test_memory_is_published(void **state) {
  (void)state;
  enum { N = 16 };
  static work_t w[N];
  sp_thread_t t[N];
  for (int k = 0; k < N; k++) {
    memset(&w[k], 0, sizeof w[k]);
    for (int i = 0; i < 64; i++)
      w[k].input[i] = k * 100 + i;
    assert_rc(SP_OK, sp_thread_start(&t[k], sum_and_fill, &w[k]));
  }
  for (int k = 0; k < N; k++) {
    void *r = NULL;
    assert_rc(SP_OK, sp_thread_join(&t[k], &r));
    assert_ptr_equal(&w[k].sum, r);
    assert_int_equal(64 * k * 100 + 63 * 64 / 2, w[k].sum);
    for (int i = 0; i < 64; i++)
      assert_int_equal(2 * (k * 100 + i), w[k].output[i]);
  }
}

/* Ids: nonzero, stable within a thread, distinct among live threads. */
enum { NIDS = 16 };
typedef struct {
  int arrived; /* atomic */
  int leave;   /* atomic */
  uint64_t ids[NIDS];
  int stable[NIDS];
} ids_t;

typedef struct {
  ids_t *s;
  int i;
} id_arg_t;

static void *record_id(void *p) {
  id_arg_t *a = p;
  uint64_t id = sp_thread_self_id();
  a->s->ids[a->i] = id;
  t_inc(&a->s->arrived);
  /* stay alive until every thread has its id, so all are live at once */
  while (!t_load(&a->s->leave))
    t_yield();
  a->s->stable[a->i] = sp_thread_self_id() == id;
  return NULL;
}

static void test_self_id(void **state) {
  (void)state;
  static ids_t s;
  memset(&s, 0, sizeof s);
  id_arg_t args[NIDS];
  sp_thread_t t[NIDS];
  for (int i = 0; i < NIDS; i++) {
    args[i].s = &s;
    args[i].i = i;
    assert_rc(SP_OK, sp_thread_start(&t[i], record_id, &args[i]));
  }
  t_wait_for_count(&s.arrived, NIDS);
  t_store(&s.leave, 1);
  for (int i = 0; i < NIDS; i++)
    assert_rc(SP_OK, sp_thread_join(&t[i], NULL));
  uint64_t me = sp_thread_self_id();
  assert_true(me != 0);
  assert_true(me == sp_thread_self_id());
  for (int i = 0; i < NIDS; i++) {
    assert_true(s.ids[i] != 0);
    assert_true(s.ids[i] != me);
    assert_true(s.stable[i]);
    for (int j = 0; j < i; j++)
      assert_true(s.ids[i] != s.ids[j]);
  }
}

/* The library's owner checks use the same id: a mutex held by one thread
 * is not "held" by another. (A cheap consistency check of the documented
 * promise.) */
static void *try_unlock_other(void *p) {
  return (void *)(intptr_t)sp_mutex_unlock((sp_mutex_t *)p);
}

static void test_owner_checks_see_other_thread(void **state) {
  (void)state;
  sp_mutex_t m;
  assert_rc(SP_OK, sp_mutex_init(&m));
  assert_rc(SP_OK, sp_mutex_lock(&m));
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, try_unlock_other, &m));
  void *r = NULL;
  assert_rc(SP_OK, sp_thread_join(&t, &r));
  assert_rc(SP_EPERM, (int)(intptr_t)r);
  assert_rc(SP_OK, sp_mutex_unlock(&m));
  assert_rc(SP_OK, sp_mutex_destroy(&m));
}

static void *noop(void *p) {
  return p;
}

static void test_bad_input(void **state) {
  (void)state;
  sp_thread_t t;
  assert_rc(SP_EINVAL, sp_thread_start(NULL, noop, NULL));
  assert_rc(SP_EINVAL, sp_thread_start(&t, NULL, NULL));
  assert_rc(SP_EINVAL, sp_thread_join(&t, NULL)); /* failed start: none */
  assert_rc(SP_EINVAL, sp_thread_detach(&t));
  assert_rc(SP_EINVAL, sp_thread_join(NULL, NULL));
  assert_rc(SP_EINVAL, sp_thread_detach(NULL));
  sp_thread_t zero;
  memset(&zero, 0, sizeof zero);
  assert_rc(SP_EINVAL, sp_thread_join(&zero, NULL));
  assert_rc(SP_EINVAL, sp_thread_detach(&zero));
  /* joined: no more a thread */
  assert_rc(SP_OK, sp_thread_start(&t, noop, NULL));
  assert_rc(SP_OK, sp_thread_join(&t, NULL));
  assert_rc(SP_EINVAL, sp_thread_join(&t, NULL));
  assert_rc(SP_EINVAL, sp_thread_detach(&t));
  assert_rc(SP_EINVAL, sp_sleep_ns(-1));
  assert_rc(SP_EINVAL, sp_sleep_ns(SP_FOREVER));
  assert_rc(SP_EINVAL, sp_sleep_ns(INT64_MIN));
  assert_rc(SP_EINVAL, sp_sleep_until(-1));
  assert_rc(SP_EINVAL, sp_sleep_until(INT64_MIN));
}

/* A thread that joins itself gets SP_EPERM (not a deadlock) and stays
 * joinable. */
typedef struct {
  sp_thread_t t;
  int go;    /* atomic */
  int tried; /* atomic */
  int rc;
} self_join_t;

static void *join_myself(void *p) {
  self_join_t *s = p;
  t_wait_for_count(&s->go, 1);
  s->rc = sp_thread_join(&s->t, NULL);
  t_store(&s->tried, 1);
  return NULL;
}

static void test_join_self(void **state) {
  (void)state;
  static self_join_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_thread_start(&s.t, join_myself, &s));
  t_store(&s.go, 1);
  t_wait_for_count(&s.tried, 1); /* then join it from here */
  assert_rc(SP_OK, sp_thread_join(&s.t, NULL));
  assert_rc(SP_EPERM, s.rc);
}

/* Two threads join the same handle: exactly one succeeds. */
typedef struct {
  sp_thread_t target;
  sp_lock_t hold; /* the target runs until this is released */
  int started;    /* atomic */
  int rc[2];
} race_t;

static void *wait_for_release(void *p) {
  race_t *s = p;
  assert_rc(SP_OK, sp_lock_acquire(&s->hold, SP_FOREVER));
  assert_rc(SP_OK, sp_lock_release(&s->hold));
  return (void *)s;
}

static void *joiner(void *p) {
  race_t *s = p;
  int i = t_inc(&s->started) - 1;
  s->rc[i] = sp_thread_join(&s->target, NULL);
  return NULL;
}

static void test_concurrent_joins(void **state) {
  (void)state;
  long iters = t_iters(50);
  for (long it = 0; it < iters; it++) {
    static race_t s;
    memset(&s, 0, sizeof s);
    assert_rc(SP_OK, sp_lock_init(&s.hold));
    assert_rc(SP_OK, sp_lock_acquire(&s.hold, SP_FOREVER));
    assert_rc(SP_OK, sp_thread_start(&s.target, wait_for_release, &s));
    sp_thread_t j[2];
    assert_rc(SP_OK, sp_thread_start(&j[0], joiner, &s));
    assert_rc(SP_OK, sp_thread_start(&j[1], joiner, &s));
    if (it % 2 == 0)
      t_wait_for_count(&s.started, 2);
    assert_rc(SP_OK, sp_lock_release(&s.hold));
    assert_rc(SP_OK, sp_thread_join(&j[0], NULL));
    assert_rc(SP_OK, sp_thread_join(&j[1], NULL));
    assert_true((s.rc[0] == SP_OK && s.rc[1] == SP_EINVAL) ||
                (s.rc[0] == SP_EINVAL && s.rc[1] == SP_OK));
    assert_rc(SP_OK, sp_lock_destroy(&s.hold));
  }
}

/* Detached threads run to the end by themselves, whether the detach comes
 * before or after they returned. */
typedef struct {
  sp_lock_t hold;
  int done; /* atomic */
} detach_t;

static void *run_then_count(void *p) {
  detach_t *s = p;
  assert_rc(SP_OK, sp_lock_acquire(&s->hold, SP_FOREVER));
  assert_rc(SP_OK, sp_lock_release(&s->hold));
  t_inc(&s->done);
  return NULL;
}

static void test_detach(void **state) {
  (void)state;
  static detach_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_lock_init(&s.hold));
  /* detached while running */
  assert_rc(SP_OK, sp_lock_acquire(&s.hold, SP_FOREVER));
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, run_then_count, &s));
  assert_rc(SP_OK, sp_thread_detach(&t));
  assert_rc(SP_EINVAL, sp_thread_detach(&t));
  assert_rc(SP_EINVAL, sp_thread_join(&t, NULL));
  assert_int_equal(0, t_load(&s.done));
  assert_rc(SP_OK, sp_lock_release(&s.hold));
  t_wait_for_count(&s.done, 1);
  /* detached after it returned */
  assert_rc(SP_OK, sp_thread_start(&t, run_then_count, &s));
  t_wait_for_count(&s.done, 2);
  t_sleep_ns(1 * MS); /* let it get past its return */
  assert_rc(SP_OK, sp_thread_detach(&t));
  /* Give the detached threads time to finish exiting before the lock goes
   * away (they touch it no more, but keep the test quiet). */
  t_sleep_ns(5 * MS);
  assert_rc(SP_OK, sp_lock_destroy(&s.hold));
}

/* Many short threads, two at a time, bounded by iterations and time. */
static void *add_one(void *p) {
  return (void *)((uintptr_t)p + 1);
}

static void test_start_join_stress(void **state) {
  (void)state;
  long iters = t_iters(2000);
  int64_t deadline = t_stress_deadline();
  long done = 0;
  for (long i = 0; i < iters && t_now_ns() < deadline; i++) {
    sp_thread_t a, b;
    assert_rc(SP_OK, sp_thread_start(&a, add_one, (void *)(uintptr_t)i));
    assert_rc(SP_OK, sp_thread_start(&b, add_one, (void *)(uintptr_t)(2 * i)));
    void *ra = NULL, *rb = NULL;
    assert_rc(SP_OK, sp_thread_join(&b, &rb));
    assert_rc(SP_OK, sp_thread_join(&a, &ra));
    assert_true((uintptr_t)ra == (uintptr_t)i + 1);
    assert_true((uintptr_t)rb == (uintptr_t)(2 * i) + 1);
    done++;
  }
  assert_true(done > 0);
}

/* Sleeps are never short; 0 yields; a deadline in the past returns. */
static void test_sleep_never_early(void **state) {
  (void)state;
  const int64_t lens[] = {1, 1000, 100000, 1 * MS, 3 * MS, 20 * MS};
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
    int64_t t0 = t_now_ns();
    assert_rc(SP_OK, sp_sleep_ns(lens[i]));
    int64_t slept = t_now_ns() - t0;
    if (slept < lens[i])
      fail_msg("sp_sleep_ns(%lld) returned after %lld ns", (long long)lens[i],
               (long long)slept);
  }
  assert_rc(SP_OK, sp_sleep_ns(0));
  for (int i = 0; i < 5; i++) {
    int64_t deadline = t_now_ns() + (i + 1) * MS;
    assert_rc(SP_OK, sp_sleep_until(deadline));
    assert_true(t_now_ns() >= deadline);
  }
  assert_rc(SP_OK, sp_sleep_until(0));
  assert_rc(SP_OK, sp_sleep_until(t_now_ns() - 1));
}

/* A periodic loop on sp_sleep_until keeps its phase: after n periods it
 * has slept at least n periods, counted from the first deadline. */
static void test_sleep_until_periodic(void **state) {
  (void)state;
  const int64_t period = 2 * MS;
  int64_t start = t_now_ns(), next = start;
  for (int i = 0; i < 10; i++) {
    next += period;
    assert_rc(SP_OK, sp_sleep_until(next));
  }
  assert_true(t_now_ns() - start >= 10 * period);
}

#ifndef _WIN32
/* POSIX: a signal handler installed without SA_RESTART interrupts the
 * sleeping thread many times; the sleep still lasts its full length. */
static volatile sig_atomic_t interrupts;
static void on_usr1(int sig) {
  (void)sig;
  interrupts++;
}

typedef struct {
  pthread_t tid;
  int64_t len;  /* the sleep's length */
  int sleeping; /* atomic */
  int done;     /* atomic */
  int64_t slept;
  int rc;
} sig_sleep_t;

static void *long_sleeper(void *p) {
  sig_sleep_t *s = p;
  s->tid = pthread_self();
  t_inc(&s->sleeping);
  int64_t t0 = t_now_ns();
  s->rc = sp_sleep_ns(s->len);
  s->slept = t_now_ns() - t0;
  t_store(&s->done, 1);
  return NULL;
}

static void test_sleep_survives_signals(void **state) {
  (void)state;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART */
  assert_int_equal(0, sigaction(SIGUSR1, &sa, &old));
  /* Signal the sleeper every 2 ms while it sleeps; if this thread could not
   * send one before the sleep ended (a loaded machine), sleep longer. */
  for (int64_t len = 100 * MS;; len *= 2) {
    if (len > 5 * SP_NS_PER_S)
      fail_msg("no signal could be sent during a sleep");
    interrupts = 0;
    static sig_sleep_t s;
    memset(&s, 0, sizeof s);
    s.len = len;
    sp_thread_t t;
    assert_rc(SP_OK, sp_thread_start(&t, long_sleeper, &s));
    t_wait_for_count(&s.sleeping, 1);
    int sent = 0;
    while (!t_load(&s.done)) {
      t_sleep_ns(2 * MS);
      if (!t_load(&s.done) && sent < 30) {
        assert_int_equal(0, pthread_kill(s.tid, SIGUSR1));
        sent++;
      }
    }
    assert_rc(SP_OK, sp_thread_join(&t, NULL));
    assert_rc(SP_OK, s.rc);
    assert_true(s.slept >= len); /* never short, signals or not */
    if (sent == 0)
      continue;
    assert_true(interrupts > 0);
    break;
  }
  assert_int_equal(0, sigaction(SIGUSR1, &old, NULL));
}
#endif

/* sp_thread_start_ex: threads with a small stack can use it, and many of
 * them are alive at once: 600 threads with the 8 MiB default would need
 * 4.7 GiB, more than a 32-bit process has (the i386 stage). Bad input as
 * sp_thread_start, and an impossible size is refused, not a crash. */
#define SMALL_STACK_THREADS 600
static int small_alive;
static sp_event_t small_go = SP_EVENT_INIT;

static void *use_small_stack(void *p) {
  volatile unsigned char buf[64 * 1024];
  for (size_t i = 0; i < sizeof buf; i += 512)
    buf[i] = (unsigned char)i;
  t_inc(&small_alive);
  if (sp_event_wait(&small_go, SP_FOREVER) != SP_OK)
    return NULL;
  return (void *)(uintptr_t)(buf[512] + (uintptr_t)p);
}

static void test_start_ex_small_stacks(void **state) {
  (void)state;
  static sp_thread_t t[SMALL_STACK_THREADS];
  for (int i = 0; i < SMALL_STACK_THREADS; i++)
    assert_rc(SP_OK, sp_thread_start_ex(&t[i], use_small_stack,
                                        (void *)(uintptr_t)i, 256 * 1024));
  t_wait_for_count(&small_alive, SMALL_STACK_THREADS);
  assert_rc(SP_OK, sp_event_set(&small_go));
  for (int i = 0; i < SMALL_STACK_THREADS; i++) {
    void *r = NULL;
    assert_rc(SP_OK, sp_thread_join(&t[i], &r));
    assert_true((uintptr_t)r == (uintptr_t)i); /* buf[512] == 0 */
  }
  /* 0 is the default stack; a size below the minimum is rounded up (the
   * argument is a real buffer: NULL + 1 is undefined, UBSan's finding) */
  sp_thread_t u;
  char arg[2];
  void *r = NULL;
  assert_rc(SP_OK, sp_thread_start_ex(&u, return_arg_plus_one, arg, 0));
  assert_rc(SP_OK, sp_thread_join(&u, &r));
  assert_ptr_equal(arg + 1, r);
  assert_rc(SP_OK, sp_thread_start_ex(&u, return_arg_plus_one, arg, 1));
  assert_rc(SP_OK, sp_thread_join(&u, NULL));
  assert_rc(SP_EINVAL, sp_thread_start_ex(NULL, return_arg_plus_one, arg, 0));
  assert_rc(SP_EINVAL, sp_thread_start_ex(&u, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_thread_join(&u, NULL));
  int rc = sp_thread_start_ex(&u, return_arg_plus_one, arg, SIZE_MAX);
  assert_true(rc == SP_ENOMEM || rc == SP_ESYS);
  assert_rc(SP_EINVAL, sp_thread_join(&u, NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_join_result),
      cmocka_unit_test(test_result_is_pointer_sized),
      cmocka_unit_test(test_memory_is_published),
      cmocka_unit_test(test_self_id),
      cmocka_unit_test(test_owner_checks_see_other_thread),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_join_self),
      cmocka_unit_test(test_concurrent_joins),
      cmocka_unit_test(test_detach),
      cmocka_unit_test(test_start_join_stress),
      cmocka_unit_test(test_start_ex_small_stacks),
      cmocka_unit_test(test_sleep_never_early),
      cmocka_unit_test(test_sleep_until_periodic),
#ifndef _WIN32
      cmocka_unit_test(test_sleep_survives_signals),
#endif
  };
  return T_RUN("thread", tests);
}
