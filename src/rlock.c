/* sp_rlock_t: Python's RLock, as an sp_lock_t plus an owner and a count
 * (the design of CPython's C RLock).
 *
 * Invariants:
 *  - lock_ is held exactly while the rlock has an owner; owner_ is the
 *    owner's thread id from just after lock_ is acquired until just before
 *    it is released, and 0 otherwise; count_ >= 1 is the owner's depth.
 *  - Only the owner writes owner_ (to itself, then to 0) and count_.
 *
 * Why a thread may test ownership with a plain (relaxed) load of owner_: a
 * thread T reads its own id only if T itself stored it (ids are unique among
 * live threads), and T stores 0 before releasing, so by read-write coherence
 * T never reads back its own id after its release. Any other value means "not
 * mine", whether or not it is stale. So a nested acquire or release touches
 * only count_, which is the owner's, and needs no atomic instruction.
 *
 * count_ and owner_ pass from one owner to the next through lock_, whose
 * acquire/release give the needed happens-before. The uncontended first
 * acquire and last release are sp_lock_t's fast paths (one CAS, one
 * exchange); contention uses its mutex and condition. */
#include "internal.h"

int sp_rlock_init(sp_rlock_t *r) {
  if (r == NULL)
    return SP_EINVAL;
  int rc = sp_lock_init(&r->lock_);
  if (rc != SP_OK)
    return rc;
  r->owner_ = 0;
  r->count_ = 0;
  r->magic_ = SP_MAGIC_RLOCK_;
  return SP_OK;
}

int sp_rlock_destroy(sp_rlock_t *r) {
  if (SP_BAD_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  if (sp_lock_locked(&r->lock_) != 0)
    return SP_EPERM;
  int rc = sp_lock_destroy(&r->lock_); /* SP_EPERM if a thread waits */
  if (rc != SP_OK)
    return rc;
  r->magic_ = 0;
  return SP_OK;
}

int sp_rlock_acquire(sp_rlock_t *r, int64_t timeout_ns) {
  if (SP_BAD_(r, SP_MAGIC_RLOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  uintptr_t self = sp_thread_id_();
  if (sp_load_relaxed_(&r->owner_) == self) {
    if (SP_UNLIKELY_(r->count_ == UINT64_MAX))
      return SP_EPERM;
    r->count_++;
    return SP_OK;
  }
  int rc = sp_lock_acquire(&r->lock_, timeout_ns);
  if (rc != SP_OK)
    return rc;
  r->count_ = 1;
  sp_store_relaxed_(&r->owner_, self);
  return SP_OK;
}

int sp_rlock_release(sp_rlock_t *r) {
  if (SP_BAD_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  if (sp_load_relaxed_(&r->owner_) != sp_thread_id_())
    return SP_EPERM;
  if (--r->count_ != 0)
    return SP_OK;
  sp_store_relaxed_(&r->owner_, (uintptr_t)0);
  return sp_lock_release(&r->lock_);
}

int sp_rlock_is_owned(sp_rlock_t *r) {
  if (SP_BAD_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  return sp_load_relaxed_(&r->owner_) == sp_thread_id_();
}
