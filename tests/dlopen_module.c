/* A plugin that links the static library, as a Python extension module or
 * any plugin would: loaded with dlopen() by tests/test_dlopen.c. Its calls
 * read the thread id the library caches in a thread-local (the lock words
 * hold it), so loading it and running it on threads that existed before it
 * was loaded checks that the C library's dynamic loader accepts the
 * library's TLS (musl refuses initial-exec TLS in a dlopen'd object). */
#include "internal.h"

#define SPDL_EXPORT __attribute__((visibility("default")))

static sp_mutex_t mu = SP_MUTEX_INIT;
static sp_rlock_t rl = SP_RLOCK_INIT;
static long counter; /* under mu */
static long bad;     /* under mu: owner checks that failed */

/* The calling thread's id as the library sees it. */
SPDL_EXPORT uint32_t spdl_self(void) {
  return sp_self_();
}

/* iters rounds of: the mutex (owner check inside), the rlock twice (nested:
 * the owner's id in its word) and a plain counter under the mutex. */
SPDL_EXPORT int spdl_work(long iters) {
  for (long i = 0; i < iters; i++) {
    if (sp_mutex_lock(&mu) != SP_OK)
      return -1;
    if (!sp_mutex_held_(&mu) || sp_mutex_lock(&mu) != SP_EPERM)
      bad++;
    counter++;
    if (sp_mutex_unlock(&mu) != SP_OK)
      return -2;
    if (sp_rlock_acquire(&rl, SP_FOREVER) != SP_OK ||
        sp_rlock_acquire(&rl, SP_FOREVER) != SP_OK)
      return -3;
    if (sp_rlock_is_owned(&rl) != 1)
      return -4;
    if (sp_rlock_release(&rl) != SP_OK || sp_rlock_release(&rl) != SP_OK)
      return -5;
  }
  return 0;
}

/* The counter and the failed owner checks, read after the workers joined. */
SPDL_EXPORT long spdl_count(long *bad_out) {
  (void)sp_mutex_lock_(&mu);
  long c = counter;
  *bad_out = bad;
  sp_mutex_unlock_(&mu);
  return c;
}
