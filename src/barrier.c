/* sp_barrier_t: Python's Barrier, on a mutex and a condition.
 *
 * States (under mu_): FILLING, parties arrive; DRAINING, a generation was
 * released and its threads are leaving; RESETTING, sp_barrier_reset() broke
 * the waiters and they are leaving; BROKEN, until reset.
 *
 * Invariants:
 *  - count_ is the number of threads inside sp_barrier_wait() past the
 *    entry gate. A thread arriving in DRAINING or RESETTING waits at the gate
 *    until the last leaver (count_ back to 0) sets FILLING, so the threads of
 *    one generation never mix with the next, and arrival indices
 *    (count_ at arrival) are 0..parties-1, each once.
 *  - generation_ grows by one exactly when the last party releases a
 *    generation (after running the action once, with mu_ held, before anyone
 *    is woken). A waiter remembers the generation it joined: if generation_
 *    has moved on, it was released and returns SP_OK even if the barrier
 *    broke while it was leaving; otherwise it waits while FILLING, and any
 *    other state means its generation was broken (SP_BROKEN).
 *  - Because of the gate, generation_ moves on at most once while a given
 *    thread is inside, so the comparison above cannot be fooled.
 * A waiter whose deadline passes (at the gate or while filling) breaks the
 * barrier and returns SP_TIMEDOUT; a wait that fails with SP_ESYS (the OS
 * refused the condition wait a resource) breaks it the same way and returns
 * SP_ESYS.
 *
 * Static initialisation: SP_BARRIER_INIT(parties, action, arg) fills the
 * parameters and leaves magic_ 0; the first call checks parties (1 to
 * INT32_MAX) through sp_lazy_init_, and every call returns SP_EINVAL if it
 * is bad. A zero-filled barrier has 0 parties, so it is SP_EINVAL too.
 *
 * Lifetime: every wake-up is made under mu_, and each call's last access
 * is the unlock of mu_ (src/mutex.c's rule); the arrival index is copied
 * from a local after it. */
#include "internal.h"

enum { SP_FILLING_, SP_DRAINING_, SP_RESETTING_, SP_BROKEN_ };

static int sp_barrier_parties_ok_(unsigned parties) {
  return parties != 0 && parties <= INT32_MAX;
}

/* First use of a statically initialised barrier: check its parties. */
static int sp_barrier_setup_(void *p) {
  sp_barrier_t *b = p;
  return sp_barrier_parties_ok_(b->parties_) ? SP_OK : SP_EINVAL;
}

/* SP_OK for a usable barrier (set up if statically initialised), SP_EINVAL
 * for a bad one, or the first-use set-up's error. */
static inline int sp_barrier_ready_(sp_barrier_t *b) {
  if (b == NULL)
    return SP_EINVAL;
  return sp_lazy_init_(&b->magic_, SP_MAGIC_BARRIER_, sp_barrier_setup_, b);
}

int sp_barrier_init(sp_barrier_t *b, unsigned parties,
                    sp_barrier_action_fn action, void *arg) {
  if (b == NULL || !sp_barrier_parties_ok_(parties))
    return SP_EINVAL;
  int rc = sp_mutex_init(&b->mu_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&b->cv_);
  if (rc != SP_OK)
    return rc;
  b->parties_ = parties;
  b->count_ = 0;
  b->state_ = SP_FILLING_;
  b->generation_ = 0;
  b->action_ = action;
  b->arg_ = arg;
  b->magic_ = SP_MAGIC_BARRIER_;
  return SP_OK;
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
  unsigned inside = b->count_ + b->cv_.nwaiters_;
  sp_mutex_unlock_(&b->mu_);
  if (inside != 0)
    return SP_EPERM;
  b->magic_ = SP_MAGIC_DEAD_;
  (void)sp_cond_destroy(&b->cv_);
  (void)sp_mutex_destroy(&b->mu_);
  return SP_OK;
}

/* Break the barrier and wake everyone (mu_ held). */
static void sp_barrier_break_(sp_barrier_t *b) {
  b->state_ = SP_BROKEN_;
  sp_cond_backend_broadcast_(&b->cv_);
}

int sp_barrier_wait(sp_barrier_t *b, int64_t timeout_ns, unsigned *index) {
  int64_t deadline = SP_NEVER_;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  /* The gate: wait for the previous generation to leave. */
  while (b->state_ == SP_DRAINING_ || b->state_ == SP_RESETTING_) {
    int w = sp_cond_wait_until_(&b->cv_, &b->mu_, deadline);
    if (w != SP_OK &&
        (b->state_ == SP_DRAINING_ || b->state_ == SP_RESETTING_)) {
      sp_barrier_break_(b);
      sp_mutex_unlock_(&b->mu_);
      return w;
    }
  }
  if (b->state_ == SP_BROKEN_) {
    sp_mutex_unlock_(&b->mu_);
    return SP_BROKEN;
  }
  unsigned my_index = b->count_++;
  uint64_t gen = b->generation_;
  if (b->count_ == b->parties_) {
    if (b->action_ != NULL)
      b->action_(b->arg_);
    b->state_ = SP_DRAINING_;
    b->generation_++;
    sp_cond_backend_broadcast_(&b->cv_);
  } else {
    while (b->generation_ == gen && b->state_ == SP_FILLING_) {
      int w = sp_cond_wait_until_(&b->cv_, &b->mu_, deadline);
      if (w != SP_OK && b->generation_ == gen && b->state_ == SP_FILLING_) {
        sp_barrier_break_(b);
        rc = w;
        break;
      }
    }
    if (rc == SP_OK && b->generation_ == gen)
      rc = SP_BROKEN;
  }
  /* Leave; the last one out opens the gate for the next generation. */
  if (--b->count_ == 0 &&
      (b->state_ == SP_DRAINING_ || b->state_ == SP_RESETTING_)) {
    b->state_ = SP_FILLING_;
    sp_cond_backend_broadcast_(&b->cv_);
  }
  sp_mutex_unlock_(&b->mu_);
  if (rc == SP_OK && index != NULL)
    *index = my_index;
  return rc;
}

int sp_barrier_abort(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  sp_barrier_break_(b);
  sp_mutex_unlock_(&b->mu_);
  return SP_OK;
}

int sp_barrier_reset(sp_barrier_t *b) {
  int rc = sp_barrier_lock_(b);
  if (rc != SP_OK)
    return rc;
  if (b->count_ > 0) {
    /* Waiters of a filling (or broken) generation leave with SP_BROKEN; a
     * draining generation finishes leaving with SP_OK. The last leaver sets
     * FILLING. */
    if (b->state_ == SP_FILLING_ || b->state_ == SP_BROKEN_)
      b->state_ = SP_RESETTING_;
  } else {
    b->state_ = SP_FILLING_;
  }
  sp_cond_backend_broadcast_(&b->cv_);
  sp_mutex_unlock_(&b->mu_);
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
