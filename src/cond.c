/* sp_cond_t, the part common to every backend: argument checks, the mutex
 * rules (callers hold the waiters' mutex; one mutex at a time), and the
 * waiter count. The waiting itself is the backend's (cond_native.c or
 * cond_sema.c).
 *
 * c->mutex_ is the mutex of the current waiters: set by the first waiter,
 * cleared by the last one to leave, always under that mutex. Signal and
 * broadcast read it (atomically) to check that the caller holds it. */
#include "internal.h"

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
  if (SP_BAD_(c, SP_MAGIC_COND_))
    return SP_EINVAL;
  if (sp_load_acquire_(&c->mutex_) != NULL)
    return SP_EPERM;
  c->magic_ = 0;
  sp_cond_backend_destroy_(c);
  return SP_OK;
}

int sp_cond_wait_until_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline) {
  sp_mutex_t *bound = sp_load_relaxed_(&c->mutex_);
  if (bound == NULL)
    sp_store_relaxed_(&c->mutex_, m);
  else if (bound != m)
    return SP_EINVAL;
  c->nwaiters_++;
  int rc = sp_cond_backend_wait_(c, m, deadline);
  if (--c->nwaiters_ == 0)
    sp_store_relaxed_(&c->mutex_, (sp_mutex_t *)NULL);
  return rc;
}

int sp_cond_wait(sp_cond_t *c, sp_mutex_t *m, int64_t timeout_ns) {
  if (SP_BAD_(c, SP_MAGIC_COND_) || SP_BAD_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  if (!sp_mutex_held_(m))
    return SP_EPERM;
  return sp_cond_wait_until_(c, m, deadline);
}

/* Returns 1 if *c has waiters and the caller holds their mutex (so it may
 * wake them), SP_OK (0) if nobody waits, SP_EPERM if threads wait and the
 * caller does not hold their mutex, SP_EINVAL for a bad object. c->mutex_ is
 * non-NULL exactly while waiters exist, and both change under that mutex, so
 * a caller that holds it reads a consistent pair. */
static int sp_cond_may_wake_(sp_cond_t *c) {
  if (SP_BAD_(c, SP_MAGIC_COND_))
    return SP_EINVAL;
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
