/* libsyncplus: sp_barrier_t, Python's threading.Barrier.
 *
 * A reusable barrier for a fixed number of parties. Each generation, the
 * first parties-1 callers of sp_barrier_wait() block; the last one runs the
 * optional action (exactly once per generation, while the others are still
 * blocked) and releases them all. Each waiter of a generation gets a distinct
 * index from 0 to parties-1 (its arrival order). The barrier is at once
 * ready for the next generation: a thread may arrive for it while the
 * threads of the previous one are still on their way out.
 *
 * Breaking: the barrier becomes broken when a waiter's timeout passes (that
 * waiter gets SP_TIMEDOUT), or on sp_barrier_abort(). The threads waiting at
 * that moment get SP_BROKEN, and so does every later sp_barrier_wait() until
 * sp_barrier_reset(). A waiter whose generation was released returns SP_OK
 * even if the barrier breaks while it is leaving. Threads that arrive while
 * a reset is still sending the previous waiters away (Python's "resetting"
 * state) wait for them to leave first.
 *
 * Timeouts: sp_barrier_init_timeout() gives the barrier a default timeout
 * (threading.Barrier's `timeout`), used by the waits that pass
 * SP_DEFAULT_TIMEOUT; any other timeout a wait passes is its own.
 *
 * Cost: a released waiter sleeps once and is woken once per generation (or
 * not at all when the release comes while it spins briefly before
 * sleeping), by the last arriver after it released the barrier's mutex;
 * waits need no OS resource, so no function of the barrier fails with
 * SP_ESYS.
 *
 * Usage:
 *     unsigned idx;
 *     int rc = sp_barrier_wait(&b, SP_DEFAULT_TIMEOUT, &idx);
 *     if (rc == SP_OK && idx == 0) { ... one thread does the serial part ... }
 *     else if (rc == SP_BROKEN || rc == SP_TIMEDOUT) { ... give up ... }
 *
 * Memory: whatever a party wrote before sp_barrier_wait() (and the action
 * wrote) is visible to every party of that generation after its wait
 * returns SP_OK.
 *
 * Static initialisation: `sp_barrier_t b = SP_BARRIER_INIT(parties, action,
 * arg);` is a barrier as sp_barrier_init makes it, and
 * SP_BARRIER_INIT_TIMEOUT(parties, action, arg, timeout_ns) one as
 * sp_barrier_init_timeout makes it; the parameters are checked on first use
 * (every call returns SP_EINVAL if parties is 0 or above INT32_MAX, or the
 * timeout below -1). A zero-filled sp_barrier_t has 0 parties: every call
 * returns SP_EINVAL.
 *
 * Lifetime: a barrier may be destroyed, and its memory freed, as soon as
 * sp_barrier_destroy() returned SP_OK. A party may call it as soon as its
 * own wait returned, even while other released parties are still on their
 * way out (destroy waits for them, a few instructions each, as glibc's
 * pthread_barrier_destroy does) and while the last arriver is still
 * returning (it touches the barrier no more once it released the others).
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed barrier
 * (or memory that is not one), changing nothing, and SP_EPERM when called
 * from the barrier's own action (except sp_barrier_abort, see there).
 *
 * All functions are thread-safe except init, which must not run
 * concurrently with any other use of the same barrier, and destroy (see
 * Lifetime). */
#ifndef SYNCPLUS_BARRIER_H
#define SYNCPLUS_BARRIER_H

#include "syncplus/mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The barrier action: run by the last arriver of each generation, once,
 * before any party of the generation is released, with the barrier's
 * internal mutex held. It must not call functions on the same barrier
 * (they return SP_EPERM there), except sp_barrier_abort(), which makes the
 * generation fail: every party, the action's thread included, gets
 * SP_BROKEN (how Python's Barrier treats an action that raises). */
typedef void (*sp_barrier_action_fn)(void *arg);

/* The timeout argument of sp_barrier_wait() that means "the barrier's
 * default timeout" (set by sp_barrier_init_timeout; SP_FOREVER for a
 * barrier made by sp_barrier_init). Valid only for sp_barrier_wait. */
#define SP_DEFAULT_TIMEOUT ((int64_t)-2)

/* Embeddable; the fields are private. */
typedef struct sp_barrier {
  sp_mutex_t mu_;
  uint32_t word_;    /* releases << 2 | SLEEPERS | HOLD (atomic) */
  uint32_t out_;     /* released waiters still inside | DESTROYING */
  uint32_t spin_;    /* how long waiters spin (an estimate, atomic) */
  unsigned parties_; /* 1 to INT32_MAX */
  unsigned count_;   /* threads of the generation inside (under mu_) */
  int state_;        /* filling, resetting, broken (under mu_) */
  uint32_t gen_;     /* generations released so far (under mu_) */
  int in_action_;    /* the action is running (under mu_) */
  int64_t timeout_;  /* the default timeout */
  sp_barrier_action_fn action_;
  void *arg_;
  unsigned magic_; /* 0: not yet used, checked on first use */
} sp_barrier_t;

/* Static initializers: a barrier for `parties` threads (an unsigned
 * constant expression, 1 or more) with an optional action (NULL for none)
 * called with `arg`, and a default timeout (SP_FOREVER, or timeout_ns). */
#define SP_BARRIER_INIT_TIMEOUT(parties, action, arg, timeout_ns)              \
  {                                                                            \
    SP_MUTEX_INIT, 0u, 0u, 0u, (parties), 0u, 0, 0u, 0, (int64_t)(timeout_ns), \
        (action), (arg), 0u                                                    \
  }
#define SP_BARRIER_INIT(parties, action, arg)                                  \
  SP_BARRIER_INIT_TIMEOUT(parties, action, arg, SP_FOREVER)

/* Make *b a barrier for `parties` threads (1 to INT32_MAX) with an optional
 * action (NULL for none) called with `arg`, and no default timeout
 * (SP_DEFAULT_TIMEOUT waits without limit). SP_OK; SP_EINVAL for bad
 * parties. Never SP_ESYS/SP_ENOMEM. Initialising a barrier in use is
 * undefined. */
SP_API SP_NODISCARD int sp_barrier_init(sp_barrier_t *b, unsigned parties,
                                        sp_barrier_action_fn action, void *arg);

/* As sp_barrier_init, with a default timeout (threading.Barrier(parties,
 * action, timeout)): timeout_ns >= 0, or SP_FOREVER. SP_EINVAL also for a
 * timeout below -1. */
SP_API SP_NODISCARD int sp_barrier_init_timeout(sp_barrier_t *b,
                                                unsigned parties,
                                                sp_barrier_action_fn action,
                                                void *arg, int64_t timeout_ns);

/* Destroy *b. Waits for parties of released generations that are still on
 * their way out of sp_barrier_wait() (they block on nothing). SP_OK; then
 * every function returns SP_EINVAL for *b until it is initialised again.
 * SP_EPERM, changing nothing, while threads are waiting for a generation
 * to fill, or are leaving a broken or reset one (sp_barrier_n_waiting and
 * a reset tell them apart). */
SP_API int sp_barrier_destroy(sp_barrier_t *b);

/* Wait until `parties` threads have called it, at most timeout_ns
 * (SP_FOREVER: no limit; SP_DEFAULT_TIMEOUT: the barrier's default; 0: do
 * not wait, so only the last party succeeds). SP_OK with *index (may be
 * NULL) set to this thread's arrival index; SP_TIMEDOUT when this waiter's
 * timeout passed first (never earlier): it breaks the barrier;
 * SP_BROKEN when the barrier is broken, or becomes broken or reset while
 * the caller waits (also for the last arriver when its action called
 * sp_barrier_abort); SP_EINVAL for any other timeout below 0; SP_EPERM when
 * called from the action. *index is written only on SP_OK. Never SP_ESYS.
 * The caller's loop: none; after SP_BROKEN/SP_TIMEDOUT, one thread calls
 * sp_barrier_reset() before the barrier is used again. */
SP_API SP_NODISCARD int sp_barrier_wait(sp_barrier_t *b, int64_t timeout_ns,
                                        unsigned *index);

/* As sp_barrier_wait, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline: a
 * deadline already passed succeeds only for the last party, and breaks the
 * barrier otherwise. */
SP_API SP_NODISCARD int
sp_barrier_wait_until(sp_barrier_t *b, int64_t deadline_ns, unsigned *index);

/* Break the barrier: current and later waiters get SP_BROKEN until
 * sp_barrier_reset(). SP_OK. Called from the action, it makes that
 * generation fail (its parties, the last arriver included, get SP_BROKEN)
 * and returns SP_OK. */
SP_API int sp_barrier_abort(sp_barrier_t *b);

/* Return the barrier to its initial state: threads waiting now get
 * SP_BROKEN; the barrier is usable again (also after abort or a timeout),
 * once they have left. SP_OK. */
SP_API int sp_barrier_reset(sp_barrier_t *b);

/* 1 if the barrier is broken, 0 if not, or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_broken(sp_barrier_t *b);

/* The number of threads currently waiting for the generation to fill
 * (0 while the barrier is broken or resetting), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_n_waiting(sp_barrier_t *b);

/* The number of parties given at init, or SP_EINVAL. */
SP_API SP_NODISCARD int sp_barrier_parties(sp_barrier_t *b);

#ifdef __cplusplus
}
#endif

#endif
