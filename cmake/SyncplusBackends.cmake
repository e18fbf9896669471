# Backends: which sources make each one.
#
# A backend is a platform directory (src/unix or src/win, which provides
# platform_impl.h and its out-of-line parts, see src/platform.h) plus a
# condition strategy: src/cond_native.c (the OS condition) or
# src/cond_sema.c (emulated on per-waiter semaphores). Everything else is
# portable and shared by all backends. Nothing is generated: the installed
# headers are the same for every backend (their object sizes are fixed, and
# each backend checks its fit at compile time), and the backend's name is a
# private definition of info.c (sp_backend() tells it at run time).

# Portable sources, shared by every backend. Add new primitives here.
set(SP_PORTABLE_SOURCES
  src/info.c
  src/fault.c
  src/lazy.c
  src/mutex.c
  src/cond.c
  src/lock.c
  src/barrier.c
  src/rlock.c
  src/semaphore.c
  src/event.c
  src/queue.c
  src/gil.c
  src/thread.c
  src/once.c
  src/rwlock.c
)

# out_var: the backends this platform supports, the default one first.
function(sp_platform_backends out_var)
  if(WIN32)
    set(${out_var} win32 win32-sem PARENT_SCOPE)
  else()
    set(${out_var} sem pthread PARENT_SCOPE)
  endif()
endfunction()

# sp_add_backend_library(target backend type): a library of `backend`;
# type is STATIC, SHARED or "" (BUILD_SHARED_LIBS decides).
function(sp_add_backend_library target backend type)
  set(root ${PROJECT_SOURCE_DIR})
  if(backend STREQUAL "pthread")
    set(platform unix)
    set(cond src/cond_native.c)
  elseif(backend STREQUAL "sem")
    set(platform unix)
    set(cond src/cond_sema.c)
  elseif(backend STREQUAL "win32")
    set(platform win)
    set(cond src/cond_native.c)
  elseif(backend STREQUAL "win32-sem")
    set(platform win)
    set(cond src/cond_sema.c)
  else()
    message(FATAL_ERROR "unknown backend ${backend}")
  endif()
  set(platform_sources)
  if(platform STREQUAL "unix")
    set(platform_sources src/unix/platform.c)
  endif()

  add_library(${target} ${type} ${SP_PORTABLE_SOURCES} ${platform_sources}
              ${cond})
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON
    SP_BACKEND ${backend})

  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${root}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${root}/src ${root}/src/${platform})
  target_compile_definitions(${target} PRIVATE SP_BUILDING_LIBRARY_
    SP_BACKEND_NAME_="${backend}")
  if(type STREQUAL "SHARED" OR (type STREQUAL "" AND BUILD_SHARED_LIBS))
    # dllexport on Windows (syncplus/common.h's SP_API).
    target_compile_definitions(${target} PRIVATE SP_BUILDING_SHARED_)
  endif()
  if(platform STREQUAL "unix")
    # POSIX and sem_clockwait (a GNU extension, glibc 2.30+) under -std=c11.
    target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  endif()
  if(SYNCPLUS_WERROR)
    set(werror -Werror)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra ${werror})
  target_link_libraries(${target} PUBLIC Threads::Threads)
  if(platform STREQUAL "win")
    # WaitOnAddress and WakeByAddress* (Windows 8+), from
    # api-ms-win-core-synch-l1-2-0.dll: see docs/windows.md.
    target_link_libraries(${target} PUBLIC synchronization)
  endif()
endfunction()
