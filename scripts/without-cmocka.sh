#!/usr/bin/env bash
# Run a command as on a machine without libcmocka-dev: in a private mount
# namespace where every file of the packages libcmocka-dev and libcmocka0
# (headers, libraries, CMake and pkg-config files) is hidden by an overlay
# with whiteouts. Neither CMake's find_* nor the compiler nor the linker can
# see them; the rest of the system is unchanged, and nothing is changed
# outside the namespace.
#
#   scripts/without-cmocka.sh CMD [ARG...]
#
# Prints one line saying how cmocka was hidden. When the packages are not
# installed, runs CMD as it is. When no mount namespace can be made (not
# root, no overlayfs), exits with status 97 without running CMD, so the
# caller can fall back to another simulation.
set -euo pipefail
pkgs=""
for p in libcmocka-dev libcmocka0; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" &&
    pkgs="$pkgs $p"
done
if [ -z "$pkgs" ]; then
  echo "without-cmocka: no cmocka package installed; running as is"
  exec "$@"
fi
if [ "${SP_IN_NAMESPACE_:-}" != 1 ]; then
  # Re-run this script inside a new mount namespace (private propagation:
  # the mounts below are seen by nothing else).
  if ! unshare -m --propagation private true 2>/dev/null; then
    echo "without-cmocka: cannot create a mount namespace" >&2
    exit 97
  fi
  # The overlays' upper and work directories: made here, removed here once
  # the namespace (the only place they are mounted) is gone.
  tmp=$(mktemp -d /tmp/without-cmocka.XXXXXX)
  rc=0
  SP_IN_NAMESPACE_=1 SP_NAMESPACE_TMP_=$tmp \
    unshare -m --propagation private "$0" "$@" || rc=$?
  rm -rf "$tmp"
  exit $rc
fi

# The packages' files (not directories, not documentation).
# shellcheck disable=SC2086
mapfile -t files < <(dpkg -L $pkgs | while read -r f; do
  case $f in /usr/share/*) continue ;; esac
  if [ -L "$f" ] || { [ -e "$f" ] && [ ! -d "$f" ]; }; then echo "$f"; fi
done)
tmp=$SP_NAMESPACE_TMP_
declare -A root_of=()
for f in "${files[@]}"; do
  case $f in
    /usr/include/*) root=/usr/include ;;
    /usr/lib/*/*) root=/usr/lib/$(echo "$f" | cut -d/ -f4) ;;
    /usr/lib/*) root=/usr/lib ;;
    /lib/*/*) root=/lib/$(echo "$f" | cut -d/ -f3) ;;
    *) echo "without-cmocka: cannot hide $f" >&2; exit 97 ;;
  esac
  [ -d "$root" ] || { echo "without-cmocka: $root is not a directory" >&2; exit 97; }
  root_of[$root]=1
  up=$tmp/$(echo "$root" | tr / _)/up
  rel=${f#"$root"/}
  mkdir -p "$up/$(dirname "$rel")"
  # An overlayfs whiteout: a 0/0 character device hides the lower file.
  mknod "$up/$rel" c 0 0 || exit 97
done
for root in "${!root_of[@]}"; do
  d=$tmp/$(echo "$root" | tr / _)
  mkdir -p "$d/work"
  mount -t overlay overlay \
    -o "lowerdir=$root,upperdir=$d/up,workdir=$d/work" "$root" || exit 97
done
for f in "${files[@]}"; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    echo "without-cmocka: $f is still visible" >&2
    exit 97
  fi
done
if echo '#include <cmocka.h>' | cc -E -x c - >/dev/null 2>&1; then
  echo "without-cmocka: the compiler still finds <cmocka.h>" >&2
  exit 97
fi
echo "without-cmocka: ${#files[@]} files of$pkgs hidden (mount namespace)"
exec "$@"
