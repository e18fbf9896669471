/* The condition's backend half emulated on semaphores plus the user's mutex
 * ("sem" and "win32-sem" backends).
 *
 * Algorithm. Each waiter brings its own semaphore (struct sp_waiter_, on its
 * stack), appends itself to the condition's FIFO queue, releases the mutex
 * M and waits on its semaphore. sp_cond_signal removes the queue's head
 * ("chooses" it); sp_cond_broadcast chooses every queued waiter. A chosen
 * waiter's semaphore is posted when M is next released: the chooser puts it
 * on the list in M's wake_ field and sets the lock word's SP_LW_DEFERRED_
 * bit, which makes the unlock's fast CAS fail, so the unlock's slow path
 * (src/mutex.c) takes the list before it frees M and posts it after. The
 * woken thread thus does not wake up only to block on the M its signaller
 * still holds, and the uncontended unlock stays one CAS. A waiter whose
 * deadline passes re-acquires M and, if it is still queued, removes itself
 * and returns SP_TIMEDOUT; if it is no longer queued, a signal chose it, so
 * it waits for that post (made when the chooser released M, or about to be)
 * and returns SP_OK.
 *
 * Invariants, each kept under M, which every wait, signal and broadcast
 * caller holds (src/cond.c checks it):
 *  I1. The queue holds exactly the waiters that no signal or broadcast has
 *      chosen and that have not timed out; `queued` says whether a waiter is
 *      in it.
 *  I2. A waiter's semaphore is posted exactly once if it is chosen, and never
 *      otherwise: choosing moves it from the queue to M's wake list, and the
 *      thread that releases M takes the whole list (under M) and posts each
 *      waiter on it once.
 *
 * Why the promises hold:
 *  - No lost wakeup: a waiter enters the queue before releasing M, and a
 *    signaller holds M, so a signal made after the wait began finds the
 *    waiter queued (I1) and it will be posted (I2). A post that comes before
 *    the waiter blocks on its semaphore is kept in the semaphore's count.
 *  - No stolen wakeup: a signal chooses one waiter that was queued when it
 *    was called and posts that waiter's own semaphore, which no later waiter
 *    can reach. Broadcast chooses the queue as it was when it was called.
 *  - Timeouts: a timed-out waiter decides under M. If still queued, it was
 *    not chosen and never will be (I1, I2): it leaves, nothing consumed. If
 *    not queued, it was chosen and its post is made by the chooser's release
 *    of M, so its final untimed sp_sema_p_ returns once that post lands, and
 *    it reports the wakeup it received (SP_OK): no signal is lost or
 *    counted twice.
 *  - Bounded counts: by I2 each semaphore is posted at most once per wait and
 *    consumed before the wait returns, so every count stays 0 or 1 and is 0
 *    when the semaphore is destroyed.
 *  - No spurious wakeup: a waiter returns SP_OK only when it was chosen.
 *  - Lifetime: a waiter's struct lives on its stack until it returns, which
 *    is after its semaphore was posted. Signallers touch it under M; the
 *    releaser of M reads its link before posting it and never touches it
 *    after (sem_post, ReleaseSemaphore touch nothing once the post is
 *    visible). The releaser touches neither M nor the condition after it
 *    freed M: the list is its own copy, taken while it held M, and each
 *    posted waiter is still inside sp_cond_wait (it cannot return before its
 *    post), so neither object can have been legally destroyed.
 *  - Errors: a wait whose semaphore cannot be made returns SP_ESYS before it
 *    queues (M still held, nothing consumed). A wait whose semaphore wait
 *    fails (SP_ESYS) re-takes M and leaves like a timed-out waiter: dequeued
 *    and SP_ESYS if no signal chose it, else it takes its post and returns
 *    SP_OK, so no signal is lost.
 * Wakeups are FIFO: the longest waiter is chosen first. */
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

_Static_assert(sizeof(struct sp_semcond_) <= SP_COND_STORAGE_SIZE_,
               "emulated condition does not fit sp_cond_t storage");
_Static_assert(_Alignof(struct sp_semcond_) <= _Alignof(sp_cond_t),
               "emulated condition needs more alignment than sp_cond_t has");

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

int sp_cond_backend_wait_(sp_cond_t *c, sp_cond_lock_t_ *k, int64_t deadline) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ w;
  int rc = sp_sema_init_(&w.sema);
  if (rc != SP_OK)
    return rc;
  sp_enqueue_(q, &w);
  sp_cl_release_(k);
  rc = sp_sema_p_(&w.sema, deadline);
  sp_cl_reacquire_(k); /* cannot fail */
  if (rc != SP_OK) {
    if (w.queued) {
      sp_dequeue_(q, &w);
    } else {
      /* Chosen: the post is made by the chooser's release of M, or is about
       * to be. An untimed wait on a valid semaphore fails only on EINTR,
       * which sp_sema_p_ retries; the loop is a guard, not a spin. */
      while (sp_sema_p_(&w.sema, SP_NEVER_) != SP_OK)
        sp_cpu_relax_();
      rc = SP_OK;
    }
  }
  sp_sema_destroy_(&w.sema);
  return rc;
}

/* Put the chosen chain first..last (linked by `next`) on M's wake list and
 * flag it in M's lock word (the holder's own fetch-or keeps the other
 * bits, which sleepers may change concurrently; relaxed, as only this
 * thread reads the flag and the list, in its unlock). A condition over an
 * sp_rlock_t or sp_lock_t (src/cond.c) has no wake list: its chosen
 * waiters are posted at once, under the lock; each is still inside its
 * wait (it must take the lock back first), and the walk reads a waiter's
 * link before posting it. */
static void sp_defer_(sp_cond_t *c, struct sp_waiter_ *first,
                      struct sp_waiter_ *last) {
  uintptr_t tag = c->lock_; /* set: there are waiters, and we hold M */
  if ((tag & SP_CL_KIND_) != SP_CL_MUTEX_) {
    last->next = NULL;
    sp_cond_wake_deferred_(first);
    return;
  }
  sp_mutex_t *m = (sp_mutex_t *)tag;
  if (m->wake_ == NULL)
    (void)sp_fetch_or_relaxed_(&m->word_, SP_LW_DEFERRED_);
  last->next = m->wake_;
  m->wake_ = first;
}

void sp_cond_backend_signal_(sp_cond_t *c) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ *w = q->head;
  if (w != NULL) {
    sp_dequeue_(q, w);
    sp_defer_(c, w, w);
  }
}

void sp_cond_backend_broadcast_(sp_cond_t *c) {
  struct sp_semcond_ *q = SP_SEMCOND_(c);
  struct sp_waiter_ *first = q->head, *last = q->tail;
  if (first == NULL)
    return;
  q->head = q->tail = NULL;
  for (struct sp_waiter_ *w = first; w != NULL; w = w->next)
    w->queued = 0;
  sp_defer_(c, first, last);
}

void sp_cond_wake_deferred_(void *wake) {
  struct sp_waiter_ *w = wake;
  while (w != NULL) {
    struct sp_waiter_ *next = w->next; /* w may be gone once posted */
    sp_sema_v_(&w->sema);
    w = next;
  }
}
