/* The condition's backend half on the platform's native condition variable
 * ("pthread": pthread_cond_t on CLOCK_MONOTONIC; "win32":
 * CONDITION_VARIABLE), which waits with an internal OS lock of its own, L
 * (pthread_mutex_t, SRWLOCK), because the user's mutex M is the library's
 * lock word, not an OS mutex. (M may also be an sp_rlock_t or an sp_lock_t,
 * src/cond.c: "release M" and "lock M" are then theirs; nothing below
 * changes.)
 *
 * wait:   lock L; release M; wait on the OS condition with L; unlock L;
 *         lock M.
 * signal: (M held) if nwaiters_ > 0: lock L; unlock L; signal the OS
 *         condition. broadcast likewise.
 * Lock order: M before L (wait and signal both take L while holding M); a
 * waiter never holds L while it takes M, so there is no deadlock.
 *
 * Why no wakeup is lost: a waiter W counts itself in nwaiters_ and takes L
 * while it still holds M, and holds L from before it releases M until the
 * OS condition has it asleep (the OS wait releases L atomically). A
 * signaller S holds M. If S took M before W released it, W was not yet
 * waiting (the signal is not for it). If after, S then takes L, which it
 * gets only once W is asleep on the OS condition, so the OS signal (made
 * after S released L, S still holding M) finds W among its waiters, and
 * the OS condition's own no-lost-wakeup promise does the rest.
 * Why no wakeup is stolen: a thread W2 that starts waiting after S
 * returned took M after S released it, i.e. it entered the OS condition
 * after the OS signal was made (S makes it under M). The OS
 * condition wakes only threads waiting when the signal is made (POSIX's
 * "threads blocked on the condition"; glibc 2.25+'s group design and
 * Windows' wait queue enforce it, and the test suite's late-waiter test
 * checks it), so W2 cannot consume it: the signal goes to a waiter that
 * was asleep on L's condition when S signalled, i.e. one that was waiting
 * when sp_cond_signal was called. Broadcast likewise wakes exactly the
 * threads asleep when it took L, which are the threads waiting when it was
 * called.
 * Lifetime: S touches the condition (L, the OS condition) only while it
 * holds M, and a woken waiter must take M before it can return, so the
 * condition outlives every access S makes to it.
 *
 * The OS condition may return spuriously (sp_cond_wait documents it). The
 * OS objects need set-up (pthread_condattr_setclock), done by sp_cond_init
 * or, for a zero-filled condition, on first use (src/cond.c); fault site
 * SP_FAULT_COND_INIT_. */
#include "internal.h"

struct sp_native_cv_ {
  sp_native_mutex_t_ lk;
  sp_native_cond_t_ cv;
};

#define SP_NCV_(c) ((struct sp_native_cv_ *)(void *)&(c)->native_)

_Static_assert(sizeof(struct sp_native_cv_) <= SP_COND_STORAGE_SIZE_,
               "native condition does not fit sp_cond_t storage");
_Static_assert(_Alignof(struct sp_native_cv_) <= _Alignof(sp_cond_t),
               "native condition needs more alignment than sp_cond_t has");

int sp_cond_backend_init_(sp_cond_t *c) {
  struct sp_native_cv_ *n = SP_NCV_(c);
  if (sp_fault_hit_(SP_FAULT_COND_INIT_))
    return SP_ESYS;
  int rc = sp_native_mutex_init_(&n->lk);
  if (rc != SP_OK)
    return rc;
  rc = sp_native_cond_init_(&n->cv);
  if (rc != SP_OK)
    sp_native_mutex_destroy_(&n->lk);
  return rc;
}

void sp_cond_backend_destroy_(sp_cond_t *c) {
  struct sp_native_cv_ *n = SP_NCV_(c);
  sp_native_cond_destroy_(&n->cv);
  sp_native_mutex_destroy_(&n->lk);
}

int sp_cond_backend_wait_(sp_cond_t *c, sp_cond_lock_t_ *k, int64_t deadline) {
  struct sp_native_cv_ *n = SP_NCV_(c);
  sp_native_mutex_lock_(&n->lk);
  sp_cl_release_(k);
  int rc = sp_native_cond_wait_until_(&n->cv, &n->lk, deadline);
  sp_native_mutex_unlock_(&n->lk);
  sp_cl_reacquire_(k);
  return rc;
}

/* Signal and broadcast pass through L (lock, unlock) before they wake: that
 * is all the no-lost-wakeup argument needs of L (every waiter that
 * released M before the signaller took it is then asleep on the OS
 * condition). The OS call itself is made after L is released, still under
 * M: a woken waiter re-takes L at once inside the OS wait, and would sleep
 * again on an L its signaller still held (a futex wait and wake more per
 * hand-off: bench_pair's pthread cond pair made 7 context switches per
 * round trip instead of 2). Under M no new waiter can enter the OS
 * condition meanwhile, so no wakeup is stolen either. */
void sp_cond_backend_signal_(sp_cond_t *c) {
  if (c->nwaiters_ == 0)
    return;
  struct sp_native_cv_ *n = SP_NCV_(c);
  sp_native_mutex_lock_(&n->lk);
  sp_native_mutex_unlock_(&n->lk);
  sp_native_cond_signal_(&n->cv);
}

void sp_cond_backend_broadcast_(sp_cond_t *c) {
  if (c->nwaiters_ == 0)
    return;
  struct sp_native_cv_ *n = SP_NCV_(c);
  sp_native_mutex_lock_(&n->lk);
  sp_native_mutex_unlock_(&n->lk);
  sp_native_cond_broadcast_(&n->cv);
}

/* The native condition wakes its waiters itself: nothing is ever deferred. */
void sp_cond_wake_deferred_(void *wake) {
  (void)wake;
}
