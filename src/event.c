/* sp_event_t: Python's Event, as a flag, an epoch counter, a mutex and a
 * condition.
 *
 * Invariants (under mu_):
 *  - flag_ is the event's state; epoch_ counts its 0 -> 1 transitions, and
 *    each transition broadcasts cv_ before mu_ is released.
 *  - A thread sleeps in cv_ only while epoch_ equals the value it read when
 *    it found flag_ == 0 (under the same hold of mu_ as its first wait).
 *
 * CPython issue 13502: a waiter must return success for a set that happened
 * while it waited, even if the flag was cleared before it ran again. Testing
 * flag_ after waking would miss such a set; testing epoch_ cannot: once a
 * set moved epoch_ past the waiter's value it never comes back (64 bits do
 * not wrap), so the waiter returns SP_OK whenever a set happened after it
 * started waiting, and never otherwise (spurious wakeups and a set of an
 * already set event leave epoch_ alone).
 *
 * No lost wakeup: the waiter reads flag_ and epoch_ and enqueues on cv_
 * under one hold of mu_, and set changes both and broadcasts under mu_.
 * A timed-out waiter re-tests epoch_ under mu_, so a set that raced with its
 * timeout is reported as SP_OK.
 *
 * Fast paths: flag_ is written (under mu_) with release order and read
 * lock-free with acquire order by sp_event_is_set() and by sp_event_wait()
 * before it takes mu_, so a caller that sees the flag raised also sees what
 * the setter wrote before sp_event_set().
 *
 * Static initialisation: a zero-filled event (SP_EVENT_INIT) is a clear
 * event; its mutex and condition are valid zero-filled too.
 *
 * Lifetime: set raises the flag and broadcasts under mu_; its last access is
 * the unlock of mu_, which obeys the mutex's rule (src/mutex.c): after it
 * frees the word, only the wake call and the posts of chosen waiters, who
 * are still inside their wait. A thread that saw the flag on the lock-free
 * fast path and then calls sp_event_destroy takes mu_ first, so it waits
 * for the setter's unlock.
 *
 * Errors: a wait that fails with SP_ESYS (a per-wait semaphore could not be
 * made; a zero-filled condition's set-up failed) re-tests epoch_ under mu_
 * and returns SP_OK if a set happened, else the error. */
#include "internal.h"

int sp_event_init(sp_event_t *e) {
  if (e == NULL)
    return SP_EINVAL;
  int rc = sp_mutex_init(&e->mu_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&e->cv_);
  if (rc != SP_OK)
    return rc;
  e->flag_ = 0;
  e->epoch_ = 0;
  e->magic_ = SP_MAGIC_EVENT_;
  return SP_OK;
}

int sp_event_destroy(sp_event_t *e) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  (void)sp_mutex_lock_(&e->mu_);
  unsigned waiters = e->cv_.nwaiters_;
  sp_mutex_unlock_(&e->mu_);
  if (waiters != 0)
    return SP_EPERM;
  e->magic_ = SP_MAGIC_DEAD_;
  (void)sp_cond_destroy(&e->cv_);
  (void)sp_mutex_destroy(&e->mu_);
  return SP_OK;
}

int sp_event_set(sp_event_t *e) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  (void)sp_mutex_lock_(&e->mu_);
  if (e->flag_ == 0) {
    sp_store_release_(&e->flag_, 1);
    e->epoch_++;
    if (e->cv_.nwaiters_ != 0)
      sp_cond_backend_broadcast_(&e->cv_);
  }
  sp_mutex_unlock_(&e->mu_);
  return SP_OK;
}

int sp_event_clear(sp_event_t *e) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  (void)sp_mutex_lock_(&e->mu_);
  sp_store_relaxed_(&e->flag_, 0);
  sp_mutex_unlock_(&e->mu_);
  return SP_OK;
}

int sp_event_is_set(sp_event_t *e) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  return sp_load_acquire_(&e->flag_);
}

/* Wait on a valid event whose flag was clear at the lock-free check. */
static int sp_event_wait_(sp_event_t *e, int64_t deadline) {
  int rc = sp_mutex_lock_(&e->mu_);
  if (e->flag_ == 0) {
    uint64_t epoch = e->epoch_;
    while (rc == SP_OK && e->epoch_ == epoch)
      rc = sp_cond_wait_until_(&e->cv_, &e->mu_, deadline);
    if (e->epoch_ != epoch)
      rc = SP_OK; /* a set happened while we waited */
  }
  sp_mutex_unlock_(&e->mu_);
  return rc;
}

int sp_event_wait(sp_event_t *e, int64_t timeout_ns) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  if (sp_load_acquire_(&e->flag_))
    return SP_OK;
  if (timeout_ns == 0)
    return SP_BUSY;
  return sp_event_wait_(e, deadline);
}

int sp_event_wait_until(sp_event_t *e, int64_t deadline_ns) {
  if (SP_INVALID_(e, SP_MAGIC_EVENT_))
    return SP_EINVAL;
  if (sp_load_acquire_(&e->flag_))
    return SP_OK;
  return sp_event_wait_(e, deadline_ns);
}
