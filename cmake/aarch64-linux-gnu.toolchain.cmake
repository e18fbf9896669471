# Cross-compile for 64-bit ARM Linux (glibc) with gcc-aarch64-linux-gnu and
# libc6-dev-arm64-cross, and run the programs under qemu-user:
#
#   cmake -S . -B build-aarch64 \
#         -DCMAKE_TOOLCHAIN_FILE=$PWD/cmake/aarch64-linux-gnu.toolchain.cmake \
#         -DSYNCPLUS_TEST_TIMEOUT_MULTIPLIER=8
#   cmake --build build-aarch64 -j2 && ctest --test-dir build-aarch64
#
# ctest runs every test program through CMAKE_CROSSCOMPILING_EMULATOR
# (qemu-aarch64 with the cross libc as its root for the dynamic loader).
# No aarch64 cmocka is installed, so the tests build the vendored copy.
# scripts/test.sh's aarch64 stage does all of this.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(SP_AARCH64_TRIPLE aarch64-linux-gnu)
find_program(CMAKE_C_COMPILER NAMES ${SP_AARCH64_TRIPLE}-gcc REQUIRED)

# The cross libc's tree only (and roots given with -DCMAKE_FIND_ROOT_PATH).
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${SP_AARCH64_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(SP_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(SP_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      ${SP_QEMU_AARCH64} -L /usr/${SP_AARCH64_TRIPLE})
endif()
