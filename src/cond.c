/* sp_cond_t, the part common to every backend: argument checks, first-use
 * set-up of zero-filled conditions, the lock rules (callers hold the
 * waiters' lock; one lock at a time), the waiter counts, and the waits
 * built on the backend's (wait_for, notify(n), the conditions over an
 * sp_rlock_t or an sp_lock_t). The waiting itself is the backend's
 * (cond_native.c or cond_sema.c).
 *
 * c->lock_ is the lock of the current waiters, tagged with its kind
 * (src/internal.h): an sp_mutex_t, an sp_rlock_t or an sp_lock_t. A first
 * waiter binds it with a CAS from 0, so of two first waiters with different
 * locks exactly one is admitted and the other gets SP_EINVAL (issue 11,
 * item 3); a waiter whose lock differs from the bound one is refused the
 * same way (the same object waited on as a mutex and as an rlock is a
 * different tag too). The last waiter to leave clears it (under that lock,
 * with a release store after its last write of nwaiters_, which the next
 * binder's acquiring CAS reads). nwaiters_ counts the threads inside the
 * wait and changes only under the bound lock, so a caller that holds that
 * lock reads a consistent pair; signal, broadcast and notify read lock_
 * (atomically) to check that the caller holds it.
 *
 * The lock counts its own condition waiters too, so its destroy refuses a
 * lock that a waiter will take back (issue 11, item 4): the mutex in
 * m->cond_waiters_ (under m), the rlock and the lock in their waiters_
 * (atomic; the count their destroy reads).
 *
 * Conditions over an sp_rlock_t wait like CPython's Condition over an RLock
 * (_release_save / _acquire_restore): the wait releases the rlock whatever
 * the caller's recursion level, and takes it back at the same level.
 * Over an sp_lock_t (no owner), "held" can only mean "locked": the caller
 * must be the thread that acquired it, which the library cannot check. */
#include "internal.h"

static int sp_cond_setup_(void *c) {
  sp_cond_t *cv = c;
  cv->lock_ = 0;
  cv->nwaiters_ = 0;
  return sp_cond_backend_init_(cv);
}

int sp_cond_init(sp_cond_t *c) {
  if (c == NULL)
    return SP_EINVAL;
  int rc = sp_cond_backend_init_(c);
  if (rc != SP_OK)
    return rc;
  c->lock_ = 0;
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
  if (sp_load_acquire_(&c->lock_) != 0)
    return SP_EPERM;
  if (magic == SP_MAGIC_COND_)
    sp_cond_backend_destroy_(c);
  c->magic_ = SP_MAGIC_DEAD_;
  return SP_OK;
}

/* ---- the waiters' lock ------------------------------------------------ */

#define SP_CL_OBJ_(tag) ((void *)((tag) & ~(uintptr_t)SP_CL_KIND_))

int sp_cl_held_(uintptr_t tag) {
  void *obj = SP_CL_OBJ_(tag);
  switch (tag & SP_CL_KIND_) {
  case SP_CL_MUTEX_:
    return sp_mutex_held_((sp_mutex_t *)obj);
  case SP_CL_RLOCK_:
    return SP_LW_OWNER_(sp_load_relaxed_(&((sp_rlock_t *)obj)->word_)) ==
           sp_self_();
  default:
    return sp_load_relaxed_(&((sp_lock_t *)obj)->state_) != 0;
  }
}

void sp_cl_release_(sp_cond_lock_t_ *k) {
  void *obj = SP_CL_OBJ_(k->tag);
  switch (k->tag & SP_CL_KIND_) {
  case SP_CL_MUTEX_:
    sp_mutex_unlock_((sp_mutex_t *)obj);
    break;
  case SP_CL_RLOCK_: {
    sp_rlock_t *r = obj;
    k->saved = r->count_;
    r->count_ = 0;
    uint32_t self = sp_self_();
    if (!sp_cas_release_(&r->word_, &self, 0u))
      sp_word_unlock_slow_(&r->word_);
    break;
  }
  default:
    sp_lock_release_((sp_lock_t *)obj);
  }
}

void sp_cl_reacquire_(sp_cond_lock_t_ *k) {
  void *obj = SP_CL_OBJ_(k->tag);
  switch (k->tag & SP_CL_KIND_) {
  case SP_CL_MUTEX_:
    (void)sp_mutex_lock_((sp_mutex_t *)obj);
    break;
  case SP_CL_RLOCK_: {
    sp_rlock_t *r = obj;
    uint32_t self = sp_self_(), free_word = 0;
    if (!sp_cas_acquire_(&r->word_, &free_word, self))
      (void)sp_word_lock_slow_(&r->word_, self, SP_NEVER_);
    r->count_ = k->saved;
    break;
  }
  default:
    (void)sp_lock_acquire_until_((sp_lock_t *)obj, SP_NEVER_);
  }
}

/* Count a waiter in (or out of, d = -1) its lock's own waiter count, for
 * the lock's destroy. Called with the lock held. */
static void sp_cl_count_(uintptr_t tag, int d) {
  void *obj = SP_CL_OBJ_(tag);
  switch (tag & SP_CL_KIND_) {
  case SP_CL_MUTEX_:
    ((sp_mutex_t *)obj)->cond_waiters_ += (unsigned)d;
    break;
  case SP_CL_RLOCK_:
    __atomic_fetch_add(&((sp_rlock_t *)obj)->waiters_, (uint32_t)d,
                       __ATOMIC_ACQ_REL);
    break;
  default:
    __atomic_fetch_add(&((sp_lock_t *)obj)->waiters_, (uint32_t)d,
                       __ATOMIC_ACQ_REL);
  }
}

/* ---- waiting ---------------------------------------------------------- */

int sp_cond_wait_lock_until_(sp_cond_t *c, sp_cond_lock_t_ *k,
                             int64_t deadline) {
  int rc = sp_lazy_init_(&c->magic_, SP_MAGIC_COND_, sp_cond_setup_, c);
  if (rc != SP_OK)
    return rc;
  uintptr_t bound = sp_load_relaxed_(&c->lock_);
  if (bound == 0) {
    if (!sp_cas_acquire_(&c->lock_, &bound, k->tag) && bound != k->tag)
      return SP_EINVAL;
  } else if (bound != k->tag) {
    return SP_EINVAL;
  }
  c->nwaiters_++;
  sp_cl_count_(k->tag, 1);
  rc = sp_cond_backend_wait_(c, k, deadline);
  sp_cl_count_(k->tag, -1);
  if (--c->nwaiters_ == 0)
    sp_store_release_(&c->lock_, (uintptr_t)0);
  return rc;
}

/* The checks of every public wait: a usable condition (zero-filled, or
 * being set up, is fine), a valid lock of its kind that the caller holds.
 * SP_OK, SP_EINVAL or SP_EPERM. */
static int sp_cond_check_(sp_cond_t *c, uintptr_t tag) {
  if (c == NULL)
    return SP_EINVAL;
  unsigned magic = sp_load_acquire_(&c->magic_);
  if (magic != SP_MAGIC_COND_ && magic != 0 && magic != SP_MAGIC_BUSY_)
    return SP_EINVAL;
  void *obj = SP_CL_OBJ_(tag);
  switch (tag & SP_CL_KIND_) {
  case SP_CL_MUTEX_:
    if (SP_INVALID_((sp_mutex_t *)obj, SP_MAGIC_MUTEX_))
      return SP_EINVAL;
    break;
  case SP_CL_RLOCK_:
    if (SP_INVALID_((sp_rlock_t *)obj, SP_MAGIC_RLOCK_))
      return SP_EINVAL;
    break;
  default:
    if (SP_INVALID_((sp_lock_t *)obj, SP_MAGIC_LOCK_))
      return SP_EINVAL;
  }
  return sp_cl_held_(tag) ? SP_OK : SP_EPERM;
}

/* A public wait: checks, then one wait until the deadline. */
static int sp_cond_wait_checked_(sp_cond_t *c, const void *lock, int kind,
                                 int64_t deadline) {
  if (lock == NULL)
    return SP_EINVAL;
  sp_cond_lock_t_ k = sp_cl_make_(lock, kind);
  int rc = sp_cond_check_(c, k.tag);
  if (rc != SP_OK)
    return rc;
  return sp_cond_wait_lock_until_(c, &k, deadline);
}

/* A public wait with a relative timeout. */
static int sp_cond_wait_rel_(sp_cond_t *c, const void *lock, int kind,
                             int64_t timeout_ns) {
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_cond_wait_checked_(c, lock, kind, deadline);
}

/* wait_for: one deadline for the whole loop. `try_only` (a timeout of 0):
 * the predicate is evaluated once, no wait. After a wait that timed out,
 * the predicate is evaluated once more (Python does the same), and it
 * decides the result. Before each wait the deadline is checked, so a
 * passed deadline does not release and re-take the lock for nothing. */
static int sp_cond_wait_for_(sp_cond_t *c, const void *lock, int kind,
                             int (*pred)(void *), void *arg, int64_t deadline,
                             int try_only) {
  if (lock == NULL || pred == NULL)
    return SP_EINVAL;
  sp_cond_lock_t_ k = sp_cl_make_(lock, kind);
  int rc = sp_cond_check_(c, k.tag);
  if (rc != SP_OK)
    return rc;
  while (!pred(arg)) {
    if (try_only)
      return SP_BUSY;
    if (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)
      return SP_TIMEDOUT;
    rc = sp_cond_wait_lock_until_(c, &k, deadline);
    if (rc == SP_TIMEDOUT)
      return pred(arg) ? SP_OK : SP_TIMEDOUT;
    if (rc != SP_OK)
      return rc;
  }
  return SP_OK;
}

static int sp_cond_wait_for_rel_(sp_cond_t *c, const void *lock, int kind,
                                 int (*pred)(void *), void *arg,
                                 int64_t timeout_ns) {
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_cond_wait_for_(c, lock, kind, pred, arg, deadline, timeout_ns == 0);
}

int sp_cond_wait(sp_cond_t *c, sp_mutex_t *m, int64_t timeout_ns) {
  return sp_cond_wait_rel_(c, m, SP_CL_MUTEX_, timeout_ns);
}

int sp_cond_wait_until(sp_cond_t *c, sp_mutex_t *m, int64_t deadline_ns) {
  return sp_cond_wait_checked_(c, m, SP_CL_MUTEX_, deadline_ns);
}

int sp_cond_wait_for(sp_cond_t *c, sp_mutex_t *m, int (*pred)(void *),
                     void *arg, int64_t timeout_ns) {
  return sp_cond_wait_for_rel_(c, m, SP_CL_MUTEX_, pred, arg, timeout_ns);
}

int sp_cond_wait_for_until(sp_cond_t *c, sp_mutex_t *m, int (*pred)(void *),
                           void *arg, int64_t deadline_ns) {
  return sp_cond_wait_for_(c, m, SP_CL_MUTEX_, pred, arg, deadline_ns, 0);
}

int sp_cond_wait_rlock(sp_cond_t *c, sp_rlock_t *r, int64_t timeout_ns) {
  return sp_cond_wait_rel_(c, r, SP_CL_RLOCK_, timeout_ns);
}

int sp_cond_wait_rlock_until(sp_cond_t *c, sp_rlock_t *r, int64_t deadline_ns) {
  return sp_cond_wait_checked_(c, r, SP_CL_RLOCK_, deadline_ns);
}

int sp_cond_wait_for_rlock(sp_cond_t *c, sp_rlock_t *r, int (*pred)(void *),
                           void *arg, int64_t timeout_ns) {
  return sp_cond_wait_for_rel_(c, r, SP_CL_RLOCK_, pred, arg, timeout_ns);
}

int sp_cond_wait_for_rlock_until(sp_cond_t *c, sp_rlock_t *r,
                                 int (*pred)(void *), void *arg,
                                 int64_t deadline_ns) {
  return sp_cond_wait_for_(c, r, SP_CL_RLOCK_, pred, arg, deadline_ns, 0);
}

int sp_cond_wait_lock(sp_cond_t *c, sp_lock_t *l, int64_t timeout_ns) {
  return sp_cond_wait_rel_(c, l, SP_CL_LOCK_, timeout_ns);
}

int sp_cond_wait_lock_until(sp_cond_t *c, sp_lock_t *l, int64_t deadline_ns) {
  return sp_cond_wait_checked_(c, l, SP_CL_LOCK_, deadline_ns);
}

int sp_cond_wait_for_lock(sp_cond_t *c, sp_lock_t *l, int (*pred)(void *),
                          void *arg, int64_t timeout_ns) {
  return sp_cond_wait_for_rel_(c, l, SP_CL_LOCK_, pred, arg, timeout_ns);
}

int sp_cond_wait_for_lock_until(sp_cond_t *c, sp_lock_t *l, int (*pred)(void *),
                                void *arg, int64_t deadline_ns) {
  return sp_cond_wait_for_(c, l, SP_CL_LOCK_, pred, arg, deadline_ns, 0);
}

/* ---- waking ----------------------------------------------------------- */

/* Returns 1 if *c has waiters and the caller holds their lock (so it may
 * wake them), SP_OK (0) if nobody waits, SP_EPERM if threads wait and the
 * caller does not hold their lock, SP_EINVAL for a bad object. A condition
 * that is zero-filled (or being set up) has never had a waiter: nothing to
 * wake, and no need to set it up. */
static int sp_cond_may_wake_(sp_cond_t *c) {
  if (c == NULL)
    return SP_EINVAL;
  unsigned magic = sp_load_acquire_(&c->magic_);
  if (magic != SP_MAGIC_COND_)
    return magic == 0 || magic == SP_MAGIC_BUSY_ ? SP_OK : SP_EINVAL;
  uintptr_t tag = sp_load_relaxed_(&c->lock_);
  if (tag == 0)
    return SP_OK;
  return sp_cl_held_(tag) ? 1 : SP_EPERM;
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

/* notify(n): n signals, each choosing a waiter that no earlier one chose
 * (the backends' signal promise), all under the waiters' lock so that no
 * new waiter joins in between; a broadcast when n covers every thread
 * inside the wait (nwaiters_ also counts chosen ones not yet returned, so
 * it is an upper bound of the waiters a signal can still choose). */
int sp_cond_notify(sp_cond_t *c, int n) {
  if (n < 0)
    return SP_EINVAL;
  int rc = sp_cond_may_wake_(c);
  if (rc != 1)
    return rc;
  if ((unsigned)n >= c->nwaiters_) {
    sp_cond_backend_broadcast_(c);
    return SP_OK;
  }
  while (n-- > 0)
    sp_cond_backend_signal_(c);
  return SP_OK;
}
