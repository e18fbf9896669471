/* libsyncplus: portable threads and sleeping.
 *
 * Start a thread with an argument, join it for its result, ask the calling
 * thread's id, sleep: the same four things on POSIX (pthreads) and Windows
 * (_beginthreadex), so that a program needs no #ifdef to run the library's
 * primitives on threads. The start routine has pthreads' signature,
 * `void *fn(void *arg)`, and what it returns is what sp_thread_join() hands
 * back (on Windows too, where a thread's exit code is only 32 bits).
 *
 * Memory: everything the caller of sp_thread_start() wrote before the call
 * is visible to fn; everything the thread wrote before fn returned is
 * visible to the thread whose sp_thread_join() returns SP_OK.
 *
 * A started thread must be either joined or detached exactly once, or its
 * resources (its OS handle, on Windows a small start block) stay allocated
 * after it ends, as with pthreads. An sp_thread_t is a handle: it may be
 * copied, but only one copy may be joined or detached.
 *
 * Usage:
 *     static void *work(void *arg) { return compute(arg); }
 *     ...
 *     sp_thread_t t;
 *     if (sp_thread_start(&t, work, &input) == SP_OK) {
 *       void *result;
 *       if (sp_thread_join(&t, &result) == SP_OK)
 *         use(result);
 *     } else { ... SP_ESYS: no thread (e.g. a thread limit) ... } */
#ifndef SYNCPLUS_THREAD_H
#define SYNCPLUS_THREAD_H

#include "syncplus/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A handle to a started thread; the fields are private. The storage holds a
 * pthread_t, or a HANDLE and the start block, on every system. */
typedef struct sp_thread {
  SP_STORAGE_(16) native_;
  unsigned state_; /* private: started, joining or none (atomic) */
} sp_thread_t;

/* Start a thread that runs fn(arg); *t becomes its handle. SP_OK when the
 * thread was created (it may already have run and returned when the call
 * returns); SP_EINVAL if t or fn is NULL; SP_ENOMEM when memory ran out;
 * SP_ESYS when the OS refused (e.g. too many threads). On failure *t is
 * not a thread (joining it gives SP_EINVAL). Thread-safe. The thread has
 * the system's default stack size and is joinable. */
SP_API SP_NODISCARD int sp_thread_start(sp_thread_t *t, void *(*fn)(void *),
                                        void *arg);

/* sp_thread_start() with a stack of at least stack_size bytes (0: the
 * system's default, as sp_thread_start). The size is rounded up to what
 * the system accepts (its minimum, whole pages); it is a reservation of
 * address space, so many threads with small stacks fit where the default
 * (8 MiB on glibc) would exhaust a 32-bit process's address space. The
 * caller must leave room for what fn and the C library use: a stack
 * overflow is not detected beyond the guard page. Results as
 * sp_thread_start. Thread-safe. */
SP_API SP_NODISCARD int sp_thread_start_ex(sp_thread_t *t, void *(*fn)(void *),
                                           void *arg, size_t stack_size);

/* Wait until the thread of *t has returned from its start routine, store
 * what it returned in *result (unless result is NULL), and release the
 * thread's resources; *t is then no thread. SP_OK; SP_EINVAL if t is NULL
 * or not a started, not yet joined or detached thread (including one that
 * another thread is joining right now); SP_EPERM if *t is the calling
 * thread (it would wait for itself forever; *t stays joinable); SP_ESYS if
 * the OS failed the wait (*t stays joinable). Blocks without limit. */
SP_API SP_NODISCARD int sp_thread_join(sp_thread_t *t, void **result);

/* Let the thread of *t run on by itself: its resources are released when it
 * returns, and it can no longer be joined (*t is then no thread). SP_OK;
 * SP_EINVAL as for sp_thread_join(). The process ends when main returns
 * whether detached threads are done or not. */
SP_API int sp_thread_detach(sp_thread_t *t);

/* The calling thread's id: nonzero, the same for every call in one thread,
 * different from the id of every other live thread of the process (an
 * ended thread's id may be given to a new thread). It is the id the
 * library's owner checks use (sp_mutex_t, sp_rlock_t), not necessarily the
 * OS's thread id. Thread-safe; never fails; costs a thread-local read. */
SP_API SP_NODISCARD uint64_t sp_thread_self_id(void);

/* Sleep at least ns nanoseconds (the OS may sleep longer: on Windows sleeps
 * are whole timer ticks, often 1 to 16 ms). 0 gives the CPU to another
 * ready thread, if any, and returns. A signal handler (POSIX) does not end
 * the sleep early. SP_OK; SP_EINVAL for a negative ns (SP_FOREVER
 * included). Thread-safe. */
SP_API int sp_sleep_ns(int64_t ns);

/* Sleep until sp_now_ns() >= deadline_ns (at once if it has passed), so a
 * periodic loop keeps its phase: `next += period; sp_sleep_until(next);`.
 * SP_OK; SP_EINVAL for a negative deadline. Thread-safe. */
SP_API int sp_sleep_until(int64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif
