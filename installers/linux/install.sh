#!/usr/bin/env bash
# Install MatLens from this unpacked tarball: per user (default, into ~/.local) or for every
# user (--system, into /opt/matlens; needs root). Needs no network and no Python.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--system] [--prefix DIR] [--gpu-pack FILE] [--uninstall] [--help]

Installs MatLens with a menu entry, an icon and file types (.cif, .dm3, .dm4, .emd).

  (no option)     for you only: the app in ~/.local/lib/matlens, the command ~/.local/bin/matlens
  --system        for every user (run as root): the app in /opt/matlens, /usr/local/bin/matlens
  --prefix DIR    install under DIR instead (app in DIR/lib/matlens, command in DIR/bin)
  --gpu-pack FILE also unpack the GPU pack (CUDA and cuDNN for NVIDIA GPUs) into the app
  --uninstall     remove what an earlier install put there (same --system/--prefix as then)
  --help          this text

After installing, `matlens doctor` checks the models and says whether the GPU is used.
EOF
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=user
PREFIX=""
GPU_PACK=""
ACTION=install
while [ $# -gt 0 ]; do
  case "$1" in
    --system) MODE=system ;;
    --prefix) PREFIX="${2:?--prefix needs a folder}"; shift ;;
    --gpu-pack) GPU_PACK="${2:?--gpu-pack needs a file}"; shift ;;
    --uninstall) ACTION=uninstall ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "$PREFIX" ]; then
  APPDIR="$PREFIX/lib/matlens"; BINDIR="$PREFIX/bin"; DATADIR="$PREFIX/share"
elif [ "$MODE" = system ]; then
  APPDIR=/opt/matlens; BINDIR=/usr/local/bin; DATADIR=/usr/local/share
else
  APPDIR="$HOME/.local/lib/matlens"; BINDIR="$HOME/.local/bin"
  DATADIR="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
if [ "$MODE" = system ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: --system needs root: run  sudo ./install.sh --system" >&2
  exit 2
fi

if [ "$ACTION" = uninstall ]; then
  if [ ! -x "$APPDIR/uninstall.sh" ]; then
    echo "install.sh: no MatLens install found in $APPDIR" >&2
    exit 1
  fi
  exec "$APPDIR/uninstall.sh"
fi

[ -x "$HERE/matlens/matlens" ] || {
  echo "install.sh: $HERE/matlens/matlens is missing; unpack the whole tarball first" >&2
  exit 1
}
if [ -n "$GPU_PACK" ] && [ ! -f "$GPU_PACK" ]; then
  echo "install.sh: GPU pack $GPU_PACK not found" >&2
  exit 1
fi

# An earlier install is removed first, so an upgrade leaves no stale files behind.
if [ -x "$APPDIR/uninstall.sh" ]; then
  echo "Removing the MatLens already in $APPDIR"
  "$APPDIR/uninstall.sh" --quiet
fi

echo "Installing MatLens into $APPDIR"
mkdir -p "$(dirname "$APPDIR")" "$BINDIR"
rm -rf "$APPDIR.partial"
cp -a "$HERE/matlens" "$APPDIR.partial"
cp "$HERE/uninstall.sh" "$APPDIR.partial/uninstall.sh"
chmod 755 "$APPDIR.partial/uninstall.sh"
if [ -n "$GPU_PACK" ]; then
  echo "Adding the GPU pack $(basename "$GPU_PACK")"
  tar -xzf "$GPU_PACK" -C "$APPDIR.partial"
fi
mv "$APPDIR.partial" "$APPDIR"

MANIFEST="$APPDIR/install-manifest.txt"
: >"$MANIFEST"
put() { # put SOURCE DEST: copy one file and remember it for uninstall
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2"
  chmod 644 "$2"
  echo "$2" >>"$MANIFEST"
}

ln -sfn "$APPDIR/matlens" "$BINDIR/matlens"
echo "$BINDIR/matlens" >>"$MANIFEST"

DESKTOP="$DATADIR/applications/matlens.desktop"
mkdir -p "$(dirname "$DESKTOP")"
sed -e "s|^Exec=.*|Exec=\"$APPDIR/matlens\" %F|" -e "s|^TryExec=.*|TryExec=$APPDIR/matlens|" \
  "$HERE/share/applications/matlens.desktop" >"$DESKTOP"
chmod 644 "$DESKTOP"
echo "$DESKTOP" >>"$MANIFEST"

put "$HERE/share/mime/packages/matlens.xml" "$DATADIR/mime/packages/matlens.xml"
for icon in "$HERE"/share/icons/hicolor/*/apps/matlens.*; do
  rel="${icon#"$HERE/share/"}"
  put "$icon" "$DATADIR/$rel"
done
echo "$DATADIR" >"$APPDIR/install-datadir.txt"

# Refresh the desktop's caches; a missing tool only delays the menu entry to the next login.
if command -v update-mime-database >/dev/null 2>&1; then
  update-mime-database "$DATADIR/mime" >/dev/null 2>&1 || true
fi
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database "$DATADIR/applications" >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t "$DATADIR/icons/hicolor" >/dev/null 2>&1 || true
fi

echo "MatLens installed. Start it from the applications menu or with: $BINDIR/matlens"
case ":$PATH:" in
  *":$BINDIR:"*) ;;
  *) echo "Note: $BINDIR is not on your PATH; add it, or use the full path above." ;;
esac
echo "Check it with: $BINDIR/matlens doctor    Remove it with: $APPDIR/uninstall.sh"
