/* libsyncplus: result codes, timeouts, the clock, version, and the macros
 * every header uses (symbol export, unused-result warnings, opaque storage).
 * Included by every other public header; include <syncplus.h> instead.
 *
 * The installed headers are the same for every backend, architecture, and
 * for static and shared builds: nothing in them depends on how the library
 * was configured (docs/architecture.md, "ABI"). */
#ifndef SYNCPLUS_COMMON_H
#define SYNCPLUS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SP_API marks the library's public functions. Only these are exported from
 * the shared library; everything else has hidden visibility. On Windows a
 * program that links the DLL defines SP_USING_SHARED (the shared target's
 * CMake interface and `pkg-config --cflags syncplus` do), which makes the
 * declarations dllimport; a static link defines nothing. The library itself
 * is built with SP_BUILDING_LIBRARY_, and with SP_BUILDING_SHARED_ when it is
 * the DLL (dllexport). */
#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(SP_BUILDING_LIBRARY_) && defined(SP_BUILDING_SHARED_)
#define SP_API __declspec(dllexport)
#elif defined(SP_USING_SHARED) && !defined(SP_BUILDING_LIBRARY_)
#define SP_API __declspec(dllimport)
#else
#define SP_API
#endif
#elif defined(__GNUC__)
#define SP_API __attribute__((visibility("default")))
#else
#define SP_API
#endif

/* SP_NODISCARD marks the functions whose result must be looked at (a lock
 * that may not have been taken, a wait that may have timed out, an init
 * that may have failed, a value asked for): the compiler warns when a call
 * ignores it. Where ignoring the result is right, say so: `(void)!call;`
 * (GCC's warn_unused_result, used before C23, is not silenced by a plain
 * (void) cast; `(void)!` works with every compiler). */
#if defined(__cplusplus) && __cplusplus >= 201703L
#define SP_NODISCARD [[nodiscard]]
#elif !defined(__cplusplus) && defined(__STDC_VERSION__) &&                    \
    __STDC_VERSION__ > 201710L && defined(__has_c_attribute)
#if __has_c_attribute(nodiscard)
#define SP_NODISCARD [[nodiscard]]
#endif
#endif
#if !defined(SP_NODISCARD) && (defined(__GNUC__) || defined(__clang__))
#define SP_NODISCARD __attribute__((warn_unused_result))
#endif
#ifndef SP_NODISCARD
#define SP_NODISCARD
#endif

/* SP_VERSION_MAJOR/MINOR/PATCH, SP_VERSION_STRING, SP_VERSION_NUMBER. */
#include "syncplus/version.h"

/* Result codes. Every function that can fail returns one of these as an int.
 * Non-negative codes are outcomes; negative codes are errors. */
enum sp_result {
  SP_OK = 0,       /* done */
  SP_BUSY = 1,     /* a zero-timeout attempt could not proceed */
  SP_TIMEDOUT = 2, /* the timeout passed before the operation could proceed */
  SP_BROKEN = 3,   /* the barrier is, or became, broken */
  SP_EINVAL = -1,  /* bad argument: NULL, uninitialised or destroyed object,
                      out-of-range value */
  SP_EPERM = -2,   /* not allowed in the object's state (e.g. releasing a
                      lock that is not held, destroying an object in use) */
  SP_ENOMEM = -3,  /* out of memory */
  SP_ESYS = -4     /* the operating system refused */
};

/* Timeouts are int64_t nanoseconds, relative to the call, measured on a
 * monotonic clock: changing the wall clock neither shortens nor lengthens a
 * wait. SP_FOREVER blocks without limit; 0 tries once without blocking; any
 * other negative value is SP_EINVAL. A timed wait never reports a timeout
 * before its timeout has passed. */
#define SP_FOREVER   ((int64_t)-1)
#define SP_NS_PER_MS ((int64_t)1000000)
#define SP_NS_PER_S  ((int64_t)1000000000)

/* The library's monotonic clock in nanoseconds: the clock every timeout is
 * measured on (CLOCK_MONOTONIC, QueryPerformanceCounter), never decreasing,
 * unaffected by wall-clock changes; its origin is unspecified (boot, on
 * most systems). Absolute deadlines (sp_mutex_timedlock_until) are read on
 * it: deadline = sp_now_ns() + timeout. Thread-safe; never fails. */
SP_API SP_NODISCARD int64_t sp_now_ns(void);

/* The name of a result code ("SP_OK", "SP_EINVAL", ...), or "unknown result
 * code" for any other value. Never NULL; the string is static. Thread-safe. */
SP_API SP_NODISCARD const char *sp_strerror(int result);

/* The name of the backend the library was built with: "pthread", "sem",
 * "win32" or "win32-sem". Static string. Thread-safe. Every backend of a
 * platform has the same object sizes (the ABI does not depend on it), so
 * this is the only way to tell them apart. */
SP_API SP_NODISCARD const char *sp_backend(void);

/* The library's version as "MAJOR.MINOR.PATCH". Static string. Thread-safe.
 * Compare with SP_VERSION_* to detect a header/library mismatch. */
SP_API SP_NODISCARD const char *sp_version(void);

/* Opaque storage for a backend's native object (private), aligned for any
 * of them. */
#define SP_STORAGE_(bytes)                                                     \
  union {                                                                      \
    unsigned char b_[(bytes)];                                                 \
    void *p_;                                                                  \
    long long ll_;                                                             \
    double d_;                                                                 \
  }

/* Bytes of sp_cond_t's backend storage (private): enough for the largest
 * backend on every supported system, a pthread_mutex_t plus a
 * pthread_cond_t (at most 48 + 48 bytes on 64-bit glibc/musl, x86-64 and
 * aarch64; 24 + 48 on 32-bit), an SRWLOCK plus a CONDITION_VARIABLE (two
 * pointers), or the emulated condition's queue (two pointers). The same
 * expression everywhere; each backend checks its fit with _Static_assert. */
#define SP_COND_STORAGE_SIZE_ (48 + 6 * sizeof(void *))

#ifdef __cplusplus
}
#endif

#endif
