/* The condition's backend half on the platform's native condition variable
 * (pthread_cond_t on CLOCK_MONOTONIC, or Win32 CONDITION_VARIABLE). The
 * native condition keeps the no-lost/no-stolen-wakeup promises itself; it
 * may return spuriously, which sp_cond_wait documents. */
#include "internal.h"

#define SP_NATIVE_COND_(c) ((sp_native_cond_t_ *)(void *)&(c)->native_)

_Static_assert(sizeof(sp_native_cond_t_) <= SP_NATIVE_COND_SIZE_,
               "native condition does not fit sp_cond_t storage");
_Static_assert(_Alignof(sp_native_cond_t_) <= _Alignof(sp_cond_t),
               "native condition needs more alignment than sp_cond_t has");

int sp_cond_backend_init_(sp_cond_t *c) {
  return sp_native_cond_init_(SP_NATIVE_COND_(c));
}

void sp_cond_backend_destroy_(sp_cond_t *c) {
  sp_native_cond_destroy_(SP_NATIVE_COND_(c));
}

int sp_cond_backend_wait_(sp_cond_t *c, sp_mutex_t *m, int64_t deadline) {
  uintptr_t self = sp_thread_id_();
  sp_store_relaxed_(&m->owner_, (uintptr_t)0);
  int rc = sp_native_cond_wait_until_(SP_NATIVE_COND_(c), SP_NATIVE_MUTEX_(m),
                                      deadline);
  sp_store_relaxed_(&m->owner_, self);
  return rc;
}

void sp_cond_backend_signal_(sp_cond_t *c) {
  sp_native_cond_signal_(SP_NATIVE_COND_(c));
}

void sp_cond_backend_broadcast_(sp_cond_t *c) {
  sp_native_cond_broadcast_(SP_NATIVE_COND_(c));
}

/* The native condition wakes its waiters itself: nothing is ever deferred. */
void sp_cond_wake_deferred_(void *wake) {
  (void)wake;
}
