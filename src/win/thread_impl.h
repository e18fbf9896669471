/* The thread contract (src/thread.c) on Win32: _beginthreadex (which sets
 * up the C runtime's per-thread data, unlike a bare CreateThread), a start
 * block on the heap that carries the start routine's pointer-sized result
 * (a thread's exit code is only 32 bits), Sleep in rounded-up whole
 * milliseconds, re-checked against sp_now_ns_() (Sleep may end up to a
 * timer tick early), and a thread-local block in a fiber-local storage
 * slot. Each function's one-line contract is repeated above it.
 *
 * The start block is shared by the thread and its handle's owner: the
 * thread stores the result, then exchanges the block's state to DONE; a
 * join waits for the thread to end (which orders the result before the
 * join's read) and frees the block; a detach exchanges the state to
 * DETACHED. Whoever of the thread and the detach comes second frees the
 * block, so it is freed exactly once, and never while the other may still
 * touch it. */
#ifndef SP_WIN_THREAD_IMPL_H_
#define SP_WIN_THREAD_IMPL_H_

#include <errno.h>
#include <limits.h>
#include <process.h>
#include <stdlib.h>

#include "platform.h"

enum { SP_WIN_START_RUNNING_, SP_WIN_START_DONE_, SP_WIN_START_DETACHED_ };

struct sp_win_start_ {
  void *(*fn)(void *);
  void *arg;
  void *result;
  unsigned state; /* SP_WIN_START_* (atomic) */
};

typedef struct sp_os_thread_ {
  HANDLE h;
  struct sp_win_start_ *s;
} sp_os_thread_t_;

static inline unsigned __stdcall sp_win_thread_main_(void *p) {
  struct sp_win_start_ *s = p;
  s->result = s->fn(s->arg);
  if (__atomic_exchange_n(&s->state, SP_WIN_START_DONE_, __ATOMIC_ACQ_REL) ==
      SP_WIN_START_DETACHED_)
    free(s);
  return 0;
}

/* Start a joinable thread running fn(arg) into *h, with the default stack
 * if stack is 0, else one of at least stack bytes (a reservation: Windows
 * rounds it up to its allocation granularity); SP_OK, SP_ENOMEM or
 * SP_ESYS. */
static inline int sp_os_thread_start_(sp_os_thread_t_ *h, void *(*fn)(void *),
                                      void *arg, size_t stack) {
  if (stack > UINT_MAX)
    return SP_ENOMEM;
  struct sp_win_start_ *s = malloc(sizeof *s);
  if (s == NULL)
    return SP_ENOMEM;
  s->fn = fn;
  s->arg = arg;
  s->result = NULL;
  s->state = SP_WIN_START_RUNNING_;
  uintptr_t th =
      _beginthreadex(NULL, (unsigned)stack, sp_win_thread_main_, s,
                     stack != 0 ? STACK_SIZE_PARAM_IS_A_RESERVATION : 0, NULL);
  if (th == 0) {
    int e = errno;
    free(s);
    return e == ENOMEM ? SP_ENOMEM : SP_ESYS;
  }
  h->h = (HANDLE)th;
  h->s = s;
  return SP_OK;
}

/* Wait for the thread *h to end, store fn's result in *result and release
 * the thread; SP_OK or SP_ESYS (the thread is then still joinable). */
static inline int sp_os_thread_join_(sp_os_thread_t_ *h, void **result) {
  if (WaitForSingleObject(h->h, INFINITE) != WAIT_OBJECT_0)
    return SP_ESYS;
  (void)__atomic_load_n(&h->s->state, __ATOMIC_ACQUIRE);
  if (result != NULL)
    *result = h->s->result;
  CloseHandle(h->h);
  free(h->s);
  return SP_OK;
}

/* Release the thread *h when it ends; SP_OK or SP_ESYS. */
static inline int sp_os_thread_detach_(sp_os_thread_t_ *h) {
  CloseHandle(h->h);
  if (__atomic_exchange_n(&h->s->state, SP_WIN_START_DETACHED_,
                          __ATOMIC_ACQ_REL) == SP_WIN_START_DONE_)
    free(h->s);
  return SP_OK;
}

/* 1 if *h is the calling thread, else 0. */
static inline int sp_os_thread_is_self_(sp_os_thread_t_ *h) {
  return GetThreadId(h->h) == GetCurrentThreadId();
}

/* Sleep until sp_now_ns_() >= deadline. */
static inline void sp_os_sleep_until_(int64_t deadline) {
  for (;;) {
    int64_t left = deadline - sp_now_ns_();
    if (left <= 0)
      return;
    Sleep(sp_win_ms_(left));
  }
}

/* The calling thread's block of SP_THREAD_LOCAL_BYTES_ zero-initialised
 * bytes, living as long as the thread; NULL if it cannot be had.
 *
 * The block is allocated on first use (LocalAlloc, zero-filled) and kept in
 * a fiber-local storage slot whose callback, run by Windows when the thread
 * exits with a non-NULL value in the slot, is LocalFree itself: its
 * signature matches PFLS_CALLBACK_FUNCTION on the ABI level (WINAPI, one
 * pointer-sized argument; the result is ignored), and unlike a callback of
 * our own it stays valid if a syncplus DLL is unloaded while threads that
 * used it still run (src/win/platform_impl.h does the same with
 * CloseHandle). (C11 _Thread_local would be emulated by MinGW's libgcc,
 * which does not free a thread's variables when it exits.) Only
 * src/rwlock.c uses it, so there is one slot per loaded copy of the
 * library. */
#define SP_THREAD_LOCAL_BYTES_ 128
static inline void *sp_os_thread_local_(void) {
  static DWORD slot_plus_1; /* 0: not allocated yet (atomic) */
  DWORD s = __atomic_load_n(&slot_plus_1, __ATOMIC_ACQUIRE);
  if (s == 0) {
    DWORD idx = FlsAlloc((PFLS_CALLBACK_FUNCTION)(void (*)(void))LocalFree);
    if (idx == FLS_OUT_OF_INDEXES)
      return NULL; /* try again on the next call */
    DWORD expected = 0;
    if (__atomic_compare_exchange_n(&slot_plus_1, &expected, idx + 1, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      s = idx + 1;
    } else {
      FlsFree(idx); /* another thread won the race; use its slot */
      s = expected;
    }
  }
  void *block = FlsGetValue(s - 1);
  if (block == NULL) {
    block =
        (void *)LocalAlloc(LMEM_FIXED | LMEM_ZEROINIT, SP_THREAD_LOCAL_BYTES_);
    if (block != NULL && !FlsSetValue(s - 1, block)) {
      LocalFree((HLOCAL)block);
      block = NULL;
    }
  }
  return block;
}

#endif
