/* libsyncplus: sp_cond_t, a condition variable used with an sp_mutex_t.
 *
 * Promises, on every backend:
 *  - no lost wakeup: a signal or broadcast made while a thread waits reaches
 *    a waiter;
 *  - no stolen wakeup: sp_cond_signal() wakes a thread that was waiting when
 *    it was called, never one that starts waiting later; sp_cond_broadcast()
 *    wakes every thread waiting when it was called and no later one;
 *  - a waiter whose timeout races with a signal either returns SP_OK (it took
 *    the wakeup) or SP_TIMEDOUT (the wakeup went to another waiter or to
 *    nobody): a wakeup is never lost nor counted twice;
 *  - timeouts are relative nanoseconds on the monotonic clock, and SP_TIMEDOUT
 *    is never returned before the timeout has passed.
 * Spurious wakeups: the "sem" and "win32-sem" backends have none (SP_OK means
 * a signal or broadcast chose this waiter). The "pthread" and "win32"
 * backends inherit the OS condition's rare spurious returns. Either way,
 * always wait in a loop on your predicate:
 *
 *     sp_mutex_lock(&m);
 *     while (!ready) {
 *       int rc = sp_cond_wait(&c, &m, timeout_ns);
 *       if (rc != SP_OK) break;          // SP_TIMEDOUT, or an error
 *     }
 *     ... use the state (re-test `ready` after a timeout) ...
 *     sp_mutex_unlock(&m);
 *
 * Waiters are woken in FIFO order by the emulated ("sem") backends; the
 * native backends make no ordering promise.
 *
 * Rules: wait, signal and broadcast are called with the mutex held. All the
 * threads waiting on one condition at a time use the same mutex (or the
 * same rlock or lock, below). Signalling
 * with the mutex held is what lets every backend keep the promises above;
 * breaking either rule returns SP_EPERM or SP_EINVAL where it can be
 * detected (below).
 *
 * Static initialisation: a zero-filled sp_cond_t (or SP_COND_INIT) is a
 * condition with no waiter, ready to use; a backend whose OS condition needs
 * a set-up call does it on first use, race-free. That set-up can fail like
 * sp_cond_init (SP_ESYS/SP_ENOMEM from the call that needed it, changing
 * nothing; the next call tries again).
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed
 * condition (or memory that is not one), changing nothing.
 *
 * Lifetime: a condition may be destroyed as soon as no thread is inside any
 * call on it; signal and broadcast touch it only while the caller holds the
 * waiters' mutex, so a woken waiter cannot return before they are done.
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same
 * condition. */
#ifndef SYNCPLUS_COND_H
#define SYNCPLUS_COND_H

#include "syncplus/mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_cond {
  SP_STORAGE_(SP_COND_STORAGE_SIZE_) native_;
  uintptr_t lock_;    /* the current waiters' lock | its kind (atomic) */
  unsigned nwaiters_; /* threads inside a wait (under that lock) */
  unsigned magic_;    /* 0: zero-filled, valid */
} sp_cond_t;

/* A static initializer: a condition with no waiter (all zero). */
#define SP_COND_INIT                                                           \
  { {{0}}, 0u, 0u, 0u }

/* Make *c a condition with no waiter. SP_OK; SP_EINVAL for NULL;
 * SP_ESYS/SP_ENOMEM when the OS refuses (*c is then left uninitialised). */
SP_API SP_NODISCARD int sp_cond_init(sp_cond_t *c);

/* Destroy *c. SP_OK; SP_EPERM if a thread is waiting on it (it stays
 * usable, unchanged). Call it with no thread inside sp_cond_wait. */
SP_API int sp_cond_destroy(sp_cond_t *c);

/* Atomically release *m and wait until signalled or until timeout_ns has
 * passed, then re-acquire *m before returning: the caller holds *m again
 * whatever the result, except SP_EINVAL and SP_EPERM, which change nothing.
 * Returns SP_OK (woken; on the "pthread" and "win32" backends also,
 * rarely, spuriously); SP_TIMEDOUT (the timeout passed first, never
 * earlier); SP_EINVAL (NULL or destroyed object, timeout below -1, or
 * another mutex than the current waiters use); SP_EPERM (the caller does
 * not hold *m); SP_ESYS/SP_ENOMEM, with *m held again, when the OS refused:
 *  - the wait's resources (the "sem" and "win32-sem" backends create a
 *    semaphore per wait): the caller did not wait, and no signal was
 *    consumed;
 *  - a zero-filled condition's first-use set-up: nothing changed (the next
 *    wait tries again);
 *  - the OS wait itself, after *m was released (sem_wait, pthread_cond_wait
 *    and the like failing; not seen in practice): the caller is no longer
 *    waiting. On the emulated backends a signal that had already chosen it
 *    is not lost: the wait then returns SP_OK instead. On the native ones a
 *    signal made while the wait was failing may have found no other waiter,
 *    so re-test the predicate (the loop above does).
 * After any error the condition is usable and can be destroyed. A timeout
 * of 0 releases and re-acquires *m once and returns SP_TIMEDOUT unless a
 * signal arrived in between. */
SP_API SP_NODISCARD int sp_cond_wait(sp_cond_t *c, sp_mutex_t *m,
                                     int64_t timeout_ns);

/* As sp_cond_wait, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that a loop of waits keeps one deadline. Same
 * results; SP_TIMEDOUT when the deadline passed first (never earlier; a
 * deadline already passed releases and re-takes *m once). */
SP_API SP_NODISCARD int sp_cond_wait_until(sp_cond_t *c, sp_mutex_t *m,
                                           int64_t deadline_ns);

/* Python's Condition.wait_for(predicate, timeout): wait until pred(arg)
 * returns nonzero, at most timeout_ns in all (SP_FOREVER: no limit; 0:
 * evaluate it once, do not wait). pred is called with *m held, first before
 * any wait, then after each wake-up; the timeout is one deadline for the
 * whole loop, so spurious wake-ups and wake-ups for other predicates do not
 * extend it. Returns with *m held, as sp_cond_wait. SP_OK when pred
 * returned nonzero; SP_BUSY when timeout_ns is 0 and pred returned 0;
 * SP_TIMEDOUT when the timeout passed and pred, evaluated once more, still
 * returned 0 (never before the timeout); SP_EINVAL for a NULL pred and as
 * sp_cond_wait; SP_EPERM if the caller does not hold *m; SP_ESYS/SP_ENOMEM
 * as sp_cond_wait (the OS refused a wait its resources). This is the loop
 * to write instead of the one above:
 *
 *     static int ready_set(void *arg) { return ((state_t *)arg)->ready; }
 *     ...
 *     sp_mutex_lock(&m);
 *     if (sp_cond_wait_for(&c, &m, ready_set, &state, 2 * SP_NS_PER_S)
 *         == SP_OK)
 *       ... state.ready is set ...
 *     sp_mutex_unlock(&m); */
SP_API SP_NODISCARD int sp_cond_wait_for(sp_cond_t *c, sp_mutex_t *m,
                                         int (*pred)(void *arg), void *arg,
                                         int64_t timeout_ns);

/* As sp_cond_wait_for, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit). SP_TIMEDOUT (never SP_BUSY) when the deadline
 * passed and pred still returned 0. */
SP_API SP_NODISCARD int sp_cond_wait_for_until(sp_cond_t *c, sp_mutex_t *m,
                                               int (*pred)(void *arg),
                                               void *arg, int64_t deadline_ns);

/* Wake one thread waiting on *c, if any (the signal is lost if none waits).
 * Call with the waiters' mutex held: SP_EPERM if threads wait on *c and the
 * caller does not hold their mutex (nothing is woken). SP_OK otherwise. */
SP_API int sp_cond_signal(sp_cond_t *c);

/* Wake every thread waiting on *c. Same rules and results as
 * sp_cond_signal(). */
SP_API int sp_cond_broadcast(sp_cond_t *c);

/* Python's Condition.notify(n): wake up to n of the threads waiting on *c
 * (fewer if fewer wait; 0 wakes none), each a thread that was waiting when
 * the call was made (FIFO on the emulated backends). Same rules as
 * sp_cond_signal(). SP_OK; SP_EINVAL for n < 0; SP_EPERM as
 * sp_cond_signal(). (On the "pthread" and "win32" backends a woken thread
 * may, rarely, return spuriously as well: wait in a loop.) */
SP_API int sp_cond_notify(sp_cond_t *c, int n);

/* ---- conditions over an sp_rlock_t or an sp_lock_t --------------------
 * Python's threading.Condition takes any lock, and its default is an RLock.
 * The same sp_cond_t waits with an sp_rlock_t or an sp_lock_t through the
 * calls below; signal, broadcast and notify are the ones above. All the
 * rules above apply, with "the mutex" read as "the lock":
 *  - the caller holds the lock when it waits, signals, broadcasts or
 *    notifies (SP_EPERM otherwise, where the library can tell);
 *  - all the threads waiting on one condition at a time use the same lock
 *    object, through the same kind of call (SP_EINVAL otherwise);
 *  - a wait returns with the lock held again, whatever it returns (but
 *    SP_EINVAL and SP_EPERM, which change nothing).
 * An rlock: the caller must own it, at any recursion level; the wait
 * releases it completely (other threads can take it) and takes it back at
 * the caller's level, as CPython's _release_save/_acquire_restore do.
 * sp_rlock_destroy() refuses it (SP_EPERM) while a waiter will take it back.
 * A lock: an sp_lock_t has no owner, so the library can only check that it
 * is locked, as CPython does for a Lock; the caller must be the thread that
 * acquired it (or was handed it): waiting or waking on a lock that another
 * thread holds is undefined. sp_lock_destroy() refuses it while a waiter
 * will take it back. */
struct sp_rlock;
struct sp_lock;

/* sp_cond_wait with an rlock the caller owns: releases it completely, waits,
 * and takes it back at the caller's recursion level. Same results as
 * sp_cond_wait (SP_EPERM if the caller does not own *r). */
SP_API SP_NODISCARD int sp_cond_wait_rlock(sp_cond_t *c, struct sp_rlock *r,
                                           int64_t timeout_ns);
/* As sp_cond_wait_rlock, with an absolute deadline (as sp_cond_wait_until). */
SP_API SP_NODISCARD int
sp_cond_wait_rlock_until(sp_cond_t *c, struct sp_rlock *r, int64_t deadline_ns);
/* sp_cond_wait_for with an rlock the caller owns (pred runs with it owned
 * at the caller's level). */
SP_API SP_NODISCARD int sp_cond_wait_for_rlock(sp_cond_t *c, struct sp_rlock *r,
                                               int (*pred)(void *arg),
                                               void *arg, int64_t timeout_ns);
/* As sp_cond_wait_for_rlock, with an absolute deadline. */
SP_API SP_NODISCARD int sp_cond_wait_for_rlock_until(sp_cond_t *c,
                                                     struct sp_rlock *r,
                                                     int (*pred)(void *arg),
                                                     void *arg,
                                                     int64_t deadline_ns);

/* sp_cond_wait with an sp_lock_t the caller acquired: releases it, waits,
 * acquires it again. Same results as sp_cond_wait (SP_EPERM if *l is not
 * locked). */
SP_API SP_NODISCARD int sp_cond_wait_lock(sp_cond_t *c, struct sp_lock *l,
                                          int64_t timeout_ns);
/* As sp_cond_wait_lock, with an absolute deadline. */
SP_API SP_NODISCARD int sp_cond_wait_lock_until(sp_cond_t *c, struct sp_lock *l,
                                                int64_t deadline_ns);
/* sp_cond_wait_for with an sp_lock_t the caller acquired. */
SP_API SP_NODISCARD int sp_cond_wait_for_lock(sp_cond_t *c, struct sp_lock *l,
                                              int (*pred)(void *arg), void *arg,
                                              int64_t timeout_ns);
/* As sp_cond_wait_for_lock, with an absolute deadline. */
SP_API SP_NODISCARD int sp_cond_wait_for_lock_until(sp_cond_t *c,
                                                    struct sp_lock *l,
                                                    int (*pred)(void *arg),
                                                    void *arg,
                                                    int64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif
