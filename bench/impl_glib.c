/* GLib's primitives in the peer benches (peers.h), backend "glib": GMutex,
 * GRecMutex, GCond, GAsyncQueue. Built when pkg-config finds glib-2.0. */
#include <glib.h>

#include "peers.h"

#define TM_PREFIX           glib_
#define TM_MUTEX_T          GMutex
#define TM_MUTEX_INIT(m)    g_mutex_init(m)
#define TM_MUTEX_DESTROY(m) g_mutex_clear(m)
#define TM_LOCK(m)          g_mutex_lock(m)
#define TM_UNLOCK(m)        g_mutex_unlock(m)
#define TM_HAVE_RMUTEX
#define TM_RMUTEX_T       GRecMutex
#define TM_RMUTEX_INIT(m) g_rec_mutex_init(m)
#define TM_RLOCK(m)       g_rec_mutex_lock(m)
#define TM_RUNLOCK(m)     g_rec_mutex_unlock(m)
#define TM_HAVE_COND
#define TM_COND_T          GCond
#define TM_COND_INIT(c)    g_cond_init(c)
#define TM_COND_DESTROY(c) g_cond_clear(c)
#define TM_WAIT(c, m)      g_cond_wait(c, m)
#define TM_SIGNAL(c)       g_cond_signal(c)
#define TM_BROADCAST(c)    g_cond_broadcast(c)
#define TM_HAVE_UQUEUE
#define TM_UQ_T          GAsyncQueue *
#define TM_UQ_INIT(q)    (*(q) = g_async_queue_new())
#define TM_UQ_DESTROY(q) g_async_queue_unref(*(q))
#define TM_UQ_PUT(q, it) g_async_queue_push(*(q), it)
#define TM_UQ_GET(q)     g_async_queue_pop(*(q))

#include "peer_tmpl.h"

static void glib_setup_(void) {
  glib_fast_init();
  glib_fast_rinit();
}

const spb_impl spb_impl_glib = {
    .backend = "glib",
    .setup = glib_setup_,
    .fast = {{"fast_gmutex", glib_fast_mutex},
             {"fast_grecmutex", glib_fast_rmutex}},
    .pair = {{"gcond", glib_cond_pair}},
    .counter = glib_counter,
    .uqueue_case = "gasyncqueue",
    .uqueue = glib_uqueue,
    .bcast = glib_bcast,
};
