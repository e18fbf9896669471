/* sp_mutex_t: the backend's native mutex plus an owner field, which lets the
 * library report unlock-by-non-owner and self-deadlock as SP_EPERM and lets
 * the condition check that its callers hold the mutex. */
#include "internal.h"

_Static_assert(sizeof(sp_native_mutex_t_) <= SP_NATIVE_MUTEX_SIZE_,
               "native mutex does not fit sp_mutex_t storage");
_Static_assert(_Alignof(sp_native_mutex_t_) <= _Alignof(sp_mutex_t),
               "native mutex needs more alignment than sp_mutex_t has");

int sp_mutex_init(sp_mutex_t *m) {
  if (m == NULL)
    return SP_EINVAL;
  int rc = sp_native_mutex_init_(SP_NATIVE_MUTEX_(m));
  if (rc != SP_OK)
    return rc;
  m->owner_ = 0;
  m->wake_ = NULL;
  m->magic_ = SP_MAGIC_MUTEX_;
  return SP_OK;
}

int sp_mutex_destroy(sp_mutex_t *m) {
  if (SP_BAD_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  if (sp_native_mutex_trylock_(SP_NATIVE_MUTEX_(m)) != SP_OK)
    return SP_EPERM;
  sp_native_mutex_unlock_(SP_NATIVE_MUTEX_(m));
  m->magic_ = 0;
  sp_native_mutex_destroy_(SP_NATIVE_MUTEX_(m));
  return SP_OK;
}

int sp_mutex_lock(sp_mutex_t *m) {
  if (SP_BAD_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  if (SP_UNLIKELY_(sp_mutex_held_(m)))
    return SP_EPERM;
  return sp_mutex_lock_(m);
}

int sp_mutex_trylock(sp_mutex_t *m) {
  if (SP_BAD_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  if (SP_UNLIKELY_(sp_mutex_held_(m)))
    return SP_EPERM;
  int rc = sp_native_mutex_trylock_(SP_NATIVE_MUTEX_(m));
  if (rc == SP_OK)
    sp_store_relaxed_(&m->owner_, sp_thread_id_());
  return rc;
}

int sp_mutex_unlock(sp_mutex_t *m) {
  if (SP_BAD_(m, SP_MAGIC_MUTEX_))
    return SP_EINVAL;
  if (SP_UNLIKELY_(!sp_mutex_held_(m)))
    return SP_EPERM;
  sp_mutex_unlock_(m);
  return SP_OK;
}
