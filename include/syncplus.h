/* libsyncplus: Python's threading primitives for C.
 *
 * The one public entry header. See docs/ for what each primitive promises
 * and README.md for examples. Conventions shared by every primitive:
 *  - objects are structs you embed or allocate; call *_init before use and
 *    *_destroy after; their fields are private;
 *  - functions return an int result code (syncplus/common.h); nothing in the
 *    library aborts or exits, on misuse or on an OS error;
 *  - timeouts are relative int64_t nanoseconds on the monotonic clock,
 *    SP_FOREVER (-1) for no limit, 0 to try once. */
#ifndef SYNCPLUS_H
#define SYNCPLUS_H

#include "syncplus/common.h"
#include "syncplus/mutex.h"
#include "syncplus/cond.h"
#include "syncplus/lock.h"
#include "syncplus/barrier.h"
#include "syncplus/rlock.h"
#include "syncplus/semaphore.h"
#include "syncplus/event.h"
#include "syncplus/queue.h"
#include "syncplus/gil.h"
#include "syncplus/thread.h"
#include "syncplus/once.h"
#include "syncplus/rwlock.h"

#endif
