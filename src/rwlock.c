/* sp_rwlock_t: a phase-fair reader-writer lock on one 64-bit word, readers
 * sleeping on its low half and writers on its high half (the
 * wait-on-address contract of src/platform.h compares 32 bits).
 *
 * The word (all fields change together, by 64-bit compare-and-swap):
 *   low half (readers sleep on it)
 *     R      bits 0..19   readers holding the lock
 *     WLOCK  bit 20       a writer holds it
 *     WPEND  bit 21       writers wait (exactly when NW > 0)
 *     PHASE  bit 22       flips at every grant to waiting readers
 *   high half (writers sleep on it)
 *     WBUSY  bit 32       the lock is held (exactly when WLOCK or R > 0)
 *     NW     bits 33..44  writers waiting (registered)
 *     RS     bits 45..63  readers waiting (registered)
 * All zero is an unlocked lock with no waiter (PHASE may be either value
 * on an idle lock).
 *
 * Invariants:
 *  I1. WLOCK implies R == 0;  WBUSY == (WLOCK || R > 0);  WPEND == (NW > 0).
 *  I2. A reader registers (RS+1) only while WLOCK or WPEND blocks it.
 *  I3. R + RS never exceeds R's maximum (a reader registers only below it;
 *      the moves from RS to R keep the sum).
 *  I4. PHASE flips only in a writer's unlock, which moves all of RS into R
 *      in the same CAS (the grant). A registered reader is counted in RS
 *      until that grant, or until it moves itself to R or leaves (timeout)
 *      by a CAS that still sees its PHASE. So "PHASE differs from the value
 *      at my registration" is exactly "I was granted the lock": once
 *      granted, the reader holds the lock (R > 0), so no writer can take
 *      it, and PHASE cannot flip again, until that reader has seen the flip
 *      and later unlocked. One bit cannot wrap.
 *
 * Operations:
 *  - read lock: if neither WLOCK nor WPEND, CAS R+1 (and WBUSY). Else
 *    register (RS+1, remember PHASE) and sleep on the low half until PHASE
 *    flips (granted), or until neither WLOCK nor WPEND is set (the writers
 *    gave up: move from RS to R by a CAS); at the deadline, leave (RS-1).
 *  - write lock: if not WBUSY, CAS WLOCK|WBUSY (a registered writer also
 *    takes itself out of NW, clearing WPEND with the last one). Else
 *    register (NW+1, WPEND) and sleep on the high half while WBUSY; at the
 *    deadline, take the lock if it is free, else leave (NW-1; the last
 *    waiting writer clears WPEND and, if no writer holds the lock, wakes
 *    the registered readers, which were waiting for it only).
 *  - write unlock: clear WLOCK; if RS > 0, grant: R = RS, RS = 0, flip PHASE
 *    (WBUSY stays) and wake every reader; else clear WBUSY and wake one
 *    writer if NW > 0.
 *  - read unlock: R-1; the last reader clears WBUSY and wakes one writer if
 *    NW > 0.
 *
 * Why it is correct:
 *  - Exclusion: WLOCK is set only by a CAS from a word without WBUSY, so
 *    with no reader and no writer; R grows only by a CAS from a word without
 *    WLOCK, or by a grant, which clears WLOCK in the same CAS.
 *  - No lost wakeup for readers: a registered reader sleeps only on a low
 *    half it read in which it was blocked (WLOCK or WPEND) and not granted.
 *    Both ways out change the low half and wake all readers after the CAS
 *    that makes them: a grant flips PHASE (writer unlock), the last waiting
 *    writer's leaving clears WPEND. So the reader is either asleep and
 *    woken, or its futex call sees the new value.
 *  - No lost wakeup for writers: a writer sleeps only on a high half with
 *    WBUSY set. WBUSY is cleared only by an unlock, which wakes one writer
 *    when NW > 0; that writer, or whoever took the lock before it, clears
 *    WBUSY again later and wakes the next. A writer that times out while
 *    WBUSY is clear takes the lock instead (so it never swallows a wake-up
 *    meant for the lock being free); one that leaves while WBUSY is set
 *    leaves the wake-up to the holder's unlock.
 *  - Phase-fairness: while a writer is registered (WPEND), no reader enters
 *    except by a grant, and grants happen only at a writer's unlock; so
 *    between two writers' turns there is at most one reader phase, and a
 *    writer waits for the readers present when it registered plus at most
 *    that phase. A registered reader is granted at the next writer's
 *    unlock, or goes in by itself when the writers give up.
 *  - Lifetime (docs/primitives.md): every unlock's last access to the lock
 *    is the CAS that releases it; after it, only the futex wake on the
 *    word's address (which reads no memory there).
 *
 * Per-thread rules: each thread keeps a small table of the rwlocks it holds
 * for reading, with a count each (sp_os_thread_local_() of the platform's
 * thread_impl.h). A nested read lock only bumps the count, so it never
 * waits behind a writer (which would deadlock: the writer waits for it); a
 * write lock asked for by a holder of the read lock is refused (SP_EPERM);
 * unlock knows what the caller holds. The writer's id is in owner_, written
 * by the writer after taking the lock and cleared before it releases it, so
 * a thread reads its own id there only while it holds the write lock (the
 * same argument as sp_mutex_held_). */
#include "internal.h"
#include "rwlock_word.h"
#include "thread_impl.h"

#include <stdlib.h>

/* sp_rwlock_t.magic_ (beside the SP_MAGIC_* of src/internal.h). */
#define SP_MAGIC_RWLOCK_ 0x5370a010u

/* Pause-spins before a waiter sleeps: a hold usually ends within a few
 * hundred nanoseconds, much less than a sleep and a wake-up. */
#ifndef SP_RW_SPINS_
#define SP_RW_SPINS_ 64
#endif

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
               "sp_rwlock_t needs lock-free 64-bit atomics (futex halves)");

/* The word's low (readers') and high (writers') 32-bit halves. */
static inline uint32_t *sp_rw_half_(sp_rwlock_t *l, int high) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return (uint32_t *)(void *)&l->word_ + !high;
#else
  return (uint32_t *)(void *)&l->word_ + high;
#endif
}
#define SP_RW_LOW_(w)  ((uint32_t)(w))
#define SP_RW_HIGH_(w) ((uint32_t)((w) >> 32))

/* A reader may enter without waiting (then RS == 0, by I2). */
static inline int sp_rw_read_open_(uint64_t w) {
  return !(w & (SP_RW_WLOCK_ | SP_RW_WPEND_)) && SP_RW_R_(w) < SP_RW_R_MAX_;
}

/* How a call's time limit is given to the internal functions: try once
 * (timeout 0: SP_BUSY), a relative timeout (positive or SP_FOREVER; turned
 * into a deadline only when the call has to wait, so the fast paths do not
 * read the clock), or an absolute deadline. */
enum { SP_RW_TRY_, SP_RW_REL_, SP_RW_ABS_ };

/* The deadline of a call that has to wait, and the result when it cannot. */
static inline int64_t sp_rw_deadline_(int64_t when, int mode, int *busy) {
  *busy = mode == SP_RW_TRY_ ? SP_BUSY : SP_TIMEDOUT;
  if (mode != SP_RW_REL_)
    return when;
  int64_t deadline = SP_NEVER_;
  (void)sp_deadline_(when, &deadline); /* checked by the caller */
  return deadline;
}

static inline int sp_rw_passed_(int64_t deadline) {
  return deadline != SP_NEVER_ && sp_now_ns_() >= deadline;
}

/* ---- the per-thread table of read locks held ------------------------- */

typedef struct sp_rd_hold_ {
  sp_rwlock_t *lock; /* NULL: free slot */
  uint32_t count;    /* nested read locks */
} sp_rd_hold_;

#define SP_RD_INLINE_ 4
typedef struct sp_rd_table_ {
  sp_rd_hold_ inl[SP_RD_INLINE_];
  sp_rd_hold_ *more; /* heap, when more than SP_RD_INLINE_ are held */
  uint32_t nmore;    /* used entries of more[], packed at the front */
  uint32_t cap;      /* entries allocated in more[] */
  uint32_t nheld;    /* rwlocks held (used slots); 0: every slot is free */
} sp_rd_table_;

_Static_assert(sizeof(sp_rd_table_) <= SP_THREAD_LOCAL_BYTES_,
               "the read-hold table must fit the thread-local block");

static inline sp_rd_table_ *sp_rd_table_get_(void) {
  return (sp_rd_table_ *)sp_os_thread_local_();
}

static inline sp_rd_hold_ *sp_rd_find_(sp_rd_table_ *t, sp_rwlock_t *l) {
  for (int i = 0; i < SP_RD_INLINE_; i++)
    if (t->inl[i].lock == l)
      return &t->inl[i];
  for (uint32_t i = 0; i < t->nmore; i++)
    if (t->more[i].lock == l)
      return &t->more[i];
  return NULL;
}

/* A free slot for one more read lock (not yet marked used), or NULL when
 * memory ran out. */
static sp_rd_hold_ *sp_rd_reserve_(sp_rd_table_ *t) {
  for (int i = 0; i < SP_RD_INLINE_; i++)
    if (t->inl[i].lock == NULL)
      return &t->inl[i];
  if (t->nmore == t->cap) {
    if (t->cap >= UINT32_MAX / 2 / sizeof(sp_rd_hold_))
      return NULL;
    uint32_t cap = t->cap ? 2 * t->cap : 8;
    sp_rd_hold_ *m = realloc(t->more, cap * sizeof(sp_rd_hold_));
    if (m == NULL)
      return NULL;
    t->more = m;
    t->cap = cap;
  }
  return &t->more[t->nmore];
}

/* Mark the reserved slot h used for one read lock of l. */
static void sp_rd_fill_(sp_rd_table_ *t, sp_rd_hold_ *h, sp_rwlock_t *l) {
  h->lock = l;
  h->count = 1;
  t->nheld++;
  if (t->more != NULL && h == &t->more[t->nmore])
    t->nmore++;
}

/* Free the heap part when it holds nothing. */
static void sp_rd_trim_(sp_rd_table_ *t) {
  if (t->nmore == 0 && t->more != NULL) {
    free(t->more);
    t->more = NULL;
    t->cap = 0;
  }
}

static void sp_rd_remove_(sp_rd_table_ *t, sp_rd_hold_ *h) {
  h->lock = NULL;
  t->nheld--;
  if (h >= t->inl && h < t->inl + SP_RD_INLINE_)
    return;
  *h = t->more[--t->nmore]; /* keep more[] packed */
  sp_rd_trim_(t);
}

/* ---- the lock word -------------------------------------------------- */

static SP_NOINLINE_ int sp_rw_rdlock_slow_(sp_rwlock_t *l, int64_t when,
                                           int mode) {
  int busy;
  const int64_t deadline = sp_rw_deadline_(when, mode, &busy);
  uint64_t w = sp_load_relaxed_(&l->word_);
  int spins = 0;
  for (;;) { /* not registered */
    if (sp_rw_read_open_(w)) {
      if (sp_cas_acquire_(&l->word_, &w, (w + SP_RW_R_ONE_) | SP_RW_WBUSY_))
        return SP_OK;
      continue;
    }
    if (busy == SP_BUSY)
      return SP_BUSY;
    if (spins < SP_RW_SPINS_) {
      spins++;
      sp_cpu_pause_();
      w = sp_load_relaxed_(&l->word_);
      continue;
    }
    if (sp_rw_passed_(deadline))
      return SP_TIMEDOUT;
    if (!(w & (SP_RW_WLOCK_ | SP_RW_WPEND_)) ||
        SP_RW_R_(w) + SP_RW_RS_(w) >= SP_RW_R_MAX_ ||
        SP_RW_RS_(w) >= SP_RW_RS_MAX_) {
      /* Reader counts full (a million threads): poll. */
      sp_cpu_relax_();
      w = sp_load_relaxed_(&l->word_);
      continue;
    }
    if (sp_cas_relaxed_(&l->word_, &w, w + SP_RW_RS_ONE_)) {
      w += SP_RW_RS_ONE_;
      break;
    }
  }
  /* Registered: wait for the grant (PHASE flips, I4), or for the writers
   * to go away (then move from RS to R by itself). */
  const uint64_t phase = w & SP_RW_PHASE_;
  for (;;) {
    int rc = sp_futex_wait_(sp_rw_half_(l, 0), SP_RW_LOW_(w), deadline);
    w = sp_load_acquire_(&l->word_);
    for (;;) {
      if ((w & SP_RW_PHASE_) != phase) {
        /* An acquire load (w may come from a relaxed failed CAS): every
         * later write to the word is an RMW, so it reads from the grant's
         * release sequence. */
        (void)sp_load_acquire_(&l->word_);
        return SP_OK;
      }
      if (!(w & (SP_RW_WLOCK_ | SP_RW_WPEND_))) {
        if (sp_cas_acquire_(&l->word_, &w,
                            (w - SP_RW_RS_ONE_ + SP_RW_R_ONE_) | SP_RW_WBUSY_))
          return SP_OK;
        continue;
      }
      if (rc != SP_TIMEDOUT)
        break; /* blocked: wait again */
      if (sp_cas_relaxed_(&l->word_, &w, w - SP_RW_RS_ONE_))
        return SP_TIMEDOUT;
    }
  }
}

/* Take the write lock from a word without WBUSY; `registered`: the caller
 * is counted in NW. 1 on success; else w holds the current word. */
static inline int sp_rw_take_write_(sp_rwlock_t *l, uint64_t *w,
                                    int registered) {
  uint64_t nw = *w | SP_RW_WLOCK_ | SP_RW_WBUSY_;
  if (registered) {
    nw -= SP_RW_NW_ONE_;
    if (SP_RW_NW_(nw) == 0)
      nw &= ~SP_RW_WPEND_;
  }
  return sp_cas_acquire_(&l->word_, w, nw);
}

static SP_NOINLINE_ int sp_rw_wrlock_slow_(sp_rwlock_t *l, uint64_t w,
                                           int64_t when, int mode) {
  int busy;
  const int64_t deadline = sp_rw_deadline_(when, mode, &busy);
  int registered = 0, spins = 0;
  for (;;) {
    if (!(w & SP_RW_WBUSY_)) {
      if (sp_rw_take_write_(l, &w, registered))
        return SP_OK;
      continue;
    }
    if (!registered) {
      if (busy == SP_BUSY)
        return SP_BUSY;
      if (sp_rw_passed_(deadline))
        return SP_TIMEDOUT;
      if (SP_RW_NW_(w) >= SP_RW_NW_MAX_) {
        /* 4095 writers wait already: poll. */
        sp_cpu_relax_();
        w = sp_load_relaxed_(&l->word_);
        continue;
      }
      /* Register (new readers now wait behind this writer). */
      if (sp_cas_relaxed_(&l->word_, &w, (w + SP_RW_NW_ONE_) | SP_RW_WPEND_)) {
        w = (w + SP_RW_NW_ONE_) | SP_RW_WPEND_;
        registered = 1;
      }
      continue;
    }
    int rc = SP_OK;
    if (spins < SP_RW_SPINS_) {
      spins++;
      sp_cpu_pause_();
    } else {
      rc = sp_futex_wait_(sp_rw_half_(l, 1), SP_RW_HIGH_(w), deadline);
    }
    w = sp_load_relaxed_(&l->word_);
    if (rc != SP_TIMEDOUT)
      continue;
    /* The deadline passed: take the lock if it is free, else leave. */
    for (;;) {
      if (!(w & SP_RW_WBUSY_)) {
        if (sp_rw_take_write_(l, &w, 1))
          return SP_OK;
        continue;
      }
      uint64_t nw = w - SP_RW_NW_ONE_;
      if (SP_RW_NW_(nw) == 0)
        nw &= ~SP_RW_WPEND_;
      if (__atomic_compare_exchange_n(&l->word_, &w, nw, 0, __ATOMIC_ACQ_REL,
                                      __ATOMIC_RELAXED)) {
        /* The readers that waited for this writer only may go in. */
        if (!(nw & (SP_RW_WLOCK_ | SP_RW_WPEND_)) && SP_RW_RS_(nw) != 0)
          sp_futex_wake_(sp_rw_half_(l, 0), 1);
        return SP_TIMEDOUT;
      }
    }
  }
}

/* Read lock, anything but the common case below: nested, more than one
 * read lock held, contended. */
static SP_NOINLINE_ int sp_rw_rdlock_general_(sp_rwlock_t *l, sp_rd_table_ *t,
                                              int64_t when, int mode) {
  /* One pass: the caller's hold of l (nested: never waits), or a slot. */
  sp_rd_hold_ *h = NULL;
  for (int i = 0; i < SP_RD_INLINE_; i++) {
    sp_rwlock_t *held = t->inl[i].lock;
    if (held == l) {
      h = &t->inl[i];
      goto nested;
    }
    if (held == NULL && h == NULL)
      h = &t->inl[i];
  }
  if (SP_UNLIKELY_(t->nmore != 0 || h == NULL)) {
    sp_rd_hold_ *mine = sp_rd_find_(t, l);
    if (mine != NULL) {
      h = mine;
      goto nested;
    }
    if (h == NULL && (h = sp_rd_reserve_(t)) == NULL)
      return SP_ENOMEM;
  }
  uint64_t w = sp_load_relaxed_(&l->word_);
  int rc;
  if (SP_LIKELY_(sp_rw_read_open_(w)) &&
      sp_cas_acquire_(&l->word_, &w, (w + SP_RW_R_ONE_) | SP_RW_WBUSY_))
    rc = SP_OK;
  else if (w & SP_RW_WLOCK_ && sp_load_relaxed_(&l->owner_) == sp_self_())
    rc = SP_EPERM; /* holds the write lock */
  else
    rc = sp_rw_rdlock_slow_(l, when, mode);
  if (rc == SP_OK)
    sp_rd_fill_(t, h, l);
  else
    sp_rd_trim_(t);
  return rc;
nested:
  if (h->count == UINT32_MAX)
    return SP_EPERM;
  h->count++;
  return SP_OK;
}

static inline int sp_rw_rdlock_(sp_rwlock_t *l, int64_t when, int mode) {
  sp_rd_table_ *t = sp_rd_table_get_();
  if (SP_UNLIKELY_(t == NULL))
    return SP_ENOMEM;
  if (SP_LIKELY_(t->nheld == 0)) { /* the common case: no read lock held */
    uint64_t w = sp_load_relaxed_(&l->word_);
    if (SP_LIKELY_(sp_rw_read_open_(w)) &&
        sp_cas_acquire_(&l->word_, &w, (w + SP_RW_R_ONE_) | SP_RW_WBUSY_)) {
      t->inl[0].lock = l;
      t->inl[0].count = 1;
      t->nheld = 1;
      return SP_OK;
    }
  }
  return sp_rw_rdlock_general_(l, t, when, mode);
}

static int sp_rw_wrlock_(sp_rwlock_t *l, int64_t when, int mode) {
  uint32_t self = sp_self_();
  uint64_t w = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&l->word_, &w, SP_RW_WLOCK_ | SP_RW_WBUSY_))) {
    sp_store_relaxed_(&l->owner_, self);
    return SP_OK;
  }
  if ((w & SP_RW_WLOCK_) && sp_load_relaxed_(&l->owner_) == self)
    return SP_EPERM;
  if (SP_RW_R_(w) != 0) { /* the caller may be one of the readers */
    sp_rd_table_ *t = sp_rd_table_get_();
    if (t != NULL && sp_rd_find_(t, l) != NULL)
      return SP_EPERM;
  }
  int rc = sp_rw_wrlock_slow_(l, w, when, mode);
  if (rc == SP_OK)
    sp_store_relaxed_(&l->owner_, self);
  return rc;
}

static void sp_rw_write_unlock_(sp_rwlock_t *l) {
  sp_store_relaxed_(&l->owner_, 0u);
  uint64_t w = SP_RW_WLOCK_ | SP_RW_WBUSY_, nw = 0;
  if (SP_LIKELY_(sp_cas_release_(&l->word_, &w, nw)))
    return;
  for (;;) {
    nw = w & ~SP_RW_WLOCK_;
    if (SP_RW_RS_(w) != 0) { /* grant: R = RS, RS = 0 */
      nw = (nw & ~(SP_RW_RS_MAX_ << SP_RW_RS_SHIFT_)) + SP_RW_RS_(w);
      nw ^= SP_RW_PHASE_;
    } else {
      nw &= ~SP_RW_WBUSY_;
    }
    if (sp_cas_release_(&l->word_, &w, nw))
      break;
  }
  /* l may be gone from here on: only wake calls on its address. */
  if (SP_RW_RS_(w) != 0)
    sp_futex_wake_(sp_rw_half_(l, 0), 1);
  else if (SP_RW_NW_(w) != 0)
    sp_futex_wake_(sp_rw_half_(l, 1), 0);
}

/* The last read unlock of the caller; w: the word as last read. */
static inline void sp_rw_read_unlock_(sp_rwlock_t *l, uint64_t w) {
  uint64_t nw;
  do {
    nw = w - SP_RW_R_ONE_;
    if (SP_RW_R_(nw) == 0)
      nw &= ~SP_RW_WBUSY_;
  } while (!sp_cas_release_(&l->word_, &w, nw));
  /* l may be gone from here on: only the wake call on its address. */
  if (SP_RW_R_(nw) == 0 && SP_RW_NW_(nw) != 0)
    sp_futex_wake_(sp_rw_half_(l, 1), 0);
}

/* ---- the public calls ----------------------------------------------- */

int sp_rwlock_init(sp_rwlock_t *l) {
  if (l == NULL)
    return SP_EINVAL;
  l->word_ = 0;
  l->owner_ = 0;
  l->magic_ = SP_MAGIC_RWLOCK_;
  return SP_OK;
}

int sp_rwlock_destroy(sp_rwlock_t *l) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_))
    return SP_EINVAL;
  if (sp_load_acquire_(&l->word_) & ~SP_RW_PHASE_)
    return SP_EPERM; /* held, or waited for */
  l->magic_ = SP_MAGIC_DEAD_;
  return SP_OK;
}

int sp_rwlock_rdlock(sp_rwlock_t *l, int64_t timeout_ns) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  return sp_rw_rdlock_(l, timeout_ns,
                       timeout_ns == 0 ? SP_RW_TRY_ : SP_RW_REL_);
}

int sp_rwlock_rdlock_until(sp_rwlock_t *l, int64_t deadline_ns) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_))
    return SP_EINVAL;
  return sp_rw_rdlock_(l, deadline_ns, SP_RW_ABS_);
}

int sp_rwlock_wrlock(sp_rwlock_t *l, int64_t timeout_ns) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_) || timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  return sp_rw_wrlock_(l, timeout_ns,
                       timeout_ns == 0 ? SP_RW_TRY_ : SP_RW_REL_);
}

int sp_rwlock_wrlock_until(sp_rwlock_t *l, int64_t deadline_ns) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_))
    return SP_EINVAL;
  return sp_rw_wrlock_(l, deadline_ns, SP_RW_ABS_);
}

/* Unlock by a thread that holds read locks on other rwlocks too. */
static SP_NOINLINE_ int sp_rw_unlock_general_(sp_rwlock_t *l, sp_rd_table_ *t,
                                              uint64_t w) {
  sp_rd_hold_ *h = t != NULL ? sp_rd_find_(t, l) : NULL;
  if (h == NULL)
    return SP_EPERM;
  if (--h->count != 0)
    return SP_OK;
  sp_rd_remove_(t, h);
  sp_rw_read_unlock_(l, w);
  return SP_OK;
}

int sp_rwlock_unlock(sp_rwlock_t *l) {
  if (SP_INVALID_(l, SP_MAGIC_RWLOCK_))
    return SP_EINVAL;
  uint64_t w = sp_load_relaxed_(&l->word_);
  if (w & SP_RW_WLOCK_) { /* then no reader holds it (I1) */
    if (sp_load_relaxed_(&l->owner_) != sp_self_())
      return SP_EPERM;
    sp_rw_write_unlock_(l);
    return SP_OK;
  }
  sp_rd_table_ *t = sp_rd_table_get_();
  if (SP_LIKELY_(t != NULL && t->nheld == 1 && t->inl[0].lock == l)) {
    /* the common case: its only read lock */
    if (--t->inl[0].count != 0)
      return SP_OK;
    t->inl[0].lock = NULL;
    t->nheld = 0;
    sp_rw_read_unlock_(l, w);
    return SP_OK;
  }
  return sp_rw_unlock_general_(l, t, w);
}
