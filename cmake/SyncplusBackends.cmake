# Backends: which sources make each one, and the generated config header.
#
# A backend is a platform directory (src/unix or src/win, which provides
# platform_impl.h, see src/platform.h) plus a condition strategy:
# src/cond_native.c (the OS condition) or src/cond_sema.c (emulated on
# semaphores). Everything else is portable and shared by all backends.
include(CheckTypeSize)

# Portable sources, shared by every backend. Add new primitives here.
set(SP_PORTABLE_SOURCES
  src/info.c
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
)

# out_var: the backends this platform supports, the default one first.
function(sp_platform_backends out_var)
  if(WIN32)
    set(${out_var} win32 win32-sem PARENT_SCOPE)
  else()
    set(${out_var} sem pthread PARENT_SCOPE)
  endif()
endfunction()

# Storage sizes of the native objects, as C expressions for config.h.
function(sp_native_sizes backend mutex_var cond_var)
  if(backend MATCHES "^win32")
    set(${mutex_var} "sizeof(void *)" PARENT_SCOPE)
  else()
    set(CMAKE_EXTRA_INCLUDE_FILES pthread.h)
    check_type_size(pthread_mutex_t SP_SIZEOF_PTHREAD_MUTEX)
    check_type_size(pthread_cond_t SP_SIZEOF_PTHREAD_COND)
    if(NOT SP_SIZEOF_PTHREAD_MUTEX OR NOT SP_SIZEOF_PTHREAD_COND)
      message(FATAL_ERROR "cannot determine the size of pthread types")
    endif()
    set(${mutex_var} "${SP_SIZEOF_PTHREAD_MUTEX}" PARENT_SCOPE)
  endif()
  if(backend STREQUAL "pthread")
    set(${cond_var} "${SP_SIZEOF_PTHREAD_COND}" PARENT_SCOPE)
  elseif(backend STREQUAL "win32")
    set(${cond_var} "sizeof(void *)" PARENT_SCOPE)
  else() # emulated: the waiter queue's head and tail
    set(${cond_var} "2 * sizeof(void *)" PARENT_SCOPE)
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

  add_library(${target} ${type} ${SP_PORTABLE_SOURCES} ${cond})
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    POSITION_INDEPENDENT_CODE ON
    SP_BACKEND ${backend})

  # The generated config header records the backend and the library type.
  if(type STREQUAL "SHARED" OR (type STREQUAL "" AND BUILD_SHARED_LIBS))
    set(SP_CFG_SHARED 1)
  else()
    set(SP_CFG_SHARED 0)
  endif()
  set(SP_CFG_BACKEND ${backend})
  foreach(b pthread sem win32 win32_sem)
    string(TOUPPER ${b} B)
    string(REPLACE "-" "_" be_id ${backend})
    if(be_id STREQUAL b)
      set(SP_CFG_IS_${B} 1)
    else()
      set(SP_CFG_IS_${B} 0)
    endif()
  endforeach()
  sp_native_sizes(${backend} SP_CFG_MUTEX_SIZE SP_CFG_COND_SIZE)
  set(gen ${PROJECT_BINARY_DIR}/gen/${target})
  configure_file(${root}/include/syncplus/config.h.in
                 ${gen}/syncplus/config.h @ONLY)

  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${gen}>
           $<BUILD_INTERFACE:${root}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${root}/src ${root}/src/${platform})
  target_compile_definitions(${target} PRIVATE SP_BUILDING_LIBRARY_)
  if(platform STREQUAL "unix")
    # POSIX and sem_clockwait (a GNU extension, glibc 2.30+) under -std=c11.
    target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  endif()
  if(SYNCPLUS_WERROR)
    set(werror -Werror)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra ${werror})
  target_link_libraries(${target} PUBLIC Threads::Threads)
  # No -lsynchronization for the win32 backends: they use only kernel32
  # (SRWLOCK, CONDITION_VARIABLE, semaphores, FLS). Linking it first would
  # bind those imports to api-ms-win-core-synch-l1-2-0.dll (Windows 8+).
endfunction()
