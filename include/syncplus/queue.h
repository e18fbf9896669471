/* libsyncplus: sp_queue_t, Python's queue.Queue of void * items.
 *
 * A first-in, first-out queue shared by producers and consumers: items come
 * out in the order they went in (so the items of any one producer come out
 * in that producer's order), each exactly once. sp_queue_put() waits while a
 * bounded queue is full; sp_queue_get() waits while the queue is empty.
 * sp_queue_task_done() and sp_queue_join() let a producer wait until every
 * item it put has been processed, as in CPython.
 *
 * Storage: a ring buffer allocated with malloc/realloc, grown (doubled, at
 * most to maxsize) when a put finds it full, and freed by sp_queue_destroy().
 * If it cannot grow, sp_queue_put() returns SP_ENOMEM and the queue is left
 * exactly as it was: no item is lost. A queue holds at most INT_MAX items.
 * The queue stores the pointers only; it never dereferences or frees them
 * (NULL is a valid item).
 *
 * Memory: whatever a thread wrote before putting an item is visible to the
 * thread that gets that item.
 *
 * Static initialisation: `sp_queue_t q = SP_QUEUE_INIT(maxsize);` is a queue
 * as sp_queue_init makes it (maxsize is checked on first use: every call
 * returns SP_EINVAL if it is negative); a zero-filled sp_queue_t is an
 * unbounded FIFO queue. Either needs sp_queue_destroy() to free its storage
 * once items were put.
 *
 * Errors: every function returns SP_EINVAL for a NULL or destroyed queue (or
 * memory that is not one), changing nothing. A wait may fail with SP_ESYS
 * when the OS refuses it a resource (the "sem" and "win32-sem" backends make
 * a semaphore per wait); the queue is then unchanged by the call.
 *
 * All functions are thread-safe except init and destroy, which must not run
 * concurrently with any other use of the same queue.
 *
 * Usage, a worker pool:
 *     // producer                          // each worker
 *     for (...)                            for (;;) {
 *       sp_queue_put(&q, job, SP_FOREVER);   void *job;
 *     sp_queue_join(&q, SP_FOREVER);         sp_queue_get(&q, &job,
 * SP_FOREVER);
 *     // every job has been processed        if (job == NULL) break; // "stop"
 *                                            run(job);
 *                                            sp_queue_task_done(&q);
 *                                          } */
#ifndef SYNCPLUS_QUEUE_H
#define SYNCPLUS_QUEUE_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the fields are private. All are under mu_. */
typedef struct sp_queue {
  sp_mutex_t mu_;
  sp_cond_t not_empty_; /* getters wait here */
  sp_cond_t not_full_;  /* putters wait here */
  sp_cond_t all_done_;  /* joiners wait here */
  void **buf_;          /* ring buffer of cap_ slots (NULL while cap_ is 0) */
  size_t cap_;
  size_t head_;         /* slot of the oldest item */
  size_t count_;        /* items in the queue */
  size_t maxsize_;      /* 0: unbounded */
  uint64_t unfinished_; /* items put and not yet marked done */
  unsigned magic_;      /* 0: not yet used, checked on first use */
} sp_queue_t;

/* A static initializer: an empty queue of at most maxsize items (an int
 * constant expression; 0: unbounded). */
#define SP_QUEUE_INIT(maxsize)                                                 \
  {                                                                            \
    SP_MUTEX_INIT, SP_COND_INIT, SP_COND_INIT, SP_COND_INIT, NULL, 0u, 0u, 0u, \
        (size_t)(maxsize), 0u, 0u                                              \
  }

/* Make *q an empty queue holding at most maxsize items (0: unbounded, up to
 * INT_MAX). No storage is allocated until the first put. SP_OK; SP_EINVAL
 * for a negative maxsize; SP_ESYS/SP_ENOMEM when the OS refuses. */
SP_API SP_NODISCARD int sp_queue_init(sp_queue_t *q, int maxsize);

/* Destroy *q and free its storage (the items themselves are the caller's).
 * SP_OK; SP_EPERM if threads are waiting in put, get or join (it stays
 * usable). */
SP_API int sp_queue_destroy(sp_queue_t *q);

/* Append item, waiting at most timeout_ns (SP_FOREVER: no limit; 0: do not
 * wait) while a bounded queue is full. SP_OK when appended (and one waiting
 * getter is woken); SP_BUSY when timeout_ns is 0 and the queue is full;
 * SP_TIMEDOUT when it stayed full until the timeout passed; SP_ENOMEM when
 * the storage could not grow (nothing changed: retry later, or drain the
 * queue); SP_EINVAL for a timeout below -1. */
SP_API SP_NODISCARD int sp_queue_put(sp_queue_t *q, void *item,
                                     int64_t timeout_ns);

/* Remove the oldest item and store it in *item, waiting at most timeout_ns
 * (SP_FOREVER: no limit; 0: do not wait) while the queue is empty. SP_OK
 * when removed (and one waiting putter is woken); SP_BUSY when timeout_ns is
 * 0 and the queue is empty; SP_TIMEDOUT when it stayed empty until the
 * timeout passed; SP_EINVAL for a NULL item pointer or a timeout below -1.
 * *item is written only on SP_OK. */
SP_API SP_NODISCARD int sp_queue_get(sp_queue_t *q, void **item,
                                     int64_t timeout_ns);

/* The number of items in the queue at the moment of the call, or
 * SP_EINVAL. */
SP_API SP_NODISCARD int sp_queue_size(sp_queue_t *q);

/* Mark one item that was put as processed (a consumer calls it once per
 * item it got, when done with it). When every item put so far is marked,
 * the threads in sp_queue_join() are woken. SP_OK; SP_EPERM if called more
 * times than items were put. */
SP_API int sp_queue_task_done(sp_queue_t *q);

/* Wait until every item put so far has been marked with
 * sp_queue_task_done(), at most timeout_ns (SP_FOREVER: no limit; 0: do not
 * wait). SP_OK at once if none is pending; SP_BUSY when timeout_ns is 0 and
 * items are pending; SP_TIMEDOUT when items were still pending when the
 * timeout passed; SP_EINVAL for a timeout below -1. */
SP_API SP_NODISCARD int sp_queue_join(sp_queue_t *q, int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif
