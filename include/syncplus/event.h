/* libsyncplus: sp_event_t, Python's threading.Event.
 *
 * A flag that threads can wait for: sp_event_set() raises it and wakes every
 * waiter, sp_event_clear() lowers it, sp_event_wait() returns as soon as the
 * flag is raised. A waiter that was waiting when the flag was raised returns
 * SP_OK even if the flag was lowered again before it ran (CPython issue
 * 13502): a set is never missed by a thread that was waiting for it.
 *
 * Memory: whatever a thread wrote before sp_event_set() is visible to a
 * thread whose sp_event_wait() returns SP_OK, or whose sp_event_is_set()
 * returns 1, because of that set.
 *
 * Static initialisation: a zero-filled sp_event_t, or SP_EVENT_INIT, is a
 * clear event ready to use.
 *
 * Lifetime: an event may be destroyed, and its memory freed, as soon as the
 * last thread that used it has returned, the setter included; a waiter that
 * returned SP_OK may call sp_event_destroy at once (it waits for a setter
 * still inside sp_event_set to leave).
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed event
 * (or memory that is not one), changing nothing. A wait may fail with
 * SP_ESYS/SP_ENOMEM when the OS refuses it a resource (the "sem" and
 * "win32-sem" backends make a semaphore per wait; a zero-filled event's
 * first wait on the "pthread" and "win32" backends sets up an OS
 * condition) or its OS wait fails: the event is unchanged and usable, and
 * a set that happened meanwhile is not missed (the wait returns SP_OK for
 * it). Set, clear and is_set never fail that way.
 *
 * Thread-safety: all functions are thread-safe except init and destroy,
 * which must not run concurrently with any other use of the same event.
 *
 * Signals: only sp_event_is_set is async-signal-safe (one atomic load).
 * sp_event_set is not: it takes the event's internal mutex, which a thread
 * inside sp_event_wait holds for moments, so a handler that sets the event
 * on such a thread waits for its own thread for ever. Set it from a thread
 * that takes the signal with sigwait() instead (docs/primitives.md,
 * "Threads, signals and fork", lists other ways). After fork(), an event
 * no thread was using is usable in the child; one with waiters is not.
 *
 * Usage:
 *     // the producer:
 *     result = compute();
 *     sp_event_set(&done);
 *     // a consumer:
 *     if (sp_event_wait(&done, 5 * SP_NS_PER_S) == SP_OK)
 *       use(result);
 *     else { ... SP_TIMEDOUT ... } */
#ifndef SYNCPLUS_EVENT_H
#define SYNCPLUS_EVENT_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. */
typedef struct sp_event {
  sp_mutex_t mu_;
  sp_cond_t cv_;
  int flag_;       /* 1 when set (atomic; written under mu_) */
  uint64_t epoch_; /* number of times the flag went from 0 to 1 (under mu_) */
  unsigned magic_; /* 0: zero-filled, valid */
} sp_event_t;

/* A static initializer: a clear event (all zero). */
#define SP_EVENT_INIT                                                          \
  { SP_MUTEX_INIT, SP_COND_INIT, 0, 0u, 0u }

/* Make *e an event whose flag is clear. SP_OK; SP_EINVAL for NULL;
 * SP_ESYS/SP_ENOMEM when the OS refuses (the "pthread" and "win32" backends
 * set up an OS condition; *e is then left uninitialised, and may be
 * initialised again). */
SP_API SP_NODISCARD int sp_event_init(sp_event_t *e);

/* Destroy *e, set or not. SP_OK; SP_EPERM if threads are waiting in
 * sp_event_wait() (it stays usable, unchanged). */
SP_API int sp_event_destroy(sp_event_t *e);

/* Raise the flag and wake every thread waiting in sp_event_wait(). Setting
 * a set event does nothing. SP_OK. */
SP_API int sp_event_set(sp_event_t *e);

/* Lower the flag; later waits block until the next sp_event_set(). Threads
 * that a set already woke still return SP_OK. SP_OK. */
SP_API int sp_event_clear(sp_event_t *e);

/* 1 if the flag is raised at the moment of the call, 0 if not, or
 * SP_EINVAL. */
SP_API SP_NODISCARD int sp_event_is_set(sp_event_t *e);

/* Wait until the flag is raised, at most timeout_ns (SP_FOREVER: no limit;
 * 0: do not wait). SP_OK when the flag is raised at the call, or is raised
 * while the caller waits (even if cleared again before the caller runs);
 * SP_BUSY when timeout_ns is 0 and the flag is not raised; SP_TIMEDOUT when
 * the timeout passed without a set (never earlier); SP_EINVAL for a timeout
 * below -1; SP_ESYS/SP_ENOMEM when the OS refused the wait a resource or
 * its wait failed, and no set happened meanwhile (the event is unchanged
 * and usable). */
SP_API SP_NODISCARD int sp_event_wait(sp_event_t *e, int64_t timeout_ns);

/* As sp_event_wait, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_TIMEDOUT (never SP_BUSY) when the deadline passed without a set (never
 * earlier; with a deadline already passed it only looks at the flag). */
SP_API SP_NODISCARD int sp_event_wait_until(sp_event_t *e, int64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif
