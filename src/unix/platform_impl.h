/* The platform contract (src/platform.h) on POSIX.
 *
 *  - Clock: CLOCK_MONOTONIC.
 *  - Thread id: the kernel thread id (gettid) on Linux, times 4, cached in
 *    an initial-exec thread-local, so reading it is one load from the thread
 *    pointer (no call, no PLT). Kernel thread ids are below PID_MAX_LIMIT
 *    (2^22), so the value is below 2^24. fork(): the child's forking thread
 *    gets a new kernel id, so a pthread_atfork child handler clears the
 *    cache. Other POSIX systems: a process-wide counter (ids unique among
 *    the first 2^30 threads that use the library).
 *  - Waiting on an address: futex(2) on Linux, FUTEX_PRIVATE_FLAG, and for a
 *    deadline FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC time (no
 *    FUTEX_CLOCK_REALTIME), so the deadline is on sp_now_ns_()'s clock.
 *    Other POSIX systems: a table of 64 buckets, each a pthread mutex and
 *    condition (src/unix/platform.c).
 *  - OS mutex and condition (the native condition's internal lock):
 *    pthread_mutex_t, pthread_cond_t on CLOCK_MONOTONIC.
 *  - Per-waiter semaphore: sem_t, with sem_clockwait(CLOCK_MONOTONIC).
 * Each function's one-line contract is repeated above it. */
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
typedef sem_t sp_sema_t_;

/* Return monotonic time in nanoseconds (never decreases). */
static inline int64_t sp_now_ns_(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * SP_NS_PER_S + ts.tv_nsec;
}

/* The calling thread's id, 0 until its first use (src/unix/platform.c). */
#if defined(__GNUC__) && defined(__ELF__)
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
 * SP_FAULT_WAIT_). EINTR is retried;
 * the deadline is on CLOCK_MONOTONIC (sem_clockwait, glibc 2.30+; elsewhere
 * short sem_timedwait slices re-checked against the monotonic clock). */
static inline int sp_sema_p_(sp_sema_t_ *s, int64_t deadline) {
  if (sp_fault_hit_(SP_FAULT_WAIT_))
    return SP_ESYS;
  int saved = errno;
  for (;;) {
    int r;
    if (deadline == SP_NEVER_) {
      r = sem_wait(s);
    } else {
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
      struct timespec ts = sp_timespec_(deadline);
      r = sem_clockwait(s, CLOCK_MONOTONIC, &ts);
#else
      int64_t now = sp_now_ns_(), slice = deadline - now;
      if (slice > 10 * SP_NS_PER_MS)
        slice = 10 * SP_NS_PER_MS;
      struct timespec rt;
      clock_gettime(CLOCK_REALTIME, &rt);
      int64_t abs = (int64_t)rt.tv_sec * SP_NS_PER_S + rt.tv_nsec +
                    (slice > 0 ? slice : 0);
      struct timespec ts = sp_timespec_(abs);
      r = sem_timedwait(s, &ts);
#endif
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
 * waiter can return (glibc's and musl's sem_post read nothing after the
 * atomic that makes the post visible, except for the futex wake: glibc bug
 * 12674). */
static inline void sp_sema_v_(sp_sema_t_ *s) {
  SP_TSAN_RELEASE_(s);
  sem_post(s);
}

#endif
