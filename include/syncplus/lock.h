/* libsyncplus: sp_lock_t, Python's threading.Lock.
 *
 * A binary lock with a timed acquire that any thread may release (it has no
 * owner): a thread can acquire it and another release it, which makes it a
 * binary semaphore as well as a lock. It is not recursive: a thread that
 * acquires it twice blocks until someone releases it.
 *
 * Fast paths: an uncontended acquire or release is one atomic instruction;
 * the internal mutex and condition are touched only when threads wait.
 * Waiters are not ordered (a releasing thread may re-acquire before a waiter
 * wakes), as in CPython.
 *
 * Every function returns SP_EINVAL for a NULL, uninitialised or destroyed
 * lock. All functions are thread-safe except init and destroy. */
#ifndef SYNCPLUS_LOCK_H
#define SYNCPLUS_LOCK_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_lock {
  int state_;        /* 0 free, 1 held, 2 held and maybe waited on (atomic) */
  unsigned waiters_; /* threads in the slow path (under mu_) */
  sp_mutex_t mu_;
  sp_cond_t cv_;
  unsigned magic_;
} sp_lock_t;

/* Make *l an unlocked lock. SP_OK, or SP_ESYS/SP_ENOMEM. */
SP_API int sp_lock_init(sp_lock_t *l);

/* Destroy *l, locked or not. SP_OK; SP_EPERM if a thread is waiting in
 * sp_lock_acquire() (the lock stays usable). */
SP_API int sp_lock_destroy(sp_lock_t *l);

/* Acquire *l, waiting at most timeout_ns (SP_FOREVER: no limit).
 * SP_OK when acquired; SP_BUSY when timeout_ns is 0 and the lock is held;
 * SP_TIMEDOUT when the timeout passed; SP_EINVAL for a timeout below -1.
 * Typical use:  if (sp_lock_acquire(&l, 50 * SP_NS_PER_MS) == SP_OK) {...} */
SP_API int sp_lock_acquire(sp_lock_t *l, int64_t timeout_ns);

/* Release *l; any thread may call it. SP_OK; SP_EPERM if *l is not locked.
 * Wakes one waiter, if any. */
SP_API int sp_lock_release(sp_lock_t *l);

/* 1 if *l is locked at the moment of the call, 0 if not, SP_EINVAL. */
SP_API int sp_lock_locked(sp_lock_t *l);

#ifdef __cplusplus
}
#endif

#endif
