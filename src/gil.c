/* sp_gil_t: the interpreter lock, with three policies (include/syncplus/
 * gil.h states what each promises; docs/gil.md explains why).
 *
 * Common to all policies: owner_ is the holder's thread id (0 when free);
 * only the holder clears it, and it is set to a thread's id only when that
 * thread becomes the holder, so "owner_ == me" is a reliable test for the
 * SP_EPERM checks. The statistics fields are written only by the holder
 * (plain read-modify-write through relaxed atomics: the lock itself orders
 * the holders, so no update is lost) and read by sp_gil_stats at any time.
 * waiters_ counts threads inside a blocking path, for sp_gil_destroy.
 *
 * ---------------------------------------------------------------------
 * PRIORITY: two FIFO queues (I/O waiters, CPU waiters) of per-waiter
 * semaphores under mu_, a state word for the fast paths, direct hand-off.
 *
 *   state_: 0 free; 1 held, both queues empty; 2 held, and a waiter is
 *   queued or is about to queue (under mu_).
 *   Fast paths, without mu_: acquire CAS 0->1; release CAS 1->0; yield
 *   reads state_ and returns unless it is 2.
 *   Slow acquire, under mu_: if state_ is 0 take it (CAS 0->1); if 1, CAS it
 *   to 2; then (state_ 2) append to the I/O queue, increment io_waiting_,
 *   release mu_ and sleep on the private semaphore.
 *   Hand-off (slow release, or a yield that decides to switch), under mu_
 *   by the holder: remove the next waiter W (sp_prio_next_: the I/O head,
 *   else the CPU head, except that the CPU head goes first once yield_skip
 *   I/O hand-offs in a row have passed it over); a yielder queues itself
 *   on the CPU queue (at the head, with its slice progress, if it hands
 *   to an I/O waiter before its slice is over; else at the tail); a
 *   holder given the lock by a hand-off starts a new slice (ticks_ 0)
 *   unless it resumes one (ticks_ and slice_start_ns_ restored); set
 *   owner_ = W, state_ = 2 if a queue is non-empty,
 *   else 1; exchange W's state to OWNER and post W's semaphore if W was
 *   asleep. W returns as the holder.
 *   Waiting (sp_gil_await_): a waiter's own state word (RUN, PARKED,
 *   NUDGED, OWNER) says whether it is asleep, so the hand-off posts only a
 *   sleeping waiter, and a waiter that is still on a CPU takes the lock
 *   with no wake-up at all. An I/O waiter spins for the hand-off for up to
 *   SP_GIL_SPIN_NS_ before it sleeps (the holder usually yields within
 *   microseconds, and a wake-up costs tens of them). A yielder sleeps at
 *   once (it waits a whole slice); when its turn is due, the holder wakes
 *   it in advance (PARKED -> NUDGED, post) and keeps working, and hands
 *   over at its first yield after that thread runs again (state RUN), or
 *   SP_GIL_WAKE_MAX_NS_ after the wake-up call at the latest: a CPU switch
 *   costs no idle time, the wake-up overlaps the holder's work.
 *
 * Invariants (I1-I3 hold whenever mu_ is free):
 *  I1. A queue is non-empty => state_ == 2 (so the lock is held). Only the
 *      fast paths change state_ without mu_, and they only move 0<->1.
 *  I2. A queued waiter returns only once its state is OWNER, which a
 *      hand-off sets when it removes it from its queue, after owner_ is
 *      already its id. Its semaphore is posted once per sleep: when the
 *      holder moves it out of PARKED (to NUDGED or OWNER; only the waiter
 *      enters PARKED, and only before it sleeps), so the count stays 0/1
 *      and the node is not touched after it may have returned.
 *  I3. io_waiting_ == length of the I/O queue.
 *
 * Why it is correct:
 *  - Mutual exclusion: the lock changes hands only by a successful CAS from
 *    0 (nobody holds it) or by a hand-off, which the holder makes once and
 *    then stops using the lock (a yielder sleeps until handed it back).
 *  - No lost waiter: a waiter makes state_ 2 under mu_ before it queues. A
 *    holder's release CAS 1->0 and the waiter's CAS 1->2 exclude each
 *    other: either the release wins (the waiter sees 0 and takes the lock),
 *    or the release fails, takes mu_ (after the waiter has queued) and
 *    hands off. Fresh acquirers cannot overtake queued waiters: while a
 *    queue is non-empty state_ is 2 and their CAS 0->1 fails (I1).
 *  - No barging: a hand-off sets owner_ and state_ for W before the
 *    releaser lets go of mu_; the lock is never free in between, so
 *    neither the releaser nor anyone else can win it back.
 *  - Priority: a yield sees state_ 2 whenever a waiter has queued (the
 *    waiter's io_waiting_ increment is a release store after its state_
 *    CAS), reads io_waiting_ and hands to the I/O head at once: an I/O
 *    waiter gets the lock at the holder's first yield or release after it
 *    queued (unless the anti-starvation rule gives one turn to a CPU
 *    waiter first).
 *  - CPU fairness: the slice (ticks_, slice_start_ns_) counts every
 *    yield of the holder while cpu_head_ != NULL, whether or not it hands
 *    to an I/O waiter, and a resumed slice continues its count. So a CPU
 *    thread holds the lock, in total over its interrupted pieces, for at
 *    most yield_skip such yields or interval_ns (plus the successor's
 *    wake-up, at most SP_GIL_WAKE_MAX_NS_, and one yield period) before
 *    it goes to the tail of the CPU queue: round robin. A resumer at the
 *    head is only ahead of the others for the rest of its own slice.
 *  - Lifetime: a waiter's node lives on its stack until it wakes; the
 *    releaser touches it only under mu_ and posts it last.
 *
 * ---------------------------------------------------------------------
 * FAIR: CPython 3.2+'s Python/ceval_gil.h with FORCE_SWITCHING, on
 * mu_/cv_ (the `locked` flag) and switch_mu_/switch_cv_ (last_holder_).
 *  - take: under mu_, while locked_, wait on cv_ for interval_ns; if that
 *    wait timed out, the lock is still held and switch_number_ has not
 *    moved, set drop_request_. Then, also under switch_mu_, set locked_,
 *    record the new last_holder_ (counting a switch when it changed) and
 *    signal switch_cv_; clear drop_request_.
 *  - drop: record last_holder_, clear locked_ and signal cv_ under mu_;
 *    if drop_request_ is set, wait under switch_mu_ until last_holder_ is
 *    another thread (a loop, not CPython's single wait: a spurious wakeup
 *    must not let the dropper barge back in).
 *  - yield: one relaxed load of drop_request_; if set, drop then take.
 *  The dropper's wait ends: drop_request_ is only set by a waiter while it
 *  waits, and is cleared at each take, so when the dropper sees it set some
 *  waiter is still waiting; cv_ was signalled after locked_ was cleared,
 *  and a woken waiter that finds locked_ clear takes the lock and changes
 *  last_holder_ under switch_mu_ before signalling switch_cv_ (the dropper
 *  checks last_holder_ under switch_mu_, so it cannot miss that signal).
 *
 * ---------------------------------------------------------------------
 * LEGACY: Python 2.x. A plain non-fair lock (the state word plus mu_/cv_,
 * the algorithm of src/lock.c: waiters exchange state_ to 2 under mu_ and
 * wait on cv_; a release exchanges it to 0 and signals cv_ under mu_ if it
 * was 2). Every yield_skip-th yield (ticks_ is shared by all holders, like
 * _Py_Ticker) releases and re-acquires it; nothing orders the waiters. */
#include "internal.h"
#include "test_hooks.h"

#include <string.h>

#define SP_CAS_ACQ_REL_(p, e, d)                                               \
  __atomic_compare_exchange_n((p), (e), (d), 0, __ATOMIC_ACQ_REL,              \
                              __ATOMIC_RELAXED)
#define SP_CAS_RELEASE_(p, e, d)                                               \
  __atomic_compare_exchange_n((p), (e), (d), 0, __ATOMIC_RELEASE,              \
                              __ATOMIC_RELAXED)
/* Increment a field only the holder writes (no RMW instruction needed). */
#define SP_HOLDER_INC_(p) sp_store_relaxed_((p), sp_load_relaxed_(p) + 1)

/* Slow paths stay out of line, so the fast paths need no stack frame;
 * SP_OUTLINE_ for paths that are still frequent (FAIR's take and drop,
 * contended PRIORITY yields), SP_SLOW_ for the rare ones. */
#define SP_OUTLINE_ __attribute__((noinline))
#define SP_SLOW_    __attribute__((noinline, cold))

/* The FAIR waiter's shortest timed wait, as CPython's INTERVAL (1 us). */
#define SP_GIL_MIN_INTERVAL_NS_ ((int64_t)1000)

/* How long a PRIORITY waiter that is running spins for the hand-off before
 * it sleeps on its semaphore: an I/O waiter when it queues, a CPU waiter
 * after a wake-up call. Long enough to cover a holder's yield period
 * (typically a few microseconds), short enough to cost little when the
 * holder is busy elsewhere. Between two looks at its state the spinner
 * calls sp_cpu_relax_(), which yields the CPU: a spinner never keeps a
 * runnable thread (the holder, an I/O thread just woken) off a CPU. */
#define SP_GIL_SPIN_NS_ ((int64_t)50 * 1000)
/* How long a holder whose switch to a CPU waiter is due keeps the lock
 * while that waiter, woken up in advance, gets back onto a CPU. */
#define SP_GIL_WAKE_MAX_NS_ ((int64_t)100 * 1000)

/* A PRIORITY waiter's state (its field `state`, atomic; the values are in
 * test_hooks.h): RUN, on a CPU (spinning, or about to sleep); PARKED,
 * asleep (or about to sleep) on its semaphore; NUDGED, woken in advance by
 * the holder, not running yet; OWNER, handed the lock. Only the waiter
 * moves RUN -> PARKED; only the holder moves PARKED -> NUDGED (and posts the
 * semaphore) and any state -> OWNER (posting the semaphore iff the old
 * state was PARKED). So every post matches exactly one sleep. */

/* A PRIORITY waiter, on its own stack while it waits. */
struct sp_gil_waiter_ {
  sp_sema_t_ sema;
  struct sp_gil_waiter_ *next;
  uintptr_t tid;
  int state;
  /* A yielder that handed the lock to an I/O waiter in the middle of its
   * slice: it waits at the head of the CPU queue and, given the lock back,
   * resumes its slice where it stopped (the yields it had counted and the
   * time it had held the lock since the first of them). */
  int resume;
  unsigned ticks;
  int64_t elapsed_ns;
};

/* ---- statistics (called by the holder) ------------------------------- */

static void sp_gil_count_wait_(sp_gil_t *g, uint64_t *handoffs, int64_t ns) {
  if (handoffs != NULL)
    SP_HOLDER_INC_(handoffs);
  if (ns < 0)
    ns = 0;
  sp_store_relaxed_(&g->wait_total_ns_,
                    sp_load_relaxed_(&g->wait_total_ns_) + ns);
  if (ns > sp_load_relaxed_(&g->wait_max_ns_))
    sp_store_relaxed_(&g->wait_max_ns_, ns);
}

/* Wait for a semaphore that will be posted: with SP_NEVER_ sp_sema_p_ only
 * fails on an invalid semaphore, which ours is not; if it ever did, giving
 * up would leave a hand-off unconsumed, so retry. */
static void sp_gil_sleep_(struct sp_gil_waiter_ *w) {
  while (sp_sema_p_(&w->sema, SP_NEVER_) != SP_OK)
    sp_cpu_relax_();
}

/* A PRIORITY waiter, queued: return once it owns the lock. If `spin`, spin
 * for the hand-off for up to SP_GIL_SPIN_NS_ first; then sleep. A wake-up
 * call (NUDGED) means the holder is about to hand it the lock: spin again,
 * then sleep again if the hand-off has not come. */
static void sp_gil_await_(struct sp_gil_waiter_ *w, int spin) {
  for (;;) {
    if (spin) {
      int64_t end = sp_now_ns_() + SP_GIL_SPIN_NS_;
      for (unsigned i = 1; sp_load_acquire_(&w->state) != SP_GW_OWNER_; i++) {
        sp_cpu_relax_();
        if (i % 8 == 0 && sp_now_ns_() >= end)
          break;
      }
    }
    int s = SP_GW_RUN_;
    if (!__atomic_compare_exchange_n(&w->state, &s, SP_GW_PARKED_, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
      return; /* s is OWNER: only the holder moves a RUN waiter */
    sp_gil_sleep_(w);
    s = SP_GW_NUDGED_;
    if (!__atomic_compare_exchange_n(&w->state, &s, SP_GW_RUN_, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
      return; /* s is OWNER: the post was the hand-off (or came with it) */
    spin = 1;
  }
}

/* ---- configuration, init, destroy, stats ----------------------------- */

int sp_gil_config_default(sp_gil_config *cfg, int policy) {
  if (cfg == NULL || policy < SP_GIL_LEGACY || policy > SP_GIL_PRIORITY)
    return SP_EINVAL;
  cfg->policy = policy;
  cfg->interval_ns = 5 * SP_NS_PER_MS;
  cfg->yield_skip = 100;
  return SP_OK;
}

int sp_gil_init(sp_gil_t *g, const sp_gil_config *cfg) {
  sp_gil_config dflt;
  if (g == NULL)
    return SP_EINVAL;
  if (cfg == NULL) {
    sp_gil_config_default(&dflt, SP_GIL_PRIORITY);
    cfg = &dflt;
  }
  if (cfg->policy < SP_GIL_LEGACY || cfg->policy > SP_GIL_PRIORITY ||
      cfg->interval_ns < 0 || cfg->yield_skip == 0)
    return SP_EINVAL;
  memset(g, 0, sizeof *g);
  int rc = sp_mutex_init(&g->mu_);
  if (rc != SP_OK)
    return rc;
  if ((rc = sp_cond_init(&g->cv_)) != SP_OK)
    goto fail_mu;
  if ((rc = sp_mutex_init(&g->switch_mu_)) != SP_OK)
    goto fail_cv;
  if ((rc = sp_cond_init(&g->switch_cv_)) != SP_OK)
    goto fail_switch_mu;
  g->policy_ = cfg->policy;
  g->interval_ns_ = cfg->interval_ns;
  g->yield_skip_ = cfg->yield_skip;
  g->magic_ = SP_MAGIC_GIL_;
  return SP_OK;
fail_switch_mu:
  sp_mutex_destroy(&g->switch_mu_);
fail_cv:
  sp_cond_destroy(&g->cv_);
fail_mu:
  sp_mutex_destroy(&g->mu_);
  return rc;
}

int sp_gil_destroy(sp_gil_t *g) {
  if (SP_BAD_(g, SP_MAGIC_GIL_))
    return SP_EINVAL;
  sp_mutex_lock_(&g->mu_);
  int busy = sp_load_relaxed_(&g->owner_) != 0 ||
             sp_load_relaxed_(&g->state_) != 0 ||
             sp_load_relaxed_(&g->locked_) != 0 ||
             sp_load_relaxed_(&g->waiters_) != 0 || g->io_head_ != NULL ||
             g->cpu_head_ != NULL;
  sp_mutex_unlock_(&g->mu_);
  if (busy)
    return SP_EPERM;
  g->magic_ = 0;
  sp_cond_destroy(&g->switch_cv_);
  sp_mutex_destroy(&g->switch_mu_);
  sp_cond_destroy(&g->cv_);
  sp_mutex_destroy(&g->mu_);
  return SP_OK;
}

int sp_gil_stats(sp_gil_t *g, struct sp_gil_stats *out) {
  if (SP_BAD_(g, SP_MAGIC_GIL_) || out == NULL)
    return SP_EINVAL;
  uint64_t released = sp_load_acquire_(&g->yields_released_);
  uint64_t yields = sp_load_acquire_(&g->yields_);
  out->acquisitions = sp_load_relaxed_(&g->acquisitions_);
  out->handoffs_io = sp_load_relaxed_(&g->handoffs_io_);
  out->handoffs_cpu = sp_load_relaxed_(&g->handoffs_cpu_);
  out->yields = yields;
  out->yields_noop = yields >= released ? yields - released : 0;
  out->wait_total_ns = sp_load_relaxed_(&g->wait_total_ns_);
  out->wait_max_ns = sp_load_relaxed_(&g->wait_max_ns_);
  return SP_OK;
}

/* ---- PRIORITY --------------------------------------------------------- */

static void sp_q_push_front_(void **head, void **tail,
                             struct sp_gil_waiter_ *w) {
  w->next = *head;
  if (*head == NULL)
    *tail = w;
  *head = w;
}

static void sp_q_push_(void **head, void **tail, struct sp_gil_waiter_ *w) {
  w->next = NULL;
  if (*tail != NULL)
    ((struct sp_gil_waiter_ *)*tail)->next = w;
  else
    *head = w;
  *tail = w;
}

static struct sp_gil_waiter_ *sp_q_pop_(void **head, void **tail) {
  struct sp_gil_waiter_ *w = *head;
  *head = w->next;
  if (*head == NULL)
    *tail = NULL;
  return w;
}

/* Under mu_: remove and return the next owner, or NULL if nobody waits. */
static struct sp_gil_waiter_ *sp_prio_next_(sp_gil_t *g, int *is_io) {
  if (g->io_head_ != NULL &&
      (g->cpu_head_ == NULL || g->bypass_ < g->yield_skip_)) {
    *is_io = 1;
    if (g->cpu_head_ != NULL)
      g->bypass_++;
    sp_store_relaxed_(&g->io_waiting_, sp_load_relaxed_(&g->io_waiting_) - 1);
    return sp_q_pop_(&g->io_head_, &g->io_tail_);
  }
  *is_io = 0;
  if (g->cpu_head_ != NULL) {
    g->bypass_ = 0;
    return sp_q_pop_(&g->cpu_head_, &g->cpu_tail_);
  }
  return NULL;
}

/* Under mu_, by the holder: make w the owner and wake it. The caller has
 * updated the queues (a yielder has queued itself) and the statistics. */
static void sp_prio_give_(sp_gil_t *g, struct sp_gil_waiter_ *w) {
  g->ticks_ = w->resume ? w->ticks : 0;
  if (g->ticks_ != 0)
    g->slice_start_ns_ = sp_now_ns_() - w->elapsed_ns;
  g->nudged_ = 0;
  sp_store_relaxed_(&g->owner_, w->tid);
  sp_store_relaxed_(&g->state_,
                    (g->io_head_ != NULL || g->cpu_head_ != NULL) ? 2 : 1);
  /* After this exchange a running w may return and free its node: only a
   * sleeping one (PARKED) still needs, and waits for, the post. */
  if (__atomic_exchange_n(&w->state, SP_GW_OWNER_, __ATOMIC_ACQ_REL) ==
      SP_GW_PARKED_)
    sp_sema_v_(&w->sema);
}

/* By the holder, without mu_ (only holders touch the CPU queue and wake
 * CPU waiters), when a switch to the first CPU waiter h is due: return 1
 * to keep the lock for now. If h is asleep, wake it up in advance and keep
 * working; hand over at a later yield once h is running (or has given up
 * spinning and sleeps again), or SP_GIL_WAKE_MAX_NS_ after the wake-up
 * call at the latest. So the lock goes to a thread that runs, and no CPU
 * time is lost while the successor wakes up. */
static int sp_prio_wake_successor_(sp_gil_t *g, int64_t now) {
  struct sp_gil_waiter_ *h = g->cpu_head_;
  if (h == NULL)
    return 0;
  int s = sp_load_acquire_(&h->state);
  if (!g->nudged_) {
    if (s != SP_GW_PARKED_ ||
        !__atomic_compare_exchange_n(&h->state, &s, SP_GW_NUDGED_, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return 0; /* running: hand over now */
    g->nudged_ = 1;
    g->nudge_ns_ = now;
    sp_sema_v_(&h->sema); /* h cannot leave its queue before the hand-off */
    return 1;
  }
  return s == SP_GW_NUDGED_ && now - g->nudge_ns_ < SP_GIL_WAKE_MAX_NS_;
}

SP_SLOW_ static int sp_prio_acquire_slow_(sp_gil_t *g, uintptr_t self) {
  struct sp_gil_waiter_ w;
  int rc = sp_sema_init_(&w.sema);
  if (rc != SP_OK)
    return rc;
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int queued = 0;
  for (;;) {
    int s = sp_load_relaxed_(&g->state_);
    if (s == 0) {
      if (SP_CAS_ACQ_REL_(&g->state_, &s, 1))
        break;
      continue;
    }
    if (s == 1 && !SP_CAS_ACQ_REL_(&g->state_, &s, 2))
      continue;
    w.tid = self;
    w.state = SP_GW_RUN_;
    w.resume = 0;
    sp_q_push_(&g->io_head_, &g->io_tail_, &w);
    __atomic_store_n(&g->io_waiting_, sp_load_relaxed_(&g->io_waiting_) + 1,
                     __ATOMIC_RELEASE);
    queued = 1;
    break;
  }
  int64_t t0 = queued ? sp_now_ns_() : 0;
  sp_mutex_unlock_(&g->mu_);
  if (queued)
    sp_gil_await_(&w, 1); /* returns as the owner (I2) */
  else
    sp_store_relaxed_(&g->owner_, self);
  sp_sema_destroy_(&w.sema);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELAXED);
  SP_HOLDER_INC_(&g->acquisitions_);
  if (queued)
    sp_gil_count_wait_(g, &g->handoffs_io_, sp_now_ns_() - t0);
  return SP_OK;
}

SP_SLOW_ static int sp_prio_release_slow_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_);
  int is_io;
  struct sp_gil_waiter_ *w = sp_prio_next_(g, &is_io);
  if (w != NULL)
    sp_prio_give_(g, w);
  else /* not reached: state_ 2 means a waiter is queued (I1) */
    sp_store_release_(&g->state_, 0);
  sp_mutex_unlock_(&g->mu_);
  return SP_OK;
}

SP_OUTLINE_ static int sp_prio_yield_slow_(sp_gil_t *g, uintptr_t self) {
  /* The holder's slice: its yields while a CPU thread waits, and the time
   * since the first of them (the CPU queue changes only under the holder,
   * so it may read cpu_head_ without mu_). */
  int due = 0;
  int64_t now = 0;
  if (g->cpu_head_ != NULL) {
    unsigned t = ++g->ticks_;
    now = sp_now_ns_();
    if (t == 1)
      g->slice_start_ns_ = now;
    due = t >= g->yield_skip_ || now - g->slice_start_ns_ >= g->interval_ns_;
  }
  if (sp_load_relaxed_(&g->io_waiting_) == 0) {
    /* No I/O waiter (or one still queueing: it gets the lock at a later
     * yield): switch to the first CPU waiter once the slice is over and
     * that thread runs. */
    if (!due || sp_prio_wake_successor_(g, now))
      return SP_OK;
  }
  struct sp_gil_waiter_ w;
  int rc = sp_sema_init_(&w.sema);
  if (rc != SP_OK)
    return rc;
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int next_is_io = 0;
  struct sp_gil_waiter_ *next = sp_prio_next_(g, &next_is_io);
  int64_t t0 = 0;
  if (next != NULL) {
    SP_HOLDER_INC_(&g->yields_released_);
    w.tid = self;
    w.state = SP_GW_RUN_;
    t0 = sp_now_ns_();
    w.resume = next_is_io && !due;
    if (w.resume) { /* interrupted by I/O: resume this slice later */
      w.ticks = g->ticks_;
      w.elapsed_ns = g->ticks_ != 0 ? t0 - g->slice_start_ns_ : 0;
      sp_q_push_front_(&g->cpu_head_, &g->cpu_tail_, &w);
    } else { /* end of slice: round robin */
      sp_q_push_(&g->cpu_head_, &g->cpu_tail_, &w);
    }
    sp_prio_give_(g, next);
  }
  sp_mutex_unlock_(&g->mu_);
  if (next != NULL) /* returns as the owner (I2); spins if the I/O thread
                       is likely to give the lock back soon */
    sp_gil_await_(&w, w.resume);
  sp_sema_destroy_(&w.sema);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELAXED);
  if (next != NULL)
    sp_gil_count_wait_(g, &g->handoffs_cpu_, sp_now_ns_() - t0);
  return SP_OK;
}

/* ---- LEGACY ----------------------------------------------------------- */

/* The plain lock's slow path; returns as the holder. */
SP_SLOW_ static void sp_legacy_lock_slow_(sp_gil_t *g, uintptr_t self,
                                          uint64_t *handoffs) {
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int64_t t0 = 0;
  int waited = 0;
  while (sp_xchg_acq_rel_(&g->state_, 2) != 0) {
    if (!waited) {
      waited = 1;
      t0 = sp_now_ns_();
    }
    (void)sp_cond_wait_until_(&g->cv_, &g->mu_, SP_NEVER_);
  }
  /* waiters_ counts every thread between here and the start of this
   * function, a superset of those waiting on cv_: if it drops to 0, no
   * waiter is left to be signalled, so the next release may be fast. */
  if (__atomic_sub_fetch(&g->waiters_, 1, __ATOMIC_RELAXED) == 0) {
    int two = 2;
    __atomic_compare_exchange_n(&g->state_, &two, 1, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
  }
  sp_mutex_unlock_(&g->mu_);
  sp_store_relaxed_(&g->owner_, self);
  if (waited)
    sp_gil_count_wait_(g, handoffs, sp_now_ns_() - t0);
}

SP_SLOW_ static void sp_legacy_wake_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_);
  if (sp_load_relaxed_(&g->waiters_) != 0)
    sp_cond_backend_signal_(&g->cv_);
  sp_mutex_unlock_(&g->mu_);
}

static void sp_legacy_unlock_(sp_gil_t *g) {
  sp_store_relaxed_(&g->owner_, (uintptr_t)0);
  if (SP_UNLIKELY_(sp_xchg_acq_rel_(&g->state_, 0) == 2))
    sp_legacy_wake_(g);
}

static int sp_legacy_trylock_(sp_gil_t *g, uintptr_t self) {
  int zero = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&g->state_, &zero, 1))) {
    sp_store_relaxed_(&g->owner_, self);
    return 1;
  }
  return 0;
}

/* The yield_skip-th tick: release and re-acquire. */
SP_SLOW_ static int sp_legacy_yield_slow_(sp_gil_t *g, uintptr_t self) {
  g->ticks_ = 0;
  SP_HOLDER_INC_(&g->yields_released_);
  sp_legacy_unlock_(g);
  if (!sp_legacy_trylock_(g, self))
    sp_legacy_lock_slow_(g, self, &g->handoffs_cpu_);
  return SP_OK;
}

/* ---- FAIR ------------------------------------------------------------- */

/* take_gil. Returns as the holder; *waited says whether the lock was held
 * on entry, *switched whether another thread held it since the caller last
 * did. */
SP_OUTLINE_ static void sp_fair_take_(sp_gil_t *g, uintptr_t self, int *waited,
                                      int *switched, int64_t *waited_ns) {
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int64_t t0 = 0;
  *waited = 0;
  int64_t interval = g->interval_ns_ > SP_GIL_MIN_INTERVAL_NS_
                         ? g->interval_ns_
                         : SP_GIL_MIN_INTERVAL_NS_;
  while (sp_load_relaxed_(&g->locked_)) {
    if (!*waited) {
      *waited = 1;
      t0 = sp_now_ns_();
    }
    uint64_t saved = g->switch_number_;
    int64_t now = sp_now_ns_();
    int64_t deadline = interval > SP_NEVER_ - now ? SP_NEVER_ : now + interval;
    int rc = sp_cond_wait_until_(&g->cv_, &g->mu_, deadline);
    if (rc == SP_TIMEDOUT && sp_load_relaxed_(&g->locked_) &&
        g->switch_number_ == saved)
      sp_store_relaxed_(&g->drop_request_, 1);
  }
  sp_mutex_lock_(&g->switch_mu_);
  sp_store_relaxed_(&g->locked_, 1);
  sp_store_relaxed_(&g->owner_, self);
  *switched = sp_load_relaxed_(&g->last_holder_) != self;
  if (*switched) {
    sp_store_relaxed_(&g->last_holder_, self);
    g->switch_number_++;
  }
  sp_cond_backend_signal_(&g->switch_cv_);
  sp_mutex_unlock_(&g->switch_mu_);
  if (sp_load_relaxed_(&g->drop_request_))
    sp_store_relaxed_(&g->drop_request_, 0);
  sp_mutex_unlock_(&g->mu_);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELAXED);
  *waited_ns = *waited ? sp_now_ns_() - t0 : 0;
}

/* drop_gil with FORCE_SWITCHING. */
SP_OUTLINE_ static void sp_fair_drop_(sp_gil_t *g, uintptr_t self) {
  sp_store_relaxed_(&g->last_holder_, self);
  sp_mutex_lock_(&g->mu_);
  sp_store_relaxed_(&g->owner_, (uintptr_t)0);
  sp_store_relaxed_(&g->locked_, 0);
  sp_cond_backend_signal_(&g->cv_);
  sp_mutex_unlock_(&g->mu_);
  if (sp_load_relaxed_(&g->drop_request_)) {
    __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
    sp_mutex_lock_(&g->switch_mu_);
    if (sp_load_relaxed_(&g->last_holder_) == self) {
      sp_store_relaxed_(&g->drop_request_, 0);
      while (sp_load_relaxed_(&g->last_holder_) == self)
        (void)sp_cond_wait_until_(&g->switch_cv_, &g->switch_mu_, SP_NEVER_);
    }
    sp_mutex_unlock_(&g->switch_mu_);
    __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELAXED);
  }
}

SP_SLOW_ static int sp_fair_yield_slow_(sp_gil_t *g, uintptr_t self) {
  int waited, switched;
  int64_t ns;
  SP_HOLDER_INC_(&g->yields_released_);
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  int64_t t0 = sp_now_ns_();
  sp_fair_drop_(g, self);
  sp_fair_take_(g, self, &waited, &switched, &ns);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELAXED);
  if (switched)
    sp_gil_count_wait_(g, &g->handoffs_cpu_, sp_now_ns_() - t0);
  return SP_OK;
}

/* ---- public entry points ---------------------------------------------- */

int sp_gil_acquire(sp_gil_t *g) {
  if (SP_BAD_(g, SP_MAGIC_GIL_))
    return SP_EINVAL;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) == self))
    return SP_EPERM;
  switch (g->policy_) {
  case SP_GIL_PRIORITY: {
    int zero = 0;
    if (SP_LIKELY_(sp_cas_acquire_(&g->state_, &zero, 1))) {
      sp_store_relaxed_(&g->owner_, self);
      SP_HOLDER_INC_(&g->acquisitions_);
      return SP_OK;
    }
    return sp_prio_acquire_slow_(g, self);
  }
  case SP_GIL_LEGACY:
    if (!sp_legacy_trylock_(g, self))
      sp_legacy_lock_slow_(g, self, &g->handoffs_io_);
    SP_HOLDER_INC_(&g->acquisitions_);
    return SP_OK;
  default: { /* SP_GIL_FAIR */
    int waited, switched;
    int64_t ns;
    sp_fair_take_(g, self, &waited, &switched, &ns);
    SP_HOLDER_INC_(&g->acquisitions_);
    if (waited)
      sp_gil_count_wait_(g, &g->handoffs_io_, ns);
    return SP_OK;
  }
  }
}

int sp_gil_release(sp_gil_t *g) {
  if (SP_BAD_(g, SP_MAGIC_GIL_))
    return SP_EINVAL;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) != self))
    return SP_EPERM;
  switch (g->policy_) {
  case SP_GIL_PRIORITY: {
    g->ticks_ = 0;
    g->nudged_ = 0;
    sp_store_relaxed_(&g->owner_, (uintptr_t)0);
    int one = 1;
    if (SP_LIKELY_(SP_CAS_RELEASE_(&g->state_, &one, 0)))
      return SP_OK;
    return sp_prio_release_slow_(g);
  }
  case SP_GIL_LEGACY:
    sp_legacy_unlock_(g);
    return SP_OK;
  default: /* SP_GIL_FAIR */
    sp_fair_drop_(g, self);
    return SP_OK;
  }
}

int sp_gil_yield(sp_gil_t *g) {
  if (SP_BAD_(g, SP_MAGIC_GIL_))
    return SP_EINVAL;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) != self))
    return SP_EPERM;
  SP_HOLDER_INC_(&g->yields_);
  switch (g->policy_) {
  case SP_GIL_PRIORITY:
    if (SP_LIKELY_(sp_load_relaxed_(&g->state_) != 2))
      return SP_OK;
    return sp_prio_yield_slow_(g, self);
  case SP_GIL_LEGACY:
    if (SP_LIKELY_(++g->ticks_ < g->yield_skip_))
      return SP_OK;
    return sp_legacy_yield_slow_(g, self);
  default: /* SP_GIL_FAIR */
    if (SP_LIKELY_(!sp_load_relaxed_(&g->drop_request_)))
      return SP_OK;
    return sp_fair_yield_slow_(g, self);
  }
}

/* ---- test seam ---------------------------------------------------------- */

int sp_gil_cpu_head_state_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_); /* the CPU queue changes only under mu_ */
  struct sp_gil_waiter_ *h = g->cpu_head_;
  int s = h != NULL ? sp_load_acquire_(&h->state) : -1;
  sp_mutex_unlock_(&g->mu_);
  return s;
}
