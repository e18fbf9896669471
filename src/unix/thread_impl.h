/* The thread contract (src/thread.c) on POSIX: pthreads, clock_nanosleep
 * on CLOCK_MONOTONIC (sp_now_ns_()'s clock) with an absolute deadline, so
 * that a signal handler that interrupts the sleep (EINTR) does not shorten
 * or lengthen it, and a C11 thread-local block. Each function's one-line
 * contract is repeated above it. */
#ifndef SP_UNIX_THREAD_IMPL_H_
#define SP_UNIX_THREAD_IMPL_H_

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

typedef pthread_t sp_os_thread_t_;

/* Start a joinable thread running fn(arg) into *h, with the default stack
 * if stack is 0, else one of at least stack bytes (rounded up to
 * PTHREAD_STACK_MIN and whole pages); SP_OK, SP_ENOMEM or SP_ESYS. */
static inline int sp_os_thread_start_(sp_os_thread_t_ *h, void *(*fn)(void *),
                                      void *arg, size_t stack) {
  pthread_attr_t attr, *ap = NULL;
  if (stack != 0) {
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096;
    if (stack < (size_t)PTHREAD_STACK_MIN)
      stack = (size_t)PTHREAD_STACK_MIN;
    if (stack > SIZE_MAX - pg)
      return SP_ENOMEM;
    stack = (stack + pg - 1) / pg * pg;
    if (pthread_attr_init(&attr) != 0)
      return SP_ENOMEM;
    ap = &attr;
    if (pthread_attr_setstacksize(&attr, stack) != 0) {
      pthread_attr_destroy(&attr);
      return SP_ESYS;
    }
  }
  int e = pthread_create(h, ap, fn, arg);
  if (ap != NULL)
    pthread_attr_destroy(ap);
  return e == 0 ? SP_OK : e == ENOMEM ? SP_ENOMEM : SP_ESYS;
}

/* Wait for the thread *h to end, store fn's result in *result and release
 * the thread; SP_OK or SP_ESYS (the thread is then still joinable). */
static inline int sp_os_thread_join_(sp_os_thread_t_ *h, void **result) {
  return pthread_join(*h, result) == 0 ? SP_OK : SP_ESYS;
}

/* Release the thread *h when it ends; SP_OK or SP_ESYS. */
static inline int sp_os_thread_detach_(sp_os_thread_t_ *h) {
  return pthread_detach(*h) == 0 ? SP_OK : SP_ESYS;
}

/* 1 if *h is the calling thread, else 0. */
static inline int sp_os_thread_is_self_(sp_os_thread_t_ *h) {
  return pthread_equal(*h, pthread_self()) != 0;
}

/* Sleep until sp_now_ns_() >= deadline. */
static inline void sp_os_sleep_until_(int64_t deadline) {
  for (;;) {
    int64_t now = sp_now_ns_();
    if (now >= deadline)
      return;
#if defined(__APPLE__)
    struct timespec rel = sp_timespec_(deadline - now);
    nanosleep(&rel, NULL);
#else
    struct timespec ts = sp_timespec_(deadline);
    int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    if (e != 0 && e != EINTR) { /* unexpected: sleep the relative time */
      struct timespec rel = sp_timespec_(deadline - now);
      nanosleep(&rel, NULL);
    }
#endif
  }
}

/* The calling thread's block of SP_THREAD_LOCAL_BYTES_ zero-initialised
 * bytes, living as long as the thread; NULL if it cannot be had. (Default
 * TLS model: a shared library may be dlopen()ed; a static link relaxes it.)
 * Only src/rwlock.c uses it, so there is one block per thread. */
#define SP_THREAD_LOCAL_BYTES_ 128
static inline void *sp_os_thread_local_(void) {
  static _Thread_local union {
    unsigned char b[SP_THREAD_LOCAL_BYTES_];
    void *p;
    long long ll;
  } block;
  return &block;
}

#endif
