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
 * Lifetime rule (docs/primitives.md): once a call has made the lock
 * available to another thread, it touches nothing of the object but a
 * futex wake on its address (LEGACY), or nothing but mu_ / switch_mu_
 * (PRIORITY's and FAIR's slow paths make it available under mu_), which
 * sp_gil_destroy also takes, so a thread that gets the lock and destroys
 * it waits until the releaser has let go of mu_; unlocking mu_ is the
 * mutex's own release, which obeys the same rule. A thread's last touch
 * after it gave up or dropped is a release decrement of waiters_, which
 * destroy reads with acquire. The fast paths make the lock available with
 * their last instruction.
 *
 * ---------------------------------------------------------------------
 * PRIORITY: an I/O queue and a CPU queue (FIFO, singly linked, of waiter
 * nodes on the waiters' stacks) plus one "resume" place, all under mu_; a
 * state word for the fast paths; direct hand-off; each waiter sleeps on its
 * own state word (sp_futex_wait_), so a wait creates no OS object and
 * cannot fail.
 *
 *   state_: 0 free; 1 held, nobody queued; 2 held, and a waiter may be
 *   queued (set under mu_ before a waiter queues).
 *   Fast paths, without mu_: acquire CAS 0->1; release CAS 1->0; yield
 *   reads state_ and returns unless it is 2.
 *
 *   Turns and slices. The "turn" is owned by the thread last handed the lock
 *   from the CPU side (or that took a free lock). The slice (ticks_,
 *   slice_start_ns_, holder-only) counts the yields of every holder made
 *   while a CPU waiter waits; it is reset when a new turn starts and when
 *   no CPU waiter is left. It is "due" after yield_skip_ yields or
 *   interval_ns_.
 *   Choosing the next owner (sp_prio_pick_, under mu_): the I/O head,
 *   unless a CPU waiter waits and (the slice is due or bypass_ >= io_burst_);
 *   else the resume place (if the slice is not due; if it is, its occupant
 *   goes to the CPU tail); else the CPU head, which starts a new turn.
 *   bypass_ counts I/O hand-offs in a row made while a CPU waiter waited.
 *   Where a yielder goes: if it hands to an I/O waiter, owns the turn
 *   (it did not get the lock by an I/O hand-off), its slice is not due and
 *   the resume place is empty: the resume place (it spins, as the lock
 *   usually comes back within microseconds); else the CPU tail (it sleeps).
 *   A yielder whose slice is due and whose successor sleeps wakes it first
 *   (PARKED -> NUDGED, post) and keeps the lock until it runs (at most
 *   SP_GIL_WAKE_MAX_NS_ and yield_skip_ more yields).
 *   Take-back: a hand-off to the resume place's occupant F (once per wait
 *   of F) leaves F's word GIVEN rather than OWNER, with claim_tid_ = F's id
 *   and given_ = F's node; F claims the lock by a CAS of claim_tid_ from its
 *   id to 0 before it returns. An I/O waiter arriving meanwhile (under mu_,
 *   sp_prio_take_back_) may win that CAS instead: F has not claimed, so its
 *   node lives (it cannot return before its word leaves GIVEN); the waiter
 *   puts F back in the resume place, makes itself the holder and sets F's
 *   word back to RUN. Exactly one of the two CASes succeeds. The node is
 *   dereferenced only after the waiter's CAS succeeded (given_ may be stale
 *   otherwise); claim_tid_ holds a thread id, not a flag, so that F, which
 *   may read its stale GIVEN after a take-back, can only claim a hand-off
 *   that is really its own. B1-B3 count a take-back as F's yield (a tick
 *   of the slice when a CPU waiter waits) plus an I/O hand-off: F never
 *   ran, so bypass_ continues from its value when F was picked (kept in
 *   F's node), and a take-back that would exceed io_burst_ is refused.
 *   Waiting (sp_gil_await_): a waiter's own state word (RUN, PARKED,
 *   NUDGED, OWNER, GIVEN) says whether it sleeps, so a hand-off posts only a
 *   sleeping waiter. A turn owner in the resume place keeps its CPU (pure
 *   spin) only while the I/O thread it handed to has announced that it
 *   runs (running_seq_), and yields it otherwise (SP_GIL_ACK_NS_). A
 *   waiter sleeps on its own state word (sp_futex_wait_; the hand-off's
 *   wake reads nothing at the address, so it may follow the exchange that
 *   lets the waiter return): no OS object, no failing wait. A waiter whose
 *   deadline passes leaves its queue under mu_ (sp_gil_leave_) unless it
 *   is OWNER already.
 *
 * Invariants (I1-I4 hold whenever mu_ is free):
 *  I1. A queue or the resume place is non-empty => state_ == 2. Only the
 *      fast paths change state_ without mu_, and they only move 0<->1.
 *  I2. A queued waiter returns as the holder only once its state is OWNER,
 *      which a hand-off sets (under mu_, after owner_ is its id) when it
 *      removes it from its queue. A move out of PARKED (to NUDGED or OWNER,
 *      under mu_ by the holder; only the waiter enters PARKED, only before
 *      it sleeps) is followed by a wake on the word, and nothing of the
 *      node is touched after the exchange to OWNER.
 *  I3. io_waiting_ == length of the I/O queue; cpu_waiting_ == length of
 *      the CPU queue + (resume_ != NULL).
 *  I4. resume_ != NULL only while its occupant owns the current turn: it
 *      is filled only by a turn owner handing to an I/O waiter, emptied by
 *      any hand-off to the CPU side, and a new turn starts only when it is
 *      empty.
 *
 * Why it is correct:
 *  - Mutual exclusion: the lock changes hands only by a CAS from 0 (nobody
 *    holds it) or by a hand-off, which the holder makes once and then stops
 *    using the lock (a yielder waits until handed it back).
 *  - No lost waiter: a waiter makes state_ 2 under mu_ before it queues. A
 *    holder's release CAS 1->0 and the waiter's CAS 1->2 exclude each
 *    other: either the release wins (the waiter sees 0 and takes the lock),
 *    or the release fails, takes mu_ (after the waiter has queued) and
 *    hands off. Fresh acquirers cannot overtake queued waiters: while one
 *    is queued state_ is 2 and their CAS 0->1 fails (I1).
 *  - No barging: a hand-off sets owner_ and state_ for W before the
 *    releaser lets go of mu_; the lock is never free in between.
 *  - B1 (I/O waiters): while an I/O waiter is queued, every hand-off goes
 *    to the I/O head except when a CPU waiter waits and (bypass_ >=
 *    io_burst_ or the slice is due). A hand-off to the CPU side resets
 *    bypass_, so after one, io_burst_ I/O hand-offs come before the next
 *    (unless a slice is due); and the holder of any turn hands to the I/O
 *    head at its first yield (I/O first). So k waiters ahead cost at most
 *    k + 1 I/O hand-offs plus 1 + floor(k / io_burst_) CPU ones, plus one
 *    per slice that ends meanwhile.
 *  - B2 (CPU waiters): the CPU queue is FIFO. While W waits, a new turn
 *    starts only from the CPU head, and a thread that ends its turn or is
 *    interrupted as an I/O holder goes to the tail, behind W. So at most c
 *    turns of the threads ahead of W start before W's own. A turn ends once
 *    its slice is due (yield_skip_ yields of any holder while W waits, or
 *    interval_ns_): the first hand-off after that goes to the CPU side,
 *    which moves the resume place's occupant to the tail (I4), so the next
 *    turn starts; the wake-up allowance adds at most yield_skip_ yields or
 *    SP_GIL_WAKE_MAX_NS_. Hand-offs to I/O waiters in between are bounded
 *    by B3 (bypass_).
 *  - Lifetime: a waiter's node lives on its stack until it returns; other
 *    threads touch it only under mu_, and a post is the last touch.
 *
 * ---------------------------------------------------------------------
 * FAIR: CPython 3.2+'s Python/ceval_gil.h with FORCE_SWITCHING, on
 * mu_/cv_ (the `locked` flag) and switch_mu_/switch_cv_ (last_holder_).
 *  - take: under mu_, while locked_, wait on cv_ for interval_ns; if that
 *    wait timed out, the lock is still held and switch_number_ has not
 *    moved, set drop_request_. Then, also under switch_mu_, set locked_,
 *    record the new last_holder_ (counting a switch when it changed) and
 *    signal switch_cv_; clear drop_request_. fair_waiters_ counts the
 *    threads in that loop.
 *  - drop: clear locked_ and signal cv_ under mu_; if drop_request_ is set
 *    and a thread waits (read under mu_), wait under switch_mu_ until
 *    last_holder_ is another thread or no waiter is left (a loop, not
 *    CPython's single wait: a spurious wakeup must not let the dropper
 *    barge back in).
 *  - yield: one relaxed load of drop_request_; if set, drop then take.
 *  - Errors: a waiter whose wait fails (SP_ESYS) or whose deadline passes
 *    leaves: it clears drop_request_ if it was the last waiter and wakes a
 *    dropper waiting for a switch (broadcast on switch_cv_), so a failing
 *    wait never leaves the holder blocked. A dropper whose wait fails
 *    stops waiting (the lock is already released).
 *  The dropper's wait ends: a waiter either takes the lock (changing
 *  last_holder_ under switch_mu_, then signalling switch_cv_) or leaves
 *  (decrementing fair_waiters_ before broadcasting under switch_mu_); the
 *  dropper checks both under switch_mu_, so it cannot miss the signal.
 *
 * ---------------------------------------------------------------------
 * LEGACY: Python 2.x. A plain non-fair lock on the state word as a futex
 * word (0 free, 1 held, 2 held and maybe waited on; src/lock.c's
 * algorithm): a waiter exchanges it to 2 and sleeps on it while it is 2; a
 * release exchanges it to 0 and, if it was 2, wakes one sleeper: nothing
 * but that wake (which reads no memory) follows the exchange. Every
 * yield_skip-th yield (ticks_ is shared by all holders, like _Py_Ticker)
 * releases and re-acquires it; nothing orders the waiters. */
#include "internal.h"
#include "test_hooks.h"

#include <stddef.h>
#include <string.h>

#define SP_CAS_ACQ_REL_(p, e, d)                                               \
  __atomic_compare_exchange_n((p), (e), (d), 0, __ATOMIC_ACQ_REL,              \
                              __ATOMIC_RELAXED)
#define SP_CAS_RELEASE_(p, e, d)                                               \
  __atomic_compare_exchange_n((p), (e), (d), 0, __ATOMIC_RELEASE,              \
                              __ATOMIC_RELAXED)
/* Increment a field only the holder writes (no RMW instruction needed). */
#define SP_HOLDER_INC_(p) sp_store_relaxed_((p), sp_load_relaxed_(p) + 1)

/* Slow paths stay out of line, so the fast paths need no stack frame. */
#define SP_OUTLINE_ __attribute__((noinline))
#define SP_SLOW_    __attribute__((noinline, cold))

/* A destroyed lock's magic: SP_EINVAL until sp_gil_init(). */
#define SP_MAGIC_GIL_DEAD_ 0x5370a0ffu

/* The FAIR waiter's shortest timed wait, as CPython's INTERVAL (1 us). */
#define SP_GIL_MIN_INTERVAL_NS_ ((int64_t)1000)

/* How a PRIORITY waiter that is running waits for the hand-off before it
 * sleeps on its state word (an I/O waiter when it queues, an interrupted turn
 * owner, a CPU waiter after a wake-up call): up to SP_GIL_SPIN_NS_ of looks
 * separated by sp_cpu_relax_(), which yields the CPU, then sleep. No blind
 * pure spin (a pause instruction per look): bench_handoff measured on the
 * shared 2-vCPU VM that the holder and the waiter often share a CPU's run
 * queue, and a waiter spinning without yielding then delays the hand-off by
 * its whole spin (give_us ~ the spin length, 20 us for a 20 us spin, even
 * when the other thread's state said "spinning"); yielding between looks
 * gives ~2-4 us per hand-off cycle when a CPU is free. */
#define SP_GIL_SPIN_NS_ ((int64_t)50 * 1000)
/* The exception: a turn owner that handed the lock to an I/O waiter (it
 * waits in the resume place and expects the lock back within microseconds)
 * spins without yielding while it can see that the I/O thread runs: the
 * new owner announces it runs (running_seq_) as soon as it has the lock.
 * If no announcement comes within SP_GIL_ACK_NS_, the I/O thread is not on
 * a CPU (most likely waiting for this very CPU), so the owner yields the CPU
 * between looks as usual; if it comes, the owner keeps its CPU for up to
 * SP_GIL_BUSY_NS_ instead of giving it away (on a loaded machine a CPU
 * given away comes back only after other processes' time slices, while the
 * lock, back already, sits idle). */
#ifndef SP_GIL_ACK_NS_
#define SP_GIL_ACK_NS_ ((int64_t)1500)
#endif
#define SP_GIL_BUSY_NS_ ((int64_t)30 * 1000)

/* One look's pause in a spin that keeps the CPU. */
static inline void sp_gil_pause_(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}
/* How long a holder whose switch to a CPU waiter is due keeps the lock
 * while that waiter, woken up in advance, gets back onto a CPU. */
#define SP_GIL_WAKE_MAX_NS_ ((int64_t)100 * 1000)

/* Where a PRIORITY waiter waits (field `where`, under mu_). */
enum { SP_GQ_IO_ = 0, SP_GQ_CPU_ = 1, SP_GQ_RESUME_ = 2 };
/* How the lock reached its new owner (sp_prio_pick_). */
enum { SP_GK_IO_ = 0, SP_GK_RESUME_ = 1, SP_GK_TURN_ = 2 };

/* A PRIORITY waiter, on its own stack while it waits. State (atomic; the
 * values are in test_hooks.h): RUN, on a CPU (spinning, or about to sleep);
 * PARKED, asleep (or about to sleep) on its state word; NUDGED, woken in
 * advance by the holder; OWNER, handed the lock. Only the waiter moves RUN
 * -> PARKED and NUDGED -> RUN; only a holder, under mu_, moves PARKED ->
 * NUDGED (posting) and any state -> OWNER (posting iff it was PARKED); a
 * leaving waiter, under mu_, moves PARKED or NUDGED back to RUN. */
struct sp_gil_waiter_ {
  struct sp_gil_waiter_ *next;
  uintptr_t tid;
  uint32_t state; /* a futex word: the waiter sleeps on it */
  int where;
  int kind;          /* set by the hand-off: SP_GK_* */
  uint64_t seq0;     /* handoff_seq_ or turn_seq_ when it queued */
  uint64_t seen;     /* set by the hand-off: hand-offs or turns since then */
  unsigned give_seq; /* set by the hand-off to it: what it announces in
                        running_seq_ once it runs */
  int cpu;           /* an I/O waiter: the CPU it ran on when it queued
                        (sp_cpu_id_, -1 unknown; under mu_) */
  unsigned stolen;   /* times an I/O waiter took the lock back from it
                        before it claimed it, in this wait (under mu_) */
  unsigned bypass0;  /* a resumed owner: bypass_ when it was picked (the
                        pick resets it; a take-back continues that I/O run,
                        as F never ran; under mu_) */
};

/* ---- test seam: failing waits ------------------------------------------ */

/* Waits left before they start failing; < 0: never fail (atomic). */
static int sp_gil_wait_budget_ = -1;

void sp_gil_set_wait_fail_after_(int n) {
  __atomic_store_n(&sp_gil_wait_budget_, n < 0 ? -1 : n, __ATOMIC_SEQ_CST);
}

/* 1 if this wait must fail (the seam is on and its budget is spent). */
static int sp_gil_fault_(void) {
  int n = __atomic_load_n(&sp_gil_wait_budget_, __ATOMIC_RELAXED);
  while (SP_UNLIKELY_(n >= 0)) {
    if (n == 0)
      return 1;
    if (__atomic_compare_exchange_n(&sp_gil_wait_budget_, &n, n - 1, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return 0;
  }
  return 0;
}

/* Test seam: called by every release slow path right after the store that
 * makes the lock available to another thread (still under mu_), so a test
 * can stretch the moment in which a buggy release would touch the object
 * after its next owner has destroyed and freed it. */
static void (*sp_gil_release_hook_)(void);

void sp_gil_set_release_hook_(void (*hook)(void)) {
  __atomic_store_n(&sp_gil_release_hook_, hook, __ATOMIC_SEQ_CST);
}

static void sp_gil_after_free_(void) {
  void (*h)(void) = __atomic_load_n(&sp_gil_release_hook_, __ATOMIC_RELAXED);
  if (SP_UNLIKELY_(h != NULL))
    h();
}

static int sp_gil_cond_wait_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline) {
  if (SP_UNLIKELY_(sp_gil_fault_()))
    return SP_ESYS;
  return sp_cond_wait_until_(c, m, deadline);
}

/* ---- statistics (called by the holder) ------------------------------- */

/* The statistics are 64-bit atomics. On i386 a uint64_t member is only
 * 4-byte aligned by the ABI, and an atomic access that crosses a cache
 * line can tear; they are 8-byte aligned in sp_gil_t (checked here), and
 * they are reached only as members of *g (never through a uint64_t *,
 * whose alignment the compiler would have to assume is 4), so the compiler
 * emits plain 8-byte atomic loads and stores (clang -m32
 * -Watomic-alignment, the i386 stage). Which counter a wait goes to: */
enum { SP_GIL_COUNT_NONE_, SP_GIL_COUNT_IO_, SP_GIL_COUNT_CPU_ };
_Static_assert(offsetof(sp_gil_t, acquisitions_) % 8 == 0 &&
                   offsetof(sp_gil_t, handoffs_io_) % 8 == 0 &&
                   offsetof(sp_gil_t, handoffs_cpu_) % 8 == 0 &&
                   offsetof(sp_gil_t, io_wait_max_handoffs_) % 8 == 0 &&
                   offsetof(sp_gil_t, cpu_wait_max_turns_) % 8 == 0 &&
                   offsetof(sp_gil_t, wait_total_ns_) % 8 == 0 &&
                   offsetof(sp_gil_t, takebacks_) % 8 == 0 &&
                   _Alignof(sp_gil_t) >= 8,
               "sp_gil_t: the 64-bit statistics are 8-byte aligned");

static void sp_gil_count_wait_(sp_gil_t *g, int which, int64_t ns) {
  if (which == SP_GIL_COUNT_IO_)
    SP_HOLDER_INC_(&g->handoffs_io_);
  else if (which == SP_GIL_COUNT_CPU_)
    SP_HOLDER_INC_(&g->handoffs_cpu_);
  if (ns < 0)
    ns = 0;
  sp_store_relaxed_(&g->wait_total_ns_,
                    sp_load_relaxed_(&g->wait_total_ns_) + ns);
  if (ns > sp_load_relaxed_(&g->wait_max_ns_))
    sp_store_relaxed_(&g->wait_max_ns_, ns);
  if (which == SP_GIL_COUNT_CPU_)
    sp_store_relaxed_(&g->wait_cpu_ns_,
                      sp_load_relaxed_(&g->wait_cpu_ns_) + ns);
}

/* field = max(field, v), field a 64-bit statistic of *g. */
#define SP_GIL_COUNT_MAX_(field, v)                                            \
  do {                                                                         \
    uint64_t v_ = (v);                                                         \
    if (v_ > sp_load_relaxed_(&(field)))                                       \
      sp_store_relaxed_(&(field), v_);                                         \
  } while (0)

/* The state word as a futex word (int and uint32_t may alias). */
#define SP_GIL_WORD_(g) ((uint32_t *)(void *)&(g)->state_)

/* ---- configuration, init, destroy, stats ----------------------------- */

int sp_gil_config_default(sp_gil_config *cfg, int policy) {
  if (cfg == NULL || policy < SP_GIL_LEGACY || policy > SP_GIL_PRIORITY)
    return SP_EINVAL;
  cfg->policy = policy;
  cfg->interval_ns = 5 * SP_NS_PER_MS;
  cfg->yield_skip = policy == SP_GIL_LEGACY ? 1 : 100;
  cfg->io_burst = 8;
  return SP_OK;
}

/* Set up every field but init_ (the lazy set-up's own flag), magic_ last. */
static int sp_gil_setup_(sp_gil_t *g, const sp_gil_config *cfg) {
  memset(g, 0, offsetof(sp_gil_t, init_));
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
  g->io_burst_ = cfg->io_burst != 0 ? cfg->io_burst : cfg->yield_skip;
  __atomic_store_n(&g->magic_, (unsigned)SP_MAGIC_GIL_, __ATOMIC_RELEASE);
  return SP_OK;
fail_switch_mu:
  sp_mutex_destroy(&g->switch_mu_);
fail_cv:
  sp_cond_destroy(&g->cv_);
fail_mu:
  sp_mutex_destroy(&g->mu_);
  return rc;
}

static int sp_gil_config_ok_(const sp_gil_config *cfg) {
  return cfg->policy >= SP_GIL_LEGACY && cfg->policy <= SP_GIL_PRIORITY &&
         cfg->interval_ns >= 0 && cfg->yield_skip != 0;
}

int sp_gil_init(sp_gil_t *g, const sp_gil_config *cfg) {
  sp_gil_config dflt;
  if (g == NULL)
    return SP_EINVAL;
  if (cfg == NULL) {
    sp_gil_config_default(&dflt, SP_GIL_PRIORITY);
    cfg = &dflt;
  }
  if (!sp_gil_config_ok_(cfg))
    return SP_EINVAL;
  g->init_ = 2;
  int rc = sp_gil_setup_(g, cfg);
  if (rc != SP_OK)
    g->magic_ = SP_MAGIC_GIL_DEAD_;
  return rc;
}

/* A zero-filled lock, on first use: set it up once (init_ 0 -> 1 -> 2);
 * concurrent first users wait for the winner. SP_OK, SP_EINVAL (not a
 * lock), or the set-up's error (init_ back to 0: the next call retries). */
SP_SLOW_ static int sp_gil_lazy_(sp_gil_t *g) {
  for (;;) {
    unsigned m = __atomic_load_n(&g->magic_, __ATOMIC_ACQUIRE);
    if (m == SP_MAGIC_GIL_)
      return SP_OK;
    if (m != 0)
      return SP_EINVAL;
    int zero = 0;
    if (__atomic_compare_exchange_n(&g->init_, &zero, 1, 0, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
      sp_gil_config cfg;
      sp_gil_config_default(&cfg, SP_GIL_PRIORITY);
      int rc = sp_gil_setup_(g, &cfg);
      __atomic_store_n(&g->init_, rc == SP_OK ? 2 : 0, __ATOMIC_RELEASE);
      return rc;
    }
    if (zero == 2 && __atomic_load_n(&g->magic_, __ATOMIC_ACQUIRE) == 0)
      return SP_EINVAL; /* initialised once, then zeroed: not a lock */
    sp_cpu_relax_();
  }
}

/* SP_OK if *g is a usable lock (setting up a zero-filled one). */
static inline int sp_gil_ok_(sp_gil_t *g) {
  if (SP_UNLIKELY_(g == NULL))
    return SP_EINVAL;
  if (SP_LIKELY_(__atomic_load_n(&g->magic_, __ATOMIC_ACQUIRE) ==
                 SP_MAGIC_GIL_))
    return SP_OK;
  return sp_gil_lazy_(g);
}

int sp_gil_destroy(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  sp_mutex_lock_(&g->mu_);
  /* LEGACY and PRIORITY: take the state word (CAS 0 -> 1, acquire) before
   * looking at waiters_. Their fast paths change it without mu_, and a
   * thread still inside a call (a LEGACY yield between its release and its
   * re-acquire, a GIL-aware blocking call) may take it back at any moment:
   * a check of the word and then of waiters_ could see the word free and,
   * a moment later, waiters_ at 0 after that thread took the lock and left
   * the count. While the destroyer holds the word, nobody takes it; and the
   * acquire orders the destroyer's free after the last release. */
  int word = g->policy_ != SP_GIL_FAIR, zero = 0;
  int took = word && SP_CAS_ACQ_REL_(&g->state_, &zero, 1);
  int busy = (word && !took) || sp_load_acquire_(&g->owner_) != 0 ||
             sp_load_relaxed_(&g->locked_) != 0 ||
             sp_load_acquire_(&g->waiters_) != 0 || g->io_head_ != NULL ||
             g->cpu_head_ != NULL || g->resume_ != NULL;
  if (busy && took) {
    /* Give it back. PRIORITY: nobody queued meanwhile (that needs mu_).
     * LEGACY: a waiter may have set 2 and sleeps: wake it. */
    if (sp_xchg_acq_rel_(&g->state_, 0) == 2)
      sp_futex_wake_(SP_GIL_WORD_(g), 0);
  }
  sp_mutex_unlock_(&g->mu_);
  if (busy)
    return SP_EPERM;
  /* switch_mu_ too: a FAIR dropper leaves it before its last touch (the
   * release decrement of waiters_, which the acquire load above saw). */
  sp_mutex_lock_(&g->switch_mu_);
  sp_mutex_unlock_(&g->switch_mu_);
  g->magic_ = SP_MAGIC_GIL_DEAD_;
  sp_cond_destroy(&g->switch_cv_);
  sp_mutex_destroy(&g->switch_mu_);
  sp_cond_destroy(&g->cv_);
  sp_mutex_destroy(&g->mu_);
  return SP_OK;
}

int sp_gil_stats(sp_gil_t *g, struct sp_gil_stats *out) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  if (out == NULL)
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
  out->wait_cpu_ns = sp_load_relaxed_(&g->wait_cpu_ns_);
  out->io_wait_max_handoffs = sp_load_relaxed_(&g->io_wait_max_handoffs_);
  out->cpu_wait_max_turns = sp_load_relaxed_(&g->cpu_wait_max_turns_);
  out->turns = sp_load_relaxed_(&g->turns_);
  out->takebacks = sp_load_relaxed_(&g->takebacks_);
  return SP_OK;
}

int sp_gil_stats_reset(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  if (sp_load_relaxed_(&g->owner_) != sp_thread_id_())
    return SP_EPERM;
  sp_store_relaxed_(&g->acquisitions_, 0);
  sp_store_relaxed_(&g->handoffs_io_, 0);
  sp_store_relaxed_(&g->handoffs_cpu_, 0);
  sp_store_relaxed_(&g->yields_released_, 0);
  sp_store_release_(&g->yields_, 0);
  sp_store_relaxed_(&g->wait_total_ns_, 0);
  sp_store_relaxed_(&g->wait_max_ns_, 0);
  sp_store_relaxed_(&g->wait_cpu_ns_, 0);
  sp_store_relaxed_(&g->io_wait_max_handoffs_, 0);
  sp_store_relaxed_(&g->cpu_wait_max_turns_, 0);
  sp_store_relaxed_(&g->turns_, 0);
  sp_store_relaxed_(&g->takebacks_, 0);
  return SP_OK;
}

int sp_gil_held(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  return sp_load_relaxed_(&g->owner_) == sp_thread_id_();
}

/* ---- PRIORITY: queues -------------------------------------------------- */

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

static void sp_q_remove_(void **head, void **tail, struct sp_gil_waiter_ *w) {
  struct sp_gil_waiter_ *prev = NULL, *p = *head;
  while (p != NULL && p != w) {
    prev = p;
    p = p->next;
  }
  if (p == NULL)
    return;
  if (prev == NULL)
    *head = w->next;
  else
    prev->next = w->next;
  if (*tail == w)
    *tail = prev;
}

static void sp_add_relaxed_(unsigned *p, int d) {
  sp_store_relaxed_(p, sp_load_relaxed_(p) + (unsigned)d);
}

/* Under mu_: append w (state RUN) to the CPU queue or the resume place. */
static void sp_prio_queue_cpu_(sp_gil_t *g, struct sp_gil_waiter_ *w,
                               int resume) {
  if (resume) {
    w->where = SP_GQ_RESUME_;
    g->resume_ = w;
  } else {
    w->where = SP_GQ_CPU_;
    w->seq0 = g->turn_seq_;
    sp_q_push_(&g->cpu_head_, &g->cpu_tail_, w);
  }
  __atomic_store_n(&g->cpu_waiting_, sp_load_relaxed_(&g->cpu_waiting_) + 1,
                   __ATOMIC_RELEASE);
}

/* Under mu_: 1 if the holder's slice is over (a CPU waiter waits). */
static int sp_prio_due_(sp_gil_t *g, int64_t now) {
  return g->ticks_ != 0 && (g->ticks_ >= g->yield_skip_ ||
                            now - g->slice_start_ns_ >= g->interval_ns_);
}

/* Under mu_: remove and return the next owner (kind in *kind), or NULL. */
static struct sp_gil_waiter_ *sp_prio_pick_(sp_gil_t *g, int due, int *kind) {
  int cpu_side = g->resume_ != NULL || g->cpu_head_ != NULL;
  struct sp_gil_waiter_ *w;
  if (g->io_head_ != NULL &&
      !(cpu_side && (due || g->bypass_ >= g->io_burst_))) {
    *kind = SP_GK_IO_;
    if (cpu_side)
      g->bypass_++;
    sp_add_relaxed_(&g->io_waiting_, -1);
    w = sp_q_pop_(&g->io_head_, &g->io_tail_);
    w->seen = g->handoff_seq_ + 1 - w->seq0;
    return w;
  }
  if (!cpu_side)
    return NULL;
  unsigned bypass0 = g->bypass_;
  g->bypass_ = 0;
  if (g->resume_ != NULL) {
    w = g->resume_;
    g->resume_ = NULL;
    if (!due) {
      w->bypass0 = bypass0;
      *kind = SP_GK_RESUME_;
      sp_add_relaxed_(&g->cpu_waiting_, -1);
      w->seen = 0;
      return w;
    }
    /* its turn is over: behind the others (it keeps its count) */
    w->where = SP_GQ_CPU_;
    w->seq0 = g->turn_seq_;
    sp_q_push_(&g->cpu_head_, &g->cpu_tail_, w);
  }
  *kind = SP_GK_TURN_;
  sp_add_relaxed_(&g->cpu_waiting_, -1);
  w = sp_q_pop_(&g->cpu_head_, &g->cpu_tail_);
  g->turn_seq_++;
  w->seen = g->turn_seq_ - w->seq0;
  return w;
}

/* Under mu_, by the holder: make w (just picked, of `kind`) the owner and
 * wake it. The caller has queued itself if it is a yielder. */
static void sp_prio_give_(sp_gil_t *g, struct sp_gil_waiter_ *w, int kind) {
  w->kind = kind;
  if (kind == SP_GK_TURN_) {
    g->ticks_ = 0; /* a new slice */
    g->nudged_ = 0;
  }
  if (g->resume_ == NULL && g->cpu_head_ == NULL) {
    g->ticks_ = 0; /* nobody to be fair to */
    g->nudged_ = 0;
  }
  g->turn_io_ = kind == SP_GK_IO_;
  g->handoff_seq_++;
  w->give_seq = (unsigned)g->handoff_seq_;
  sp_store_relaxed_(&g->owner_, w->tid);
  sp_store_relaxed_(&g->state_, (g->io_head_ != NULL || g->cpu_head_ != NULL ||
                                 g->resume_ != NULL)
                                    ? 2
                                    : 1);
  /* The resumed turn's owner (once per wait) is handed the lock GIVEN: it
   * must claim it (claim_tid_ -> 0) before it returns, and until it does,
   * an arriving I/O waiter may take it back (sp_prio_take_back_). */
  uint32_t to = (uint32_t)SP_GW_OWNER_;
  g->given_ = NULL;
  if (kind == SP_GK_RESUME_ && w->stolen == 0) {
    to = (uint32_t)SP_GW_GIVEN_;
    g->given_ = w;
    sp_store_relaxed_(&g->claim_tid_, w->tid); /* published by the exchange */
  }
  /* After this exchange a running w may return and free its node: only a
   * sleeping one (PARKED) still needs, and waits for, the post. The wake
   * reads nothing at the address (platform.h), so it may come after. */
  if (__atomic_exchange_n(&w->state, to, __ATOMIC_ACQ_REL) == SP_GW_PARKED_)
    sp_futex_wake_(&w->state, 0);
}

/* A waiter that read `st` from its state word: 1 if it holds the lock (OWNER;
 * or GIVEN and its claim succeeded), 0 if not. A failed claim means an I/O
 * waiter took the lock back: the word becomes RUN (under mu_) soon. */
static int sp_gil_owned_(sp_gil_t *g, struct sp_gil_waiter_ *w, uint32_t st) {
  if (st == SP_GW_OWNER_)
    return 1;
  if (st != SP_GW_GIVEN_)
    return 0;
  uintptr_t me = w->tid;
  return SP_CAS_ACQ_REL_(&g->claim_tid_, &me, (uintptr_t)0);
}

/* Under mu_, by an I/O waiter `self` about to queue: take the lock back from
 * the resumed turn's owner F if it was handed it GIVEN and has not claimed
 * it yet (typically it waits for the very CPU this thread runs on), as if F
 * had yielded to this thread at once: only when that yield would hand it
 * over (no I/O waiter queued, fewer than io_burst_ I/O hand-offs in a row,
 * F's slice not over, counting that yield), at most once per wait of F
 * (give_ hands it GIVEN only then). F goes back to the resume place. 1 if
 * the caller now holds the lock. */
static int sp_prio_take_back_(sp_gil_t *g, uintptr_t self) {
  if (g->given_ == NULL || g->io_head_ != NULL || g->resume_ != NULL ||
      g->bypass_ >= g->io_burst_)
    return 0;
  uintptr_t t = sp_load_relaxed_(&g->claim_tid_);
  if (t == 0 || !SP_CAS_ACQ_REL_(&g->claim_tid_, &t, (uintptr_t)0))
    return 0; /* F claimed it: it runs (and its node may be gone) */
  /* Only now are the holder's fields (ticks_, ...) still: F has not run. */
  int64_t now = 0;
  int tick = g->cpu_head_ != NULL; /* F's yield counts in the slice */
  if (tick) {
    now = sp_now_ns_();
    if (g->ticks_ + 1 >= g->yield_skip_ ||
        (g->ticks_ != 0 && now - g->slice_start_ns_ >= g->interval_ns_)) {
      /* that yield would end the slice: F keeps the lock (its claim, failed
       * meanwhile, is retried until it succeeds) */
      sp_store_release_(&g->claim_tid_, t);
      return 0;
    }
  }
  /* F has not claimed it, and cannot now: its node lives until it has seen
   * its word leave GIVEN. F never ran, so the I/O hand-offs in a row before
   * it was picked go on: B3 allows this one only below io_burst_. */
  struct sp_gil_waiter_ *f = g->given_;
  if (f->bypass0 >= g->io_burst_) {
    sp_store_release_(&g->claim_tid_, t); /* F keeps it (its claim retries) */
    return 0;
  }
  g->given_ = NULL;
  if (tick && ++g->ticks_ == 1)
    g->slice_start_ns_ = now;
  f->stolen++;
  g->bypass_ = f->bypass0 + 1;
  sp_prio_queue_cpu_(g, f, 1);
  g->turn_io_ = 1;
  g->handoff_seq_++;
  sp_store_relaxed_(&g->owner_, self);
  sp_store_relaxed_(&g->state_, 2); /* F is queued (I1) */
  sp_store_release_(&f->state, (uint32_t)SP_GW_RUN_);
  return 1;
}

/* A waiter whose wait ended without the lock (its deadline) leaves its
 * queue, unless it was handed the lock meanwhile. Returns SP_OK (it owns
 * the lock after all) or rc. `parked` is unused (a futex word keeps no
 * count to consume). */
SP_SLOW_ static int sp_gil_leave_(sp_gil_t *g, struct sp_gil_waiter_ *w,
                                  int parked, int rc) {
  sp_mutex_lock_(&g->mu_);
  int s = (int)sp_load_acquire_(&w->state);
  if (sp_gil_owned_(g, w, (uint32_t)s)) /* no take-back under mu_ */
    s = SP_GW_OWNER_;
  if (s != SP_GW_OWNER_) {
    if (w->where == SP_GQ_IO_) {
      sp_q_remove_(&g->io_head_, &g->io_tail_, w);
      sp_add_relaxed_(&g->io_waiting_, -1);
    } else {
      if (w->where == SP_GQ_RESUME_)
        g->resume_ = NULL;
      else
        sp_q_remove_(&g->cpu_head_, &g->cpu_tail_, w);
      sp_add_relaxed_(&g->cpu_waiting_, -1);
    }
    if (g->io_head_ == NULL && g->cpu_head_ == NULL && g->resume_ == NULL) {
      int two = 2; /* the holder's release may be fast again */
      SP_CAS_ACQ_REL_(&g->state_, &two, 1);
    }
    sp_store_relaxed_(&w->state, (uint32_t)SP_GW_RUN_);
  }
  sp_mutex_unlock_(&g->mu_);
  (void)parked; /* a futex word keeps no count: nothing to consume */
  return s == SP_GW_OWNER_ ? SP_OK : rc;
}

/* A PRIORITY waiter, queued: return SP_OK once it owns the lock. If `spin`,
 * spin for the hand-off for up to SP_GIL_SPIN_NS_ first; then sleep. A
 * wake-up call (NUDGED) means the holder is about to hand it the lock:
 * spin again, then sleep again. SP_TIMEDOUT once `deadline` passed, SP_ESYS
 * if it cannot sleep: it has then left its queue. */
static int sp_gil_await_(sp_gil_t *g, struct sp_gil_waiter_ *w, int spin,
                         int64_t deadline, unsigned seq) {
  uint32_t st;
  if (spin == 2 && SP_GIL_ACK_NS_ > 0) {
    /* the resume place: keep the CPU while the I/O thread visibly runs
     * (it announces `seq`) */
    int64_t t = sp_now_ns_(), ack_end = t + SP_GIL_ACK_NS_, end = ack_end;
    int acked = 0;
    for (unsigned i = 1;; i++) {
      st = sp_load_acquire_(&w->state);
      if (st >= SP_GW_OWNER_ && sp_gil_owned_(g, w, st))
        return SP_OK;
      sp_gil_pause_();
      if (!acked && sp_load_relaxed_(&g->running_seq_) == seq) {
        acked = 1;
        end = t + SP_GIL_BUSY_NS_;
      }
      if (i % 32 == 0 && sp_now_ns_() >= end)
        break;
    }
    spin = 1;
  }
  for (;;) {
    if (spin) {
      int64_t end = sp_now_ns_() + SP_GIL_SPIN_NS_;
      if (end > deadline)
        end = deadline;
      for (unsigned i = 1;; i++) {
        st = sp_load_acquire_(&w->state);
        if (st >= SP_GW_OWNER_ && sp_gil_owned_(g, w, st))
          return SP_OK;
        sp_cpu_relax_();
        if (i % 8 == 0 && sp_now_ns_() >= end)
          break;
      }
    }
    st = sp_load_acquire_(&w->state);
    if (sp_gil_owned_(g, w, st))
      return SP_OK;
    if (st == SP_GW_GIVEN_) { /* taken back: RUN again in a moment */
      sp_cpu_relax_();
      continue;
    }
    if (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)
      return sp_gil_leave_(g, w, 0, SP_TIMEDOUT);
    st = SP_GW_RUN_;
    if (!__atomic_compare_exchange_n(&w->state, &st, (uint32_t)SP_GW_PARKED_, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      continue; /* st is OWNER or GIVEN: only a holder moves a RUN waiter */
    for (;;) {  /* sleep on the state word while it says PARKED */
      int rc = sp_futex_wait_(&w->state, SP_GW_PARKED_, deadline);
      st = sp_load_acquire_(&w->state);
      if (st != SP_GW_PARKED_)
        break;
      if (rc == SP_TIMEDOUT)
        return sp_gil_leave_(g, w, 1, SP_TIMEDOUT);
    }
    if (st == SP_GW_NUDGED_) /* a failure: OWNER or GIVEN meanwhile */
      (void)__atomic_compare_exchange_n(&w->state, &st, (uint32_t)SP_GW_RUN_, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    spin = 1; /* owned, taken back (RUN), or woken in advance: look again */
  }
}

/* The new owner, back from sp_gil_await_: statistics. */
static void sp_prio_got_(sp_gil_t *g, struct sp_gil_waiter_ *w, int64_t t0) {
  int64_t ns = sp_now_ns_() - t0;
  if (w->kind == SP_GK_IO_) {
    sp_gil_count_wait_(g, SP_GIL_COUNT_IO_, ns);
    SP_GIL_COUNT_MAX_(g->io_wait_max_handoffs_, w->seen);
  } else {
    sp_gil_count_wait_(g, SP_GIL_COUNT_CPU_, ns);
    if (w->kind == SP_GK_TURN_) {
      SP_HOLDER_INC_(&g->turns_);
      SP_GIL_COUNT_MAX_(g->cpu_wait_max_turns_, w->seen);
    }
  }
}

SP_SLOW_ static int sp_prio_acquire_slow_(sp_gil_t *g, uintptr_t self, int cls,
                                          int64_t deadline) {
  struct sp_gil_waiter_ w;
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int queued = 0;
  int took = cls == SP_GIL_IO && sp_prio_take_back_(g, self);
  while (!took) {
    int s = sp_load_relaxed_(&g->state_);
    if (s == 0) {
      if (SP_CAS_ACQ_REL_(&g->state_, &s, 1))
        break;
      continue;
    }
    if (s == 1 && !SP_CAS_ACQ_REL_(&g->state_, &s, 2))
      continue;
    w.tid = self;
    w.state = (uint32_t)SP_GW_RUN_;
    w.stolen = 0;
    w.cpu = cls == SP_GIL_IO ? sp_cpu_id_() : -1;
    if (cls == SP_GIL_IO) {
      w.where = SP_GQ_IO_;
      w.seq0 = g->handoff_seq_;
      sp_q_push_(&g->io_head_, &g->io_tail_, &w);
      __atomic_store_n(&g->io_waiting_, sp_load_relaxed_(&g->io_waiting_) + 1,
                       __ATOMIC_RELEASE);
    } else {
      sp_prio_queue_cpu_(g, &w, 0);
    }
    queued = 1;
    break;
  }
  int64_t t0 = queued ? sp_now_ns_() : 0;
  sp_mutex_unlock_(&g->mu_);
  int rc = SP_OK;
  if (queued) {
    rc = sp_gil_await_(g, &w, cls == SP_GIL_IO, deadline, 0);
    if (rc == SP_OK) /* "I run": the yielder may keep its CPU */
      sp_store_relaxed_(&g->running_seq_, w.give_seq);
  } else if (!took) {
    sp_store_relaxed_(&g->owner_, self);
    g->turn_io_ = 0;
  }
  if (rc == SP_OK) {
    SP_HOLDER_INC_(&g->acquisitions_);
    if (queued)
      sp_prio_got_(g, &w, t0);
    if (took) { /* a hand-off to this I/O waiter, which waited for nothing */
      sp_gil_count_wait_(g, SP_GIL_COUNT_IO_, 0);
      SP_GIL_COUNT_MAX_(g->io_wait_max_handoffs_, 1);
      SP_HOLDER_INC_(&g->takebacks_);
    }
  }
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  return rc;
}

SP_SLOW_ static int sp_prio_release_slow_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_);
  int kind, due = 0;
  if (g->resume_ != NULL || g->cpu_head_ != NULL) {
    /* a release that hands over is a check point of the slice too, so a
     * slice is at most yield_skip_ pieces, each shorter than a period */
    int64_t now = sp_now_ns_();
    if (++g->ticks_ == 1)
      g->slice_start_ns_ = now;
    due = sp_prio_due_(g, now);
  }
  struct sp_gil_waiter_ *w = sp_prio_pick_(g, due, &kind);
  if (w != NULL) {
    sp_prio_give_(g, w, kind);
  } else { /* the waiters left (timeouts): the lock becomes free */
    g->given_ = NULL;
    g->ticks_ = 0;
    g->nudged_ = 0;
    sp_store_release_(&g->state_, 0);
  }
  sp_gil_after_free_();
  sp_mutex_unlock_(&g->mu_);
  return SP_OK;
}

/* Under mu_, by the holder, when its slice is due and no I/O waiter is
 * queued: 1 to keep the lock for now. If the next CPU-side thread sleeps,
 * wake it in advance and keep working; hand over at a later yield once it
 * runs, or after SP_GIL_WAKE_MAX_NS_ or yield_skip_ more yields. */
static int sp_prio_wake_successor_(sp_gil_t *g, int64_t now) {
  struct sp_gil_waiter_ *h = g->cpu_head_ != NULL ? g->cpu_head_ : g->resume_;
  if (h == NULL)
    return 0;
  int s = (int)sp_load_acquire_(&h->state);
  if (!g->nudged_) {
    if (s != SP_GW_PARKED_)
      return 0; /* running: hand over now */
    sp_store_release_(&h->state, (uint32_t)SP_GW_NUDGED_);
    g->nudged_ = 1;
    g->nudge_ns_ = now;
    g->nudge_ticks_ = g->ticks_;
    sp_futex_wake_(&h->state, 0); /* h cannot leave its queue but under mu_ */
    return 1;
  }
  return s == SP_GW_NUDGED_ && now - g->nudge_ns_ < SP_GIL_WAKE_MAX_NS_ &&
         g->ticks_ - g->nudge_ticks_ < g->yield_skip_;
}

SP_OUTLINE_ static int sp_prio_yield_slow_(sp_gil_t *g, uintptr_t self,
                                           int *switched) {
  /* The slice: yields while a CPU thread waits, and the time since the
   * first of them. */
  int due = 0;
  int64_t now = 0;
  if (sp_load_acquire_(&g->cpu_waiting_) != 0) {
    unsigned t = ++g->ticks_;
    now = sp_now_ns_();
    if (t == 1)
      g->slice_start_ns_ = now;
    due = sp_prio_due_(g, now);
  }
  if (!due && sp_load_acquire_(&g->io_waiting_) == 0)
    return SP_OK; /* nobody is owed the lock yet */
  struct sp_gil_waiter_ w;
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  if (due && g->io_head_ == NULL && sp_prio_wake_successor_(g, now)) {
    sp_mutex_unlock_(&g->mu_);
    __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
    return SP_OK;
  }
  int kind;
  int mine = !g->turn_io_; /* the caller owns the turn */
  struct sp_gil_waiter_ *next = sp_prio_pick_(g, due, &kind);
  int64_t t0 = 0;
  int resume = 0;
  unsigned expect = 0;
  if (next != NULL) {
    SP_HOLDER_INC_(&g->yields_released_);
    w.tid = self;
    w.state = (uint32_t)SP_GW_RUN_;
    w.stolen = 0;
    t0 = sp_now_ns_();
    resume = kind == SP_GK_IO_ && mine && !due && g->resume_ == NULL;
    /* the ack spin (resume 2) only if the I/O thread can run meanwhile: not
     * if it queued on this very CPU (it waits for this CPU to be given up) */
    if (resume && (next->cpu < 0 || next->cpu != sp_cpu_id_()))
      resume = 2;
    sp_prio_queue_cpu_(g, &w, resume);
    /* the seq the next owner will announce (give sets it; after give its
     * node may be gone) */
    expect = (unsigned)(g->handoff_seq_ + 1);
    sp_prio_give_(g, next, kind);
  }
  sp_mutex_unlock_(&g->mu_);
  int rc = SP_OK;
  if (next != NULL) { /* spins if the I/O thread is likely to give it back */
    rc = sp_gil_await_(g, &w, resume, SP_NEVER_, expect);
    if (rc == SP_OK)
      sp_store_relaxed_(&g->running_seq_, w.give_seq);
  }
  if (next != NULL && rc == SP_OK)
    sp_prio_got_(g, &w, t0);
  if (switched != NULL)
    *switched = next != NULL;
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  return rc;
}

/* ---- LEGACY ----------------------------------------------------------- */

/* The plain lock's slow path (src/lock.c's algorithm on the futex word):
 * SP_OK as the holder, or SP_TIMEDOUT. Cannot fail otherwise. */
SP_SLOW_ static int sp_legacy_lock_slow_(sp_gil_t *g, uintptr_t self, int which,
                                         int64_t deadline, int *waited) {
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  int64_t t0 = 0;
  *waited = 0;
  while (sp_xchg_acq_rel_(&g->state_, 2) != 0) {
    if (!*waited) {
      *waited = 1;
      t0 = sp_now_ns_();
    }
    if (deadline != SP_NEVER_ && sp_now_ns_() >= deadline) {
      /* a wake-up this waiter may have absorbed (Wine's WaitOnAddress,
       * platform.h) goes to the next sleeper */
      sp_futex_wake_(SP_GIL_WORD_(g), 0);
      __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
      return SP_TIMEDOUT;
    }
    (void)sp_futex_wait_(SP_GIL_WORD_(g), 2, deadline);
  }
  /* the state word stays 2 ("maybe waited on"): the next release wakes one
   * sleeper, or none needlessly; resetting it without a lock could lose a
   * wake-up */
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  sp_store_relaxed_(&g->owner_, self);
  g->switch_number_++;
  if (*waited)
    sp_gil_count_wait_(g, which, sp_now_ns_() - t0);
  return SP_OK;
}

/* Release: exchange the word to 0 (the lock is free from here on), then
 * only a wake on its address if it was 2: nothing of the object is touched
 * after the exchange (PLAN decision 2). */
static void sp_legacy_unlock_(sp_gil_t *g) {
  sp_store_relaxed_(&g->owner_, (uintptr_t)0);
  if (SP_UNLIKELY_(sp_xchg_acq_rel_(&g->state_, 0) == 2)) {
    sp_gil_after_free_();
    sp_futex_wake_(SP_GIL_WORD_(g), 0);
  }
}

static int sp_legacy_trylock_(sp_gil_t *g, uintptr_t self) {
  int zero = 0;
  if (SP_LIKELY_(sp_cas_acquire_(&g->state_, &zero, 1))) {
    sp_store_relaxed_(&g->owner_, self);
    g->switch_number_++; /* LEGACY: counts holders, for sp_gil_yield_ex */
    return 1;
  }
  return 0;
}

/* The yield_skip-th tick: release and re-acquire. The yielder counts
 * itself in waiters_ from before its release until it holds the lock
 * again, so that a thread that takes the lock meanwhile gets SP_EPERM from
 * sp_gil_destroy instead of freeing the lock under the yielder's re-acquire
 * (tests/test_lifetime.c, test_gil_yield_then_free). */
SP_SLOW_ static int sp_legacy_yield_slow_(sp_gil_t *g, uintptr_t self,
                                          int *switched) {
  g->ticks_ = 0;
  SP_HOLDER_INC_(&g->yields_released_);
  uint64_t gen = g->switch_number_; /* holders so far (holder-only) */
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_legacy_unlock_(g);
  int rc = SP_OK, waited = 0;
  if (!sp_legacy_trylock_(g, self))
    rc = sp_legacy_lock_slow_(g, self, SP_GIL_COUNT_CPU_, SP_NEVER_, &waited);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  if (switched != NULL) /* another thread held it in between */
    *switched = rc == SP_OK && g->switch_number_ != gen + 1;
  return rc;
}

/* ---- FAIR ------------------------------------------------------------- */

/* take_gil. SP_OK as the holder (*waited_ns: how long it waited, or -1 if
 * the lock was free; *switched: another thread held it since the caller
 * last did); SP_BUSY (try), SP_TIMEDOUT, SP_ESYS (unless `must`). */
SP_OUTLINE_ static int sp_fair_take_(sp_gil_t *g, uintptr_t self,
                                     int64_t deadline, int try_only, int must,
                                     int *switched, int64_t *waited_ns) {
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_lock_(&g->mu_);
  int64_t t0 = 0;
  int waited = 0, rc = SP_OK;
  int64_t interval = g->interval_ns_ > SP_GIL_MIN_INTERVAL_NS_
                         ? g->interval_ns_
                         : SP_GIL_MIN_INTERVAL_NS_;
  if (sp_load_relaxed_(&g->locked_) && try_only) {
    rc = SP_BUSY;
  } else if (sp_load_relaxed_(&g->locked_)) {
    waited = 1;
    t0 = sp_now_ns_();
    sp_add_relaxed_(&g->fair_waiters_, 1);
    while (sp_load_relaxed_(&g->locked_)) {
      uint64_t saved = g->switch_number_;
      int64_t now = sp_now_ns_();
      if (now >= deadline) {
        rc = SP_TIMEDOUT;
        break;
      }
      int64_t until = interval > SP_NEVER_ - now ? SP_NEVER_ : now + interval;
      if (until > deadline)
        until = deadline;
      int r = sp_gil_cond_wait_(&g->cv_, &g->mu_, until);
      if (r == SP_ESYS) {
        if (!must) {
          rc = SP_ESYS;
          break;
        }
        sp_mutex_unlock_(&g->mu_);
        sp_cpu_relax_();
        sp_mutex_lock_(&g->mu_);
        continue;
      }
      if (r == SP_TIMEDOUT && sp_load_relaxed_(&g->locked_) &&
          g->switch_number_ == saved && sp_now_ns_() < deadline)
        sp_store_relaxed_(&g->drop_request_, 1);
    }
    sp_add_relaxed_(&g->fair_waiters_, -1);
  }
  if (rc != SP_OK) {
    int wake = 0;
    if (rc != SP_BUSY && sp_load_relaxed_(&g->fair_waiters_) == 0) {
      /* nobody left to want a drop: a dropper must not wait for us */
      sp_store_relaxed_(&g->drop_request_, 0);
      wake = 1;
    }
    sp_mutex_unlock_(&g->mu_);
    if (wake) {
      sp_mutex_lock_(&g->switch_mu_);
      sp_cond_backend_broadcast_(&g->switch_cv_);
      sp_mutex_unlock_(&g->switch_mu_);
    }
    __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
    return rc;
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
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  *waited_ns = waited ? sp_now_ns_() - t0 : -1;
  return SP_OK;
}

/* drop_gil with FORCE_SWITCHING. SP_OK, or SP_ESYS if waiting for the
 * switch failed (the lock is released either way). */
SP_OUTLINE_ static int sp_fair_drop_(sp_gil_t *g, uintptr_t self) {
  sp_store_relaxed_(&g->last_holder_, self);
  sp_mutex_lock_(&g->mu_);
  sp_store_relaxed_(&g->owner_, (uintptr_t)0);
  sp_store_relaxed_(&g->locked_, 0);
  sp_cond_backend_signal_(&g->cv_);
  sp_gil_after_free_();
  int wait = sp_load_relaxed_(&g->drop_request_) &&
             sp_load_relaxed_(&g->fair_waiters_) != 0;
  if (wait) /* still a user: sp_gil_destroy says SP_EPERM */
    __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  sp_mutex_unlock_(&g->mu_);
  if (!wait)
    return SP_OK; /* nothing touched since the lock became free */
  int rc = SP_OK;
  sp_mutex_lock_(&g->switch_mu_);
  if (sp_load_relaxed_(&g->last_holder_) == self) {
    sp_store_relaxed_(&g->drop_request_, 0);
    while (sp_load_relaxed_(&g->last_holder_) == self &&
           sp_load_relaxed_(&g->fair_waiters_) != 0) {
      rc = sp_gil_cond_wait_(&g->switch_cv_, &g->switch_mu_, SP_NEVER_);
      if (rc == SP_ESYS)
        break;
      rc = SP_OK;
    }
  }
  sp_mutex_unlock_(&g->switch_mu_);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE); /* last touch */
  return rc;
}

SP_SLOW_ static int sp_fair_yield_slow_(sp_gil_t *g, uintptr_t self,
                                        int *switched) {
  int sw = 0;
  int64_t ns;
  SP_HOLDER_INC_(&g->yields_released_);
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  int64_t t0 = sp_now_ns_();
  (void)sp_fair_drop_(g, self); /* a failed switch wait: compete anyway */
  int rc = sp_fair_take_(g, self, SP_NEVER_, 0, 0, &sw, &ns);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
  if (rc == SP_OK && sw)
    sp_gil_count_wait_(g, SP_GIL_COUNT_CPU_, sp_now_ns_() - t0);
  if (switched != NULL)
    *switched = rc == SP_OK && sw;
  return rc;
}

/* ---- public entry points ---------------------------------------------- */

/* Acquire with an absolute deadline; try_only for a zero timeout. `must`:
 * an internal re-acquire that may not fail (see sp_gil_call_blocking). */
static int sp_gil_acquire_impl_(sp_gil_t *g, int cls, int64_t deadline,
                                int try_only, int must) {
  int rc = sp_gil_ok_(g);
  if (SP_UNLIKELY_(rc != SP_OK))
    return rc;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) == self))
    return SP_EPERM;
  switch (g->policy_) {
  case SP_GIL_PRIORITY: {
    int zero = 0;
    if (SP_LIKELY_(sp_cas_acquire_(&g->state_, &zero, 1))) {
      sp_store_relaxed_(&g->owner_, self);
      g->turn_io_ = 0;
      SP_HOLDER_INC_(&g->acquisitions_);
      return SP_OK;
    }
    if (try_only)
      return SP_BUSY;
    for (;;) {
      rc = sp_prio_acquire_slow_(g, self, cls, deadline);
      if (rc != SP_ESYS || !must)
        return rc;
      sp_cpu_relax_();
    }
  }
  case SP_GIL_LEGACY:
    if (!sp_legacy_trylock_(g, self)) {
      if (try_only)
        return SP_BUSY;
      int waited;
      rc = sp_legacy_lock_slow_(g, self, SP_GIL_COUNT_IO_, deadline, &waited);
      if (rc != SP_OK)
        return rc;
    }
    SP_HOLDER_INC_(&g->acquisitions_);
    return SP_OK;
  default: { /* SP_GIL_FAIR */
    int switched;
    int64_t ns;
    rc = sp_fair_take_(g, self, deadline, try_only, must, &switched, &ns);
    if (rc != SP_OK)
      return rc;
    SP_HOLDER_INC_(&g->acquisitions_);
    if (ns >= 0)
      sp_gil_count_wait_(g, SP_GIL_COUNT_IO_, ns);
    return SP_OK;
  }
  }
}

int sp_gil_acquire(sp_gil_t *g) {
  return sp_gil_acquire_impl_(g, SP_GIL_IO, SP_NEVER_, 0, 0);
}

int sp_gil_acquire_ex(sp_gil_t *g, int cls, int64_t timeout_ns) {
  int64_t deadline;
  if ((cls != SP_GIL_IO && cls != SP_GIL_CPU) ||
      sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_gil_acquire_impl_(g, cls, deadline, timeout_ns == 0, 0);
}

int sp_gil_acquire_until(sp_gil_t *g, int cls, int64_t deadline_ns) {
  if (cls != SP_GIL_IO && cls != SP_GIL_CPU)
    return SP_EINVAL;
  int try_only = deadline_ns != SP_NEVER_ && deadline_ns <= sp_now_ns_();
  return sp_gil_acquire_impl_(g, cls, deadline_ns, try_only, 0);
}

int sp_gil_release(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (SP_UNLIKELY_(rc != SP_OK))
    return rc;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) != self))
    return SP_EPERM;
  switch (g->policy_) {
  case SP_GIL_PRIORITY: {
    sp_store_relaxed_(&g->owner_, (uintptr_t)0);
    unsigned ticks = g->ticks_;
    g->ticks_ = 0; /* the lock may become free: a new slice then */
    int one = 1;
    if (SP_LIKELY_(SP_CAS_RELEASE_(&g->state_, &one, 0)))
      return SP_OK;
    g->ticks_ = ticks; /* still ours: waiters are queued */
    return sp_prio_release_slow_(g);
  }
  case SP_GIL_LEGACY:
    sp_legacy_unlock_(g);
    return SP_OK;
  default: /* SP_GIL_FAIR */
    return sp_fair_drop_(g, self);
  }
}

static int sp_gil_yield_impl_(sp_gil_t *g, int *switched) {
  int rc = sp_gil_ok_(g);
  if (SP_UNLIKELY_(rc != SP_OK))
    return rc;
  uintptr_t self = sp_thread_id_();
  if (SP_UNLIKELY_(sp_load_relaxed_(&g->owner_) != self))
    return SP_EPERM;
  SP_HOLDER_INC_(&g->yields_);
  if (switched != NULL)
    *switched = 0;
  switch (g->policy_) {
  case SP_GIL_PRIORITY:
    if (SP_LIKELY_(sp_load_relaxed_(&g->state_) != 2))
      return SP_OK;
    return sp_prio_yield_slow_(g, self, switched);
  case SP_GIL_LEGACY:
    if (SP_LIKELY_(++g->ticks_ < g->yield_skip_))
      return SP_OK;
    return sp_legacy_yield_slow_(g, self, switched);
  default: /* SP_GIL_FAIR */
    if (SP_LIKELY_(!sp_load_relaxed_(&g->drop_request_)))
      return SP_OK;
    return sp_fair_yield_slow_(g, self, switched);
  }
}

int sp_gil_yield(sp_gil_t *g) {
  return sp_gil_yield_impl_(g, NULL);
}

int sp_gil_yield_ex(sp_gil_t *g, int *switched) {
  return sp_gil_yield_impl_(g, switched);
}

/* ---- fork ---------------------------------------------------------------- */

int sp_gil_after_fork_child(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  sp_gil_config cfg;
  cfg.policy = g->policy_;
  cfg.interval_ns = g->interval_ns_;
  cfg.yield_skip = g->yield_skip_;
  cfg.io_burst = g->io_burst_;
  /* The internal mutexes and conditions may be held or waited on by
   * threads that do not exist in the child: make new ones over them. */
  memset(&g->mu_, 0, sizeof g->mu_);
  memset(&g->cv_, 0, sizeof g->cv_);
  memset(&g->switch_mu_, 0, sizeof g->switch_mu_);
  memset(&g->switch_cv_, 0, sizeof g->switch_cv_);
  g->init_ = 2;
  rc = sp_gil_setup_(g, &cfg);
  if (rc != SP_OK) {
    g->magic_ = SP_MAGIC_GIL_DEAD_;
    return rc;
  }
  uintptr_t self = sp_thread_id_();
  sp_store_relaxed_(&g->owner_, self);
  if (g->policy_ == SP_GIL_FAIR) {
    sp_store_relaxed_(&g->locked_, 1);
    sp_store_relaxed_(&g->last_holder_, self);
  } else {
    sp_store_relaxed_(&g->state_, 1);
  }
  return SP_OK;
}

/* ---- blocking on the library's objects ------------------------------- */

/* Around a blocking call: release the GIL, counted in waiters_ as a
 * thread inside a call, so that sp_gil_destroy says SP_EPERM until the
 * caller has taken the GIL back and returned (another thread may take the
 * GIL meanwhile; it must not be able to destroy it under the caller). */
static void sp_gil_block_begin_(sp_gil_t *g) {
  __atomic_fetch_add(&g->waiters_, 1, __ATOMIC_RELAXED);
  (void)sp_gil_release(g); /* FAIR's SP_ESYS: released all the same */
}

/* Take the GIL back after a blocking call: cannot fail (see gil.h). */
static void sp_gil_reacquire_(sp_gil_t *g, int cls) {
  (void)sp_gil_acquire_impl_(g, cls, SP_NEVER_, 0, 1);
  __atomic_fetch_sub(&g->waiters_, 1, __ATOMIC_RELEASE);
}

/* SP_OK if the caller holds g (which is valid). */
static int sp_gil_check_held_(sp_gil_t *g) {
  int rc = sp_gil_ok_(g);
  if (rc != SP_OK)
    return rc;
  return sp_load_relaxed_(&g->owner_) == sp_thread_id_() ? SP_OK : SP_EPERM;
}

int sp_gil_call_blocking(sp_gil_t *g, int cls, sp_gil_blocking_fn op, void *arg,
                         int64_t timeout_ns) {
  int64_t deadline;
  if (op == NULL || (cls != SP_GIL_IO && cls != SP_GIL_CPU) ||
      sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  int rc = sp_gil_check_held_(g);
  if (rc != SP_OK)
    return rc;
  rc = op(arg, 0);
  if ((rc != SP_BUSY && rc != SP_TIMEDOUT) || timeout_ns == 0)
    return rc;
  sp_gil_block_begin_(g);
  int64_t left = SP_FOREVER;
  if (deadline != SP_NEVER_) {
    left = deadline - sp_now_ns_();
    if (left < 0)
      left = 0;
  }
  rc = op(arg, left);
  sp_gil_reacquire_(g, cls);
  return rc;
}

struct sp_gil_qget_ {
  sp_queue_t *q;
  void **item;
};
static int sp_gil_qget_fn_(void *p, int64_t t) {
  struct sp_gil_qget_ *a = p;
  return sp_queue_get(a->q, a->item, t);
}
int sp_gil_queue_get(sp_gil_t *g, sp_queue_t *q, void **item,
                     int64_t timeout_ns) {
  struct sp_gil_qget_ a = {q, item};
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_qget_fn_, &a, timeout_ns);
}

struct sp_gil_qput_ {
  sp_queue_t *q;
  void *item;
};
static int sp_gil_qput_fn_(void *p, int64_t t) {
  struct sp_gil_qput_ *a = p;
  return sp_queue_put(a->q, a->item, t);
}
int sp_gil_queue_put(sp_gil_t *g, sp_queue_t *q, void *item,
                     int64_t timeout_ns) {
  struct sp_gil_qput_ a = {q, item};
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_qput_fn_, &a, timeout_ns);
}

static int sp_gil_qjoin_fn_(void *p, int64_t t) {
  return sp_queue_join((sp_queue_t *)p, t);
}
int sp_gil_queue_join(sp_gil_t *g, sp_queue_t *q, int64_t timeout_ns) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_qjoin_fn_, q, timeout_ns);
}

static int sp_gil_lock_fn_(void *p, int64_t t) {
  return sp_lock_acquire((sp_lock_t *)p, t);
}
int sp_gil_lock_acquire(sp_gil_t *g, sp_lock_t *l, int64_t timeout_ns) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_lock_fn_, l, timeout_ns);
}

static int sp_gil_rlock_fn_(void *p, int64_t t) {
  return sp_rlock_acquire((sp_rlock_t *)p, t);
}
int sp_gil_rlock_acquire(sp_gil_t *g, sp_rlock_t *r, int64_t timeout_ns) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_rlock_fn_, r, timeout_ns);
}

static int sp_gil_sem_fn_(void *p, int64_t t) {
  return sp_sem_acquire((sp_sem_t *)p, t);
}
int sp_gil_sem_acquire(sp_gil_t *g, sp_sem_t *s, int64_t timeout_ns) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_sem_fn_, s, timeout_ns);
}

static int sp_gil_event_fn_(void *p, int64_t t) {
  return sp_event_wait((sp_event_t *)p, t);
}
int sp_gil_event_wait(sp_gil_t *g, sp_event_t *e, int64_t timeout_ns) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_event_fn_, e, timeout_ns);
}

static int sp_gil_mutex_fn_(void *p, int64_t t) {
  sp_mutex_t *m = p;
  return t == 0 ? sp_mutex_trylock(m) : sp_mutex_lock(m);
}
int sp_gil_mutex_lock(sp_gil_t *g, sp_mutex_t *m) {
  return sp_gil_call_blocking(g, SP_GIL_IO, sp_gil_mutex_fn_, m, SP_FOREVER);
}

/* No "try first" for these two: a zero-timeout barrier wait breaks the
 * barrier, and a condition wait always waits. */
int sp_gil_barrier_wait(sp_gil_t *g, sp_barrier_t *b, int64_t timeout_ns,
                        unsigned *index) {
  if (timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  int rc = sp_gil_check_held_(g);
  if (rc != SP_OK)
    return rc;
  sp_gil_block_begin_(g);
  rc = sp_barrier_wait(b, timeout_ns, index);
  sp_gil_reacquire_(g, SP_GIL_IO);
  return rc;
}

int sp_gil_cond_wait(sp_gil_t *g, sp_cond_t *c, sp_mutex_t *m,
                     int64_t timeout_ns) {
  if (timeout_ns < SP_FOREVER)
    return SP_EINVAL;
  int rc = sp_gil_check_held_(g);
  if (rc != SP_OK)
    return rc;
  sp_gil_block_begin_(g);
  rc = sp_cond_wait(c, m, timeout_ns);
  sp_gil_reacquire_(g, SP_GIL_IO);
  return rc;
}

/* ---- test seam ---------------------------------------------------------- */

int sp_gil_cpu_head_state_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_);
  struct sp_gil_waiter_ *h = g->cpu_head_;
  int s = h != NULL ? (int)sp_load_acquire_(&h->state) : -1;
  sp_mutex_unlock_(&g->mu_);
  return s;
}

int sp_gil_io_head_state_(sp_gil_t *g) {
  sp_mutex_lock_(&g->mu_);
  struct sp_gil_waiter_ *h = g->io_head_;
  int s = h != NULL ? (int)sp_load_acquire_(&h->state) : -1;
  sp_mutex_unlock_(&g->mu_);
  return s;
}
