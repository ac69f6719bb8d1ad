"""Click accuracy of MobileSAM on real micrographs: 1-click IoU, NoC@85, and a flood-fill baseline.

Run by hand: `python benchmarks/sam_accuracy.py [--ablation] [--datasets Super1 EBC1]` (a few
minutes on 2 CPU cores once the embeddings are cached; needs `make models` and ../shared/data).

Data: NASA MicroNet Super1 (4 SEM images, 512², RGBA masks where pure red and pure blue are the
annotated classes) and EBC1 (3 SEM images, 1024², masks 1 oxide, 2 crack). Each 8-connected
component of ≥ 100 px of an annotated class is one object.

Protocol (as RITM and SAM's interactive evaluation): the first click is positive, at the object's
interior-most point (maximum of the distance transform). Each next click goes to the error pixel
farthest from any correct pixel (the centre of the largest error region, image border counted as
correct); it is positive where the object was missed, negative where the mask spilled over.
NoC@85 is the number of clicks to reach IoU 0.85, 10 when 10 clicks do not.

Flood fill (skimage.segmentation.flood) starts from the same first click, on the grey image
smoothed with a Gaussian (σ = 1 px), with a tolerance of FLOOD_TOLERANCE times the image's
0.5-99.5 percentile range, tuned once on Super1/spot2_0d_0 (`--tune-flood` repeats that).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

from inference.imaging.display import to_rgb
from inference.imaging.io import read_micrograph
from inference.segmentation.clicks import ClickSession
from inference.segmentation.refine import DEFAULT, RAW, RefinePolicy
from inference.segmentation.sam import ImageEmbedding, SamModel, image_key

SHARED = Path(
    os.environ.get("MATLENS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DATA = SHARED / "segmentation" / "nasa_micronet"
MIN_OBJECT_PX = 100
MAX_CLICKS = 10
TARGET_IOU = 0.85
FLOOD_TOLERANCE = 0.22  # x the 0.5-99.5 % range; best of 0.02..0.40 on Super1/spot2_0d_0
EIGHT = np.ones((3, 3), bool)

ABLATION = {  # the first five lines add one idea each; "DEFAULT + ..." adds one idea to DEFAULT
    "raw MobileSAM (current pane)": RAW,
    "mask_input on corrections": replace(RAW, mask_input=True),
    "+ choose by stability, offset 1": replace(
        RAW, mask_input=True, select="stability", stability_offset=1.0
    ),
    "+ stability offset 2": replace(RAW, mask_input=True, select="stability"),
    "+ zoom on small objects = DEFAULT": DEFAULT,
    "DEFAULT + keep clicked parts": replace(DEFAULT, keep_clicked=True),
    "DEFAULT + fill holes <= 1000 px": replace(DEFAULT, fill_holes_px=1000),
    "DEFAULT + drop islands < 100 px": replace(DEFAULT, min_island_px=100),
}


@dataclass(frozen=True)
class GroundTruth:
    class_name: str
    mask: np.ndarray  # bool, image-sized
    first_click: tuple[float, float]  # (x, y)


@dataclass(frozen=True)
class Sample:
    dataset: str
    name: str
    rgb: np.ndarray
    objects: list[GroundTruth]


def class_masks(dataset: str, path: Path) -> dict[str, np.ndarray]:
    """The annotated classes of one mask file. Super1's TIFFs hold a 512² RGBA page and a
    thumbnail, and tifffile warns that their series shape does not match the page: read page 0
    (512x512x4) directly."""
    if dataset == "Super1":
        rgba = tifffile.imread(path, key=0)
        if rgba.shape[2:] != (4,):
            raise ValueError(f"{path.name}: expected an RGBA page, got shape {rgba.shape}")
        rgb = rgba[..., :3].astype(np.int16)
        red = (rgb == (255, 0, 0)).all(axis=2)
        blue = (rgb == (0, 0, 255)).all(axis=2)
        return {"red (secondary)": red, "blue (tertiary)": blue}
    labels = tifffile.imread(path)
    return {"oxide": labels == 1, "crack": labels == 2}


def interior_point(mask: np.ndarray) -> tuple[float, float]:
    """(x, y) of the pixel farthest from the mask's outline (image border counts as outline)."""
    dist = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return float(x), float(y)


def load(dataset: str) -> list[Sample]:
    samples = []
    for image_path in sorted((DATA / dataset / "test").glob("*.tif")):
        annot = sorted((DATA / dataset / "test_annot").glob(image_path.stem + "*.tif"))[0]
        rgb = to_rgb(read_micrograph(image_path))
        objects = []
        for class_name, mask in class_masks(dataset, annot).items():
            labels, count = ndi.label(mask, EIGHT)
            sizes = np.bincount(labels.ravel(), minlength=count + 1)
            for k in np.flatnonzero(sizes >= MIN_OBJECT_PX):
                if k:
                    obj = labels == k
                    objects.append(GroundTruth(class_name, obj, interior_point(obj)))
        samples.append(Sample(dataset, image_path.stem, rgb, objects))
    return samples


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1))


def next_click(gt: np.ndarray, pred: np.ndarray) -> tuple[float, float, int]:
    """The standard corrective click: the deepest pixel of the false negatives or positives."""
    best = (0.0, 0.0, 0.0, 1)
    for errors, label in ((gt & ~pred, 1), (pred & ~gt, 0)):
        rows, cols = np.flatnonzero(errors.any(axis=1)), np.flatnonzero(errors.any(axis=0))
        if rows.size == 0:
            continue
        crop = errors[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        dist = ndi.distance_transform_edt(np.pad(crop, 1))[1:-1, 1:-1]
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        if dist[y, x] > best[0]:
            best = (float(dist[y, x]), float(x + cols[0]), float(y + rows[0]), label)
    return best[1], best[2], best[3]


@dataclass
class Timings:
    """Seconds per click: first clicks (with or without a zoom encoder run) and corrections."""

    first: list[float] = field(default_factory=list)
    first_zoomed: list[float] = field(default_factory=list)
    later: list[float] = field(default_factory=list)


def clicks(session: ClickSession, obj: GroundTruth, timings: Timings | None = None) -> list[float]:
    """IoU after each click, stopping at TARGET_IOU or MAX_CLICKS."""
    points: list[tuple[float, float, int]] = [(*obj.first_click, 1)]
    ious: list[float] = []
    while True:
        start = time.perf_counter()
        shown = session.predict(points)[0]
        mask = shown.mask
        if timings is not None:
            seconds = time.perf_counter() - start
            if len(points) > 1:
                timings.later.append(seconds)
            else:
                (timings.first_zoomed if shown.zoomed else timings.first).append(seconds)
        ious.append(iou(mask, obj.mask))
        if ious[-1] >= TARGET_IOU or len(ious) >= MAX_CLICKS:
            return ious
        points.append(next_click(obj.mask, mask))


def flood_fill(rgb: np.ndarray, click: tuple[float, float], tolerance: float) -> np.ndarray:
    from skimage.segmentation import flood

    grey = ndi.gaussian_filter(rgb.mean(axis=2), 1.0)
    lo, hi = np.percentile(grey, [0.5, 99.5])
    x, y = click
    return flood(grey, (int(y), int(x)), tolerance=tolerance * float(hi - lo))


@dataclass
class Tally:
    first: list[float] = field(default_factory=list)  # IoU after the first click
    noc: list[int] = field(default_factory=list)  # clicks to TARGET_IOU, MAX_CLICKS if never
    reached: list[bool] = field(default_factory=list)
    last: list[float] = field(default_factory=list)  # IoU at the last click


class ZoomEncoder:
    """Zoom windows are embedded without the disk cache (4 MB each) and kept in memory, so an
    ablation pays each encoder run once (timings come from the first policy that zooms)."""

    def __init__(self) -> None:
        self.model = SamModel("mobile_sam", use_cache=False)
        self.memo: dict[str, ImageEmbedding] = {}

    def __call__(self, pixels: np.ndarray) -> ImageEmbedding:
        key = image_key(pixels)
        if key not in self.memo:
            self.memo[key] = self.model.embed(pixels)
        return self.memo[key]


def evaluate(
    model: SamModel,
    samples: list[Sample],
    policy: RefinePolicy,
    encode: ZoomEncoder,
    timings: Timings | None = None,
) -> dict[tuple[str, str], Tally]:
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for sample in samples:
        embedding = model.embed(sample.rgb)
        for obj in sample.objects:
            session = ClickSession(model, embedding, sample.rgb, policy, encode)
            ious = clicks(session, obj, timings)
            reached = ious[-1] >= TARGET_IOU
            for key in ((sample.dataset, obj.class_name), (sample.dataset, "all")):
                tally = tallies[key]
                tally.first.append(ious[0])
                tally.noc.append(len(ious) if reached else MAX_CLICKS)
                tally.reached.append(reached)
                tally.last.append(ious[-1])
    return tallies


def flood_tallies(samples: list[Sample], tolerance: float) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for sample in samples:
        for obj in sample.objects:
            value = iou(flood_fill(sample.rgb, obj.first_click, tolerance), obj.mask)
            out[(sample.dataset, obj.class_name)].append(value)
            out[(sample.dataset, "all")].append(value)
    return out


def tune_flood(samples: list[Sample]) -> None:
    sample = next(s for s in samples if s.name == "spot2_0d_0")
    for tolerance in (0.02, 0.05, 0.10, 0.15, 0.18, 0.20, 0.22, 0.25, 0.30, 0.40):
        values = [
            iou(flood_fill(sample.rgb, o.first_click, tolerance), o.mask) for o in sample.objects
        ]
        print(f"flood tolerance {tolerance:.2f}: mean IoU {statistics.fmean(values):.3f}")


def keys(samples: list[Sample]) -> list[tuple[str, str]]:
    """Per dataset: its classes in file order, then "all"."""
    out: list[tuple[str, str]] = []
    for sample in samples:
        for obj in sample.objects:
            if (sample.dataset, obj.class_name) not in out:
                out.append((sample.dataset, obj.class_name))
    datasets = list(dict.fromkeys(d for d, _ in out))
    return [k for d in datasets for k in [*(k for k in out if k[0] == d), (d, "all")]]


def ms(values: list[float]) -> str:
    if not values:
        return "none"
    v = sorted(1e3 * t for t in values)
    return f"median {statistics.median(v):.0f} ms, p95 {v[int(0.95 * (len(v) - 1))]:.0f} ms (n={len(v)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["Super1", "EBC1"])
    parser.add_argument("--ablation", action="store_true", help="add one idea at a time")
    parser.add_argument("--tune-flood", action="store_true")
    args = parser.parse_args()
    logging.getLogger("tifffile").setLevel(logging.ERROR)

    if not DATA.is_dir():
        raise SystemExit(f"NASA MicroNet data not found in {DATA} (set MATLENS_SHARED_DATA)")
    samples = [s for d in args.datasets for s in load(d)]
    if args.tune_flood:
        tune_flood(samples)
        return
    model, encode = SamModel("mobile_sam"), ZoomEncoder()
    for sample in samples:
        model.embed(sample.rgb)  # whole images: from the disk cache after the first run

    flood = flood_tallies(samples, FLOOD_TOLERANCE)
    raw_timings, new_timings = Timings(), Timings()
    raw = evaluate(model, samples, RAW, encode, raw_timings)
    new = evaluate(model, samples, DEFAULT, encode, new_timings)  # first: real zoom runs

    print(f"MobileSAM ONNX on {model.device.label}; first click at the interior-most point;")
    print(f"NoC@{TARGET_IOU:.2f}, at most {MAX_CLICKS} clicks; flood tolerance {FLOOD_TOLERANCE}")
    head = (
        f"{'dataset / class':26s} {'objects':>7s} | {'1-click mIoU: raw':>17s} {'improved':>8s} "
        f"{'flood':>6s} | {'NoC@85: raw':>11s} {'improved':>8s} | {'reached: raw':>12s} "
        f"{'improved':>8s} | {'last IoU: raw':>13s} {'improved':>8s}"
    )
    print(head)
    print("-" * len(head))
    for key in keys(samples):
        r, n, f = raw[key], new[key], flood[key]
        print(
            f"{key[0] + ' / ' + key[1]:26s} {len(r.first):7d} | "
            f"{statistics.fmean(r.first):17.3f} {statistics.fmean(n.first):8.3f} "
            f"{statistics.fmean(f):6.3f} | {statistics.fmean(r.noc):11.2f} "
            f"{statistics.fmean(n.noc):8.2f} | {100 * statistics.fmean(r.reached):11.0f}% "
            f"{100 * statistics.fmean(n.reached):7.0f}% | {statistics.fmean(r.last):13.3f} "
            f"{statistics.fmean(n.last):8.3f}"
        )
    print("\nTime per click (decoder, mask, and for a zoomed first click one encoder run):")
    print(f"  raw, first click:            {ms(raw_timings.first)}")
    print(f"  raw, corrections:            {ms(raw_timings.later)}")
    print(f"  improved, first, no zoom:    {ms(new_timings.first)}")
    print(f"  improved, first, zoomed:     {ms(new_timings.first_zoomed)}")
    print(f"  improved, corrections:       {ms(new_timings.later)}")

    if args.ablation:
        print("\nAblation: 1-click mIoU / mean NoC@85 / % reached / IoU at the last click")
        for name, policy in ABLATION.items():
            tallies = evaluate(model, samples, policy, encode)
            cells = []
            for dataset in args.datasets:
                t = tallies[(dataset, "all")]
                cells.append(
                    f"{dataset} {statistics.fmean(t.first):.3f} / {statistics.fmean(t.noc):.2f} "
                    f"/ {100 * statistics.fmean(t.reached):3.0f}% / {statistics.fmean(t.last):.3f}"
                )
            print(f"  {name:36s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
