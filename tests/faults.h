/* The fault-injection matrix's harness (tests/test_faults_*.c, issue 11).
 *
 * A scenario is a short multi-threaded use of one primitive that checks its
 * own invariants (nothing lost, nothing doubled, the object usable and
 * destroyable afterwards). f_matrix() runs it once per fault site with the
 * seam (src/fault.h) only counting the calls made at that site (k = 0),
 * then once for every k from 1 to that count with the k-th call failing,
 * then with every call from the first on failing ("persistent": the first
 * error the scenario sees clears the seam, as when memory comes back). Each
 * run checks:
 *  - the error reaches the caller, with the site's code (SP_ENOMEM for the
 *    allocator, SP_ESYS for the others): a one-shot failure gives exactly
 *    one error result if the k-th call happened (sites whose failure a
 *    primitive may absorb into a success, such as a wait that was chosen
 *    while failing, give at most one), and no other result is unexpected;
 *  - nothing is lost or left locked: the scenario's own checks, done after
 *    f_disarm() with the seam off;
 *  - no spin or deadlock: every loop in a scenario is bounded by a count,
 *    and a watchdog thread ends the process with a message naming the
 *    scenario, site and k if one run takes more than F_RUN_LIMIT_S seconds
 *    (runs take milliseconds; ctest's TIMEOUT is the outer bound).
 * The sites each scenario must reach, may reach, and must not reach are
 * checked too, so the table printed for each scenario ("site: calls") is
 * the coverage of that primitive on this backend.
 *
 * Header-only (static inline): each test file includes it once. */
#ifndef SP_TEST_FAULTS_H
#define SP_TEST_FAULTS_H

#include "helpers.h"

#include "../src/test_hooks.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define F_RUN_LIMIT_S 30

/* The matrix's sites: those where a failure is an error a caller sees.
 * SP_FAULT_SLEEP_ (the last site) is not one: it counts sleeps and injects
 * spurious wake-ups, which tests/test_waits.c covers. */
#define F_NSITES SP_FAULT_SLEEP_
_Static_assert(SP_FAULT_SLEEP_ == SP_FAULT_NSITES_ - 1,
               "the error sites are the ones before SP_FAULT_SLEEP_");

#define F_BIT(site) (1u << (site))
#define F_ALL_SITES ((1u << F_NSITES) - 1u)

static const char *const f_site_names[F_NSITES] = {
    "SEMA_INIT", "COND_INIT", "LAZY_INIT", "ALLOC", "WAIT"};

/* The result a failure at `site` gives the caller. */
static inline int f_site_code(int site) {
  return site == SP_FAULT_ALLOC_ ? SP_ENOMEM : SP_ESYS;
}

/* One run of a scenario. */
typedef struct f_run {
  const char *name; /* scenario */
  int site;         /* the armed site */
  long k;           /* 0: count only */
  int persistent;   /* every call from the k-th fails until the first error */
  int errors;       /* atomic: error results the scenario saw */
  int bad;          /* atomic: unexpected results */
  long calls;       /* calls made at the site (set by f_disarm) */
  int disarmed;     /* f_disarm was called */
  char why[240];    /* the first unexpected result */
} f_run;

/* Record an unexpected result (any thread; the first one is kept). */
static inline void f_bad(f_run *r, const char *fmt, ...) {
  if (__atomic_fetch_add(&r->bad, 1, __ATOMIC_SEQ_CST) != 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->why, sizeof r->why, fmt, ap);
  va_end(ap);
}

/* A result rc that is not the call's normal outcome: 1 if it is the armed
 * site's error (counted; a persistent failure ends here), else records it
 * as unexpected and returns 0. */
static inline int f_error(f_run *r, int rc, const char *what) {
  if (r->k > 0 && rc == f_site_code(r->site)) {
    __atomic_fetch_add(&r->errors, 1, __ATOMIC_SEQ_CST);
    if (r->persistent)
      sp_fault_clear_();
    return 1;
  }
  f_bad(r, "%s: unexpected %s (%d)", what, sp_strerror(rc), rc);
  return 0;
}

/* rc must be `expected`, or the armed site's error: returns 1 for the
 * expected result, 0 otherwise (an error counted or an unexpected result
 * recorded). */
static inline int f_want(f_run *r, int rc, int expected, const char *what) {
  if (rc == expected)
    return 1;
  if (rc == f_site_code(r->site) && r->k > 0)
    (void)f_error(r, rc, what);
  else
    f_bad(r, "%s: got %s (%d), expected %s", what, sp_strerror(rc), rc,
          sp_strerror(expected));
  return 0;
}

/* End the faulty part of a run: remember the site's call count and turn
 * the seam off, so that the scenario's final checks run without faults. */
static inline void f_disarm(f_run *r) {
  r->calls = sp_fault_count_(r->site);
  sp_fault_clear_();
  r->disarmed = 1;
}

/* Retry bound of a scenario's loops: a one-shot failure costs one retry,
 * a persistent one a few (one per thread in flight). */
#define F_RETRIES 64

/* ---- the watchdog ------------------------------------------------------ */

static struct {
  const char *name; /* atomic */
  int site;         /* atomic */
  long k;           /* atomic */
  int persistent;   /* atomic */
  int64_t deadline; /* atomic; 0: idle */
  int quit;         /* atomic */
  t_thread thread;
} f_wd;

static inline void *f_watchdog_main(void *p) {
  (void)p;
  while (!__atomic_load_n(&f_wd.quit, __ATOMIC_SEQ_CST)) {
    int64_t d = __atomic_load_n(&f_wd.deadline, __ATOMIC_SEQ_CST);
    if (d != 0 && t_now_ns() > d) {
      int site = __atomic_load_n(&f_wd.site, __ATOMIC_SEQ_CST);
      fprintf(stderr,
              "WATCHDOG: scenario %s, site %s, k %ld%s did not finish in "
              "%d s on the %s backend: a deadlock or a spin\n",
              __atomic_load_n(&f_wd.name, __ATOMIC_SEQ_CST), f_site_names[site],
              __atomic_load_n(&f_wd.k, __ATOMIC_SEQ_CST),
              __atomic_load_n(&f_wd.persistent, __ATOMIC_SEQ_CST)
                  ? " (persistent)"
                  : "",
              F_RUN_LIMIT_S, sp_backend());
      fflush(stderr);
      _Exit(3);
    }
    t_sleep_ns(20 * MS);
  }
  return NULL;
}

static inline void f_watchdog_start(void) {
  f_wd.thread = t_start(f_watchdog_main, NULL);
}

static inline void f_watchdog_stop(void) {
  __atomic_store_n(&f_wd.quit, 1, __ATOMIC_SEQ_CST);
  t_join(f_wd.thread);
}

static inline void f_watchdog_arm(f_run *r) {
  __atomic_store_n(&f_wd.name, r->name, __ATOMIC_SEQ_CST);
  __atomic_store_n(&f_wd.site, r->site, __ATOMIC_SEQ_CST);
  __atomic_store_n(&f_wd.k, r->k, __ATOMIC_SEQ_CST);
  __atomic_store_n(&f_wd.persistent, r->persistent, __ATOMIC_SEQ_CST);
  __atomic_store_n(&f_wd.deadline,
                   t_now_ns() + (int64_t)F_RUN_LIMIT_S * SP_NS_PER_S,
                   __ATOMIC_SEQ_CST);
}

static inline void f_watchdog_idle(void) {
  __atomic_store_n(&f_wd.deadline, 0, __ATOMIC_SEQ_CST);
}

/* ---- white-box waits ------------------------------------------------------
 * Wait until a condition guarded by mutex m has at least n threads inside
 * sp_cond_wait (read under m), so that the next release really wakes a
 * sleeper. Gives up (recording it) after 20 s: "never happened". */
static inline int f_wait_waiters(f_run *r, sp_mutex_t *m, sp_cond_t *c,
                                 unsigned n) {
  int64_t end = t_now_ns() + 20 * SP_NS_PER_S;
  for (;;) {
    if (sp_mutex_lock(m) != SP_OK) {
      f_bad(r, "cannot lock the object's internal mutex");
      return 0;
    }
    unsigned w = c->nwaiters_;
    (void)sp_mutex_unlock(m);
    if (w >= n)
      return 1;
    if (t_now_ns() > end) {
      f_bad(r, "never saw %u waiters (have %u)", n, w);
      return 0;
    }
    t_yield();
  }
}

/* Wait until the atomic int *p is at least v; 0 (recorded) after 20 s. */
static inline int f_wait_count(f_run *r, int *p, int v) {
  int64_t end = t_now_ns() + 20 * SP_NS_PER_S;
  while (t_load(p) < v) {
    if (t_now_ns() > end) {
      f_bad(r, "count stuck at %d, expected %d", t_load(p), v);
      return 0;
    }
    t_yield();
  }
  return 1;
}

/* ---- the driver ---------------------------------------------------------- */

typedef void (*f_scenario_fn)(f_run *r);

/* What a scenario's sites must do on this backend: `must` sites are
 * reached (count > 0), sites outside `may` are never reached (count 0).
 * `inexact` sites may have their one-shot failure absorbed (at most one
 * error instead of exactly one). */
typedef struct f_spec {
  const char *name;
  f_scenario_fn fn;
  unsigned must;
  unsigned may;
  unsigned inexact;
  int flags; /* F_NO_PERSISTENT */
} f_spec;

/* Skip the persistent-failure runs: the scenario contains a call that is
 * documented to retry a failing wait until it works (FAIR's re-acquire of
 * the GIL in sp_gil_call_blocking), so a failure that never ends is by
 * design never returned. */
#define F_NO_PERSISTENT 1

static inline void f_check_run(const f_run *r) {
  if (r->bad)
    fail_msg("%s [%s] site %s k %ld%s: %d unexpected results; first: %s",
             r->name, sp_backend(), f_site_names[r->site], r->k,
             r->persistent ? " (persistent)" : "", r->bad, r->why);
  if (!r->disarmed)
    fail_msg("%s: the scenario did not call f_disarm", r->name);
}

static inline void f_one(const f_spec *s, f_run *r, int site, long k,
                         int persistent) {
  memset(r, 0, sizeof *r);
  r->name = s->name;
  r->site = site;
  r->k = k;
  r->persistent = persistent;
  f_watchdog_arm(r);
  if (persistent)
    sp_fault_set_from_(site, k);
  else
    sp_fault_set_(site, k);
  s->fn(r);
  f_watchdog_idle();
  sp_fault_clear_();
  f_check_run(r);
}

/* Run the whole matrix of one scenario and print its row of the coverage
 * table. */
static inline void f_matrix(const f_spec *s) {
  f_run r;
  char row[400];
  int len =
      snprintf(row, sizeof row, "matrix %-22s [%s]", s->name, sp_backend());
  for (int site = 0; site < F_NSITES; site++) {
    f_one(s, &r, site, 0, 0); /* count */
    if (r.errors != 0)
      fail_msg("%s: %d errors with no fault armed", s->name, r.errors);
    long n = r.calls;
    if ((s->must & F_BIT(site)) && n == 0)
      fail_msg("%s [%s]: site %s was never reached", s->name, sp_backend(),
               f_site_names[site]);
    if (!(s->may & F_BIT(site)) && n != 0)
      fail_msg("%s [%s]: site %s reached %ld times, expected never", s->name,
               sp_backend(), f_site_names[site], n);
    long runs = 0, absorbed = 0;
    for (long k = 1; k <= n; k++) {
      f_one(s, &r, site, k, 0);
      runs++;
      int want = r.calls >= k ? 1 : 0;
      if (s->inexact & F_BIT(site)) {
        if (r.errors > want)
          fail_msg("%s [%s] site %s k %ld: %d errors for one failure", s->name,
                   sp_backend(), f_site_names[site], k, r.errors);
        absorbed += want - r.errors;
      } else if (r.errors != want) {
        fail_msg("%s [%s] site %s k %ld: %d errors reached the callers, "
                 "expected %d (the k-th of %ld calls failed)",
                 s->name, sp_backend(), f_site_names[site], k, r.errors, want,
                 r.calls);
      }
    }
    /* Persistent failure from the first call and from the middle (not for
     * a wait: a waiter whose post is on its way must wait for it). */
    if (n > 0 && site != SP_FAULT_WAIT_ && !(s->flags & F_NO_PERSISTENT)) {
      long ks[2] = {1, (n + 1) / 2};
      for (int i = 0; i < 2; i++) {
        if (i == 1 && ks[1] == 1)
          break;
        f_one(s, &r, site, ks[i], 1);
        runs++;
        if (r.calls >= ks[i] && r.errors < 1)
          fail_msg("%s [%s] site %s from k %ld: the failure never reached "
                   "a caller",
                   s->name, sp_backend(), f_site_names[site], ks[i]);
      }
    }
    if (len < (int)sizeof row)
      len += snprintf(row + len, sizeof row - (size_t)len, " %s=%ld",
                      f_site_names[site], n);
    if (absorbed > 0 && len < (int)sizeof row)
      len += snprintf(row + len, sizeof row - (size_t)len, "(%ld absorbed)",
                      absorbed);
    (void)runs;
  }
  printf("%s\n", row);
  fflush(stdout);
}

/* 1 on the backends with an OS condition ("pthread", "win32"). */
static inline int f_native_cond(void) {
  return !t_exact_wakeups();
}

#endif
