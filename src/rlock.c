/* sp_rlock_t: Python's RLock, as a lock word holding the owner's thread id
 * (the algorithm of sp_mutex_t, src/mutex.c, which this file shares through
 * sp_word_lock_slow_ and sp_word_unlock_slow_) plus the owner's count.
 *
 * Invariants:
 *  - The word's owner bits hold the owner's id exactly while the rlock has
 *    an owner; count_ >= 1 is the owner's depth. Only the owner writes
 *    count_ (it sets count_ = 1 right after taking the word, and frees the
 *    word only after its count went to 0).
 *  - The word never has SP_LW_DEFERRED_ (an rlock is not a condition's
 *    mutex), only SP_LW_WAITERS_.
 *
 * Why a thread may test ownership with a relaxed load of the word: a thread
 * T reads its own id in the owner bits only between its own acquire and its
 * own final release (src/mutex.c, "Owner checks"); any other value means
 * "not mine", whether or not it is stale. So a nested acquire or release
 * touches only count_, which is the owner's, with no atomic instruction.
 *
 * count_ passes from one owner to the next through the word's acquire CAS
 * and release exchange/CAS, which give the needed happens-before.
 *
 * Lifetime: the final release's last access to the rlock is the CAS or
 * exchange that frees the word; then only the futex wake call on its
 * address. waiters_ is touched only by threads inside acquire. */
#include "internal.h"

/* An uncontended acquire and release touch word_, magic_ and count_ only:
 * one aligned 16-byte block, so one cache line. */
_Static_assert(offsetof(sp_rlock_t, word_) == 0 &&
                   offsetof(sp_rlock_t, magic_) + sizeof(unsigned) <= 16 &&
                   offsetof(sp_rlock_t, count_) + sizeof(uint64_t) <= 16 &&
                   _Alignof(sp_rlock_t) >= 16,
               "sp_rlock_t: the fast path's fields leave one 16-byte block");

int sp_rlock_init(sp_rlock_t *r) {
  if (r == NULL)
    return SP_EINVAL;
  r->word_ = 0;
  r->waiters_ = 0;
  r->spare_ = 0;
  r->count_ = 0;
  r->magic_ = SP_MAGIC_RLOCK_;
  return SP_OK;
}

int sp_rlock_destroy(sp_rlock_t *r) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  if (sp_load_acquire_(&r->word_) != 0 || sp_load_acquire_(&r->waiters_) != 0)
    return SP_EPERM;
  r->magic_ = SP_MAGIC_DEAD_;
  return SP_OK;
}

static SP_NOINLINE_ int sp_rlock_slow_(sp_rlock_t *r, uint32_t self,
                                       int64_t deadline) {
  __atomic_fetch_add(&r->waiters_, 1u, __ATOMIC_RELAXED);
  int rc = sp_word_lock_slow_(&r->word_, self, deadline);
  if (rc == SP_OK)
    r->count_ = 1;
  __atomic_fetch_sub(&r->waiters_, 1u, __ATOMIC_RELEASE);
  return rc;
}

/* The fast paths of acquire and release call nothing (so they need no
 * stack frame): a thread with no id cached yet, a count at its limit, a
 * taken word and a word with waiters go to tail-called slow paths.
 *
 * The rest of acquire: nested (count + 1), or the CAS; else SP_BUSY for a
 * try (timeout 0), else the slow path with the deadline: `when` is a
 * relative timeout (turned into a deadline only here, so the fast paths do
 * not read the clock) or, if `absolute`, the deadline. */
static SP_NOINLINE_ int sp_rlock_acquire_slow_(sp_rlock_t *r, int64_t when,
                                               int absolute) {
  uint32_t self = sp_self_();
  uint32_t v = sp_load_relaxed_(&r->word_);
  if (SP_LW_OWNER_(v) == self) {
    if (r->count_ == UINT64_MAX)
      return SP_EPERM;
    r->count_++;
    return SP_OK;
  }
  v = 0;
  if (sp_cas_acquire_(&r->word_, &v, self)) {
    r->count_ = 1;
    return SP_OK;
  }
  if (absolute)
    return sp_rlock_slow_(r, self, when);
  if (when == 0)
    return SP_BUSY;
  int64_t deadline = SP_NEVER_;
  (void)sp_deadline_(when, &deadline);
  return sp_rlock_slow_(r, self, deadline);
}

int sp_rlock_acquire(sp_rlock_t *r, int64_t timeout_ns) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  uint32_t self = sp_thread_id_fast_();
  uint32_t v = sp_load_relaxed_(&r->word_);
  if (SP_UNLIKELY_(self == 0))
    return sp_rlock_acquire_slow_(r, timeout_ns, 0);
  if (SP_LW_OWNER_(v) == self) {
    if (SP_UNLIKELY_(r->count_ == UINT64_MAX))
      return sp_rlock_acquire_slow_(r, timeout_ns, 0);
    r->count_++;
    return SP_OK;
  }
  v = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&r->word_, &v, self))) {
    r->count_ = 1;
    return SP_OK;
  }
  return sp_rlock_acquire_slow_(r, timeout_ns, 0);
}

int sp_rlock_acquire_until(sp_rlock_t *r, int64_t deadline_ns) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  return sp_rlock_acquire_slow_(r, deadline_ns, 1);
}

static SP_NOINLINE_ int sp_rlock_release_slow_(sp_rlock_t *r) {
  sp_word_unlock_slow_(&r->word_); /* r may be gone after its exchange */
  return SP_OK;
}

int sp_rlock_release(sp_rlock_t *r) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  /* A thread with no id cached yet (0) owns nothing; the owner bits of a
   * free word are 0 too, hence the second test. */
  uint32_t self = sp_thread_id_fast_();
  uint32_t v = sp_load_relaxed_(&r->word_);
  if (SP_UNLIKELY_(SP_LW_OWNER_(v) != self) || SP_UNLIKELY_(self == 0))
    return SP_EPERM;
  if (--r->count_ != 0)
    return SP_OK;
  v = self;
  if (SP_LIKELY_(sp_cas_release_(&r->word_, &v, 0u)))
    return SP_OK;
  return sp_rlock_release_slow_(r);
}

int sp_rlock_is_owned(sp_rlock_t *r) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  return SP_LW_OWNER_(sp_load_relaxed_(&r->word_)) == sp_self_();
}

int64_t sp_rlock_count(sp_rlock_t *r) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  if (SP_LW_OWNER_(sp_load_relaxed_(&r->word_)) != sp_self_())
    return 0;
  return r->count_ > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)r->count_;
}

int sp_rlock_locked(sp_rlock_t *r) {
  if (SP_INVALID_(r, SP_MAGIC_RLOCK_))
    return SP_EINVAL;
  return SP_LW_OWNER_(sp_load_relaxed_(&r->word_)) != 0;
}
