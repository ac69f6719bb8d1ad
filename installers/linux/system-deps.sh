#!/usr/bin/env bash
# Debian/Ubuntu libraries that Qt, VTK and a virtual screen need, and strace (the offline test
# traces every connect). Installs only what is missing; without root it prints the command to
# run instead. Safe to call every time (it is quick).
set -u
[ "$(uname -s)" = "Linux" ] || exit 0
command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian system; install Qt's xcb/EGL libraries yourself."; exit 0; }

PACKAGES="libgl1 libegl1 libglib2.0-0 libxkbcommon0 libx11-6 libdbus-1-3 libfreetype6 libfontconfig1
libosmesa6 xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0 libxcb-xinerama0 libxrender1 libxi6
strace"

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "system-deps: installing$missing"
if [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { echo "system-deps: apt-get failed; the GUI may not start." >&2; exit 1; }
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "system-deps: please run:  sudo apt-get install --no-install-recommends$missing" >&2
fi
