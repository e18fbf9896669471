/* libsyncplus: sp_once_t, run an initialisation exactly once.
 *
 * What pthread_once, C11 call_once and InitOnceExecuteOnce do: however many
 * threads call sp_once() on the same sp_once_t, at the same time or not,
 * the routine runs exactly once, in one of them, and every call returns
 * only after it has returned. Memory: whatever the routine wrote is visible
 * to every caller once its sp_once() returns SP_OK.
 *
 * Design: one 32-bit word; 0 (never run), done, or the running thread's id
 * plus a "others wait" bit. After the first run a call is one acquire load
 * and a compare; callers that arrive while the routine runs sleep on the
 * word (futex, WaitOnAddress) until it is done.
 *
 * Static initialisation: an sp_once_t must start zero-filled: SP_ONCE_INIT,
 * or a file-scope `static sp_once_t once;`. There is no init or destroy; it
 * needs no OS resources and can be freed whenever no call is inside it.
 *
 * The routine must return: if it jumps out (longjmp), or its thread ends
 * inside it, the other callers wait forever. A routine that calls sp_once()
 * on its own sp_once_t gets SP_EPERM (instead of deadlocking). Routines of
 * different sp_once_t objects may nest freely.
 *
 * Thread-safety: sp_once() is thread-safe, and is the only call.
 *
 * Usage:
 *     static sp_once_t table_once = SP_ONCE_INIT;
 *     static void build_table(void) { ... }
 *     const table_t *get_table(void) {
 *       sp_once(&table_once, build_table); // SP_OK: built
 *       return &table;
 *     } */
#ifndef SYNCPLUS_ONCE_H
#define SYNCPLUS_ONCE_H

#include "syncplus/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embeddable; the field is private. */
typedef struct sp_once {
  uint32_t state_; /* 0 never run, else done or runner | waiters (atomic) */
} sp_once_t;

/* A static initializer: never run (all zero, like a zero-filled one). */
#define SP_ONCE_INIT                                                           \
  { 0u }

/* Run fn() if no call on *o has run it yet, else wait until the call that
 * runs it has returned. SP_OK once fn has run (by this call or another);
 * SP_EINVAL if o or fn is NULL; SP_EPERM if the calling thread is running
 * fn for *o right now (fn called sp_once on its own object: it is not run
 * again, and the call does not wait). Blocks without limit while another
 * thread runs fn. */
SP_API int sp_once(sp_once_t *o, void (*fn)(void));

/* As sp_once, for a routine that takes an argument: runs fn(arg) at most
 * once per *o (the arg of the call that runs it; other calls' args are
 * ignored). Both forms may be mixed on one *o: the first call to arrive
 * runs its routine, and no other routine runs. Same results. */
SP_API int sp_once_arg(sp_once_t *o, void (*fn)(void *), void *arg);

#ifdef __cplusplus
}
#endif

#endif
