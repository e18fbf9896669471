/* libsyncplus: sp_rlock_t, Python's threading.RLock.
 *
 * A re-entrant lock: it has an owner, the thread that acquired it, which may
 * acquire it again without blocking; each acquire is counted and the lock is
 * released for other threads when its owner has called sp_rlock_release()
 * as many times as it acquired. Only the owner may release it.
 *
 * Design: a lock word holding the owner's thread id (sp_mutex_t's) plus the
 * owner's count. An uncontended first acquire is one compare-and-swap and
 * the final release another; a nested acquire or release by the owner
 * touches no shared state but the owner's own count. Waiters are not
 * ordered, as in CPython. Memory: whatever the owner wrote before its final
 * release is visible to the next owner.
 *
 * Static initialisation: a zero-filled sp_rlock_t, or SP_RLOCK_INIT, is an
 * unlocked rlock ready to use.
 *
 * Lifetime: an rlock may be destroyed, and its memory freed, as soon as the
 * last thread that used it has returned, including the thread that released
 * it last (the final release touches nothing once another thread can take
 * the lock, but for the wake-up call on the word's address).
 *
 * A thread must release what it acquired before it exits; exiting while
 * owning it is undefined, as for sp_mutex_t: the rlock stays owned by the
 * dead thread's id (other threads: acquire(0) SP_BUSY, a timed acquire
 * SP_TIMEDOUT, release and destroy SP_EPERM) until a later thread gets the
 * same id from the OS, which is then taken for the owner (its acquire
 * nests, its releases free it). sp_rlock_init makes it usable again once
 * no live thread uses it. No function is async-signal-safe. After fork(),
 * an rlock no thread was using is usable in the child; one that the
 * forking thread owned is not the child's on Linux (another thread id):
 * initialise it again in the child (docs/primitives.md, "Threads, signals
 * and fork").
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed rlock
 * (or memory that is not one), changing nothing. The rlock needs no OS
 * resources: nothing returns SP_ESYS or SP_ENOMEM.
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same rlock.
 *
 * Usage (a function that may be called with the lock already held):
 *     if (sp_rlock_acquire(&r, SP_FOREVER) == SP_OK) {
 *       ... may call code that acquires &r again ...
 *       sp_rlock_release(&r);
 *     } */
#ifndef SYNCPLUS_RLOCK_H
#define SYNCPLUS_RLOCK_H

#include "syncplus/lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. (word_, magic_ and count_, all that
 * an uncontended acquire and release touch, share one aligned 16 bytes.) */
typedef struct sp_rlock {
  /* 0 free, else owner's id | flags (atomic) */
  SP_ALIGNED_(16) uint32_t word_;
  unsigned magic_;   /* 0: zero-filled, valid */
  uint64_t count_;   /* recursion depth, touched only by the owner */
  uint32_t waiters_; /* threads in the slow path of acquire (atomic) */
  uint32_t spare_;
} sp_rlock_t;

/* A static initializer: an unlocked rlock (all zero). */
#define SP_RLOCK_INIT                                                          \
  { 0u, 0u, 0u, 0u, 0u }

/* Make *r an unlocked rlock. SP_OK; SP_EINVAL for NULL. */
SP_API SP_NODISCARD int sp_rlock_init(sp_rlock_t *r);

/* Destroy *r. SP_OK; SP_EPERM if it is locked or a thread waits to acquire
 * it (it stays usable, unchanged). */
SP_API int sp_rlock_destroy(sp_rlock_t *r);

/* Acquire *r, waiting at most timeout_ns (SP_FOREVER: no limit; 0: do not
 * wait). If the calling thread owns *r already, its count goes up by one and
 * the call returns SP_OK at once, whatever the timeout. Otherwise SP_OK when
 * acquired (count 1); SP_BUSY when timeout_ns is 0 and another thread owns
 * it; SP_TIMEDOUT when the timeout passed first (never earlier; the rlock
 * is unchanged by this call); SP_EINVAL for a timeout below -1; SP_EPERM if
 * the count would overflow (2^64 - 1 nested acquires; nothing changes).
 * Every SP_OK must be matched by one sp_rlock_release(). */
SP_API SP_NODISCARD int sp_rlock_acquire(sp_rlock_t *r, int64_t timeout_ns);

/* As sp_rlock_acquire, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_TIMEDOUT (never SP_BUSY) when the deadline passed first (never
 * earlier; a deadline already passed tries once); a nested acquire by the
 * owner succeeds whatever the deadline. */
SP_API SP_NODISCARD int sp_rlock_acquire_until(sp_rlock_t *r,
                                               int64_t deadline_ns);

/* Undo one acquire by the calling thread; the last one frees the lock and
 * wakes one waiter, if any. SP_OK; SP_EPERM if the calling thread does not
 * own *r (it is unlocked, or owned by another thread; nothing changes). */
SP_API int sp_rlock_release(sp_rlock_t *r);

/* 1 if the calling thread owns *r, 0 if not (unlocked or owned by another
 * thread), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_rlock_is_owned(sp_rlock_t *r);

/* The calling thread's recursion level on *r: the number of its acquires
 * not yet released (CPython 3.13's RLock._recursion_count()), 0 if it does
 * not own *r (whoever else does), or SP_EINVAL. Only the owner's own count
 * is visible: another thread's level is not (it would be stale at once).
 * Levels above INT64_MAX read as INT64_MAX. */
SP_API SP_NODISCARD int64_t sp_rlock_count(sp_rlock_t *r);

/* 1 if *r is owned by any thread at the moment of the call (the caller or
 * another; CPython 3.14's RLock.locked()), 0 if not, or SP_EINVAL. The
 * answer may be stale as soon as it is returned unless the caller owns
 * *r. */
SP_API SP_NODISCARD int sp_rlock_locked(sp_rlock_t *r);

#ifdef __cplusplus
}
#endif

#endif
