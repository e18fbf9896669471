# Build for musl libc on x86-64 with musl-gcc (Debian package musl-tools),
# as an Alpine container would run the library. The programs are static or
# linked against /usr/lib/musl and run natively, so no emulator is needed:
#
#   cmake -S . -B build-musl \
#         -DCMAKE_TOOLCHAIN_FILE=$PWD/cmake/musl-x86_64.toolchain.cmake
#   cmake --build build-musl -j2 && ctest --test-dir build-musl
#
# musl-gcc sees only musl's headers (/usr/include/x86_64-linux-musl), so the
# system's cmocka (built for glibc) is not found and the tests build the
# vendored copy. scripts/test.sh's musl stage does all of this.
find_program(CMAKE_C_COMPILER NAMES musl-gcc x86_64-linux-musl-gcc REQUIRED)

# Headers and libraries from musl's tree only, never glibc's.
set(CMAKE_FIND_ROOT_PATH /usr/lib/musl /usr/local/musl)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The Linux kernel's UAPI headers (<linux/futex.h>, <asm/...>), which
# musl-gcc leaves off its include path: on Alpine they are the
# linux-headers package. They do not depend on the C library, so Debian's
# copies serve: linked into the build tree and searched after musl's own.
set(SP_MUSL_KERNEL_HEADERS ${CMAKE_BINARY_DIR}/musl-kernel-headers)
if(NOT EXISTS ${SP_MUSL_KERNEL_HEADERS}/linux)
  file(MAKE_DIRECTORY ${SP_MUSL_KERNEL_HEADERS})
  foreach(d linux asm-generic x86_64-linux-gnu/asm)
    get_filename_component(n ${d} NAME)
    if(EXISTS /usr/include/${d})
      file(CREATE_LINK /usr/include/${d} ${SP_MUSL_KERNEL_HEADERS}/${n}
           SYMBOLIC)
    endif()
  endforeach()
endif()
set(CMAKE_C_FLAGS_INIT "-idirafter ${SP_MUSL_KERNEL_HEADERS}")
