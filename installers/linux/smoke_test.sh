#!/usr/bin/env bash
# Smoke test of a built bundle, as a workstation would run it: network off, an empty HOME (so the
# models must come from the bundle), `matlens doctor --json`, a CLI segmentation of the sample
# micrograph, a CIF through the time-limited parser (a child process of the frozen app), and the
# window opened offscreen and closed; then a structure drawn offscreen with VTK, an XYZ file,
# phases by example (scikit-learn), values from the sample paper and a composition prediction:
# each needs libraries the bundle recipe could leave out. Prints the bundle size and start-up times.
# Usage: installers/linux/smoke_test.sh [BUNDLE_DIR]   (default dist/matlens)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/dist/matlens}" 2>/dev/null && pwd)" || {
  echo "smoke: no bundle at ${1:-$ROOT/dist/matlens} (run make bundle)" >&2; exit 1; }
EXE="$BUNDLE/matlens"
SAMPLES="$BUNDLE/_internal/resources/samples"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
WORK="$(mktemp -d "${TMPDIR:-/tmp}/matlens-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "smoke: FAIL $*" >&2; FAILED=1; }
ok() { echo "smoke: ok   $*"; }

# Network off: a new network namespace (as root `unshare -n`, otherwise a user namespace).
NET=()
if unshare -n true 2>/dev/null; then NET=(unshare -n)
elif unshare -rn true 2>/dev/null; then NET=(unshare -rn)
else echo "smoke: cannot cut the network here (unshare refused); running with it on"; fi
[ ${#NET[@]} -gt 0 ] && ok "network off (${NET[*]})"

# A fresh user: empty HOME and no MatLens overrides, so nothing comes from the build machine.
run() {
  env -i PATH=/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 TMPDIR="$WORK" \
    QT_QPA_PLATFORM=offscreen VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow \
    "${NET[@]}" "$@"
}
mkdir -p "$WORK/home"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# 1. doctor: every model present and intact (from the bundle), the device named.
t0="$(now)"
if run "$EXE" doctor --json >"$WORK/doctor.json" 2>"$WORK/doctor.err"; then
  doctor_s="$(elapsed "$t0")"
  if "$PY" - "$WORK/doctor.json" <<'EOF'; then ok "doctor --json (${doctor_s} s, first run)"; else fail "doctor --json"; fi
import json, sys
report = json.load(open(sys.argv[1]))
bad = [m["id"] for m in report["models"] if not m["ok"]]
assert not bad, f"models not ok: {bad}"
assert report["device"]["provider"], report["device"]
assert report["offline"] is True, report["offline_why_not"]
print(f"       device: {report['device']['label']}; {len(report['models'])} models ok; offline")
EOF
else
  fail "doctor exited non-zero: $(tail -1 "$WORK/doctor.err")"
fi

# 2. segment the sample micrograph from the CLI and check the mask: at (200,200) as the README's
# example (SAM takes the matrix network there) and on one precipitate, which must come out small.
check_mask() { # check_mask X Y MAX_FRACTION
  "$PY" - "$WORK/segment.json" "$WORK/mask.png" "$1" "$2" "$3" <<'EOF'
import json, sys
out = json.load(open(sys.argv[1]))
x, y, most = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
area = out["objects"][0]["area_px"]
assert 0 < area <= most * out["width"] * out["height"], f"implausible area {area}"
try:
    import numpy as np
    from PIL import Image
except ImportError:
    print("       (no numpy/PIL here: mask pixels not counted)")
else:
    mask = np.asarray(Image.open(sys.argv[2]))
    assert mask.shape == (out["height"], out["width"]), mask.shape
    assert set(np.unique(mask).tolist()) <= {0, 255}
    assert mask[y, x] == 255, "the clicked pixel is not in the mask"
    assert int((mask == 255).sum()) == area, "mask pixels differ from area_px"
print(f"       click ({x},{y}): object of {area} px")
EOF
}
for click in "200 200 1.0" "335 262 0.02"; do
  set -- $click
  if run "$EXE" segment "$SAMPLES/superalloy_precipitates.tif" --point "$1,$2" \
    --out "$WORK/mask.png" --json >"$WORK/segment.json" 2>"$WORK/segment.err"; then
    if check_mask "$1" "$2" "$3"; then ok "segment --point $1,$2 (mask checked)"; else fail "segment --point $1,$2 output"; fi
  else
    fail "segment exited non-zero: $(tail -1 "$WORK/segment.err")"
  fi
done

# 3. a CIF through the time-limited parser (spawned child process of the frozen executable).
if run "$EXE" structure info "$SAMPLES/NaCl.cif" --json >"$WORK/structure.json" 2>"$WORK/structure.err" \
  && grep -q '"spacegroup_number": 225' "$WORK/structure.json"; then
  ok "structure info NaCl.cif (Fm-3m, parsed in a child process)"
else
  fail "structure info: $(tail -1 "$WORK/structure.err")"
fi

# 3b. the same child-process parser on an XYZ molecule (read through ASE, without pandas), and
# a structure drawn offscreen with VTK.
printf '3\nwater\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n' >"$WORK/water.xyz"
if run "$EXE" structure info "$WORK/water.xyz" --json >"$WORK/xyz.json" 2>"$WORK/xyz.err" \
  && grep -q '"reduced_formula": "H2O"' "$WORK/xyz.json"; then
  ok "structure info water.xyz (H2O)"
else
  fail "structure info water.xyz: $(tail -1 "$WORK/xyz.err")"
fi
if run "$EXE" structure render "$SAMPLES/SrTiO3.cif" --out "$WORK/srtio3.png" --size 400x300 \
  >"$WORK/render.txt" 2>"$WORK/render.err" && "$PY" - "$WORK/srtio3.png" <<'EOF'; then
import sys
with open(sys.argv[1], "rb") as fh:
    head = fh.read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
assert (width, height) == (400, 300), (width, height)
try:
    import numpy as np
    from PIL import Image
except ImportError:
    print("       (no numpy/PIL here: pixels not checked)")
else:
    rgb = np.asarray(Image.open(sys.argv[1]).convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(rgb, axis=0))
    assert colours > 50, f"only {colours} colours: nothing drawn"
    print(f"       {width}x{height} PNG, {colours} colours")
EOF
  ok "structure render SrTiO3.cif (VTK offscreen)"
else
  fail "structure render: $(tail -1 "$WORK/render.err")"
fi

# 3c. phases by example on the sample (SAM features and scikit-learn's random forest).
printf '%s' '{"examples": [{"class": "matrix", "points": [[200, 200]]},
  {"class": "precipitate", "points": [[335, 262], [100, 100]]}]}' >"$WORK/examples.json"
if run "$EXE" phases "$SAMPLES/superalloy_precipitates.tif" --examples "$WORK/examples.json" \
  --out "$WORK/phases.png" --json >"$WORK/phases.json" 2>"$WORK/phases.err" \
  && "$PY" - "$WORK/phases.json" <<'EOF'; then
import json, sys
out = json.load(open(sys.argv[1]))
fractions = {c["class"]: c["fraction"] for c in out["classes"]}
assert set(fractions) == {"matrix", "precipitate"}, fractions
assert all(0.05 < f < 0.95 for f in fractions.values()), fractions
print("       " + ", ".join(f"{k} {v:.0%}" for k, v in fractions.items()))
EOF
  ok "phases by example on the sample"
else
  fail "phases: $(tail -1 "$WORK/phases.err")"
fi

# 3d. values from the sample paper, and a prediction from a composition.
if run "$EXE" extract "$SAMPLES/LaFeAsO1-xHx_NMR_1609.04957.pdf" --json >"$WORK/extract.json" \
  2>"$WORK/extract.err" && "$PY" - "$WORK/extract.json" <<'EOF'; then
import json, sys
out = json.load(open(sys.argv[1]))
assert out["pages"] == 5 and out["records"], "no records"
assert any(r["property"] == "Tc" and r["unit"] == "K" for r in out["records"]), "no Tc in K"
print(f"       {len(out['records'])} records from {out['pages']} pages")
EOF
  ok "extract the sample paper"
else
  fail "extract: $(tail -1 "$WORK/extract.err")"
fi

# 3e. semantic search over the samples folder: MiniLM (float16 weights) runs in the bundle.
if run "$EXE" search "$SAMPLES" "nuclear magnetic resonance of an iron-based superconductor" \
  --mode semantic --top 3 --json >"$WORK/search.json" 2>"$WORK/search.err" \
  && "$PY" - "$WORK/search.json" <<'EOF'; then
import json, sys
out = json.load(open(sys.argv[1]))
assert out["mode"] == "semantic", f"fell back to {out['mode']}: {out['notice']}"
top = out["results"][0]
assert top["paper"].endswith("1609.04957.pdf") and top["score"] > 0.3, top
print(f"       top hit p{top['page']} (score {top['score']:.2f})")
EOF
  ok "semantic search of the samples folder"
else
  fail "search: $(tail -1 "$WORK/search.err")"
fi
if run "$EXE" predict Fe2O3 --json >"$WORK/predict.json" 2>"$WORK/predict.err" \
  && "$PY" - "$WORK/predict.json" <<'EOF'; then
import json, sys
out = json.load(open(sys.argv[1]))
assert out["reduced_formula"] == "Fe2O3"
by_property = {p["property"]: p for p in out["predictions"]}
energy, gap = by_property["formation_energy"], by_property["band_gap"]
# a prediction the known value contradicts is withheld (value null) with the model's number kept
model_energy = energy["value"] if energy["value"] is not None else energy["model_value"]
assert model_energy < 0 and gap["value"] >= 0, out
known = [k for k in out["known"] if k["dataset"] == "expt_gap"]
assert known and known[0]["value"] > 1.5, out  # the known experimental gap comes first
stable = next(k for k in out["known"] if k["dataset"] == "mp_e_form")
assert stable["value"] < 0 and stable.get("value_of_entries", "lowest") == "lowest", out
said = "withheld" if energy["value"] is None else "shown"
print(f"       known gap {known[0]['value']:.2f} eV, formation energy {stable['value']:.2f} "
      f"eV/atom (most stable); model {model_energy:.2f} ({said}), band gap {gap['value']:.2f} eV")
EOF
  ok "predict Fe2O3"
else
  fail "predict: $(tail -1 "$WORK/predict.err")"
fi

# 4. the window: first paint (cold start), then a screenshot and a clean exit.
t0="$(now)"
if run "$EXE" --quit-after-paint >"$WORK/paint.txt" 2>"$WORK/paint.err"; then
  ok "window first paint: $(awk '/first_paint_s/ {print $2}' "$WORK/paint.txt") s inside the app, $(elapsed "$t0") s wall"
else
  fail "window did not paint: $(tail -1 "$WORK/paint.err")"
fi
if run "$EXE" "$SAMPLES/superalloy_precipitates.tif" --screenshot "$WORK/window.png" \
  --screenshot-delay 4 >"$WORK/gui.txt" 2>"$WORK/gui.err" && [ -s "$WORK/window.png" ]; then
  ok "window opened offscreen with the sample, screenshot saved, closed (exit 0)"
  [ -n "${SMOKE_KEEP:-}" ] && cp "$WORK/window.png" "$SMOKE_KEEP"
else
  fail "window: $(tail -1 "$WORK/gui.err")"
fi

# 4b. offline for real: the window lives past onnxruntime's telemetry delay (about 10 s) under
# strace; any AF_INET/AF_INET6 connect (a DNS lookup included) or a telemetry database fails it.
if command -v strace >/dev/null 2>&1; then
  if run strace -f -qq -e trace=connect -o "$WORK/connect.trace" "$EXE" \
    "$SAMPLES/superalloy_precipitates.tif" --screenshot "$WORK/late.png" --screenshot-delay 16 \
    >"$WORK/late.txt" 2>"$WORK/late.err"; then
    if grep -E 'AF_INET6?[,}]' "$WORK/connect.trace" >"$WORK/inet.txt"; then
      fail "network connects from the window: $(head -1 "$WORK/inet.txt")"
    elif [ -e "$WORK/home/.cache/Microsoft" ]; then
      fail "onnxruntime telemetry wrote $WORK/home/.cache/Microsoft"
    else
      ok "window alive 16 s under strace: no AF_INET/AF_INET6 connect, no telemetry database"
    fi
  else
    fail "window under strace: $(tail -1 "$WORK/late.err")"
  fi
else
  echo "smoke: strace missing (installers/linux/system-deps.sh installs it): connects not traced"
fi

# 5. nothing of the set-up environment leaked in.
leaked="$(find "$BUNDLE/_internal" -maxdepth 1 \( -name 'torch*' -o -name 'transformers*' -o -name 'chgnet*' -o -name 'segment_anything*' \) | head -3)"
[ -z "$leaked" ] && ok "no torch/transformers/chgnet/segment_anything inside" || fail "bundle contains: $leaked"

total="$(du -sm "$BUNDLE" | cut -f1)"
cuda="$(find "$BUNDLE" -name 'libonnxruntime_providers_*.so' -not -name '*shared*' -print0 | du -cm --files0-from=- 2>/dev/null | tail -1 | cut -f1)"
echo "smoke: bundle $total MB (CUDA provider libraries inside: ${cuda:-0} MB)"
[ "$FAILED" = 0 ] && echo "smoke: all checks passed" || echo "smoke: some checks FAILED" >&2
exit "$FAILED"
