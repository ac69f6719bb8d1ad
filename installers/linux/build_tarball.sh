#!/usr/bin/env bash
# Pack the bundle (dist/matlens, from `make bundle`) with install.sh, the menu entry, the icons and
# the file types into dist/MatLens-<version>-linux-x86_64.tar.gz.
# Usage: installers/linux/build_tarball.sh [BUNDLE_DIR] [OUT_DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${1:-$ROOT/dist/matlens}"
OUT="${2:-$ROOT/dist}"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/inference/__init__.py")"
NAME="MatLens-$VERSION-linux-x86_64"
HERE="$ROOT/installers/linux"
ICONS="$ROOT/resources/icons"
GLIBC="$(getconf GNU_LIBC_VERSION 2>/dev/null || echo "glibc of the build machine")"

[ -x "$BUNDLE/matlens" ] || { echo "build_tarball: no bundle at $BUNDLE (run make bundle)" >&2; exit 1; }

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/matlens-tarball.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
TOP="$STAGE/$NAME"
mkdir -p "$TOP/share/applications" "$TOP/share/mime/packages" "$TOP/share/icons/hicolor/scalable/apps"
cp -al "$BUNDLE" "$TOP/matlens" 2>/dev/null || cp -a "$BUNDLE" "$TOP/matlens"
install -m 755 "$HERE/install.sh" "$HERE/uninstall.sh" "$TOP/"
install -m 644 "$HERE/matlens.desktop" "$TOP/share/applications/matlens.desktop"
install -m 644 "$HERE/matlens-mime.xml" "$TOP/share/mime/packages/matlens.xml"
install -m 644 "$ICONS/matlens.svg" "$TOP/share/icons/hicolor/scalable/apps/matlens.svg"
for png in "$ICONS"/matlens-*.png; do
  size="$(basename "$png" .png)"; size="${size#matlens-}"
  mkdir -p "$TOP/share/icons/hicolor/${size}x${size}/apps"
  install -m 644 "$png" "$TOP/share/icons/hicolor/${size}x${size}/apps/matlens.png"
done
cat >"$TOP/README.txt" <<EOF
MatLens $VERSION for Linux x86-64, offline. Built against $GLIBC: the workstation needs that
version or newer (e.g. Debian 12, Ubuntu 24.04); for older systems build the bundle on one.

Install for yourself:      ./install.sh
Install for every user:    sudo ./install.sh --system
Remove:                    ./install.sh --uninstall   (or --system --uninstall)
Then run:                  matlens doctor     (checks the models and the GPU)

Qt needs the usual desktop libraries (on Debian/Ubuntu: libgl1 libegl1 libxkbcommon-x11-0
libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0).
NVIDIA GPUs: add the GPU pack with  ./install.sh --gpu-pack MatLens-GPU-pack-*.tar.gz
(needs an NVIDIA driver for CUDA 13, version 580 or newer).
EOF

mkdir -p "$OUT"
TARBALL="$OUT/$NAME.tar.gz"
tar -C "$STAGE" -cf - "$NAME" | gzip -6 >"$TARBALL.partial"
mv "$TARBALL.partial" "$TARBALL"
echo "$TARBALL $(du -m "$TARBALL" | cut -f1) MB"
