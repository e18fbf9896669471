/* The platform contract (src/platform.h) on POSIX.
 *
 *  - Clock: CLOCK_MONOTONIC.
 *  - Thread id: the kernel thread id (gettid) on Linux, times 4, cached in
 *    a thread-local. Kernel thread ids are below PID_MAX_LIMIT (2^22), so
 *    the value is below 2^24. fork(): the child's forking thread gets a new
 *    kernel id, so a pthread_atfork child handler clears the cache. Other
 *    POSIX systems: a process-wide counter (ids unique among the first 2^30
 *    threads that use the library). With glibc the thread-local uses the
 *    initial-exec TLS model, so reading it is one load from the thread
 *    pointer (no call), also in a library loaded by dlopen (glibc keeps
 *    spare static TLS for that). Elsewhere it uses the compiler's default
 *    model: musl's dynamic loader refuses to dlopen a library with
 *    initial-exec TLS ("initial-exec TLS resolves to dynamic definition"),
 *    and the library is dlopen'd as a Python extension or a plugin; the
 *    linker still relaxes the access to a thread-pointer load when the
 *    library is linked into an executable (tests/test_dlopen.c checks both).
 *  - Waiting on an address: futex(2) on Linux, FUTEX_PRIVATE_FLAG, and for a
 *    deadline FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC time (no
 *    FUTEX_CLOCK_REALTIME), so the deadline is on sp_now_ns_()'s clock.
 *    Other POSIX systems: a table of 64 buckets, each a pthread mutex and
 *    condition (src/unix/platform.c).
 *  - OS mutex and condition (the native condition's internal lock):
 *    pthread_mutex_t, pthread_cond_t on CLOCK_MONOTONIC.
 *  - Per-waiter semaphore: with glibc 2.30+, sem_t, timed waits by
 *    sem_clockwait(CLOCK_MONOTONIC). Elsewhere (musl, which has no
 *    sem_clockwait and whose sem_timedwait measures CLOCK_REALTIME, so
 *    that a wall-clock step would lengthen or shorten a wait) the
 *    wait-on-address semaphore below: a count in a 32-bit word, asleep in
 *    sp_futex_wait_ with the monotonic deadline itself, so a timed wait is
 *    one sleep, not a poll (tests/test_platform.c counts them).
 *  - Timeouts: an absolute time for the OS is clamped to what its time_t
 *    holds (sp_timespec_), so a far deadline on a 32-bit time_t sleeps
 *    until 2038 on the monotonic clock (about 68 years of uptime) instead
 *    of wrapping into the past and spinning.
 *
 * Memory orders. Every function here that hands something from one thread
 * to another says what it orders: the futex calls order nothing (callers
 * re-read the word with the atomic that does, see src/mutex.c); sem_post /
 * sem_wait and pthread's mutex and condition synchronise memory as POSIX
 * says (XBD 4.12); the wait-on-address semaphore's V is a release, its P an
 * acquire. Each function's one-line contract is repeated above it. */
#ifndef SP_UNIX_PLATFORM_IMPL_H_
#define SP_UNIX_PLATFORM_IMPL_H_

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#if defined(__linux__) && !defined(SP_PARKING_LOT_)
#define SP_LINUX_FUTEX_ 1
#include <sys/syscall.h>
#include <unistd.h>
/* The futex(2) ABI's constants (not from <linux/futex.h>: C libraries such
 * as musl do not ship the kernel headers). */
#define SP_FUTEX_WAIT_PRIVATE_        128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG */
#define SP_FUTEX_WAKE_PRIVATE_        129 /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */
#define SP_FUTEX_WAIT_BITSET_PRIVATE_ 137 /* FUTEX_WAIT_BITSET | PRIVATE */
#define SP_FUTEX_BITSET_MATCH_ANY_    0xffffffffu
#endif

#include "syncplus/common.h"

/* ThreadSanitizer does not intercept sem_clockwait, so it cannot see that a
 * sem_post happens before the wait it ends. The semaphore functions below
 * state that edge to it (release on V, acquire on a successful P). (The lock
 * words need no annotation: every hand-over goes through an atomic that
 * TSan sees; the futex calls only sleep and wake.) */
#if defined(__SANITIZE_THREAD__)
#define SP_TSAN_ 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SP_TSAN_ 1
#endif
#endif
#ifdef SP_TSAN_
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define SP_TSAN_ACQUIRE_(p) __tsan_acquire(p)
#define SP_TSAN_RELEASE_(p) __tsan_release(p)
#else
#define SP_TSAN_ACQUIRE_(p) ((void)(p))
#define SP_TSAN_RELEASE_(p) ((void)(p))
#endif

typedef pthread_mutex_t sp_native_mutex_t_;
typedef pthread_cond_t sp_native_cond_t_;

/* Return monotonic time in nanoseconds (never decreases). */
static inline int64_t sp_now_ns_(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * SP_NS_PER_S + ts.tv_nsec;
}

/* The calling thread's id, 0 until its first use (src/unix/platform.c).
 * Initial-exec TLS with glibc only (see the head comment). */
#if defined(__GNUC__) && defined(__ELF__) && defined(__GLIBC__)
#define SP_TLS_MODEL_ __attribute__((tls_model("initial-exec")))
#else
#define SP_TLS_MODEL_
#endif
extern _Thread_local uint32_t sp_thread_id_cache_ SP_TLS_MODEL_;
uintptr_t sp_thread_id_slow_(void);

/* Return the calling thread's id, read from a thread-local cache: nonzero, a
 * multiple of 4 below 2^32, unique among live threads. */
static inline uintptr_t sp_thread_id_(void) {
  uint32_t id = sp_thread_id_cache_;
  if (__builtin_expect(id != 0, 1))
    return id;
  return sp_thread_id_slow_();
}

/* Return sp_thread_id_(), or 0 when the thread has no id cached yet: one
 * load from the thread pointer, no call. */
static inline uint32_t sp_thread_id_fast_(void) {
  return sp_thread_id_cache_;
}

/* Give the CPU to other threads for a moment. */
static inline void sp_cpu_relax_(void) {
  sched_yield();
}

/* The CPU the caller runs on (a hint: it may move at once), -1 if unknown.
 * Linux: sched_getcpu (vDSO or rseq, no system call; declared here, as
 * <sched.h> declares it only under _GNU_SOURCE; glibc and musl have it). */
#if defined(__linux__)
extern int sched_getcpu(void);
#endif
static inline int sp_cpu_id_(void) {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

/* Tell the CPU that the caller is spinning, without leaving it. */
static inline void sp_cpu_pause_(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield" ::: "memory");
#else
  __asm__ __volatile__("" ::: "memory");
#endif
}

/* An absolute time for the OS: the fields of `ns` nanoseconds, clamped so
 * that a far deadline does not overflow a 32-bit time_t (it then waits until
 * 2038-01 on the monotonic clock, i.e. forever for practical purposes). */
static inline struct timespec sp_timespec_(int64_t ns) {
  struct timespec ts;
  if (ns < 0)
    ns = 0;
  int64_t sec = ns / SP_NS_PER_S;
  if (sizeof(time_t) < sizeof(int64_t) && sec > (int64_t)INT32_MAX - 1)
    sec = (int64_t)INT32_MAX - 1;
  ts.tv_sec = (time_t)sec;
  ts.tv_nsec = (long)(ns % SP_NS_PER_S);
  return ts;
}

#ifdef SP_LINUX_FUTEX_
/* futex(2) with the time_t the C library uses (64-bit time on 32-bit
 * systems needs futex_time64). */
static inline long sp_futex_call_(uint32_t *addr, int op, uint32_t val,
                                  const struct timespec *ts, uint32_t val3) {
#ifdef SYS_futex_time64
  if (sizeof(time_t) > sizeof(long))
    return syscall(SYS_futex_time64, addr, op, val, ts, NULL, val3);
#endif
  return syscall(SYS_futex, addr, op, val, ts, NULL, val3);
}

/* Sleep while *addr == expected until woken or sp_now_ns_() >= deadline;
 * SP_OK when woken, when *addr != expected or spuriously, SP_TIMEDOUT only
 * once the deadline has passed. errno is preserved. */
static inline int sp_futex_wait_(uint32_t *addr, uint32_t expected,
                                 int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_SLEEP_))
    return SP_OK; /* an injected spurious wake-up */
  int saved = errno, rc = SP_OK;
  long r;
  if (deadline == SP_NEVER_) {
    r = sp_futex_call_(addr, SP_FUTEX_WAIT_PRIVATE_, expected, NULL, 0);
  } else {
    struct timespec ts = sp_timespec_(deadline);
    r = sp_futex_call_(addr, SP_FUTEX_WAIT_BITSET_PRIVATE_, expected, &ts,
                       SP_FUTEX_BITSET_MATCH_ANY_);
  }
  if (r != 0) {
    if (errno == ETIMEDOUT) {
      if (sp_now_ns_() >= deadline)
        rc = SP_TIMEDOUT;
    } else if (errno != EAGAIN && errno != EINTR) {
      sched_yield(); /* unexpected: a spurious return, but not a hot spin */
    }
  }
  errno = saved;
  return rc;
}

/* Wake one (all == 0) or every thread sleeping in sp_futex_wait_ on addr,
 * reading no memory at addr (the object there may already be freed). */
static inline void sp_futex_wake_(uint32_t *addr, int all) {
  int saved = errno;
  sp_futex_call_(addr, SP_FUTEX_WAKE_PRIVATE_, all ? INT_MAX : 1, NULL, 0);
  errno = saved;
}
#else
/* The same contract on a table of pthread mutexes and conditions
 * (src/unix/platform.c). */
int sp_futex_wait_(uint32_t *addr, uint32_t expected, int64_t deadline);
void sp_futex_wake_(uint32_t *addr, int all);
#endif

/* Make *m an unlocked mutex; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_native_mutex_init_(sp_native_mutex_t_ *m) {
  int e = pthread_mutex_init(m, NULL);
  return e == 0 ? SP_OK : e == ENOMEM ? SP_ENOMEM : SP_ESYS;
}

/* Release the resources of the unlocked mutex *m. */
static inline void sp_native_mutex_destroy_(sp_native_mutex_t_ *m) {
  pthread_mutex_destroy(m);
}

/* Block until the caller holds *m (a normal mutex: cannot fail on a valid
 * one). */
static inline void sp_native_mutex_lock_(sp_native_mutex_t_ *m) {
  pthread_mutex_lock(m);
}

/* Take *m if free; SP_OK, else SP_BUSY. */
static inline int sp_native_mutex_trylock_(sp_native_mutex_t_ *m) {
  return pthread_mutex_trylock(m) == 0 ? SP_OK : SP_BUSY;
}

/* Release *m, which the caller holds. */
static inline void sp_native_mutex_unlock_(sp_native_mutex_t_ *m) {
  pthread_mutex_unlock(m);
}

/* Make *c a condition (waits measured on sp_now_ns_'s clock) with no
 * waiter; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_native_cond_init_(sp_native_cond_t_ *c) {
  pthread_condattr_t a;
  int e = pthread_condattr_init(&a);
  if (e == 0) {
    e = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (e == 0)
      e = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
  }
  return e == 0 ? SP_OK : e == ENOMEM ? SP_ENOMEM : SP_ESYS;
}

/* Release the resources of *c, which has no waiter. */
static inline void sp_native_cond_destroy_(sp_native_cond_t_ *c) {
  pthread_cond_destroy(c);
}

/* Release *m, wait for a wakeup or the deadline, re-acquire *m; SP_OK (also
 * spuriously), SP_TIMEDOUT only once the deadline has passed, or SP_ESYS
 * (fault site SP_FAULT_WAIT_). */
static inline int sp_native_cond_wait_until_(sp_native_cond_t_ *c,
                                             sp_native_mutex_t_ *m,
                                             int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  if (sp_fault_hit_(SP_FAULT_SLEEP_))
    return SP_OK; /* an injected spurious wake-up */
  if (deadline == SP_NEVER_)
    return pthread_cond_wait(c, m) == 0 ? SP_OK : SP_ESYS;
  struct timespec ts = sp_timespec_(deadline);
  int e = pthread_cond_timedwait(c, m, &ts);
  if (e == ETIMEDOUT)
    return sp_now_ns_() >= deadline ? SP_TIMEDOUT : SP_OK;
  return e == 0 ? SP_OK : SP_ESYS;
}

/* Wake at least one waiter of *c, if any. */
static inline void sp_native_cond_signal_(sp_native_cond_t_ *c) {
  pthread_cond_signal(c);
}

/* Wake every waiter of *c. */
static inline void sp_native_cond_broadcast_(sp_native_cond_t_ *c) {
  pthread_cond_broadcast(c);
}

/* ---- the wait-on-address semaphore ------------------------------------
 * A counting semaphore with one waiter, on one 32-bit word: bits 0..30 are
 * the count, bit 31 (SP_WSEMA_SLEEPER_) says "the waiter may be asleep on
 * the word". The per-waiter semaphore where the C library has no
 * sem_clockwait (musl); always compiled, so tests/test_platform.c checks
 * it on every POSIX system.
 *
 *   V: fetch-add 1 (release); if the old value had the sleeper bit, wake
 *      the word.
 *   P: with a unit in the word, CAS it to count - 1 without the sleeper bit
 *      (acquire; the only waiter is not going to sleep). With none, CAS the
 *      bit in (0 -> SLEEPER) and sleep on the word while it equals SLEEPER,
 *      until the deadline; then look again. After a timeout, clear the bit
 *      (fetch-and): if that finds a unit (a post that landed as the wait
 *      timed out), take it and return SP_OK, else SP_TIMEDOUT.
 *
 * No lost wake-up: the waiter sleeps only on SLEEPER (count 0, bit set),
 * which its own CAS wrote. A V after that CAS in the word's modification
 * order reads the bit and wakes the word; if it wakes before the futex call
 * sleeps, the futex finds the word changed (SLEEPER + 1) and returns at
 * once. A V before the CAS makes the CAS fail, and the waiter takes the
 * unit. Nothing but the waiter clears the bit, and only when it is not
 * going to sleep.
 * Ordering: V's release fetch-add is read by P's acquiring CAS (the count
 * it consumes), so what the poster did before V happens before what the
 * waiter does after P, as with sem_post and sem_wait.
 * Lifetime: V's only access to the semaphore is the fetch-add; after it, at
 * most the wake call on the word's address, which reads no memory there
 * (src/platform.h allows it), so the waiter may return and free it at once.
 * Timeouts: the deadline goes to the futex as it is (absolute, on
 * CLOCK_MONOTONIC), so a timed wait is one sleep. The count cannot reach
 * bit 31: a per-waiter semaphore holds at most one post at a time
 * (src/cond_sema.c). */
#define SP_WSEMA_SLEEPER_ 0x80000000u
typedef struct sp_wsema_ {
  uint32_t word;
} sp_wsema_t_;

/* Make *s a wait-on-address semaphore with count 0. */
static inline void sp_wsema_init_(sp_wsema_t_ *s) {
  s->word = 0; /* not yet shared */
}

/* Wait until the count of *s is positive and decrement it (SP_OK), or return
 * SP_TIMEDOUT once sp_now_ns_() >= deadline. */
static inline int sp_wsema_p_(sp_wsema_t_ *s, int64_t deadline) {
  uint32_t v = __atomic_load_n(&s->word, __ATOMIC_RELAXED);
  for (;;) {
    if ((v & ~SP_WSEMA_SLEEPER_) != 0) {
      if (__atomic_compare_exchange_n(&s->word, &v,
                                      (v - 1) & ~SP_WSEMA_SLEEPER_, 0,
                                      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return SP_OK;
      continue; /* v is the word's new value */
    }
    if (v == 0 &&
        !__atomic_compare_exchange_n(&s->word, &v, SP_WSEMA_SLEEPER_, 0,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      continue;
    if (sp_futex_wait_(&s->word, SP_WSEMA_SLEEPER_, deadline) == SP_TIMEDOUT) {
      v = __atomic_fetch_and(&s->word, ~SP_WSEMA_SLEEPER_, __ATOMIC_RELAXED) &
          ~SP_WSEMA_SLEEPER_;
      if (v == 0)
        return SP_TIMEDOUT;
      continue; /* a post landed as the wait timed out: take it */
    }
    v = __atomic_load_n(&s->word, __ATOMIC_RELAXED);
  }
}

/* Increment the count of *s, waking its waiter; after the fetch-add only the
 * wake call on the word's address. */
static inline void sp_wsema_v_(sp_wsema_t_ *s) {
  if (__atomic_fetch_add(&s->word, 1u, __ATOMIC_RELEASE) & SP_WSEMA_SLEEPER_)
    sp_futex_wake_(&s->word, 0);
}

/* ---- the per-waiter semaphore of the contract ---------------------------
 * sem_t where the C library has sem_clockwait (glibc 2.30+), else the
 * wait-on-address semaphore. SP_SEMA_WAIT_ON_ADDRESS_ forces the latter. */
#if !defined(SP_SEMA_WAIT_ON_ADDRESS_) && defined(__GLIBC__) &&                \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
#define SP_SEMA_POSIX_ 1
typedef sem_t sp_sema_t_;

/* Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM (fault site
 * SP_FAULT_SEMA_INIT_). */
static inline int sp_sema_init_(sp_sema_t_ *s) {
  if (sp_fault_hit_(SP_FAULT_SEMA_INIT_))
    return SP_ESYS;
  return sem_init(s, 0, 0) == 0 ? SP_OK : SP_ESYS;
}

/* Release *s, whose count is 0 and which no thread uses. */
static inline void sp_sema_destroy_(sp_sema_t_ *s) {
  sem_destroy(s);
}

/* Wait until the count of *s is positive and decrement it (SP_OK), or return
 * SP_TIMEDOUT once sp_now_ns_() >= deadline, or SP_ESYS (fault site
 * SP_FAULT_WAIT_). EINTR is retried; the deadline is on CLOCK_MONOTONIC
 * (sem_clockwait), so a timed wait is one sleep. Each wait call is fault
 * site SP_FAULT_SLEEP_ (a failing one returns EINTR without waiting). */
static inline int sp_sema_p_(sp_sema_t_ *s, int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  int saved = errno;
  for (;;) {
    int r;
    if (sp_fault_hit_(SP_FAULT_SLEEP_)) {
      r = -1; /* an injected spurious wake-up, as a signal would make */
      errno = EINTR;
    } else if (deadline == SP_NEVER_) {
      r = sem_wait(s);
    } else {
      struct timespec ts = sp_timespec_(deadline);
      r = sem_clockwait(s, CLOCK_MONOTONIC, &ts);
    }
    if (r == 0) {
      SP_TSAN_ACQUIRE_(s);
      errno = saved;
      return SP_OK;
    }
    if (errno == EINTR)
      continue;
    if (errno == ETIMEDOUT) {
      if (sp_now_ns_() >= deadline) {
        errno = saved;
        return SP_TIMEDOUT;
      }
      continue;
    }
    errno = saved;
    return SP_ESYS;
  }
}

/* Increment the count of *s, waking its waiter, touching *s no more once the
 * waiter can return (glibc's sem_post reads nothing after the atomic that
 * makes the post visible, except for the futex wake: glibc bug 12674). */
static inline void sp_sema_v_(sp_sema_t_ *s) {
  SP_TSAN_RELEASE_(s);
  sem_post(s);
}
#else
typedef sp_wsema_t_ sp_sema_t_;

/* Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM (fault site
 * SP_FAULT_SEMA_INIT_). */
static inline int sp_sema_init_(sp_sema_t_ *s) {
  if (sp_fault_hit_(SP_FAULT_SEMA_INIT_))
    return SP_ESYS;
  sp_wsema_init_(s);
  return SP_OK;
}

/* Release *s, whose count is 0 and which no thread uses. (Nothing to do.) */
static inline void sp_sema_destroy_(sp_sema_t_ *s) {
  (void)s;
}

/* Wait until the count of *s is positive and decrement it (SP_OK), or return
 * SP_TIMEDOUT once sp_now_ns_() >= deadline. It cannot fail, but the fault
 * site SP_FAULT_WAIT_ makes it return SP_ESYS as sem_wait's version can, so
 * the callers' error paths are tested on every C library. */
static inline int sp_sema_p_(sp_sema_t_ *s, int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  return sp_wsema_p_(s, deadline);
}

/* Increment the count of *s, waking its waiter, touching *s no more once the
 * waiter can return. */
static inline void sp_sema_v_(sp_sema_t_ *s) {
  sp_wsema_v_(s);
}
#endif

#endif
