/* Internal helpers shared by the portable sources: atomics, object magic
 * numbers, deadlines, and the internal entry points between primitives. */
#ifndef SP_INTERNAL_H_
#define SP_INTERNAL_H_

#include "syncplus.h"
#include "platform.h"

/* Atomics on plain fields of the public structs (GCC/Clang builtins, which
 * MinGW has too). One place to port to another compiler. */
#define sp_load_relaxed_(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define sp_load_acquire_(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define sp_store_relaxed_(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define sp_store_release_(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define sp_xchg_acq_rel_(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define sp_cas_acquire_(p, expected, desired)                                  \
  __atomic_compare_exchange_n((p), (expected), (desired), 0,                   \
                              __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)
#define sp_fetch_add_relaxed_(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

#define SP_LIKELY_(x) __builtin_expect(!!(x), 1)
#define SP_UNLIKELY_(x) __builtin_expect(!!(x), 0)

/* Magic numbers: set by *_init, cleared by *_destroy, checked by every call,
 * so a NULL, never-initialised or destroyed object gives SP_EINVAL. */
enum {
  SP_MAGIC_MUTEX_ = 0x5370a001u,
  SP_MAGIC_COND_ = 0x5370a002u,
  SP_MAGIC_LOCK_ = 0x5370a003u,
  SP_MAGIC_BARRIER_ = 0x5370a004u,
  SP_MAGIC_RLOCK_ = 0x5370a005u,
  SP_MAGIC_SEM_ = 0x5370a006u,
  SP_MAGIC_EVENT_ = 0x5370a007u,
  SP_MAGIC_QUEUE_ = 0x5370a008u,
  SP_MAGIC_GIL_ = 0x5370a009u
};
#define SP_BAD_(obj, magic) ((obj) == NULL || (obj)->magic_ != (magic))

/* Turn a relative timeout into an absolute deadline on sp_now_ns_():
 * SP_FOREVER gives SP_NEVER_, 0 gives "now" (try once), a positive value
 * saturates at SP_NEVER_. Returns SP_OK or SP_EINVAL (below -1). */
static inline int sp_deadline_(int64_t timeout_ns, int64_t *deadline) {
  if (timeout_ns == SP_FOREVER) {
    *deadline = SP_NEVER_;
    return SP_OK;
  }
  if (timeout_ns < 0)
    return SP_EINVAL;
  int64_t now = sp_now_ns_();
  *deadline = timeout_ns > SP_NEVER_ - now ? SP_NEVER_ : now + timeout_ns;
  return SP_OK;
}

/* The backend's native objects inside the public storage. */
#define SP_NATIVE_MUTEX_(m) ((sp_native_mutex_t_ *)(void *)&(m)->native_)

/* 1 if the calling thread holds *m (which must be valid). */
static inline int sp_mutex_held_(sp_mutex_t *m) {
  return sp_load_relaxed_(&m->owner_) == sp_thread_id_();
}

/* Post the waiters that a signal or broadcast chose while the mutex was held
 * (the emulated condition defers its posts to the unlock, so a woken waiter
 * does not block on the mutex its signaller still holds). `wake` is the list
 * taken from sp_mutex_t.wake_ under the mutex; called after releasing it. */
void sp_cond_wake_deferred_(void *wake);

/* Lock and unlock a valid mutex from inside the library, keeping its owner
 * field right. Lock returns SP_OK or SP_ESYS. */
static inline int sp_mutex_lock_(sp_mutex_t *m) {
  int rc = sp_native_mutex_lock_(SP_NATIVE_MUTEX_(m));
  if (SP_LIKELY_(rc == SP_OK))
    sp_store_relaxed_(&m->owner_, sp_thread_id_());
  return rc;
}
static inline void sp_mutex_unlock_(sp_mutex_t *m) {
  sp_store_relaxed_(&m->owner_, (uintptr_t)0);
  void *wake = m->wake_;
  if (SP_LIKELY_(wake == NULL)) {
    sp_native_mutex_unlock_(SP_NATIVE_MUTEX_(m));
    return;
  }
  m->wake_ = NULL;
  sp_native_mutex_unlock_(SP_NATIVE_MUTEX_(m));
  sp_cond_wake_deferred_(wake);
}

/* Condition wait on valid objects with an absolute deadline, for use inside
 * the library; *m is held by the caller. Same results as sp_cond_wait(). */
int sp_cond_wait_until_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline);

/* The backend half of the condition (src/cond_native.c or src/cond_sema.c):
 * called by src/cond.c on valid objects, with the mutex rules checked. */
int sp_cond_backend_init_(sp_cond_t *c);
void sp_cond_backend_destroy_(sp_cond_t *c);
int sp_cond_backend_wait_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline);
void sp_cond_backend_signal_(sp_cond_t *c);
void sp_cond_backend_broadcast_(sp_cond_t *c);

#endif
