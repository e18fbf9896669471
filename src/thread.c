/* Portable threads (syncplus/thread.h): argument checks and the handle's
 * state here, the OS half in the platform directory's thread_impl.h (src/unix
 * or src/win, on the include path like platform_impl.h), whose contract is:
 *
 *   sp_os_thread_t_: the OS handle, stored in sp_thread_t.native_.
 *   int sp_os_thread_start_(sp_os_thread_t_ *h, void *(*fn)(void *),
 *                           void *arg, size_t stack);
 *       Start a joinable thread running fn(arg) into *h, with the default
 *       stack if stack is 0, else one of at least stack bytes (rounded up
 *       to what the OS accepts); SP_OK, SP_ENOMEM or SP_ESYS.
 *   int sp_os_thread_join_(sp_os_thread_t_ *h, void **result);
 *       Wait for the thread *h to end, store fn's result in *result (unless
 *       NULL) and release the thread; SP_OK or SP_ESYS (still joinable).
 *   int sp_os_thread_detach_(sp_os_thread_t_ *h);
 *       Release the thread *h when it ends; SP_OK or SP_ESYS.
 *   int sp_os_thread_is_self_(sp_os_thread_t_ *h);
 *       1 if *h is the calling thread, else 0.
 *   void sp_os_sleep_until_(int64_t deadline);
 *       Sleep until sp_now_ns_() >= deadline.
 *
 * The handle's state_ is NONE (0, or anything but the two values below),
 * STARTED, or CLAIMED while one join or detach works on it: a join or detach
 * moves it STARTED -> CLAIMED with a compare-and-swap, so of two racing
 * calls on one handle exactly one proceeds and the other gets SP_EINVAL; a
 * join that cannot proceed (SP_EPERM, SP_ESYS) moves it back to STARTED. */
#include "internal.h"
#include "thread_impl.h"

/* sp_thread_t.state_ values (beside the SP_MAGIC_* of src/internal.h). */
#define SP_THREAD_STARTED_ 0x5370a0b1u
#define SP_THREAD_CLAIMED_ 0x5370a0b2u

_Static_assert(sizeof(sp_os_thread_t_) <= sizeof(((sp_thread_t *)0)->native_),
               "sp_thread_t's storage is too small for this platform");
_Static_assert(_Alignof(sp_os_thread_t_) <= _Alignof(sp_thread_t),
               "sp_thread_t's storage is not aligned for this platform");

#define SP_OS_THREAD_(t) ((sp_os_thread_t_ *)(void *)&(t)->native_)

int sp_thread_start_ex(sp_thread_t *t, void *(*fn)(void *), void *arg,
                       size_t stack_size) {
  if (t == NULL)
    return SP_EINVAL;
  t->state_ = 0;
  if (fn == NULL)
    return SP_EINVAL;
  int rc = sp_os_thread_start_(SP_OS_THREAD_(t), fn, arg, stack_size);
  if (rc == SP_OK)
    t->state_ = SP_THREAD_STARTED_;
  return rc;
}

int sp_thread_start(sp_thread_t *t, void *(*fn)(void *), void *arg) {
  return sp_thread_start_ex(t, fn, arg, 0);
}

/* Claim *t for one join or detach: 1 if this call may proceed. */
static int sp_thread_claim_(sp_thread_t *t) {
  unsigned started = SP_THREAD_STARTED_;
  return t != NULL && sp_cas_acquire_(&t->state_, &started, SP_THREAD_CLAIMED_);
}

int sp_thread_join(sp_thread_t *t, void **result) {
  if (!sp_thread_claim_(t))
    return SP_EINVAL;
  if (sp_os_thread_is_self_(SP_OS_THREAD_(t))) {
    sp_store_release_(&t->state_, SP_THREAD_STARTED_);
    return SP_EPERM;
  }
  void *r = NULL;
  int rc = sp_os_thread_join_(SP_OS_THREAD_(t), &r);
  if (rc != SP_OK) {
    sp_store_release_(&t->state_, SP_THREAD_STARTED_);
    return rc;
  }
  if (result != NULL)
    *result = r;
  sp_store_release_(&t->state_, 0u);
  return SP_OK;
}

int sp_thread_detach(sp_thread_t *t) {
  if (!sp_thread_claim_(t))
    return SP_EINVAL;
  int rc = sp_os_thread_detach_(SP_OS_THREAD_(t));
  sp_store_release_(&t->state_, rc == SP_OK ? 0u : SP_THREAD_STARTED_);
  return rc;
}

uint64_t sp_thread_self_id(void) {
  return (uint64_t)sp_thread_id_();
}

int sp_sleep_until(int64_t deadline_ns) {
  if (deadline_ns < 0)
    return SP_EINVAL;
  sp_os_sleep_until_(deadline_ns);
  return SP_OK;
}

int sp_sleep_ns(int64_t ns) {
  if (ns < 0)
    return SP_EINVAL;
  if (ns == 0) {
    sp_cpu_relax_();
    return SP_OK;
  }
  int64_t deadline;
  (void)sp_deadline_(ns, &deadline); /* ns > 0: SP_OK, saturating */
  sp_os_sleep_until_(deadline);
  return SP_OK;
}
