/* sp_queue_t: Python's queue.Queue of void * items, as a growable ring
 * buffer under one mutex with three conditions (not_empty_, not_full_,
 * all_done_), like CPython's queue.Queue.
 *
 * Invariants (under mu_):
 *  - count_ <= cap_, and count_ <= maxsize_ when maxsize_ > 0; the items, in
 *    put order, are buf_[(head_ + i) % cap_] for i in 0..count_-1.
 *  - unfinished_ = puts - task_dones >= 0 (SP_EPERM refuses the call that
 *    would break it), so it is >= count_ whenever consumers mark only items
 *    they got.
 *  - Growth happens only in put, only when count_ == cap_, before the item
 *    is stored: realloc keeps the old block if it fails, so SP_ENOMEM leaves
 *    every field as it was. After a successful realloc the wrapped part is
 *    made contiguous again by moving the slots [head_, old cap) to the end
 *    of the new block (new cap > old cap, so they fit and the order is kept).
 *
 * Waiting (each an instance of the classic loop, deadline-bounded):
 *  - get sleeps on not_empty_ while count_ == 0; put signals not_empty_ once
 *    per item stored;
 *  - put sleeps on not_full_ while maxsize_ > 0 && count_ == maxsize_; get
 *    signals not_full_ once per item removed;
 *  - join sleeps on all_done_ while unfinished_ > 0; the task_done that
 *    brings it to 0 broadcasts all_done_.
 * Each thread tests its predicate and enqueues on the condition under one
 * hold of mu_, and every change to the state signals under mu_, so no
 * wakeup is lost (sp_cond_t's promise). A woken thread re-tests; if a
 * barging thread used the item or slot first, it correctly sleeps again. A
 * thread whose deadline passed re-tests its predicate under mu_ and
 * proceeds if it holds, so a wakeup that raced with its timeout is used.
 * A woken thread never leaves without using a wakeup it could use: in
 * particular a put that waited never needs to grow the storage (so never
 * fails with SP_ENOMEM after a wakeup), because it waited only while
 * count_ == maxsize_, which implies cap_ == maxsize_, and cap_ never shrinks.
 *
 * The allocation is fault site SP_FAULT_ALLOC_ (src/fault.h), so tests can
 * make it fail and check that SP_ENOMEM loses nothing.
 *
 * Static initialisation: SP_QUEUE_INIT(maxsize) fills maxsize_ and leaves
 * magic_ 0; the first call checks it (0 to INT_MAX) through sp_lazy_init_,
 * and every call returns SP_EINVAL if it is bad. A zero-filled queue is an
 * unbounded FIFO queue.
 *
 * Lifetime: every wake-up is made under mu_, and each call's last access is
 * the unlock of mu_ (src/mutex.c's rule); a got item is stored to the
 * caller's pointer before that unlock. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void *sp_queue_realloc_(void *p, size_t bytes) {
  if (sp_fault_hit_(SP_FAULT_ALLOC_))
    return NULL;
  return realloc(p, bytes);
}

/* The most items a queue holds: sp_queue_size() reports an int. */
#define SP_QUEUE_LIMIT_     ((size_t)INT_MAX)
#define SP_QUEUE_FIRST_CAP_ ((size_t)8)

/* First use of a statically initialised queue: check its maxsize. */
static int sp_queue_setup_(void *p) {
  sp_queue_t *q = p;
  return q->maxsize_ <= SP_QUEUE_LIMIT_ ? SP_OK : SP_EINVAL;
}

/* SP_OK for a usable queue (set up if statically initialised), SP_EINVAL for
 * a bad one, or the first-use set-up's error. */
static inline int sp_queue_ready_(sp_queue_t *q) {
  if (q == NULL)
    return SP_EINVAL;
  return sp_lazy_init_(&q->magic_, SP_MAGIC_QUEUE_, sp_queue_setup_, q);
}

int sp_queue_init(sp_queue_t *q, int maxsize) {
  if (q == NULL || maxsize < 0)
    return SP_EINVAL;
  int rc = sp_mutex_init(&q->mu_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&q->not_empty_);
  if (rc != SP_OK)
    return rc;
  rc = sp_cond_init(&q->not_full_);
  if (rc != SP_OK)
    goto fail_not_empty;
  rc = sp_cond_init(&q->all_done_);
  if (rc != SP_OK)
    goto fail_not_full;
  q->buf_ = NULL;
  q->cap_ = 0;
  q->head_ = 0;
  q->count_ = 0;
  q->maxsize_ = (size_t)maxsize;
  q->unfinished_ = 0;
  q->magic_ = SP_MAGIC_QUEUE_;
  return SP_OK;
fail_not_full:
  (void)sp_cond_destroy(&q->not_full_);
fail_not_empty:
  (void)sp_cond_destroy(&q->not_empty_);
  return rc;
}

int sp_queue_destroy(sp_queue_t *q) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&q->mu_);
  unsigned waiters =
      q->not_empty_.nwaiters_ + q->not_full_.nwaiters_ + q->all_done_.nwaiters_;
  sp_mutex_unlock_(&q->mu_);
  if (waiters != 0)
    return SP_EPERM;
  q->magic_ = SP_MAGIC_DEAD_;
  free(q->buf_);
  q->buf_ = NULL;
  q->cap_ = q->count_ = 0;
  (void)sp_cond_destroy(&q->all_done_);
  (void)sp_cond_destroy(&q->not_full_);
  (void)sp_cond_destroy(&q->not_empty_);
  (void)sp_mutex_destroy(&q->mu_);
  return SP_OK;
}

/* Make room for one more item (mu_ held, count_ == cap_). SP_OK or
 * SP_ENOMEM, in which case nothing changed. */
static int sp_queue_grow_(sp_queue_t *q) {
  size_t limit = q->maxsize_ > 0 ? q->maxsize_ : SP_QUEUE_LIMIT_;
  if (q->cap_ >= limit || q->cap_ >= SIZE_MAX / 2 / sizeof(void *))
    return SP_ENOMEM;
  size_t cap = q->cap_ == 0 ? SP_QUEUE_FIRST_CAP_ : q->cap_ * 2;
  if (cap > limit)
    cap = limit;
  void **buf = sp_queue_realloc_(q->buf_, cap * sizeof(void *));
  if (buf == NULL)
    return SP_ENOMEM;
  /* The ring is full. If it wraps (head_ > 0), its first items are the old
   * slots [head_, old cap) and the rest are [0, head_): move the first part
   * to the end of the new block, so the order reads on unchanged. */
  if (q->head_ != 0) {
    size_t first_part = q->cap_ - q->head_;
    memmove(buf + (cap - first_part), buf + q->head_,
            first_part * sizeof(void *));
    q->head_ = cap - first_part;
  }
  q->buf_ = buf;
  q->cap_ = cap;
  return SP_OK;
}

int sp_queue_put(sp_queue_t *q, void *item, int64_t timeout_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  rc = sp_mutex_lock_(&q->mu_);
  size_t max = q->maxsize_;
  if (max > 0 && q->count_ == max && timeout_ns == 0)
    rc = SP_BUSY;
  while (rc == SP_OK && max > 0 && q->count_ == max) {
    rc = sp_cond_wait_until_(&q->not_full_, &q->mu_, deadline);
    if (rc != SP_OK && q->count_ < max)
      rc = SP_OK; /* room after all: use it, lose no wakeup */
  }
  if (rc == SP_OK && q->count_ == q->cap_)
    rc = sp_queue_grow_(q); /* never after a wait: see the head comment */
  if (rc == SP_OK) {
    size_t tail = q->head_ + q->count_;
    if (tail >= q->cap_)
      tail -= q->cap_;
    q->buf_[tail] = item;
    q->count_++;
    q->unfinished_++;
    if (q->not_empty_.nwaiters_ != 0)
      sp_cond_backend_signal_(&q->not_empty_);
  }
  sp_mutex_unlock_(&q->mu_);
  return rc;
}

int sp_queue_get(sp_queue_t *q, void **item, int64_t timeout_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  if (item == NULL)
    return SP_EINVAL;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  rc = sp_mutex_lock_(&q->mu_);
  if (q->count_ == 0 && timeout_ns == 0)
    rc = SP_BUSY;
  while (rc == SP_OK && q->count_ == 0) {
    rc = sp_cond_wait_until_(&q->not_empty_, &q->mu_, deadline);
    if (rc != SP_OK && q->count_ > 0)
      rc = SP_OK; /* an item after all: take it, lose no wakeup */
  }
  if (rc == SP_OK) {
    *item = q->buf_[q->head_];
    if (++q->head_ == q->cap_)
      q->head_ = 0;
    q->count_--;
    if (q->not_full_.nwaiters_ != 0)
      sp_cond_backend_signal_(&q->not_full_);
  }
  sp_mutex_unlock_(&q->mu_);
  return rc;
}

int sp_queue_size(sp_queue_t *q) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&q->mu_);
  int n = (int)q->count_;
  sp_mutex_unlock_(&q->mu_);
  return n;
}

int sp_queue_task_done(sp_queue_t *q) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  rc = sp_mutex_lock_(&q->mu_);
  if (q->unfinished_ == 0) {
    rc = SP_EPERM;
  } else if (--q->unfinished_ == 0 && q->all_done_.nwaiters_ != 0) {
    sp_cond_backend_broadcast_(&q->all_done_);
  }
  sp_mutex_unlock_(&q->mu_);
  return rc;
}

int sp_queue_join(sp_queue_t *q, int64_t timeout_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  int64_t deadline;
  if (sp_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  rc = sp_mutex_lock_(&q->mu_);
  if (q->unfinished_ > 0 && timeout_ns == 0)
    rc = SP_BUSY;
  while (rc == SP_OK && q->unfinished_ > 0) {
    rc = sp_cond_wait_until_(&q->all_done_, &q->mu_, deadline);
    if (rc != SP_OK && q->unfinished_ == 0)
      rc = SP_OK;
  }
  sp_mutex_unlock_(&q->mu_);
  return rc;
}
