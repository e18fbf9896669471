/* sp_queue_t: Python's queue.Queue, LifoQueue and PriorityQueue of void *
 * items, as an array (a ring, a stack or a binary heap) under one mutex,
 * with blocked calls served by direct hand-off.
 *
 * Blocked calls. A put, get or join that must wait puts a waiter node
 * (struct sp_queue_waiter_, on its own stack) at the tail of the queue's
 * list for its kind (putters_, getters_, joiners_: circular doubly-linked,
 * oldest first) and sleeps on the node's own state word. It is completed
 * by the thread that makes it possible, under mu_: that thread removes the
 * node from its list ("claims" it), does the waiter's work for it (gives a
 * getter its item, stores a putter's item) and records the result in the
 * node; after releasing mu_ it publishes the claim (state DONE) and wakes
 * the waiter if it sleeps. So a woken waiter has nothing left to do: it
 * never takes mu_ again, never finds its item or slot taken (no stolen
 * wake-up, no thundering herd: one wake per completed call, none when the
 * waiter was still spinning), and waiters are served in arrival order.
 *
 * Invariants (under mu_):
 *  Q1. count_ items are stored; count_ <= cap_. FIFO: the items in put
 *      order are buf_[(head_ + i) % cap_], i < count_; LIFO: buf_[0..
 *      count_-1], newest last; priority: a binary min-heap of struct
 *      sp_qentry_ in buf_[0..count_-1], ordered by (cmp_(item), seq), where
 *      seq is the put's number (seq_ counts puts), so equal items come out
 *      in put order.
 *  Q2. Getters wait only while the queue is empty and not shut down:
 *      getters_ != NULL implies count_ == 0 and !shutdown_. (A get waits
 *      only when count_ == 0; a put finding a getter hands its item over
 *      instead of storing it; shutdown claims every getter.)
 *  Q3. Putters wait only while the queue is full and not shut down:
 *      putters_ != NULL implies maxsize_ > 0, count_ >= maxsize_ and
 *      !shutdown_. (A put waits only then; a get that brings count_ below
 *      maxsize_ stores the oldest putter's item, which fits without growth
 *      since it just freed a slot; set_maxsize admits as many as the new
 *      maxsize allows, after growing the storage, and changes nothing if
 *      it cannot grow; shutdown claims every putter.) So a new put never
 *      overtakes a blocked one: it finds the queue full and queues behind.
 *  Q4. Joiners wait only while unfinished_ > 0; the task_done (or
 *      immediate shutdown) that brings it to 0 claims every joiner.
 *  Q5. unfinished_ = items added - task_dones - items dropped by an
 *      immediate shutdown (never below 0: SP_EPERM refuses the task_done
 *      that would). An item counts as added when it is stored or handed to
 *      a getter, under mu_, before the putter can return.
 *  Q6. A node is in a list exactly while its `queued` is 1; only a thread
 *      holding mu_ claims (removes) it, so each blocked call is completed
 *      exactly once, by a claim or by its own timeout, never both.
 *
 * The node's state word (atomic): WAITING (0) until claimed and published,
 * SLEEPING (1) once the waiter announced that it sleeps, DONE (2) once the
 * claimer published. The claimer publishes with an exchange and calls the
 * wake only if the old value was SLEEPING; the waiter sets SLEEPING with a
 * CAS from WAITING and then sleeps while the word is SLEEPING. If the
 * publication comes first, the CAS fails and the waiter sees DONE; if the
 * CAS comes first, the exchange sees SLEEPING and wakes it (the futex wait
 * re-checks the word, so a wake before the sleep is not lost). A wait that
 * reports a timeout re-reads the word first: a wake-up it absorbed as it
 * timed out (platform.h allows that) left DONE there, and it returns the
 * result. Otherwise it takes mu_: if its node is still queued, it removes
 * it and returns SP_TIMEDOUT, having changed nothing; if not, a claimer
 * owns it and is about to publish, so it waits for DONE without a deadline
 * (a few instructions away) and returns the claimer's result. Before it
 * sleeps, the oldest waiter of its list first spins on the word for an
 * adaptive budget (src/spin.h; spin_ is the queue's estimate), since a
 * hand-off often comes within microseconds.
 *
 * Lifetime: a claimer's last access to the queue is its unlock of mu_
 * (src/mutex.c's rule). After it, it touches only the claimed nodes, which
 * live on the stacks of threads that cannot return before their DONE: it
 * reads a node's link before publishing it and never touches it after the
 * exchange, except for the wake call on its address (which reads no
 * memory; a spurious wake of a later waiter reusing that stack slot is
 * harmless, every wait loops). A woken waiter touches nothing but its
 * node. So a thread whose get, put or join returned may destroy and free
 * the queue at once.
 *
 * Storage grows only when an item must be stored and count_ == cap_ (put),
 * or ahead of admitting putters (set_maxsize). realloc keeps the old block
 * if it fails, so SP_ENOMEM leaves every field as it was. After growing a
 * wrapped FIFO ring, its older part [head_, old cap) moves to the end of
 * the new block, so the order reads on. The allocation is fault site
 * SP_FAULT_ALLOC_ (src/fault.h).
 *
 * Static initialisation: SP_QUEUE_INIT* fill maxsize_, kind_ and cmp_ and
 * leave magic_ 0; the first call checks them through sp_lazy_init_, and
 * every call returns SP_EINVAL if they are bad. A zero-filled queue is an
 * unbounded FIFO queue. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "spin.h"

enum { SP_QK_FIFO_ = 0, SP_QK_LIFO_ = 1, SP_QK_PRIO_ = 2 };

/* The node's state word. */
#define SP_QW_WAITING_  0u
#define SP_QW_SLEEPING_ 1u
#define SP_QW_DONE_     2u

struct sp_queue_waiter_ {
  uint32_t state; /* SP_QW_* (atomic) */
  int queued;     /* in its list (under mu_) */
  int result;     /* set by the claimer (SP_OK, SP_SHUTDOWN) */
  void *item;     /* put: the item to add; get: the item received */
  struct sp_queue_waiter_ *next, *prev;
};

/* A priority queue's slot. */
struct sp_qentry_ {
  void *item;
  uint64_t seq;
};

/* The most items a queue holds: sp_queue_size() reports an int. */
#define SP_QUEUE_LIMIT_     ((size_t)INT_MAX)
#define SP_QUEUE_FIRST_CAP_ ((size_t)8)

static void *sp_queue_realloc_(void *p, size_t bytes) {
  if (sp_fault_hit_(SP_FAULT_ALLOC_))
    return NULL;
  return realloc(p, bytes);
}

/* ---- set-up and checks ------------------------------------------------ */

/* First use of a statically initialised queue: check its parameters. */
static int sp_queue_setup_(void *p) {
  sp_queue_t *q = p;
  if (q->maxsize_ > SP_QUEUE_LIMIT_ || q->kind_ > SP_QK_PRIO_ ||
      (q->kind_ == SP_QK_PRIO_ && q->cmp_ == NULL))
    return SP_EINVAL;
  return SP_OK;
}

/* SP_OK for a usable queue (set up if statically initialised), SP_EINVAL
 * for a bad one, the first-use set-up's error, or SP_EPERM when called
 * from the queue's own comparison (mu_ held by the caller). */
static inline int sp_queue_ready_(sp_queue_t *q) {
  if (q == NULL)
    return SP_EINVAL;
  int rc = sp_lazy_init_(&q->magic_, SP_MAGIC_QUEUE_, sp_queue_setup_, q);
  if (SP_LIKELY_(rc == SP_OK) && SP_UNLIKELY_(q->kind_ == SP_QK_PRIO_) &&
      sp_mutex_held_(&q->mu_))
    return SP_EPERM;
  return rc;
}

static int sp_queue_init_kind_(sp_queue_t *q, int maxsize, unsigned kind,
                               sp_queue_cmp_fn cmp) {
  if (q == NULL || maxsize < 0 || (kind == SP_QK_PRIO_ && cmp == NULL))
    return SP_EINVAL;
  memset(q, 0, sizeof *q);
  int rc = sp_mutex_init(&q->mu_);
  if (rc != SP_OK)
    return rc;
  q->maxsize_ = (size_t)maxsize;
  q->kind_ = kind;
  q->cmp_ = cmp;
  q->magic_ = SP_MAGIC_QUEUE_;
  return SP_OK;
}

int sp_queue_init(sp_queue_t *q, int maxsize) {
  return sp_queue_init_kind_(q, maxsize, SP_QK_FIFO_, NULL);
}

int sp_queue_init_lifo(sp_queue_t *q, int maxsize) {
  return sp_queue_init_kind_(q, maxsize, SP_QK_LIFO_, NULL);
}

int sp_queue_init_priority(sp_queue_t *q, int maxsize, sp_queue_cmp_fn cmp) {
  return sp_queue_init_kind_(q, maxsize, SP_QK_PRIO_, cmp);
}

int sp_queue_destroy(sp_queue_t *q) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&q->mu_);
  unsigned waiters = q->ngetters_ + q->nputters_ + q->njoiners_;
  sp_mutex_unlock_(&q->mu_);
  if (waiters != 0)
    return SP_EPERM;
  q->magic_ = SP_MAGIC_DEAD_;
  free(q->buf_);
  q->buf_ = NULL;
  q->cap_ = q->count_ = q->head_ = 0;
  (void)sp_mutex_destroy(&q->mu_);
  return SP_OK;
}

/* ---- waiter lists (mu_ held) ------------------------------------------ */

static void sp_qlist_push_(struct sp_queue_waiter_ **head, unsigned *n,
                           struct sp_queue_waiter_ *w) {
  struct sp_queue_waiter_ *h = *head;
  if (h == NULL) {
    w->next = w->prev = w;
    *head = w;
  } else {
    w->prev = h->prev;
    w->next = h;
    h->prev->next = w;
    h->prev = w;
  }
  w->queued = 1;
  ++*n;
}

static void sp_qlist_remove_(struct sp_queue_waiter_ **head, unsigned *n,
                             struct sp_queue_waiter_ *w) {
  if (w->next == w) {
    *head = NULL;
  } else {
    w->prev->next = w->next;
    w->next->prev = w->prev;
    if (*head == w)
      *head = w->next;
  }
  w->queued = 0;
  --*n;
}

/* Claim the oldest waiter of a list with `result`, and chain it on *wake
 * (through `next`, which the list no longer uses) for sp_queue_publish_. */
static struct sp_queue_waiter_ *sp_qclaim_(struct sp_queue_waiter_ **head,
                                           unsigned *n, int result,
                                           struct sp_queue_waiter_ **wake) {
  struct sp_queue_waiter_ *w = *head;
  sp_qlist_remove_(head, n, w);
  w->result = result;
  w->next = *wake;
  *wake = w;
  return w;
}

/* Publish claimed waiters (mu_ released): mark each DONE and wake it if it
 * sleeps. Reads a node's link before publishing it; touches it no more
 * after the exchange but for the wake call on its address. */
static void sp_queue_publish_(struct sp_queue_waiter_ *w) {
  while (w != NULL) {
    struct sp_queue_waiter_ *next = w->next;
    uint32_t old = sp_xchg_release_(&w->state, SP_QW_DONE_);
    if (old == SP_QW_SLEEPING_)
      sp_futex_wake_(&w->state, 0);
    w = next;
  }
}

/* Block in list *head (mu_ held; released here) until claimed or the
 * deadline passes: the claimer's result, or SP_TIMEDOUT with the node
 * removed and nothing changed. Returns without mu_. */
static int sp_queue_block_(sp_queue_t *q, struct sp_queue_waiter_ *w,
                           struct sp_queue_waiter_ **head, unsigned *n,
                           int64_t deadline) {
  sp_store_relaxed_(&w->state, SP_QW_WAITING_);
  sp_qlist_push_(head, n, w);
  int spin = *n == 1 ? sp_spin_budget_(&q->spin_) : 0; /* the oldest only */
  sp_mutex_unlock_(&q->mu_);
  for (int i = 0; i < spin; i++) {
    if (sp_load_acquire_(&w->state) == SP_QW_DONE_) {
      sp_spin_hit_(&q->spin_, i);
      return w->result;
    }
    sp_cpu_pause_();
  }
  if (spin > 0)
    sp_spin_miss_(&q->spin_);
  for (;;) {
    uint32_t s = SP_QW_WAITING_;
    if (!sp_cas_relaxed_(&w->state, &s, SP_QW_SLEEPING_) &&
        sp_load_acquire_(&w->state) == SP_QW_DONE_)
      return w->result;
    int r = sp_futex_wait_(&w->state, SP_QW_SLEEPING_, deadline);
    if (sp_load_acquire_(&w->state) == SP_QW_DONE_)
      return w->result;
    if (r == SP_TIMEDOUT) {
      (void)sp_mutex_lock_(&q->mu_);
      if (w->queued) {
        sp_qlist_remove_(head, n, w);
        sp_mutex_unlock_(&q->mu_);
        return SP_TIMEDOUT;
      }
      sp_mutex_unlock_(&q->mu_);
      deadline = SP_NEVER_; /* claimed: its DONE is on its way */
    }
    /* Woken spuriously (or claimed after a timeout): the word is still
     * SLEEPING, so the CAS above fails and the wait resumes. */
  }
}

/* ---- storage (mu_ held) ------------------------------------------------ */

static size_t sp_queue_slot_size_(const sp_queue_t *q) {
  return q->kind_ == SP_QK_PRIO_ ? sizeof(struct sp_qentry_) : sizeof(void *);
}

/* Make room for `need` items, with the capacity limited by `max` (0: only
 * by SP_QUEUE_LIMIT_). SP_OK, or SP_ENOMEM with nothing changed. */
static int sp_queue_reserve_(sp_queue_t *q, size_t need, size_t max) {
  if (need <= q->cap_)
    return SP_OK;
  size_t slot = sp_queue_slot_size_(q);
  size_t limit = max > 0 && max < SP_QUEUE_LIMIT_ ? max : SP_QUEUE_LIMIT_;
  if (limit > SIZE_MAX / slot)
    limit = SIZE_MAX / slot;
  if (need > limit)
    return SP_ENOMEM;
  size_t cap = q->cap_ == 0 ? SP_QUEUE_FIRST_CAP_ : q->cap_;
  while (cap < need)
    cap = cap > limit / 2 ? limit : cap * 2;
  if (cap > limit)
    cap = limit;
  unsigned char *buf = sp_queue_realloc_(q->buf_, cap * slot);
  if (buf == NULL)
    return SP_ENOMEM;
  /* A wrapped ring: its older part [head_, old cap) moves to the end. */
  if (q->kind_ == SP_QK_FIFO_ && q->head_ + q->count_ > q->cap_) {
    size_t first_part = q->cap_ - q->head_;
    memmove(buf + (cap - first_part) * slot, buf + q->head_ * slot,
            first_part * slot);
    q->head_ = cap - first_part;
  }
  q->buf_ = buf;
  q->cap_ = cap;
  return SP_OK;
}

/* Priority order: does entry a come out before entry b? */
static inline int sp_qbefore_(const sp_queue_t *q, const struct sp_qentry_ *a,
                              const struct sp_qentry_ *b) {
  int c = q->cmp_(a->item, b->item);
  return c < 0 || (c == 0 && a->seq < b->seq);
}

/* Store item (room for it exists: count_ < cap_). */
static void sp_queue_store_(sp_queue_t *q, void *item) {
  if (q->kind_ == SP_QK_FIFO_) {
    size_t tail = q->head_ + q->count_;
    if (tail >= q->cap_)
      tail -= q->cap_;
    ((void **)q->buf_)[tail] = item;
  } else if (q->kind_ == SP_QK_LIFO_) {
    ((void **)q->buf_)[q->count_] = item;
  } else {
    struct sp_qentry_ *h = q->buf_, e = {item, q->seq_++};
    size_t i = q->count_;
    while (i > 0) { /* sift up */
      size_t parent = (i - 1) / 2;
      if (!sp_qbefore_(q, &e, &h[parent]))
        break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }
  q->count_++;
}

/* Remove and return the next item (count_ > 0). */
static void *sp_queue_take_(sp_queue_t *q) {
  void *item;
  if (q->kind_ == SP_QK_FIFO_) {
    item = ((void **)q->buf_)[q->head_];
    if (++q->head_ == q->cap_)
      q->head_ = 0;
    q->count_--;
  } else if (q->kind_ == SP_QK_LIFO_) {
    item = ((void **)q->buf_)[--q->count_];
  } else {
    struct sp_qentry_ *h = q->buf_;
    item = h[0].item;
    size_t n = --q->count_, i = 0;
    if (n > 0) {
      struct sp_qentry_ last = h[n];
      for (;;) { /* sift the last entry down from the root */
        size_t c = 2 * i + 1;
        if (c >= n)
          break;
        if (c + 1 < n && sp_qbefore_(q, &h[c + 1], &h[c]))
          c++;
        if (!sp_qbefore_(q, &h[c], &last))
          break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
  }
  return item;
}

/* Forget every item (immediate shutdown). */
static size_t sp_queue_drop_all_(sp_queue_t *q) {
  size_t n = q->count_;
  q->count_ = 0;
  q->head_ = 0;
  return n;
}

/* ---- put, get, join ---------------------------------------------------- */

/* The deadline of a relative timeout (0 needs none: `zero` handles it);
 * SP_EINVAL below -1. */
static inline int sp_queue_deadline_(int64_t timeout_ns, int64_t *deadline) {
  if (SP_LIKELY_(timeout_ns == SP_FOREVER || timeout_ns == 0)) {
    *deadline = timeout_ns == 0 ? 0 : SP_NEVER_;
    return SP_OK;
  }
  return sp_deadline_(timeout_ns, deadline);
}

/* Put on a ready queue; `zero`: the caller gave a timeout of 0 (SP_BUSY
 * instead of waiting). */
static int sp_queue_put_deadline_(sp_queue_t *q, void *item, int64_t deadline,
                                  int zero) {
  int rc;
  (void)sp_mutex_lock_(&q->mu_);
  if (SP_UNLIKELY_(q->shutdown_)) {
    sp_mutex_unlock_(&q->mu_);
    return SP_SHUTDOWN;
  }
  if (q->getters_ != NULL) { /* Q2: empty; hand the item over */
    struct sp_queue_waiter_ *wake = NULL;
    sp_qclaim_(&q->getters_, &q->ngetters_, SP_OK, &wake)->item = item;
    q->unfinished_++;
    sp_mutex_unlock_(&q->mu_);
    sp_queue_publish_(wake);
    return SP_OK;
  }
  if (SP_LIKELY_(q->maxsize_ == 0 || q->count_ < q->maxsize_)) {
    if (SP_UNLIKELY_(q->count_ == q->cap_)) {
      rc = sp_queue_reserve_(q, q->count_ + 1, q->maxsize_);
      if (rc != SP_OK) {
        sp_mutex_unlock_(&q->mu_);
        return rc;
      }
    }
    if (SP_LIKELY_(q->kind_ == SP_QK_FIFO_)) {
      size_t tail = q->head_ + q->count_;
      if (tail >= q->cap_)
        tail -= q->cap_;
      ((void **)q->buf_)[tail] = item;
      q->count_++;
    } else {
      sp_queue_store_(q, item);
    }
    q->unfinished_++;
    sp_mutex_unlock_(&q->mu_);
    return SP_OK;
  }
  /* Full: wait in line (Q3), unless the caller cannot wait. */
  if (zero || (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)) {
    sp_mutex_unlock_(&q->mu_);
    return zero ? SP_BUSY : SP_TIMEDOUT;
  }
  struct sp_queue_waiter_ w;
  w.item = item;
  return sp_queue_block_(q, &w, &q->putters_, &q->nputters_, deadline);
}

int sp_queue_put(sp_queue_t *q, void *item, int64_t timeout_ns) {
  int64_t deadline;
  int rc = sp_queue_ready_(q);
  if (SP_UNLIKELY_(rc != SP_OK))
    return rc;
  if (SP_UNLIKELY_(sp_queue_deadline_(timeout_ns, &deadline) != SP_OK))
    return SP_EINVAL;
  return sp_queue_put_deadline_(q, item, deadline, timeout_ns == 0);
}

int sp_queue_put_until(sp_queue_t *q, void *item, int64_t deadline_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  return sp_queue_put_deadline_(q, item, deadline_ns, 0);
}

/* Get from a ready queue (item not NULL). */
static int sp_queue_get_deadline_(sp_queue_t *q, void **item, int64_t deadline,
                                  int zero) {
  int rc;
  (void)sp_mutex_lock_(&q->mu_);
  if (SP_LIKELY_(q->count_ > 0)) {
    if (SP_LIKELY_(q->kind_ == SP_QK_FIFO_)) {
      *item = ((void **)q->buf_)[q->head_];
      if (++q->head_ == q->cap_)
        q->head_ = 0;
      q->count_--;
    } else {
      *item = sp_queue_take_(q);
    }
    if (q->putters_ != NULL && q->count_ < q->maxsize_) {
      /* Q3: a slot just freed; the oldest putter's item takes it. */
      struct sp_queue_waiter_ *wake = NULL;
      sp_queue_store_(
          q, sp_qclaim_(&q->putters_, &q->nputters_, SP_OK, &wake)->item);
      q->unfinished_++;
      sp_mutex_unlock_(&q->mu_);
      sp_queue_publish_(wake);
      return SP_OK;
    }
    sp_mutex_unlock_(&q->mu_);
    return SP_OK;
  }
  if (q->shutdown_ || zero ||
      (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)) {
    rc = q->shutdown_ ? SP_SHUTDOWN : zero ? SP_BUSY : SP_TIMEDOUT;
    sp_mutex_unlock_(&q->mu_);
    return rc;
  }
  struct sp_queue_waiter_ w;
  w.item = NULL;
  rc = sp_queue_block_(q, &w, &q->getters_, &q->ngetters_, deadline);
  if (rc == SP_OK)
    *item = w.item;
  return rc;
}

int sp_queue_get(sp_queue_t *q, void **item, int64_t timeout_ns) {
  int64_t deadline;
  int rc = sp_queue_ready_(q);
  if (SP_UNLIKELY_(rc != SP_OK))
    return rc;
  if (SP_UNLIKELY_(item == NULL ||
                   sp_queue_deadline_(timeout_ns, &deadline) != SP_OK))
    return SP_EINVAL;
  return sp_queue_get_deadline_(q, item, deadline, timeout_ns == 0);
}

int sp_queue_get_until(sp_queue_t *q, void **item, int64_t deadline_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  if (item == NULL)
    return SP_EINVAL;
  return sp_queue_get_deadline_(q, item, deadline_ns, 0);
}

/* Join a ready queue. */
static int sp_queue_join_deadline_(sp_queue_t *q, int64_t deadline, int zero) {
  (void)sp_mutex_lock_(&q->mu_);
  if (q->unfinished_ == 0) {
    sp_mutex_unlock_(&q->mu_);
    return SP_OK;
  }
  if (zero || (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)) {
    sp_mutex_unlock_(&q->mu_);
    return zero ? SP_BUSY : SP_TIMEDOUT;
  }
  struct sp_queue_waiter_ w;
  return sp_queue_block_(q, &w, &q->joiners_, &q->njoiners_, deadline);
}

int sp_queue_join(sp_queue_t *q, int64_t timeout_ns) {
  int64_t deadline;
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  if (sp_queue_deadline_(timeout_ns, &deadline) != SP_OK)
    return SP_EINVAL;
  return sp_queue_join_deadline_(q, deadline, timeout_ns == 0);
}

int sp_queue_join_until(sp_queue_t *q, int64_t deadline_ns) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  return sp_queue_join_deadline_(q, deadline_ns, 0);
}

/* Claim every joiner (unfinished_ just reached 0). */
static void sp_queue_claim_joiners_(sp_queue_t *q,
                                    struct sp_queue_waiter_ **wake) {
  while (q->joiners_ != NULL)
    sp_qclaim_(&q->joiners_, &q->njoiners_, SP_OK, wake);
}

int sp_queue_task_done(sp_queue_t *q) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  struct sp_queue_waiter_ *wake = NULL;
  (void)sp_mutex_lock_(&q->mu_);
  if (q->unfinished_ == 0)
    rc = SP_EPERM;
  else if (--q->unfinished_ == 0)
    sp_queue_claim_joiners_(q, &wake);
  sp_mutex_unlock_(&q->mu_);
  sp_queue_publish_(wake);
  return rc;
}

/* ---- shutdown, maxsize, observers -------------------------------------- */

int sp_queue_shutdown(sp_queue_t *q, int immediate) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  struct sp_queue_waiter_ *wake = NULL;
  (void)sp_mutex_lock_(&q->mu_);
  q->shutdown_ = 1;
  if (immediate) {
    size_t n = sp_queue_drop_all_(q);
    q->unfinished_ = q->unfinished_ > n ? q->unfinished_ - n : 0;
    if (q->unfinished_ == 0)
      sp_queue_claim_joiners_(q, &wake);
  }
  while (q->getters_ != NULL)
    sp_qclaim_(&q->getters_, &q->ngetters_, SP_SHUTDOWN, &wake);
  while (q->putters_ != NULL)
    sp_qclaim_(&q->putters_, &q->nputters_, SP_SHUTDOWN, &wake);
  sp_mutex_unlock_(&q->mu_);
  sp_queue_publish_(wake);
  return SP_OK;
}

int sp_queue_set_maxsize(sp_queue_t *q, int maxsize) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  if (maxsize < 0)
    return SP_EINVAL;
  size_t max = (size_t)maxsize;
  struct sp_queue_waiter_ *wake = NULL;
  (void)sp_mutex_lock_(&q->mu_);
  size_t admit = 0;
  if (q->putters_ != NULL && (max == 0 || q->count_ < max)) {
    admit = q->nputters_;
    if (max > 0 && admit > max - q->count_)
      admit = max - q->count_;
    rc = sp_queue_reserve_(q, q->count_ + admit, max);
  }
  if (rc == SP_OK) {
    q->maxsize_ = max;
    for (; admit > 0; admit--) {
      sp_queue_store_(
          q, sp_qclaim_(&q->putters_, &q->nputters_, SP_OK, &wake)->item);
      q->unfinished_++;
    }
  }
  sp_mutex_unlock_(&q->mu_);
  sp_queue_publish_(wake);
  return rc;
}

/* Read one field under mu_ (or the set-up's error). */
enum { SP_QF_SIZE_, SP_QF_EMPTY_, SP_QF_FULL_, SP_QF_MAX_, SP_QF_SHUT_ };
static int sp_queue_observe_(sp_queue_t *q, int what) {
  int rc = sp_queue_ready_(q);
  if (rc != SP_OK)
    return rc;
  (void)sp_mutex_lock_(&q->mu_);
  switch (what) {
  case SP_QF_SIZE_:
    rc = (int)q->count_;
    break;
  case SP_QF_EMPTY_:
    rc = q->count_ == 0;
    break;
  case SP_QF_FULL_:
    rc = q->maxsize_ > 0 && q->count_ >= q->maxsize_;
    break;
  case SP_QF_MAX_:
    rc = (int)q->maxsize_;
    break;
  default:
    rc = q->shutdown_ != 0;
    break;
  }
  sp_mutex_unlock_(&q->mu_);
  return rc;
}

int sp_queue_size(sp_queue_t *q) {
  return sp_queue_observe_(q, SP_QF_SIZE_);
}

int sp_queue_empty(sp_queue_t *q) {
  return sp_queue_observe_(q, SP_QF_EMPTY_);
}

int sp_queue_full(sp_queue_t *q) {
  return sp_queue_observe_(q, SP_QF_FULL_);
}

int sp_queue_maxsize(sp_queue_t *q) {
  return sp_queue_observe_(q, SP_QF_MAX_);
}

int sp_queue_is_shutdown(sp_queue_t *q) {
  return sp_queue_observe_(q, SP_QF_SHUT_);
}
