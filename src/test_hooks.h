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
enum { SP_GW_RUN_ = 0, SP_GW_PARKED_ = 1, SP_GW_NUDGED_ = 2, SP_GW_OWNER_ = 3 };
struct sp_gil;
int sp_gil_cpu_head_state_(struct sp_gil *g);

#endif
