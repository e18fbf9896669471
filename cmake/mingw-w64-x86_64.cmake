# Cross-compile for 64-bit Windows with mingw-w64 (Debian/Ubuntu package
# mingw-w64) and run the tests under wine (packages wine, wine64):
#
#   cmake -S . -B build-win \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DSYNCPLUS_TEST_TIMEOUT_MULTIPLIER=4
#   cmake --build build-win -j && (cd build-win && WINEDEBUG=-all ctest)
#
# scripts/test-windows.sh does all of this (and installs the packages).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SP_MINGW_TRIPLE x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${SP_MINGW_TRIPLE}-gcc REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${SP_MINGW_TRIPLE}-g++)
find_program(CMAKE_RC_COMPILER NAMES ${SP_MINGW_TRIPLE}-windres)

# Headers and libraries come from the mingw-w64 sysroot only (and from the
# roots given with -DCMAKE_FIND_ROOT_PATH=..., e.g. an installed Windows
# libsyncplus); programs (compilers, wine) from the host.
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${SP_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained .exe files: link the compiler runtime (libgcc, and
# winpthread if anything pulls it in) statically, so wine (or Windows) needs
# no mingw DLL next to the programs.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc")

# ctest (and add_custom_command with a target's executable) run the .exe
# files through wine. Debian installs the 64-bit loader as wine64 in
# /usr/lib/wine; `wine` itself also runs 64-bit programs.
find_program(SP_WINE NAMES wine64 wine
  PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin)
if(SP_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SP_WINE})
endif()
