/* sp_lock_t: Python's Lock, as a three-state word with a mutex and a
 * condition for the slow path.
 *
 * state_: 0 free; 1 held, no thread in the slow path; 2 held, and threads may
 * wait. Uncontended acquire is one CAS 0->1 and release one exchange to 0,
 * so neither touches mu_/cv_ unless someone waits.
 *
 * Slow path (under mu_): a thread counts itself in waiters_, then loops:
 * exchange state_ to 2; if the old value was 0 it now holds the lock,
 * otherwise it waits on cv_. Release exchanges state_ to 0 and, if the old
 * value was 2, takes mu_ and signals cv_ when waiters_ > 0.
 *
 * No lost wakeup: a waiter sets state_ to 2 and enqueues on cv_ without ever
 * releasing mu_ in between, and a releaser that sees 2 takes mu_ before
 * signalling, so the signal finds the waiter queued. A waiter that is woken
 * and finds the lock taken again (by a barging acquirer) has set state_ to 2
 * once more, so the next release signals again.
 *
 * Timeouts: when its deadline passes, a waiter tries the exchange once more.
 * Either it gets the lock (SP_OK), or the lock is held with state_ 2, so its
 * holder's release will signal a remaining waiter: a wakeup the timed-out
 * waiter may have absorbed is never lost for the others.
 *
 * A slow-path acquirer that leaves no waiter behind stores state_ 1 (CAS 2->1,
 * as any thread may release concurrently) so the next release is fast. */
#include "internal.h"

int sp_lock_init(sp_lock_t *l) {
  if (l == NULL)
    return SP_EINVAL;
  int rc = sp_mutex_init(&l->mu_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&l->cv_);
  if (rc != SP_OK) {
    sp_mutex_destroy(&l->mu_);
    return rc;
  }
  l->state_ = 0;
  l->waiters_ = 0;
  l->magic_ = SP_MAGIC_LOCK_;
  return SP_OK;
}

int sp_lock_destroy(sp_lock_t *l) {
  if (SP_BAD_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  sp_mutex_lock_(&l->mu_);
  unsigned waiters = l->waiters_;
  sp_mutex_unlock_(&l->mu_);
  if (waiters != 0)
    return SP_EPERM;
  l->magic_ = 0;
  sp_cond_destroy(&l->cv_);
  sp_mutex_destroy(&l->mu_);
  return SP_OK;
}

static int sp_lock_slow_(sp_lock_t *l, int64_t deadline) {
  int rc = sp_mutex_lock_(&l->mu_);
  if (rc != SP_OK)
    return rc;
  l->waiters_++;
  for (;;) {
    if (sp_xchg_acq_rel_(&l->state_, 2) == 0) {
      rc = SP_OK;
      break;
    }
    rc = sp_cond_wait_until_(&l->cv_, &l->mu_, deadline);
    if (rc == SP_TIMEDOUT) {
      if (sp_xchg_acq_rel_(&l->state_, 2) == 0)
        rc = SP_OK;
      break;
    }
    if (rc != SP_OK)
      break;
  }
  if (--l->waiters_ == 0 && rc == SP_OK) {
    int two = 2;
    __atomic_compare_exchange_n(&l->state_, &two, 1, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
  }
  sp_mutex_unlock_(&l->mu_);
  return rc;
}

int sp_lock_acquire(sp_lock_t *l, int64_t timeout_ns) {
  if (SP_BAD_(l, SP_MAGIC_LOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  int expected = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&l->state_, &expected, 1)))
    return SP_OK;
  if (timeout_ns == 0)
    return SP_BUSY;
  int64_t deadline;
  sp_deadline_(timeout_ns, &deadline);
  return sp_lock_slow_(l, deadline);
}

int sp_lock_release(sp_lock_t *l) {
  if (SP_BAD_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  int old = sp_xchg_acq_rel_(&l->state_, 0);
  if (SP_LIKELY_(old == 1))
    return SP_OK;
  if (old == 0)
    return SP_EPERM;
  int rc = sp_mutex_lock_(&l->mu_);
  if (rc != SP_OK)
    return rc;
  if (l->waiters_ != 0)
    sp_cond_backend_signal_(&l->cv_);
  sp_mutex_unlock_(&l->mu_);
  return SP_OK;
}

int sp_lock_locked(sp_lock_t *l) {
  if (SP_BAD_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  return sp_load_relaxed_(&l->state_) != 0;
}
