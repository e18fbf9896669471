/* The platform contract (src/platform.h) on POSIX: pthread mutex and
 * condition, sem_t semaphores, CLOCK_MONOTONIC. Each function's one-line
 * contract is repeated above it. */
#ifndef SP_UNIX_PLATFORM_IMPL_H_
#define SP_UNIX_PLATFORM_IMPL_H_

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "syncplus/common.h"

/* ThreadSanitizer does not intercept sem_clockwait, so it cannot see that a
 * sem_post happens before the wait it ends. The semaphore functions below
 * state that edge to it (release on V, acquire on a successful P). */
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

/* Return a nonzero id unique to the calling thread among live threads. */
static inline uintptr_t sp_thread_id_(void) {
  return (uintptr_t)pthread_self();
}

/* Give the CPU to other threads for a moment. */
static inline void sp_cpu_relax_(void) {
  sched_yield();
}

static inline struct timespec sp_timespec_(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / SP_NS_PER_S);
  ts.tv_nsec = (long)(ns % SP_NS_PER_S);
  return ts;
}

/* Make *m an unlocked mutex; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_native_mutex_init_(sp_native_mutex_t_ *m) {
  int e = pthread_mutex_init(m, NULL);
  return e == 0 ? SP_OK : e == ENOMEM ? SP_ENOMEM : SP_ESYS;
}

/* Release the resources of the unlocked mutex *m. */
static inline void sp_native_mutex_destroy_(sp_native_mutex_t_ *m) {
  pthread_mutex_destroy(m);
}

/* Block until the caller holds *m; SP_OK or SP_ESYS. */
static inline int sp_native_mutex_lock_(sp_native_mutex_t_ *m) {
  return pthread_mutex_lock(m) == 0 ? SP_OK : SP_ESYS;
}

/* Take *m if free; SP_OK, else SP_BUSY. */
static inline int sp_native_mutex_trylock_(sp_native_mutex_t_ *m) {
  return pthread_mutex_trylock(m) == 0 ? SP_OK : SP_BUSY;
}

/* Release *m, which the caller holds. */
static inline void sp_native_mutex_unlock_(sp_native_mutex_t_ *m) {
  pthread_mutex_unlock(m);
}

/* Make *c a condition with no waiter; SP_OK or SP_ESYS/SP_ENOMEM. */
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

/* Release *m, wait for a wakeup or the deadline, re-acquire *m; SP_OK,
 * SP_TIMEDOUT (only once the deadline has passed) or SP_ESYS. May return
 * SP_OK spuriously. */
static inline int sp_native_cond_wait_until_(sp_native_cond_t_ *c,
                                             sp_native_mutex_t_ *m,
                                             int64_t deadline) {
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

/* Make *s a semaphore with count 0; SP_OK or SP_ESYS/SP_ENOMEM. */
static inline int sp_sema_init_(sp_sema_t_ *s) {
  return sem_init(s, 0, 0) == 0 ? SP_OK : SP_ESYS;
}

/* Release *s, whose count is 0 and which no thread uses. */
static inline void sp_sema_destroy_(sp_sema_t_ *s) {
  sem_destroy(s);
}

/* Wait until the count of *s is positive and decrement it (SP_OK), or return
 * SP_TIMEDOUT once sp_now_ns_() >= deadline, or SP_ESYS. EINTR is retried;
 * the deadline is on CLOCK_MONOTONIC (sem_clockwait, glibc 2.30+; elsewhere
 * short sem_timedwait slices re-checked against the monotonic clock). */
static inline int sp_sema_p_(sp_sema_t_ *s, int64_t deadline) {
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
      return SP_OK;
    }
    if (errno == EINTR)
      continue;
    if (errno == ETIMEDOUT) {
      if (sp_now_ns_() >= deadline)
        return SP_TIMEDOUT;
      continue;
    }
    return SP_ESYS;
  }
}

/* Increment the count of *s, waking its waiter. */
static inline void sp_sema_v_(sp_sema_t_ *s) {
  SP_TSAN_RELEASE_(s);
  sem_post(s);
}

#endif
