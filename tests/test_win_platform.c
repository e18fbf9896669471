/* The Win32 platform layer (src/win/platform_impl.h) against its contract
 * (src/platform.h), below the public API: millisecond rounding, timeouts
 * that never end early, far-future deadlines, the per-thread semaphore
 * cache and its cleanup at thread exit. Built on Windows only, once (the
 * platform layer is the same for win32 and win32-sem). */
#include "helpers.h"

#include "platform.h"

/* The clock never goes backwards and advances with real time. */
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
  int64_t t0 = sp_now_ns_();
  t_sleep_ns(20 * MS);
  assert_true(sp_now_ns_() - t0 >= 15 * MS);
}

static void *thread_id_main(void *arg) {
  *(uintptr_t *)arg = sp_thread_id_();
  return NULL;
}

/* The id is nonzero, stable, distinct between live threads, a multiple of
 * 4 below 2^32 (the lock word keeps its two low bits for flags), and it is
 * the thread's own GetCurrentThreadId (Windows and wine make those
 * multiples of 4, so no scaling happens). */
static void test_thread_id(void **state) {
  (void)state;
  uintptr_t self = sp_thread_id_(), other = 0;
  assert_true(self != 0);
  assert_true(sp_thread_id_() == self);
  assert_int_equal(0, self & 3);
  assert_true(self <= UINT32_MAX);
  assert_true(self == (uintptr_t)GetCurrentThreadId());
  t_join(t_start(thread_id_main, &other));
  assert_true(other != 0 && other != self);
  assert_int_equal(0, other & 3);
}

/* WaitOnAddress as sp_futex_wait_: a value mismatch returns at once, a
 * timeout is reported only once the deadline has passed (early Win32
 * timeouts come back as SP_OK, and a loop with the same deadline ends with
 * SP_TIMEDOUT), and a wake ends a wait without a deadline. */
struct waker {
  uint32_t word;
  int woken;
};

static void *wake_later(void *arg) {
  struct waker *w = arg;
  t_sleep_ns(30 * MS);
  __atomic_store_n(&w->word, 1u, __ATOMIC_SEQ_CST);
  sp_futex_wake_(&w->word, 0);
  return NULL;
}

static void test_futex(void **state) {
  (void)state;
  uint32_t word = 7;
  assert_rc(SP_OK, sp_futex_wait_(&word, 8, SP_NEVER_)); /* mismatch */
  const int64_t tos[] = {0, 1, 1000, MS / 2, MS, 3 * MS / 2, 10 * MS};
  for (size_t k = 0; k < sizeof tos / sizeof tos[0]; k++) {
    int64_t deadline = sp_now_ns_() + tos[k];
    int rc, spurious = 0;
    while ((rc = sp_futex_wait_(&word, 7, deadline)) == SP_OK)
      if (++spurious > 1000)
        fail_msg("timeout %lld ns: no SP_TIMEDOUT", (long long)tos[k]);
    assert_rc(SP_TIMEDOUT, rc);
    assert_true(sp_now_ns_() >= deadline);
  }
  struct waker w = {0, 0};
  t_thread t = t_start(wake_later, &w);
  while (__atomic_load_n(&w.word, __ATOMIC_SEQ_CST) == 0)
    assert_rc(SP_OK, sp_futex_wait_(&w.word, 0, SP_NEVER_));
  t_join(t);
  sp_futex_wake_(&w.word, 1); /* nobody waits: harmless */
}

/* Milliseconds are rounded up, never down; passed deadlines poll; far
 * deadlines are capped below INFINITE. */
static void test_wait_ms_rounding(void **state) {
  (void)state;
  assert_int_equal(0, sp_win_ms_(INT64_MIN));
  assert_int_equal(0, sp_win_ms_(-1));
  assert_int_equal(0, sp_win_ms_(0));
  assert_int_equal(1, sp_win_ms_(1));
  assert_int_equal(1, sp_win_ms_(MS / 2));
  assert_int_equal(1, sp_win_ms_(MS));
  assert_int_equal(2, sp_win_ms_(MS + 1));
  assert_int_equal(6, sp_win_ms_(5 * MS + 1));
  assert_int_equal(SP_WIN_MAX_WAIT_MS_ - 1,
                   sp_win_ms_((int64_t)(SP_WIN_MAX_WAIT_MS_ - 1) * MS));
  assert_int_equal(SP_WIN_MAX_WAIT_MS_,
                   sp_win_ms_((int64_t)SP_WIN_MAX_WAIT_MS_ * MS));
  assert_int_equal(SP_WIN_MAX_WAIT_MS_,
                   sp_win_ms_((int64_t)SP_WIN_MAX_WAIT_MS_ * MS + 1));
  assert_int_equal(SP_WIN_MAX_WAIT_MS_, sp_win_ms_(INT64_MAX));
  assert_true(SP_WIN_MAX_WAIT_MS_ < INFINITE);
  /* From a deadline: never less than the time left. */
  assert_int_equal(0, sp_win_wait_ms_(sp_now_ns_() - 1));
  assert_int_equal(0, sp_win_wait_ms_(0));
  assert_int_equal(0, sp_win_wait_ms_(INT64_MIN)); /* no overflow */
  assert_int_equal(1, sp_win_wait_ms_(sp_now_ns_() + MS / 2));
  assert_in_range(sp_win_wait_ms_(sp_now_ns_() + 10 * MS), 9, 10);
  assert_int_equal(SP_WIN_MAX_WAIT_MS_, sp_win_wait_ms_(SP_NEVER_ - 1));
}

/* A timed semaphore wait returns SP_TIMEDOUT only once the deadline has
 * passed on sp_now_ns_(), for sub-millisecond and odd timeouts too. */
static void test_sema_timeout_never_early(void **state) {
  (void)state;
  const int64_t tos[] = {
      0, 1, 1000, MS / 2, MS, MS + 1, 3 * MS / 2, 7 * MS + 300000, 20 * MS};
  for (int round = 0; round < 3; round++) {
    for (size_t k = 0; k < sizeof tos / sizeof tos[0]; k++) {
      sp_sema_t_ s;
      assert_rc(SP_OK, sp_sema_init_(&s));
      int64_t t0 = t_now_ns(), deadline = sp_now_ns_() + tos[k];
      assert_rc(SP_TIMEDOUT, sp_sema_p_(&s, deadline));
      int64_t after = sp_now_ns_(), elapsed = t_now_ns() - t0;
      if (after < deadline || elapsed < tos[k])
        fail_msg("timeout %lld ns: returned %lld ns before the deadline, "
                 "after %lld ns",
                 (long long)tos[k], (long long)(deadline - after),
                 (long long)elapsed);
      sp_sema_destroy_(&s);
    }
  }
}

/* A post is kept in the count: a later poll (deadline passed) takes it. */
static void test_sema_post_is_kept(void **state) {
  (void)state;
  sp_sema_t_ s;
  assert_rc(SP_OK, sp_sema_init_(&s));
  sp_sema_v_(&s);
  assert_rc(SP_OK, sp_sema_p_(&s, 0));
  assert_rc(SP_TIMEDOUT, sp_sema_p_(&s, 0));
  sp_sema_v_(&s);
  sp_sema_v_(&s);
  assert_rc(SP_OK, sp_sema_p_(&s, SP_NEVER_));
  assert_rc(SP_OK, sp_sema_p_(&s, sp_now_ns_() + MS));
  assert_rc(SP_TIMEDOUT, sp_sema_p_(&s, sp_now_ns_()));
  sp_sema_destroy_(&s);
}

struct poster {
  sp_sema_t_ *s;
  sp_native_cond_t_ *c;
  sp_native_mutex_t_ *m;
  int flag;
};

static void *post_later(void *arg) {
  struct poster *p = arg;
  t_sleep_ns(30 * MS);
  sp_sema_v_(p->s);
  return NULL;
}

/* A deadline centuries away (capped, repeated waits; no overflow) still
 * wakes on a post. */
static void test_sema_far_deadline(void **state) {
  (void)state;
  const int64_t farther[] = {SP_NEVER_ - 1,
                             sp_now_ns_() + 40LL * 24 * 3600 * SP_NS_PER_S};
  for (size_t k = 0; k < 2; k++) {
    sp_sema_t_ s;
    assert_rc(SP_OK, sp_sema_init_(&s));
    struct poster p = {&s, NULL, NULL, 0};
    t_thread t = t_start(post_later, &p);
    assert_rc(SP_OK, sp_sema_p_(&s, farther[k]));
    t_join(t);
    sp_sema_destroy_(&s);
  }
}

/* The cache: a thread's semaphore is reused by its next wait; a second
 * semaphore taken while the first is in use is a different one, and
 * returning both keeps one and closes the other. */
static void test_sema_cache_reuse(void **state) {
  (void)state;
  sp_sema_t_ a, b, c;
  assert_rc(SP_OK, sp_sema_init_(&a));
  HANDLE ha = a.h;
  sp_sema_destroy_(&a);
  assert_rc(SP_OK, sp_sema_init_(&a));
  assert_ptr_equal(ha, a.h); /* from the cache */
  assert_rc(SP_OK, sp_sema_init_(&b));
  assert_true(b.h != a.h && b.h != NULL);
  HANDLE hb = b.h;
  sp_sema_destroy_(&a); /* cached */
  sp_sema_destroy_(&b); /* cache full: closed */
  DWORD flags;
  assert_false(GetHandleInformation(hb, &flags));
  assert_true(GetHandleInformation(ha, &flags));
  assert_rc(SP_OK, sp_sema_init_(&c));
  assert_ptr_equal(ha, c.h);
  assert_rc(SP_TIMEDOUT, sp_sema_p_(&c, 0)); /* came back with count 0 */
  sp_sema_destroy_(&c);
}

static void *cache_one(void *arg) {
  sp_sema_t_ s;
  if (sp_sema_init_(&s) != SP_OK)
    return NULL;
  *(HANDLE *)arg = s.h;
  sp_sema_destroy_(&s); /* stays in this thread's cache */
  return NULL;
}

/* A thread's cached semaphore is closed when the thread exits. */
static void test_sema_cache_closed_at_thread_exit(void **state) {
  (void)state;
  DWORD before = 0, after = 0;
  int counts = GetProcessHandleCount(GetCurrentProcess(), &before);
  for (int i = 0; i < 50; i++) {
    HANDLE h = NULL;
    t_join(t_start(cache_one, &h));
    assert_non_null(h);
    DWORD flags;
    if (GetHandleInformation(h, &flags))
      fail_msg("thread %d exited, its cached semaphore %p is still open", i,
               (void *)h);
  }
  if (counts && GetProcessHandleCount(GetCurrentProcess(), &after) &&
      after > before + 10)
    fail_msg("handle count grew from %lu to %lu over 50 threads",
             (unsigned long)before, (unsigned long)after);
}

/* The native condition: a passed deadline times out at once, a wait never
 * reports SP_TIMEDOUT before its deadline (early Win32 timeouts come back
 * as SP_OK), and a far deadline still wakes on a signal. */
static void *signal_later(void *arg) {
  struct poster *p = arg;
  t_sleep_ns(30 * MS);
  sp_native_mutex_lock_(p->m);
  p->flag = 1;
  sp_native_cond_signal_(p->c);
  sp_native_mutex_unlock_(p->m);
  return NULL;
}

static void test_native_cond_deadlines(void **state) {
  (void)state;
  sp_native_mutex_t_ m;
  sp_native_cond_t_ c;
  assert_rc(SP_OK, sp_native_mutex_init_(&m));
  assert_rc(SP_OK, sp_native_cond_init_(&c));
  sp_native_mutex_lock_(&m);
  assert_rc(SP_TIMEDOUT, sp_native_cond_wait_until_(&c, &m, 0));
  assert_rc(SP_BUSY, sp_native_mutex_trylock_(&m)); /* held again */
  const int64_t tos[] = {1, MS / 2, MS, 3 * MS / 2, 10 * MS};
  for (int round = 0; round < 3; round++) {
    for (size_t k = 0; k < sizeof tos / sizeof tos[0]; k++) {
      int64_t deadline = sp_now_ns_() + tos[k];
      int rc;
      while ((rc = sp_native_cond_wait_until_(&c, &m, deadline)) == SP_OK) {
      }
      assert_rc(SP_TIMEDOUT, rc);
      assert_true(sp_now_ns_() >= deadline);
    }
  }
  struct poster p = {NULL, &c, &m, 0};
  sp_native_mutex_unlock_(&m);
  t_thread t = t_start(signal_later, &p);
  sp_native_mutex_lock_(&m);
  while (!p.flag)
    assert_rc(SP_OK, sp_native_cond_wait_until_(&c, &m, SP_NEVER_ - 1));
  sp_native_mutex_unlock_(&m);
  t_join(t);
  assert_rc(SP_OK, sp_native_mutex_trylock_(&m));
  sp_native_mutex_unlock_(&m);
  sp_native_cond_destroy_(&c);
  sp_native_mutex_destroy_(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_clock),
      cmocka_unit_test(test_thread_id),
      cmocka_unit_test(test_futex),
      cmocka_unit_test(test_wait_ms_rounding),
      cmocka_unit_test(test_sema_timeout_never_early),
      cmocka_unit_test(test_sema_post_is_kept),
      cmocka_unit_test(test_sema_far_deadline),
      cmocka_unit_test(test_sema_cache_reuse),
      cmocka_unit_test(test_sema_cache_closed_at_thread_exit),
      cmocka_unit_test(test_native_cond_deadlines),
  };
  return T_RUN("win_platform", tests);
}
