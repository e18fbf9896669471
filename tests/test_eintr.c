/* POSIX only: waits interrupted by signals (a handler installed without
 * SA_RESTART, so sem_wait/sem_clockwait return EINTR) neither return early,
 * nor return spuriously, nor lose the wakeup that finally comes. */
#include "helpers.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t interrupts;
static void on_usr1(int sig) {
  (void)sig;
  interrupts++;
}

typedef struct {
  sp_mutex_t m;
  sp_cond_t c;
  sp_lock_t l;
  int waiting; /* atomic */
  int go;      /* under m */
  int rc;
  int64_t elapsed;
  pthread_t tid;
} shared_t;

static void install_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART */
  assert_int_equal(0, sigaction(SIGUSR1, &sa, NULL));
}

/* Interrupt the waiting thread `n` times, every 2 ms. */
static void pester(shared_t *s, int n) {
  t_wait_for_count(&s->waiting, 1);
  for (int i = 0; i < n; i++) {
    t_sleep_ns(2 * MS);
    assert_int_equal(0, pthread_kill(s->tid, SIGUSR1));
  }
}

static void *timed_cond_waiter(void *p) {
  shared_t *s = p;
  s->tid = pthread_self();
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  t_inc(&s->waiting);
  int64_t t0 = t_now_ns();
  int rc;
  do
    rc = sp_cond_wait(&s->c, &s->m, 150 * MS);
  while (rc == SP_OK && !s->go && !t_exact_wakeups());
  s->elapsed = t_now_ns() - t0;
  s->rc = rc;
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void test_cond_timed_wait_survives_signals(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  assert_rc(SP_OK, sp_cond_init(&s.c));
  interrupts = 0;
  t_thread t = t_start(timed_cond_waiter, &s);
  pester(&s, 30);
  t_join(t);
  assert_true(interrupts > 0);
  /* nobody signalled: the only correct outcome is a full timeout */
  assert_rc(SP_TIMEDOUT, s.rc);
  assert_true(s.elapsed >= 150 * MS);
  assert_rc(SP_OK, sp_cond_destroy(&s.c));
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

static void *forever_cond_waiter(void *p) {
  shared_t *s = p;
  s->tid = pthread_self();
  assert_rc(SP_OK, sp_mutex_lock(&s->m));
  t_inc(&s->waiting);
  int rc = SP_OK;
  while (!s->go && rc == SP_OK)
    rc = sp_cond_wait(&s->c, &s->m, SP_FOREVER);
  s->rc = rc;
  assert_rc(SP_OK, sp_mutex_unlock(&s->m));
  return NULL;
}

static void test_cond_forever_wait_gets_its_signal(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_mutex_init(&s.m));
  assert_rc(SP_OK, sp_cond_init(&s.c));
  interrupts = 0;
  t_thread t = t_start(forever_cond_waiter, &s);
  pester(&s, 20);
  assert_rc(SP_OK, sp_mutex_lock(&s.m));
  s.go = 1;
  assert_rc(SP_OK, sp_cond_signal(&s.c));
  assert_rc(SP_OK, sp_mutex_unlock(&s.m));
  t_join(t);
  assert_true(interrupts > 0);
  assert_rc(SP_OK, s.rc);
  assert_rc(SP_OK, sp_cond_destroy(&s.c));
  assert_rc(SP_OK, sp_mutex_destroy(&s.m));
}

static void *timed_lock_waiter(void *p) {
  shared_t *s = p;
  s->tid = pthread_self();
  t_inc(&s->waiting);
  int64_t t0 = t_now_ns();
  s->rc = sp_lock_acquire(&s->l, 120 * MS);
  s->elapsed = t_now_ns() - t0;
  return NULL;
}

static void test_lock_timed_acquire_survives_signals(void **state) {
  (void)state;
  shared_t s;
  memset(&s, 0, sizeof s);
  assert_rc(SP_OK, sp_lock_init(&s.l));
  assert_rc(SP_OK, sp_lock_acquire(&s.l, SP_FOREVER));
  interrupts = 0;
  t_thread t = t_start(timed_lock_waiter, &s);
  pester(&s, 25);
  t_join(t);
  assert_true(interrupts > 0);
  assert_rc(SP_TIMEDOUT, s.rc);
  assert_true(s.elapsed >= 120 * MS);
  assert_rc(SP_OK, sp_lock_release(&s.l));
  assert_rc(SP_OK, sp_lock_destroy(&s.l));
}

int main(void) {
  install_handler();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cond_timed_wait_survives_signals),
      cmocka_unit_test(test_cond_forever_wait_gets_its_signal),
      cmocka_unit_test(test_lock_timed_acquire_survives_signals),
  };
  return T_RUN("eintr", tests);
}
