"""The GPU path checked in one run: the figures of `benchmarks/gpu_check.sh` (which sets up the
environment and runs `matlens doctor` first). Each check prints its figures and "ok" or
"FAILED: why"; the exit status is 1 when any check failed.

    python benchmarks/gpu_check.py [--cpu-dry-run]

On a machine with a working CUDA GPU the "gpu" side runs on CUDA and the "cpu" side on the CPU,
in the same process, one after the other:

1. SAM (MobileSAM): embedding at 1024² (median of runs after a warm-up) and click → mask
   (decoder, p50 of clicks), GPU against CPU; the masks must agree (IoU >= 0.98).
2. Segment everything at 1024² (32 × 32 points) on the GPU, against the CPU's objects.
3. CHGNet: energies, forces and stress of perturbed supercells, GPU against CPU: energies
   within 1e-4 eV/atom; throughput in structures and atoms per second on each.
4. Out of GPU memory: a SAM encoder limited to a few MB of GPU memory
   (MATLENS_GPU_MEMORY_LIMIT) must fall back to the CPU, give the CPU's embedding, and leave
   the notice a person sees (`sessions.gpu_fallbacks()`, shown by the window).

Without CUDA (or with --cpu-dry-run) both sides run on the CPU with fewer repeats: this proves
the script itself, not the GPU; check 4 then simulates the arena's refusal, since no real GPU
can run out. Targets on an H100 (printed, not failures): embedding <= 10 ms, segment everything
<= 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import inference  # noqa: E402,F401 - the offline environment before onnxruntime loads

SAMPLES = REPO / "resources" / "samples"
FAILURES: list[str] = []


def check(name: str, ok: bool, why: str = "") -> None:
    print(f"  {name}: {'ok' if ok else 'FAILED: ' + why}", flush=True)
    if not ok:
        FAILURES.append(f"{name}: {why}")


def micrograph(size: int = 1024) -> np.ndarray:
    """The bundled superalloy micrograph (512²) tiled to size² RGB."""
    import tifffile

    image = tifffile.imread(SAMPLES / "superalloy_precipitates.tif")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    reps = -(-size // image.shape[0])
    return np.ascontiguousarray(np.tile(image[..., :3], (reps, reps, 1))[:size, :size])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def sam_check(gpu_side: bool, embed_runs: int, clicks: int):
    from inference.segmentation.sam import SamModel

    image = micrograph()
    model = SamModel(prefer_gpu=gpu_side, use_cache=False)
    model.embed(image)  # warm-up: session, allocations, kernels
    times = []
    for _ in range(embed_runs):
        began = time.perf_counter()
        embedding = model.embed(image)
        times.append(time.perf_counter() - began)
    rng = np.random.default_rng(0)
    points = rng.uniform(40, 984, (clicks, 2))
    latencies, masks = [], []
    for x, y in points:
        began = time.perf_counter()
        candidate = model.predict(embedding, [(float(x), float(y), 1)])[0]
        latencies.append(time.perf_counter() - began)
        masks.append(candidate.mask)
    return model, embedding, statistics.median(times), statistics.median(latencies), masks


def everything_check(model, embedding):
    from inference.segmentation.automatic import segment_everything

    segment_everything(model, embedding)  # warm-up of the batch decoder
    began = time.perf_counter()
    masks = segment_everything(model, embedding)
    return time.perf_counter() - began, masks


def chgnet_structures(count: int):
    from pymatgen.core import Structure

    rng = np.random.default_rng(1)
    bases = [Structure.from_file(SAMPLES / n) for n in ("NaCl.cif", "SrTiO3.cif")]
    out = []
    for k in range(count):
        s = bases[k % 2].copy()
        s.make_supercell([1 + k % 3, 1 + (k // 3) % 2, 1])
        shift = rng.normal(0, 0.03, (len(s), 3))
        for i, d in enumerate(shift):
            s.translate_sites([i], d, frac_coords=False, to_unit_cell=True)
        out.append(s)
    return out


def chgnet_check(gpu_side: bool, structures, repeats: int):
    from inference.prediction.potential import Potential

    potential = Potential(prefer_gpu=gpu_side)
    potential.predict(structures[:4])  # warm-up
    best = float("inf")
    results = []
    for _ in range(repeats):
        began = time.perf_counter()
        results = potential.predict(structures)
        best = min(best, time.perf_counter() - began)
    return potential.device.label, results, best


def oom_check(dry: bool, image: np.ndarray, cpu_embedding) -> None:
    from inference.runtime.sessions import CUDA, DeviceReport, gpu_fallbacks
    from inference.segmentation.sam import SamModel

    before = len(gpu_fallbacks())
    if dry:
        # No GPU can run out here: the CUDA session is replaced by one that refuses as
        # onnxruntime's arena does; the fall back, the CPU run and the notice are real.
        model = SamModel(prefer_gpu=False, use_cache=False)
        encoder = model._session("encoder")

        class Refusing:
            def run(self, outputs, feeds):
                raise RuntimeError(
                    "bfc_arena.cc:359 onnxruntime::BFCArena::AllocateRawInternal Failed to "
                    "allocate memory for requested buffer of size 268435456"
                )

        encoder.session = Refusing()  # type: ignore[assignment] - the simulated CUDA session
        encoder.device = DeviceReport(CUDA, True, "simulated")
        how = "simulated arena refusal (dry run)"
    else:
        os.environ["MATLENS_GPU_MEMORY_LIMIT"] = "32M"  # weights fit, 1024² activations do not
        model = SamModel(prefer_gpu=True, use_cache=False)
        how = "MATLENS_GPU_MEMORY_LIMIT=32M"
    try:
        embedding = model.embed(image)
    finally:
        os.environ.pop("MATLENS_GPU_MEMORY_LIMIT", None)
    notices = gpu_fallbacks()[before:]
    encoder = model._session("encoder").device
    print(f"  forced out of memory ({how}); the encoder now: {encoder.label}")
    for notice in notices:
        print(f"  notice: {notice}")
    check("out of memory: the encoder went on on the CPU", not encoder.is_gpu, "still on GPU")
    check(
        "out of memory: the notice a person sees",
        any("ran out of memory" in n for n in notices),
        f"no notice (got {notices})",
    )
    diff = float(np.abs(embedding.features - cpu_embedding.features).max())
    check("out of memory: the CPU's embedding", diff < 1e-3, f"max |Δ| {diff:.2e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cpu-dry-run", action="store_true")
    args = parser.parse_args()
    from inference.runtime.sessions import device_report

    device = device_report()
    dry = args.cpu_dry_run or not device.is_gpu
    gpu_name = "gpu" if not dry else "gpu side (CPU: dry run)"
    print(
        f"device: {device.label}{'  [CPU DRY RUN: figures prove the script only]' if dry else ''}"
    )
    if not dry:
        check("CUDA session", device.is_gpu, device.reason)
    embed_runs, clicks, repeats = (3, 10, 1) if dry else (20, 100, 3)

    print("1. SAM embedding 1024² and click → mask")
    gpu_model, gpu_emb, gpu_embed_s, gpu_click_s, gpu_masks = sam_check(True, embed_runs, clicks)
    cpu_model, cpu_emb, cpu_embed_s, cpu_click_s, cpu_masks = sam_check(False, embed_runs, clicks)
    print(f"  {gpu_name}: {gpu_model.device.label}; cpu: {cpu_model.device.label}")
    print(
        f"  embedding: gpu {gpu_embed_s * 1000:.1f} ms, cpu {cpu_embed_s * 1000:.1f} ms "
        f"({cpu_embed_s / gpu_embed_s:.1f}x); target <= 10 ms on an H100: "
        f"{'met' if gpu_embed_s <= 0.010 else 'not met'}"
    )
    print(
        f"  click p50: gpu {gpu_click_s * 1000:.1f} ms, cpu {cpu_click_s * 1000:.1f} ms "
        f"({cpu_click_s / gpu_click_s:.1f}x)"
    )
    if not dry:
        check("SAM on CUDA", gpu_model.device.is_gpu, gpu_model.device.reason)
    ious = [_iou(a, b) for a, b in zip(gpu_masks, cpu_masks, strict=True)]
    check("SAM masks gpu = cpu (IoU >= 0.98)", min(ious) >= 0.98, f"lowest IoU {min(ious):.3f}")

    print("2. segment everything 1024², 32 × 32 points")
    gpu_all_s, gpu_all = everything_check(gpu_model, gpu_emb)
    began = time.perf_counter()
    from inference.segmentation.automatic import segment_everything

    cpu_all = segment_everything(cpu_model, cpu_emb)
    cpu_all_s = time.perf_counter() - began
    print(
        f"  gpu {gpu_all_s:.3f} s ({len(gpu_all)} objects), cpu {cpu_all_s:.2f} s "
        f"({len(cpu_all)} objects), {cpu_all_s / gpu_all_s:.1f}x; target <= 0.5 s on an H100: "
        f"{'met' if gpu_all_s <= 0.5 else 'not met'}"
    )
    close = abs(len(gpu_all) - len(cpu_all)) <= max(2, 0.05 * len(cpu_all))
    check("segment everything: same objects gpu and cpu (±5 %)", close, "counts differ")

    print("3. CHGNet energies, forces, stress")
    structures = chgnet_structures(24 if dry else 256)
    atoms = sum(len(s) for s in structures)
    gpu_label, gpu_res, gpu_s = chgnet_check(True, structures, repeats)
    cpu_label, cpu_res, cpu_s = chgnet_check(False, structures, repeats)
    pairs = list(zip(gpu_res, cpu_res, strict=True))
    de = max(abs(a.energy_per_atom - b.energy_per_atom) for a, b in pairs)
    df = max(float(np.abs(a.forces - b.forces).max()) for a, b in pairs)
    ds = max(float(np.abs(a.stress - b.stress).max()) for a, b in pairs)
    print(f"  {gpu_name}: {gpu_label}; cpu: {cpu_label}")
    print(
        f"  {len(structures)} structures, {atoms} atoms: gpu {len(structures) / gpu_s:.1f} "
        f"structures/s ({atoms / gpu_s:.0f} atoms/s), cpu {len(structures) / cpu_s:.1f} "
        f"structures/s ({atoms / cpu_s:.0f} atoms/s), {cpu_s / gpu_s:.1f}x"
    )
    print(f"  max |ΔE| {de:.2e} eV/atom, |ΔF| {df:.2e} eV/Å, |Δσ| {ds:.2e} GPa")
    check("CHGNet energies gpu = cpu within 1e-4 eV/atom", de <= 1e-4, f"max |ΔE| {de:.2e}")
    if not dry:
        check("CHGNet on CUDA", gpu_label.startswith("GPU"), gpu_label)

    print("4. out of GPU memory → CPU, with its notice")
    oom_check(dry, micrograph(), cpu_emb)

    print(f"{'DRY RUN (CPU): ' if dry else ''}{len(FAILURES)} checks failed")
    for failure in FAILURES:
        print(f"  FAILED {failure}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
