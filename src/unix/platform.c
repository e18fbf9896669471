/* The out-of-line parts of the POSIX platform layer: the thread id's first
 * read, and, where there is no futex(2), the wait-on-address contract on a
 * table of pthread mutexes and conditions. */
#include "platform.h"

_Thread_local uint32_t sp_thread_id_cache_ SP_TLS_MODEL_;

#ifdef SP_LINUX_FUTEX_
/* fork(): the child's thread has a new kernel id; forget the parent's. */
static void sp_thread_id_atfork_child_(void) {
  sp_thread_id_cache_ = 0;
}

static pthread_once_t sp_thread_id_once_ = PTHREAD_ONCE_INIT;
static void sp_thread_id_register_(void) {
  /* If this fails (ENOMEM), a child of fork() keeps its parent's id: unique
   * in the child as long as the parent's thread lives, see
   * docs/primitives.md. */
  (void)pthread_atfork(NULL, NULL, sp_thread_id_atfork_child_);
}

uintptr_t sp_thread_id_slow_(void) {
  pthread_once(&sp_thread_id_once_, sp_thread_id_register_);
  uint32_t id = (uint32_t)syscall(SYS_gettid) << 2; /* tid < 2^22 */
  sp_thread_id_cache_ = id;
  return id;
}
#else
static uint32_t sp_thread_id_next_;

uintptr_t sp_thread_id_slow_(void) {
  uint32_t n;
  do /* skip 0 when the counter wraps */
    n = __atomic_add_fetch(&sp_thread_id_next_, 1, __ATOMIC_RELAXED) &
        0x3FFFFFFFu;
  while (n == 0);
  sp_thread_id_cache_ = n << 2;
  return n << 2;
}

/* Wait on an address without futex(2): a waiter sleeps on the condition of
 * the bucket its address hashes to, after checking *addr under the
 * bucket's mutex; a waker broadcasts that condition under the same mutex.
 * A waker changes *addr before it wakes, so either the waiter's check (under
 * the mutex) sees the change, or the waiter is asleep when the broadcast
 * comes. Other addresses' waiters in the bucket wake spuriously, which the
 * contract allows. The waker reads nothing at addr: it only hashes it. */
#define SP_PARK_BUCKETS_ 64
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
} sp_park_[SP_PARK_BUCKETS_];
static pthread_once_t sp_park_once_ = PTHREAD_ONCE_INIT;
static int sp_park_ok_;

static void sp_park_setup_(void) {
  for (int i = 0; i < SP_PARK_BUCKETS_; i++)
    if (sp_native_mutex_init_(&sp_park_[i].mu) != SP_OK ||
        sp_native_cond_init_(&sp_park_[i].cv) != SP_OK)
      return; /* sp_park_ok_ stays 0: waits become yields */
  sp_park_ok_ = 1;
}

static unsigned sp_park_hash_(uint32_t *addr) {
  uintptr_t a = (uintptr_t)addr >> 2;
  return (unsigned)((a ^ (a >> 6) ^ (a >> 12)) % SP_PARK_BUCKETS_);
}

int sp_futex_wait_(uint32_t *addr, uint32_t expected, int64_t deadline) {
  pthread_once(&sp_park_once_, sp_park_setup_);
  if (!sp_park_ok_) {
    sched_yield();
    return deadline != SP_NEVER_ && sp_now_ns_() >= deadline ? SP_TIMEDOUT
                                                             : SP_OK;
  }
  unsigned b = sp_park_hash_(addr);
  int rc = SP_OK;
  pthread_mutex_lock(&sp_park_[b].mu);
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) == expected)
    rc = sp_native_cond_wait_until_(&sp_park_[b].cv, &sp_park_[b].mu, deadline);
  pthread_mutex_unlock(&sp_park_[b].mu);
  return rc == SP_TIMEDOUT ? SP_TIMEDOUT : SP_OK;
}

void sp_futex_wake_(uint32_t *addr, int all) {
  (void)all; /* a bucket is shared: wake all its sleepers */
  pthread_once(&sp_park_once_, sp_park_setup_);
  if (!sp_park_ok_)
    return;
  unsigned b = sp_park_hash_(addr);
  pthread_mutex_lock(&sp_park_[b].mu);
  pthread_cond_broadcast(&sp_park_[b].cv);
  pthread_mutex_unlock(&sp_park_[b].mu);
}
#endif
