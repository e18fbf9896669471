/* sp_barrier_t: Python's Barrier, on a mutex for arrivals and a release
 * word the waiters sleep on.
 *
 * Fields: under mu_ live count_ (threads of the current generation inside
 * the barrier: arrivals, and after a break those not yet gone), state_
 * (FILLING, RESETTING, BROKEN), gen_ (generations released so far, the
 * "logical" count) and in_action_. Two atomic words live outside it:
 *  - word_ = (published releases << 2) | SLEEPERS | HOLD. Bits 2..31 count
 *    releases modulo 2^30 and only grow; SLEEPERS says a waiter may sleep
 *    in sp_futex_wait_ on word_, so a release must wake; HOLD is set
 *    exactly while state_ != FILLING (changed under mu_).
 *  - out_ = released waiters that have not yet left | DESTROYING.
 *
 * Arrival (under mu_): wait at the gate while RESETTING; SP_BROKEN if
 * BROKEN; take index count_++ and remember g = gen_. Not the last: release
 * mu_ and wait until word_'s release count reaches g + 1. The last: run
 * the action, then gen_++, count_ = 0 (the next generation may start filling
 * at once: no drain gate), out_ += parties - 1, release mu_, then publish:
 * one CAS adding one release to word_ and clearing SLEEPERS, and one wake
 * of every sleeper if SLEEPERS was set. A waiter spins on word_ for an
 * adaptive budget (src/spin.h; spin_ is the barrier's estimate), then sets
 * SLEEPERS (CAS) and sleeps on the value it saw; once released it
 * decrements out_ and returns, touching nothing else.
 *
 * Invariants and why they hold:
 *  B1. Publications only add to the release count, so its value is the
 *      number of publications made. A generation is published only after it
 *      was released under mu_, and generations are released in order, so
 *      "release count >= g + 1" implies generation g was released (even if
 *      a later generation's publication got there first: the order of two
 *      last arrivers' publications after their unlocks is not fixed, and
 *      additions commute). It is compared modulo 2^30 as a signed distance;
 *      the lag between gen_ and the count is at most the number of last
 *      arrivers between unlock and CAS, far below 2^29.
 *  B2. A waiter of generation g returns SP_OK only after seeing the count
 *      reach g + 1: it never leaves on the logical release alone, because
 *      its last arriver still has to publish, and must be able to do so
 *      without anyone having freed the barrier.
 *  B3. No lost wake-up: a waiter sleeps only on a value with SLEEPERS set
 *      and a count below its target. A publication changes the count and
 *      sees SLEEPERS in the old value if it was set before, so it wakes all
 *      (and a waiter about to sleep on the old value finds the word changed:
 *      the futex re-checks it). A waiter woken by another generation's
 *      publication sees its target not reached and sleeps again.
 *  B4. Breaking (abort, a timeout, reset while threads wait, an action that
 *      aborts) happens under mu_: state_ leaves FILLING and HOLD is set in
 *      the same hold of mu_, then every sleeper is woken after the unlock.
 *      A waiter that sees HOLD (or times out, or wakes with its target not
 *      reached) takes mu_ and decides there: gen_ != g means it was released
 *      (its publication is pending: wait for it without a deadline, B2);
 *      else state_ != FILLING means its generation is broken (SP_BROKEN);
 *      else a timeout breaks it (SP_TIMEDOUT), and anything else was a
 *      spurious wake (sleep again). HOLD cannot be cleared while a waiter of
 *      the broken generation is inside: it is cleared only when state_
 *      returns to FILLING, which needs count_ == 0, and every such waiter
 *      is counted until it leaves under mu_. So a broken waiter never sleeps
 *      through its break (it finds HOLD set before sleeping).
 *  B5. The gate: while RESETTING (HOLD set), arrivals sleep on word_ with
 *      HOLD in the value; the last broken waiter to leave (count_ back to 0)
 *      sets FILLING, clears HOLD under mu_ and wakes all after its unlock.
 *  B6. Indices: count_ is 0 when a generation starts (set by the release,
 *      or by the last leaver of a reset generation), and only arrivals of
 *      that generation raise it, so its indices are 0..parties-1, once each.
 *  B7. Action: it runs once per generation, by the last arriver, before
 *      anyone of the generation can see the release (gen_ and the count
 *      change after it). Calls from it find mu_ held by their own thread and
 *      return SP_EPERM, except abort, which breaks under the held mutex; the
 *      last arriver then leaves as a broken waiter.
 *
 * Lifetime: the last arriver's last accesses to the barrier are its unlock
 * of mu_ (which touches nothing after freeing the word) and the CAS of the
 * publication; after that it makes only the wake call on word_'s address
 * (platform.h allows it on freed memory). A failed CAS retries, but the
 * publication is not made yet, so every waiter of its generation is still
 * inside. A released waiter's last access is its decrement of out_ (and a
 * wake call on out_'s address if a destroyer waits for it). So when the
 * waiters' waits have returned, only wake calls remain: destroy waits for
 * out_ to reach 0 (the released waiters that are leaving; the last arriver
 * adds them before it publishes, so out_ covers a pending publication too),
 * and then the memory may be freed. Breakers and gate openers wake after
 * their unlock the same way.
 *
 * Waits take no OS resource (futex, WaitOnAddress), so nothing here fails
 * with SP_ESYS. A timed wait may report a timeout for a wait that a wake
 * picked (platform.h): every wake here wakes all, and a waiter re-reads
 * word_ after every return, so it cannot swallow anyone's wake-up.
 *
 * Static initialisation: SP_BARRIER_INIT* fill the parameters and leave
 * magic_ 0; the first call checks them (parties 1 to INT32_MAX, timeout
 * SP_FOREVER or >= 0) through sp_lazy_init_, and every call returns
 * SP_EINVAL if they are bad. A zero-filled barrier has 0 parties. */
#include "internal.h"
#include "spin.h"

enum { SP_FILLING_, SP_RESETTING_, SP_BROKEN_ };

#define SP_BW_HOLD_     1u /* state_ != FILLING */
#define SP_BW_SLEEPERS_ 2u /* a waiter may sleep on word_ */
#define SP_BW_ONE_      4u /* one release */
#define SP_BW_COUNT_(v) ((v) & ~(SP_BW_HOLD_ | SP_BW_SLEEPERS_))

#define SP_BO_DESTROYING_ 0x80000000u /* a destroyer sleeps on out_ */

static int sp_barrier_params_ok_(unsigned parties, int64_t timeout_ns) {
  return parties != 0 && parties <= INT32_MAX && timeout_ns >= SP_FOREVER;
}

/* First use of a statically initialised barrier: check its parameters. */
static int sp_barrier_setup_(void *p) {
  sp_barrier_t *b = p;
  return sp_barrier_params_ok_(b->parties_, b->timeout_) ? SP_OK : SP_EINVAL;
}

/* SP_OK for a usable barrier (set up if statically initialised), SP_EINVAL
 * for a bad one, or the first-use set-up's error. */
static inline int sp_barrier_ready_(sp_barrier_t *b) {
  if (b == NULL)
    return SP_EINVAL;
  return sp_lazy_init_(&b->magic_, SP_MAGIC_BARRIER_, sp_barrier_setup_, b);
}

int sp_barrier_init_timeout(sp_barrier_t *b, unsigned parties,
                            sp_barrier_action_fn action, void *arg,
                            int64_t timeout_ns) {
  if (b == NULL || !sp_barrier_params_ok_(parties, timeout_ns))
    return SP_EINVAL;
  int rc = sp_mutex_init(&b->mu_);
  if (rc != SP_OK)
    return rc;
  b->word_ = 0;
  b->out_ = 0;
  b->spin_ = 0;
  b->parties_ = parties;
  b->count_ = 0;
  b->state_ = SP_FILLING_;
  b->gen_ = 0;
  b->in_action_ = 0;
  b->timeout_ = timeout_ns;
  b->action_ = action;
  b->arg_ = arg;
  b->magic_ = SP_MAGIC_BARRIER_;
  return SP_OK;
}

int sp_barrier_init(sp_barrier_t *b, unsigned parties,
                    sp_barrier_action_fn action, void *arg) {
  return sp_barrier_init_timeout(b, parties, action, arg, SP_FOREVER);
}

/* Validate *b and take its mutex: SP_OK, SP_EINVAL, or SP_EPERM when called
 * from the barrier's own action (the caller already holds mu_). */
static int sp_barrier_lock_(sp_barrier_t *b) {
  int rc = sp_barrier_ready_(b);
  if (rc != SP_OK)
    return rc;
  if (sp_mutex_held_(&b->mu_))
    return SP_EPERM;
  return sp_mutex_lock_(&b->mu_);
}

int sp_barrier_destroy(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  unsigned inside = b->count_;
  sp_mutex_unlock_(&b->mu_);
  if (inside != 0)
    return SP_EPERM;
  /* Released waiters on their way out: wait for their last access. */
  uint32_t v = sp_fetch_or_acquire_(&b->out_, SP_BO_DESTROYING_);
  while ((v & ~SP_BO_DESTROYING_) != 0) {
    (void)sp_futex_wait_(&b->out_, v | SP_BO_DESTROYING_, SP_NEVER_);
    v = sp_load_acquire_(&b->out_);
  }
  b->magic_ = SP_MAGIC_DEAD_;
  (void)sp_mutex_destroy(&b->mu_);
  return SP_OK;
}

/* Break the barrier (mu_ held): the caller wakes every sleeper after its
 * unlock (sp_barrier_wake_all_). */
static void sp_barrier_break_(sp_barrier_t *b) {
  b->state_ = SP_BROKEN_;
  (void)sp_fetch_or_relaxed_(&b->word_, SP_BW_HOLD_);
}

static void sp_barrier_wake_all_(sp_barrier_t *b) {
  sp_futex_wake_(&b->word_, 1);
}

/* A waiter of a broken or reset generation leaves (mu_ held; released
 * here): the last one out of a reset opens the gate (B5). */
static void sp_barrier_leave_broken_(sp_barrier_t *b) {
  int wake = 0;
  if (--b->count_ == 0 && b->state_ == SP_RESETTING_) {
    b->state_ = SP_FILLING_;
    __atomic_fetch_and(&b->word_, ~SP_BW_HOLD_, __ATOMIC_RELAXED);
    wake = 1;
  }
  sp_mutex_unlock_(&b->mu_);
  if (wake)
    sp_barrier_wake_all_(b);
}

/* Has the release count of word value v reached target (a count << 2)? */
static inline int sp_barrier_released_(uint32_t v, uint32_t target) {
  return (int32_t)(SP_BW_COUNT_(v) - target) >= 0;
}

/* A released waiter leaves: its last access (B2, Lifetime). */
static inline int sp_barrier_leave_released_(sp_barrier_t *b) {
  uint32_t old = __atomic_fetch_sub(&b->out_, 1u, __ATOMIC_RELEASE);
  if (SP_UNLIKELY_(old == (SP_BO_DESTROYING_ | 1u)))
    sp_futex_wake_(&b->out_, 1);
  return SP_OK;
}

/* Sleep until the release count reaches target, without a deadline (the
 * publication of a generation known to be released is pending). */
static int sp_barrier_await_publication_(sp_barrier_t *b, uint32_t target) {
  for (;;) {
    uint32_t v = sp_load_acquire_(&b->word_);
    if (sp_barrier_released_(v, target))
      return sp_barrier_leave_released_(b);
    if (!(v & SP_BW_SLEEPERS_) &&
        !sp_cas_relaxed_(&b->word_, &v, v | SP_BW_SLEEPERS_))
      continue; /* reloaded with acquire at the top */
    (void)sp_futex_wait_(&b->word_, v | SP_BW_SLEEPERS_, SP_NEVER_);
  }
}

/* A waiter of generation g (not the last arriver; mu_ released) waits for
 * the release of its generation (B2-B4). */
static int sp_barrier_await_(sp_barrier_t *b, uint32_t g, int64_t deadline) {
  uint32_t target = (g + 1u) * SP_BW_ONE_;
  uint32_t v = sp_load_acquire_(&b->word_);
  int budget = sp_spin_budget_(&b->spin_);
  for (int i = 0; i < budget; i++) {
    if (sp_barrier_released_(v, target)) {
      sp_spin_hit_(&b->spin_, i);
      return sp_barrier_leave_released_(b);
    }
    if (v & SP_BW_HOLD_)
      break;
    sp_cpu_pause_();
    v = sp_load_acquire_(&b->word_);
  }
  sp_spin_miss_(&b->spin_);
  for (;;) {
    int timed_out = 0;
    if (sp_barrier_released_(v, target))
      return sp_barrier_leave_released_(b);
    if (!(v & SP_BW_HOLD_)) {
      if (!(v & SP_BW_SLEEPERS_)) {
        if (!sp_cas_relaxed_(&b->word_, &v, v | SP_BW_SLEEPERS_)) {
          v = sp_load_acquire_(&b->word_); /* the failed CAS's is relaxed */
          continue;
        }
        v |= SP_BW_SLEEPERS_;
      }
      timed_out = sp_futex_wait_(&b->word_, v, deadline) == SP_TIMEDOUT;
      v = sp_load_acquire_(&b->word_);
      if (sp_barrier_released_(v, target))
        return sp_barrier_leave_released_(b);
      if (!timed_out && !(v & SP_BW_HOLD_))
        continue; /* woken by another generation's release, or spuriously */
    }
    /* HOLD, or a timeout: decide under mu_ (B4). */
    (void)sp_mutex_lock_(&b->mu_);
    if (b->gen_ != g) {
      sp_mutex_unlock_(&b->mu_);
      return sp_barrier_await_publication_(b, target);
    }
    if (b->state_ != SP_FILLING_) {
      sp_barrier_leave_broken_(b);
      return SP_BROKEN;
    }
    if (timed_out) {
      sp_barrier_break_(b);
      sp_barrier_leave_broken_(b);
      sp_barrier_wake_all_(b);
      return SP_TIMEDOUT;
    }
    sp_mutex_unlock_(&b->mu_); /* HOLD seen, but gone: spurious */
    v = sp_load_acquire_(&b->word_);
  }
}

/* Wait on a ready barrier whose mutex the caller took; returns without
 * it. */
static int sp_barrier_wait_deadline_(sp_barrier_t *b, int64_t deadline,
                                     unsigned *index) {
  /* The gate: while a reset sends the previous waiters away (B5). */
  while (SP_UNLIKELY_(b->state_ == SP_RESETTING_)) {
    uint32_t v = sp_load_relaxed_(&b->word_);
    sp_mutex_unlock_(&b->mu_);
    int w = sp_futex_wait_(&b->word_, v, deadline);
    (void)sp_mutex_lock_(&b->mu_);
    if (w == SP_TIMEDOUT && b->state_ == SP_RESETTING_) {
      sp_barrier_break_(b);
      sp_mutex_unlock_(&b->mu_);
      sp_barrier_wake_all_(b);
      return SP_TIMEDOUT;
    }
  }
  if (b->state_ == SP_BROKEN_) {
    sp_mutex_unlock_(&b->mu_);
    return SP_BROKEN;
  }
  unsigned my_index = b->count_++;
  uint32_t g = b->gen_;
  if (b->count_ < b->parties_) {
    sp_mutex_unlock_(&b->mu_);
    int rc = sp_barrier_await_(b, g, deadline);
    if (rc == SP_OK && index != NULL)
      *index = my_index;
    return rc;
  }
  /* The last arriver (B7). */
  if (b->action_ != NULL) {
    b->in_action_ = 1;
    b->action_(b->arg_);
    b->in_action_ = 0;
    if (SP_UNLIKELY_(b->state_ != SP_FILLING_)) { /* it aborted */
      sp_barrier_leave_broken_(b);
      sp_barrier_wake_all_(b);
      return SP_BROKEN;
    }
  }
  b->gen_ = g + 1u;
  b->count_ = 0;
  if (b->parties_ > 1)
    (void)sp_fetch_add_relaxed_(&b->out_, b->parties_ - 1u);
  sp_mutex_unlock_(&b->mu_);
  /* Publish (B1, B3): the last accesses to the barrier. */
  uint32_t v = sp_load_relaxed_(&b->word_);
  while (!__atomic_compare_exchange_n(&b->word_, &v,
                                      (v + SP_BW_ONE_) & ~SP_BW_SLEEPERS_, 0,
                                      __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
  }
  if (v & SP_BW_SLEEPERS_)
    sp_barrier_wake_all_(b);
  if (index != NULL)
    *index = my_index;
  return SP_OK;
}

int sp_barrier_wait(sp_barrier_t *b, int64_t timeout_ns, unsigned *index) {
  int rc = sp_barrier_ready_(b);
  if (rc != SP_OK)
    return rc;
  if (timeout_ns == SP_DEFAULT_TIMEOUT)
    timeout_ns = b->timeout_; /* fixed at init */
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  if (sp_mutex_held_(&b->mu_))
    return SP_EPERM;
  (void)sp_mutex_lock_(&b->mu_);
  return sp_barrier_wait_deadline_(b, deadline, index);
}

int sp_barrier_wait_until(sp_barrier_t *b, int64_t deadline_ns,
                          unsigned *index) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  return sp_barrier_wait_deadline_(b, deadline_ns, index);
}

int sp_barrier_abort(sp_barrier_t *b) {
  int rc = sp_barrier_ready_(b);
  if (rc != SP_OK)
    return rc;
  if (sp_mutex_held_(&b->mu_)) {
    if (!b->in_action_)
      return SP_EPERM;
    sp_barrier_break_(b); /* from the action: its arriver wakes all */
    return SP_OK;
  }
  (void)sp_mutex_lock_(&b->mu_);
  sp_barrier_break_(b);
  sp_mutex_unlock_(&b->mu_);
  sp_barrier_wake_all_(b);
  return SP_OK;
}

int sp_barrier_reset(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  if (b->count_ > 0) {
    /* Waiters of a filling or broken generation leave with SP_BROKEN; the
     * last one sets FILLING (B5). */
    b->state_ = SP_RESETTING_;
    (void)sp_fetch_or_relaxed_(&b->word_, SP_BW_HOLD_);
  } else {
    b->state_ = SP_FILLING_;
    __atomic_fetch_and(&b->word_, ~SP_BW_HOLD_, __ATOMIC_RELAXED);
  }
  sp_mutex_unlock_(&b->mu_);
  sp_barrier_wake_all_(b);
  return SP_OK;
}

int sp_barrier_broken(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  int broken = b->state_ == SP_BROKEN_;
  sp_mutex_unlock_(&b->mu_);
  return broken;
}

int sp_barrier_n_waiting(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  int n = b->state_ == SP_FILLING_ ? (int)b->count_ : 0;
  sp_mutex_unlock_(&b->mu_);
  return n;
}

int sp_barrier_parties(sp_barrier_t *b) {
  int rc = sp_barrier_ready_(b);
  if (rc != SP_OK)
    return rc;
  return (int)b->parties_;
}
