/* sp_sem_t: Python's Semaphore and BoundedSemaphore, as a value under a
 * mutex and one condition (CPython's algorithm).
 *
 * Invariants (under mu_): 0 <= value_ <= limit, where limit is bound_ for a
 * BoundedSemaphore and INT_MAX otherwise. A release that would break it
 * changes nothing.
 *
 * acquire: while value_ == 0, wait on cv_ (until the deadline); then take
 * one unit. release(n): add n, then signal cv_ min(n, waiters) times.
 *
 * No lost wakeup. Let U be the threads asleep in cv_ that no signal has
 * chosen, and P the threads a signal chose (or that woke spuriously) that
 * have not yet re-tested value_. Invariant, whenever mu_ is free:
 *     U > 0  implies  value_ <= P,
 * i.e. while a thread sleeps unchosen, every unit is headed for by a woken
 * thread. Each step keeps it:
 *  - a thread goes to sleep only after finding value_ == 0, and it tests
 *    and enqueues on cv_ without releasing mu_;
 *  - release(n), under mu_, adds n and signals min(n, cv_.nwaiters_) times;
 *    nwaiters_ >= U, and each signal moves a distinct unchosen sleeper from
 *    U to P (sp_cond_t: no lost, no stolen wakeup), so either U becomes 0
 *    or P grows by n as value_ does;
 *  - a thread of P re-tests: it takes a unit (value_ and P drop by one), or
 *    finds 0 and sleeps again (an acquirer that barged in took the unit);
 *  - a barging acquirer only lowers value_;
 *  - a timed-out waiter re-tests value_ under mu_ and takes a unit if there
 *    is one (SP_OK), so a wakeup that raced with its timeout is used, not
 *    lost; it leaves with SP_TIMEDOUT only when value_ is 0.
 * So a unit is never left unclaimed while an acquirer sleeps.
 *
 * Static initialisation: SP_SEM_INIT(value, bound) fills value_ and bound_
 * and leaves magic_ 0; the first call checks them (the checks of
 * sp_sem_init) through sp_lazy_init_ and returns SP_EINVAL from every call
 * if they are bad. A zero-filled semaphore is an unbounded one of value 0.
 *
 * Lifetime: release makes units available under mu_ and signals under mu_;
 * its last access to the semaphore is the unlock of mu_, which obeys the
 * mutex's rule (src/mutex.c): after freeing the word it only wakes, and
 * posts the emulated condition's chosen waiters, which are still inside
 * their wait. So an acquirer that took the unit may destroy the semaphore
 * as soon as it returns, even if the releaser has not returned yet.
 *
 * Errors: a wait that fails with SP_ESYS (a per-wait semaphore could not be
 * made; a zero-filled condition's set-up failed) re-tests value_ under mu_
 * like a timed-out one: it takes a unit that is there (SP_OK), else returns
 * the error with the value unchanged by this call. */

#include <limits.h>

#include "internal.h"

static int sp_sem_params_ok_(int value, int bound) {
  return value >= 0 && bound >= 0 && (bound == 0 || value <= bound);
}

/* First use of a statically initialised semaphore: check its parameters. */
static int sp_sem_setup_(void *p) {
  sp_sem_t *s = p;
  return sp_sem_params_ok_(s->value_, s->bound_) ? SP_OK : SP_EINVAL;
}

/* SP_OK for a usable semaphore (set up if zero-filled), SP_EINVAL for a bad
 * one, or the first-use set-up's error. */
static inline int sp_sem_ready_(sp_sem_t *s) {
  if (s == NULL)
    return SP_EINVAL;
  return sp_lazy_init_(&s->magic_, SP_MAGIC_SEM_, sp_sem_setup_, s);
}

int sp_sem_init(sp_sem_t *s, int value, int bound) {
  if (s == NULL || !sp_sem_params_ok_(value, bound))
    return SP_EINVAL;
  int rc = sp_mutex_init(&s->mu_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&s->cv_);
  if (rc != SP_OK)
    return rc;
  s->value_ = value;
  s->bound_ = bound;
  s->magic_ = SP_MAGIC_SEM_;
  return SP_OK;
}

int sp_sem_destroy(sp_sem_t *s) {
  int rc = sp_sem_ready_(s);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&s->mu_);
  unsigned waiters = s->cv_.nwaiters_;
  sp_mutex_unlock_(&s->mu_);
  if (waiters != 0)
    return SP_EPERM;
  s->magic_ = SP_MAGIC_DEAD_;
  (void)sp_cond_destroy(&s->cv_);
  (void)sp_mutex_destroy(&s->mu_);
  return SP_OK;
}

/* Acquire on a ready semaphore: SP_BUSY at once if try_only, else wait
 * until the deadline. */
static int sp_sem_acquire_(sp_sem_t *s, int64_t deadline, int try_only) {
  int rc = sp_mutex_lock_(&s->mu_);
  if (s->value_ == 0 && try_only)
    rc = SP_BUSY;
  while (rc == SP_OK && s->value_ == 0) {
    rc = sp_cond_wait_until_(&s->cv_, &s->mu_, deadline);
    if (rc != SP_OK && s->value_ > 0)
      rc = SP_OK; /* a unit is here after all: take it, lose no wakeup */
  }
  if (rc == SP_OK)
    s->value_--;
  sp_mutex_unlock_(&s->mu_);
  return rc;
}

int sp_sem_acquire(sp_sem_t *s, int64_t timeout_ns) {
  int rc = sp_sem_ready_(s);
  if (rc != SP_OK)
    return rc;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_sem_acquire_(s, deadline, timeout_ns == 0);
}

int sp_sem_acquire_until(sp_sem_t *s, int64_t deadline_ns) {
  int rc = sp_sem_ready_(s);
  if (rc != SP_OK)
    return rc;
  return sp_sem_acquire_(s, deadline_ns, 0);
}

int sp_sem_release(sp_sem_t *s, int n) {
  int rc = sp_sem_ready_(s);
  if (rc != SP_OK)
    return rc;
  if (n < 1)
    return SP_EINVAL;
  (void)sp_mutex_lock_(&s->mu_);
  int limit = s->bound_ > 0 ? s->bound_ : INT_MAX;
  if (n > limit - s->value_) {
    sp_mutex_unlock_(&s->mu_);
    return SP_EPERM;
  }
  s->value_ += n;
  unsigned wake = s->cv_.nwaiters_;
  if ((unsigned)n < wake)
    wake = (unsigned)n;
  while (wake-- > 0)
    sp_cond_backend_signal_(&s->cv_);
  sp_mutex_unlock_(&s->mu_);
  return SP_OK;
}

int sp_sem_value(sp_sem_t *s) {
  int rc = sp_sem_ready_(s);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&s->mu_);
  int v = s->value_;
  sp_mutex_unlock_(&s->mu_);
  return v;
}
