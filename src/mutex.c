/* sp_mutex_t: a lock word holding the owner's thread id (the same on every
 * backend), and the generic lock-word slow paths that sp_rlock_t shares.
 *
 * The word (src/internal.h): owner id (a nonzero multiple of 4,
 * sp_thread_id_(), or 0 when free) | W (SP_LW_WAITERS_: threads may sleep
 * on the word) | D (SP_LW_DEFERRED_: the mutex's wake_ list is not empty).
 * At rest a free word is 0; it is W alone only for the moment between a
 * sleeper's fetch-or and its CAS (below).
 *
 * Lock: CAS 0 -> self (acquire). If that fails and the word's owner is self,
 * SP_EPERM. Otherwise the slow path: spin a bounded number of rounds trying
 * to CAS an owner-less word to self (keeping its W) while the word has no
 * W; then loop: fetch-or W into the word (so the holder's unlock will wake
 * someone); if the word had no owner, CAS it (now W alone) to self | W (W
 * because other sleepers may remain; it costs the next unlock one wake call
 * at most); else sleep on the word while it still equals the value with W.
 * Unlock: CAS self -> 0 (release). If that fails, the owner was not self
 * (SP_EPERM) or a flag is set: the slow path reads the wake_ list (the
 * caller still holds the mutex, so the list is its own), exchanges the
 * word to 0 (release), wakes one sleeper if W was set, and posts the list.
 *
 * Invariants:
 *  I1. The owner bits change only by a CAS from an owner-less value (0, or
 *      W alone) to self (lock), or by an exchange/CAS to 0 by the owner
 *      (unlock); every other write (a sleeper's fetch-or of W, the holder's
 *      fetch-or of D) leaves the owner bits as they are.
 *  I2. D and wake_ are written only by the holder, D is set exactly while
 *      wake_ != NULL, and both are cleared before the word is released.
 *  I3. A thread sleeps on the word only after seeing W set in it (set by
 *      itself or another sleeper), and the futex re-checks the value
 *      atomically with going to sleep.
 *
 * Why it is correct:
 *  - Mutual exclusion: only a CAS from an owner-less value makes a thread
 *    the owner (I1).
 *  - No lost wakeup: a sleeper's value has W (I3). W leaves the word only
 *    through the owner's release, an exchange to 0 that returns the word
 *    with W, so it wakes a sleeper; if the release came before the
 *    sleeper's futex call, that call sees the changed word and returns at
 *    once. A woken thread takes the word with W set again (or finds it
 *    held, with W still set by its own fetch-or), so while sleepers remain
 *    every unlock wakes the next one.
 *  - Owner checks: a thread T reads T in the owner bits only between its
 *    own lock and unlock (I1 and read-write coherence), so a relaxed load
 *    answers "do I hold it" exactly (sp_mutex_held_); any other value means
 *    "not mine", stale or not. (Ids are reused only once their thread has
 *    exited, which orders that thread's last unlock before the new thread
 *    exists, through the kernel rather than C11; a thread that exits
 *    holding the word leaves it held, undefined as in POSIX.)
 *  - Memory orders: each hand-over is a release (unlock's CAS or exchange)
 *    read by an acquire (lock's CAS), directly or through the release
 *    sequence the sleepers' fetch-ors extend; docs/memory-orders.md has
 *    the review, and scripts/order-mutants.sh shows TSan catches either
 *    made relaxed.
 *  - Lifetime (docs/primitives.md): the unlock's last access to the mutex
 *    is the exchange (or CAS) that frees it; after it, the unlocker makes
 *    only the futex wake call on the word's address (which reads no user
 *    memory; a spurious wake of whatever lives there later is allowed by
 *    every futex user) and posts the waiters of the list it took before
 *    the exchange, which live on their own stacks and are still inside
 *    sp_cond_wait (they return only after that post).
 *  - Timeouts: a timed lock returns SP_TIMEDOUT only when the futex wait
 *    reports the deadline passed, after one last fetch-or of W and, if the
 *    word is free, one CAS to self | W. A wake-up it may have absorbed as
 *    it timed out (the wait-on-address contract allows a timeout report for
 *    a wait a wake picked; Wine's WaitOnAddress does it, models/README.md)
 *    is thus passed on: whoever holds the word next holds it with W, so its
 *    unlock wakes another sleeper. (Taking a free word without setting W
 *    would lose it: the taker's fast unlock would wake nobody.) It may leave
 *    W set with no sleeper, which costs one extra wake call, never a lost
 *    wakeup. models/mutex.pml checks this (-DABSORB).
 *
 * Spinning: a contended lock first spins, as long as nobody sleeps on the
 * word, since a critical section usually ends much sooner than a sleep and
 * a wake-up take: up to SP_SPIN_ROUNDS_ reads of the word with exponential
 * backoff between them (sp_spin_backoff_: 1, 2, 4 ... 64 pause
 * instructions, then 64; 319 in all, about 9 us on a Zen 3 core, whose
 * pause takes ~28 ns). How few the reads are matters as much as how long
 * the spin lasts: each read of a contended word pulls its cache line away
 * from the holder, whose next lock and unlock then miss. Polling at every
 * pause (100 reads) made two threads of a contended counter hand the lock
 * back and forth with a miss per operation (bench_contended, 2 cores: 27 M
 * ops/s against GMutex's 44 M, which never spins; with the backoff 66 M;
 * docs/benchmarks.md, "Tuning the contended mutex"). A thread woken from
 * its sleep does not spin again: it sets W and takes or waits (the sleep
 * loop). */
#include "internal.h"

/* An uncontended lock and unlock touch word_ and magic_ only: one aligned
 * 8-byte block, so one cache line. */
_Static_assert(offsetof(sp_mutex_t, word_) == 0 &&
                   offsetof(sp_mutex_t, magic_) + sizeof(unsigned) <= 8 &&
                   _Alignof(sp_mutex_t) >= 8,
               "sp_mutex_t: the fast path's fields leave one 8-byte block");

#ifndef SP_SPIN_ROUNDS_
#define SP_SPIN_ROUNDS_ 10
#endif

int sp_word_lock_slow_(uint32_t *word, uint32_t self, int64_t deadline) {
  unsigned delay = 1;
  for (int i = 0; i < SP_SPIN_ROUNDS_; i++) {
    sp_spin_backoff_(&delay);
    uint32_t v = sp_load_relaxed_(word);
    if (SP_LW_OWNER_(v) == 0) {
      if (sp_cas_acquire_(word, &v, self | (v & SP_LW_WAITERS_)))
        return SP_OK;
    } else if (v & SP_LW_WAITERS_) {
      break;
    }
  }
  for (;;) {
    uint32_t v = sp_fetch_or_acquire_(word, SP_LW_WAITERS_) | SP_LW_WAITERS_;
    if (SP_LW_OWNER_(v) == 0) {
      if (sp_cas_acquire_(word, &v, self | SP_LW_WAITERS_))
        return SP_OK;
      continue;
    }
    if (sp_futex_wait_(word, v, deadline) == SP_TIMEDOUT) {
      /* One last try that keeps W set, so that a wake-up this thread may
       * have absorbed as it timed out (WaitOnAddress may report a timeout
       * for a wait a wake picked) is passed on, not lost: if the word is
       * free we take it with W (our unlock wakes the next sleeper); if it
       * is held, W is set again and its holder's unlock wakes one. */
      v = sp_fetch_or_acquire_(word, SP_LW_WAITERS_) | SP_LW_WAITERS_;
      if (SP_LW_OWNER_(v) == 0 &&
          sp_cas_acquire_(word, &v, self | SP_LW_WAITERS_))
        return SP_OK;
      return SP_TIMEDOUT;
    }
  }
}

void sp_word_unlock_slow_(uint32_t *word) {
  uint32_t old = sp_xchg_release_(word, 0u);
  if (old & SP_LW_WAITERS_)
    sp_futex_wake_(word, 0);
}

SP_NOINLINE_ void sp_mutex_unlock_slow_(sp_mutex_t *m) {
  void *wake = m->wake_; /* ours: we still hold m (I2) */
  if (wake != NULL)
    m->wake_ = NULL;
  uint32_t old = sp_xchg_release_(&m->word_, 0u);
  /* m may be gone from here on: only the wake call and our own list. */
  if (old & SP_LW_WAITERS_)
    sp_futex_wake_(&m->word_, 0);
  if (wake != NULL)
    sp_cond_wake_deferred_(wake);
}

int sp_mutex_lock_until_slow_(sp_mutex_t *m, uint32_t self, int64_t deadline) {
  if (self == 0) { /* no id cached yet: the fast path has not tried */
    uint32_t free_word = 0;
    self = sp_self_();
    if (sp_cas_acquire_(&m->word_, &free_word, self))
      return SP_OK;
  }
  return sp_word_lock_slow_(&m->word_, self, deadline);
}

int sp_mutex_init(sp_mutex_t *m) {
  if (m == NULL)
    return SP_EINVAL;
  m->word_ = 0;
  m->cond_waiters_ = 0;
  m->wake_ = NULL;
  m->magic_ = SP_MAGIC_MUTEX_;
  return SP_OK;
}

int sp_mutex_destroy(sp_mutex_t *m) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  uint32_t self = sp_self_(), free_word = 0;
  if (!sp_cas_acquire_(&m->word_, &free_word, self))
    return SP_EPERM; /* locked (by anyone, the caller included) */
  unsigned waiters = m->cond_waiters_;
  if (waiters != 0) {
    sp_mutex_unlock_(m);
    return SP_EPERM;
  }
  m->magic_ = SP_MAGIC_DEAD_;
  sp_store_relaxed_(&m->word_, 0u);
  return SP_OK;
}

/* The public lock and unlock: the fast path (validity check and one CAS)
 * calls nothing, so it needs no stack frame; everything else is a tail call
 * to an out-of-line function. */

/* The slow half of sp_mutex_lock after its fast CAS failed (the word is
 * held: by the caller, SP_EPERM, or by another thread: wait), or when the
 * caller had no id cached yet (noid: try the CAS now). Out of line and
 * tail-called, with no value passed, so that the fast path is only the
 * check and the CAS. */
static SP_NOINLINE_ int sp_mutex_lock_slow_(sp_mutex_t *m) {
  uint32_t self = sp_self_();
  if (SP_LW_OWNER_(sp_load_relaxed_(&m->word_)) == self)
    return SP_EPERM;
  return sp_word_lock_slow_(&m->word_, self, SP_NEVER_);
}

static SP_NOINLINE_ int sp_mutex_lock_noid_(sp_mutex_t *m) {
  uint32_t self = sp_self_(), v = 0;
  if (sp_cas_acquire_(&m->word_, &v, self))
    return SP_OK;
  return sp_mutex_lock_slow_(m);
}

int sp_mutex_lock(sp_mutex_t *m) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  uint32_t self = sp_thread_id_fast_(), v = 0;
  if (SP_UNLIKELY_(self == 0))
    return sp_mutex_lock_noid_(m);
  if (SP_LIKELY_(sp_cas_acquire_(&m->word_, &v, self)))
    return SP_OK;
  return sp_mutex_lock_slow_(m);
}

int sp_mutex_trylock(sp_mutex_t *m) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  uint32_t self = sp_self_(), v = 0;
  if (sp_cas_acquire_(&m->word_, &v, self))
    return SP_OK;
  return SP_LW_OWNER_(v) == self ? SP_EPERM : SP_BUSY;
}

/* Lock with a deadline; `busy` is the result when the first try fails and
 * the deadline does not let it wait (SP_BUSY for a timeout of 0). */
static int sp_mutex_lock_deadline_(sp_mutex_t *m, int64_t deadline, int busy) {
  uint32_t self = sp_self_(), v = 0;
  if (sp_cas_acquire_(&m->word_, &v, self))
    return SP_OK;
  if (SP_LW_OWNER_(v) == self)
    return SP_EPERM;
  if (busy == SP_BUSY)
    return SP_BUSY;
  return sp_word_lock_slow_(&m->word_, self, deadline);
}

int sp_mutex_timedlock(sp_mutex_t *m, int64_t timeout_ns) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_mutex_lock_deadline_(m, deadline,
                                 timeout_ns == 0 ? SP_BUSY : SP_TIMEDOUT);
}

int sp_mutex_timedlock_until(sp_mutex_t *m, int64_t deadline_ns) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  return sp_mutex_lock_deadline_(m, deadline_ns, SP_TIMEDOUT);
}

/* The slow half of sp_mutex_unlock after its fast CAS failed: the caller
 * does not hold the mutex (SP_EPERM; a thread with no id cached yet holds
 * nothing either) or a flag is set (the slow unlock). */
static SP_NOINLINE_ int sp_mutex_unlock_checked_slow_(sp_mutex_t *m) {
  uint32_t self = sp_self_();
  if (SP_LW_OWNER_(sp_load_relaxed_(&m->word_)) != self)
    return SP_EPERM;
  sp_mutex_unlock_slow_(m);
  return SP_OK;
}

int sp_mutex_unlock(sp_mutex_t *m) {
  if (SP_INVALID_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  /* A thread with no id yet holds nothing: its 0 must not match a free
   * word, hence the test. */
  uint32_t self = sp_thread_id_fast_(), v = self;
  if (SP_LIKELY_(self != 0) && SP_LIKELY_(sp_cas_release_(&m->word_, &v, 0u)))
    return SP_OK;
  return sp_mutex_unlock_checked_slow_(m);
}
