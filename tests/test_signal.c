/* Signal handlers and the library (issue 11, item 6; docs/primitives.md,
 * "Threads, signals and fork"). POSIX only.
 *
 * What the documentation claims, checked here:
 *  - sp_lock_release is async-signal-safe on Linux (an atomic exchange and a
 *    futex wake that keeps errno): a handler may release a lock that a
 *    thread is waiting for, also when the handler runs on that very thread
 *    while it sleeps in sp_lock_acquire; sp_lock_acquire with timeout 0,
 *    sp_lock_locked and sp_event_is_set only read or CAS a word and are
 *    async-signal-safe everywhere;
 *  - the pattern for everything else: block the signal in every thread and
 *    let one thread take it with sigwait(), then call the library normally
 *    (here sp_event_set wakes a waiter). */
#include "helpers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static sp_lock_t g_lock;
static sp_event_t g_event;
static volatile sig_atomic_t g_release_rc;
static volatile sig_atomic_t g_locked_seen;
static volatile sig_atomic_t g_is_set_seen;
static volatile sig_atomic_t g_errno_kept;
static volatile sig_atomic_t g_handled;

static void on_usr1(int sig) {
  (void)sig;
  errno = 4242;
  g_locked_seen = sp_lock_locked(&g_lock);
  g_is_set_seen = sp_event_is_set(&g_event);
  g_release_rc = sp_lock_release(&g_lock);
  g_errno_kept = errno == 4242;
  g_handled = g_handled + 1;
}

static void install(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  assert_int_equal(0, sigaction(sig, &sa, NULL));
}

/* ThreadSanitizer defers a signal until the thread next calls a function
 * it intercepts, and a thread asleep in a raw futex(2) call (restarted by
 * the kernel) calls none: under TSan the handler never runs on a waiting
 * thread, so those cases run without it. */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static int linux_futex(void) {
#if defined(__linux__)
  return 1;
#else
  return 0;
#endif
}

typedef struct {
  int rc;  /* the acquire's result */
  int ret; /* atomic: returned */
} acq_t;

static void *acquire_forever(void *p) {
  acq_t *a = p;
  a->rc = sp_lock_acquire(&g_lock, SP_FOREVER);
  t_store(&a->ret, 1);
  return NULL;
}

/* Wait until a thread sleeps on g_lock (state 2). */
static void wait_sleeper(void) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (__atomic_load_n(&g_lock.state_, __ATOMIC_SEQ_CST) != 2u) {
    if (t_now_ns() > end)
      fail_msg("the waiter never slept on the lock");
    t_yield();
  }
}

static void run_release_from_handler(int on_waiter) {
  g_handled = 0;
  assert_rc(SP_OK, sp_lock_acquire(&g_lock, 0));
  acq_t a = {0, 0};
  pthread_t t;
  assert_int_equal(0, pthread_create(&t, NULL, acquire_forever, &a));
  wait_sleeper();
  if (on_waiter)
    assert_int_equal(0, pthread_kill(t, SIGUSR1)); /* handler on the waiter */
  else
    assert_int_equal(0, raise(SIGUSR1)); /* handler on this thread */
  assert_int_equal(0, pthread_join(t, NULL));
  assert_int_equal(1, g_handled);
  assert_rc(SP_OK, g_release_rc);
  assert_int_equal(1, g_locked_seen);
  assert_int_equal(0, g_is_set_seen);
  assert_true(g_errno_kept);
  assert_rc(SP_OK, a.rc); /* the waiter got the lock */
  assert_int_equal(1, sp_lock_locked(&g_lock));
  assert_rc(SP_OK, sp_lock_release(&g_lock));
}

static void test_lock_release_in_handler(void **state) {
  (void)state;
  if (!linux_futex()) {
    printf("sp_lock_release is documented async-signal-safe on Linux only\n");
    return;
  }
  install(SIGUSR1, on_usr1);
  long rounds = t_iters(200);
  for (long i = 0; i < rounds; i++) {
    if (!UNDER_TSAN)
      run_release_from_handler(1);
    run_release_from_handler(0);
  }
  signal(SIGUSR1, SIG_DFL);
}

/* The handler of a thread that sleeps in sp_lock_acquire returns into the
 * wait, which goes on: the signal neither ends the wait early nor loses
 * the release that comes later. (sp_event_is_set is 1 here.) */
static void on_usr1_peek(int sig) {
  (void)sig;
  g_is_set_seen = sp_event_is_set(&g_event);
  g_locked_seen = sp_lock_locked(&g_lock);
  g_handled = g_handled + 1;
}

static void test_handler_on_waiter_peeks(void **state) {
  (void)state;
  if (UNDER_TSAN)
    return; /* see UNDER_TSAN */
  install(SIGUSR1, on_usr1_peek);
  assert_rc(SP_OK, sp_event_set(&g_event));
  g_handled = 0;
  assert_rc(SP_OK, sp_lock_acquire(&g_lock, 0));
  acq_t a = {0, 0};
  pthread_t t;
  assert_int_equal(0, pthread_create(&t, NULL, acquire_forever, &a));
  wait_sleeper();
  assert_int_equal(0, pthread_kill(t, SIGUSR1));
  while (g_handled == 0)
    t_yield();
  t_sleep_ns(MS);
  assert_int_equal(0, t_load(&a.ret)); /* still waiting */
  assert_int_equal(1, g_is_set_seen);
  assert_int_equal(1, g_locked_seen);
  assert_rc(SP_OK, sp_lock_release(&g_lock));
  assert_int_equal(0, pthread_join(t, NULL));
  assert_rc(SP_OK, a.rc);
  assert_rc(SP_OK, sp_lock_release(&g_lock));
  assert_rc(SP_OK, sp_event_clear(&g_event));
  signal(SIGUSR1, SIG_DFL);
}

/* The recommended pattern: SIGUSR2 is blocked in every thread; one thread
 * takes it with sigwait() and sets an event, which any thread waits for. */
static void *sigwait_thread(void *p) {
  sigset_t *set = p;
  for (;;) {
    int sig = 0;
    if (sigwait(set, &sig) != 0)
      return NULL;
    if (sig == SIGUSR2)
      (void)sp_event_set(&g_event);
    else
      return NULL; /* SIGTERM sent by the test: stop */
  }
}

static void test_sigwait_thread_sets_event(void **state) {
  (void)state;
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  assert_int_equal(0, pthread_sigmask(SIG_BLOCK, &set, &old));
  pthread_t t;
  assert_int_equal(0, pthread_create(&t, NULL, sigwait_thread, &set));
  long rounds = t_iters(100);
  for (long i = 0; i < rounds; i++) {
    assert_rc(SP_OK, sp_event_clear(&g_event));
    assert_int_equal(0, kill(getpid(), SIGUSR2)); /* to the process */
    assert_rc(SP_OK, sp_event_wait(&g_event, 10 * SP_NS_PER_S));
  }
  assert_int_equal(0, pthread_kill(t, SIGTERM));
  assert_int_equal(0, pthread_join(t, NULL));
  assert_int_equal(0, pthread_sigmask(SIG_SETMASK, &old, NULL));
  assert_rc(SP_OK, sp_event_clear(&g_event));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lock_release_in_handler),
      cmocka_unit_test(test_handler_on_waiter_peeks),
      cmocka_unit_test(test_sigwait_thread_sets_event),
  };
  return T_RUN("signal", tests);
}
