"""NASA MicroNet Super1 / EBC1 for the benchmarks: splits, class maps, and the clicks a user gives.

Data (../shared/data/segmentation/nasa_micronet, or $MATLENS_SHARED_DATA): Super1, SEM images of
a Ni superalloy (512², RGBA masks: pure red = secondary, pure blue = tertiary precipitates, the
rest matrix) and EBC1, SEM cross-sections of an environmental barrier coating (1024², masks
0 background, 1 oxide, 2 crack). Each has train / val / test splits: choose on train, select on
val, report on test.

Clicks, as a user gives them (issue 15):
- Seed clicks: per class, the interior-most point (maximum of the distance to the class's
  outline, the image border counted as outline) of each of its `per_class` largest 8-connected
  regions. A class with fewer regions gets its remaining clicks at the point of its largest
  region farthest from the outline and from the clicks already given, so they spread out.
- Correction clicks: per class, the interior-most point of that class's largest region that the
  current map labels as something else (nothing for a class with no such pixel).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import tifffile
from scipy import ndimage as ndi

SHARED = Path(
    os.environ.get("MATLENS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DATA = SHARED / "segmentation" / "nasa_micronet"
DATASETS = ("Super1", "EBC1")
SPLITS = ("train", "val", "test")
CLASSES = {
    "Super1": ("matrix", "secondary", "tertiary"),
    "EBC1": ("background", "oxide", "crack"),
}
EIGHT = np.ones((3, 3), bool)

logging.getLogger("tifffile").setLevel(logging.ERROR)


@dataclass(frozen=True, eq=False)
class Sample:
    dataset: str
    split: str
    name: str
    rgb: np.ndarray  # uint8 HxWx3
    truth: np.ndarray  # uint8 HxW, value k = CLASSES[dataset][k]

    @property
    def classes(self) -> tuple[str, ...]:
        return CLASSES[self.dataset]


def class_masks(dataset: str, path: Path) -> dict[str, np.ndarray]:
    """The annotated (non-background) classes of one mask file. Super1's TIFFs hold a 512² RGBA
    page and a thumbnail, and tifffile warns that their series shape does not match the page:
    read page 0 (512x512x4) directly."""
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


def image_paths(dataset: str, split: str) -> list[tuple[Path, Path]]:
    """(image, annotation) pairs of one split, sorted by name."""
    pairs = []
    for image in sorted((DATA / dataset / split).glob("*.tif")):
        annot = sorted((DATA / dataset / f"{split}_annot").glob(image.stem + "*.tif"))
        if not annot:
            raise FileNotFoundError(f"no annotation for {image}")
        pairs.append((image, annot[0]))
    return pairs


def load(dataset: str, split: str, limit: int | None = None) -> list[Sample]:
    """The images of one split with their class maps (the first `limit` when given)."""
    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph

    samples = []
    for image, annot in image_paths(dataset, split)[:limit]:
        rgb = to_rgb(read_micrograph(image))
        truth = np.zeros(rgb.shape[:2], np.uint8)
        for k, mask in enumerate(class_masks(dataset, annot).values(), start=1):
            truth[mask] = k
        samples.append(Sample(dataset, split, image.stem, rgb, truth))
    return samples


def depth(mask: np.ndarray) -> np.ndarray:
    """Distance of each pixel of `mask` to its outline, the image border counted as outline."""
    return cast("np.ndarray", ndi.distance_transform_edt(np.pad(mask, 1)))[1:-1, 1:-1]


def interior_point(mask: np.ndarray) -> tuple[float, float]:
    """(x, y) of the pixel of `mask` farthest from its outline."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    y, x = np.unravel_index(int(np.argmax(depth(crop))), crop.shape)
    return float(x + cols[0]), float(y + rows[0])


def largest_regions(mask: np.ndarray, n: int) -> list[np.ndarray]:
    """The n largest 8-connected regions of `mask`, largest first (fewer if it has fewer)."""
    labels, count = cast("tuple[np.ndarray, int]", ndi.label(mask, EIGHT))
    if count == 0:
        return []
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    order = np.argsort(-sizes, kind="stable")[: min(n, count)]
    return [labels == k for k in order]


def seed_clicks(truth: np.ndarray, n_classes: int, per_class: int = 3) -> list[list[tuple]]:
    """Per class, `per_class` clicks (x, y): see the module docstring."""
    out = []
    for k in range(n_classes):
        regions = largest_regions(truth == k, per_class)
        points = [interior_point(r) for r in regions]
        if regions and len(points) < per_class:
            free = regions[0].copy()
            while len(points) < per_class:
                for x, y in points:
                    free[int(y), int(x)] = False  # distance now also counts from the clicks
                d = cast("np.ndarray", ndi.distance_transform_edt(np.pad(free, 1)))[1:-1, 1:-1]
                if d.max() <= 0:
                    break
                y, x = np.unravel_index(int(np.argmax(d)), d.shape)
                points.append((float(x), float(y)))
        out.append(points)
    return out


def correction_clicks(truth: np.ndarray, pred: np.ndarray, n_classes: int) -> list[list[tuple]]:
    """Per class, at most one click (x, y): the interior-most point of the largest region of
    that class that `pred` (0-based classes like `truth`) labels as another class."""
    out = []
    for k in range(n_classes):
        regions = largest_regions((truth == k) & (pred != k), 1)
        out.append([interior_point(regions[0])] if regions else [])
    return out


def class_ious(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> list[float]:
    """IoU per class; `pred` uses the same 0-based class numbers as `truth`. A class absent
    from both counts as 1."""
    out = []
    for k in range(n_classes):
        p, t = pred == k, truth == k
        union = np.count_nonzero(p | t)
        out.append(np.count_nonzero(p & t) / union if union else 1.0)
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1))


def macro_iou(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> float:
    return float(np.mean(class_ious(pred, truth, n_classes)))


FLOOD_TOLERANCES = (0.02, 0.05, 0.08, 0.12, 0.16, 0.20, 0.25, 0.30, 0.40)


def wand_image(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The grey image the magic wand compares (Gaussian σ = 1 px) and its 0.5-99.5 percentile
    range, which the tolerance is a fraction of."""
    grey = ndi.gaussian_filter(rgb.mean(axis=2) if rgb.ndim == 3 else rgb.astype(float), 1.0)
    lo, hi = np.percentile(grey, [0.5, 99.5])
    return grey, float(hi - lo)


def flood_fill(
    rgb: np.ndarray,
    click: tuple[float, float],
    tolerance: float,
    prepared: tuple[np.ndarray, float] | None = None,
) -> np.ndarray:
    """The magic wand: pixels connected to the click whose grey value is within `tolerance` ×
    the image's range of the clicked pixel's (`prepared` = `wand_image(rgb)`, to reuse)."""
    from skimage.segmentation import flood

    grey, span = wand_image(rgb) if prepared is None else prepared
    x, y = click
    return flood(grey, (int(y), int(x)), tolerance=tolerance * span)
