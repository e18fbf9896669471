/* C11 <threads.h> in the peer benches (peers.h), backend "c11": mtx_t
 * (mtx_plain and mtx_plain | mtx_recursive) and cnd_t. Built when the C
 * library has <threads.h> (glibc 2.28+, musl). */
#include <threads.h>

#include "peers.h"

static void c11_check_(int rc, const char *what) {
  if (rc != thrd_success)
    bench_die(what);
}

#define TM_PREFIX           c11i_
#define TM_MUTEX_T          mtx_t
#define TM_MUTEX_INIT(m)    c11_check_(mtx_init(m, mtx_plain), "mtx_init failed")
#define TM_MUTEX_DESTROY(m) mtx_destroy(m)
#define TM_LOCK(m)          (void)mtx_lock(m)
#define TM_UNLOCK(m)        (void)mtx_unlock(m)
#define TM_HAVE_RMUTEX
#define TM_RMUTEX_T mtx_t
#define TM_RMUTEX_INIT(m)                                                      \
  c11_check_(mtx_init(m, mtx_plain | mtx_recursive), "mtx_init failed")
#define TM_RLOCK(m)   (void)mtx_lock(m)
#define TM_RUNLOCK(m) (void)mtx_unlock(m)
#define TM_HAVE_COND
#define TM_COND_T          cnd_t
#define TM_COND_INIT(c)    c11_check_(cnd_init(c), "cnd_init failed")
#define TM_COND_DESTROY(c) cnd_destroy(c)
#define TM_WAIT(c, m)      (void)cnd_wait(c, m)
#define TM_SIGNAL(c)       (void)cnd_signal(c)
#define TM_BROADCAST(c)    (void)cnd_broadcast(c)

#include "peer_tmpl.h"

static void c11_setup_(void) {
  c11i_fast_init();
  c11i_fast_rinit();
}

const spb_impl spb_impl_c11 = {
    .backend = "c11",
    .setup = c11_setup_,
    .fast = {{"fast_mtx", c11i_fast_mutex},
             {"fast_mtx_recursive", c11i_fast_rmutex}},
    .pair = {{"cnd", c11i_cond_pair}},
    .counter = c11i_counter,
    .bcast = c11i_bcast,
};
