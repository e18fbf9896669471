/* sp_lazy_init_slow_: the race-free first-use set-up of zero-filled
 * ("statically initialised") objects (src/internal.h).
 *
 * The object's magic_ is the set-up's state: 0 (not set up), SP_MAGIC_BUSY_
 * (one thread is setting it up), `ready` (set up), anything else (destroyed
 * or foreign: SP_EINVAL). Only the thread whose CAS moves 0 to BUSY runs the
 * set-up, so it runs at most once at a time, and never again once it has
 * succeeded. That thread publishes the result with a release store (`ready`,
 * or 0 after a failure so that a later call retries) and wakes every thread
 * sleeping on magic_; those sleep only while magic_ is BUSY (the futex
 * re-checks the value atomically, so a wake between their load and their
 * sleep is not lost), and read the set-up's writes through their acquire
 * load of `ready`. */
#include "internal.h"

int sp_lazy_init_slow_(unsigned *magic, unsigned ready, int (*setup)(void *),
                       void *obj) {
  for (;;) {
    unsigned v = sp_load_acquire_(magic);
    if (v == ready)
      return SP_OK;
    if (v == SP_MAGIC_BUSY_) {
      (void)sp_futex_wait_((uint32_t *)magic, SP_MAGIC_BUSY_, SP_NEVER_);
      continue;
    }
    if (v != 0)
      return SP_EINVAL;
    if (!sp_cas_acquire_(magic, &v, (unsigned)SP_MAGIC_BUSY_))
      continue;
    int rc = SP_OK;
    if (sp_fault_hit_(SP_FAULT_LAZY_INIT_))
      rc = SP_ESYS;
    else if (setup != NULL)
      rc = setup(obj);
    sp_store_release_(magic, rc == SP_OK ? ready : 0u);
    sp_futex_wake_((uint32_t *)magic, 1);
    return rc;
  }
}
