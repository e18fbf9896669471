/* Adaptive spinning before a sleep, for waits whose wake-up usually comes
 * within microseconds (src/queue.c, src/barrier.c): a waiter spins up to a
 * budget before it sleeps, and the budget follows how long the recent
 * successful spins took, like glibc's adaptive mutexes. On an idle machine,
 * where the thread that will release the waiter is running on another
 * CPU, spins succeed and the budget settles a little above their typical
 * length, so most waits end without a sleep and a wake-up system call. On
 * a busy machine, where the releaser often waits for a CPU, spins fail,
 * the budget shrinks to SP_SPIN_MIN_ rounds, and a wait costs hardly more
 * than sleeping at once.
 *
 * *avg is a per-object estimate of the rounds a successful spin takes,
 * updated without synchronisation (relaxed atomics: a lost update only
 * makes the estimate a little less exact). A round is one load of the
 * word waited on and one sp_cpu_pause_() (~10-140 cycles). */
#ifndef SP_SPIN_H_
#define SP_SPIN_H_

#include "internal.h"

#ifndef SP_SPIN_MIN_
#define SP_SPIN_MIN_ 16 /* rounds tried even when spins keep failing */
#endif
#ifndef SP_SPIN_MAX_
#define SP_SPIN_MAX_ 256 /* the most rounds, whatever the estimate */
#endif

/* The rounds to spin now: twice the estimate, plus SP_SPIN_MIN_. */
static inline int sp_spin_budget_(uint32_t *avg) {
  uint32_t a = sp_load_relaxed_(avg);
  uint32_t b = 2 * a + SP_SPIN_MIN_;
  return (int)(b < SP_SPIN_MAX_ ? b : SP_SPIN_MAX_);
}

/* A spin succeeded after `rounds`: move the estimate an eighth of the way
 * towards it. */
static inline void sp_spin_hit_(uint32_t *avg, int rounds) {
  int32_t a = (int32_t)sp_load_relaxed_(avg);
  a += (rounds - a) / 8;
  sp_store_relaxed_(avg, (uint32_t)(a > 0 ? a : 0));
}

/* A spin ran out: shrink the estimate by an eighth (and at least 1). */
static inline void sp_spin_miss_(uint32_t *avg) {
  uint32_t a = sp_load_relaxed_(avg);
  sp_store_relaxed_(avg, a - (a / 8 + (a > 0)));
}

#endif
