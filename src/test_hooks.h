/* Test seams: internal functions compiled into every backend library (with
 * hidden visibility, so never exported from the shared library) that let the
 * test suite, which links the static per-backend libraries, reach failure
 * paths it could not otherwise provoke. Not part of the API. Tests include
 * this file as "../src/test_hooks.h". */
#ifndef SP_TEST_HOOKS_H_
#define SP_TEST_HOOKS_H_

/* The fault-injection seam: sp_fault_set_(site, k) and friends. */
#include "fault.h"

/* The state of the first CPU waiter of a PRIORITY interpreter lock
 * (src/gil.c's SP_GW_* values, below), or -1 if none waits. Thread-safe. */
enum {
  SP_GW_RUN_ = 0,
  SP_GW_PARKED_ = 1,
  SP_GW_NUDGED_ = 2,
  SP_GW_OWNER_ = 3,
  SP_GW_GIVEN_ = 4 /* handed the lock, not yet claimed: see src/gil.c */
};
struct sp_gil;
int sp_gil_cpu_head_state_(struct sp_gil *g);
/* The same for the first I/O waiter. */
int sp_gil_io_head_state_(struct sp_gil *g);

/* Make the interpreter lock's waits fail (src/gil.c): its next n internal
 * waits (condition waits of FAIR and LEGACY, semaphore creations of
 * PRIORITY waiters about to sleep) work, then every later one returns
 * SP_ESYS, until called again with n < 0 (off, the default). Global to all
 * locks; thread-safe. Stands for a failing sem_init/CreateSemaphore until
 * the library-wide fault seam replaces it. */
void sp_gil_set_wait_fail_after_(int n);

/* Call hook() (NULL: none, the default) in every release slow path of the
 * interpreter lock, right after the store that makes the lock available to
 * another thread: a test sleeps there to stretch the window in which a
 * release that touches the object afterwards would touch freed memory. */
void sp_gil_set_release_hook_(void (*hook)(void));

#endif
