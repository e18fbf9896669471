/* sp_cond_t, the part common to every backend: argument checks, first-use
 * set-up of zero-filled conditions, the mutex rules (callers hold the
 * waiters' mutex; one mutex at a time), and the waiter counts. The waiting
 * itself is the backend's (cond_native.c or cond_sema.c).
 *
 * c->mutex_ is the mutex of the current waiters. A first waiter binds it
 * with a CAS from NULL, so of two first waiters with different mutexes
 * exactly one is admitted and the other gets SP_EINVAL (issue 11, item 3);
 * a waiter whose mutex differs from the bound one is refused the same way.
 * The last waiter to leave clears it (under that mutex, with a release
 * store after its last write of nwaiters_, which the next binder's
 * acquiring CAS reads). nwaiters_ counts the threads inside the wait and
 * changes only under the bound mutex, so a caller that holds that mutex
 * reads a consistent pair; signal and broadcast read mutex_ (atomically) to
 * check that the caller holds it.
 *
 * The mutex counts its own condition waiters too (m->cond_waiters_, under
 * m), so sp_mutex_destroy refuses a mutex that a waiter will re-lock
 * (issue 11, item 4). */
#include "internal.h"

static int sp_cond_setup_(void *c) {
  sp_cond_t *cv = c;
  cv->mutex_ = NULL;
  cv->nwaiters_ = 0;
  return sp_cond_backend_init_(cv);
}

int sp_cond_init(sp_cond_t *c) {
  if (c == NULL)
    return SP_EINVAL;
  int rc = sp_cond_backend_init_(c);
  if (rc != SP_OK)
    return rc;
  c->mutex_ = NULL;
  c->nwaiters_ = 0;
  c->magic_ = SP_MAGIC_COND_;
  return SP_OK;
}

int sp_cond_destroy(sp_cond_t *c) {
  if (c == NULL)
    return SP_EINVAL;
  unsigned magic = sp_load_acquire_(&c->magic_);
  if (magic == SP_MAGIC_BUSY_)
    return SP_EPERM; /* being set up by a thread using it */
  if (magic != SP_MAGIC_COND_ && magic != 0)
    return SP_EINVAL;
  if (sp_load_acquire_(&c->mutex_) != NULL)
    return SP_EPERM;
  if (magic == SP_MAGIC_COND_)
    sp_cond_backend_destroy_(c);
  c->magic_ = SP_MAGIC_DEAD_;
  return SP_OK;
}

int sp_cond_wait_until_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline) {
  int rc = sp_lazy_init_(&c->magic_, SP_MAGIC_COND_, sp_cond_setup_, c);
  if (rc != SP_OK)
    return rc;
  sp_mutex_t *bound = sp_load_relaxed_(&c->mutex_);
  if (bound == NULL) {
    if (!sp_cas_acquire_(&c->mutex_, &bound, m) && bound != m)
      return SP_EINVAL;
  } else if (bound != m) {
    return SP_EINVAL;
  }
  c->nwaiters_++;
  m->cond_waiters_++;
  rc = sp_cond_backend_wait_(c, m, deadline);
  m->cond_waiters_--;
  if (--c->nwaiters_ == 0)
    sp_store_release_(&c->mutex_, (sp_mutex_t *)NULL);
  return rc;
}

int sp_cond_wait(sp_cond_t *c, sp_mutex_t *m, int64_t timeout_ns) {
  if (c == NULL || SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  unsigned magic = sp_load_acquire_(&c->magic_);
  if (magic != SP_MAGIC_COND_ && magic != 0 && magic != SP_MAGIC_BUSY_)
    return SP_EINVAL;
  if (!sp_mutex_held_(m))
    return SP_EPERM;
  return sp_cond_wait_until_(c, m, deadline);
}

/* Returns 1 if *c has waiters and the caller holds their mutex (so it may
 * wake them), SP_OK (0) if nobody waits, SP_EPERM if threads wait and the
 * caller does not hold their mutex, SP_EINVAL for a bad object. A condition
 * that is zero-filled (or being set up) has never had a waiter: nothing to
 * wake, and no need to set it up. */
static int sp_cond_may_wake_(sp_cond_t *c) {
  if (c == NULL)
    return SP_EINVAL;
  unsigned magic = sp_load_acquire_(&c->magic_);
  if (magic != SP_MAGIC_COND_)
    return magic == 0 || magic == SP_MAGIC_BUSY_ ? SP_OK : SP_EINVAL;
  sp_mutex_t *m = sp_load_relaxed_(&c->mutex_);
  if (m == NULL)
    return SP_OK;
  return sp_mutex_held_(m) ? 1 : SP_EPERM;
}

int sp_cond_signal(sp_cond_t *c) {
  int rc = sp_cond_may_wake_(c);
  if (rc != 1)
    return rc;
  sp_cond_backend_signal_(c);
  return SP_OK;
}

int sp_cond_broadcast(sp_cond_t *c) {
  int rc = sp_cond_may_wake_(c);
  if (rc != 1)
    return rc;
  sp_cond_backend_broadcast_(c);
  return SP_OK;
}
