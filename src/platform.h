/* The platform contract: what a backend directory (src/unix, src/win) must
 * provide in its platform_impl.h, which the build puts on the include path.
 * Everything above this contract (the mutex's lock word, the emulated
 * condition, lock, rlock, barrier, ...) is written once. One sentence per
 * function; SP_NEVER_ is a deadline that never passes.
 *
 * Clock, threads and waiting on an address:
 *   int64_t sp_now_ns_(void);
 *       Return monotonic time in nanoseconds (never decreases).
 *   uintptr_t sp_thread_id_(void);
 *       Return the calling thread's id, read from a thread-local cache:
 *       nonzero, a multiple of 4 below 2^32, unique among live threads.
 *   uint32_t sp_thread_id_fast_(void);
 *       Return sp_thread_id_(), or 0 when the thread has no id cached yet
 *       (the lock fast paths then take their slow path, which calls
 *       sp_thread_id_()): no out-of-line call where the id is cached.
 *   void sp_cpu_relax_(void);
 *       Give the CPU to other threads for a moment (sched_yield,
 *       SwitchToThread).
 *   int sp_cpu_id_(void);
 *       Return the number of the CPU the caller runs on, or -1 if the
 *       platform cannot tell (a hint: the thread may move at once).
 *   void sp_cpu_pause_(void);
 *       Tell the CPU that the caller is spinning (x86 pause, arm yield),
 *       without leaving it.
 *   int sp_futex_wait_(uint32_t *addr, uint32_t expected, int64_t deadline);
 *       Sleep while *addr == expected until woken or sp_now_ns_() >=
 *       deadline; SP_OK when woken, when *addr != expected or spuriously,
 *       SP_TIMEDOUT only once the deadline has passed (also, under Wine,
 *       for a wait a wake had picked: a waiter that times out must pass
 *       such an absorbed wake-up on, models/README.md finding 2).
 *       Fault site SP_FAULT_SLEEP_ (counts sleeps; injects a spurious
 *       SP_OK), as are the sleeps of sp_native_cond_wait_until_ and
 *       sp_sema_p_ below.
 *   void sp_futex_wake_(uint32_t *addr, int all);
 *       Wake one (all == 0) or every thread sleeping in sp_futex_wait_ on
 *       addr, reading no memory at addr (the object there may be freed).
 *   Neither orders memory: a woken waiter re-reads *addr with an atomic
 *   whose order does (acquire), as every caller does. What they promise is
 *   that a wake made after a change of *addr is not lost: the wait's
 *   compare and sleep are atomic with respect to the wake.
 *
 * OS mutex and condition (types sp_native_mutex_t_, sp_native_cond_t_; the
 * internal lock and condition of the "pthread" and "win32" backends'
 * sp_cond_t, through src/cond_native.c):
 *   int sp_native_mutex_init_(sp_native_mutex_t_ *m);
 *       Make *m an unlocked mutex; SP_OK or SP_ESYS/SP_ENOMEM.
 *   void sp_native_mutex_destroy_(sp_native_mutex_t_ *m);
 *       Release the resources of the unlocked mutex *m.
 *   void sp_native_mutex_lock_(sp_native_mutex_t_ *m);
 *       Block until the caller holds *m (cannot fail on a valid mutex).
 *   int sp_native_mutex_trylock_(sp_native_mutex_t_ *m);
 *       Take *m if free; SP_OK, else SP_BUSY.
 *   void sp_native_mutex_unlock_(sp_native_mutex_t_ *m);
 *       Release *m, which the caller holds.
 *   int sp_native_cond_init_(sp_native_cond_t_ *c);
 *       Make *c a condition with no waiter whose waits are measured on
 *       sp_now_ns_()'s clock; SP_OK or SP_ESYS/SP_ENOMEM.
 *   void sp_native_cond_destroy_(sp_native_cond_t_ *c);
 *       Release the resources of *c, which has no waiter.
 *   int sp_native_cond_wait_until_(sp_native_cond_t_ *c,
 *                                  sp_native_mutex_t_ *m, int64_t deadline);
 *       Release *m, wait for a wakeup or the deadline, re-acquire *m;
 *       SP_OK (also spuriously), SP_TIMEDOUT only once the deadline has
 *       passed, or SP_ESYS (fault site SP_FAULT_WAIT_).
 *   void sp_native_cond_signal_(sp_native_cond_t_ *c);
 *       Wake at least one waiter of *c, if any.
 *   void sp_native_cond_broadcast_(sp_native_cond_t_ *c);
 *       Wake every waiter of *c.
 *
 * Per-waiter semaphore (type sp_sema_t_; used by the "sem" and "win32-sem"
 * backends through src/cond_sema.c; each semaphore is private to one
 * waiter, which is in at most one wait):
 *   int sp_sema_init_(sp_sema_t_ *s);
 *       Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM
 *       (fault site SP_FAULT_SEMA_INIT_).
 *   void sp_sema_destroy_(sp_sema_t_ *s);
 *       Release *s, whose count is 0 and which no thread uses.
 *   int sp_sema_p_(sp_sema_t_ *s, int64_t deadline);
 *       Wait until the count of *s is positive and decrement it (SP_OK), or
 *       return SP_TIMEDOUT once sp_now_ns_() >= deadline, or SP_ESYS
 *       (fault site SP_FAULT_WAIT_); a timed wait sleeps until the
 *       deadline, it does not poll.
 *   void sp_sema_v_(sp_sema_t_ *s);
 *       Increment the count of *s, waking its waiter, touching *s no more
 *       once the waiter can return; what the caller did before it happens
 *       before what the waiter does after the sp_sema_p_ that takes it.
 */
#ifndef SP_PLATFORM_H_
#define SP_PLATFORM_H_

#include <stdint.h>

/* A deadline that never passes. */
#define SP_NEVER_ INT64_MAX

#include "fault.h"
#include "platform_impl.h"

#endif
