/* sp_strerror, sp_backend, sp_version, sp_now_ns. */
#include "internal.h"

#ifndef SP_BACKEND_NAME_
#error "the build defines SP_BACKEND_NAME_ (cmake/SyncplusBackends.cmake)"
#endif

#define SP_STR2_(x) #x
#define SP_STR_(x)  SP_STR2_(x)

const char *sp_strerror(int result) {
  switch (result) {
  case SP_OK:
    return "SP_OK";
  case SP_BUSY:
    return "SP_BUSY";
  case SP_TIMEDOUT:
    return "SP_TIMEDOUT";
  case SP_BROKEN:
    return "SP_BROKEN";
  case SP_SHUTDOWN:
    return "SP_SHUTDOWN";
  case SP_EINVAL:
    return "SP_EINVAL";
  case SP_EPERM:
    return "SP_EPERM";
  case SP_ENOMEM:
    return "SP_ENOMEM";
  case SP_ESYS:
    return "SP_ESYS";
  default:
    return "unknown result code";
  }
}

const char *sp_backend(void) {
  return SP_BACKEND_NAME_;
}

const char *sp_version(void) {
  return SP_STR_(SP_VERSION_MAJOR) "." SP_STR_(SP_VERSION_MINOR) "." SP_STR_(
      SP_VERSION_PATCH);
}

int64_t sp_now_ns(void) {
  return sp_now_ns_();
}
