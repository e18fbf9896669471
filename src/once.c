/* sp_once_t: a run-once word on the wait-on-address contract.
 *
 * The word: 0 (never run); SP_ONCE_DONE_ (1: the routine has returned);
 * otherwise the running thread's id (sp_thread_id_(): a nonzero multiple
 * of 4) | SP_ONCE_WAITERS_ (2: other callers may sleep on the word).
 *
 * A call: if the word is DONE (acquire load), return. If it is 0, CAS it to
 * self (acquire): the winner runs the routine, then exchanges the word to
 * DONE (release) and, if WAITERS was set, wakes every sleeper. A caller
 * that finds another thread's id sets WAITERS (CAS, keeping the id) and
 * sleeps while the word still equals id | WAITERS. A caller that finds its
 * own id is inside the routine: SP_EPERM.
 *
 * Why it is correct:
 *  - Exactly once: only the CAS from 0 runs the routine, and the word never
 *    returns to 0 (it goes 0 -> id -> id|W -> DONE, and DONE is final).
 *  - Everyone sees the effects: DONE is published by the runner's release
 *    exchange after the routine returned; every caller returns only after
 *    an acquire load (or CAS) that read DONE.
 *  - No lost wakeup: a sleeper sleeps only on id | WAITERS, which it saw in
 *    the word; the runner's exchange returns that value (WAITERS is never
 *    cleared before DONE), so it wakes all; if the exchange came first, the
 *    futex sees DONE != id | WAITERS and does not sleep.
 *  - Recursion: a thread reads its own id in the word only while it runs
 *    the routine (ids are unique among live threads).
 *  - Lifetime: after the exchange, the runner makes only the wake call on
 *    the word's address (src/platform.h), so a caller may free the
 *    sp_once_t as soon as every call has returned. */
#include "internal.h"

#define SP_ONCE_DONE_    1u
#define SP_ONCE_WAITERS_ 2u

/* The slow path: run the routine (`arg_fn` with `arg`, or `fn`) or wait. */
static SP_NOINLINE_ int sp_once_slow_(sp_once_t *o, void (*fn)(void),
                                      void (*arg_fn)(void *), void *arg) {
  uint32_t self = sp_self_();
  for (;;) {
    uint32_t v = sp_load_acquire_(&o->state_);
    if (v == SP_ONCE_DONE_)
      return SP_OK;
    if (v == 0) {
      if (!sp_cas_acquire_(&o->state_, &v, self))
        continue;
      if (arg_fn != NULL)
        arg_fn(arg);
      else
        fn();
      uint32_t old = sp_xchg_acq_rel_(&o->state_, SP_ONCE_DONE_);
      /* o may be freed from here on: only the wake call on its address. */
      if (old & SP_ONCE_WAITERS_)
        sp_futex_wake_(&o->state_, 1);
      return SP_OK;
    }
    if ((v & ~SP_ONCE_WAITERS_) == self)
      return SP_EPERM;
    if (!(v & SP_ONCE_WAITERS_) &&
        !sp_cas_relaxed_(&o->state_, &v, v | SP_ONCE_WAITERS_))
      continue;
    (void)sp_futex_wait_(&o->state_, v | SP_ONCE_WAITERS_, SP_NEVER_);
  }
}

int sp_once(sp_once_t *o, void (*fn)(void)) {
  if (o == NULL || fn == NULL)
    return SP_EINVAL;
  if (SP_LIKELY_(sp_load_acquire_(&o->state_) == SP_ONCE_DONE_))
    return SP_OK;
  return sp_once_slow_(o, fn, NULL, NULL);
}

int sp_once_arg(sp_once_t *o, void (*fn)(void *), void *arg) {
  if (o == NULL || fn == NULL)
    return SP_EINVAL;
  if (SP_LIKELY_(sp_load_acquire_(&o->state_) == SP_ONCE_DONE_))
    return SP_OK;
  return sp_once_slow_(o, NULL, fn, arg);
}
