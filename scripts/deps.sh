# Sourced by the scripts in this directory: install missing Debian packages.
#
# sp_need_packages PKG...: apt-get install -y the ones not installed yet
# (as root, or through sudo), running apt-get update once first.
# sp_need GROUP...: the packages a stage needs, by name:
#   build    cmake, make, gcc, clang (+ its sanitizer runtime), pkg-config
#            (pkgconf), git (FetchContent from the local clone)
#   cmocka   the system's cmocka (the vendored copy serves when it is absent)
#   format   clang-format 14 (the version .clang-format is written for)
#   abi      abidiff (abigail-tools)
#   musl     musl-gcc (musl-tools)
#   i386     gcc -m32's C library and libgcc: libc6-dev-i386 and
#            lib32gcc-<gcc major>-dev. Not gcc-multilib: on Debian 12 it
#            conflicts with gcc-aarch64-linux-gnu, and only adds the
#            /usr/include/asm link (cmake/i386-linux.toolchain.cmake makes
#            its own)
#   aarch64  gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user
#   windows  mingw-w64, wine, wine64
sp_need_packages() {
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "== installing:$missing"
  if [ -z "${SP_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq || return 1
    SP_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing \
    >/dev/null || return 1
}

sp_need() {
  pkgs=""
  for g in "$@"; do
    case $g in
      build) pkgs="$pkgs cmake make gcc clang libclang-rt-14-dev pkg-config git" ;;
      cmocka) pkgs="$pkgs libcmocka-dev" ;;
      format) pkgs="$pkgs clang-format-14" ;;
      abi) pkgs="$pkgs abigail-tools" ;;
      musl) pkgs="$pkgs musl-tools" ;;
      i386)
        gccv=$(gcc -dumpversion 2>/dev/null | cut -d. -f1)
        pkgs="$pkgs libc6-dev-i386 lib32gcc-${gccv:-12}-dev" ;;
      aarch64) pkgs="$pkgs gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user" ;;
      windows) pkgs="$pkgs mingw-w64 wine wine64" ;;
      *) echo "sp_need: unknown group $g" >&2; return 1 ;;
    esac
  done
  sp_need_packages $pkgs
}
