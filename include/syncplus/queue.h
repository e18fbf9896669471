/* libsyncplus: sp_queue_t, Python's queue.Queue, queue.LifoQueue and
 * queue.PriorityQueue of void * items.
 *
 * A queue shared by producers and consumers, in one of three orders chosen
 * at init (every other call is the same for all three):
 *  - FIFO (sp_queue_init, queue.Queue): items come out in the order they
 *    went in, so the items of any one producer come out in its order;
 *  - LIFO (sp_queue_init_lifo, queue.LifoQueue): the newest item first;
 *  - priority (sp_queue_init_priority, queue.PriorityQueue): the item that
 *    the caller's comparison puts first, and among items that compare equal
 *    the one put first (FIFO; Python's heapq gives no such promise).
 * Each item comes out exactly once. sp_queue_put() waits while a bounded
 * queue is full; sp_queue_get() waits while the queue is empty.
 * sp_queue_task_done() and sp_queue_join() let a producer wait until every
 * item it put has been processed; sp_queue_shutdown() ends the queue's use
 * (Python 3.13), as in CPython.
 *
 * Waiting: blocked getters, putters and joiners are served in the order
 * they started waiting, and a blocked call is completed by the thread that
 * makes it possible: a put hands its item straight to the longest-waiting
 * getter, a get that makes room stores the longest-waiting putter's item.
 * So a woken thread never finds its item or slot taken by another (CPython
 * lets a newcomer barge in; the order of results is the same). Waits need
 * no OS resource: no function of the queue fails with SP_ESYS.
 *
 * Storage: an array allocated with malloc/realloc, grown (doubled, at most
 * to maxsize) when a put finds it full, and freed by sp_queue_destroy(). If
 * it cannot grow, the call returns SP_ENOMEM and the queue is left exactly
 * as it was: no item is lost. A queue holds at most INT_MAX items. The
 * queue stores the pointers only; it never dereferences or frees them (NULL
 * is a valid item), except that a priority queue passes them to the
 * caller's comparison.
 *
 * Memory: whatever a thread wrote before putting an item is visible to the
 * thread that gets that item; whatever a consumer wrote before
 * sp_queue_task_done() is visible to a thread whose sp_queue_join() returns
 * because of it.
 *
 * Python's SimpleQueue: an unbounded FIFO queue (a zero-filled sp_queue_t
 * is one) on which nobody calls sp_queue_task_done() or sp_queue_join():
 * sp_queue_put() then never waits (except for the queue's internal mutex,
 * held for a few instructions) and fails only with SP_ENOMEM.
 *
 * Static initialisation: `sp_queue_t q = SP_QUEUE_INIT(maxsize);` is a
 * queue as sp_queue_init makes it, likewise SP_QUEUE_INIT_LIFO(maxsize) and
 * SP_QUEUE_INIT_PRIORITY(maxsize, cmp); the parameters are checked on first
 * use (every call returns SP_EINVAL if maxsize is negative or the
 * comparison NULL). A zero-filled sp_queue_t is an unbounded FIFO queue.
 * Any of them needs sp_queue_destroy() to free its storage once items were
 * put.
 *
 * Lifetime: a queue may be destroyed, and its memory freed, as soon as the
 * last thread that used it has returned; in particular a thread whose get
 * received the last item, or whose join returned, may destroy it at once,
 * even while the putter or the thread that called sp_queue_task_done() is
 * still returning (they touch the queue no more once another thread can
 * return because of them).
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed queue (or
 * memory that is not one), changing nothing. A priority queue's comparison
 * runs with the queue's internal mutex held: a call on the same queue from
 * inside it returns SP_EPERM, changing nothing.
 *
 * All functions are thread-safe except init and destroy, which must not run
 * concurrently with any other use of the same queue.
 *
 * Usage, a worker pool:
 *     // producer                        // each worker
 *     for (...)                          for (;;) {
 *       sp_queue_put(&q, job,              void *job;
 *                    SP_FOREVER);          if (sp_queue_get(&q, &job,
 *     sp_queue_join(&q, SP_FOREVER);             SP_FOREVER) != SP_OK)
 *     // every job has been run              break; // SP_SHUTDOWN: stop
 *     sp_queue_shutdown(&q, 0);            run(job);
 *                                          sp_queue_task_done(&q);
 *                                        } */
#ifndef SYNCPLUS_QUEUE_H
#define SYNCPLUS_QUEUE_H

#include "syncplus/mutex.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A priority queue's order: negative when item a comes out before item b,
 * positive when after, 0 when they are equal (then the one put first comes
 * out first). It gets the items themselves (the pointers given to
 * sp_queue_put), must be a consistent ordering, and must not call
 * functions on the same queue (they return SP_EPERM there). */
typedef int (*sp_queue_cmp_fn)(const void *a, const void *b);

struct sp_queue_waiter_; /* private: a blocked call, on its own stack */

/* Embeddable; the fields are private. All are under mu_. */
typedef struct sp_queue {
  sp_mutex_t mu_;
  void *buf_;           /* storage of cap_ slots (NULL while cap_ is 0) */
  size_t cap_;          /* slots */
  size_t head_;         /* FIFO: slot of the oldest item */
  size_t count_;        /* items in the queue */
  size_t maxsize_;      /* 0: unbounded */
  uint64_t unfinished_; /* items put and not yet marked done */
  uint64_t seq_;        /* priority: items put so far (ties go FIFO) */
  sp_queue_cmp_fn cmp_; /* priority: the order */
  struct sp_queue_waiter_ *getters_; /* blocked calls, oldest first */
  struct sp_queue_waiter_ *putters_;
  struct sp_queue_waiter_ *joiners_;
  unsigned ngetters_, nputters_, njoiners_; /* their lengths */
  uint32_t spin_;     /* how long waiters spin (an estimate, atomic) */
  unsigned kind_;     /* 0 FIFO, 1 LIFO, 2 priority */
  unsigned shutdown_; /* 0, or 1 once sp_queue_shutdown was called */
  unsigned magic_;    /* 0: not yet used, checked on first use */
} sp_queue_t;

#define SP_QUEUE_INIT_KIND_(maxsize, kind, cmp)                                \
  {                                                                            \
    SP_MUTEX_INIT, NULL, 0u, 0u, 0u, (size_t)(maxsize), 0u, 0u, (cmp), NULL,   \
        NULL, NULL, 0u, 0u, 0u, 0u, (kind), 0u, 0u                             \
  }

/* Static initializers: an empty FIFO, LIFO or priority queue of at most
 * maxsize items (an int constant expression; 0: unbounded) ordered by cmp
 * (an sp_queue_cmp_fn). */
#define SP_QUEUE_INIT(maxsize)      SP_QUEUE_INIT_KIND_(maxsize, 0u, NULL)
#define SP_QUEUE_INIT_LIFO(maxsize) SP_QUEUE_INIT_KIND_(maxsize, 1u, NULL)
#define SP_QUEUE_INIT_PRIORITY(maxsize, cmp)                                   \
  SP_QUEUE_INIT_KIND_(maxsize, 2u, cmp)

/* Make *q an empty FIFO queue (queue.Queue) holding at most maxsize items
 * (0: unbounded, up to INT_MAX). No storage is allocated until the first
 * put. SP_OK; SP_EINVAL for a negative maxsize. Never SP_ESYS/SP_ENOMEM.
 * Initialising a queue that is in use is undefined. */
SP_API SP_NODISCARD int sp_queue_init(sp_queue_t *q, int maxsize);

/* As sp_queue_init, for a LIFO queue (queue.LifoQueue): sp_queue_get
 * returns the item put last. */
SP_API SP_NODISCARD int sp_queue_init_lifo(sp_queue_t *q, int maxsize);

/* As sp_queue_init, for a priority queue (queue.PriorityQueue):
 * sp_queue_get returns the item that cmp puts first, and of items that
 * compare equal, the one put first. SP_EINVAL also for a NULL cmp. */
SP_API SP_NODISCARD int sp_queue_init_priority(sp_queue_t *q, int maxsize,
                                               sp_queue_cmp_fn cmp);

/* Destroy *q and free its storage (the items still in it are the caller's,
 * and are not touched). SP_OK; SP_EPERM if threads are waiting in put, get
 * or join (it stays usable, unchanged). After SP_OK every function returns
 * SP_EINVAL for *q until it is initialised again. */
SP_API int sp_queue_destroy(sp_queue_t *q);

/* Add item, waiting at most timeout_ns (SP_FOREVER: no limit; 0: do not
 * wait) while a bounded queue is full. SP_OK when added (a blocked getter,
 * if any, receives it at once); SP_BUSY when timeout_ns is 0 and the queue
 * is full; SP_TIMEDOUT when it stayed full until the timeout passed (never
 * earlier); SP_SHUTDOWN when the queue is shut down, or is shut down while
 * the caller waits (Python's ShutDown); SP_ENOMEM when the storage could
 * not grow (retry later, or drain the queue); SP_EINVAL for a timeout below
 * -1. On every result but SP_OK the item was not added and the queue is as
 * if the call had not been made. Never SP_ESYS.
 * The caller's loop: none is needed; SP_TIMEDOUT/SP_BUSY mean "full". */
SP_API SP_NODISCARD int sp_queue_put(sp_queue_t *q, void *item,
                                     int64_t timeout_ns);

/* As sp_queue_put, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit), so that several calls can share one deadline.
 * SP_TIMEDOUT (never SP_BUSY) when the deadline passed while the queue was
 * full (never earlier; a deadline already passed tries once). */
SP_API SP_NODISCARD int sp_queue_put_until(sp_queue_t *q, void *item,
                                           int64_t deadline_ns);

/* Remove the next item (the oldest, the newest, or the first in priority
 * order) and store it in *item, waiting at most timeout_ns (SP_FOREVER: no
 * limit; 0: do not wait) while the queue is empty. SP_OK when removed (a
 * blocked putter's item, if any, takes its place at once); SP_BUSY when
 * timeout_ns is 0 and the queue is empty; SP_TIMEDOUT when it stayed empty
 * until the timeout passed (never earlier); SP_SHUTDOWN when the queue is
 * shut down and empty, or is shut down while the caller waits (a shut-down
 * queue still gives out the items it holds); SP_EINVAL for a NULL item
 * pointer or a timeout below -1. *item is written only on SP_OK. Never
 * SP_ESYS or SP_ENOMEM. */
SP_API SP_NODISCARD int sp_queue_get(sp_queue_t *q, void **item,
                                     int64_t timeout_ns);

/* As sp_queue_get, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit). SP_TIMEDOUT (never SP_BUSY) when the deadline
 * passed while the queue was empty (never earlier; a deadline already
 * passed tries once). */
SP_API SP_NODISCARD int sp_queue_get_until(sp_queue_t *q, void **item,
                                           int64_t deadline_ns);

/* The number of items in the queue at the moment of the call (Python's
 * qsize), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_queue_size(sp_queue_t *q);

/* 1 if the queue holds no item at the moment of the call, 0 if it holds
 * some, or SP_EINVAL. As in Python, the answer may be stale by the time the
 * caller acts on it. */
SP_API SP_NODISCARD int sp_queue_empty(sp_queue_t *q);

/* 1 if the queue is bounded and holds maxsize items or more (a put would
 * wait), 0 if not (always 0 when unbounded), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_queue_full(sp_queue_t *q);

/* The queue's current maxsize (0: unbounded), or SP_EINVAL. */
SP_API SP_NODISCARD int sp_queue_maxsize(sp_queue_t *q);

/* Change the maxsize (0: unbounded), as assigning Python's Queue.maxsize
 * does, except that blocked putters see the change at once: if there is
 * room now, the longest-waiting putters' items are added, as many as fit,
 * and those putters return SP_OK. Shrinking below the current size removes
 * nothing: puts wait until gets bring the size below the new maxsize.
 * SP_OK; SP_EINVAL for a negative maxsize; SP_ENOMEM when the storage
 * could not grow to take the blocked putters' items (nothing changed:
 * maxsize, items and putters are as before); SP_EPERM from a priority
 * queue's comparison. */
SP_API SP_NODISCARD int sp_queue_set_maxsize(sp_queue_t *q, int maxsize);

/* Mark one item that was put as processed (a consumer calls it once per
 * item it got, when done with it). When every item put so far is marked,
 * the threads in sp_queue_join() are woken. SP_OK; SP_EPERM, changing
 * nothing, if called more times than items were put (Python's
 * ValueError). */
SP_API int sp_queue_task_done(sp_queue_t *q);

/* Wait until every item put so far has been marked with
 * sp_queue_task_done() (or dropped by an immediate shutdown), at most
 * timeout_ns (SP_FOREVER: no limit; 0: do not wait). SP_OK at once if none
 * is pending; SP_BUSY when timeout_ns is 0 and items are pending;
 * SP_TIMEDOUT when items were still pending when the timeout passed (never
 * earlier); SP_EINVAL for a timeout below -1. A shut-down queue is joined
 * like any other (Python 3.13). Never SP_ESYS. */
SP_API SP_NODISCARD int sp_queue_join(sp_queue_t *q, int64_t timeout_ns);

/* As sp_queue_join, with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit). SP_TIMEDOUT (never SP_BUSY) when items were still
 * pending at the deadline (never earlier; a deadline already passed only
 * looks). */
SP_API SP_NODISCARD int sp_queue_join_until(sp_queue_t *q, int64_t deadline_ns);

/* Shut the queue down (Python 3.13's Queue.shutdown): from now on every put
 * returns SP_SHUTDOWN, and gets return the items still queued, then
 * SP_SHUTDOWN once it is empty. Blocked putters and getters return
 * SP_SHUTDOWN at once (a blocked putter's item is not added). With
 * immediate nonzero the queued items are dropped too (the queue forgets the
 * pointers; whatever they point to is the caller's to release) and each is
 * counted as done for sp_queue_join(), which wakes the joiners when nothing
 * is left pending. It cannot be undone; shutting down again is allowed (an
 * immediate one then drops what is left). SP_OK; SP_EPERM from a priority
 * queue's comparison. */
SP_API int sp_queue_shutdown(sp_queue_t *q, int immediate);

/* 1 if sp_queue_shutdown() was called on the queue, 0 if not, or
 * SP_EINVAL (Python's is_shutdown). */
SP_API SP_NODISCARD int sp_queue_is_shutdown(sp_queue_t *q);

#ifdef __cplusplus
}
#endif

#endif
