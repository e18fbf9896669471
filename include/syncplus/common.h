/* libsyncplus: result codes, timeouts, version and the symbol-export macro.
 * Included by every other public header; include <syncplus.h> instead. */
#ifndef SYNCPLUS_COMMON_H
#define SYNCPLUS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "syncplus/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SP_API marks the library's public functions. Only these are exported from
 * the shared library; everything else has hidden visibility. */
#if defined(_WIN32) || defined(__CYGWIN__)
#if SP_SHARED_LIBRARY_ && defined(SP_BUILDING_LIBRARY_)
#define SP_API __declspec(dllexport)
#elif SP_SHARED_LIBRARY_
#define SP_API __declspec(dllimport)
#else
#define SP_API
#endif
#elif defined(__GNUC__)
#define SP_API __attribute__((visibility("default")))
#else
#define SP_API
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
#define SP_FOREVER ((int64_t)-1)
#define SP_NS_PER_MS ((int64_t)1000000)
#define SP_NS_PER_S ((int64_t)1000000000)

/* The name of a result code ("SP_OK", "SP_EINVAL", ...), or "unknown result
 * code" for any other value. Never NULL; the string is static. Thread-safe. */
SP_API const char *sp_strerror(int result);

/* The name of the backend the library was built with: "pthread", "sem",
 * "win32" or "win32-sem". Static string. Thread-safe. */
SP_API const char *sp_backend(void);

/* The library's version as "MAJOR.MINOR.PATCH". Static string. Thread-safe.
 * Compare with SP_VERSION_* to detect a header/library mismatch. */
SP_API const char *sp_version(void);

/* Opaque storage for a backend's native object (private). */
#define SP_STORAGE_(bytes)                                                    \
  union {                                                                      \
    unsigned char b_[(bytes)];                                                 \
    void *p_;                                                                  \
    long long ll_;                                                             \
    double d_;                                                                 \
  }

#ifdef __cplusplus
}
#endif

#endif
