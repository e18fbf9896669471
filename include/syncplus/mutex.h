/* libsyncplus: sp_mutex_t, the fast non-recursive mutual-exclusion lock.
 *
 * Promise: at most one thread holds a mutex at a time. Only the thread that
 * locked it may unlock it. It is not recursive: a thread that already holds
 * it and locks it again gets SP_EPERM (instead of deadlocking). Waiters are
 * not ordered; use sp_lock_t or the interpreter lock when fairness matters.
 *
 * Every function returns SP_EINVAL for a NULL, uninitialised or destroyed
 * mutex. All functions are thread-safe except init and destroy, which must
 * not run concurrently with any other use of the same mutex. */
#ifndef SYNCPLUS_MUTEX_H
#define SYNCPLUS_MUTEX_H

#include "syncplus/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_mutex {
  SP_STORAGE_(SP_NATIVE_MUTEX_SIZE_) native_;
  uintptr_t owner_; /* holder's thread id, 0 when free (atomic) */
  void *wake_;      /* waiters chosen by a signal, posted at unlock */
  unsigned magic_;
} sp_mutex_t;

/* Make *m an unlocked mutex. SP_OK, or SP_ESYS/SP_ENOMEM when the OS
 * refuses. Initialising a mutex that is in use is undefined. */
SP_API int sp_mutex_init(sp_mutex_t *m);

/* Destroy *m. SP_OK; SP_EPERM if it is locked (it stays usable). After
 * SP_OK, every function returns SP_EINVAL for *m until it is initialised
 * again. */
SP_API int sp_mutex_destroy(sp_mutex_t *m);

/* Block until the calling thread holds *m. SP_OK; SP_EPERM if the caller
 * already holds it; SP_ESYS if the OS refuses. */
SP_API int sp_mutex_lock(sp_mutex_t *m);

/* Take *m if it is free, without blocking. SP_OK when taken; SP_BUSY when
 * another thread holds it; SP_EPERM if the caller already holds it. */
SP_API int sp_mutex_trylock(sp_mutex_t *m);

/* Release *m. SP_OK; SP_EPERM if the calling thread does not hold it. */
SP_API int sp_mutex_unlock(sp_mutex_t *m);

#ifdef __cplusplus
}
#endif

#endif
