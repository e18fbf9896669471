# Sourced by the scripts in this directory: install missing Debian packages.
# sp_need_packages PKG...: apt-get install -y the ones not installed yet
# (as root, or through sudo), running apt-get update once first.
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
