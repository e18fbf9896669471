/* libsyncplus: sp_lock_t, Python's threading.Lock.
 *
 * A binary lock with a timed acquire that any thread may release (it has no
 * owner): a thread can acquire it and another release it, which makes it a
 * binary semaphore as well as a lock. It is not recursive: a thread that
 * acquires it twice blocks until someone releases it. Memory: whatever a
 * thread wrote before releasing is visible to the thread that acquires it
 * next.
 *
 * Design: one futex state word (0 free, 1 held, 2 held and maybe waited
 * on). An uncontended acquire is one compare-and-swap and a release one
 * exchange; a contended acquire spins briefly, then sleeps on the word.
 * Waiters are not ordered (a releasing thread may re-acquire before a
 * waiter wakes), as in CPython.
 *
 * Static initialisation: a zero-filled sp_lock_t, or SP_LOCK_INIT, is an
 * unlocked lock ready to use.
 *
 * Lifetime: a lock may be destroyed, and its memory freed, as soon as the
 * last thread that used it has returned, including the thread that released
 * it last: a release touches nothing once another thread can acquire the
 * lock (it only makes the wake-up call on the word's address).
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed lock (or
 * memory that is not one), changing nothing. The lock needs no OS
 * resources: nothing returns SP_ESYS or SP_ENOMEM.
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same lock.
 *
 * Threads, signals, fork() (docs/primitives.md, "Threads, signals and
 * fork"): a lock has no owner, so a lock acquired by a thread that then
 * exited is simply held, and any thread may release it. Async-signal-safe:
 * sp_lock_locked, sp_lock_acquire with timeout 0 (it never waits) and, on
 * Linux, sp_lock_release (an atomic exchange and a futex wake that keeps
 * errno), so a handler may release a lock that a thread waits for, even on
 * that thread. After fork(), a lock no thread was waiting on is usable in
 * the child, and a held one may be released there. */
#ifndef SYNCPLUS_LOCK_H
#define SYNCPLUS_LOCK_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. (state_ and magic_, all that an
 * uncontended acquire and release touch, share one aligned 8 bytes.) */
typedef struct sp_lock {
  /* 0 free, 1 held, 2 held and maybe waited on (atomic) */
  SP_ALIGNED_(8) uint32_t state_;
  unsigned magic_;   /* 0: zero-filled, valid */
  uint32_t waiters_; /* threads sleeping or about to, in acquire (atomic) */
  uint32_t spare_;
} sp_lock_t;

/* A static initializer: an unlocked lock (all zero). */
#define SP_LOCK_INIT                                                           \
  { 0u, 0u, 0u, 0u }

/* Make *l an unlocked lock. SP_OK; SP_EINVAL for NULL. */
SP_API SP_NODISCARD int sp_lock_init(sp_lock_t *l);

/* Destroy *l, locked or not. SP_OK; SP_EPERM if a thread is waiting in
 * sp_lock_acquire() (the lock stays usable, unchanged). */
SP_API int sp_lock_destroy(sp_lock_t *l);

/* Acquire *l, waiting at most timeout_ns (SP_FOREVER: no limit; 0: do not
 * wait). SP_OK when acquired; SP_BUSY when timeout_ns is 0 and the lock is
 * held; SP_TIMEDOUT when the timeout passed first (never earlier; the lock
 * is unchanged by this call); SP_EINVAL for a timeout below -1.
 * Typical use:
 *     if (sp_lock_acquire(&l, 50 * SP_NS_PER_MS) == SP_OK) {
 *       ...
 *       sp_lock_release(&l);
 *     } else { ... SP_TIMEDOUT: give up or retry ... } */
SP_API SP_NODISCARD int sp_lock_acquire(sp_lock_t *l, int64_t timeout_ns);

/* As sp_lock_acquire, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_OK when acquired; SP_TIMEDOUT (never SP_BUSY) when the deadline passed
 * first (never earlier; a deadline already passed tries once). */
SP_API SP_NODISCARD int sp_lock_acquire_until(sp_lock_t *l,
                                              int64_t deadline_ns);

/* Release *l; any thread may call it. SP_OK; SP_EPERM if *l is not locked
 * (nothing changes). Wakes one waiter, if any. */
SP_API int sp_lock_release(sp_lock_t *l);

/* 1 if *l is locked at the moment of the call, 0 if not, SP_EINVAL. */
SP_API SP_NODISCARD int sp_lock_locked(sp_lock_t *l);

#ifdef __cplusplus
}
#endif

#endif
