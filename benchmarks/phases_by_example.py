"""Phase segmentation by example on real micrographs: macro IoU from 3 clicks per class, and after
rounds of corrections, next to the classic filter forest given the same clicks.

Run: `python benchmarks/phases_by_example.py [--splits val test] [--ablation] [--rounds]
[--timing]` (needs `make models`, scikit-learn and ../shared/data; embeddings come from the disk
cache after the first run; about 1 min per 1024² image on 2 busy cores with --rounds).

Data and clicks: `micronet.py` (NASA MicroNet Super1 and EBC1, train / val / test; seed clicks at
the interior-most point of each class's 3 largest regions; a correction round adds, per class,
one click at the interior-most point of its largest wrongly labelled region). Every class is
kept. Score: IoU per class, mean over the classes of an image (macro IoU), then the mean over
the images of the split. Nothing here is tuned on val or test: MatLens's defaults and the
flood-fill tolerance were chosen on train.

Methods, all given the same clicks:
- MatLens: `inference.segmentation.phases.classify` with its defaults.
- plain MobileSAM: each click's mask with the best predicted IoU (SAM's own choice); a pixel
  takes the class of the best-scored mask holding it, pixels in none the class of the nearest
  pixel that is in one.
- flood fill: the same with each click's magic-wand region (`micronet.flood_fill`) at the
  tolerance that scored best on the train split of the data set.
- filter forest: the classic recipe (`filter_forest.py`), the baseline of issue 15.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filter_forest import filter_forest, filter_stack
from micronet import (
    DATA,
    DATASETS,
    FLOOD_TOLERANCES,
    Sample,
    correction_clicks,
    flood_fill,
    load,
    macro_iou,
    seed_clicks,
    wand_image,
)

from inference.runtime.sessions import cpu_threads
from inference.segmentation.features import (
    PhaseFeatures,
    compute_features,
    grey_image,
)
from inference.segmentation.phases import PhaseExample, PhaseParams, classify
from inference.segmentation.sam import SamModel

CLICKS = 3
ROUNDS = (0, 1, 3, 5)
DEFAULT = PhaseParams()
ABLATION = {  # rows add one step each, up to MatLens; the last rows change one thing
    "grid filters, click disks only": replace(
        DEFAULT, features="filter", sam_examples=False, snap=False, balance=False
    ),
    "+ SAM features": replace(DEFAULT, sam_examples=False, snap=False, balance=False),
    "+ clicks grown into SAM masks": replace(DEFAULT, snap=False, balance=False),
    "+ superpixel snap (before issue 15)": replace(DEFAULT, balance=False),
    "+ classes weighed equally = MatLens": DEFAULT,
    "MatLens, filters only": replace(DEFAULT, features="filter"),
    "MatLens, SAM features only": replace(DEFAULT, features="sam"),
    "MatLens + per-image choice by CV": replace(DEFAULT, choose=True),
}


def examples(names, points) -> list[PhaseExample]:
    return [PhaseExample(n, tuple(p)) for n, p in zip(names, points, strict=True) if p]


def to_classes(result, names) -> np.ndarray:
    """A PhaseResult's labels as 0-based class numbers of `names` (classes without examples
    are absent from the result)."""
    lookup = np.array([0, *(names.index(c) for c in result.classes)], np.int16)
    return lookup[result.labels]


def matlens(features: PhaseFeatures, names, points, params: PhaseParams = DEFAULT) -> np.ndarray:
    return to_classes(classify(features, examples(names, points), params), names)


def add(points, more):
    return [[*p, *m] for p, m in zip(points, more, strict=True)]


def fill_regions(regions: list[tuple[np.ndarray, int, float]], shape) -> np.ndarray:
    """A class map from (mask, class, priority) per click: the highest priority wins where
    masks overlap; pixels in no mask take the class of the nearest pixel in one."""
    label = np.full(shape, -1, np.int16)
    best = np.full(shape, -np.inf)
    for mask, k, priority in regions:
        take = mask & (priority > best)
        label[take], best[take] = k, priority
    if (label < 0).all():
        return np.zeros(shape, np.int16)
    found = ndi.distance_transform_edt(label < 0, return_indices=True)
    _, (rows, cols) = cast("tuple[np.ndarray, np.ndarray]", found)
    return label[rows, cols]


def plain_sam(model: SamModel, sample: Sample, points) -> np.ndarray:
    embedding = model.embed(sample.rgb)
    regions = []
    for k, pts in enumerate(points):
        for x, y in pts:
            best = model.predict(embedding, [(x, y, 1)], multimask=True)[0]
            regions.append((best.mask, k, best.score))
    return fill_regions(regions, sample.truth.shape)


def flood_map(sample: Sample, points, tolerance: float, prepared=None) -> np.ndarray:
    prepared = prepared or wand_image(sample.rgb)
    regions = []
    for k, pts in enumerate(points):
        for x, y in pts:
            mask = flood_fill(sample.rgb, (x, y), tolerance, prepared)
            regions.append((mask, k, -float(mask.sum())))  # the smaller region wins
    return fill_regions(regions, sample.truth.shape)


def tune_flood(dataset: str) -> float:
    """The tolerance with the best mean macro IoU on the train split."""
    samples = load(dataset, "train")
    n = len(samples[0].classes)
    clicks = {s.name: seed_clicks(s.truth, n, CLICKS) for s in samples}
    wands = {s.name: wand_image(s.rgb) for s in samples}
    means = {
        t: statistics.fmean(
            macro_iou(flood_map(s, clicks[s.name], t, wands[s.name]), s.truth, n) for s in samples
        )
        for t in FLOOD_TOLERANCES
    }
    return max(means, key=means.__getitem__)


def evaluate(samples, model, tolerance, ablation: bool, rounds: bool) -> dict:
    """scores[(method, round)] = macro IoU per image (round None: the main table)."""
    scores: dict[tuple[str, int | None], list[float]] = defaultdict(list)
    for sample in samples:
        names, n = sample.classes, len(sample.classes)
        grey = grey_image(sample.rgb)
        filters = filter_stack(grey)
        features = compute_features(model, sample.rgb)
        points = seed_clicks(sample.truth, n, CLICKS)
        ours = matlens(features, names, points)
        base = filter_forest(grey, points, filters, threads=cpu_threads())
        row = {
            "MatLens": ours,
            "plain MobileSAM": plain_sam(model, sample, points),
            "flood fill": flood_map(sample, points, tolerance),
            "filter forest": base,
        }
        for method, pred in row.items():
            scores[(method, None)].append(macro_iou(pred, sample.truth, n))
        if ablation:
            for method, params in ABLATION.items():
                pred = matlens(features, names, points, params)
                scores[(method, None)].append(macro_iou(pred, sample.truth, n))
        if rounds:
            clicks, pred = points, ours
            for r in range(max(ROUNDS) + 1):
                if r:
                    clicks = add(clicks, correction_clicks(sample.truth, pred, n))
                    pred = matlens(features, names, clicks)
                if r in ROUNDS:
                    scores[("MatLens", r)].append(macro_iou(pred, sample.truth, n))
                    if r:
                        base = filter_forest(grey, clicks, filters, threads=cpu_threads())
                    scores[("filter forest", r)].append(macro_iou(base, sample.truth, n))
        print(f"  {sample.dataset}/{sample.split}/{sample.name}: done", file=sys.stderr)
    return scores


def timing(samples, model) -> None:
    """Once-per-image and per-update times on the 1024² images (the cached embedding is
    reused, as in the pane; the first update also runs the decoder for each click). CPU
    seconds (all threads of this process) show the work when other programs share the cores:
    on two idle cores the wall time is at most about that."""
    print(f"\nTime per 1024² image, {cpu_threads()} threads, load average {os.getloadavg()[0]:.1f}")
    print("wall / CPU seconds")
    print(
        f"{'image':34s} {'features':>13s} {'1st update':>13s} {'update p50':>13s} {'forest':>13s}"
    )
    for sample in samples:
        if max(sample.truth.shape) < 1024:
            continue
        names, n = sample.classes, len(sample.classes)
        embedding = model.embed(sample.rgb)
        points = seed_clicks(sample.truth, n, CLICKS)
        features_time = _timed(compute_features, model, sample.rgb, embedding)
        features = compute_features(model, sample.rgb, embedding)
        first = _timed(classify, features, examples(names, points))
        updates = []
        for _ in range(5):
            points = add(points, [[(float(p[0][0]) + 1, p[0][1])] for p in points])  # 3 clicks
            updates.append(_timed(classify, features, examples(names, points)))
        grey = grey_image(sample.rgb)
        forest = _timed(filter_forest, grey, points, threads=cpu_threads())
        median = tuple(statistics.median(u[i] for u in updates) for i in (0, 1))
        cells = " ".join(f"{w:6.2f} / {c:4.2f}" for w, c in (features_time, first, median, forest))
        print(f"{sample.dataset + '/' + sample.name:34s} {cells}")


def _timed(job, *args, **kwargs) -> tuple[float, float]:
    """(wall, CPU) seconds of job(*args, **kwargs)."""
    wall, cpu = time.perf_counter(), time.process_time()
    job(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--splits", nargs="+", default=["val", "test"])
    parser.add_argument("--limit", type=int, help="first N images per split (for a quick look)")
    parser.add_argument("--ablation", action="store_true", help="MatLens's steps one by one")
    parser.add_argument("--rounds", action="store_true", help="correction rounds 0, 1, 3, 5")
    parser.add_argument("--timing", action="store_true", help="time features and updates")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"NASA MicroNet data not found in {DATA} (set MATLENS_SHARED_DATA)")
    model = SamModel("mobile_sam")
    print(f"MobileSAM ONNX on {model.device.label}; {CLICKS} clicks per class")
    results = {}
    for dataset in args.datasets:
        tolerance = tune_flood(dataset)
        for split in args.splits:
            samples = load(dataset, split, args.limit)
            results[(dataset, split)] = (
                tolerance,
                len(samples),
                evaluate(samples, model, tolerance, args.ablation, args.rounds),
            )
            if args.timing and split == args.splits[-1]:
                timing(samples, model)
    report(results)


def report(results) -> None:
    methods = ("MatLens", "plain MobileSAM", "flood fill", "filter forest")
    print("\nMacro IoU, mean over images (flood tolerance chosen on train)")
    head = f"{'data set':8s} {'split':5s} {'images':>6s} " + " ".join(f"{m:>15s}" for m in methods)
    print(head + f" {'MatLens - forest':>16s} {'images < forest':>15s}")
    for (dataset, split), (tolerance, count, scores) in results.items():
        cells = " ".join(f"{statistics.fmean(scores[(m, None)]):15.3f}" for m in methods)
        ours, base = scores[("MatLens", None)], scores[("filter forest", None)]
        worse = sum(a < b for a, b in zip(ours, base, strict=True))
        print(
            f"{dataset:8s} {split:5s} {count:6d} {cells} "
            f"{statistics.fmean(ours) - statistics.fmean(base):+16.3f} {worse:15d}"
            f"   (flood tolerance {tolerance:g})"
        )
    if any(("+ SAM features", None) in s for _, _, s in results.values()):
        print("\nAblation: macro IoU, mean over images")
        keys = list(results)
        print(f"{'':40s} " + " ".join(f"{d + '/' + s:>13s}" for d, s in keys))
        for method in ("filter forest", *ABLATION):
            cells = " ".join(
                f"{statistics.fmean(results[k][2][(method, None)]):13.3f}" for k in keys
            )
            print(f"{method:40s} {cells}")
    if any(("MatLens", 0) in s for _, _, s in results.values()):
        print(
            "\nCorrection rounds: macro IoU after r rounds (MatLens / filter forest, same clicks)"
        )
        print(f"{'data set':8s} {'split':5s} " + " ".join(f"{'r=' + str(r):>13s}" for r in ROUNDS))
        for (dataset, split), (_, _, scores) in results.items():
            cells = " ".join(
                f"{statistics.fmean(scores[('MatLens', r)]):.3f} / "
                f"{statistics.fmean(scores[('filter forest', r)]):.3f}"
                for r in ROUNDS
            )
            print(f"{dataset:8s} {split:5s} {cells}")


if __name__ == "__main__":
    main()
