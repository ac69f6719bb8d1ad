#!/usr/bin/env bash
# The GPU path in one short run (< 5 min on an H100): set-up, `matlens doctor`, then
# benchmarks/gpu_check.py (SAM embedding and clicks GPU vs CPU, segment everything, CHGNet GPU
# vs CPU within 1e-4 eV/atom with throughput, a forced out-of-GPU-memory fall back and its
# notice). Prints the figures; exits nonzero when the set-up or any check fails.
#
#   bash benchmarks/gpu_check.sh                 # on a machine with an NVIDIA GPU
#   bash benchmarks/gpu_check.sh --cpu-dry-run   # anywhere: proves the script, not the GPU
#
# Without a CUDA GPU it runs as --cpu-dry-run by itself and says so on every figure.
#
# Set-up, from a copy of the working tree on a bare machine, kept quick:
#   - Python: $MATLENS_PYTHON, else .venv/bin/python when it runs MatLens, else a new
#     .venv-gpu (with the system's packages, so a CUDA image's numpy/scipy are reused) where
#     `pip install -e .` brings onnxruntime-gpu; with no network, put the wheels in .whl/
#     (pip then installs from there only).
#   - Models: `python -m inference.export` exports only those missing or changed (a carried
#     ~/.local/share/MatLens/models, or MATLENS_MODELS, is reused as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
DRY=""
for arg in "$@"; do
    case "$arg" in
        --cpu-dry-run) DRY="--cpu-dry-run" ;;
        *) echo "usage: $0 [--cpu-dry-run]" >&2; exit 2 ;;
    esac
done
if [ -z "$DRY" ] && ! nvidia-smi -L >/dev/null 2>&1; then
    echo "no NVIDIA GPU here (nvidia-smi finds none): CPU dry run"
    DRY="--cpu-dry-run"
fi
started=$(date +%s)

echo "== set-up"
runs_matlens() { "$1" -c "import inference, onnxruntime, numpy, pymatgen, tokenizers" 2>/dev/null; }
PY="${MATLENS_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ] && runs_matlens .venv/bin/python; then
        PY=.venv/bin/python
    else
        [ -x .venv-gpu/bin/python ] || python3 -m venv --system-site-packages .venv-gpu
        PY=.venv-gpu/bin/python
        if ! runs_matlens "$PY"; then
            wheels=()
            [ -d .whl ] && wheels=(--no-index --find-links .whl)
            "$PY" -m pip install -q "${wheels[@]}" -e .
        fi
    fi
fi
echo "python: $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
if [ -z "$DRY" ]; then
    # Plain `onnxruntime` beside onnxruntime-gpu shadows it: say so instead of running on CPU.
    "$PY" -c "import onnxruntime as o, sys; p=o.get_available_providers(); print('onnxruntime', o.__version__, p); sys.exit(0 if 'CUDAExecutionProvider' in p else 3)" \
        || { echo "FAILED: this onnxruntime has no CUDA provider (install onnxruntime-gpu, see pyproject.toml)"; exit 1; }
fi
"$PY" -m inference.export
echo "set-up: $(( $(date +%s) - started )) s"

echo "== matlens doctor"
doctor_json=$(mktemp)
trap 'rm -f "$doctor_json"' EXIT
# doctor exits 1 when a model is damaged: judged below (only the models these checks run count)
"$PY" -m desktop.launcher doctor || [ $? -eq 1 ]
"$PY" -m desktop.launcher doctor --json >"$doctor_json" || [ $? -eq 1 ]
"$PY" - "$doctor_json" "$DRY" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
device, dry = report["device"], bool(sys.argv[2])
# the models these checks run must be there; others are reported only
needed = {"mobile_sam", "chgnet"}
bad = [m["id"] for m in report["models"] if not m["ok"]]
print(f"doctor: device {device['label']}; offline {report['offline']}; models not ok: {bad or 'none'}")
problems = []
if needed & set(bad):
    problems.append(f"models this check needs are not ok: {sorted(needed & set(bad))}")
if not report["offline"]:
    problems.append(f"not offline: {report['offline_why_not']}")
if not dry and not device["is_gpu"]:
    problems.append(f"doctor says the models run on the CPU: {device['why_not_gpu']}")
for p in problems:
    print(f"FAILED: {p}")
sys.exit(1 if problems else 0)
EOF

echo "== checks"
"$PY" benchmarks/gpu_check.py $DRY
echo "gpu_check: all passed in $(( $(date +%s) - started )) s${DRY:+ (CPU dry run: no GPU was used)}"
