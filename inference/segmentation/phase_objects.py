"""A phase map turned into measurable objects: one object per connected region of each phase.

The pore count is then the number of pores and the size histogram has one entry per pore.
Regions smaller than `min_area_px` (default 10 px) are specks of the classifier, not
particles: they are dropped. A recipe saves this setting as `parameters.measure.min_area`.

The phase fraction is a property of the map, not of the kept objects, so `PhaseObjects`
carries both: `fractions()` counts every pixel of the map (exact), `kept_fractions()` counts the
pixels of the kept objects, and the two differ by exactly the dropped specks'
area (`dropped_pixels`). Regions are 8-connected, as everywhere in MatLens. Both are over the
map's field: the whole map, or the specimen rows above a microscope's data bar (`field_rows`).

Memory: one class at a time is labelled (a bool mask and an int32 label image of the map's size,
5 bytes a pixel), and each region becomes a cropped object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from inference.segmentation.annotations import AnnotatedObject

if TYPE_CHECKING:
    from collections.abc import Sequence

MIN_REGION_PX = 10

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class PhaseObjects:
    """Objects of a phase map and the map's exact pixel counts, per class in class order."""

    objects: tuple[AnnotatedObject, ...]
    classes: tuple[str, ...]
    pixels: tuple[int, ...]  # pixels of each class in the map
    kept_pixels: tuple[int, ...]  # ... in the kept objects
    regions: tuple[int, ...]  # connected regions of each class
    dropped_regions: tuple[int, ...]  # ... smaller than min_area_px
    total_pixels: int  # the field's pixels: the map's, or the specimen's above a data bar
    min_area_px: int

    def fractions(self) -> dict[str, float]:
        """The phase fractions of the map (every pixel counted): the numbers to report."""
        return {c: n / self.total_pixels for c, n in zip(self.classes, self.pixels, strict=True)}

    def kept_fractions(self) -> dict[str, float]:
        """The fractions the kept objects cover (the specks left out)."""
        return {
            c: n / self.total_pixels for c, n in zip(self.classes, self.kept_pixels, strict=True)
        }

    def dropped_pixels(self, class_name: str) -> int:
        k = self.classes.index(class_name)
        return self.pixels[k] - self.kept_pixels[k]

    def counts(self) -> dict[str, int]:
        """Objects kept per class."""
        return {
            c: r - d
            for c, r, d in zip(self.classes, self.regions, self.dropped_regions, strict=True)
        }


def phase_objects(
    labels: np.ndarray,
    classes: Sequence[str],
    min_area_px: int = MIN_REGION_PX,
    first_id: int = 1,
    source: str = "phases",
    field_rows: int | None = None,
) -> PhaseObjects:
    """One object per 8-connected region of each class of a phase map.

    `labels` holds k + 1 for `classes[k]` (0 = unclassified), as `PhaseResult.labels` and
    `matlens phases` do. Objects are numbered from `first_id`, class by class, each class's
    regions in raster order of their top-left pixel. `field_rows`: the fractions are over the
    map's top rows only (the specimen above a data bar, which has no phase); all rows by default.
    """
    from scipy import ndimage

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise ValueError(f"a phase map is 2-D integers, not {labels.dtype} {labels.shape}")
    min_area_px = max(int(min_area_px), 1)
    objects: list[AnnotatedObject] = []
    pixels, kept, regions, dropped = [], [], [], []
    for k, name in enumerate(classes, start=1):
        mask = labels == k
        regions_k, n = cast("tuple[np.ndarray, int]", ndimage.label(mask, structure=_EIGHT))
        del mask
        class_px = kept_px = n_dropped = 0
        for value, found in enumerate(ndimage.find_objects(regions_k), start=1):
            if found is None:
                continue
            crop = regions_k[found] == value
            area = int(np.count_nonzero(crop))
            class_px += area
            if area < min_area_px:
                n_dropped += 1
                continue
            kept_px += area
            offset = (found[0].start, found[1].start)
            objects.append(
                AnnotatedObject(first_id + len(objects), name, crop, offset, source=source)
            )
        del regions_k
        pixels.append(class_px)
        kept.append(kept_px)
        regions.append(n)
        dropped.append(n_dropped)
    return PhaseObjects(
        objects=tuple(objects),
        classes=tuple(classes),
        pixels=tuple(pixels),
        kept_pixels=tuple(kept),
        regions=tuple(regions),
        dropped_regions=tuple(dropped),
        total_pixels=int(labels.shape[1] * (labels.shape[0] if field_rows is None else field_rows)),
        min_area_px=min_area_px,
    )
