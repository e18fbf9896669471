/* The POSIX platform layer (src/unix/platform_impl.h, src/unix/platform.c)
 * against its contract (src/platform.h), below the public API: the
 * clamping of far deadlines to the C library's time_t, the wait on an
 * address, and both per-waiter semaphores (sem_t with sem_clockwait where
 * glibc has it, and the wait-on-address semaphore, the one musl uses),
 * whichever the build picked for sp_sema_*. Sleeps are counted through
 * the fault seam (SP_FAULT_SLEEP_): a timed wait is one sleep, not a poll.
 * Built twice: as is (futex(2) on Linux), and with SP_PARKING_LOT_, the
 * wait on an address of systems without a futex (a table of pthread
 * mutexes and conditions), which no CI platform uses otherwise. */
#include "helpers.h"

#include "platform.h"

#include <limits.h>

static long sleeps(void) {
  return sp_fault_count_(SP_FAULT_SLEEP_);
}

/* Poll (outside the library) until `n` sleeps were counted, for up to 10 s. */
static void wait_for_sleeps(long n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (sleeps() < n) {
    if (t_now_ns() > end)
      fail_msg("no sleep within 10 s (%ld of %ld)", sleeps(), n);
    t_sleep_ns(MS / 2);
  }
}

/* ---- clock, thread id, time_t --------------------------------------- */

static void test_clock(void **state) {
  (void)state;
  int64_t prev = sp_now_ns_();
  for (int i = 0; i < 100000; i++) {
    int64_t now = sp_now_ns_();
    if (now < prev)
      fail_msg("clock went back: %lld then %lld", (long long)prev,
               (long long)now);
    prev = now;
  }
}

static void *thread_id_main(void *arg) {
  *(uintptr_t *)arg = sp_thread_id_();
  return NULL;
}

/* Nonzero, stable, a multiple of 4 below 2^32, distinct between threads. */
static void test_thread_id(void **state) {
  (void)state;
  uintptr_t self = sp_thread_id_(), other = 0;
  assert_true(self != 0);
  assert_true(sp_thread_id_() == self);
  assert_int_equal(0, self & 3);
  assert_true(self <= UINT32_MAX);
  t_join(t_start(thread_id_main, &other));
  assert_true(other != 0 && other != self);
  assert_int_equal(0, other & 3);
}

/* An absolute time for the OS: exact where time_t holds it; a far one
 * clamped to what a 32-bit time_t holds (never wrapped into the past); a
 * negative one is 0 (a deadline already passed). */
static void test_timespec_clamp(void **state) {
  (void)state;
  struct timespec ts = sp_timespec_(5 * SP_NS_PER_S + 7);
  assert_true(ts.tv_sec == 5 && ts.tv_nsec == 7);
  ts = sp_timespec_(-1);
  assert_true(ts.tv_sec == 0 && ts.tv_nsec == 0);
  ts = sp_timespec_(INT64_MIN);
  assert_true(ts.tv_sec == 0 && ts.tv_nsec == 0);
  const int64_t far[] = {(int64_t)INT32_MAX * SP_NS_PER_S,
                         (int64_t)4294967296 * SP_NS_PER_S + 5, INT64_MAX};
  for (size_t k = 0; k < sizeof far / sizeof far[0]; k++) {
    ts = sp_timespec_(far[k]);
    if (sizeof(time_t) < sizeof(int64_t))
      assert_true(ts.tv_sec == (time_t)(INT32_MAX - 1));
    else
      assert_true((int64_t)ts.tv_sec == far[k] / SP_NS_PER_S);
    assert_true(ts.tv_sec > 0 && ts.tv_nsec >= 0 && ts.tv_nsec < SP_NS_PER_S);
  }
}

/* ---- wait on an address --------------------------------------------- */

struct waker {
  uint32_t *word;
  int64_t deadline;
  int rc;
  int done; /* atomic */
};

static void *futex_sleeper(void *arg) {
  struct waker *w = arg;
  int rc;
  while ((rc = sp_futex_wait_(w->word, 0, w->deadline)) == SP_OK &&
         __atomic_load_n(w->word, __ATOMIC_ACQUIRE) == 0) {
  }
  w->rc = rc;
  t_store(&w->done, 1);
  return NULL;
}

/* A value mismatch returns at once; a timeout is reported only once the
 * deadline has passed, after one sleep; a deadline in the past is a poll. */
static void test_futex_timeout(void **state) {
  (void)state;
  uint32_t word = 7;
  sp_fault_set_(SP_FAULT_SLEEP_, 0);
  assert_rc(SP_OK, sp_futex_wait_(&word, 8, SP_NEVER_)); /* mismatch */
  assert_rc(SP_TIMEDOUT, sp_futex_wait_(&word, 7, INT64_MIN));
  assert_rc(SP_TIMEDOUT, sp_futex_wait_(&word, 7, sp_now_ns_() - 1));
  const int64_t tos[] = {1, 1000, MS, 30 * MS};
  for (size_t k = 0; k < sizeof tos / sizeof tos[0]; k++) {
    sp_fault_set_(SP_FAULT_SLEEP_, 0);
    int64_t deadline = sp_now_ns_() + tos[k];
    int rc, spurious = 0;
    while ((rc = sp_futex_wait_(&word, 7, deadline)) == SP_OK)
      if (++spurious > 2)
        fail_msg("timeout %lld ns: no SP_TIMEDOUT", (long long)tos[k]);
    assert_rc(SP_TIMEDOUT, rc);
    assert_true(sp_now_ns_() >= deadline);
    assert_true(sleeps() <= 3);
  }
  sp_fault_clear_();
}

/* A sleeper with a far finite deadline (past a 32-bit time_t, or wrapping
 * one) sleeps once until woken, then sees the new value. */
static void test_futex_far_deadline_sleeps(void **state) {
  (void)state;
  const int64_t far[] = {SP_NEVER_, SP_NEVER_ - 1,
                         sp_now_ns_() + (int64_t)4294967296 * SP_NS_PER_S,
                         INT64_MAX / 2};
  for (size_t k = 0; k < sizeof far / sizeof far[0]; k++) {
    uint32_t word = 0;
    struct waker w = {&word, far[k], 99, 0};
    sp_fault_set_(SP_FAULT_SLEEP_, 0);
    t_thread t = t_start(futex_sleeper, &w);
    wait_for_sleeps(1);
    t_sleep_ns(50 * MS);
    long n = sleeps();
    assert_int_equal(0, t_load(&w.done));
    __atomic_store_n(&word, 1u, __ATOMIC_RELEASE);
    sp_futex_wake_(&word, 0);
    t_join(t);
    sp_fault_clear_();
    if (n > 3)
      fail_msg("deadline %lld: %ld sleeps in 50 ms: the wait spins",
               (long long)far[k], n);
    assert_rc(SP_OK, w.rc);
  }
}

/* wake(all) wakes every sleeper of the word. */
static void test_futex_wake_all(void **state) {
  (void)state;
  uint32_t word = 0;
  struct waker w[3];
  t_thread t[3];
  sp_fault_set_(SP_FAULT_SLEEP_, 0);
  for (int i = 0; i < 3; i++) {
    w[i] = (struct waker){&word, SP_NEVER_, 99, 0};
    t[i] = t_start(futex_sleeper, &w[i]);
  }
  wait_for_sleeps(3);
  __atomic_store_n(&word, 1u, __ATOMIC_RELEASE);
  sp_futex_wake_(&word, 1);
  for (int i = 0; i < 3; i++) {
    t_join(t[i]);
    assert_rc(SP_OK, w[i].rc);
  }
  sp_fault_clear_();
}

/* ---- the semaphores ----------------------------------------------------
 * Each check runs on the contract's sp_sema_* (whichever the build chose)
 * and on the wait-on-address semaphore sp_wsema_* directly. */
typedef struct sema_ops {
  const char *name;
  void *(*make)(void);
  void (*free_)(void *);
  int (*p)(void *, int64_t);
  void (*v)(void *);
} sema_ops;

static void *sema_make(void) {
  sp_sema_t_ *s = test_malloc(sizeof *s);
  assert_rc(SP_OK, sp_sema_init_(s));
  return s;
}
static void sema_free(void *s) {
  sp_sema_destroy_(s);
  test_free(s);
}
static int sema_p(void *s, int64_t d) {
  return sp_sema_p_(s, d);
}
static void sema_v(void *s) {
  sp_sema_v_(s);
}
static void *wsema_make(void) {
  sp_wsema_t_ *s = test_malloc(sizeof *s);
  sp_wsema_init_(s);
  return s;
}
static void wsema_free(void *s) {
  assert_int_equal(0, ((sp_wsema_t_ *)s)->word); /* count 0, no sleeper */
  test_free(s);
}
static int wsema_p(void *s, int64_t d) {
  return sp_wsema_p_(s, d);
}
static void wsema_v(void *s) {
  sp_wsema_v_(s);
}

static const sema_ops semas[] = {
#ifdef SP_SEMA_POSIX_
    {"sp_sema_ (sem_t)", sema_make, sema_free, sema_p, sema_v},
#else
    {"sp_sema_ (wait on address)", sema_make, sema_free, sema_p, sema_v},
#endif
    {"sp_wsema_", wsema_make, wsema_free, wsema_p, wsema_v},
};
#define NSEMAS (sizeof semas / sizeof semas[0])

/* Posts are kept in the count; a poll (deadline passed) takes one. */
static void test_sema_post_is_kept(void **state) {
  (void)state;
  for (size_t k = 0; k < NSEMAS; k++) {
    const sema_ops *o = &semas[k];
    void *s = o->make();
    o->v(s);
    assert_rc(SP_OK, o->p(s, 0));
    assert_rc(SP_TIMEDOUT, o->p(s, 0));
    assert_rc(SP_TIMEDOUT, o->p(s, INT64_MIN));
    o->v(s);
    o->v(s);
    assert_rc(SP_OK, o->p(s, SP_NEVER_));
    assert_rc(SP_OK, o->p(s, sp_now_ns_() + MS));
    assert_rc(SP_TIMEDOUT, o->p(s, sp_now_ns_()));
    o->free_(s);
  }
}

/* A timed wait that nobody posts: SP_TIMEDOUT, never before the deadline,
 * after one sleep (the musl code slept in 10 ms slices: 20 for 200 ms). */
static void test_sema_timeout_sleeps_once(void **state) {
  (void)state;
  const int64_t tos[] = {1, 1000, MS, 7 * MS + 300000, 200 * MS};
  for (size_t k = 0; k < NSEMAS; k++) {
    const sema_ops *o = &semas[k];
    for (size_t i = 0; i < sizeof tos / sizeof tos[0]; i++) {
      void *s = o->make();
      sp_fault_set_(SP_FAULT_SLEEP_, 0);
      int64_t deadline = sp_now_ns_() + tos[i];
      assert_rc(SP_TIMEDOUT, o->p(s, deadline));
      long n = sleeps();
      sp_fault_clear_();
      if (sp_now_ns_() < deadline)
        fail_msg("%s: timed out before the deadline", o->name);
      if (n > 2)
        fail_msg("%s: %ld sleeps for one %lld ns timed wait: it polls", o->name,
                 n, (long long)tos[i]);
      o->free_(s);
    }
  }
}

struct poster {
  const sema_ops *o;
  void *s;
  int64_t deadline;
  int rc;
  int done; /* atomic */
};

static void *sema_waiter(void *arg) {
  struct poster *p = arg;
  p->rc = p->o->p(p->s, p->deadline);
  t_store(&p->done, 1);
  return NULL;
}

/* A waiter with a far finite deadline sleeps once until posted. */
static void test_sema_far_deadline_sleeps(void **state) {
  (void)state;
  for (size_t k = 0; k < NSEMAS; k++) {
    const int64_t far[] = {SP_NEVER_, SP_NEVER_ - 1,
                           sp_now_ns_() + (int64_t)4294967296 * SP_NS_PER_S,
                           sp_now_ns_() + 40LL * 24 * 3600 * SP_NS_PER_S};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
      struct poster p = {&semas[k], semas[k].make(), far[i], 99, 0};
      sp_fault_set_(SP_FAULT_SLEEP_, 0);
      t_thread t = t_start(sema_waiter, &p);
      wait_for_sleeps(1);
      t_sleep_ns(50 * MS);
      long n = sleeps();
      assert_int_equal(0, t_load(&p.done));
      p.o->v(p.s);
      t_join(t);
      sp_fault_clear_();
      if (n > 3)
        fail_msg("%s, deadline %lld: %ld sleeps in 50 ms: the wait polls",
                 p.o->name, (long long)far[i], n);
      assert_rc(SP_OK, p.rc);
      p.o->free_(p.s);
    }
  }
}

/* An injected spurious wake-up neither ends the wait nor eats the post. */
static void test_sema_spurious_wakeup(void **state) {
  (void)state;
  for (size_t k = 0; k < NSEMAS; k++) {
    struct poster p = {&semas[k], semas[k].make(), SP_NEVER_, 99, 0};
    sp_fault_set_(SP_FAULT_SLEEP_, 1);
    t_thread t = t_start(sema_waiter, &p);
    wait_for_sleeps(2); /* the injected one, then a real sleep */
    assert_int_equal(0, t_load(&p.done));
    p.o->v(p.s);
    t_join(t);
    sp_fault_clear_();
    assert_rc(SP_OK, p.rc);
    p.o->free_(p.s);
  }
}

/* Ping-pong between two threads, each waiting on its own semaphore with a
 * short timeout it retries: every post is taken exactly once, none is lost
 * when it races with a timeout, and what the poster wrote before V is seen
 * after P (a plain counter handed back and forth). */
struct pingpong {
  const sema_ops *o;
  void *s[2];
  long rounds;
  long value;   /* plain: written by the thread whose turn it is */
  long retries; /* atomic */
};

static void pingpong_side(struct pingpong *pp, int me) {
  for (long i = 0; i < pp->rounds; i++) {
    if (me == 1 || i > 0) {
      int rc;
      while ((rc = pp->o->p(pp->s[me], sp_now_ns_() + (i % 7) * 1000)) ==
             SP_TIMEDOUT)
        __atomic_add_fetch(&pp->retries, 1, __ATOMIC_RELAXED);
      assert_rc(SP_OK, rc);
    }
    if (pp->value != 2 * i + me)
      fail_msg("%s: round %ld: value %ld, expected %ld", pp->o->name, i,
               pp->value, 2 * i + me);
    pp->value++;
    pp->o->v(pp->s[1 - me]);
  }
}

static void *pingpong_main(void *arg) {
  pingpong_side(arg, 1);
  return NULL;
}

static void test_sema_pingpong(void **state) {
  (void)state;
  for (size_t k = 0; k < NSEMAS; k++) {
    struct pingpong pp = {
        &semas[k], {semas[k].make(), semas[k].make()}, t_iters(20000), 0, 0};
    t_thread t = t_start(pingpong_main, &pp);
    pingpong_side(&pp, 0);
    t_join(t);
    assert_rc(SP_OK, pp.o->p(pp.s[0], SP_NEVER_)); /* the last post */
    assert_int_equal(2 * pp.rounds, pp.value);
    print_message("%s: %ld rounds, %ld timed-out waits retried\n", pp.o->name,
                  pp.rounds, pp.retries);
    pp.o->free_(pp.s[0]);
    pp.o->free_(pp.s[1]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clock),
      cmocka_unit_test(test_thread_id),
      cmocka_unit_test(test_timespec_clamp),
      cmocka_unit_test(test_futex_timeout),
      cmocka_unit_test(test_futex_far_deadline_sleeps),
      cmocka_unit_test(test_futex_wake_all),
      cmocka_unit_test(test_sema_post_is_kept),
      cmocka_unit_test(test_sema_timeout_sleeps_once),
      cmocka_unit_test(test_sema_far_deadline_sleeps),
      cmocka_unit_test(test_sema_spurious_wakeup),
      cmocka_unit_test(test_sema_pingpong),
  };
#ifdef SP_PARKING_LOT_
  return T_RUN("platform (parking lot)", tests);
#else
  return T_RUN("platform", tests);
#endif
}
