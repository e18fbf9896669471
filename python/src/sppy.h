/* The syncplus Python module: internal declarations shared by its files.
 *
 * Rules every file here follows (the module's invariants):
 *  - The GIL guards every field of the module's own objects (owner ids,
 *    waiter queues, node lists, barrier state). No such field is touched
 *    between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS.
 *  - A library call that may block is made without the GIL, through
 *    sppy_wait(); one that cannot block (timeout 0, release, size) is made
 *    with it. A thread never waits for the GIL while it holds a library
 *    object's internal lock, so the two never deadlock.
 *  - Blocking calls are interruptible in the thread that runs signal
 *    handlers, as CPython's own locks are: sppy_wait() waits there in slices
 *    of at most SPPY_SLICE_NS on one deadline and runs the handlers between
 *    slices; a handler that raises ends the wait with SPPY_INTR.
 *  - Every library wait used through sppy_wait() changes nothing when it
 *    times out (lock, rlock, semaphore, event, queue put/get/join, a
 *    condition waiter's lock), so cutting a wait into slices is invisible.
 *  - Timeouts are measured on CLOCK_MONOTONIC (the library's clock and
 *    time.monotonic()'s), rounded up to the nanosecond, and a wait reports
 *    a timeout only once sppy_now_ns() has reached its deadline. */
#ifndef SPPY_H
#define SPPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <syncplus.h>

/* ---- timeouts (module.c) ---------------------------------------------- */

/* A relative timeout in nanoseconds: SPPY_FOREVER, 0 (try once) or > 0. */
#define SPPY_FOREVER ((int64_t)-1)
/* An absolute deadline that never comes. */
#define SPPY_NEVER INT64_MAX
/* The longest slice a signal-handling thread waits before it runs the
 * signal handlers (the latency of Ctrl-C in a blocked call). */
#define SPPY_SLICE_NS ((int64_t)20 * 1000 * 1000)
/* sppy_wait(): a signal handler raised (the exception is set). */
#define SPPY_INTR (-100)

/* Monotonic time in nanoseconds, the clock of every deadline here. */
int64_t sppy_now_ns(void);

/* The absolute deadline of a relative timeout (SPPY_FOREVER or > 0),
 * saturating at SPPY_NEVER. */
int64_t sppy_deadline(int64_t timeout_ns);

/* Lock.acquire()'s arguments, as _thread.lock parses them: blocking (an
 * int), timeout (seconds, -1 for none). Sets *timeout_ns to SPPY_FOREVER,
 * 0 or > 0. Returns 0, or -1 with TypeError, ValueError or OverflowError
 * set as CPython raises them. */
int sppy_parse_acquire_args(PyObject *args, PyObject *kwargs, const char *fn,
                            int64_t *timeout_ns);

/* A Condition/Event/Semaphore-style timeout (None waits forever; a value
 * that is not > 0, NaN included, means "do not wait", as `timeout > 0`
 * decides in CPython). 0 or -1 with TypeError or OverflowError set. */
int sppy_wait_timeout(PyObject *timeout, int64_t *timeout_ns);

/* A queue-style timeout: None waits forever; negative: ValueError
 * "'timeout' must be a non-negative number"; NaN: ValueError; larger than
 * TIMEOUT_MAX: OverflowError only when check_max (CPython raises it only
 * when it actually waits). */
int sppy_queue_timeout(PyObject *timeout, int check_max, int64_t *timeout_ns);

/* Seconds (float or int) to a timeout in nanoseconds, rounded up; -1 with
 * OverflowError set beyond TIMEOUT_MAX. */
int sppy_seconds_to_ns(double seconds, int64_t *timeout_ns);

/* ---- waiting (module.c) ----------------------------------------------- */

/* One library wait: called without the GIL with timeout_ns > 0 or
 * SP_FOREVER; returns the library's result (SP_OK, SP_TIMEDOUT, ...). A
 * timed-out call must have changed nothing. */
typedef int (*sppy_wait_fn)(void *arg, int64_t timeout_ns);

/* fn(arg, ...) without the GIL until it returns anything but SP_TIMEDOUT /
 * SP_BUSY, or the deadline (sppy_now_ns() clock, SPPY_NEVER for none)
 * passed. interruptible: in the signal-handling thread, wait in slices and
 * run the signal handlers between them. Returns fn's result, SP_TIMEDOUT
 * once the deadline passed, or SPPY_INTR (exception set). The caller has
 * already tried once with the GIL held (timeout 0). */
int sppy_wait(sppy_wait_fn fn, void *arg, int64_t deadline, int interruptible);

/* The usual blocking call: fn(arg, 0) with the GIL; if that is SP_BUSY and
 * timeout_ns != 0, sppy_wait() up to timeout_ns. Returns SP_OK, SP_TIMEDOUT
 * (for SP_BUSY too), SPPY_INTR, or another library result. */
int sppy_call(sppy_wait_fn fn, void *arg, int64_t timeout_ns,
              int interruptible);

/* Set a Python exception for an unexpected library result (MemoryError
 * for SP_ENOMEM, OSError for SP_ESYS, SystemError otherwise) naming what
 * failed. Returns -1. No-op returning -1 for SPPY_INTR (already set). */
int sppy_raise(int rc, const char *what);

/* The pending exception, taken out while cleanup code runs: save it, run
 * the cleanup, restore it. If the cleanup raised, its exception propagates
 * with the saved one as __context__ (as in a `finally:` block). */
typedef struct {
#if PY_VERSION_HEX >= 0x030C0000
  PyObject *exc;
#else
  PyObject *type, *value, *tb;
#endif
} sppy_exc;
void sppy_exc_save(sppy_exc *e);
void sppy_exc_restore(sppy_exc *e);

/* 1 if the calling thread is the one that runs signal handlers. */
int sppy_is_signal_thread(void);

/* ---- exceptions and types ---------------------------------------------- */

extern PyObject *sppy_Empty;    /* queue.Empty */
extern PyObject *sppy_Full;     /* queue.Full */
extern PyObject *sppy_ShutDown; /* queue.ShutDown (3.13+) or syncplus's */
extern PyObject *sppy_BrokenBarrierError; /* threading.BrokenBarrierError */

extern PyTypeObject sppy_LockType;
extern PyTypeObject sppy_RLockType;
extern PyTypeObject sppy_ConditionType;
extern PyTypeObject sppy_SemaphoreType;
extern PyTypeObject sppy_BoundedSemaphoreType;
extern PyTypeObject sppy_EventType;
extern PyTypeObject sppy_BarrierType;
extern PyTypeObject sppy_QueueType;
extern PyTypeObject sppy_SimpleQueueType;
extern PyTypeObject sppy_LifoQueueType;
extern PyTypeObject sppy_PriorityQueueType;

/* "<module>.<qualname>" of an object's type, for the reprs CPython's
 * Python-level classes print. New reference or NULL. */
PyObject *sppy_type_name(PyObject *self);

/* ---- Lock and RLock (locks.c), for Condition and Barrier --------------- */

typedef struct {
  PyObject ob_base; /* PyObject_HEAD */
  sp_lock_t lock;
  PyObject *weakreflist;
} sppy_LockObject;

typedef struct sppy_RLockObject {
  PyObject ob_base; /* PyObject_HEAD */
  sp_rlock_t rlock;
  unsigned long owner; /* PyThread ident of the owner, 0 when free */
  unsigned long count; /* the owner's recursion level */
  /* on the list of owned rlocks while count > 0 (GIL), for fork */
  struct sppy_RLockObject *owned_prev, *owned_next;
  PyObject *weakreflist;
} sppy_RLockObject;

/* Acquire with a timeout (SPPY_FOREVER, 0, > 0). 1 acquired, 0 timed out,
 * -1 exception (a signal handler raised, when interruptible). */
int sppy_lock_acquire(sppy_LockObject *self, int64_t timeout_ns,
                      int interruptible);
/* Release; -1 with RuntimeError if it is not locked. */
int sppy_lock_release(sppy_LockObject *self);
int sppy_rlock_acquire(sppy_RLockObject *self, int64_t timeout_ns,
                       int interruptible);
int sppy_rlock_release(sppy_RLockObject *self);
/* 1 if the calling thread owns it. */
int sppy_rlock_is_owned(sppy_RLockObject *self);
/* Release completely, returning the recursion level (> 0), or 0 with
 * RuntimeError set if the caller does not own it. */
unsigned long sppy_rlock_release_all(sppy_RLockObject *self);
/* Acquire (blocking, not interruptible) and set the recursion level. */
int sppy_rlock_acquire_restore(sppy_RLockObject *self, unsigned long count);
/* In a forked child: the rlocks the forking thread owns stay its own (see
 * locks.c). */
void sppy_rlocks_after_fork(void);

/* ---- the condition core (condition.c), for Condition and Barrier ------- */

/* A thread waiting on a condition: it holds `lock` while it is not
 * notified; a notify releases it. Recycled through a pool. */
typedef struct sppy_waiter {
  sp_lock_t lock;
  struct sppy_waiter *prev, *next; /* in a condition's queue, or the pool */
  int queued;                      /* 1 while in a condition's queue */
} sppy_waiter;

enum { SPPY_KIND_LOCK = 1, SPPY_KIND_RLOCK = 2, SPPY_KIND_OTHER = 3 };

/* A condition over a lock: CPython's threading.Condition algorithm (a FIFO
 * of waiters, each asleep on a lock of its own) in C, guarded by the GIL.
 * ISSUE-13: switch to sp_cond_t over sp_lock_t/sp_rlock_t with
 * sp_cond_notify() once the library has them (see condition.c). */
typedef struct {
  PyObject *lock; /* strong */
  int kind;       /* how to drive `lock` */
  /* SPPY_KIND_OTHER only: the lock's bound methods (NULL when absent) */
  PyObject *acquire, *release, *release_save, *acquire_restore, *is_owned;
  sppy_waiter *head, *tail; /* waiting threads, FIFO */
  Py_ssize_t nwaiters;
} sppy_condcore;

/* Use `lock` (NULL: a new syncplus.RLock). 0 or -1. */
int sppy_core_init(sppy_condcore *c, PyObject *lock);
/* Drop the references; waiters must be gone (or dead, after a fork). */
void sppy_core_clear(sppy_condcore *c);
int sppy_core_traverse(sppy_condcore *c, visitproc visit, void *arg);
/* 1 if the calling thread holds the lock (as Condition._is_owned), 0, -1. */
int sppy_core_is_owned(sppy_condcore *c);
/* Condition.wait: 1 notified, 0 timed out, -1 exception. RuntimeError if
 * the lock is not held. */
int sppy_core_wait(sppy_condcore *c, int64_t timeout_ns);
/* Condition.notify(n): 0 or -1 (RuntimeError if the lock is not held). */
int sppy_core_notify(sppy_condcore *c, Py_ssize_t n);
/* Acquire/release the lock as `with cond:` does. 0 or -1. */
int sppy_core_acquire(sppy_condcore *c);
int sppy_core_release(sppy_condcore *c);
/* After fork: forget waiters of threads that do not exist any more. */
void sppy_core_forget_waiters(sppy_condcore *c);

/* The waiter pool (condition.c): get a waiter (its lock held) or NULL with
 * MemoryError; give it back (its lock held). */
sppy_waiter *sppy_waiter_get(void);
void sppy_waiter_put(sppy_waiter *w);
void sppy_waiter_pool_free(void);

/* ---- atomics (GCC/Clang builtins, as the library uses) ----------------- */
#define sppy_load_(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define sppy_inc_(p)  __atomic_add_fetch((p), 1, __ATOMIC_ACQ_REL)

#endif
