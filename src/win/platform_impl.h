/* The platform contract (src/platform.h) on Win32: WaitOnAddress and
 * WakeByAddressSingle/All as the wait on an address, GetCurrentThreadId as
 * the thread id, SRWLOCK (exclusive) and CONDITION_VARIABLE as the native
 * condition's internal lock and condition, Win32 semaphores (cached one per
 * thread) as the per-waiter semaphore, QueryPerformanceCounter as the
 * monotonic clock. Needs Windows 8 or later (_WIN32_WINNT 0x0602:
 * WaitOnAddress; link synchronization, i.e. api-ms-win-core-synch-l1-2-0),
 * see docs/windows.md. Each function's one-line contract is repeated above
 * it.
 *
 * Timeouts. Win32 waits take whole milliseconds (DWORD, INFINITE reserved)
 * and may return up to a timer tick early (condition waits are known to wake
 * about half a millisecond early). So every timed wait here converts the
 * time left until the deadline to milliseconds rounding UP, caps one wait at
 * SP_WIN_MAX_WAIT_MS_ (far-future deadlines become several waits), and
 * re-reads sp_now_ns_() after a timeout: SP_TIMEDOUT is returned only once
 * sp_now_ns_() >= deadline. An early semaphore timeout simply waits again
 * (the count keeps any post); an early condition timeout returns SP_OK, a
 * spurious wakeup the contract allows, because waiting again without the
 * caller re-checking its predicate could sleep through a signal sent while
 * this thread was re-acquiring the mutex. */
#ifndef SP_WIN_PLATFORM_IMPL_H_
#define SP_WIN_PLATFORM_IMPL_H_

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif
#if _WIN32_WINNT < 0x0602
#error "the win32 backends need _WIN32_WINNT >= 0x0602 (Windows 8)"
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdint.h>

#include "syncplus/common.h"

typedef SRWLOCK sp_native_mutex_t_;
typedef CONDITION_VARIABLE sp_native_cond_t_;
/* The semaphore handle a waiter took from its thread's cache (or created). */
typedef struct sp_sema_ {
  HANDLE h;
} sp_sema_t_;

/* The longest single Win32 wait for a finite deadline (about 24.8 days);
 * well below INFINITE (0xFFFFFFFF), which would mean "no limit". */
#define SP_WIN_MAX_WAIT_MS_ ((DWORD)0x7FFFFFFF)

/* QueryPerformanceFrequency, read once (it is fixed at boot). Each
 * translation unit has its own cache; all compute the same value. */
static inline int64_t sp_win_qpc_freq_(void) {
  static int64_t freq; /* 0 until read (atomic) */
  int64_t f = __atomic_load_n(&freq, __ATOMIC_RELAXED);
  if (f == 0) {
    LARGE_INTEGER li;
    QueryPerformanceFrequency(&li); /* cannot fail on XP and later */
    f = (int64_t)li.QuadPart;
    __atomic_store_n(&freq, f, __ATOMIC_RELAXED);
  }
  return f;
}

/* Return monotonic time in nanoseconds (never decreases). The counter is
 * split into whole seconds and a remainder so that nothing overflows:
 * (c % f) * 1e9 < f * 1e9 fits in int64_t for any f below 9.2 GHz (in
 * practice f is 10 MHz, or the TSC rate on older systems). */
static inline int64_t sp_now_ns_(void) {
  LARGE_INTEGER li;
  QueryPerformanceCounter(&li);
  int64_t c = (int64_t)li.QuadPart, f = sp_win_qpc_freq_();
  return (c / f) * SP_NS_PER_S + (c % f) * SP_NS_PER_S / f;
}

/* Return the calling thread's id, read from a thread-local cache: nonzero, a
 * multiple of 4 below 2^32, unique among live threads. The cache is the
 * thread's own TEB, which GetCurrentThreadId reads (no system call). Windows
 * thread ids are nonzero multiples of 4 (they index the kernel's client-id
 * handle table; wine allocates them the same way), unique among live
 * threads and processes; tests/test_win_platform.c checks the multiple of 4.
 * An id that were not one would be scaled by 4 to keep the two low bits
 * free for the lock word's flags. */
static inline uintptr_t sp_thread_id_(void) {
  uint32_t id = (uint32_t)GetCurrentThreadId();
  return __builtin_expect((id & 3) == 0, 1) ? id : (uint32_t)(id << 2);
}

/* Return sp_thread_id_() (never 0 here: the id needs no cache). */
static inline uint32_t sp_thread_id_fast_(void) {
  return (uint32_t)sp_thread_id_();
}

/* Give the CPU to other threads for a moment. */
static inline void sp_cpu_relax_(void) {
  SwitchToThread();
}

/* The CPU the caller runs on (a hint: it may move at once). */
static inline int sp_cpu_id_(void) {
  return (int)GetCurrentProcessorNumber();
}

/* Tell the CPU that the caller is spinning, without leaving it. */
static inline void sp_cpu_pause_(void) {
  YieldProcessor();
}

/* The milliseconds of one Win32 wait for `left_ns` nanoseconds: rounded up,
 * 0 if none are left (poll once), at most SP_WIN_MAX_WAIT_MS_. */
static inline DWORD sp_win_ms_(int64_t left_ns) {
  if (left_ns <= 0)
    return 0;
  if (left_ns > (int64_t)SP_WIN_MAX_WAIT_MS_ * SP_NS_PER_MS)
    return SP_WIN_MAX_WAIT_MS_;
  return (DWORD)((left_ns - 1) / SP_NS_PER_MS + 1);
}

/* The milliseconds of one Win32 wait for `deadline` (not SP_NEVER_; any
 * value, a negative one too: sp_mutex_timedlock_until takes the caller's). */
static inline DWORD sp_win_wait_ms_(int64_t deadline) {
  int64_t now = sp_now_ns_();
  return deadline <= now ? 0 : sp_win_ms_(deadline - now);
}

/* Sleep while *addr == expected until woken or sp_now_ns_() >= deadline;
 * SP_OK when woken, when *addr != expected or spuriously, SP_TIMEDOUT only
 * once the deadline has passed. WaitOnAddress takes rounded-up milliseconds
 * and may return early: an early timeout is reported as a spurious SP_OK
 * (the caller re-checks and waits again with the same deadline). */
static inline int sp_futex_wait_(uint32_t *addr, uint32_t expected,
                                 int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_SLEEP_))
    return SP_OK; /* an injected spurious wake-up */
  DWORD ms = deadline == SP_NEVER_ ? INFINITE : sp_win_wait_ms_(deadline);
  DWORD saved = GetLastError();
  int rc = SP_OK;
  if (!WaitOnAddress((volatile VOID *)addr, &expected, sizeof expected, ms) &&
      GetLastError() == ERROR_TIMEOUT && deadline != SP_NEVER_ &&
      sp_now_ns_() >= deadline)
    rc = SP_TIMEDOUT;
  SetLastError(saved);
  return rc;
}

/* Wake one (all == 0) or every thread sleeping in sp_futex_wait_ on addr,
 * reading no memory at addr (the object there may already be freed). */
static inline void sp_futex_wake_(uint32_t *addr, int all) {
  if (all)
    WakeByAddressAll((PVOID)addr);
  else
    WakeByAddressSingle((PVOID)addr);
}

/* Make *m an unlocked mutex; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_native_mutex_init_(sp_native_mutex_t_ *m) {
  InitializeSRWLock(m);
  return SP_OK;
}

/* Release the resources of the unlocked mutex *m. (An SRWLOCK has none.) */
static inline void sp_native_mutex_destroy_(sp_native_mutex_t_ *m) {
  (void)m;
}

/* Block until the caller holds *m (cannot fail on a valid mutex). */
static inline void sp_native_mutex_lock_(sp_native_mutex_t_ *m) {
  AcquireSRWLockExclusive(m);
}

/* Take *m if free; SP_OK, else SP_BUSY. */
static inline int sp_native_mutex_trylock_(sp_native_mutex_t_ *m) {
  return TryAcquireSRWLockExclusive(m) ? SP_OK : SP_BUSY;
}

/* Release *m, which the caller holds. */
static inline void sp_native_mutex_unlock_(sp_native_mutex_t_ *m) {
  ReleaseSRWLockExclusive(m);
}

/* Make *c a condition (waits measured on sp_now_ns_'s clock) with no
 * waiter; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_native_cond_init_(sp_native_cond_t_ *c) {
  InitializeConditionVariable(c);
  return SP_OK;
}

/* Release the resources of *c, which has no waiter. (It has none.) */
static inline void sp_native_cond_destroy_(sp_native_cond_t_ *c) {
  (void)c;
}

/* Release *m, wait for a wakeup or the deadline, re-acquire *m; SP_OK (also
 * spuriously), SP_TIMEDOUT only once the deadline has passed, or SP_ESYS.
 * It returns SP_OK spuriously when Windows reports a timeout before the
 * deadline (early wakeup, or a wait capped at SP_WIN_MAX_WAIT_MS_), so that
 * the caller re-checks its predicate before waiting again. Fault site
 * SP_FAULT_WAIT_. */
static inline int sp_native_cond_wait_until_(sp_native_cond_t_ *c,
                                             sp_native_mutex_t_ *m,
                                             int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  if (sp_fault_hit_(SP_FAULT_SLEEP_))
    return SP_OK; /* an injected spurious wake-up */
  DWORD ms = deadline == SP_NEVER_ ? INFINITE : sp_win_wait_ms_(deadline);
  if (SleepConditionVariableSRW(c, m, ms, 0))
    return SP_OK;
  if (GetLastError() != ERROR_TIMEOUT)
    return SP_ESYS;
  return deadline != SP_NEVER_ && sp_now_ns_() >= deadline ? SP_TIMEDOUT
                                                           : SP_OK;
}

/* Wake at least one waiter of *c, if any. */
static inline void sp_native_cond_signal_(sp_native_cond_t_ *c) {
  WakeConditionVariable(c);
}

/* Wake every waiter of *c. */
static inline void sp_native_cond_broadcast_(sp_native_cond_t_ *c) {
  WakeAllConditionVariable(c);
}

/* Per-thread semaphore cache. src/cond_sema.c makes a semaphore for every
 * wait and destroy it before the wait returns, and a
 * thread is in at most one wait at a time. Instead of CreateSemaphore and
 * CloseHandle per wait, each thread keeps one idle semaphore (count 0) in a
 * fiber-local storage slot:
 * sp_sema_init_ takes it (or creates one when the slot is empty),
 * sp_sema_destroy_ puts it back (or closes it when the slot is full).
 *
 * Cleanup: the slot's callback, which Windows runs when a thread (fiber)
 * exits with a non-NULL value in the slot, is CloseHandle itself. Its
 * signature matches PFLS_CALLBACK_FUNCTION on the ABI level (WINAPI, one
 * pointer-sized argument; the BOOL result is ignored), and unlike a callback
 * of our own it stays valid if a syncplus DLL is unloaded while threads
 * that waited are still running. The slot is never freed (one of the
 * process's ~4000 FLS slots per loaded copy of the library). Without a slot
 * (FlsAlloc failed), semaphores are created and closed per wait.
 *
 * The slot index lives in a function-local static: one slot (and one cached
 * semaphore per thread) per translation unit that uses the semaphore
 * (src/cond_sema.c). A semaphore may be destroyed by another
 * thread than the one that made it: handles are process-wide, it simply
 * joins the destroyer's cache. */
static inline DWORD sp_win_sema_slot_(void) {
  static DWORD slot_plus_1; /* 0: not allocated yet (atomic) */
  DWORD s = __atomic_load_n(&slot_plus_1, __ATOMIC_ACQUIRE);
  if (s != 0)
    return s - 1;
  DWORD idx = FlsAlloc((PFLS_CALLBACK_FUNCTION)(void (*)(void))CloseHandle);
  if (idx == FLS_OUT_OF_INDEXES)
    return FLS_OUT_OF_INDEXES; /* try again on the next wait */
  DWORD expected = 0;
  if (__atomic_compare_exchange_n(&slot_plus_1, &expected, idx + 1, 0,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return idx;
  FlsFree(idx); /* another thread won the race; use its slot */
  return expected - 1;
}

/* Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM (fault site
 * SP_FAULT_SEMA_INIT_). */
static inline int sp_sema_init_(sp_sema_t_ *s) {
  if (sp_fault_hit_(SP_FAULT_SEMA_INIT_))
    return SP_ESYS;
  DWORD slot = sp_win_sema_slot_();
  if (slot != FLS_OUT_OF_INDEXES) {
    HANDLE h = (HANDLE)FlsGetValue(slot);
    if (h != NULL) {
      FlsSetValue(slot, NULL);
      s->h = h;
      return SP_OK;
    }
  }
  s->h = CreateSemaphoreW(NULL, 0, 0x7FFFFFFF, NULL);
  if (s->h != NULL)
    return SP_OK;
  return GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? SP_ENOMEM : SP_ESYS;
}

/* Release *s, whose count is 0 and which no thread uses: back to the
 * calling thread's cache if that is empty, else closed. */
static inline void sp_sema_destroy_(sp_sema_t_ *s) {
  DWORD slot = sp_win_sema_slot_();
  if (slot != FLS_OUT_OF_INDEXES && FlsGetValue(slot) == NULL &&
      FlsSetValue(slot, s->h))
    return;
  CloseHandle(s->h);
}

/* Wait until the count of *s is positive and decrement it (SP_OK), or return
 * SP_TIMEDOUT once sp_now_ns_() >= deadline, or SP_ESYS (fault site
 * SP_FAULT_WAIT_). Waits of rounded-up milliseconds are repeated until the
 * deadline has really passed. Each wait call is fault site SP_FAULT_SLEEP_
 * (a failing one returns as an early timeout, without waiting). */
static inline int sp_sema_p_(sp_sema_t_ *s, int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  for (;;) {
    DWORD ms = deadline == SP_NEVER_ ? INFINITE : sp_win_wait_ms_(deadline);
    DWORD r = sp_fault_hit_(SP_FAULT_SLEEP_) ? WAIT_TIMEOUT /* injected */
                                             : WaitForSingleObject(s->h, ms);
    if (r == WAIT_OBJECT_0)
      return SP_OK;
    if (r != WAIT_TIMEOUT)
      return SP_ESYS;
    if (deadline != SP_NEVER_ && sp_now_ns_() >= deadline)
      return SP_TIMEDOUT;
  }
}

/* Increment the count of *s, waking its waiter, touching *s no more once the
 * waiter can return (the handle is read before the call; the kernel keeps
 * the semaphore alive for the call's duration). */
static inline void sp_sema_v_(sp_sema_t_ *s) {
  ReleaseSemaphore(s->h, 1, NULL);
}

#endif
