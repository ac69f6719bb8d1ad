"""How small can an image be before segment-everything stops meaning anything?

SAM embeds every image at 1024 px on its long side, so a small image is upscaled many times
before the model sees it. This shrinks real micrographs with ground truth (NASA MicroNet Super1
and EBC1, `micronet.py`) to a given short side and reports, at each side, the object recall of
`everything.segment_image` (what segment everything runs, under the refusal): the fraction of ground-truth objects (8-connected regions of the
annotated classes, at least 4 px at that size) that one automatic mask covers with IoU >= 0.5.
The floor `inference.segmentation.domain.MIN_SIDE` was chosen on the train split.

    python benchmarks/min_image_side.py --split train [--sides 32 48 64 96 128 256]
"""

from __future__ import annotations

import argparse
import statistics
from typing import cast

import numpy as np
from micronet import EIGHT, load
from PIL import Image
from scipy import ndimage as ndi

from inference.segmentation.everything import segment_image
from inference.segmentation.microstructure import paint
from inference.segmentation.sam import SamModel


def shrink(sample, side: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = sample.truth.shape
    scale = side / min(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    rgb = np.asarray(Image.fromarray(sample.rgb).resize(size, Image.Resampling.BOX))
    truth = np.asarray(Image.fromarray(sample.truth).resize(size, Image.Resampling.NEAREST))
    return rgb, truth


def recall(labels: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """Ground-truth objects found (IoU >= 0.5 with one mask's label) and their count."""
    found = total = 0
    for k in range(1, int(truth.max()) + 1):
        regions, n = cast("tuple[np.ndarray, int]", ndi.label(truth == k, EIGHT))
        for r in range(1, n + 1):
            target = regions == r
            area = int(target.sum())
            if area < 4:
                continue
            total += 1
            ids, counts = np.unique(labels[target], return_counts=True)
            best = 0.0
            for i, inter in zip(ids, counts, strict=True):
                if i == 0:
                    continue
                union = area + int((labels == i).sum()) - int(inter)
                best = max(best, int(inter) / union)
            found += best >= 0.5
    return found, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="train")
    ap.add_argument("--sides", type=int, nargs="+", default=[32, 48, 64, 96, 128, 256])
    ap.add_argument("--limit", type=int, default=2)
    args = ap.parse_args()
    model = SamModel(use_cache=False)
    samples = [s for d in ("Super1", "EBC1") for s in load(d, args.split, args.limit)]
    print(f"split {args.split}: {len(samples)} images")
    for side in args.sides:
        rows = []
        for sample in samples:
            rgb, truth = shrink(sample, side)
            masks = segment_image(model, rgb)  # below the floor the app refuses
            labels = paint(rgb.shape[:2], masks)
            found, total = recall(labels, truth)
            rows.append((sample.dataset, found, total, len(masks)))
        per = {
            d: (sum(r[1] for r in rows if r[0] == d), sum(r[2] for r in rows if r[0] == d))
            for d in ("Super1", "EBC1")
        }
        text = "  ".join(f"{d} {f}/{t} = {f / max(t, 1):.2f}" for d, (f, t) in per.items())
        masks_median = statistics.median(r[3] for r in rows)
        print(
            f"side {side:4d} px (upscale x{1024 / side:5.1f}): recall {text}; masks {masks_median}"
        )


if __name__ == "__main__":
    main()
