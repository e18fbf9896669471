#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>

/* The same exact integer conversion as the library's sp_now_ns_ (a double
 * could round a reading 1 ns below the library's, making a wait look 1 ns
 * shorter than its timeout). */
int64_t t_now_ns(void) {
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (c.QuadPart / f.QuadPart) * 1000000000 +
         (c.QuadPart % f.QuadPart) * 1000000000 / f.QuadPart;
}

/* At least ns, like nanosleep: Sleep takes whole milliseconds (rounded up
 * here) and may end up to a timer tick early, so sleep again until the
 * clock agrees. */
void t_sleep_ns(int64_t ns) {
  int64_t end = t_now_ns() + ns;
  for (int64_t left = ns; left > 0; left = end - t_now_ns())
    Sleep((DWORD)((left + 999999) / 1000000));
}

void t_yield(void) {
  SwitchToThread();
}

struct t_start_ {
  void *(*fn)(void *);
  void *arg;
  void *result;
};

static DWORD WINAPI t_trampoline_(LPVOID p) {
  struct t_start_ *s = p;
  s->result = s->fn(s->arg);
  return 0;
}

t_thread t_start(void *(*fn)(void *), void *arg) {
  struct t_start_ *s = malloc(sizeof *s);
  assert_non_null(s);
  s->fn = fn;
  s->arg = arg;
  HANDLE h = CreateThread(NULL, 0, t_trampoline_, s, 0, NULL);
  assert_non_null(h);
  t_thread t = {NULL};
  /* Keep both: the handle and the start block. */
  void **pair = malloc(2 * sizeof(void *));
  assert_non_null(pair);
  pair[0] = h;
  pair[1] = s;
  t.handle = pair;
  return t;
}

void *t_join(t_thread t) {
  void **pair = t.handle;
  WaitForSingleObject(pair[0], INFINITE);
  CloseHandle(pair[0]);
  struct t_start_ *s = pair[1];
  void *r = s->result;
  free(s);
  free(pair);
  return r;
}
#else
#include <pthread.h>
#include <sched.h>
#include <time.h>

int64_t t_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void t_sleep_ns(int64_t ns) {
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

void t_yield(void) {
  sched_yield();
}

t_thread t_start(void *(*fn)(void *), void *arg) {
  pthread_t *p = malloc(sizeof *p);
  assert_non_null(p);
  assert_int_equal(0, pthread_create(p, NULL, fn, arg));
  t_thread t = {p};
  return t;
}

void *t_join(t_thread t) {
  pthread_t *p = t.handle;
  void *r = NULL;
  assert_int_equal(0, pthread_join(*p, &r));
  free(p);
  return r;
}
#endif

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
