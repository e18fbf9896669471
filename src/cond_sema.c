/* The condition's backend half emulated on semaphores plus the user's mutex
 * ("sem" and "win32-sem" backends).
 *
 * Algorithm. Each waiter brings its own semaphore (struct sp_waiter_, on its
 * stack), appends itself to the condition's FIFO queue, releases the mutex
 * and waits on its semaphore. sp_cond_signal removes the queue's head and
 * posts its semaphore; sp_cond_broadcast does so for every queued waiter. A
 * waiter whose deadline passes re-acquires the mutex and, if it is still
 * queued, removes itself and returns SP_TIMEDOUT; if it is no longer queued,
 * a signal chose it in the meantime, so it consumes that post and returns
 * SP_OK.
 *
 * Invariants, each kept under the user's mutex M, which every wait, signal
 * and broadcast caller holds (src/cond.c checks it):
 *  I1. The queue holds exactly the waiters that no signal or broadcast has
 *      chosen and that have not timed out; `queued` says whether a waiter is
 *      in it.
 *  I2. A waiter's semaphore is posted exactly once if a signal or broadcast
 *      removes it from the queue, and never otherwise.
 *
 * Why the promises hold:
 *  - No lost wakeup: a waiter enters the queue before releasing M, and a
 *    signaller holds M, so a signal made after the wait began finds the
 *    waiter queued (I1) and posts it (I2). A post that comes before the
 *    waiter blocks on its semaphore is kept in the semaphore's count.
 *  - No stolen wakeup: a signal posts the semaphore of one waiter that was
 *    queued when it was called; a later waiter has its own semaphore, which
 *    that post cannot reach. Broadcast empties the queue as it was when it
 *    was called, so it wakes exactly those waiters.
 *  - Timeouts: a timed-out waiter decides under M. If still queued, no post
 *    was or will be made to it (I2), it leaves and nothing was consumed. If
 *    not queued, the post was made before the signaller released M, hence
 *    before we re-acquired it: the semaphore's count is 1, the final
 *    sp_sema_p_ returns at once, and the waiter reports the wakeup it
 *    received (SP_OK), so the signal is neither lost nor counted twice.
 *  - Bounded counts: by I2 each semaphore is posted at most once per wait and
 *    consumed before the wait returns, so every count stays 0 or 1 and is 0
 *    when the semaphore is destroyed.
 *  - No spurious wakeup: a waiter returns SP_OK only when a signal or
 *    broadcast removed it from the queue.
 *  - Lifetime: a waiter's struct lives on its stack until it returns, which
 *    is after it re-acquires M; signallers touch it only while holding M.
 * Wakeups are FIFO: the longest waiter is signalled first. */
#include "internal.h"

struct sp_waiter_ {
  sp_sema_t_ sema;
  struct sp_waiter_ *next;
  struct sp_waiter_ *prev;
  int queued;
};

struct sp_semcond_ {
  struct sp_waiter_ *head;
  struct sp_waiter_ *tail;
};

#define SP_SEMCOND_(c) ((struct sp_semcond_ *)(void *)&(c)->native_)

_Static_assert(sizeof(struct sp_semcond_) <= SP_NATIVE_COND_SIZE_,
               "emulated condition does not fit sp_cond_t storage");

static void sp_enqueue_(struct sp_semcond_ *q, struct sp_waiter_ *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail != NULL)
    q->tail->next = w;
  else
    q->head = w;
  q->tail = w;
  w->queued = 1;
}

static void sp_dequeue_(struct sp_semcond_ *q, struct sp_waiter_ *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->queued = 0;
}

int sp_cond_backend_init_(sp_cond_t *c) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  q->head = q->tail = NULL;
  return SP_OK;
}

void sp_cond_backend_destroy_(sp_cond_t *c) {
  (void)c;
}

int sp_cond_backend_wait_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ w;
  int rc = sp_sema_init_(&w.sema);
  if (rc != SP_OK)
    return rc;
  sp_enqueue_(q, &w);
  sp_mutex_unlock_(m);
  rc = sp_sema_p_(&w.sema, deadline);
  /* The native lock cannot fail on a valid mutex (pthread_mutex_lock of a
   * normal mutex, AcquireSRWLockExclusive). */
  (void)sp_mutex_lock_(m);
  if (rc != SP_OK) {
    if (w.queued) {
      sp_dequeue_(q, &w);
    } else {
      (void)sp_sema_p_(&w.sema, SP_NEVER_);
      rc = SP_OK;
    }
  }
  sp_sema_destroy_(&w.sema);
  return rc;
}

void sp_cond_backend_signal_(sp_cond_t *c) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ *w = q->head;
  if (w != NULL) {
    sp_dequeue_(q, w);
    sp_sema_v_(&w->sema);
  }
}

void sp_cond_backend_broadcast_(sp_cond_t *c) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ *w = q->head;
  q->head = q->tail = NULL;
  while (w != NULL) {
    struct sp_waiter_ *next = w->next;
    w->queued = 0;
    sp_sema_v_(&w->sema);
    w = next;
  }
}
