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
 * threads waiting on one condition at a time use the same mutex. Signalling
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
  sp_mutex_t *mutex_; /* the mutex of the current waiters (atomic) */
  unsigned nwaiters_; /* threads inside sp_cond_wait (under mutex_) */
  unsigned magic_;    /* 0: zero-filled, valid */
} sp_cond_t;

/* A static initializer: a condition with no waiter (all zero). */
#define SP_COND_INIT                                                           \
  { {{0}}, NULL, 0u, 0u }

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

/* Wake one thread waiting on *c, if any (the signal is lost if none waits).
 * Call with the waiters' mutex held: SP_EPERM if threads wait on *c and the
 * caller does not hold their mutex (nothing is woken). SP_OK otherwise. */
SP_API int sp_cond_signal(sp_cond_t *c);

/* Wake every thread waiting on *c. Same rules and results as
 * sp_cond_signal(). */
SP_API int sp_cond_broadcast(sp_cond_t *c);

#ifdef __cplusplus
}
#endif

#endif
