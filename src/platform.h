/* The platform contract: what a backend directory (src/unix, src/win) must
 * provide in its platform_impl.h, which the build puts on the include path.
 * Everything above this contract (mutex owner checks, the emulated
 * condition, lock, barrier, ...) is written once.
 *
 * Clock and threads:
 *   int64_t sp_now_ns_(void);
 *       Return monotonic time in nanoseconds (never decreases).
 *   uintptr_t sp_thread_id_(void);
 *       Return a nonzero id unique to the calling thread among live threads.
 *   void sp_cpu_relax_(void);
 *       Give the CPU to other threads for a moment (sched_yield, SwitchToThread).
 *
 * Native mutex (type sp_native_mutex_t_, must fit SP_NATIVE_MUTEX_SIZE_):
 *   int sp_native_mutex_init_(sp_native_mutex_t_ *m);
 *       Make *m an unlocked mutex; SP_OK or SP_ESYS/SP_ENOMEM.
 *   void sp_native_mutex_destroy_(sp_native_mutex_t_ *m);
 *       Release the resources of the unlocked mutex *m.
 *   int sp_native_mutex_lock_(sp_native_mutex_t_ *m);
 *       Block until the caller holds *m; SP_OK or SP_ESYS.
 *   int sp_native_mutex_trylock_(sp_native_mutex_t_ *m);
 *       Take *m if free; SP_OK, else SP_BUSY.
 *   void sp_native_mutex_unlock_(sp_native_mutex_t_ *m);
 *       Release *m, which the caller holds.
 *
 * Native condition (type sp_native_cond_t_; used by the "pthread" and
 * "win32" backends, through src/cond_native.c):
 *   int sp_native_cond_init_(sp_native_cond_t_ *c);
 *       Make *c a condition with no waiter; SP_OK or SP_ESYS/SP_ENOMEM.
 *   void sp_native_cond_destroy_(sp_native_cond_t_ *c);
 *       Release the resources of *c, which has no waiter.
 *   int sp_native_cond_wait_until_(sp_native_cond_t_ *c,
 *                                  sp_native_mutex_t_ *m, int64_t deadline);
 *       Release *m, wait for a wakeup or until sp_now_ns_() >= deadline
 *       (SP_NEVER_: no limit), re-acquire *m; SP_OK, SP_TIMEDOUT (only once
 *       the deadline has passed) or SP_ESYS. May return SP_OK spuriously.
 *   void sp_native_cond_signal_(sp_native_cond_t_ *c);
 *       Wake at least one waiter of *c, if any.
 *   void sp_native_cond_broadcast_(sp_native_cond_t_ *c);
 *       Wake every waiter of *c.
 *
 * Semaphore (type sp_sema_t_; used by the "sem" and "win32-sem" backends,
 * through src/cond_sema.c, and by src/gil.c on every backend; each
 * semaphore is private to one waiter, which is in at most one wait):
 *   int sp_sema_init_(sp_sema_t_ *s);
 *       Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM.
 *   void sp_sema_destroy_(sp_sema_t_ *s);
 *       Release *s, whose count is 0 and which no thread uses.
 *   int sp_sema_p_(sp_sema_t_ *s, int64_t deadline);
 *       Wait until the count of *s is positive and decrement it (SP_OK), or
 *       return SP_TIMEDOUT once sp_now_ns_() >= deadline, or SP_ESYS.
 *   void sp_sema_v_(sp_sema_t_ *s);
 *       Increment the count of *s, waking its waiter.
 */
#ifndef SP_PLATFORM_H_
#define SP_PLATFORM_H_

#include <stdint.h>

/* A deadline that never passes. */
#define SP_NEVER_ INT64_MAX

#include "platform_impl.h"

#endif
