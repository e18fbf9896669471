# Build for 32-bit x86 Linux (i386 ABI, -m32) on an x86-64 Debian machine.
# The programs run natively (the kernel runs 32-bit programs), so no
# emulator is needed:
#
#   cmake -S . -B build-i386 \
#         -DCMAKE_TOOLCHAIN_FILE=$PWD/cmake/i386-linux.toolchain.cmake
#   cmake --build build-i386 -j2 && ctest --test-dir build-i386
#
# Needs the 32-bit C library and libgcc: on Debian 12, libc6-dev-i386 and
# lib32gcc-12-dev (gcc-multilib would do, but it conflicts with
# gcc-aarch64-linux-gnu there). No i386 cmocka is installed, so the tests
# build the vendored copy. scripts/test.sh's i386 stage does all of this.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
find_program(CMAKE_C_COMPILER NAMES gcc REQUIRED)
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)

# 32-bit libraries only: /usr/lib32 (libc6-dev-i386) and the i386 multiarch
# directory; never the x86-64 ones.
set(CMAKE_FIND_ROOT_PATH /usr/i686-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# gcc -m32 searches /usr/include only, where Debian keeps no <asm/...>
# (gcc-multilib would add the link /usr/include/asm). The kernel's x86
# UAPI headers serve both ABIs (they test __i386__), so link them into the
# build tree and search them last.
set(SP_I386_ASM_HEADERS ${CMAKE_BINARY_DIR}/i386-asm-headers)
if(NOT EXISTS ${SP_I386_ASM_HEADERS}/asm AND
   EXISTS /usr/include/x86_64-linux-gnu/asm)
  file(MAKE_DIRECTORY ${SP_I386_ASM_HEADERS})
  file(CREATE_LINK /usr/include/x86_64-linux-gnu/asm
       ${SP_I386_ASM_HEADERS}/asm SYMBOLIC)
endif()
string(APPEND CMAKE_C_FLAGS_INIT " -idirafter ${SP_I386_ASM_HEADERS}")
