#!/usr/bin/env bash
# Remove this MatLens install: the files install.sh listed in install-manifest.txt, then the app
# folder itself. Your models, settings and annotations (in ~/.local/share/MatLens) are kept.
set -euo pipefail

APPDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
QUIET=""
[ "${1:-}" = "--quiet" ] && QUIET=1
MANIFEST="$APPDIR/install-manifest.txt"

# Refuse to delete a folder that is not a MatLens install.
if [ ! -f "$MANIFEST" ] || [ ! -x "$APPDIR/matlens" ]; then
  echo "uninstall.sh: $APPDIR does not look like a MatLens install; nothing removed" >&2
  exit 1
fi

while IFS= read -r path; do
  [ -n "$path" ] || continue
  if [ -L "$path" ] || [ -f "$path" ]; then
    rm -f "$path"
  fi
done <"$MANIFEST"

DATADIR="$(cat "$APPDIR/install-datadir.txt" 2>/dev/null || true)"
if [ -n "$DATADIR" ]; then
  if command -v update-mime-database >/dev/null 2>&1 && [ -d "$DATADIR/mime" ]; then
    update-mime-database "$DATADIR/mime" >/dev/null 2>&1 || true
  fi
  if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$DATADIR/applications" ]; then
    update-desktop-database "$DATADIR/applications" >/dev/null 2>&1 || true
  fi
fi

rm -rf "$APPDIR"
[ -n "$QUIET" ] || echo "MatLens removed from $APPDIR (your models and annotations were kept)."
