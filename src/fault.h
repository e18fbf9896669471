/* The fault-injection seam: a named site at each place in the library where
 * the OS or the allocator can refuse, so that tests can make the k-th call at
 * that site fail and check that the error reaches the caller and that nothing
 * is lost or left locked (the model is SQLite's mutex methods table: a seam
 * in the library itself, not a patched copy of the source).
 *
 * The library calls sp_fault_hit_(site) just before the real call at a site;
 * when it returns 1 the site fails as the OS would (SP_ESYS, or SP_ENOMEM /
 * NULL for the allocator) without making the real call. Sites are only on
 * slow or set-up paths (a wait's semaphore, an object's OS set-up, the
 * queue's growth), never on an uncontended fast path; while no test has
 * armed the seam, a site costs one relaxed load and a predicted branch.
 *
 * The test API (sp_fault_set_, ...) is compiled into every library with
 * hidden visibility, so the shared library does not export it; the test
 * suite links the static per-backend libraries and includes this header as
 * "../src/fault.h" (or through src/test_hooks.h). It is process-global and
 * thread-safe: counts are atomic, and the call that fails is exactly the
 * k-th in the order the calls reach the site's counter. */
#ifndef SP_FAULT_H_
#define SP_FAULT_H_

/* The sites. Add new ones before SP_FAULT_NSITES_ and document them here. */
enum sp_fault_site_ {
  /* sp_sema_init_ (src/unix, src/win platform_impl.h): the per-waiter
   * semaphore of an emulated condition wait (sem, win32-sem); fails with
   * SP_ESYS. */
  SP_FAULT_SEMA_INIT_ = 0,
  /* The OS set-up of a native condition (its internal pthread_mutex_t and
   * pthread_cond_t, src/cond_native.c) by sp_cond_init; fails with
   * SP_ESYS. */
  SP_FAULT_COND_INIT_ = 1,
  /* The race-free first-use set-up of a zero-filled ("statically
   * initialised") object, sp_lazy_init_slow_ in src/lazy.c; fails with
   * SP_ESYS, leaving the object not yet set up (the next call tries
   * again). */
  SP_FAULT_LAZY_INIT_ = 2,
  /* Memory allocation (the queue's ring buffer, src/queue.c); fails as
   * realloc does, returning NULL (SP_ENOMEM to the caller). */
  SP_FAULT_ALLOC_ = 3,
  /* An OS wait that has begun: sp_sema_p_ (sem_wait, sem_clockwait,
   * WaitForSingleObject: the per-waiter semaphore of an emulated condition
   * wait and of a GIL wait) and sp_native_cond_wait_until_ (the native
   * condition's pthread_cond_wait/timedwait, SleepConditionVariableSRW).
   * The call fails with SP_ESYS at once, without waiting, as those calls
   * do when the OS refuses. (A persistent failure here is not meaningful:
   * a waiter whose post is on its way must keep waiting for it, see
   * src/cond_sema.c; arm it with sp_fault_set_ only.) */
  SP_FAULT_WAIT_ = 4,
  /* Every OS call that puts a thread to sleep in the platform layer
   * (src/unix, src/win platform_impl.h): sp_futex_wait_'s futex or
   * WaitOnAddress call, each semaphore wait of sp_sema_p_'s loop (sem_wait,
   * sem_clockwait, the wait-on-address semaphore's futex wait,
   * WaitForSingleObject), and sp_native_cond_wait_until_'s condition wait.
   * Armed with k = 0 it counts sleeps, so a test can bound in events how
   * often a wait goes to sleep (a wait that polls or spins shows up as
   * many). A failing call does not sleep and returns as a spurious wake-up
   * does (sp_futex_wait_ and the condition wait: SP_OK; sp_sema_p_ goes
   * round its loop), which every caller must tolerate. Fail single calls
   * (sp_fault_set_): with sp_fault_set_from_ every wait would spin. */
  SP_FAULT_SLEEP_ = 5,
  SP_FAULT_NSITES_ = 6
};

/* Library side: 1 if this call at `site` must fail (the seam is armed and
 * this is a failing call), else 0. Counts the call while armed. */
int sp_fault_hit_slow_(int site);
extern int sp_fault_armed_; /* nonzero while any test armed the seam */
static inline int sp_fault_hit_(int site) {
  if (__builtin_expect(__atomic_load_n(&sp_fault_armed_, __ATOMIC_RELAXED), 0))
    return sp_fault_hit_slow_(site);
  return 0;
}

/* ---- test API ------------------------------------------------------------
 * Arm `site`: its calls are counted from 1 again, and the k-th call from now
 * fails (once; k >= 1). k == 0 arms counting only (no call fails), so a test
 * can run a scenario once, read the number of calls with sp_fault_count_,
 * and then fail each of them in turn: "for every k along a scenario". */
void sp_fault_set_(int site, long k);

/* Arm `site` so that the k-th call from now and every later one fail
 * (k >= 1), e.g. "the allocator has run out". */
void sp_fault_set_from_(int site, long k);

/* The number of calls made at `site` since it was last armed (0 if it is
 * not armed). */
long sp_fault_count_(int site);

/* Disarm every site: no call fails and nothing is counted (the default). */
void sp_fault_clear_(void);

#endif
