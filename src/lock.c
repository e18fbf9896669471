/* sp_lock_t: Python's Lock, as one futex state word (decision 4 of the team
 * plan; Drepper's "Futexes Are Tricky", mutex 3).
 *
 * state_: 0 free; 1 held, nobody sleeps on the word; 2 held, threads may
 * sleep on it. waiters_ counts the threads in the slow path of acquire, for
 * sp_lock_destroy's SP_EPERM only.
 *
 * acquire: CAS 0 -> 1 (acquire). Slow path: count in waiters_; spin a
 *   bounded number of rounds (with backoff) trying CAS 0 -> 1 while the
 *   state is 1; then
 *   loop: exchange the state to 2; if the old value was 0, we hold the lock
 *   (with 2: others may still sleep); else sleep on the word while it is 2,
 *   until the deadline. After a timeout, one last exchange to 2: if it
 *   returns 0 we hold the lock (SP_OK), else SP_TIMEDOUT.
 * release: exchange the state to 0 (release); if the old value was 2, wake
 *   one sleeper; 0 means it was not locked: SP_EPERM (the exchange wrote 0
 *   over 0, changing nothing).
 *
 * Why it is correct:
 *  - Mutual exclusion: a thread holds the lock only after it moved the state
 *    from 0 (CAS or exchange), and only a release stores 0.
 *  - No lost wakeup: a thread sleeps only on the value 2, which it stored
 *    itself (or found) by an exchange that did not return 0. The next
 *    release's exchange returns that 2 (every store in between is 2 or a
 *    CAS from 0), so it wakes a sleeper; if the release came before the
 *    sleeper's futex call, that call sees 0 and returns at once. A woken
 *    thread exchanges 2 again before it sleeps or takes the lock, so while
 *    sleepers remain the state stays 2 and each release wakes one more.
 *  - Timeouts never lose a wakeup: a timed-out waiter may have been the one
 *    a release woke; its last exchange either takes the free lock (so the
 *    wakeup is used) or leaves the state 2 under a holder whose release
 *    will wake another sleeper.
 *  - Lifetime (docs/primitives.md): the release's only access to the lock
 *    is the exchange; after it, the releaser only makes the futex wake call
 *    on the word's address, which reads no user memory. The next owner may
 *    destroy and free the lock as soon as the exchange is done (issue 11,
 *    item 1: the old release took an internal mutex after freeing the lock).
 *  - waiters_ is touched only by threads inside acquire, which have not
 *    returned, so the lock is still alive for them.
 * Cost: a contended episode leaves the state at 2 after its last waiter
 * took the lock, so that waiter's release makes one wake call with nobody
 * to wake; glibc's lll_lock makes the same trade. */
#include "internal.h"

/* The spin: 7 reads of the state with exponential backoff (127 pause
 * instructions in all, about as long as the 100 of the old spin, which read
 * the state at every pause; src/mutex.c, "Spinning", says why few reads
 * matter). Shorter than the mutex's: a Python Lock is as often held for a
 * long time (a thread waiting for another's signal) as around a short
 * critical section. */
#ifndef SP_LOCK_SPIN_ROUNDS_
#define SP_LOCK_SPIN_ROUNDS_ 7
#endif

/* An uncontended acquire and release touch state_ and magic_ only: one
 * aligned 8-byte block, so one cache line. */
_Static_assert(offsetof(sp_lock_t, state_) == 0 &&
                   offsetof(sp_lock_t, magic_) + sizeof(unsigned) <= 8 &&
                   _Alignof(sp_lock_t) >= 8,
               "sp_lock_t: the fast path's fields leave one 8-byte block");

int sp_lock_init(sp_lock_t *l) {
  if (l == NULL)
    return SP_EINVAL;
  l->state_ = 0;
  l->waiters_ = 0;
  l->spare_ = 0;
  l->magic_ = SP_MAGIC_LOCK_;
  return SP_OK;
}

int sp_lock_destroy(sp_lock_t *l) {
  if (SP_INVALID_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  if (sp_load_acquire_(&l->waiters_) != 0)
    return SP_EPERM;
  l->magic_ = SP_MAGIC_DEAD_;
  l->state_ = 0;
  return SP_OK;
}

static SP_NOINLINE_ int sp_lock_slow_(sp_lock_t *l, int64_t deadline) {
  unsigned delay = 1;
  for (int i = 0; i < SP_LOCK_SPIN_ROUNDS_; i++) {
    sp_spin_backoff_(&delay);
    uint32_t v = sp_load_relaxed_(&l->state_);
    if (v == 0) {
      if (sp_cas_acquire_(&l->state_, &v, 1u))
        return SP_OK;
    } else if (v == 2) {
      break;
    }
  }
  while (sp_xchg_acq_rel_(&l->state_, 2u) != 0) {
    if (sp_futex_wait_(&l->state_, 2u, deadline) == SP_TIMEDOUT)
      return sp_xchg_acq_rel_(&l->state_, 2u) == 0 ? SP_OK : SP_TIMEDOUT;
  }
  return SP_OK;
}

int sp_lock_acquire_until_(sp_lock_t *l, int64_t deadline) {
  uint32_t expected = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&l->state_, &expected, 1u)))
    return SP_OK;
  __atomic_fetch_add(&l->waiters_, 1u, __ATOMIC_RELAXED);
  int rc = sp_lock_slow_(l, deadline);
  __atomic_fetch_sub(&l->waiters_, 1u, __ATOMIC_RELEASE);
  return rc;
}

/* The rest of acquire after the fast CAS failed. Out of line (and a tail
 * call), so that the fast path needs no stack frame. */
static SP_NOINLINE_ int sp_lock_acquire_slow_(sp_lock_t *l,
                                              int64_t timeout_ns) {
  if (timeout_ns == 0)
    return SP_BUSY;
  int64_t deadline = SP_NEVER_;
  (void)sp_deadline_(timeout_ns, &deadline);
  return sp_lock_acquire_until_(l, deadline);
}

int sp_lock_acquire_until(sp_lock_t *l, int64_t deadline_ns) {
  if (SP_INVALID_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  return sp_lock_acquire_until_(l, deadline_ns);
}

void sp_lock_release_(sp_lock_t *l) {
  if (sp_xchg_release_(&l->state_, 0u) == 2)
    sp_futex_wake_(&l->state_, 0); /* l may be gone: the address only */
}

int sp_lock_acquire(sp_lock_t *l, int64_t timeout_ns) {
  if (SP_INVALID_(l, SP_MAGIC_LOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  uint32_t expected = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&l->state_, &expected, 1u)))
    return SP_OK;
  return sp_lock_acquire_slow_(l, timeout_ns);
}

/* The release of a lock whose state was not 1: 0 (not locked: the exchange
 * wrote 0 over 0, changing nothing) or 2 (wake one sleeper). */
static SP_NOINLINE_ int sp_lock_release_slow_(sp_lock_t *l, uint32_t old) {
  if (old == 0)
    return SP_EPERM;
  sp_futex_wake_(&l->state_, 0); /* l may be gone: the address only */
  return SP_OK;
}

int sp_lock_release(sp_lock_t *l) {
  if (SP_INVALID_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  uint32_t old = sp_xchg_release_(&l->state_, 0u);
  if (SP_LIKELY_(old == 1))
    return SP_OK;
  return sp_lock_release_slow_(l, old);
}

int sp_lock_locked(sp_lock_t *l) {
  if (SP_INVALID_(l, SP_MAGIC_LOCK_))
    return SP_EINVAL;
  return sp_load_relaxed_(&l->state_) != 0;
}
