/* Internal helpers shared by the portable sources: atomics, object magic
 * numbers and first-use set-up, deadlines, the lock word, and the internal
 * entry points between primitives. */
#ifndef SP_INTERNAL_H_
#define SP_INTERNAL_H_

#include "syncplus.h"
#include "platform.h"

/* Atomics on plain fields of the public structs (GCC/Clang builtins, which
 * MinGW has too). One place to port to another compiler. */
#define sp_load_relaxed_(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define sp_load_acquire_(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define sp_store_relaxed_(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define sp_store_release_(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define sp_xchg_acq_rel_(p, v)  __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define sp_xchg_release_(p, v)  __atomic_exchange_n((p), (v), __ATOMIC_RELEASE)
#define sp_cas_acquire_(p, expected, desired)                                  \
  __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_ACQUIRE, \
                              __ATOMIC_RELAXED)
#define sp_cas_release_(p, expected, desired)                                  \
  __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_RELEASE, \
                              __ATOMIC_RELAXED)
#define sp_cas_relaxed_(p, expected, desired)                                  \
  __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_RELAXED, \
                              __ATOMIC_RELAXED)
#define sp_fetch_add_relaxed_(p, v)                                            \
  __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define sp_fetch_or_relaxed_(p, v) __atomic_fetch_or((p), (v), __ATOMIC_RELAXED)
#define sp_fetch_or_acquire_(p, v) __atomic_fetch_or((p), (v), __ATOMIC_ACQUIRE)

#define SP_LIKELY_(x)   __builtin_expect(!!(x), 1)
#define SP_UNLIKELY_(x) __builtin_expect(!!(x), 0)
#define SP_NOINLINE_    __attribute__((noinline))

/* Magic numbers (the field magic_ of every object). Every call checks it:
 *  - 0: a zero-filled ("statically initialised") object not yet used: valid;
 *    objects that need set-up (an OS condition, validating the parameters of
 *    SP_SEM_INIT, ...) do it on first use, race-free, through
 *    sp_lazy_init_();
 *  - SP_MAGIC_BUSY_: another thread is setting the object up right now;
 *  - the object's SP_MAGIC_*_: set up (by *_init, or by the first use);
 *  - SP_MAGIC_DEAD_: destroyed; every call returns SP_EINVAL;
 *  - anything else: not an object of that type; SP_EINVAL. */
enum {
  SP_MAGIC_MUTEX_ = 0x5370a001u,
  SP_MAGIC_COND_ = 0x5370a002u,
  SP_MAGIC_LOCK_ = 0x5370a003u,
  SP_MAGIC_BARRIER_ = 0x5370a004u,
  SP_MAGIC_RLOCK_ = 0x5370a005u,
  SP_MAGIC_SEM_ = 0x5370a006u,
  SP_MAGIC_EVENT_ = 0x5370a007u,
  SP_MAGIC_QUEUE_ = 0x5370a008u,
  SP_MAGIC_GIL_ = 0x5370a009u,
  SP_MAGIC_BUSY_ = 0x5370a0feu,
  SP_MAGIC_DEAD_ = 0x5370a0ffu
};
_Static_assert(sizeof(unsigned) == sizeof(uint32_t),
               "magic_ is waited on as a 32-bit word");

/* Exact match: NULL, zero-filled, destroyed or foreign objects are bad (for
 * objects without static initialisation). */
#define SP_BAD_(obj, magic) ((obj) == NULL || (obj)->magic_ != (magic))
/* For objects valid when zero-filled that need no set-up (mutex, lock,
 * rlock, event): NULL, destroyed or foreign objects are bad. */
#define SP_INVALID_(obj, magic)                                                \
  ((obj) == NULL ||                                                            \
   SP_UNLIKELY_((obj)->magic_ != (magic) && (obj)->magic_ != 0))

/* First-use set-up of a zero-filled object, race-free: returns SP_OK once
 * *magic is `ready`. If *magic is 0, one caller moves it to SP_MAGIC_BUSY_,
 * runs setup(obj) (NULL: nothing to set up), and stores `ready` (setup
 * returned SP_OK) or 0 again (setup's error, returned to that caller; the
 * next call tries again); concurrent callers sleep on *magic until it leaves
 * SP_MAGIC_BUSY_. SP_EINVAL for a destroyed or foreign object. Fault site
 * SP_FAULT_LAZY_INIT_ (the set-up fails with SP_ESYS). The fast path is one
 * acquire load and a compare. */
int sp_lazy_init_slow_(unsigned *magic, unsigned ready, int (*setup)(void *),
                       void *obj);
static inline int sp_lazy_init_(unsigned *magic, unsigned ready,
                                int (*setup)(void *), void *obj) {
  if (SP_LIKELY_(sp_load_acquire_(magic) == ready))
    return SP_OK;
  return sp_lazy_init_slow_(magic, ready, setup, obj);
}

/* Turn a relative timeout into an absolute deadline on sp_now_ns_():
 * SP_FOREVER gives SP_NEVER_, 0 gives "now" (try once), a positive value
 * saturates at SP_NEVER_. Returns SP_OK or SP_EINVAL (below -1). */
static inline int sp_deadline_(int64_t timeout_ns, int64_t *deadline) {
  if (timeout_ns == SP_FOREVER) {
    *deadline = SP_NEVER_;
    return SP_OK;
  }
  if (timeout_ns < 0)
    return SP_EINVAL;
  int64_t now = sp_now_ns_();
  *deadline = timeout_ns > SP_NEVER_ - now ? SP_NEVER_ : now + timeout_ns;
  return SP_OK;
}

/* ---- the lock word (sp_mutex_t.word_, sp_rlock_t.word_) ---------------
 * A 32-bit word: 0 when free; otherwise the holder's sp_thread_id_() (a
 * multiple of 4) in bits 2..31, plus SP_LW_WAITERS_ ("threads may sleep on
 * the word": the releaser must wake one) and SP_LW_DEFERRED_ ("the mutex's
 * wake_ list holds waiters chosen by an emulated condition's signal": the
 * releaser must post them). src/mutex.c has the algorithm and why it is
 * correct. */
#define SP_LW_WAITERS_  1u
#define SP_LW_DEFERRED_ 2u
#define SP_LW_FLAGS_    3u
#define SP_LW_OWNER_(v) ((v) & ~SP_LW_FLAGS_)

/* The calling thread's id as a lock-word owner. */
static inline uint32_t sp_self_(void) {
  return (uint32_t)sp_thread_id_();
}

/* The spin of the lock slow paths: pause *delay times, then double *delay
 * up to SP_SPIN_MAX_DELAY_. Polling a contended word with exponential
 * backoff reads it (and so pulls its cache line away from the holder) a few
 * times instead of at every pause (src/mutex.c, "Spinning"). */
#define SP_SPIN_MAX_DELAY_ 64u
static inline void sp_spin_backoff_(unsigned *delay) {
  for (unsigned k = 0; k < *delay; k++)
    sp_cpu_pause_();
  if (*delay < SP_SPIN_MAX_DELAY_)
    *delay *= 2;
}

/* The slow path of taking a lock word for thread `self` after a failed
 * first CAS: a bounded spin, then sleep on the word with SP_LW_WAITERS_
 * set. SP_OK when taken (the word then holds self, maybe with
 * SP_LW_WAITERS_), SP_TIMEDOUT once the deadline has passed. */
int sp_word_lock_slow_(uint32_t *word, uint32_t self, int64_t deadline);

/* Release a lock word whose fast CAS (self -> 0) failed because a flag is
 * set: exchange it to 0 and wake one sleeper if SP_LW_WAITERS_ was set.
 * Touches nothing but the futex wake after the exchange. */
void sp_word_unlock_slow_(uint32_t *word);

/* The mutex's unlock slow path: take the deferred wake list (still holding
 * the mutex), release the word, wake a sleeper, then post the list. */
void sp_mutex_unlock_slow_(sp_mutex_t *m);

/* 1 if the calling thread holds *m (which must be valid). A relaxed load is
 * enough: a thread reads its own id in the word only between its own
 * acquire and its own release (see src/mutex.c). */
static inline int sp_mutex_held_(sp_mutex_t *m) {
  return SP_LW_OWNER_(sp_load_relaxed_(&m->word_)) == sp_self_();
}

/* Post the waiters that a signal or broadcast chose while the mutex was held
 * (the emulated condition defers its posts to the unlock, so a woken waiter
 * does not block on the mutex its signaller still holds). `wake` is the list
 * taken from sp_mutex_t.wake_ under the mutex; called after releasing it. */
void sp_cond_wake_deferred_(void *wake);

/* The rest of sp_mutex_lock_until_ after its fast CAS failed (self is the
 * caller's id), or when the thread had no id cached yet (self 0: the CAS is
 * tried here with its id). Out of line, so that the inline fast path needs
 * no stack frame. */
int sp_mutex_lock_until_slow_(sp_mutex_t *m, uint32_t self, int64_t deadline);

/* Lock and unlock a valid mutex (zero-filled or initialised) from inside the
 * library, which knows the caller does not / does hold it. Lock always
 * returns SP_OK (an int, for the callers written when it could fail); with
 * a deadline, sp_mutex_lock_until_ returns SP_OK or SP_TIMEDOUT. The fast
 * paths are one CAS each and call nothing: the slow paths are tail calls.
 * (Unlock needs no test of a missing id: a thread that holds the mutex has
 * its id cached, and 0 never matches a held word, so the CAS fails.) */
static inline int sp_mutex_lock_until_(sp_mutex_t *m, int64_t deadline) {
  uint32_t self = sp_thread_id_fast_(), free_word = 0;
  if (SP_LIKELY_(self != 0) &&
      SP_LIKELY_(sp_cas_acquire_(&m->word_, &free_word, self)))
    return SP_OK;
  return sp_mutex_lock_until_slow_(m, self, deadline);
}
static inline int sp_mutex_lock_(sp_mutex_t *m) {
  return sp_mutex_lock_until_(m, SP_NEVER_);
}
static inline void sp_mutex_unlock_(sp_mutex_t *m) {
  uint32_t held = sp_thread_id_fast_();
  if (SP_LIKELY_(sp_cas_release_(&m->word_, &held, 0u)))
    return;
  sp_mutex_unlock_slow_(m);
}

/* ---- the lock a condition's waiters hold --------------------------
 * sp_cond_t.lock_ is the address of the current waiters' lock with its
 * kind in the two low bits (every lock object is at least 4-aligned): an
 * sp_mutex_t (sp_cond_wait), or, as with Python's threading.Condition, an
 * sp_rlock_t (released whatever its recursion level, which the wait
 * restores, like CPython's _release_save/_acquire_restore) or an sp_lock_t.
 * 0: no waiter. */
enum { SP_CL_MUTEX_ = 0, SP_CL_RLOCK_ = 1, SP_CL_LOCK_ = 2, SP_CL_KIND_ = 3 };
typedef struct sp_cond_lock_ {
  uintptr_t tag;  /* the lock's address | kind */
  uint64_t saved; /* an rlock's recursion level, kept across the wait */
} sp_cond_lock_t_;

static inline sp_cond_lock_t_ sp_cl_make_(const void *lock, int kind) {
  sp_cond_lock_t_ k = {(uintptr_t)lock | (uintptr_t)kind, 0};
  return k;
}

/* 1 if the calling thread holds the lock of tag (an sp_lock_t, which has no
 * owner: if it is locked at all). */
int sp_cl_held_(uintptr_t tag);

/* Release the lock the caller holds (an rlock completely, its level kept in
 * k->saved) / take it back (restoring the level). Called by the condition
 * backends between their own steps; both cannot fail. The mutex's release
 * posts the waiters its deferred wake list holds (sp_mutex_unlock_). */
void sp_cl_release_(sp_cond_lock_t_ *k);
void sp_cl_reacquire_(sp_cond_lock_t_ *k);

/* Condition wait on valid objects (a zero-filled condition is set up here)
 * with an absolute deadline, for use inside the library; the lock of k (or
 * *m) is held by the caller. Same results as sp_cond_wait(), plus
 * SP_ESYS/SP_ENOMEM when a zero-filled condition's OS set-up fails. */
int sp_cond_wait_lock_until_(sp_cond_t *c, sp_cond_lock_t_ *k,
                             int64_t deadline);
static inline int sp_cond_wait_until_(sp_cond_t *c, sp_mutex_t *m,
                                      int64_t deadline) {
  sp_cond_lock_t_ k = sp_cl_make_(m, SP_CL_MUTEX_);
  return sp_cond_wait_lock_until_(c, &k, deadline);
}

/* sp_lock_t's acquire with a deadline and its release, for the conditions
 * over an sp_lock_t (src/lock.c): the caller has checked the object. */
int sp_lock_acquire_until_(sp_lock_t *l, int64_t deadline);
void sp_lock_release_(sp_lock_t *l);

/* The backend half of the condition (src/cond_native.c or src/cond_sema.c):
 * called by src/cond.c on valid objects, with the mutex rules checked.
 * init sets up the OS objects (also for a zero-filled condition's first
 * use; fault site SP_FAULT_COND_INIT_ on the native backends); destroy
 * releases them; wait releases the lock of k (sp_cl_release_), waits, and
 * returns with it held again (sp_cl_reacquire_; whatever it returns).
 * signal and broadcast are called with the waiters' lock held, on a condition
 * that may be zero-filled and never used (then c->nwaiters_ is 0 and they do
 * nothing). */
int sp_cond_backend_init_(sp_cond_t *c);
void sp_cond_backend_destroy_(sp_cond_t *c);
int sp_cond_backend_wait_(sp_cond_t *c, sp_cond_lock_t_ *k, int64_t deadline);
void sp_cond_backend_signal_(sp_cond_t *c);
void sp_cond_backend_broadcast_(sp_cond_t *c);

#endif
