/* libsyncplus: sp_sem_t, Python's threading.Semaphore and BoundedSemaphore.
 *
 * A counting semaphore: sp_sem_acquire() waits until the value is positive
 * and decrements it; sp_sem_release(s, n) adds n and wakes up to n waiters.
 * Any thread may release (a semaphore has no owner). Made with a nonzero
 * bound, it is a BoundedSemaphore: a release that would take the value past
 * the bound is refused with SP_EPERM (CPython raises ValueError), which
 * catches releasing more often than acquiring. The value never exceeds
 * INT_MAX, bounded or not.
 *
 * Waiters are not ordered: a thread arriving while a woken waiter is on its
 * way may take the unit first (the woken waiter then waits again), as in
 * CPython. Memory: whatever a thread wrote before sp_sem_release() is
 * visible to the thread whose sp_sem_acquire() takes that unit.
 *
 * Static initialisation: `sp_sem_t s = SP_SEM_INIT(value, bound);` is a
 * semaphore as sp_sem_init(&s, value, bound) makes it; its parameters are
 * checked on first use (every call returns SP_EINVAL if they are bad). A
 * zero-filled sp_sem_t is an unbounded semaphore of value 0. The first call
 * on it, whichever it is, sets it up; if that set-up fails, the call
 * returns SP_ESYS/SP_ENOMEM and changes nothing, and the next call tries
 * again (the check itself cannot fail that way; tests provoke it).
 *
 * Lifetime: a semaphore may be destroyed, and its memory freed, as soon as
 * the last thread that used it has returned; in particular the thread whose
 * acquire took the last unit released by another thread may destroy it at
 * once, even while the releaser is still returning.
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed
 * semaphore (or memory that is not one), changing nothing. A wait may fail
 * with SP_ESYS/SP_ENOMEM when the OS refuses it a resource (the "sem" and
 * "win32-sem" backends make a semaphore per wait; a zero-filled
 * semaphore's first wait on the "pthread" and "win32" backends sets up an
 * OS condition) or its OS wait fails: the value is then unchanged by the
 * call, no release is lost (a unit that arrived meanwhile is taken and the
 * call returns SP_OK; otherwise another waiter gets it), and the semaphore
 * stays usable. Release never fails that way (but for the first call on a
 * statically initialised semaphore, above).
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same
 * semaphore.
 *
 * Usage, at most 4 threads inside a section:
 *     static sp_sem_t s = SP_SEM_INIT(4, 4);
 *     ...
 *     if (sp_sem_acquire(&s, 100 * SP_NS_PER_MS) == SP_OK) {
 *       ... at most 4 threads here ...
 *       sp_sem_release(&s, 1);
 *     } else { ... SP_TIMEDOUT: too busy, give up or retry ... } */
#ifndef SYNCPLUS_SEMAPHORE_H
#define SYNCPLUS_SEMAPHORE_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_sem {
  sp_mutex_t mu_;
  sp_cond_t cv_;
  int value_;      /* under mu_ */
  int bound_;      /* 0: unbounded */
  unsigned magic_; /* 0: not yet used, checked on first use */
} sp_sem_t;

/* A static initializer: a semaphore of the given value and bound (0:
 * unbounded), both int constant expressions; checked on first use. */
#define SP_SEM_INIT(value, bound)                                              \
  { SP_MUTEX_INIT, SP_COND_INIT, (value), (bound), 0u }

/* Make *s a semaphore with the given initial value (0 or more). bound 0
 * makes an unbounded Semaphore; bound > 0 a BoundedSemaphore whose value may
 * never exceed bound. SP_OK; SP_EINVAL for a negative value or bound, or a
 * value greater than a nonzero bound; SP_ESYS/SP_ENOMEM when the OS
 * refuses its condition (the "pthread" and "win32" backends; *s is then
 * left uninitialised, and may be initialised again). */
SP_API SP_NODISCARD int sp_sem_init(sp_sem_t *s, int value, int bound);

/* Destroy *s. SP_OK; SP_EPERM if threads are waiting in sp_sem_acquire()
 * (it stays usable, unchanged). */
SP_API int sp_sem_destroy(sp_sem_t *s);

/* Wait until the value is positive, at most timeout_ns (SP_FOREVER: no
 * limit; 0: do not wait), and decrement it. SP_OK when decremented; SP_BUSY
 * when timeout_ns is 0 and the value is 0; SP_TIMEDOUT when the timeout
 * passed first, never earlier (the value is unchanged by this call);
 * SP_EINVAL for a timeout below -1; SP_ESYS/SP_ENOMEM when the OS refused
 * the wait a resource or its wait failed (the value is unchanged by this
 * call; the semaphore is usable; see "Errors" above). */
SP_API SP_NODISCARD int sp_sem_acquire(sp_sem_t *s, int64_t timeout_ns);

/* As sp_sem_acquire, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_TIMEDOUT (never SP_BUSY) when the deadline passed first (never
 * earlier; a deadline already passed tries once). */
SP_API SP_NODISCARD int sp_sem_acquire_until(sp_sem_t *s, int64_t deadline_ns);

/* Add n (1 or more) to the value and wake up to n waiters. Any thread may
 * call it. SP_OK; SP_EINVAL for n < 1; SP_EPERM, changing nothing, if the
 * value would exceed the bound of a BoundedSemaphore (released too many
 * times) or INT_MAX. */
SP_API int sp_sem_release(sp_sem_t *s, int n);

/* The value at the moment of the call (0 or more), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_sem_value(sp_sem_t *s);

#ifdef __cplusplus
}
#endif

#endif
