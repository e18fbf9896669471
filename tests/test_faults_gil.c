/* The fault-injection matrix (issue 11), the interpreter lock: each policy
 * (LEGACY, FAIR, PRIORITY; PRIORITY also zero-filled) under contention, and
 * a GIL-aware blocking call, with each fault site failing the k-th call for
 * every k along the scenario (tests/faults.h).
 *
 * What gil.h promises, checked here:
 *  - only FAIR waits on conditions; PRIORITY and LEGACY wait on futex words,
 *    so their scenarios reach no wait site at all (only the OS set-up of the
 *    internal conditions when the lock is made, COND_INIT on the native
 *    backends);
 *  - FAIR: a failed acquire returns SP_ESYS without the lock; a failed
 *    yield returns SP_ESYS without the lock; a release whose wait for the
 *    switch failed returns SP_ESYS with the lock released all the same (a
 *    yield absorbs that one: it competes anyway). Nobody is left blocked: a
 *    waiter that fails withdraws its drop request and wakes the dropper.
 *  - mutual exclusion holds throughout, and afterwards the lock is free,
 *    usable and destroyable;
 *  - sp_gil_call_blocking (sp_gil_sem_acquire here) returns the
 *    operation's result with the GIL held, whatever failed. Under FAIR its
 *    re-acquire retries a failing wait until it works (so a persistent
 *    failure there never returns, by design: no persistent runs for it). */
#include "faults.h"

#define GIL_WORKERS 3
#define GIL_ROUNDS  8
#define GIL_YIELDS  3

typedef struct {
  f_run *r;
  sp_gil_t g;
  int inside; /* atomic: threads that believe they hold the GIL */
  int count;  /* under the GIL */
  int blocking;
  int fair;     /* the policy is FAIR */
  int finished; /* atomic: workers done */
  sp_sem_t sem; /* the blocking part: units the main thread releases */
  int got;      /* atomic */
} gil_s;

static void gil_enter(gil_s *s) {
  if (t_inc(&s->inside) != 1)
    f_bad(s->r, "two threads hold the GIL");
  if (sp_gil_held(&s->g) != 1)
    f_bad(s->r, "sp_gil_held is not 1 for the holder");
}

static void gil_leave(gil_s *s) {
  __atomic_fetch_sub(&s->inside, 1, __ATOMIC_SEQ_CST);
}

/* After an error that leaves the caller without the lock. */
static void gil_check_not_held(gil_s *s, const char *what) {
  if (sp_gil_held(&s->g) != 0)
    f_bad(s->r, "%s: the caller holds the GIL after an error", what);
}

/* Acquire until it works (a failure is an error result, retried). */
static int gil_take(gil_s *s, int cls, int j) {
  for (int tries = 0; tries < F_RETRIES; tries++) {
    int rc = (j & 1) ? sp_gil_acquire_ex(&s->g, cls, SP_FOREVER)
                     : sp_gil_acquire(&s->g);
    if (rc == SP_OK) {
      gil_enter(s);
      return 1;
    }
    if (!f_error(s->r, rc, "acquire"))
      return 0;
    gil_check_not_held(s, "acquire");
  }
  f_bad(s->r, "acquire failed %d times", F_RETRIES);
  return 0;
}

/* Keep the GIL (white box) until another thread waits for it and, under
 * FAIR, asks for a drop, so that every round is contended: bounded by a
 * count of CPU yields, and cut short once the other workers are done. */
static void gil_hold_for_waiter(gil_s *s) {
  for (long i = 0; i < 100000; i++) {
    if (t_load(&s->finished) == GIL_WORKERS - 1)
      return;
    if (__atomic_load_n(&s->g.waiters_, __ATOMIC_SEQ_CST) != 0 &&
        (!s->fair || __atomic_load_n(&s->g.drop_request_, __ATOMIC_SEQ_CST)))
      return;
    t_yield();
  }
}

static void gil_work(gil_s *s, int i);

static void gil_worker(void *p, int i) {
  gil_s *s = p;
  gil_work(s, i);
  t_inc(&s->finished);
}

static void gil_work(gil_s *s, int i) {
  int cls = i == 0 ? SP_GIL_IO : SP_GIL_CPU;
  for (int j = 0; j < GIL_ROUNDS; j++) {
    if (!gil_take(s, cls, j))
      return;
    s->count++;
    gil_hold_for_waiter(s);
    for (int y = 0; y < GIL_YIELDS; y++) {
      gil_leave(s); /* a yield may hand the lock over */
      int rc = sp_gil_yield(&s->g);
      if (rc == SP_OK) {
        gil_enter(s);
        continue;
      }
      if (!f_error(s->r, rc, "yield"))
        return;
      gil_check_not_held(s, "yield"); /* FAIR: dropped, not taken back */
      if (!gil_take(s, cls, j))
        return;
    }
    if (s->blocking && i == 0 && j == GIL_ROUNDS - 1) {
      /* Two units the main thread releases, waited for without the GIL. */
      for (int units = 0, tries = 0; units < 2 && tries < F_RETRIES;) {
        gil_leave(s); /* released while it blocks */
        int rc = sp_gil_sem_acquire(&s->g, &s->sem, SP_FOREVER);
        gil_enter(s);
        if (sp_gil_held(&s->g) != 1)
          f_bad(s->r, "sp_gil_sem_acquire returned %s without the GIL",
                sp_strerror(rc));
        if (rc == SP_OK) {
          units++;
          t_inc(&s->got);
        } else if (!f_error(s->r, rc, "sp_gil_sem_acquire")) {
          break;
        } else {
          tries++;
        }
      }
    }
    gil_leave(s);
    int rc = sp_gil_release(&s->g);
    if (rc != SP_OK) {
      if (!f_error(s->r, rc, "release"))
        return;
      gil_check_not_held(s, "release"); /* released all the same */
    }
  }
}

/* policy -1: zero-filled (PRIORITY, set up on first use). */
static void run_gil(f_run *r, int policy, int blocking) {
  gil_s s;
  memset(&s, 0, sizeof s);
  s.r = r;
  s.blocking = blocking;
  s.fair = policy == SP_GIL_FAIR;
  if (policy >= 0) {
    sp_gil_config cfg;
    f_want(r, sp_gil_config_default(&cfg, policy), SP_OK, "config");
    cfg.interval_ns = 50000; /* FAIR: drop requests within the scenario */
    cfg.yield_skip = policy == SP_GIL_LEGACY ? 1 : 2;
    int rc = sp_gil_init(&s.g, &cfg);
    if (rc != SP_OK && f_error(r, rc, "sp_gil_init"))
      rc = sp_gil_init(&s.g, &cfg); /* left unusable: initialise again */
    if (rc != SP_OK) {
      f_bad(r, "sp_gil_init failed twice: %s", sp_strerror(rc));
      f_disarm(r);
      return;
    }
  }
  if (blocking) {
    int rc = sp_sem_init(&s.sem, 0, 0);
    if (rc != SP_OK && f_error(r, rc, "sp_sem_init"))
      rc = sp_sem_init(&s.sem, 0, 0);
    if (rc != SP_OK) {
      f_bad(r, "sp_sem_init failed twice");
      f_disarm(r);
      return;
    }
  }
  t_bunch b;
  t_bunch_start(&b, GIL_WORKERS, gil_worker, &s);
  if (blocking) {
    for (int u = 0; u < 2; u++) {
      f_wait_waiters(r, &s.sem.mu_, &s.sem.cv_, 1);
      for (int tries = 0; tries < F_RETRIES; tries++)
        if (f_want(r, sp_sem_release(&s.sem, 1), SP_OK, "sem release"))
          break;
      f_wait_count(r, &s.got, u + 1);
    }
  }
  t_bunch_join(&b);
  f_disarm(r);
  if (s.count != GIL_WORKERS * GIL_ROUNDS)
    f_bad(r, "count %d, expected %d", s.count, GIL_WORKERS * GIL_ROUNDS);
  if (blocking && t_load(&s.got) != 2)
    f_bad(r, "%d units taken through the GIL-aware call", t_load(&s.got));
  /* Free, usable, destroyable. */
  f_want(r, sp_gil_held(&s.g), 0, "held after");
  f_want(r, sp_gil_acquire_ex(&s.g, SP_GIL_CPU, 0), SP_OK, "try after");
  f_want(r, sp_gil_yield(&s.g), SP_OK, "yield after");
  f_want(r, sp_gil_release(&s.g), SP_OK, "release after");
  f_want(r, sp_gil_destroy(&s.g), SP_OK, "destroy");
  if (blocking) {
    f_want(r, sp_sem_value(&s.sem), 0, "sem value after");
    f_want(r, sp_sem_destroy(&s.sem), SP_OK, "sem destroy");
  }
}

static void legacy_fn(f_run *r) {
  run_gil(r, SP_GIL_LEGACY, 0);
}
static void fair_fn(f_run *r) {
  run_gil(r, SP_GIL_FAIR, 0);
}
static void priority_fn(f_run *r) {
  run_gil(r, SP_GIL_PRIORITY, 0);
}
static void static_fn(f_run *r) {
  run_gil(r, -1, 0);
}
static void legacy_blocking_fn(f_run *r) {
  run_gil(r, SP_GIL_LEGACY, 1);
}
static void fair_blocking_fn(f_run *r) {
  run_gil(r, SP_GIL_FAIR, 1);
}
static void priority_blocking_fn(f_run *r) {
  run_gil(r, SP_GIL_PRIORITY, 1);
}

/* ---- the matrix -------------------------------------------------------- */

static unsigned wait_sites(void) {
  return f_native_cond() ? F_BIT(SP_FAULT_WAIT_)
                         : F_BIT(SP_FAULT_SEMA_INIT_) | F_BIT(SP_FAULT_WAIT_);
}

/* The OS set-up of the GIL's internal conditions (native backends). */
static unsigned init_sites(void) {
  return f_native_cond() ? F_BIT(SP_FAULT_COND_INIT_) : 0;
}

static void test_legacy(void **state) {
  (void)state;
  unsigned s = init_sites(); /* and nothing else: futex waits */
  f_spec spec = {"gil/legacy", legacy_fn, s, s, 0, 0};
  f_matrix(&spec);
}

static void test_priority(void **state) {
  (void)state;
  unsigned s = init_sites();
  f_spec spec = {"gil/priority", priority_fn, s, s, 0, 0};
  f_matrix(&spec);
  f_spec zero = {"gil/priority-static", static_fn, s, s, 0, 0};
  f_matrix(&zero);
}

/* FAIR: a failed switch wait in a drop is absorbed by a yield (it takes
 * the lock back anyway), and a failing OS wait may be absorbed by a
 * wake-up that chose it: at most one error per failure there. */
static void test_fair(void **state) {
  (void)state;
  unsigned s = init_sites() | wait_sites();
  f_spec spec = {"gil/fair", fair_fn, s, s, wait_sites(), 0};
  f_matrix(&spec);
}

/* sp_gil_sem_acquire under each policy: the semaphore's own sites, plus
 * FAIR's waits; FAIR's re-acquire retries a failed wait (absorbed). */
static void test_blocking(void **state) {
  (void)state;
  unsigned sem = f_native_cond() ? F_BIT(SP_FAULT_COND_INIT_) | wait_sites()
                                 : wait_sites();
  unsigned s = init_sites() | sem;
  f_spec legacy = {
      "gil/legacy+sem", legacy_blocking_fn, s, s, F_BIT(SP_FAULT_WAIT_), 0};
  f_matrix(&legacy);
  f_spec prio = {
      "gil/priority+sem", priority_blocking_fn, s, s, F_BIT(SP_FAULT_WAIT_), 0};
  f_matrix(&prio);
  f_spec fair = {"gil/fair+sem", fair_blocking_fn, s, s,
                 wait_sites(),   F_NO_PERSISTENT};
  f_matrix(&fair);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_legacy),
      cmocka_unit_test(test_priority),
      cmocka_unit_test(test_fair),
      cmocka_unit_test(test_blocking),
  };
  f_watchdog_start();
  int rc = T_RUN("faults_gil", tests);
  f_watchdog_stop();
  return rc;
}
