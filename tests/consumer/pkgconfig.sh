#!/bin/sh
# Build tests/consumer/main.c with pkg-config against an installed prefix.
# Usage: tests/consumer/pkgconfig.sh <prefix> <outdir>
set -eu
prefix=$1 out=$2
pc=$(find "$prefix" -name syncplus.pc | head -n 1)
[ -n "$pc" ] || { echo "no syncplus.pc under $prefix" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
mkdir -p "$out"
# --static: a static libsyncplus needs its private dependencies (pthread).
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags syncplus) \
  "$(dirname "$0")/main.c" -o "$out/consumer-pc" \
  $(pkg-config --static --libs syncplus) -Wl,-rpath,"$(dirname "$pc")/.."
"$out/consumer-pc"
