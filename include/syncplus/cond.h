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
 * with the mutex held is what lets the emulated backends keep the promises
 * above; breaking either rule returns SP_EPERM or SP_EINVAL where it can be
 * detected (below). */
#ifndef SYNCPLUS_COND_H
#define SYNCPLUS_COND_H

#include "syncplus/mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_cond {
  SP_STORAGE_(SP_NATIVE_COND_SIZE_) native_;
  sp_mutex_t *mutex_; /* the mutex of the current waiters (atomic) */
  unsigned nwaiters_; /* threads inside sp_cond_wait (under mutex_) */
  unsigned magic_;
} sp_cond_t;

/* Make *c a condition with no waiter. SP_OK, or SP_ESYS/SP_ENOMEM. */
SP_API int sp_cond_init(sp_cond_t *c);

/* Destroy *c. SP_OK; SP_EPERM if a thread is waiting on it (it stays
 * usable). Call it with no thread inside sp_cond_wait. */
SP_API int sp_cond_destroy(sp_cond_t *c);

/* Atomically release *m and wait until signalled or until timeout_ns has
 * passed, then re-acquire *m before returning (also on SP_TIMEDOUT).
 * Returns SP_OK (woken), SP_TIMEDOUT, SP_EINVAL (NULL or destroyed object,
 * timeout below -1, or another mutex than the current waiters use), or
 * SP_EPERM (the caller does not hold *m). A timeout of 0 releases and
 * re-acquires *m once and returns SP_TIMEDOUT unless a signal arrived in
 * between. */
SP_API int sp_cond_wait(sp_cond_t *c, sp_mutex_t *m, int64_t timeout_ns);

/* Wake one thread waiting on *c, if any (the signal is lost if none waits).
 * Call with the waiters' mutex held: SP_EPERM if threads wait on *c and the
 * caller does not hold their mutex. SP_OK otherwise. */
SP_API int sp_cond_signal(sp_cond_t *c);

/* Wake every thread waiting on *c. Same rules and results as
 * sp_cond_signal(). */
SP_API int sp_cond_broadcast(sp_cond_t *c);

#ifdef __cplusplus
}
#endif

#endif
