/* Python's Condition on sp_cond_t: wait_for (one deadline for the whole
 * loop), notify(n), the conditions over an sp_rlock_t (any recursion
 * level, released completely and restored) and over an sp_lock_t, the
 * _until waits, and the RLock's recursion count and locked() query; after
 * CPython's lock_tests (test_wait_for, test_wait_for_timeout, test_notify,
 * RLockTests.test_recursion_count). Every scenario runs with each kind of
 * lock: a mutex, an rlock held once, an rlock held three times, a lock. */
#include "helpers.h"

#include <string.h>

enum { K_MUTEX, K_RLOCK1, K_RLOCK3, K_LOCK, NKINDS };
static const char *const kind_name[NKINDS] = {"mutex", "rlock", "rlock x3",
                                              "lock"};

typedef struct cv {
  int kind;
  sp_mutex_t m;
  sp_rlock_t r;
  sp_lock_t l;
  sp_cond_t c;
} cv_t;

static void cv_init(cv_t *v, int kind) {
  memset(v, 0, sizeof *v);
  v->kind = kind;
  assert_rc(SP_OK, sp_mutex_init(&v->m));
  assert_rc(SP_OK, sp_rlock_init(&v->r));
  assert_rc(SP_OK, sp_lock_init(&v->l));
  assert_rc(SP_OK, sp_cond_init(&v->c));
}

static void cv_fini(cv_t *v) {
  assert_rc(SP_OK, sp_cond_destroy(&v->c));
  assert_rc(SP_OK, sp_lock_destroy(&v->l));
  assert_rc(SP_OK, sp_rlock_destroy(&v->r));
  assert_rc(SP_OK, sp_mutex_destroy(&v->m));
}

static int cv_level(const cv_t *v) {
  return v->kind == K_RLOCK3 ? 3 : 1;
}

static void cv_lock(cv_t *v) {
  switch (v->kind) {
  case K_MUTEX:
    assert_rc(SP_OK, sp_mutex_lock(&v->m));
    break;
  case K_LOCK:
    assert_rc(SP_OK, sp_lock_acquire(&v->l, SP_FOREVER));
    break;
  default:
    for (int i = 0; i < cv_level(v); i++)
      assert_rc(SP_OK, sp_rlock_acquire(&v->r, SP_FOREVER));
  }
}

static void cv_unlock(cv_t *v) {
  switch (v->kind) {
  case K_MUTEX:
    assert_rc(SP_OK, sp_mutex_unlock(&v->m));
    break;
  case K_LOCK:
    assert_rc(SP_OK, sp_lock_release(&v->l));
    break;
  default:
    assert_int_equal(cv_level(v), (int)sp_rlock_count(&v->r));
    for (int i = 0; i < cv_level(v); i++)
      assert_rc(SP_OK, sp_rlock_release(&v->r));
  }
}

/* After any wait: the caller holds the lock again, at its level. */
static void cv_check_held(cv_t *v) {
  switch (v->kind) {
  case K_MUTEX:
    assert_rc(SP_EPERM, sp_mutex_trylock(&v->m)); /* held by the caller */
    break;
  case K_LOCK:
    assert_int_equal(1, sp_lock_locked(&v->l));
    break;
  default:
    assert_int_equal(cv_level(v), (int)sp_rlock_count(&v->r));
  }
}

/* One wait on condition c with v's kind of lock: a plain wait if pred is
 * NULL, else a wait_for; t is a timeout, or a deadline if until. */
static int cv_wait_raw(cv_t *v, sp_cond_t *c, int (*pred)(void *), void *arg,
                       int64_t t, int until) {
  switch (v->kind) {
  case K_MUTEX:
    if (pred)
      return until ? sp_cond_wait_for_until(c, &v->m, pred, arg, t)
                   : sp_cond_wait_for(c, &v->m, pred, arg, t);
    return until ? sp_cond_wait_until(c, &v->m, t) : sp_cond_wait(c, &v->m, t);
  case K_LOCK:
    if (pred)
      return until ? sp_cond_wait_for_lock_until(c, &v->l, pred, arg, t)
                   : sp_cond_wait_for_lock(c, &v->l, pred, arg, t);
    return until ? sp_cond_wait_lock_until(c, &v->l, t)
                 : sp_cond_wait_lock(c, &v->l, t);
  default:
    if (pred)
      return until ? sp_cond_wait_for_rlock_until(c, &v->r, pred, arg, t)
                   : sp_cond_wait_for_rlock(c, &v->r, pred, arg, t);
    return until ? sp_cond_wait_rlock_until(c, &v->r, t)
                 : sp_cond_wait_rlock(c, &v->r, t);
  }
}

/* cv_wait_raw on v's condition, then (unless refused) check the caller
 * holds the lock again. */
static int cv_wait_checked(cv_t *v, int (*pred)(void *), void *arg, int64_t t,
                           int until) {
  int rc = cv_wait_raw(v, &v->c, pred, arg, t, until);
  if (rc != SP_EINVAL && rc != SP_EPERM)
    cv_check_held(v);
  return rc;
}

static int cv_wait(cv_t *v, int64_t timeout) {
  return cv_wait_checked(v, NULL, NULL, timeout, 0);
}

static int cv_wait_until(cv_t *v, int64_t deadline) {
  return cv_wait_checked(v, NULL, NULL, deadline, 1);
}

static int cv_wait_for(cv_t *v, int (*pred)(void *), void *arg,
                       int64_t timeout) {
  return cv_wait_checked(v, pred, arg, timeout, 0);
}

static int cv_wait_for_until(cv_t *v, int (*pred)(void *), void *arg,
                             int64_t deadline) {
  return cv_wait_checked(v, pred, arg, deadline, 1);
}

/* ---- shared state of the scenarios ------------------------------------ */

typedef struct {
  cv_t v;
  int state;        /* under the lock */
  int target;       /* the predicate: state >= target */
  int evals;        /* under the lock: predicate evaluations */
  int held_in_pred; /* under the lock: evaluations that saw the lock held */
  int waiting;      /* under the lock: threads that announced a wait */
  int woken;        /* atomic */
  int done;         /* atomic */
  int go;           /* under the lock: grants for the phased tests */
  int rc[T_MAX_BUNCH];
  int64_t elapsed[T_MAX_BUNCH];
  int64_t timeout;
} sh_t;

static sh_t *sh_new(int kind) {
  static sh_t s;
  memset(&s, 0, sizeof s);
  cv_init(&s.v, kind);
  return &s;
}

static int reached(void *p) {
  sh_t *s = p;
  s->evals++;
  cv_check_held(&s->v);
  s->held_in_pred++;
  return s->state >= s->target;
}

/* Wait until `n` threads announced a wait under the lock: once the lock
 * can be taken with waiting == n, they are all inside the wait. */
static void wait_for_waiters(sh_t *s, int n) {
  int64_t end = t_now_ns() + 10 * SP_NS_PER_S;
  for (;;) {
    cv_lock(&s->v);
    int w = s->waiting;
    cv_unlock(&s->v);
    if (w >= n)
      return;
    if (t_now_ns() > end)
      fail_msg("only %d of %d waiters arrived", w, n);
    t_sleep_ns(200000);
  }
}

/* ---- wait_for: CPython's test_wait_for and test_wait_for_timeout ------- */

static void wait_for_worker(void *p, int i) {
  sh_t *s = p;
  cv_lock(&s->v);
  s->waiting++;
  int64_t t0 = t_now_ns();
  s->rc[i] = cv_wait_for(&s->v, reached, s, s->timeout);
  s->elapsed[i] = t_now_ns() - t0;
  if (s->rc[i] == SP_OK)
    assert_true(s->state >= s->target);
  s->waiting--;
  cv_unlock(&s->v);
  t_inc(&s->done);
}

/* Start one wait_for_worker and wait until it is inside its wait. */
static void start_waiter(t_bunch *b, sh_t *s) {
  t_bunch_start(b, 1, wait_for_worker, s);
  wait_for_waiters(s, 1);
}

/* Under the lock: make the predicate true (state 1) and notify one. */
static void satisfy_and_notify(sh_t *s) {
  cv_lock(&s->v);
  s->state = 1;
  assert_rc(SP_OK, sp_cond_notify(&s->v.c, 1));
  cv_unlock(&s->v);
}

static void bump_and_notify(sh_t *s, int times) {
  for (int k = 0; k < times; k++) {
    t_sleep_ns(2 * MS);
    cv_lock(&s->v);
    s->state++;
    assert_rc(SP_OK, sp_cond_notify(&s->v.c, 1));
    cv_unlock(&s->v);
  }
}

static void test_wait_for(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    s->target = 4;
    s->timeout = SP_FOREVER;
    t_bunch b;
    start_waiter(&b, s);
    bump_and_notify(s, 4);
    t_bunch_join(&b);
    if (s->rc[0] != SP_OK)
      fail_msg("%s: wait_for returned %s", kind_name[kind],
               sp_strerror(s->rc[0]));
    assert_int_equal(4, s->state);
    assert_true(s->evals >= 2); /* it woke and re-evaluated */
    assert_int_equal(s->evals, s->held_in_pred);
    cv_fini(&s->v);
  }
}

static void test_wait_for_timeout(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    s->target = 4;
    s->timeout = 100 * MS;
    t_bunch b;
    start_waiter(&b, s);
    bump_and_notify(s, 3); /* state == 4 is never reached */
    t_bunch_join(&b);
    assert_rc(SP_TIMEDOUT, s->rc[0]);
    if (s->elapsed[0] < 100 * MS)
      fail_msg("%s: wait_for timed out after %lld ns", kind_name[kind],
               (long long)s->elapsed[0]);
    cv_fini(&s->v);
  }
}

/* One deadline for the whole loop: a notifier keeps waking the waiter for
 * nothing (the predicate stays false) every millisecond; a wait_for that
 * restarted its timeout at each wake-up would never return while the
 * notifier runs, so the notifier stops after many times the timeout's
 * worth of wake-ups, and the test asserts that the waiter returned long
 * before that, with SP_TIMEDOUT, not early, after waking several times. */
typedef struct {
  sh_t *s;
  int notifies;
} nag_t;

static void *nag(void *p) {
  nag_t *n = p;
  sh_t *s = n->s;
  while (!t_load(&s->done) && n->notifies < 50000) {
    cv_lock(&s->v);
    assert_rc(SP_OK, sp_cond_notify(&s->v.c, 1));
    cv_unlock(&s->v);
    n->notifies++;
    t_sleep_ns(1 * MS);
  }
  return NULL;
}

static void test_wait_for_one_deadline(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    /* The nagger must wake the waiter at least twice within the timeout;
     * on a loaded machine it may not be scheduled in time: then the round
     * is tried again with a longer timeout. */
    for (int64_t timeout = 60 * MS;; timeout *= 2) {
      if (timeout > 4 * SP_NS_PER_S)
        fail_msg("%s: the waiter was never woken twice", kind_name[kind]);
      sh_t *s = sh_new(kind);
      s->target = 1; /* never reached: nobody bumps state */
      s->timeout = timeout;
      nag_t n = {s, 0};
      t_bunch b;
      start_waiter(&b, s);
      sp_thread_t t;
      assert_rc(SP_OK, sp_thread_start(&t, nag, &n));
      t_bunch_join(&b);
      assert_rc(SP_OK, sp_thread_join(&t, NULL));
      assert_rc(SP_TIMEDOUT, s->rc[0]);
      assert_true(s->elapsed[0] >= timeout);
      assert_true(n.notifies < 50000);
      int evals = s->evals;
      cv_fini(&s->v);
      if (evals >= 3) /* woken for nothing, and went on waiting */
        break;
    }
  }
}

/* Timeout 0: the predicate is evaluated once, no wait. A predicate that is
 * already true returns at once, whatever the timeout. _until: a deadline
 * already passed evaluates it once and gives SP_TIMEDOUT, not SP_BUSY. */
static void test_wait_for_no_wait(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    cv_lock(&s->v);
    s->target = 1;
    assert_rc(SP_BUSY, cv_wait_for(&s->v, reached, s, 0));
    assert_int_equal(1, s->evals);
    assert_rc(SP_TIMEDOUT, cv_wait_for_until(&s->v, reached, s, 0));
    assert_rc(SP_TIMEDOUT,
              cv_wait_for_until(&s->v, reached, s, sp_now_ns() - 1));
    assert_int_equal(3, s->evals);
    s->state = 1;
    assert_rc(SP_OK, cv_wait_for(&s->v, reached, s, 0));
    assert_rc(SP_OK, cv_wait_for(&s->v, reached, s, SP_FOREVER));
    assert_rc(SP_OK, cv_wait_for_until(&s->v, reached, s, 0));
    assert_rc(SP_OK, cv_wait_for_until(&s->v, reached, s, INT64_MAX));
    assert_int_equal(7, s->evals);
    assert_int_equal(s->evals, s->held_in_pred);
    cv_unlock(&s->v);
    cv_fini(&s->v);
  }
}

/* Several wait_for calls share one deadline through the _until form: the
 * second call, made after the first timed out, returns at once. */
static void test_wait_for_until_shared(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    cv_lock(&s->v);
    s->target = 1;
    int64_t deadline = sp_now_ns() + 20 * MS;
    assert_rc(SP_TIMEDOUT, cv_wait_for_until(&s->v, reached, s, deadline));
    assert_true(sp_now_ns() >= deadline);
    int evals = s->evals;
    assert_rc(SP_TIMEDOUT, cv_wait_for_until(&s->v, reached, s, deadline));
    assert_int_equal(evals + 1, s->evals); /* looked once, did not wait */
    assert_rc(SP_TIMEDOUT, cv_wait_until(&s->v, deadline));
    deadline = sp_now_ns() + 5 * MS;
    assert_rc(SP_TIMEDOUT, cv_wait_until(&s->v, deadline));
    assert_true(sp_now_ns() >= deadline);
    assert_rc(SP_TIMEDOUT, cv_wait(&s->v, 3 * MS));
    cv_unlock(&s->v);
    cv_fini(&s->v);
  }
}

/* ---- notify(n): CPython's test_notify phases --------------------------- */

/* A waiter on a predicate: `go` counts wake-ups granted; each takes one. */
static void phased_worker(void *p, int i) {
  sh_t *s = p;
  cv_lock(&s->v);
  s->waiting++;
  while (s->go == 0) {
    int rc = cv_wait(&s->v, 20 * SP_NS_PER_S);
    if (rc != SP_OK) {
      s->rc[i] = rc;
      break;
    }
  }
  if (s->go > 0) {
    s->go--;
    s->rc[i] = SP_OK;
  }
  s->waiting--;
  t_inc(&s->woken);
  cv_unlock(&s->v);
}

static void grant_notify(sh_t *s, int n, int notify_n) {
  cv_lock(&s->v);
  s->go += n;
  assert_rc(SP_OK, sp_cond_notify(&s->v.c, notify_n));
  cv_unlock(&s->v);
}

static void test_notify_phases(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    t_bunch b;
    t_bunch_start(&b, 5, phased_worker, s);
    wait_for_waiters(s, 5);
    t_sleep_ns(5 * MS);
    assert_int_equal(0, t_load(&s->woken));
    grant_notify(s, 3, 3); /* phase 1: three */
    t_wait_for_count(&s->woken, 3);
    t_sleep_ns(20 * MS);
    assert_int_equal(3, t_load(&s->woken));
    grant_notify(s, 0, 0); /* notify(0) wakes nobody */
    t_sleep_ns(10 * MS);
    assert_int_equal(3, t_load(&s->woken));
    grant_notify(s, 2, 5); /* phase 2: more than wait (two do) */
    t_wait_for_count(&s->woken, 5);
    t_bunch_join(&b);
    for (int i = 0; i < 5; i++)
      assert_rc(SP_OK, s->rc[i]);
    assert_int_equal(0, s->go);
    cv_fini(&s->v);
  }
}

/* Without a predicate, on the backends without spurious wake-ups: notify(n)
 * wakes exactly n of the waiters, the longest-waiting first (FIFO). */
typedef struct {
  sh_t *s;
  int id;
} plain_arg_t;

static int woke_order[16], nwoke; /* under the lock */

static void *plain_worker(void *p) {
  plain_arg_t *a = p;
  sh_t *s = a->s;
  cv_lock(&s->v);
  s->waiting++;
  s->rc[a->id] = cv_wait(&s->v, 20 * SP_NS_PER_S);
  s->waiting--;
  woke_order[nwoke++] = a->id;
  t_inc(&s->woken);
  cv_unlock(&s->v);
  return NULL;
}

static void notify_under_lock(sh_t *s, int n) {
  cv_lock(&s->v);
  assert_rc(SP_OK, sp_cond_notify(&s->v.c, n));
  cv_unlock(&s->v);
}

static void test_notify_exact(void **state) {
  (void)state;
  if (!t_exact_wakeups())
    skip(); /* "pthread", "win32": spurious wake-ups are allowed there */
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    nwoke = 0;
    plain_arg_t args[6];
    sp_thread_t t[6];
    for (int i = 0; i < 6; i++) { /* one at a time: their order is known */
      args[i].s = s;
      args[i].id = i;
      assert_rc(SP_OK, sp_thread_start(&t[i], plain_worker, &args[i]));
      wait_for_waiters(s, i + 1);
    }
    notify_under_lock(s, 2);
    t_wait_for_count(&s->woken, 2);
    t_sleep_ns(20 * MS);
    assert_int_equal(2, t_load(&s->woken));
    notify_under_lock(s, 0);
    notify_under_lock(s, 3);
    t_wait_for_count(&s->woken, 5);
    t_sleep_ns(20 * MS);
    assert_int_equal(5, t_load(&s->woken));
    notify_under_lock(s, 100);
    t_wait_for_count(&s->woken, 6);
    for (int i = 0; i < 6; i++) {
      assert_rc(SP_OK, sp_thread_join(&t[i], NULL));
      assert_rc(SP_OK, s->rc[i]);
    }
    /* FIFO within each notify: 0,1 | 2,3,4 | 5 */
    for (int i = 0; i < 2; i++)
      assert_true(woke_order[i] < 2);
    for (int i = 2; i < 5; i++)
      assert_true(woke_order[i] >= 2 && woke_order[i] < 5);
    assert_int_equal(5, woke_order[5]);
    cv_fini(&s->v);
  }
}

/* ---- the rlock and lock conditions ------------------------------------ */

/* While a thread waits with an rlock held three times, the rlock is free
 * (another thread takes it at once), sp_rlock_destroy refuses it (a waiter
 * will take it back), and the waiter comes back at level 3. The same for
 * a lock. */
typedef struct {
  sh_t *s;
  int rc;
} probe_t;

static void *probe_free(void *p) {
  probe_t *pr = p;
  cv_t *v = &pr->s->v;
  if (v->kind == K_LOCK) {
    pr->rc = sp_lock_acquire(&v->l, 0);
    if (pr->rc == SP_OK) {
      assert_int_equal(1, sp_lock_locked(&v->l));
      assert_rc(SP_OK, sp_lock_release(&v->l));
    }
  } else {
    pr->rc = sp_rlock_acquire(&v->r, 0);
    if (pr->rc == SP_OK) {
      assert_int_equal(1, (int)sp_rlock_count(&v->r));
      assert_rc(SP_OK, sp_rlock_release(&v->r));
    }
  }
  return NULL;
}

static void test_lock_released_while_waiting(void **state) {
  (void)state;
  for (int kind = K_RLOCK1; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    s->target = 1;
    s->timeout = SP_FOREVER;
    t_bunch b;
    start_waiter(&b, s);
    /* the waiter holds nothing now */
    probe_t pr = {s, 12345};
    sp_thread_t t;
    assert_rc(SP_OK, sp_thread_start(&t, probe_free, &pr));
    assert_rc(SP_OK, sp_thread_join(&t, NULL));
    assert_rc(SP_OK, pr.rc);
    if (kind == K_LOCK) {
      assert_int_equal(0, sp_lock_locked(&s->v.l));
      assert_rc(SP_EPERM, sp_lock_destroy(&s->v.l));
    } else {
      assert_int_equal(0, sp_rlock_locked(&s->v.r));
      assert_int_equal(0, (int)sp_rlock_count(&s->v.r));
      assert_rc(SP_EPERM, sp_rlock_destroy(&s->v.r));
    }
    satisfy_and_notify(s);
    t_bunch_join(&b); /* wait_for_worker checked the level on return */
    assert_rc(SP_OK, s->rc[0]);
    cv_fini(&s->v);
  }
}

/* The caller must hold the lock to wait or wake: SP_EPERM, nothing
 * changed. */
static void *notify_from_other(void *p) {
  sh_t *s = p;
  return (void *)(intptr_t)sp_cond_notify(&s->v.c, 1);
}

static void test_must_hold_lock(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    sh_t *s = sh_new(kind);
    s->target = 1;
    assert_rc(SP_EPERM, cv_wait(&s->v, 0));
    assert_rc(SP_EPERM, cv_wait(&s->v, SP_FOREVER));
    assert_rc(SP_EPERM, cv_wait_until(&s->v, INT64_MAX));
    assert_rc(SP_EPERM, cv_wait_for(&s->v, reached, s, SP_FOREVER));
    assert_rc(SP_EPERM, cv_wait_for_until(&s->v, reached, s, INT64_MAX));
    assert_int_equal(0, s->evals);
    /* nobody waits: waking is allowed without the lock, and a no-op */
    assert_rc(SP_OK, sp_cond_notify(&s->v.c, 3));
    assert_rc(SP_OK, sp_cond_signal(&s->v.c));
    /* a waiter: waking it without the lock is refused */
    s->timeout = SP_FOREVER;
    t_bunch b;
    start_waiter(&b, s);
    if (kind != K_LOCK) { /* an sp_lock_t has no owner to check */
      assert_rc(SP_EPERM, sp_cond_notify(&s->v.c, 1));
      assert_rc(SP_EPERM, sp_cond_signal(&s->v.c));
      assert_rc(SP_EPERM, sp_cond_broadcast(&s->v.c));
      /* held by another thread than the caller */
      cv_lock(&s->v);
      sp_thread_t t;
      assert_rc(SP_OK, sp_thread_start(&t, notify_from_other, s));
      void *r = NULL;
      assert_rc(SP_OK, sp_thread_join(&t, &r));
      assert_rc(SP_EPERM, (int)(intptr_t)r);
      cv_unlock(&s->v);
    } else {
      assert_rc(SP_EPERM, sp_cond_notify(&s->v.c, 1)); /* not locked */
    }
    satisfy_and_notify(s);
    t_bunch_join(&b);
    assert_rc(SP_OK, s->rc[0]);
    cv_fini(&s->v);
  }
}

/* One lock per condition at a time: while a thread waits with one lock, a
 * wait with another lock (or the same object as another kind) is refused;
 * once the waiters have left, the condition takes any lock. */
static void test_one_lock_at_a_time(void **state) {
  (void)state;
  sh_t *s = sh_new(K_MUTEX);
  s->target = 1;
  s->timeout = SP_FOREVER;
  t_bunch b;
  start_waiter(&b, s);
  sp_rlock_t r = SP_RLOCK_INIT;
  sp_lock_t l = SP_LOCK_INIT;
  sp_mutex_t m2 = SP_MUTEX_INIT;
  assert_rc(SP_OK, sp_rlock_acquire(&r, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock(&s->v.c, &r, 1 * MS));
  assert_int_equal(1, (int)sp_rlock_count(&r));
  assert_rc(SP_OK, sp_rlock_release(&r));
  assert_rc(SP_OK, sp_lock_acquire(&l, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_cond_wait_lock(&s->v.c, &l, 1 * MS));
  assert_int_equal(1, sp_lock_locked(&l));
  assert_rc(SP_OK, sp_lock_release(&l));
  assert_rc(SP_OK, sp_mutex_lock(&m2));
  assert_rc(SP_EINVAL, sp_cond_wait(&s->v.c, &m2, 1 * MS));
  assert_rc(SP_OK, sp_mutex_unlock(&m2));
  satisfy_and_notify(s);
  t_bunch_join(&b);
  assert_rc(SP_OK, s->rc[0]);
  /* no waiter left: the same condition now waits with the rlock */
  assert_rc(SP_OK, sp_rlock_acquire(&r, SP_FOREVER));
  assert_rc(SP_TIMEDOUT, sp_cond_wait_rlock(&s->v.c, &r, 1 * MS));
  assert_rc(SP_OK, sp_rlock_release(&r));
  cv_fini(&s->v);
}

static int never(void *p) {
  (void)p;
  return 0;
}

static void test_bad_input(void **state) {
  (void)state;
  sh_t *s = sh_new(K_MUTEX);
  cv_t *v = &s->v;
  assert_rc(SP_OK, sp_mutex_lock(&v->m));
  assert_rc(SP_EINVAL, sp_cond_wait_for(&v->c, &v->m, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_for(NULL, &v->m, never, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_for(&v->c, NULL, never, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_for(&v->c, &v->m, never, NULL, -2));
  assert_rc(SP_EINVAL, sp_cond_wait_for_until(&v->c, &v->m, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_until(NULL, &v->m, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_until(&v->c, NULL, 0));
  assert_rc(SP_OK, sp_mutex_unlock(&v->m));
  assert_rc(SP_EINVAL, sp_cond_notify(&v->c, -1));
  assert_rc(SP_EINVAL, sp_cond_notify(NULL, 1));
  assert_rc(SP_OK, sp_rlock_acquire(&v->r, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock(&v->c, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock(NULL, &v->r, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock(&v->c, &v->r, -5));
  assert_rc(SP_EINVAL, sp_cond_wait_for_rlock(&v->c, &v->r, NULL, NULL, 0));
  assert_rc(SP_EINVAL,
            sp_cond_wait_for_rlock_until(&v->c, &v->r, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock_until(&v->c, NULL, 0));
  assert_rc(SP_OK, sp_rlock_release(&v->r));
  assert_rc(SP_OK, sp_lock_acquire(&v->l, SP_FOREVER));
  assert_rc(SP_EINVAL, sp_cond_wait_lock(&v->c, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_lock(&v->c, &v->l, -5));
  assert_rc(SP_EINVAL, sp_cond_wait_for_lock(&v->c, &v->l, NULL, NULL, 0));
  assert_rc(SP_EINVAL,
            sp_cond_wait_for_lock_until(&v->c, &v->l, NULL, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_lock_until(&v->c, NULL, 0));
  assert_rc(SP_OK, sp_lock_release(&v->l));
  /* destroyed objects */
  sp_rlock_t r;
  assert_rc(SP_OK, sp_rlock_init(&r));
  assert_rc(SP_OK, sp_rlock_destroy(&r));
  assert_rc(SP_EINVAL, sp_cond_wait_rlock(&v->c, &r, 0));
  assert_rc(SP_EINVAL, sp_rlock_count(&r));
  assert_rc(SP_EINVAL, sp_rlock_locked(&r));
  assert_rc(SP_EINVAL, sp_rlock_acquire_until(&r, 0));
  sp_lock_t l;
  assert_rc(SP_OK, sp_lock_init(&l));
  assert_rc(SP_OK, sp_lock_destroy(&l));
  assert_rc(SP_EINVAL, sp_cond_wait_lock(&v->c, &l, 0));
  sp_cond_t dead;
  assert_rc(SP_OK, sp_cond_init(&dead));
  assert_rc(SP_OK, sp_cond_destroy(&dead));
  assert_rc(SP_EINVAL, sp_cond_notify(&dead, 1));
  assert_rc(SP_OK, sp_mutex_lock(&v->m));
  assert_rc(SP_EINVAL, sp_cond_wait_for(&dead, &v->m, never, NULL, 0));
  assert_rc(SP_EINVAL, sp_cond_wait_until(&dead, &v->m, 0));
  assert_rc(SP_OK, sp_mutex_unlock(&v->m));
  assert_rc(SP_EINVAL, sp_rlock_count(NULL));
  assert_rc(SP_EINVAL, sp_rlock_locked(NULL));
  cv_fini(v);
}

/* ---- the RLock's recursion count (CPython's test_recursion_count) ----- */

typedef struct {
  sp_rlock_t r;
  int phase; /* atomic */
  int64_t other_count;
  int other_locked;
} rc_t;

static void *hold_then_release(void *p) {
  rc_t *x = p;
  assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
  assert_rc(SP_OK, sp_rlock_acquire(&x->r, SP_FOREVER));
  t_store(&x->phase, 1);
  t_wait_for_count(&x->phase, 2);
  assert_int_equal(2, (int)sp_rlock_count(&x->r));
  assert_rc(SP_OK, sp_rlock_release(&x->r));
  assert_rc(SP_OK, sp_rlock_release(&x->r));
  t_store(&x->phase, 3);
  return NULL;
}

static void test_recursion_count(void **state) {
  (void)state;
  static rc_t x;
  memset(&x, 0, sizeof x); /* zero-filled: valid */
  assert_int_equal(0, (int)sp_rlock_count(&x.r));
  assert_int_equal(0, sp_rlock_locked(&x.r));
  assert_rc(SP_OK, sp_rlock_acquire(&x.r, SP_FOREVER));
  assert_int_equal(1, (int)sp_rlock_count(&x.r));
  assert_int_equal(1, sp_rlock_locked(&x.r));
  assert_rc(SP_OK, sp_rlock_acquire(&x.r, 0));
  assert_rc(SP_OK, sp_rlock_acquire_until(&x.r, 0)); /* nested: always */
  assert_int_equal(3, (int)sp_rlock_count(&x.r));
  assert_rc(SP_OK, sp_rlock_release(&x.r));
  assert_int_equal(2, (int)sp_rlock_count(&x.r));
  assert_rc(SP_OK, sp_rlock_release(&x.r));
  assert_rc(SP_OK, sp_rlock_release(&x.r));
  assert_int_equal(0, (int)sp_rlock_count(&x.r));
  assert_int_equal(0, sp_rlock_locked(&x.r));
  /* another thread's level is not ours; locked() sees it */
  sp_thread_t t;
  assert_rc(SP_OK, sp_thread_start(&t, hold_then_release, &x));
  t_wait_for_count(&x.phase, 1);
  assert_int_equal(0, (int)sp_rlock_count(&x.r));
  assert_int_equal(1, sp_rlock_locked(&x.r));
  assert_int_equal(0, sp_rlock_is_owned(&x.r));
  t_store(&x.phase, 2);
  t_wait_for_count(&x.phase, 3);
  assert_rc(SP_OK, sp_thread_join(&t, NULL));
  assert_int_equal(0, (int)sp_rlock_count(&x.r));
  assert_int_equal(0, sp_rlock_locked(&x.r));
}

/* ---- stress ----------------------------------------------------------- */

/* Producers and consumers on a bounded buffer guarded by one lock and two
 * predicates (not full, not empty) waited with wait_for and short
 * timeouts, woken with notify(1) and notify(2): every item produced is
 * consumed once, and an rlock holder keeps its level. */
typedef struct {
  cv_t v;
  sp_cond_t not_full;
  int items, cap;
  long produced, consumed; /* under the lock */
  long per_thread;
  int64_t deadline;
  int producers_left; /* under the lock */
} pc_t;

static int pc_not_full(void *p) {
  pc_t *x = p;
  return x->items < x->cap;
}
static int pc_not_empty_or_done(void *p) {
  pc_t *x = p;
  return x->items > 0 || x->producers_left == 0;
}

static int pc_wait_for(pc_t *x, sp_cond_t *c, int (*pred)(void *)) {
  return cv_wait_raw(&x->v, c, pred, x, 2 * MS, 0);
}

static void pc_worker(void *p, int i) {
  pc_t *x = p;
  if (i % 2 == 0) { /* producer */
    for (long k = 1; k <= x->per_thread; k++) {
      cv_lock(&x->v);
      int rc;
      while ((rc = pc_wait_for(x, &x->not_full, pc_not_full)) == SP_TIMEDOUT)
        ;
      assert_rc(SP_OK, rc);
      x->items++;
      x->produced++;
      assert_rc(SP_OK, sp_cond_notify(&x->v.c, k % 2 ? 1 : 2));
      cv_unlock(&x->v);
    }
    cv_lock(&x->v);
    x->producers_left--;
    assert_rc(SP_OK, sp_cond_notify(&x->v.c, 1000));
    cv_unlock(&x->v);
  } else { /* consumer */
    for (;;) {
      cv_lock(&x->v);
      int rc;
      while ((rc = pc_wait_for(x, &x->v.c, pc_not_empty_or_done)) ==
             SP_TIMEDOUT)
        ;
      assert_rc(SP_OK, rc);
      if (x->items == 0) { /* every producer is done */
        cv_unlock(&x->v);
        break;
      }
      x->items--;
      x->consumed++;
      assert_rc(SP_OK, sp_cond_notify(&x->not_full, 1));
      cv_unlock(&x->v);
    }
  }
}

static void test_producer_consumer_stress(void **state) {
  (void)state;
  for (int kind = 0; kind < NKINDS; kind++) {
    static pc_t x;
    memset(&x, 0, sizeof x);
    cv_init(&x.v, kind);
    assert_rc(SP_OK, sp_cond_init(&x.not_full));
    x.cap = 3;
    x.per_thread = t_iters(3000);
    x.producers_left = 3;
    t_bunch b;
    t_bunch_start(&b, 6, pc_worker, &x);
    t_bunch_join(&b);
    assert_int_equal(3 * x.per_thread, x.produced);
    assert_int_equal(x.produced, x.consumed);
    assert_int_equal(0, x.items);
    assert_rc(SP_OK, sp_cond_destroy(&x.not_full));
    cv_fini(&x.v);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wait_for),
      cmocka_unit_test(test_wait_for_timeout),
      cmocka_unit_test(test_wait_for_one_deadline),
      cmocka_unit_test(test_wait_for_no_wait),
      cmocka_unit_test(test_wait_for_until_shared),
      cmocka_unit_test(test_notify_phases),
      cmocka_unit_test(test_notify_exact),
      cmocka_unit_test(test_lock_released_while_waiting),
      cmocka_unit_test(test_must_hold_lock),
      cmocka_unit_test(test_one_lock_at_a_time),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_recursion_count),
      cmocka_unit_test(test_producer_consumer_stress),
  };
  return T_RUN("condition", tests);
}
