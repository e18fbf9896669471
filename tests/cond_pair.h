/* A mutex and condition with one waiting thread, shared by tests/test_mutex.c
 * and tests/test_fault.c. Header-only (static inline), so that helpers.c
 * stays usable by the platform-layer tests that link no primitives. */
#ifndef SP_TEST_COND_PAIR_H
#define SP_TEST_COND_PAIR_H

#include "helpers.h"

/* Zero-filled: a valid mutex and condition, no waiter yet. */
typedef struct t_cond_pair {
  sp_mutex_t m;
  sp_cond_t c;
  int waiting; /* under m */
  int go;      /* under m */
  int rc;      /* the waiter's last wait result */
} t_cond_pair;

/* The waiter thread: locks m, sets waiting, waits on c until go (or a wait
 * fails), keeps the last wait's result in rc and unlocks. */
static inline void *t_cond_waiter(void *p) {
  t_cond_pair *w = p;
  assert_rc(SP_OK, sp_mutex_lock(&w->m));
  w->waiting = 1;
  int rc = SP_OK;
  while (!w->go && rc == SP_OK)
    rc = sp_cond_wait(&w->c, &w->m, SP_FOREVER);
  w->rc = rc;
  assert_rc(SP_OK, sp_mutex_unlock(&w->m));
  return NULL;
}

/* Spin (yielding) until the waiter has set waiting, read under m: it then
 * sleeps in sp_cond_wait with m released. */
static inline void t_wait_cond_waiting(t_cond_pair *w) {
  for (;;) {
    assert_rc(SP_OK, sp_mutex_lock(&w->m));
    int waiting = w->waiting;
    assert_rc(SP_OK, sp_mutex_unlock(&w->m));
    if (waiting)
      return;
    t_yield();
  }
}

#endif
