#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Threads, the clock and sleeping are the library's own portable ones
 * (syncplus/thread.h, sp_now_ns): the tests' thread code exists once. */
int64_t t_now_ns(void) {
  return sp_now_ns();
}

void t_sleep_ns(int64_t ns) {
  if (ns > 0)
    assert_rc(SP_OK, sp_sleep_ns(ns));
}

void t_yield(void) {
  assert_rc(SP_OK, sp_sleep_ns(0));
}

t_thread t_start(void *(*fn)(void *), void *arg) {
  t_thread t;
  assert_rc(SP_OK, sp_thread_start(&t.t, fn, arg));
  return t;
}

void *t_join(t_thread t) {
  void *r = NULL;
  assert_rc(SP_OK, sp_thread_join(&t.t, &r));
  return r;
}

struct t_bunch_arg_ {
  t_bunch *b;
  int i;
};

static void *t_bunch_main_(void *p) {
  struct t_bunch_arg_ *a = p;
  t_bunch *b = a->b;
  int i = a->i;
  free(a);
  t_inc(&b->started);
  b->fn(b->arg, i);
  t_inc(&b->finished);
  return NULL;
}

void t_bunch_start(t_bunch *b, int n, void (*fn)(void *, int), void *arg) {
  assert_true(n > 0 && n <= T_MAX_BUNCH);
  b->n = n;
  b->fn = fn;
  b->arg = arg;
  t_store(&b->started, 0);
  t_store(&b->finished, 0);
  for (int i = 0; i < n; i++) {
    struct t_bunch_arg_ *a = malloc(sizeof *a);
    assert_non_null(a);
    a->b = b;
    a->i = i;
    b->threads[i] = t_start(t_bunch_main_, a);
  }
  t_wait_for_count(&b->started, n);
}

void t_bunch_join(t_bunch *b) {
  for (int i = 0; i < b->n; i++)
    t_join(b->threads[i]);
  assert_int_equal(b->n, t_load(&b->finished));
}

void t_wait_for_count(int *counter, int value) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  while (t_load(counter) < value) {
    if (t_now_ns() > end)
      fail_msg("waited 10 s for a count of %d, have %d", value,
               t_load(counter));
    t_sleep_ns(100000);
  }
}

static double t_env_double_(const char *name, double dflt) {
  const char *s = getenv(name);
  if (s == NULL || *s == '\0')
    return dflt;
  double v = atof(s);
  return v > 0 ? v : dflt;
}

long t_iters(long n) {
  long r = (long)((double)n * t_env_double_("SP_STRESS_SCALE", 1.0));
  return r < 1 ? 1 : r;
}

int64_t t_stress_deadline(void) {
  return t_now_ns() + (int64_t)(t_env_double_("SP_STRESS_SECONDS", 2.0) * 1e9);
}

int t_exact_wakeups(void) {
  return strcmp(sp_backend(), "sem") == 0 ||
         strcmp(sp_backend(), "win32-sem") == 0;
}

int t_run(const char *name, const struct CMUnitTest *tests, size_t n) {
  char group[128];
  snprintf(group, sizeof group, "%s [%s]", name, sp_backend());
  return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

const char *t_fork_with_threads_unsupported(void) {
  const char *emu = getenv("SP_TEST_EMULATOR");
  if (emu != NULL && strstr(emu, "qemu") != NULL)
    return "qemu-user cannot fork a multithreaded guest";
  return NULL;
}
