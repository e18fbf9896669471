/* libsyncplus: sp_mutex_t, the fast non-recursive mutual-exclusion lock.
 *
 * Promise: at most one thread holds a mutex at a time. Only the thread that
 * locked it may unlock it. It is not recursive: a thread that already holds
 * it and locks it again gets SP_EPERM (instead of deadlocking). Waiters are
 * not ordered; use sp_lock_t or the interpreter lock when fairness matters.
 * Memory: whatever a thread wrote before unlocking is visible to the next
 * thread that locks it.
 *
 * Design: one 32-bit lock word holding the holder's thread id, on every
 * backend. An uncontended lock is one compare-and-swap, an uncontended
 * unlock another, and the owner checks read the same word; a contended lock
 * spins briefly, then sleeps on the word (futex, WaitOnAddress).
 *
 * Static initialisation: a zero-filled sp_mutex_t is an unlocked mutex
 * ready to use, so a file-scope `static sp_mutex_t m;` or
 * `sp_mutex_t m = SP_MUTEX_INIT;` needs no sp_mutex_init() (it needs no
 * sp_mutex_destroy() either, but may have one).
 *
 * Lifetime: a mutex may be destroyed, and its memory freed, as soon as the
 * last thread that used it has returned from its last call on it, including
 * the thread that unlocked it last: an unlock touches nothing once another
 * thread can take the mutex.
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed mutex
 * (or memory that is not one), changing nothing. SP_EPERM reports misuse
 * (see each function) and changes nothing. The mutex itself never fails
 * with SP_ESYS or SP_ENOMEM: it needs no OS resources.
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same mutex.
 *
 * Threads, signals, fork() (docs/primitives.md, "Threads, signals and
 * fork"):
 *  - A thread must unlock what it locked before it exits; exiting while
 *    holding is undefined, as for a POSIX mutex. What happens: the mutex
 *    stays locked with the dead thread's id in it (other threads: lock
 *    blocks for ever, trylock SP_BUSY, timedlock SP_TIMEDOUT, unlock and
 *    destroy SP_EPERM) until a later thread gets the same id from the OS
 *    (Windows reuses ids freely, Linux only once its id space wraps), which
 *    is then taken for the holder: its lock and trylock return SP_EPERM and
 *    its unlock frees the mutex. sp_mutex_init makes it usable again once
 *    no live thread uses it.
 *  - No function is async-signal-safe: a handler that locks a mutex its
 *    own thread holds waits for ever.
 *  - After fork(), a mutex no thread was using is usable in the child. One
 *    that the forking thread held is not the child's (on Linux the child's
 *    thread has another id: unlock SP_EPERM, trylock SP_BUSY), and one that
 *    another thread held stays held: initialise either again in the
 *    child. */
#ifndef SYNCPLUS_MUTEX_H
#define SYNCPLUS_MUTEX_H

#include "syncplus/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. (word_ and magic_, all that an
 * uncontended lock and unlock touch, share one aligned 8 bytes.) */
typedef struct sp_mutex {
  /* 0 free, else holder's id | flags (atomic) */
  SP_ALIGNED_(8) uint32_t word_;
  unsigned magic_;        /* 0: zero-filled, valid */
  unsigned cond_waiters_; /* threads in sp_cond_wait with it (under it) */
  void *wake_; /* waiters chosen by a condition's signal, posted at unlock */
} sp_mutex_t;

/* A static initializer: an unlocked mutex (all zero, like a zero-filled
 * one). */
#define SP_MUTEX_INIT                                                          \
  { 0u, 0u, 0u, NULL }

/* Make *m an unlocked mutex. SP_OK; SP_EINVAL for NULL. Initialising a
 * mutex that is in use is undefined. */
SP_API SP_NODISCARD int sp_mutex_init(sp_mutex_t *m);

/* Destroy *m. SP_OK; SP_EPERM if it is locked, or if a thread waits in
 * sp_cond_wait() with it (it stays usable, unchanged). After SP_OK, every
 * function returns SP_EINVAL for *m until it is initialised again (or
 * zero-filled). */
SP_API int sp_mutex_destroy(sp_mutex_t *m);

/* Block until the calling thread holds *m. SP_OK; SP_EPERM if the caller
 * already holds it (it would deadlock; it keeps holding it once). */
SP_API SP_NODISCARD int sp_mutex_lock(sp_mutex_t *m);

/* Take *m if it is free, without blocking. SP_OK when taken; SP_BUSY when
 * another thread holds it; SP_EPERM if the caller already holds it. */
SP_API SP_NODISCARD int sp_mutex_trylock(sp_mutex_t *m);

/* Block until the calling thread holds *m, at most timeout_ns nanoseconds
 * (SP_FOREVER: no limit; 0: do not wait, as sp_mutex_trylock). SP_OK when
 * taken; SP_BUSY when timeout_ns is 0 and another thread holds it;
 * SP_TIMEDOUT when the timeout passed first (never earlier); SP_EINVAL for
 * a timeout below -1; SP_EPERM if the caller already holds it. */
SP_API SP_NODISCARD int sp_mutex_timedlock(sp_mutex_t *m, int64_t timeout_ns);

/* As sp_mutex_timedlock, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that a loop of retries keeps one deadline.
 * SP_OK when taken; SP_TIMEDOUT when the deadline passed first (never
 * earlier; a deadline already passed tries once); SP_EPERM if the caller
 * already holds it. */
SP_API SP_NODISCARD int sp_mutex_timedlock_until(sp_mutex_t *m,
                                                 int64_t deadline_ns);

/* Release *m. SP_OK; SP_EPERM if the calling thread does not hold it. */
SP_API int sp_mutex_unlock(sp_mutex_t *m);

#ifdef __cplusplus
}
#endif

#endif
