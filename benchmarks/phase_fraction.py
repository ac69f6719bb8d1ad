"""Phase fractions from the microstructure map against the ground truth, next to Otsu.

Run by hand: `python benchmarks/phase_fraction.py [--points 32]` (~1 min per image on 2 CPU
cores: segment-everything dominates; needs `make models` and ../shared/data).

Data: NASA MicroNet Super1 (4 SEM images of a Ni superalloy; target: all annotated
precipitates, red and blue) and EBC1 (3 SEM cross-sections of a coating; targets: oxide, and
cracks). For each target the map of the matching kind is built from segment-everything's masks
("phase" for precipitates and oxide, "cracks" for cracks), default settings except that the
phase is the dark class, as for the baseline: Otsu's threshold on the grey image (Gaussian
σ = 1 px), the darker class (every target here is darker than its surroundings). Columns: area fractions, and the IoU of each binary map
with the ground truth (a fraction can be right by accident; the IoU cannot).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sam_accuracy import DATA, class_masks

from inference.imaging.display import to_display, to_rgb
from inference.imaging.io import read_micrograph
from inference.segmentation.automatic import AutoParams, segment_everything
from inference.segmentation.microstructure import MapParams, build_map, grey_image
from inference.segmentation.sam import SamModel

TARGETS = {  # dataset → (target name, ground-truth classes, map kind)
    "Super1": [("precipitates", ("red (secondary)", "blue (tertiary)"), "phase")],
    "EBC1": [("oxide", ("oxide",), "phase"), ("crack", ("crack",), "cracks")],
}


def otsu_dark(display: np.ndarray) -> np.ndarray:
    from skimage.filters import threshold_otsu

    grey = ndi.gaussian_filter(grey_image(display), 1.0)
    return grey < threshold_otsu(grey)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--model", default="mobile_sam")
    parser.add_argument("--points", type=int, default=32, help="points per side")
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"shared data not found: {DATA}")
    model = SamModel(args.model)
    params = AutoParams(points_per_side=args.points)
    rows = []
    for dataset, targets in TARGETS.items():
        for path in sorted((DATA / dataset / "test").glob("*.tif")):
            micrograph = read_micrograph(path)
            display = to_display(micrograph)
            start = time.perf_counter()
            masks = segment_everything(model, model.embed(to_rgb(micrograph)), params)
            seconds = time.perf_counter() - start
            annot = sorted((DATA / dataset / "test_annot").glob(path.stem + "*.tif"))[0]
            truth_by_class = class_masks(dataset, annot)
            baseline = otsu_dark(display)
            for name, classes, kind in targets:
                truth = np.logical_or.reduce([truth_by_class[c] for c in classes])
                found = build_map(display, masks, MapParams(kind=kind, phase="dark")).binary
                rows.append(
                    (
                        f"{dataset}/{path.stem}"[:34],
                        name,
                        kind,
                        truth.mean(),
                        found.mean(),
                        baseline.mean(),
                        iou(found, truth),
                        iou(baseline, truth),
                    )
                )
            print(f"  {dataset}/{path.stem}: {len(masks)} masks in {seconds:.1f} s", flush=True)
    head = f"{'image':34} {'target':12} {'map':6} {'truth':>7} {'map':>7} {'Otsu':>7} {'IoU map':>8} {'IoU Otsu':>8}"
    print("\n" + head)
    for image, name, kind, truth, found, base, iou_map, iou_base in rows:
        print(
            f"{image:34} {name:12} {kind:6} {truth:7.4f} {found:7.4f} {base:7.4f} "
            f"{iou_map:8.3f} {iou_base:8.3f}"
        )
    print("\nmean absolute error of the fraction, and mean IoU, per target")
    for name in dict.fromkeys(r[1] for r in rows):
        sel = [r for r in rows if r[1] == name]
        err_map = statistics.mean(abs(r[4] - r[3]) for r in sel)
        err_otsu = statistics.mean(abs(r[5] - r[3]) for r in sel)
        iou_map = statistics.mean(r[6] for r in sel)
        iou_otsu = statistics.mean(r[7] for r in sel)
        print(
            f"  {name:12} map |Δf| {err_map:.4f}  IoU {iou_map:.3f}   "
            f"Otsu |Δf| {err_otsu:.4f}  IoU {iou_otsu:.3f}"
        )


if __name__ == "__main__":
    main()
