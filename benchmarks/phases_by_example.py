"""Phase segmentation by example on real micrographs: macro IoU from 3 clicks per class.

Run by hand: `python benchmarks/phases_by_example.py [--seeds 5] [--ablation] [--timing]`
(about 5 minutes on 2 busy CPU cores once the embeddings are cached; needs `make models`,
scikit-learn and ../shared/data).

Data: NASA MicroNet Super1 (4 SEM images, 512²; classes matrix = neither red nor blue in the
mask, secondary = red, tertiary = blue) and EBC1 (3 SEM images, 1024²; classes background,
oxide, crack = mask values 0, 1, 2). Every class is kept: nothing is merged.

Clicks: for each seed and class, 3 pixels drawn at random among the class's interior pixels
(distance to any other class or the border ≥ half the class's largest distance, capped at 8 px
and at least 1 px, so clicks sit inside regions and still reach 2 px cracks). A click is the
disk of `PhaseParams.radius` px around it for every method. Score: IoU per class, macro mean
over the classes of an image, then the mean (± standard deviation) over images × seeds.

Methods, all trained on the same clicks:
- Otsu: multi-level Otsu on the grey image with one level per class; each level takes the class
  with most clicks in it (levels with none: the class of the nearest click grey value).
- RF filters (the baseline): a 100-tree random forest on the classic filter bank (Gaussian,
  gradient magnitude, Laplacian of Gaussian, local std at σ 1-16 px; `features.filter_bank`) at
  full resolution, predicting every pixel.
- MatLens: `inference.segmentation.phases.classify` with its defaults.
`--ablation` adds MatLens's steps one at a time; `--timing` times both steps per image.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sam_accuracy import DATA, class_masks  # noqa: E402  (the mask readers, shared)

from inference.imaging.display import to_rgb  # noqa: E402
from inference.imaging.io import read_micrograph  # noqa: E402
from inference.runtime.sessions import cpu_threads  # noqa: E402
from inference.segmentation.features import (  # noqa: E402
    SAM_COMPONENTS,
    PhaseFeatures,
    compute_features,
    filter_bank,
    grey_image,
)
from inference.segmentation.phases import PhaseExample, PhaseParams, classify  # noqa: E402
from inference.segmentation.sam import SamModel  # noqa: E402

CLASSES = {
    "Super1": ("matrix", "secondary", "tertiary"),
    "EBC1": ("background", "oxide", "crack"),
}
CLICKS = 3
DEFAULT = PhaseParams()
NO_SAM_MASKS_NO_SNAP = replace(DEFAULT, sam_examples=False, snap=False)


@dataclass(frozen=True)
class Sample:
    dataset: str
    name: str
    rgb: np.ndarray
    truth: np.ndarray  # uint8, value k = k-th class of CLASSES[dataset]


def load(dataset: str) -> list[Sample]:
    samples = []
    for image_path in sorted((DATA / dataset / "test").glob("*.tif")):
        annot = sorted((DATA / dataset / "test_annot").glob(image_path.stem + "*.tif"))[0]
        rgb = to_rgb(read_micrograph(image_path))
        truth = np.zeros(rgb.shape[:2], np.uint8)
        for k, mask in enumerate(class_masks(dataset, annot).values(), start=1):
            truth[mask] = k
        samples.append(Sample(dataset, image_path.stem, rgb, truth))
    return samples


def clicks(truth: np.ndarray, n_classes: int, seed: int) -> list[list[tuple[float, float]]]:
    """CLICKS random interior pixels (x, y) per class (see the module docstring)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n_classes):
        inside = np.pad(truth == k, 1)
        distance = ndi.distance_transform_edt(inside)[1:-1, 1:-1]
        threshold = max(1.0, min(8.0, float(distance.max()) / 2))
        ys, xs = np.nonzero(distance >= threshold)
        pick = rng.choice(ys.size, CLICKS, replace=False)
        out.append([(float(xs[i]), float(ys[i])) for i in pick])
    return out


def ious(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> list[float]:
    """IoU per class; `pred` uses the same 0-based class numbers as `truth`."""
    out = []
    for k in range(n_classes):
        p, t = pred == k, truth == k
        out.append(np.count_nonzero(p & t) / max(np.count_nonzero(p | t), 1))
    return out


def click_pixels(points: list[list[tuple[float, float]]], shape, radius: float):
    """Flat pixel indices and class numbers of the click disks (the same for every method)."""
    h, w = shape
    r = int(radius)
    dy, dx = np.mgrid[-r : r + 1, -r : r + 1]
    keep = dy * dy + dx * dx <= radius * radius
    dy, dx = dy[keep], dx[keep]
    index, target = [], []
    for k, pts in enumerate(points):
        for x, y in pts:
            rows, cols = np.clip(int(y) + dy, 0, h - 1), np.clip(int(x) + dx, 0, w - 1)
            flat = np.unique(rows * w + cols)
            index.append(flat)
            target.append(np.full(flat.size, k))
    return np.concatenate(index), np.concatenate(target)


def otsu(grey: np.ndarray, points: list[list[tuple[float, float]]]) -> np.ndarray:
    from skimage.filters import threshold_multiotsu

    levels = np.digitize(grey, threshold_multiotsu(grey, classes=len(points)))
    votes = np.zeros((len(points), len(points)), int)  # level × class
    values = []
    for k, pts in enumerate(points):
        for x, y in pts:
            votes[levels[int(y), int(x)], k] += 1
            values.append((float(grey[int(y), int(x)]), k))
    means = ndi.mean(grey, levels, index=np.arange(len(points)))
    names = []
    for level in range(len(points)):
        if votes[level].any():
            names.append(int(votes[level].argmax()))
        else:
            names.append(min(values, key=lambda v, m=means[level]: abs(v[0] - m))[1])
    return np.asarray(names)[levels]


def rf_filters(filters: np.ndarray, points, radius: float) -> np.ndarray:
    from sklearn.ensemble import RandomForestClassifier

    flat = filters.reshape(-1, filters.shape[-1])
    index, target = click_pixels(points, filters.shape[:2], radius)
    forest = RandomForestClassifier(100, n_jobs=cpu_threads(), random_state=0)
    forest.fit(flat[index], target)
    return forest.predict(flat).reshape(filters.shape[:2])


def matlens(features: PhaseFeatures, points, names, params: PhaseParams) -> np.ndarray:
    examples = [PhaseExample(n, tuple(p)) for n, p in zip(names, points, strict=True)]
    return classify(features, examples, params).labels.astype(np.int16) - 1


ABLATION = {  # (features: "" all / "filter" only, SAM PCA components, params); rows add a step
    "filters on the grid (no SAM)": ("filter", SAM_COMPONENTS, NO_SAM_MASKS_NO_SNAP),
    f"+ SAM features (PCA {SAM_COMPONENTS})": ("", SAM_COMPONENTS, NO_SAM_MASKS_NO_SNAP),
    "+ clicks grown into SAM masks": ("", SAM_COMPONENTS, replace(DEFAULT, snap=False)),
    "+ region snap = MatLens": ("", SAM_COMPONENTS, DEFAULT),
    "MatLens with PCA 4": ("", 4, DEFAULT),
    "MatLens with PCA 16": ("", 16, DEFAULT),
    "MatLens without SAM features": ("filter", SAM_COMPONENTS, DEFAULT),
}


def evaluate(samples: list[Sample], model: SamModel, seeds: int, ablation: bool) -> dict:
    scores: dict[tuple[str, str], list[list[float]]] = {}
    for sample in samples:
        names = CLASSES[sample.dataset]
        grey = grey_image(sample.rgb)
        filters, _ = filter_bank(grey)
        features: dict[int, PhaseFeatures] = {}
        methods = {"Otsu (levels named by clicks)": None, "RF filters (baseline)": None}
        methods["MatLens"] = ("", SAM_COMPONENTS, DEFAULT)
        if ablation:
            methods.update(ABLATION)
        for seed in range(seeds):
            points = clicks(sample.truth, len(names), seed)
            for method, spec in methods.items():
                if method.startswith("Otsu"):
                    pred = otsu(grey, points)
                elif method.startswith("RF"):
                    pred = rf_filters(filters, points, DEFAULT.radius)
                else:
                    subset, components, params = spec
                    if components not in features:
                        features[components] = compute_features(
                            model, sample.rgb, components=components
                        )
                    used = features[components]
                    used = used.subset(subset) if subset else used
                    pred = matlens(used, points, names, params)
                key = (sample.dataset, method)
                scores.setdefault(key, []).append(ious(pred, sample.truth, len(names)))
        print(f"  {sample.dataset}/{sample.name}: done", file=sys.stderr, flush=True)
    return scores


def timing(samples: list[Sample], model: SamModel) -> None:
    print("\nTime per image (CPU; noisy when other jobs share the machine):")
    print(
        f"{'image':34s} {'size':>9s} {'embed (no cache)':>16s} {'features':>9s} "
        f"{'1st classify':>12s} {'update':>7s}"
    )
    fresh = SamModel(use_cache=False)
    for sample in samples:
        names = CLASSES[sample.dataset]
        t0 = time.perf_counter()
        embedding = fresh.embed(sample.rgb)
        t1 = time.perf_counter()
        features = compute_features(model, sample.rgb, embedding)
        t2 = time.perf_counter()
        points = clicks(sample.truth, len(names), 0)
        examples = [PhaseExample(n, tuple(p)) for n, p in zip(names, points, strict=True)]
        classify(features, examples)  # 9 new clicks: 9 decoder calls
        t3 = time.perf_counter()
        updates = []
        for _ in range(3):
            start = time.perf_counter()
            classify(features, examples)
            updates.append(time.perf_counter() - start)
        h, w = sample.truth.shape
        print(
            f"{sample.dataset + '/' + sample.name:34s} {f'{w}x{h}':>9s} {t1 - t0:15.2f}s "
            f"{t2 - t1:8.2f}s {t3 - t2:11.2f}s {statistics.median(updates):6.2f}s"
        )


def report(scores: dict, datasets: list[str], seeds: int) -> None:
    print(
        f"\nMacro IoU, {CLICKS} clicks per class (disk r={DEFAULT.radius:g} px), "
        f"{seeds} seeds × every image; mean ± sd over images × seeds, then IoU per class"
    )
    head = f"{'dataset':8s} {'method':36s} {'macro IoU':>14s}   per class"
    print(head)
    print("-" * (len(head) + 40))
    for dataset in datasets:
        for (ds, method), rows in scores.items():
            if ds != dataset:
                continue
            macro = [statistics.fmean(r) for r in rows]
            per = np.mean(np.asarray(rows), axis=0)
            cells = "  ".join(f"{n} {v:.3f}" for n, v in zip(CLASSES[ds], per, strict=True))
            print(
                f"{ds:8s} {method:36s} {statistics.fmean(macro):.3f} ± {statistics.stdev(macro):.3f}"
                f"   {cells}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["Super1", "EBC1"])
    parser.add_argument("--seeds", type=int, default=5, help="click draws per image")
    parser.add_argument("--ablation", action="store_true", help="add MatLens's steps one by one")
    parser.add_argument("--timing", action="store_true", help="time features and updates")
    args = parser.parse_args()
    logging.getLogger("tifffile").setLevel(logging.ERROR)

    if not DATA.is_dir():
        raise SystemExit(f"NASA MicroNet data not found in {DATA} (set MATLENS_SHARED_DATA)")
    samples = [s for d in args.datasets for s in load(d)]
    model = SamModel("mobile_sam")  # embeddings from the disk cache after the first run
    print(f"MobileSAM ONNX on {model.device.label}, {cpu_threads()} threads")
    scores = evaluate(samples, model, args.seeds, args.ablation)
    report(scores, args.datasets, args.seeds)
    if args.timing:
        timing(samples, model)


if __name__ == "__main__":
    main()
