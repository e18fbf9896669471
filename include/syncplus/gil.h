/* libsyncplus: sp_gil_t, the interpreter lock (a "GIL").
 *
 * An interpreter thread holds the lock while it interprets, releases it
 * around blocking calls (I/O), and offers it to other threads at its check
 * points with sp_gil_yield(). The caller's loop:
 *
 *     sp_gil_acquire_ex(&g, SP_GIL_CPU, SP_FOREVER);  // thread start: no
 *                                                      // queue jumping
 *     for (;;) {
 *       interpret_some_bytecode();
 *       if (++ticks % CHECK == 0) sp_gil_yield(&g);   // check point
 *       if (about_to_block) {                         // recv(), accept()...
 *         sp_gil_release(&g);  blocking_call();  sp_gil_acquire(&g);
 *       }
 *       // blocking on this library's own objects: the GIL-aware waits
 *       rc = sp_gil_queue_get(&g, &q, &item, SP_FOREVER);
 *     }
 *     sp_gil_release(&g);                             // thread end
 *
 * Every result is checked in real code; SP_ESYS below needs a failing OS
 * (or the test suite's fault seam), and only FAIR can return it: PRIORITY
 * and LEGACY wait on futex words (WaitOnAddress on Windows), which create
 * no OS object and cannot fail.
 *
 * Terms. A thread waiting in an acquire of class SP_GIL_IO (sp_gil_acquire)
 * is an "I/O waiter": it is coming back from a blocking call. A thread
 * waiting in an acquire of class SP_GIL_CPU, or inside sp_gil_yield() to
 * get the lock back, is a "CPU waiter". A "hand-off" is the holder giving
 * the lock to a waiter (at a yield or a release). The holder's "yield
 * period" P is the time between two of its consecutive yields or releases.
 *
 * Three policies (docs/gil.md has the details, the history and the
 * measurements):
 *
 * SP_GIL_PRIORITY (the default): two FIFO queues, direct hand-off, no
 * barging, I/O first, CPU threads in round robin by slices.
 *  - Turns and slices. The CPU waiters take turns in FIFO order; a "turn"
 *    starts when the CPU queue's head is handed the lock and is one
 *    "slice" long: the slice is over once the holders (the owner of the
 *    turn and any I/O threads that interrupt it) have made `yield_skip`
 *    yields while a CPU thread waited, or interval_ns after its first such
 *    yield, whichever comes first; the turn's owner then goes to the tail
 *    of the CPU queue. If the next owner sleeps, the holder first wakes it
 *    and keeps the lock until it runs (at most 100 us and at most
 *    `yield_skip` more yields), so the wake-up overlaps work.
 *  - I/O first. At a yield, the first I/O waiter gets the lock at once.
 *    The owner of the current turn, interrupted before its slice is over,
 *    waits in a "resume" place ahead of the CPU queue and gets the lock back
 *    when no I/O waiter is left: an I/O burst interrupts a turn, it does
 *    not end it. An I/O thread interrupted by another I/O waiter goes to
 *    the tail of the CPU queue (it had its I/O turn). A release hands the
 *    lock to the first I/O waiter, else to the resumed turn, else to the
 *    CPU queue's head (a new turn), else makes it free.
 *  - Take-back. When the lock goes back to the resumed turn's owner, that
 *    owner must still get onto a CPU to run; an I/O waiter that arrives
 *    before it has (typically the thread that just released it, back from
 *    a short send(), running on the CPU the owner waits for) takes the lock
 *    back at once instead of queueing, as if the owner had yielded to it
 *    at once: only if that yield would have handed it over (no I/O waiter
 *    queued, fewer than io_burst I/O hand-offs in a row, the slice not
 *    over, counting that yield), and at most once per wait of the owner.
 *    This saves the owner two context switches and a yield period per
 *    such I/O request. The bounds count it as that yield and a hand-off to
 *    the I/O waiter (stats: takebacks).
 *  - Anti-starvation: after `io_burst` hand-offs in a row to I/O waiters
 *    while a CPU waiter waited, the next hand-off goes to the CPU side (the
 *    resumed turn, else the CPU queue's head); so does the first hand-off
 *    after a slice is over.
 *  - The bounds, in events the statistics count (L = io_burst, S =
 *    yield_skip; they hold for every pattern of acquire, release and
 *    yield, as long as holders keep yielding or releasing):
 *     B1. An I/O waiter with k I/O waiters ahead of it is handed the lock
 *         within k + 2 + floor(k / L) hand-offs after it queued
 *         (stats: io_wait_max_handoffs), and each of these turns ends at
 *         the holder's first yield or release after it began (at most one
 *         yield period P each), except a turn begun because a slice was
 *         over, which may last one slice: at most one such per slice.
 *    B2. A CPU waiter with c waiters ahead of it in the CPU queue is
 *         handed the lock before more than c + 1 turns have started after
 *         it queued (stats: cpu_wait_max_turns); a turn lasts at most
 *         2 S yields made by the holders while a CPU thread waits (S, plus
 *         at most S while the successor wakes up), and at most interval_ns
 *         + 100 us, plus one yield period. With N threads using the lock,
 *         c <= N - 2, so cpu_wait_max_turns <= N - 1.
 *    B3. While a CPU thread waits, at most L hand-offs in a row go to I/O
 *         waiters.
 *  - Waiting: an I/O waiter, and an interrupted turn owner, spin for the
 *    hand-off for up to 50 us before they sleep, yielding the CPU between
 *    looks (the turn owner keeps its CPU for up to 30 us instead while the
 *    I/O thread it handed to visibly runs on another CPU, and not at all
 *    when that thread queued on the owner's own CPU, where it cannot run
 *    before the owner gives the CPU up); others sleep at once. A waiter
 *    sleeps on its own state word: no OS object is created.
 *  - Time: the bounds above are in events. In time, each turn or check
 *    point is as long as the holders make it: a holder preempted by the OS
 *    between two check points stretches P, and every bound with it.
 *  - Cost: an uncontended acquire is one CAS, an uncontended release one
 *    CAS, a yield with nobody waiting a relaxed load and a branch (after
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
 *    after a forced drop, never the dropping thread. The class is ignored.
 *  - I/O latency: up to interval_ns + P per acquire when the holder is
 *    CPU-bound (the convoy effect, CPython issue 7946).
 *  - Starvation: the holder keeps the lock at most interval_ns + P while
 *    threads wait; waiters are not ordered, so a given waiter has no bound.
 *
 * SP_GIL_LEGACY: Python 2.x, the baseline. A plain, non-fair lock; every
 * yield_skip-th sp_gil_yield() (the tick counter is shared by all holders)
 * releases and immediately re-acquires it, the other yields do nothing.
 * The default yield_skip is 1: a caller that yields at each of its checks
 * (every 100 bytecodes, say: sys.setcheckinterval(100)) gets Python 2's
 * behaviour.
 *  - Who gets it next: whichever thread wins the race; on a multi-core
 *    machine the releasing thread nearly always wins it back. The class is
 *    ignored.
 *  - I/O latency and starvation: no bound.
 *
 * Statistics are counted by the thread that holds the lock (exact when no
 * thread uses the lock, approximate while they do); see sp_gil_stats_t.
 *
 * Static initialisation and zero-filled objects: a zero-filled sp_gil_t
 * (static storage, calloc, `sp_gil_t g = SP_GIL_INIT;`) is a valid, free
 * SP_GIL_PRIORITY lock with the default configuration; it is set up on
 * first use, race-free. That set-up creates the internal conditions (OS
 * objects on the "pthread" and "win32" backends): if it fails, the call
 * that needed it returns SP_ESYS/SP_ENOMEM, changing nothing, and the next
 * call tries again. sp_gil_init() is needed only for another policy or
 * configuration. After sp_gil_destroy() every call returns SP_EINVAL until
 * sp_gil_init() is called again; any other garbage is SP_EINVAL too (or
 * undefined, if it happens to look valid).
 *
 * Errors: every function returns SP_EINVAL for a NULL, destroyed or
 * corrupted lock and for out-of-range arguments. SP_ESYS means an OS wait
 * primitive failed; each entry says what state it leaves. Nothing aborts or
 * exits.
 *
 * Threads: all functions are thread-safe except init, destroy and
 * sp_gil_after_fork_child. A thread that exits while holding the lock
 * leaves it held forever (undefined behaviour, as for a POSIX mutex: thread
 * ids may be reused, so a later thread may even be taken for the holder);
 * release it first. A thread that exits while waiting cannot: waits do not
 * return early.
 *
 * fork(): in the child only the forking thread exists, and the lock's
 * state is a copy taken at an arbitrary moment. Before any other call on
 * the lock, the child calls sp_gil_after_fork_child(), which makes the
 * forking thread the holder and resets everything else; other calls made
 * in the child before it are undefined. None of these functions is
 * async-signal-safe. */
#ifndef SYNCPLUS_GIL_H
#define SYNCPLUS_GIL_H

#include "syncplus/barrier.h"
#include "syncplus/cond.h"
#include "syncplus/event.h"
#include "syncplus/lock.h"
#include "syncplus/queue.h"
#include "syncplus/rlock.h"
#include "syncplus/semaphore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Policies (sp_gil_config.policy). */
enum { SP_GIL_LEGACY = 0, SP_GIL_FAIR = 1, SP_GIL_PRIORITY = 2 };

/* Waiter classes (sp_gil_acquire_ex). PRIORITY serves SP_GIL_IO waiters
 * first; an SP_GIL_CPU waiter queues behind the CPU threads (a thread
 * start, an accept loop, a worker back from a queue get that should not
 * jump the queue). FAIR and LEGACY ignore the class. */
enum { SP_GIL_IO = 0, SP_GIL_CPU = 1 };

/* Configuration. Get the defaults from sp_gil_config_default() and change
 * what you need.
 *  - interval_ns (>= 0): FAIR: how long a waiter waits before it sets a drop
 *    request (CPython's sys.setswitchinterval, default 5 ms). PRIORITY: the
 *    longest slice, counted from its first yield that saw a CPU waiter
 *    (default 5 ms). Unused by LEGACY.
 *  - yield_skip (>= 1): LEGACY: the check interval in yields: every
 *    yield_skip-th yield releases and re-acquires (default 1). PRIORITY: the
 *    slice length in yields (default 100). Unused by FAIR.
 *  - io_burst (PRIORITY): the most hand-offs in a row to I/O waiters while
 *    a CPU waiter waits (default 8). 0 means "the same as yield_skip", which
 *    was the meaning before this field existed: a zero-initialised config
 *    written for the old three fields keeps its behaviour. Unused by FAIR
 *    and LEGACY. */
typedef struct sp_gil_config {
  int policy;
  int64_t interval_ns;
  unsigned yield_skip;
  unsigned io_burst;
} sp_gil_config;

/* Statistics since sp_gil_init() or the last sp_gil_stats_reset(). The type
 * is `struct sp_gil_stats` (or sp_gil_stats_t): a typedef named
 * sp_gil_stats would clash with the function sp_gil_stats() below. */
typedef struct sp_gil_stats {
  uint64_t acquisitions; /* successful acquire calls (every class) */
  uint64_t handoffs_io;  /* the lock went to a thread that waited in an
                            SP_GIL_IO acquire */
  uint64_t handoffs_cpu; /* ... to a thread that waited in yield or in an
                            SP_GIL_CPU acquire */
  uint64_t yields;       /* sp_gil_yield calls (by the holder) */
  uint64_t yields_noop;  /* yields that kept the lock without releasing it */
  int64_t wait_total_ns; /* total time threads waited in acquire, and in
                            yield to get the lock back */
  int64_t wait_max_ns;   /* the longest single such wait */
  int64_t wait_cpu_ns;   /* the part of wait_total_ns waited by CPU waiters
                            (in yield or an SP_GIL_CPU acquire) */
  /* PRIORITY only (0 for the others): the bounds B1 and B2 of the header,
   * as observed: the most hand-offs made while one I/O waiter waited
   * (counting the one to it), and the most turns started while one CPU
   * waiter waited (counting its own). */
  uint64_t io_wait_max_handoffs;
  uint64_t cpu_wait_max_turns;
  uint64_t turns;     /* PRIORITY: turns started (CPU queue head handed the
                         lock) */
  uint64_t takebacks; /* PRIORITY: hand-offs to an I/O waiter that took the
                         lock back from a resumed turn's owner before that
                         one ran (counted in handoffs_io too; the revoked
                         hand-off is not counted) */
} sp_gil_stats_t;

/* Embeddable; the fields are private. Zero-filled is valid (see above). */
typedef struct sp_gil {
  /* Touched on every call. */
  unsigned magic_;
  int state_;            /* LEGACY/PRIORITY: 0 free, 1 held, 2 held and
                            waited on (atomic) */
  int drop_request_;     /* FAIR: a waiter asks the holder to drop (atomic) */
  uintptr_t owner_;      /* holder's thread id, 0 when free (atomic) */
  unsigned io_waiting_;  /* PRIORITY: I/O waiters queued (atomic) */
  unsigned cpu_waiting_; /* PRIORITY: CPU waiters queued or resuming
                            (atomic) */
  unsigned ticks_;       /* yields counted in the slice (holder only) */
  int policy_;
  unsigned yield_skip_;
  unsigned io_burst_;
  int64_t interval_ns_;
  int64_t slice_start_ns_; /* PRIORITY: the slice's first counted yield */
  int64_t nudge_ns_;       /* PRIORITY: when the successor was woken */
  unsigned nudge_ticks_;   /* PRIORITY: ticks_ when it was woken */
  int nudged_;             /* PRIORITY: successor woken in advance */
  int turn_io_;            /* PRIORITY: the holder got the lock by an I/O
                              hand-off (holder only) */
  unsigned running_seq_;   /* PRIORITY: the last owner by hand-off runs
                              (atomic) */
  /* Statistics: written by the holder, read by sp_gil_stats (atomic). */
  uint64_t acquisitions_;
  uint64_t handoffs_io_;
  uint64_t handoffs_cpu_;
  uint64_t yields_;
  uint64_t yields_released_;
  int64_t wait_total_ns_;
  int64_t wait_max_ns_;
  int64_t wait_cpu_ns_;
  uint64_t io_wait_max_handoffs_;
  uint64_t cpu_wait_max_turns_;
  uint64_t turns_;
  uint64_t takebacks_;
  /* Slow paths. */
  unsigned waiters_;         /* threads inside a blocking path (atomic) */
  unsigned bypass_;          /* PRIORITY: I/O hand-offs in a row while a CPU
                                waiter waited (under mu_) */
  uint64_t handoff_seq_;     /* PRIORITY: hand-offs made (under mu_) */
  uint64_t turn_seq_;        /* PRIORITY: turns started (under mu_) */
  void *io_head_, *io_tail_; /* PRIORITY: FIFO queues of waiters */
  void *cpu_head_, *cpu_tail_;
  void *resume_;           /* PRIORITY: the interrupted turn's owner */
  void *given_;            /* PRIORITY: the resumed owner handed the lock
                              that may not have claimed it yet (under mu_) */
  uintptr_t claim_tid_;    /* PRIORITY: its thread id until it claims the
                              lock or an I/O waiter takes it back, else 0
                              (atomic) */
  int locked_;             /* FAIR: the "locked" flag (atomic, under mu_) */
  unsigned fair_waiters_;  /* FAIR: threads waiting on cv_ (atomic) */
  uintptr_t last_holder_;  /* FAIR (atomic) */
  uint64_t switch_number_; /* FAIR: ownership changes (under mu_);
                              LEGACY: holders (holder only) */
  sp_mutex_t mu_;
  sp_cond_t cv_;
  sp_mutex_t switch_mu_; /* FAIR: FORCE_SWITCHING */
  sp_cond_t switch_cv_;
  int init_; /* lazy set-up of a zero-filled lock (atomic) */
} sp_gil_t;

/* A free SP_GIL_PRIORITY lock with the default configuration:
 *     static sp_gil_t gil = SP_GIL_INIT; */
#define SP_GIL_INIT                                                            \
  { 0 }

/* Fill *cfg with the defaults of `policy`: LEGACY yield_skip 1; FAIR
 * interval 5 ms; PRIORITY interval 5 ms, yield_skip 100, io_burst 8 (the
 * unused fields get these values too). SP_OK; SP_EINVAL for a NULL cfg or
 * an unknown policy. */
SP_API int sp_gil_config_default(sp_gil_config *cfg, int policy);

/* Make *g a free interpreter lock. cfg NULL means SP_GIL_PRIORITY with its
 * defaults; the config is copied. *g must not be in use (re-initialising a
 * live lock is undefined). SP_OK; SP_EINVAL for a NULL g, an unknown policy,
 * a negative interval_ns or a yield_skip of 0; SP_ESYS/SP_ENOMEM if an
 * internal object cannot be created (*g is then left unusable: SP_EINVAL). */
SP_API int sp_gil_init(sp_gil_t *g, const sp_gil_config *cfg);

/* Destroy *g. SP_OK; SP_EPERM if it is held or a thread is inside a call on
 * it (it stays usable; this includes a releaser that has not returned yet:
 * retry). Must not run concurrently with sp_gil_init(). Once a thread has
 * returned from its last call, *g may be destroyed and its memory freed:
 * no call touches the lock after making it available to another thread. */
SP_API int sp_gil_destroy(sp_gil_t *g);

/* Block until the calling thread holds *g, as an SP_GIL_IO waiter (the
 * same as sp_gil_acquire_ex(g, SP_GIL_IO, SP_FOREVER)). SP_OK; SP_EPERM if
 * the caller already holds it (it would deadlock); SP_ESYS (FAIR only: its
 * condition wait failed): the caller does not hold the lock, and nothing
 * else changed (its drop request is withdrawn if no other waiter wants
 * it). */
SP_API int sp_gil_acquire(sp_gil_t *g);

/* Acquire *g as a waiter of class `cls` (SP_GIL_IO or SP_GIL_CPU), waiting
 * at most timeout_ns (SP_FOREVER: no limit; 0: try once). SP_OK: the caller
 * holds it. SP_BUSY: timeout 0 and the lock is held or waited for (a try
 * never jumps a queue). SP_TIMEDOUT: not acquired within the timeout (never
 * reported before it has passed); the caller has left the queue. SP_EPERM
 * if the caller already holds it; SP_EINVAL for a bad cls or a timeout
 * below -1; SP_ESYS as sp_gil_acquire(). */
SP_API int sp_gil_acquire_ex(sp_gil_t *g, int cls, int64_t timeout_ns);

/* As sp_gil_acquire_ex() with an absolute deadline on sp_now_ns()'s clock
 * (INT64_MAX: no limit; a deadline in the past: try once, SP_BUSY). */
SP_API int sp_gil_acquire_until(sp_gil_t *g, int cls, int64_t deadline_ns);

/* Release *g, held by the caller, handing it to the next thread as the
 * policy says. SP_OK; SP_EPERM when the caller does not hold it. FAIR: may
 * wait until a thread that requested a drop has taken the lock; SP_ESYS if
 * that wait failed (the lock is released all the same). */
SP_API int sp_gil_release(sp_gil_t *g);

/* A check point of the holder: offer the lock to waiting threads as the
 * policy says. May hand the lock over and return once the caller holds it
 * again. SP_OK: the caller holds it. SP_EPERM if the caller does not hold
 * it. SP_ESYS (FAIR only): the lock was dropped and waiting to get it back
 * failed: the caller does NOT hold it then (acquire it again, or check with
 * sp_gil_held()). */
SP_API int sp_gil_yield(sp_gil_t *g);

/* sp_gil_yield(), also saying whether the lock changed hands: *switched
 * (if not NULL) is set to 1 if another thread held the lock during the
 * call, else 0. Same results as sp_gil_yield(). */
SP_API int sp_gil_yield_ex(sp_gil_t *g, int *switched);

/* 1 if the calling thread holds *g, 0 if not, SP_EINVAL. */
SP_API int sp_gil_held(sp_gil_t *g);

/* Copy the statistics of *g into *out. SP_OK; SP_EINVAL for a NULL out.
 * Thread-safe; the counts are exact when no thread uses the lock. For
 * per-interval figures, read and reset (sp_gil_stats_reset). */
SP_API int sp_gil_stats(sp_gil_t *g, struct sp_gil_stats *out);

/* Zero the statistics. The caller must hold *g (the holder is the only
 * writer, so the reset is exact): SP_OK; SP_EPERM if it does not. */
SP_API int sp_gil_stats_reset(sp_gil_t *g);

/* In the child of fork(), before any other call on *g: make the calling
 * (forking) thread the holder and reset everything else (no waiter, no
 * drop request, statistics zero, internal objects re-created); the
 * configuration is kept. SP_OK; SP_EINVAL for a bad g; SP_ESYS/SP_ENOMEM
 * if an internal object cannot be re-created (*g is then unusable). Only
 * for a child process: in the parent it breaks the lock. */
SP_API int sp_gil_after_fork_child(sp_gil_t *g);

/* ---- blocking on the library's objects while holding the GIL ----------
 *
 * An interpreter thread that blocks on a queue, lock, semaphore, event or
 * condition while it holds the GIL stops every other interpreter thread
 * (a convoy), and deadlocks if the thread that would wake it needs the
 * GIL first. The calls below do it the way CPython's acquire_timed does:
 * try the operation without blocking, with the GIL held; if it would
 * block, release the GIL, block (up to the timeout), and take the GIL back
 * before returning, as a waiter of class `cls` (SP_GIL_IO in the thin
 * wrappers). They return the operation's own result (SP_OK, SP_BUSY,
 * SP_TIMEDOUT, ...), always with the GIL held again. Preconditions: the
 * caller holds g (SP_EPERM otherwise, and op is not called); timeout_ns as
 * for the operation.
 *
 * Taking the GIL back cannot fail with PRIORITY and LEGACY (futex waits);
 * with FAIR, if its condition wait fails (SP_ESYS), it tries again,
 * yielding the CPU between attempts, so the operation's result is never
 * lost.
 *
 * Rule for mutexes: never block on an sp_mutex_t while holding the GIL
 * (a thread holding the mutex may be waiting for the GIL): use
 * sp_gil_mutex_lock(), and sp_gil_cond_wait() for its conditions. */

/* A blocking operation: called first with timeout_ns 0 (must not block;
 * SP_BUSY or SP_TIMEDOUT means "would block"), then, without the GIL, with
 * the time left (SP_FOREVER for none). Returns an SP_ result. */
typedef int (*sp_gil_blocking_fn)(void *arg, int64_t timeout_ns);

/* Run op(arg, ...) as above. SP_EINVAL for a NULL op, a bad cls or a
 * timeout below -1. */
SP_API int sp_gil_call_blocking(sp_gil_t *g, int cls, sp_gil_blocking_fn op,
                                void *arg, int64_t timeout_ns);

/* The thin wrappers (class SP_GIL_IO): the same results as the call they
 * wrap, with the GIL held on return. */
SP_API int sp_gil_queue_get(sp_gil_t *g, sp_queue_t *q, void **item,
                            int64_t timeout_ns);
SP_API int sp_gil_queue_put(sp_gil_t *g, sp_queue_t *q, void *item,
                            int64_t timeout_ns);
SP_API int sp_gil_queue_join(sp_gil_t *g, sp_queue_t *q, int64_t timeout_ns);
SP_API int sp_gil_lock_acquire(sp_gil_t *g, sp_lock_t *l, int64_t timeout_ns);
SP_API int sp_gil_rlock_acquire(sp_gil_t *g, sp_rlock_t *r, int64_t timeout_ns);
SP_API int sp_gil_sem_acquire(sp_gil_t *g, sp_sem_t *s, int64_t timeout_ns);
SP_API int sp_gil_event_wait(sp_gil_t *g, sp_event_t *e, int64_t timeout_ns);
SP_API int sp_gil_barrier_wait(sp_gil_t *g, sp_barrier_t *b, int64_t timeout_ns,
                               unsigned *index);
/* Lock *m: try with the GIL held, else release the GIL, lock m, take the
 * GIL back (holding m). SP_OK or sp_mutex_lock()'s errors. */
SP_API int sp_gil_mutex_lock(sp_gil_t *g, sp_mutex_t *m);
/* Wait on *c with *m held (locked with sp_gil_mutex_lock): releases the
 * GIL, waits (releasing m, re-locking it), takes the GIL back. Returns
 * sp_cond_wait()'s result with both held again. */
SP_API int sp_gil_cond_wait(sp_gil_t *g, sp_cond_t *c, sp_mutex_t *m,
                            int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif
