/* libsyncplus: sp_barrier_t, Python's threading.Barrier.
 *
 * A reusable barrier for a fixed number of parties. Each generation, the
 * first parties-1 callers of sp_barrier_wait() block; the last one runs the
 * optional action (exactly once per generation, while the others are still
 * blocked) and releases them all. Each waiter of a generation gets a distinct
 * index from 0 to parties-1 (its arrival order). The barrier is then ready
 * for the next generation; threads arriving for it while the previous one is
 * still leaving wait until it has left.
 *
 * Breaking: the barrier becomes broken when a waiter's timeout passes (that
 * waiter gets SP_TIMEDOUT), or on sp_barrier_abort(). The threads waiting at
 * that moment get SP_BROKEN, and so does every later sp_barrier_wait() until
 * sp_barrier_reset(). A waiter whose generation was released returns SP_OK
 * even if the barrier breaks while it is leaving.
 *
 * Usage:
 *     int idx;
 *     int rc = sp_barrier_wait(&b, SP_FOREVER, &idx);
 *     if (rc == SP_OK && idx == 0) { ... one thread does the serial part ... }
 *     else if (rc == SP_BROKEN || rc == SP_TIMEDOUT) { ... give up ... }
 *
 * Static initialisation: `sp_barrier_t b = SP_BARRIER_INIT(parties, action,
 * arg);` is a barrier as sp_barrier_init makes it; parties is checked on
 * first use (every call returns SP_EINVAL if it is 0 or above INT32_MAX). A
 * zero-filled sp_barrier_t has 0 parties: every call returns SP_EINVAL.
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed barrier
 * (or memory that is not one), changing nothing. A wait that fails with
 * SP_ESYS (the OS refused the wait a resource: the "sem" and "win32-sem"
 * backends make a semaphore per wait) breaks the barrier, as a timeout
 * does: the other waiters get SP_BROKEN.
 *
 * All functions are thread-safe except init and destroy. */
#ifndef SYNCPLUS_BARRIER_H
#define SYNCPLUS_BARRIER_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The barrier action: run by one thread per generation, with the barrier's
 * internal mutex held. It must not call functions on the same barrier
 * (they return SP_EPERM there). */
typedef void (*sp_barrier_action_fn)(void *arg);

/* Embeddable; the fields are private. */
typedef struct sp_barrier {
  sp_mutex_t mu_;
  sp_cond_t cv_;
  unsigned parties_;
  unsigned count_;      /* threads inside sp_barrier_wait (under mu_) */
  int state_;           /* filling, draining, resetting, broken */
  uint64_t generation_; /* generations released so far (under mu_) */
  sp_barrier_action_fn action_;
  void *arg_;
  unsigned magic_; /* 0: not yet used, checked on first use */
} sp_barrier_t;

/* A static initializer: a barrier for `parties` threads (an unsigned
 * constant expression, 1 or more) with an optional action (NULL for none)
 * called with `arg`. */
#define SP_BARRIER_INIT(parties, action, arg)                                  \
  { SP_MUTEX_INIT, SP_COND_INIT, (parties), 0u, 0, 0u, (action), (arg), 0u }

/* Make *b a barrier for `parties` threads (1 or more) with an optional
 * action (NULL for none) called with `arg`. SP_OK; SP_EINVAL for parties 0;
 * SP_ESYS/SP_ENOMEM. */
SP_API SP_NODISCARD int sp_barrier_init(sp_barrier_t *b, unsigned parties,
                                        sp_barrier_action_fn action, void *arg);

/* Destroy *b. SP_OK; SP_EPERM if threads are inside sp_barrier_wait(). */
SP_API int sp_barrier_destroy(sp_barrier_t *b);

/* Wait until `parties` threads have called it, at most timeout_ns.
 * SP_OK with *index (may be NULL) set to this thread's arrival index;
 * SP_TIMEDOUT when this waiter's timeout passed (it breaks the barrier);
 * SP_BROKEN when the barrier is or becomes broken or reset while waiting;
 * SP_EINVAL for a timeout below -1; SP_EPERM when called from the action;
 * SP_ESYS when the OS refused the wait a resource (it breaks the barrier).
 * A timeout of 0 succeeds only for the last party of a generation. */
SP_API SP_NODISCARD int sp_barrier_wait(sp_barrier_t *b, int64_t timeout_ns,
                                        unsigned *index);

/* Break the barrier: current and later waiters get SP_BROKEN until
 * sp_barrier_reset(). SP_OK. */
SP_API int sp_barrier_abort(sp_barrier_t *b);

/* Return the barrier to its initial state: threads waiting now get
 * SP_BROKEN; the barrier is usable again (also after abort or a timeout).
 * SP_OK. */
SP_API int sp_barrier_reset(sp_barrier_t *b);

/* 1 if the barrier is broken, 0 if not, or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_broken(sp_barrier_t *b);

/* The number of threads currently waiting for the generation to fill
 * (0 while a released generation is leaving), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_n_waiting(sp_barrier_t *b);

/* The number of parties given to sp_barrier_init(), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_parties(sp_barrier_t *b);

#ifdef __cplusplus
}
#endif

#endif
