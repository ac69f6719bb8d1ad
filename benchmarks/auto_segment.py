"""Segment everything: speed on a 1024² micrograph, and what the settings find on real data.

Run by hand (needs `make models`; ../shared/data for the real images):

  python benchmarks/auto_segment.py [--runs 3] [--points 32]    speed (1-2 min on 2 CPU cores)
  python benchmarks/auto_segment.py --compare-loop 64           + the click decoder in a loop
  python benchmarks/auto_segment.py --tune                      thresholds on Super1 and EBC1

Speed: EBC1/040617_2_S127(2)0015.tif (1024², SEM), a 32x32 grid. The embedding is timed apart
(the pane computes it once per image when the image opens). Wall and CPU seconds, median of
`--runs`; CPU time shows the work when other programs share the cores.

Quality (--tune): NASA MicroNet Super1 (4 SEM images, precipitates) and EBC1 (3, oxide and
cracks). Each 8-connected component of ≥ 100 px of an annotated class is one object; an object
is found when an automatic mask overlaps it with IoU > 0.5. The grid is decoded once per image
with loose thresholds; each setting then re-filters the same candidates. `skip_covered` is
compared with the full grid: the share of the full grid's masks that the skipping run also
returns (IoU ≥ 0.9 and ≥ 0.5), and the points it decoded.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sam_accuracy import DATA, EIGHT, MIN_OBJECT_PX, class_masks

from inference.imaging.display import to_rgb
from inference.imaging.io import read_micrograph
from inference.segmentation import automatic as auto
from inference.segmentation.sam import SamModel

SPEED_IMAGE = DATA / "EBC1" / "test" / "040617_2_S127(2)0015.tif"
LOOSE = dict(pred_iou_thresh=0.5, stability_thresh=0.5, skip_covered=False)


def speed_image() -> np.ndarray:
    if SPEED_IMAGE.exists():
        return to_rgb(read_micrograph(SPEED_IMAGE))
    print(f"{SPEED_IMAGE} not found: synthetic 1024² blobs instead")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:1024, :1024]
    image = np.full((1024, 1024), 90.0)
    for cx, cy, r in rng.uniform([0, 0, 10], [1024, 1024, 60], (80, 3)):
        image[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = 170.0
    return np.repeat(image.astype(np.uint8)[:, :, None], 3, axis=2)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def speed(args) -> None:
    model = SamModel(args.model, use_cache=False)
    rgb = speed_image()
    model.embed(rgb)  # sessions and mapper ready
    embeddings = [timed(lambda: model.embed(rgb)) for _ in range(args.runs)]
    embedding = embeddings[0][0]
    print(f"image {rgb.shape[1]}x{rgb.shape[0]}, model {args.model}, device {model.device.label}")
    walls = sorted(e[1] for e in embeddings)
    print(f"embedding: {statistics.median(walls):.2f} s wall (median of {args.runs})")
    auto.segment_everything(model, embedding, auto.AutoParams(points_per_side=4))  # warm up
    for skip in (False, True):
        params = auto.AutoParams(points_per_side=args.points, skip_covered=skip)
        runs = []
        for _ in range(args.runs):
            grid, t_grid, c_grid = timed(lambda p=params: auto.grid_candidates(model, embedding, p))
            masks, t_rest, c_rest = timed(
                lambda p=params, g=grid: auto.masks_from_candidates(
                    g.candidates, model.mapper(embedding), p
                )
            )
            runs.append((t_grid + t_rest, c_grid + c_rest, t_grid, t_rest, grid.decoded, masks))
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        decode = statistics.median(r[2] for r in runs)
        rest = statistics.median(r[3] for r in runs)
        print(
            f"segment everything {args.points}x{args.points}, skip_covered={skip}: "
            f"{wall:.2f} s wall ({decode:.2f} decoding, {rest:.2f} NMS + upscaling), "
            f"{cpu:.2f} s CPU; {runs[0][4]} points decoded, {len(runs[0][5])} masks"
        )
    if args.compare_loop:
        n = args.compare_loop
        coords = auto.grid_points(embedding.input_size, 32)[:n]
        loop = auto._LoopDecoder(model, embedding)
        _, wall, cpu = timed(lambda: loop.decode({}, coords, 1.0))
        print(
            f"click decoder in a loop: {wall / n * 1e3:.1f} ms wall, {cpu / n * 1e3:.1f} ms CPU "
            f"per point → {wall / n * args.points**2:.1f} s for {args.points}² points"
        )
        batch = auto._batch_decoder(model)
        image = batch.image_inputs(embedding)
        _, wall, cpu = timed(lambda: batch.decode(image, coords, 1.0))
        print(f"batch decoder: {wall / n * 1e3:.1f} ms wall, {cpu / n * 1e3:.1f} ms CPU per point")


# --- quality ----------------------------------------------------------------------------------


def objects(dataset: str, image_path: Path) -> dict[str, list[np.ndarray]]:
    from scipy import ndimage as ndi

    annot = sorted((DATA / dataset / "test_annot").glob(image_path.stem + "*.tif"))[0]
    out = {}
    for name, mask in class_masks(dataset, annot).items():
        labels, count = cast("tuple[np.ndarray, int]", ndi.label(mask, EIGHT))
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        out[name] = [labels == k for k in range(1, count + 1) if sizes[k] >= MIN_OBJECT_PX]
    return out


def best_iou(target: np.ndarray, masks: list[auto.AutoMask]) -> float:
    best = 0.0
    area = int(target.sum())
    for m in masks:
        y0, x0 = m.offset
        inter = int(target[y0 : y0 + m.mask.shape[0], x0 : x0 + m.mask.shape[1]][m.mask].sum())
        if inter:
            best = max(best, inter / (area + m.area - inter))
    return best


def tune(args) -> None:
    model = SamModel(args.model)
    settings = [(i, s) for i in (0.7, 0.8, 0.86, 0.88) for s in (0.85, 0.9, 0.95)]
    found = {k: {} for k in settings}  # setting → class → [hits, total]
    counts = {k: 0 for k in settings}
    skip_rows = []
    chosen = auto.AutoParams(points_per_side=args.points)
    for dataset in ("Super1", "EBC1"):
        for path in sorted((DATA / dataset / "test").glob("*.tif")):
            rgb = to_rgb(read_micrograph(path))
            embedding = model.embed(rgb)
            mapper = model.mapper(embedding)
            gt = objects(dataset, path)
            loose = dataclasses.replace(chosen, **LOOSE)
            grid = auto.grid_candidates(model, embedding, loose)
            for key in settings:
                params = dataclasses.replace(
                    chosen, pred_iou_thresh=key[0], stability_thresh=key[1]
                )
                masks = auto.masks_from_candidates(grid.candidates, mapper, params)
                counts[key] += len(masks)
                for name, objs in gt.items():
                    hit = sum(best_iou(o, masks) > 0.5 for o in objs)
                    tally = found[key].setdefault(f"{dataset} {name}", [0, 0])
                    tally[0] += hit
                    tally[1] += len(objs)
            full = auto.masks_from_candidates(grid.candidates, mapper, chosen)
            skip_grid = auto.grid_candidates(model, embedding, chosen)
            skipped = auto.masks_from_candidates(skip_grid.candidates, mapper, chosen)
            kept9 = np.mean([best_iou(m.full_mask, skipped) >= 0.9 for m in _full(full, rgb)])
            kept5 = np.mean([best_iou(m.full_mask, skipped) >= 0.5 for m in _full(full, rgb)])
            gt_full = [best_iou(o, full) > 0.5 for objs in gt.values() for o in objs]
            gt_skip = [best_iou(o, skipped) > 0.5 for objs in gt.values() for o in objs]
            skip_rows.append(
                (
                    f"{dataset}/{path.stem}",
                    skip_grid.decoded,
                    len(full),
                    len(skipped),
                    kept9,
                    kept5,
                    np.mean(gt_full),
                    np.mean(gt_skip),
                )
            )
            print(f"  {dataset}/{path.stem}: {len(grid.candidates)} loose candidates", flush=True)
    classes = sorted({c for v in found.values() for c in v})
    print("\nobjects found (IoU > 0.5) / objects, and masks in all 7 images")
    print(f"{'iou':>5} {'stab':>5} " + " ".join(f"{c:>22}" for c in classes) + "   masks")
    for key in settings:
        cells = " ".join(
            f"{found[key][c][0]:>3}/{found[key][c][1]:<3} ({found[key][c][0] / max(found[key][c][1], 1):.2f})".rjust(
                22
            )
            for c in classes
        )
        print(f"{key[0]:5.2f} {key[1]:5.2f} {cells}   {counts[key]:5d}")
    print(f"\nskip_covered vs the full grid ({args.points}², defaults otherwise)")
    print(
        f"{'image':32} {'decoded':>7} {'masks full':>10} {'skip':>5} {'kept≥.9':>8} {'kept≥.5':>8} {'GT full':>8} {'GT skip':>8}"
    )
    for row in skip_rows:
        name, dec, nf, ns, k9, k5, gf, gs = row
        print(f"{name:32} {dec:7d} {nf:10d} {ns:5d} {k9:8.2f} {k5:8.2f} {gf:8.2f} {gs:8.2f}")


@dataclasses.dataclass
class _FullMask:
    full_mask: np.ndarray


def _full(masks: list[auto.AutoMask], rgb: np.ndarray) -> list[_FullMask]:
    out = []
    for m in masks:
        full = np.zeros(rgb.shape[:2], bool)
        y0, x0 = m.offset
        full[y0 : y0 + m.mask.shape[0], x0 : x0 + m.mask.shape[1]] = m.mask
        out.append(_FullMask(full))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--model", default="mobile_sam")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--points", type=int, default=32)
    parser.add_argument("--compare-loop", type=int, default=0, metavar="N")
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    if args.tune:
        tune(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
