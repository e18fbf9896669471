/* Every blocking call sleeps while it waits; it neither polls nor spins,
 * whatever its timeout: a short one, or a far finite one (beyond a 32-bit
 * time_t, beyond Windows' longest single wait, or saturating to "forever").
 * Counted in events, through the fault seam's sleep counter
 * (SP_FAULT_SLEEP_, src/fault.h: one count per OS call that puts a thread
 * to sleep), not in wall-clock time: a waiter that is asleep adds no count
 * while the test watches it, one that polls (musl's 10 ms sem_timedwait
 * slices, issue 16) adds one per slice, and one whose deadline wrapped into
 * the past (a 32-bit time_t) adds thousands.
 *
 * For each primitive: a waiter thread blocks on an object the test keeps
 * unavailable; the test waits until the waiter has gone to sleep (the count
 * reached 1), watches it for SP_WATCH_NS_ (sleeping itself, outside the
 * library), checks the count did not grow by more than SP_SLACK_ (spurious
 * returns the platform may make), then makes the object available and
 * checks the waiter got it. With a short timeout and nobody releasing, the
 * waiter returns SP_TIMEDOUT after at most SP_TIMED_SLEEPS_ sleeps. */
#include "helpers.h"

#include "../src/test_hooks.h"

/* How long the test watches a sleeping waiter: long enough for a 10 ms
 * poll to show ten times, or a spin thousands of times. */
#define SP_WATCH_NS_ (100 * MS)
/* Sleeps a correct wait may add while watched: none; a spurious return
 * (which every platform may make, rarely) is allowed twice. */
#define SP_SLACK_ 2
/* Sleeps a short timed wait may make: one; Win32 waits, which may end a
 * timer tick early and are then repeated, two or three. */
#define SP_TIMED_SLEEPS_ 4

typedef struct wctx {
  sp_mutex_t m;
  sp_cond_t c;
  sp_lock_t l;
  sp_rlock_t r;
  sp_sem_t s;
  sp_event_t e;
  sp_barrier_t b;
  sp_queue_t q;
  sp_gil_t g[2]; /* PRIORITY, LEGACY */
  int flag;      /* cond: the predicate (under m) */
  int64_t timeout;
  int rc;   /* the waiter's result */
  int done; /* atomic */
} wctx;

typedef struct wcase {
  const char *name;
  void (*hold)(wctx *);    /* make the object unavailable */
  int (*wait)(wctx *);     /* the waiter's blocking call (with x->timeout) */
  void (*release)(wctx *); /* make it available to the waiter */
} wcase;

/* ---- the primitives -------------------------------------------------- */

static void mutex_hold(wctx *x) {
  assert_rc(SP_OK, sp_mutex_lock(&x->m));
}
static int mutex_wait(wctx *x) {
  int rc = sp_mutex_timedlock(&x->m, x->timeout);
  if (rc == SP_OK)
    assert_rc(SP_OK, sp_mutex_unlock(&x->m));
  return rc;
}
static void mutex_release(wctx *x) {
  assert_rc(SP_OK, sp_mutex_unlock(&x->m));
}

static void lock_hold(wctx *x) {
  assert_rc(SP_OK, sp_lock_acquire(&x->l, SP_FOREVER));
}
static int lock_wait(wctx *x) {
  int rc = sp_lock_acquire(&x->l, x->timeout);
  if (rc == SP_OK)
    assert_rc(SP_OK, sp_lock_release(&x->l));
  return rc;
}
static void lock_release(wctx *x) {
  assert_rc(SP_OK, sp_lock_release(&x->l));
}

static void rlock_hold(wctx *x) {
  assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
}
static int rlock_wait(wctx *x) {
  int rc = sp_rlock_acquire(&x->r, x->timeout);
  if (rc == SP_OK)
    assert_rc(SP_OK, sp_rlock_release(&x->r));
  return rc;
}
static void rlock_release(wctx *x) {
  assert_rc(SP_OK, sp_rlock_release(&x->r));
}

static void nothing(wctx *x) {
  (void)x;
}

static int sem_wait_(wctx *x) {
  return sp_sem_acquire(&x->s, x->timeout);
}
static void sem_release_(wctx *x) {
  assert_rc(SP_OK, sp_sem_release(&x->s, 1));
}

static int cond_wait_(wctx *x) {
  assert_rc(SP_OK, sp_mutex_lock(&x->m));
  int rc = SP_OK;
  while (rc == SP_OK && !x->flag)
    rc = sp_cond_wait(&x->c, &x->m, x->timeout);
  assert_rc(SP_OK, sp_mutex_unlock(&x->m));
  return rc;
}
static void cond_release(wctx *x) {
  assert_rc(SP_OK, sp_mutex_lock(&x->m));
  x->flag = 1;
  assert_rc(SP_OK, sp_cond_signal(&x->c));
  assert_rc(SP_OK, sp_mutex_unlock(&x->m));
}

static int event_wait_(wctx *x) {
  return sp_event_wait(&x->e, x->timeout);
}
static void event_release(wctx *x) {
  assert_rc(SP_OK, sp_event_set(&x->e));
}

static int barrier_wait_(wctx *x) {
  return sp_barrier_wait(&x->b, x->timeout, NULL);
}
static void barrier_release(wctx *x) {
  assert_rc(SP_OK, sp_barrier_wait(&x->b, SP_FOREVER, NULL));
}

static int queue_wait(wctx *x) {
  void *item = NULL;
  int rc = sp_queue_get(&x->q, &item, x->timeout);
  if (rc == SP_OK)
    assert_ptr_equal(x, item);
  return rc;
}
static void queue_release(wctx *x) {
  assert_rc(SP_OK, sp_queue_put(&x->q, x, SP_FOREVER));
}

/* The interpreter lock, held by the test thread; the waiter acquires it
 * as a CPU thread. (FAIR is left out: its waiters wake every interval_ns
 * to ask the holder to drop, by design, as CPython's do.) */
static void gil_hold(sp_gil_t *g) {
  assert_rc(SP_OK, sp_gil_acquire(g));
}
static int gil_wait(sp_gil_t *g, int64_t timeout) {
  int rc = sp_gil_acquire_ex(g, SP_GIL_CPU, timeout);
  if (rc == SP_OK)
    assert_rc(SP_OK, sp_gil_release(g));
  return rc;
}
static void gil_prio_hold(wctx *x) {
  gil_hold(&x->g[0]);
}
static int gil_prio_wait(wctx *x) {
  return gil_wait(&x->g[0], x->timeout);
}
static void gil_prio_release(wctx *x) {
  assert_rc(SP_OK, sp_gil_release(&x->g[0]));
}
static void gil_legacy_hold(wctx *x) {
  gil_hold(&x->g[1]);
}
static int gil_legacy_wait(wctx *x) {
  return gil_wait(&x->g[1], x->timeout);
}
static void gil_legacy_release(wctx *x) {
  assert_rc(SP_OK, sp_gil_release(&x->g[1]));
}

static const wcase cases[] = {
    {"mutex", mutex_hold, mutex_wait, mutex_release},
    {"lock", lock_hold, lock_wait, lock_release},
    {"rlock", rlock_hold, rlock_wait, rlock_release},
    {"semaphore", nothing, sem_wait_, sem_release_},
    {"condition", nothing, cond_wait_, cond_release},
    {"event", nothing, event_wait_, event_release},
    {"barrier", nothing, barrier_wait_, barrier_release},
    {"queue", nothing, queue_wait, queue_release},
    {"gil (PRIORITY)", gil_prio_hold, gil_prio_wait, gil_prio_release},
    {"gil (LEGACY)", gil_legacy_hold, gil_legacy_wait, gil_legacy_release},
};

static void wctx_init(wctx *x, int64_t timeout) {
  assert_rc(SP_OK, sp_mutex_init(&x->m));
  assert_rc(SP_OK, sp_cond_init(&x->c));
  assert_rc(SP_OK, sp_lock_init(&x->l));
  assert_rc(SP_OK, sp_rlock_init(&x->r));
  assert_rc(SP_OK, sp_sem_init(&x->s, 0, 0));
  assert_rc(SP_OK, sp_event_init(&x->e));
  assert_rc(SP_OK, sp_barrier_init(&x->b, 2, NULL, NULL));
  assert_rc(SP_OK, sp_queue_init(&x->q, 0));
  sp_gil_config cfg;
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_PRIORITY));
  assert_rc(SP_OK, sp_gil_init(&x->g[0], &cfg));
  assert_rc(SP_OK, sp_gil_config_default(&cfg, SP_GIL_LEGACY));
  assert_rc(SP_OK, sp_gil_init(&x->g[1], &cfg));
  x->flag = 0;
  x->timeout = timeout;
  x->rc = 99;
  t_store(&x->done, 0);
}

static void wctx_destroy(wctx *x) {
  assert_rc(SP_OK, sp_gil_destroy(&x->g[1]));
  assert_rc(SP_OK, sp_gil_destroy(&x->g[0]));
  assert_rc(SP_OK, sp_queue_destroy(&x->q));
  assert_rc(SP_OK, sp_barrier_destroy(&x->b));
  assert_rc(SP_OK, sp_event_destroy(&x->e));
  assert_rc(SP_OK, sp_sem_destroy(&x->s));
  assert_rc(SP_OK, sp_rlock_destroy(&x->r));
  assert_rc(SP_OK, sp_lock_destroy(&x->l));
  assert_rc(SP_OK, sp_cond_destroy(&x->c));
  assert_rc(SP_OK, sp_mutex_destroy(&x->m));
}

static const wcase *current;

static void *waiter_main(void *arg) {
  wctx *x = arg;
  x->rc = current->wait(x);
  t_store(&x->done, 1);
  return NULL;
}

static long sleeps(void) {
  return sp_fault_count_(SP_FAULT_SLEEP_);
}

/* Block a waiter with `timeout` on each primitive; it must sleep (once)
 * until released, then get the object. */
static void run_asleep(int64_t timeout) {
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    wctx x;
    current = &cases[k];
    wctx_init(&x, timeout);
    current->hold(&x);
    sp_fault_set_(SP_FAULT_SLEEP_, 0); /* count sleeps from now */
    t_thread t = t_start(waiter_main, &x);
    int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
    while (sleeps() < 1 && t_load(&x.done) == 0 && t_now_ns() < end)
      t_sleep_ns(MS / 2);
    long asleep = sleeps();
    if (asleep < 1 || t_load(&x.done))
      fail_msg("%s, timeout %lld ns: the waiter %s", current->name,
               (long long)timeout,
               t_load(&x.done) ? "returned without being released"
                               : "did not sleep within 10 s");
    t_sleep_ns(SP_WATCH_NS_);
    long watched = sleeps();
    int done = t_load(&x.done);
    current->release(&x);
    t_join(t);
    sp_fault_clear_();
    if (done)
      fail_msg("%s, timeout %lld ns: the waiter returned %s before it was "
               "released",
               current->name, (long long)timeout, sp_strerror(x.rc));
    if (watched - asleep > SP_SLACK_)
      fail_msg("%s, timeout %lld ns: %ld more sleeps in %lld ms while "
               "blocked: the wait polls or spins instead of sleeping",
               current->name, (long long)timeout, watched - asleep,
               (long long)(SP_WATCH_NS_ / MS));
    assert_rc(SP_OK, x.rc);
    wctx_destroy(&x);
  }
}

/* A timeout that puts the deadline 2^32 s ahead: in a 32-bit time_t the
 * deadline's seconds wrap to about "now", which made every wait time out at
 * once and the caller retry in a hot loop (issue 16, i386). */
static void test_far_timeout_wrapping_32bit_time_t(void **state) {
  (void)state;
  run_asleep((int64_t)4294967296 * SP_NS_PER_S);
}

/* About 146 years: finite, past any 32-bit time_t (clamped to 2038 there). */
static void test_far_timeout_146_years(void **state) {
  (void)state;
  run_asleep(INT64_MAX / 2);
}

/* 40 days: longer than one Win32 wait (about 24.8 days, capped and then
 * repeated). */
static void test_far_timeout_40_days(void **state) {
  (void)state;
  run_asleep((int64_t)40 * 24 * 3600 * SP_NS_PER_S);
}

/* The largest finite timeout: the deadline saturates to "never". */
static void test_far_timeout_saturating(void **state) {
  (void)state;
  run_asleep(INT64_MAX - 1);
}

/* SP_FOREVER, for comparison: one sleep. */
static void test_forever(void **state) {
  (void)state;
  run_asleep(SP_FOREVER);
}

/* A short timed wait that nobody ends: SP_TIMEDOUT, not early, after one
 * sleep (a few on Win32), not one per polling slice. */
static void test_short_timeout_sleeps_once(void **state) {
  (void)state;
  const int64_t timeout = 150 * MS;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    wctx x;
    current = &cases[k];
    wctx_init(&x, timeout);
    current->hold(&x);
    sp_fault_set_(SP_FAULT_SLEEP_, 0);
    int64_t t0 = t_now_ns();
    t_thread t = t_start(waiter_main, &x);
    t_join(t);
    int64_t elapsed = t_now_ns() - t0;
    long n = sleeps();
    sp_fault_clear_();
    if (x.rc != SP_TIMEDOUT)
      fail_msg("%s: %s, expected SP_TIMEDOUT", current->name,
               sp_strerror(x.rc));
    if (elapsed < timeout)
      fail_msg("%s: timed out after %lld ns, before its timeout", current->name,
               (long long)elapsed);
    if (n < 1 || n > SP_TIMED_SLEEPS_)
      fail_msg("%s: %ld sleeps for one %lld ms timed wait (expected 1 to "
               "%d): %s",
               current->name, n, (long long)(timeout / MS), SP_TIMED_SLEEPS_,
               n < 1 ? "it did not sleep" : "the wait polls");
    if (current->release == barrier_release)
      assert_rc(SP_OK, sp_barrier_reset(&x.b)); /* the timeout broke it */
    else if (current->hold != nothing)
      current->release(&x);
    wctx_destroy(&x);
  }
}

/* An injected spurious wake-up of a waiter's first sleep (the seam's
 * failing mode) neither ends the wait nor loses its wake-up: the waiter
 * sleeps again and still gets the object when it is released. */
static void test_spurious_wakeup_injected(void **state) {
  (void)state;
  const int64_t timeouts[] = {SP_FOREVER, 30 * SP_NS_PER_S};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    for (size_t i = 0; i < 2; i++) {
      wctx x;
      current = &cases[k];
      wctx_init(&x, timeouts[i]);
      current->hold(&x);
      sp_fault_set_(SP_FAULT_SLEEP_, 1); /* the first sleep returns at once */
      t_thread t = t_start(waiter_main, &x);
      int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
      while (sleeps() < 2 && t_load(&x.done) == 0 && t_now_ns() < end)
        t_sleep_ns(MS / 2);
      int done = t_load(&x.done);
      long n = sleeps();
      current->release(&x);
      t_join(t);
      sp_fault_clear_();
      if (done)
        fail_msg("%s: returned %s after an injected spurious wake-up",
                 current->name, sp_strerror(x.rc));
      if (n < 2)
        fail_msg("%s: did not sleep again after an injected spurious "
                 "wake-up (%ld sleeps)",
                 current->name, n);
      assert_rc(SP_OK, x.rc);
      wctx_destroy(&x);
    }
  }
}

#ifndef _WIN32
#include <limits.h>
#include <pthread.h>

/* musl gives a thread 128 KiB of stack by default (glibc: 8 MiB): every
 * blocking call works on a thread with half that (or the system's
 * minimum, if larger), so the library's frames fit musl's default with
 * room to spare for the caller's. */
static void test_small_stack(void **state) {
  (void)state;
  size_t size = 64 * 1024;
  if (size < (size_t)PTHREAD_STACK_MIN)
    size = (size_t)PTHREAD_STACK_MIN;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    wctx x;
    current = &cases[k];
    wctx_init(&x, 30 * SP_NS_PER_S);
    current->hold(&x);
    sp_fault_set_(SP_FAULT_SLEEP_, 0);
    pthread_attr_t a;
    pthread_t t;
    assert_int_equal(0, pthread_attr_init(&a));
    assert_int_equal(0, pthread_attr_setstacksize(&a, size));
    assert_int_equal(0, pthread_create(&t, &a, waiter_main, &x));
    pthread_attr_destroy(&a);
    int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
    while (sleeps() < 1 && t_now_ns() < end)
      t_sleep_ns(MS / 2);
    current->release(&x);
    assert_int_equal(0, pthread_join(t, NULL));
    sp_fault_clear_();
    assert_rc(SP_OK, x.rc);
    wctx_destroy(&x);
  }
}
#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forever),
      cmocka_unit_test(test_far_timeout_wrapping_32bit_time_t),
      cmocka_unit_test(test_far_timeout_146_years),
      cmocka_unit_test(test_far_timeout_40_days),
      cmocka_unit_test(test_far_timeout_saturating),
      cmocka_unit_test(test_short_timeout_sleeps_once),
      cmocka_unit_test(test_spurious_wakeup_injected),
#ifndef _WIN32
      cmocka_unit_test(test_small_stack),
#endif
  };
  return T_RUN("waits", tests);
}
