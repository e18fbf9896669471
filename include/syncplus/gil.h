/* libsyncplus: sp_gil_t, the interpreter lock (a "GIL").
 *
 * An interpreter thread holds the lock while it interprets, releases it
 * around blocking calls (I/O), and offers it to other threads at its check
 * points with sp_gil_yield(). A thread waiting in sp_gil_acquire() is an
 * "I/O thread" (it is coming back from a blocking call); a thread waiting
 * inside sp_gil_yield() to get the lock back is a "CPU thread". Below, the
 * holder's "yield period" P is the time between two of its consecutive
 * sp_gil_yield()/sp_gil_release() calls.
 *
 *     sp_gil_acquire(&g);                       // thread start
 *     for (;;) {
 *       interpret_some_bytecode();
 *       if (++ticks % CHECK == 0) sp_gil_yield(&g);   // check point
 *       if (about_to_block) {
 *         sp_gil_release(&g);  blocking_call();  sp_gil_acquire(&g);
 *       }
 *     }
 *     sp_gil_release(&g);                       // thread end
 *
 * Three policies (docs/gil.md has the details and the history):
 *
 * SP_GIL_PRIORITY (the default): FIFO queues, direct hand-off, no barging.
 *  - The holder's slice: its yields while a CPU thread waits, and the time
 *    since the first of them. The slice is over after yield_skip such
 *    yields or interval_ns, whichever comes first.
 *  - Who gets it next: on sp_gil_yield(), the first I/O waiter if there is
 *    one; the yielder then waits at the head of the CPU queue and, given
 *    the lock back, resumes its slice where it stopped (or, if its slice
 *    was over, at the tail with a new slice to come). Otherwise, if CPU
 *    threads wait and the slice is over, the first CPU waiter (the yielder
 *    queues at the tail: round robin); if that thread sleeps, the holder
 *    first wakes it and keeps the lock until it runs, at most 100 us more,
 *    so no CPU time is lost while it wakes up. Otherwise nobody (the yield
 *    keeps the lock). On sp_gil_release(), the first I/O waiter, else the
 *    first CPU waiter, else the lock becomes free. The chosen thread is
 *    made the owner before it is woken: the releaser cannot win it back.
 *    Exception (anti-starvation): after yield_skip consecutive hand-offs to
 *    I/O threads that passed over a waiting CPU thread, the next hand-off
 *    goes to the first CPU waiter.
 *  - Waiting: an I/O waiter, and a yielder that handed the lock to an I/O
 *    thread, spin for up to 50 us before they sleep (the lock usually
 *    comes within microseconds; a wake-up costs tens of them); other
 *    yielders sleep at once.
 *  - I/O latency: an I/O waiter with no I/O waiter ahead of it gets the
 *    lock at the holder's first yield or release after it queued, i.e.
 *    within one yield period P; with k I/O waiters ahead, within k+1
 *    periods (each holds it until its own next yield or release). The
 *    exception above can add one CPU slice once every yield_skip I/O
 *    hand-offs.
 *  - Starvation bounds: I/O waiters are served in arrival order. A CPU
 *    waiter gets the lock after at most one slice of each CPU thread ahead
 *    of it (a slice: at most yield_skip yields or interval_ns of holding,
 *    plus one yield period and at most 100 us while its successor wakes),
 *    not counting I/O hand-offs, of which at most yield_skip in a row can
 *    pass it over.
 *  - Cost: an uncontended acquire is one CAS, an uncontended release one
 *    CAS, a yield with nobody waiting one relaxed load and a branch (plus
 *    the owner check and a statistics counter).
 *
 * SP_GIL_FAIR: CPython 3.2+ "new GIL" (Python/ceval_gil.h, FORCE_SWITCHING).
 *  - A waiter waits interval_ns on a condition; if no switch happened in
 *    that interval, it sets a drop request. The holder's next yield sees it
 *    (a relaxed load when there is none), drops the lock, signals a waiter,
 *    and waits until another thread has taken it before competing again.
 *    A release made while a drop request is pending waits for the switch
 *    too, as in CPython.
 *  - Who gets it next: whichever waiter the OS condition wakes (no order);
 *    after a forced drop, never the dropping thread.
 *  - I/O latency: up to interval_ns + P per acquire when the holder is
 *    CPU-bound (the convoy effect, CPython issue 7946); immediate if the
 *    lock is free.
 *  - Starvation: the holder keeps the lock at most interval_ns + P while
 *    threads wait; waiters are not ordered, so a given waiter has no bound.
 *
 * SP_GIL_LEGACY: Python 2.x, the baseline. A plain, non-fair lock; every
 * yield_skip-th sp_gil_yield() (sys.setcheckinterval, one call = one tick,
 * the tick counter is shared by all holders) releases and immediately
 * re-acquires it, the other yields do nothing.
 *  - Who gets it next: whichever thread wins the race; on a multi-core
 *    machine the releasing thread nearly always wins it back.
 *  - I/O latency and starvation: no bound (a waiter may wait until the
 *    holder releases the lock for good).
 *
 * Statistics are counted by the thread that holds the lock (so the counts
 * are exact when no thread uses the lock, approximate while they do). A
 * "hand-off" is counted by the receiving thread when it had to wait for
 * the lock: handoffs_io when it waited in sp_gil_acquire(), handoffs_cpu
 * when it waited inside sp_gil_yield() (including a CPU waiter that
 * received the lock from a release).
 *
 * Every function returns SP_EINVAL for a NULL, uninitialised or destroyed
 * lock. All functions are thread-safe except init and destroy. Nothing
 * aborts or exits. */
#ifndef SYNCPLUS_GIL_H
#define SYNCPLUS_GIL_H

#include "syncplus/cond.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Policies (sp_gil_config.policy). */
enum { SP_GIL_LEGACY = 0, SP_GIL_FAIR = 1, SP_GIL_PRIORITY = 2 };

/* Configuration. Get the defaults from sp_gil_config_default() and change
 * what you need.
 *  - interval_ns (>= 0): FAIR: how long a waiter waits before it sets a drop
 *    request (CPython's sys.setswitchinterval, default 5 ms). PRIORITY: the
 *    longest a holder keeps the lock, counted from its first yield that saw
 *    a CPU waiter, before its next yield hands it over (default 5 ms).
 *    Unused by LEGACY.
 *  - yield_skip (>= 1): LEGACY: the check interval in yields (default 100).
 *    PRIORITY: a slice is yield_skip yields made while a CPU thread waits
 *    (with only CPU waiters, one yield in yield_skip hands over); also the
 *    most consecutive I/O hand-offs that may pass over a waiting CPU
 *    thread (default 100). Unused by FAIR. */
typedef struct sp_gil_config {
  int policy;
  int64_t interval_ns;
  unsigned yield_skip;
} sp_gil_config;

/* Statistics since sp_gil_init(). The type is `struct sp_gil_stats` (or
 * sp_gil_stats_t): a typedef named sp_gil_stats would clash with the
 * function sp_gil_stats() below, as C has one name space for both. */
typedef struct sp_gil_stats {
  uint64_t acquisitions; /* successful sp_gil_acquire calls */
  uint64_t handoffs_io;  /* the lock went to a thread that waited in acquire */
  uint64_t handoffs_cpu; /* ... to a thread that waited in yield */
  uint64_t yields;       /* sp_gil_yield calls (by the holder) */
  uint64_t yields_noop;  /* yields that kept the lock without releasing it */
  int64_t wait_total_ns; /* total time threads waited in acquire, and in
                            yield to get the lock back */
  int64_t wait_max_ns;   /* the longest single such wait */
} sp_gil_stats_t;

/* Embeddable; the fields are private. */
typedef struct sp_gil {
  /* Touched on every call. */
  int state_;           /* LEGACY/PRIORITY: 0 free, 1 held, 2 held and
                           waited on (atomic) */
  int drop_request_;    /* FAIR: a waiter asks the holder to drop (atomic) */
  uintptr_t owner_;     /* holder's thread id, 0 when free (atomic) */
  unsigned io_waiting_; /* PRIORITY: threads queued in acquire (atomic) */
  unsigned ticks_;      /* yields counted towards a switch (holder only) */
  int policy_;
  unsigned yield_skip_;
  int64_t interval_ns_;
  int64_t slice_start_ns_; /* PRIORITY: first yield that saw a CPU waiter */
  int64_t nudge_ns_;       /* PRIORITY: when the successor was woken (holder) */
  int nudged_;             /* PRIORITY: successor woken in advance (holder) */
  /* Statistics: written by the holder, read by sp_gil_stats (atomic). */
  uint64_t acquisitions_;
  uint64_t handoffs_io_;
  uint64_t handoffs_cpu_;
  uint64_t yields_;
  uint64_t yields_released_;
  int64_t wait_total_ns_;
  int64_t wait_max_ns_;
  /* Slow paths. */
  unsigned waiters_;           /* threads inside a blocking path (atomic) */
  unsigned bypass_;            /* PRIORITY: I/O hand-offs in a row that passed a
                                  CPU waiter (under mu_) */
  void *io_head_, *io_tail_;   /* PRIORITY: FIFO queues of waiters */
  void *cpu_head_, *cpu_tail_; /* (under mu_) */
  int locked_;                 /* FAIR: the "locked" flag (atomic, under mu_) */
  uintptr_t last_holder_;      /* FAIR (atomic) */
  uint64_t switch_number_;     /* FAIR: ownership changes (under mu_) */
  sp_mutex_t mu_;
  sp_cond_t cv_;
  sp_mutex_t switch_mu_; /* FAIR: FORCE_SWITCHING */
  sp_cond_t switch_cv_;
  unsigned magic_;
} sp_gil_t;

/* Fill *cfg with the defaults of `policy`: LEGACY yield_skip 100; FAIR
 * interval 5 ms; PRIORITY interval 5 ms and yield_skip 100 (the unused
 * field gets the same default). SP_OK; SP_EINVAL for a NULL cfg or an
 * unknown policy. */
SP_API int sp_gil_config_default(sp_gil_config *cfg, int policy);

/* Make *g a free interpreter lock. cfg NULL means SP_GIL_PRIORITY with its
 * defaults; the config is copied. SP_OK; SP_EINVAL for a NULL g, an unknown
 * policy, a negative interval_ns or a yield_skip of 0; SP_ESYS/SP_ENOMEM. */
SP_API int sp_gil_init(sp_gil_t *g, const sp_gil_config *cfg);

/* Destroy *g. SP_OK; SP_EPERM if it is held or a thread waits for it (it
 * stays usable). Must not run concurrently with other calls on *g. */
SP_API int sp_gil_destroy(sp_gil_t *g);

/* Block until the calling thread holds *g. The caller counts as a thread
 * coming back from I/O (PRIORITY serves it before CPU threads). SP_OK;
 * SP_EPERM if the caller already holds it (it would deadlock); SP_ESYS. */
SP_API int sp_gil_acquire(sp_gil_t *g);

/* Release *g, held by the caller, handing it to the next thread as the
 * policy says. SP_OK; SP_EPERM when the caller does not hold it. FAIR: may
 * wait until a thread that requested a drop has taken the lock. */
SP_API int sp_gil_release(sp_gil_t *g);

/* A check point of the holder: offer the lock to waiting threads as the
 * policy says. May hand the lock over and return once the caller holds it
 * again; the caller holds it when this returns SP_OK. SP_EPERM if the
 * caller does not hold it; SP_ESYS (the lock is then still held). */
SP_API int sp_gil_yield(sp_gil_t *g);

/* Copy the statistics of *g into *out. SP_OK; SP_EINVAL for a NULL out.
 * Thread-safe; the counts are exact when no thread uses the lock. */
SP_API int sp_gil_stats(sp_gil_t *g, struct sp_gil_stats *out);

#ifdef __cplusplus
}
#endif

#endif
