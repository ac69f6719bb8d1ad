#!/usr/bin/env bash
# The optional GPU pack: onnxruntime-gpu's CUDA provider plus the CUDA 13 and cuDNN 9 libraries
# it loads, taken from NVIDIA's pip wheels. `install.sh --gpu-pack FILE` unpacks it into the app,
# where onnxruntime.preload_dlls() finds `nvidia/...` beside its package. The workstation then
# needs only the NVIDIA driver (580 or newer, for CUDA 13).
# Usage: installers/linux/build_gpu_pack.sh [WHEEL_DIR] [OUT_DIR]
#   WHEEL_DIR holds the nvidia-* wheels; missing ones are fetched with `pip download` (PyPI).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WHEELS="${1:-$ROOT/build/gpu-wheels}"
OUT="${2:-$ROOT/dist}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/inference/__init__.py")"
# onnxruntime-gpu 1.31.1 is built for CUDA 13.0 and cuDNN 9 (its [cuda] and [cudnn] extras).
PINS=("nvidia-cuda-runtime~=13.0" "nvidia-cublas~=13.0" "nvidia-curand~=10.0" "nvidia-cudnn-cu13~=9.0")
# What the CUDA provider links to (readelf -d) and loads (cuDNN); FFT and NVRTC are optional.
KEEP='nvidia/cu13/lib/lib(cudart|cublas|cublasLt|curand)\.so\.[0-9]+$|nvidia/cudnn/lib/libcudnn[a-z_]*\.so\.9$'

ORT_DIR="$("$PY" -c 'import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))')"
ORT_VERSION="$("$PY" -c 'import onnxruntime; print(onnxruntime.__version__)')"
PROVIDER="$ORT_DIR/capi/libonnxruntime_providers_cuda.so"
[ -f "$PROVIDER" ] || { echo "gpu-pack: $PROVIDER missing (is onnxruntime-gpu installed?)" >&2; exit 1; }

mkdir -p "$WHEELS"
"$PY" -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" "${PINS[@]}"

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/matlens-gpu-pack.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/_internal/onnxruntime/capi" "$STAGE/_internal/nvidia/licences"
cp "$PROVIDER" "$ORT_DIR/capi/libonnxruntime_providers_shared.so" "$STAGE/_internal/onnxruntime/capi/"
"$PY" - "$WHEELS" "$STAGE/_internal" "$KEEP" <<'EOF'
import re, sys, zipfile
from pathlib import Path

wheels, dest, keep = Path(sys.argv[1]), Path(sys.argv[2]), re.compile(sys.argv[3])
for wheel in sorted(wheels.glob("nvidia_*.whl")):
    with zipfile.ZipFile(wheel) as zf:
        libs = [n for n in zf.namelist() if keep.search(n)]
        for name in libs:
            zf.extract(name, dest)
        for name in zf.namelist() if libs else []:  # NVIDIA's licence travels with its libraries
            if re.search(r"\.dist-info/(licenses/)?(LICENSE|License)", name):
                target = dest / "nvidia" / "licences" / f"{wheel.name.split('-')[0]}.txt"
                target.write_bytes(zf.read(name))
EOF
chmod 755 "$STAGE"/_internal/nvidia/*/lib/*.so* "$STAGE"/_internal/onnxruntime/capi/*.so

mkdir -p "$OUT"
PACK="$OUT/MatLens-GPU-pack-$VERSION-onnxruntime$ORT_VERSION-cuda13-linux-x86_64.tar.gz"
tar -C "$STAGE" -cf - _internal | gzip -6 >"$PACK.partial"
mv "$PACK.partial" "$PACK"
echo "$PACK $(du -m "$PACK" | cut -f1) MB packed, $(du -sm "$STAGE/_internal" | cut -f1) MB unpacked"
