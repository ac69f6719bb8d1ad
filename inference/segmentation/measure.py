"""Object measurements (scikit-image regionprops) and per-class summaries, in calibrated units.

Conventions:
- Sizes use each object's own mask; phase fractions use `class_image()`, so where objects
  overlap the one on top counts (the overlap rule in `annotations`), and fractions add up to <= 1.
  Objects added through `merging` never overlap within a class, so a class's area fraction is
  the sum of its objects' areas over the image area.
- The image area is the specimen's: the rows above a microscope's data bar
  (`AnnotationSet.specimen_rows`). Area fractions count only the pixels above the bar and
  number densities divide by the specimen's area; an object painted into the bar is measured
  and counted as drawn. An object that reaches the bar touches the border (the bar cuts it).
- `id` is the object's id, the value of its pixels in the exported label image.
- centroid_x / centroid_y are in pixels (column, row of the pixel centre), whatever the
  calibration, so they can be found in the image.
- orientation follows ImageJ: degrees in [0, 180) between the major axis and the image x axis,
  counter-clockwise as seen on screen.
- aspect_ratio is major / minor axis length; NaN when the minor axis is 0 (a one-pixel line).
  orientation is NaN for a single pixel.
- perimeter is scikit-image's estimate through the boundary pixel centres (a 10×10 px square
  reads 36 px, a disk of radius 20 px about 2 % over 2πr); ImageJ's traced outline reads more.
- skeleton_length (crack length) is measured only for the classes named in `length_classes`
  (cracks by default; skeletons of compact objects mean little), None elsewhere; see `cracks`.
- number_density counts every object of the class, border-touching ones included, per unit²
  of the specimen (the whole image without a data bar).
- Memory: objects are measured on their crops; the summary paints one uint8 class image and
  counts it in row blocks, so a 16000 × 16000 image needs about 0.3 GB beyond its objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from skimage.measure import regionprops

from inference.segmentation.cracks import skeleton_length_px
from inference.segmentation.numbers import column_name

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.imaging.calibration import Calibration
    from inference.segmentation.annotations import AnnotatedObject, AnnotationSet

CRACK_CLASS = "crack"
LENGTH_CLASSES = (CRACK_CLASS,)  # classes whose objects get a skeleton (crack) length


@dataclass(frozen=True)
class ObjectMeasurement:
    """One object's size and shape; lengths in `unit`, areas in `unit`²."""

    id: int  # the object's id: the value of its pixels in the exported label image
    class_name: str
    area_px: int
    area: float
    unit: str
    centroid_x: float
    centroid_y: float
    equivalent_diameter: float
    perimeter: float
    aspect_ratio: float
    orientation: float
    score: float | None
    touches_border: bool  # excluded from unbiased size statistics by convention
    skeleton_length: float | None = None  # crack length along the skeleton, in `unit`


@dataclass(frozen=True)
class ClassSummary:
    """Per class: how many objects, and what share of the image they cover."""

    class_name: str
    count: int
    area_px: int  # pixels of this class after the overlap rule
    area: float
    area_fraction: float  # phase fraction of the specimen (the image above a data bar)
    number_density: float  # objects per calibrated unit² of specimen
    unit: str


def measure_object(
    obj: AnnotatedObject,
    calibration: Calibration,
    shape: tuple[int, int],
    with_length: bool = False,
) -> ObjectMeasurement:
    """Works on the cropped mask, so it costs the object's size, not the image's. `shape` is
    the specimen's (height, width): an object reaching its bottom row or below touches the
    border."""
    props = regionprops(obj.mask.astype(np.uint8))[0]
    y0, x0 = obj.offset
    cy, cx = props.centroid
    major, minor = props.axis_major_length, props.axis_minor_length
    x_0, y_0, x_1, y_1 = obj.bbox
    return ObjectMeasurement(
        id=obj.id,
        class_name=obj.class_name,
        area_px=int(props.area),
        area=calibration.area(float(props.area)),
        unit=calibration.unit,
        centroid_x=float(cx + x0),
        centroid_y=float(cy + y0),
        equivalent_diameter=calibration.length(float(props.equivalent_diameter_area)),
        perimeter=calibration.length(float(props.perimeter)),
        aspect_ratio=float(major / minor) if minor > 0 else math.nan,
        orientation=float((math.degrees(props.orientation) + 90.0) % 180.0)
        if major > 0
        else math.nan,  # a single pixel points nowhere
        score=obj.score,
        touches_border=x_0 == 0 or y_0 == 0 or x_1 >= shape[1] or y_1 >= shape[0],
        skeleton_length=calibration.length(skeleton_length_px(obj.mask)) if with_length else None,
    )


def measure(
    annotations: AnnotationSet, length_classes: Sequence[str] = LENGTH_CLASSES
) -> list[ObjectMeasurement]:
    """Every object, in drawing order (hidden objects included: hiding is only a view)."""
    return [
        measure_object(
            obj,
            annotations.calibration,
            (annotations.specimen_rows, annotations.shape[1]),
            with_length=obj.class_name in length_classes,
        )
        for obj in annotations.objects
    ]


def summarise(annotations: AnnotationSet) -> list[ClassSummary]:
    """One row per class, in the set's class order (classes without objects included); areas
    and fractions over the specimen (the rows above a data bar)."""
    cal = annotations.calibration
    pixels = class_pixel_counts(annotations)
    total_px = annotations.specimen_rows * annotations.shape[1]
    image_area = cal.area(float(total_px))
    summaries = []
    for k, cls in enumerate(annotations.classes, start=1):
        count = sum(1 for o in annotations.objects if o.class_name == cls.name)
        summaries.append(
            ClassSummary(
                class_name=cls.name,
                count=count,
                area_px=int(pixels[k]),
                area=cal.area(float(pixels[k])),
                area_fraction=float(pixels[k]) / total_px,
                number_density=count / image_area,
                unit=cal.unit,
            )
        )
    return summaries


_ROWS_PER_BLOCK = 1024


def class_pixel_counts(annotations: AnnotationSet) -> np.ndarray:
    """Pixels of each class after the overlap rule, in the specimen (above a data bar): index k
    is the k-th class (1-based), 0 the background. Counted in row blocks, since bincount of a
    whole image widens it to int64."""
    classes = annotations.class_image()[: annotations.specimen_rows]
    counts = np.zeros(len(annotations.classes) + 1, dtype=np.int64)
    for start in range(0, classes.shape[0], _ROWS_PER_BLOCK):
        block = classes[start : start + _ROWS_PER_BLOCK].ravel()
        counts += np.bincount(block, minlength=counts.size)
    return counts


OBJECT_FIELDS = (
    "id",
    "class",
    "area_px",
    "area_{a}",
    "centroid_x_px",
    "centroid_y_px",
    "equivalent_diameter_{u}",
    "perimeter_{u}",
    "aspect_ratio",
    "orientation_deg",
    "skeleton_length_{u}",
    "score",
    "touches_border",
)

SUMMARY_FIELDS = (
    "class",
    "count",
    "area_px",
    "area_{a}",
    "area_fraction",
    "number_density_per_{a}",
)


def _header(fields: Sequence[str], calibration: Calibration) -> list[object]:
    return [column_name(f, calibration) for f in fields]


def to_rows(
    measurements: Sequence[ObjectMeasurement], calibration: Calibration
) -> list[list[object]]:
    """A header (units in the column names, e.g. "area_µm²") followed by one row per object."""
    rows: list[list[object]] = [_header(OBJECT_FIELDS, calibration)]
    for m in measurements:
        rows.append(
            [
                m.id,
                m.class_name,
                m.area_px,
                m.area,
                m.centroid_x,
                m.centroid_y,
                m.equivalent_diameter,
                m.perimeter,
                m.aspect_ratio,
                m.orientation,
                m.skeleton_length,
                m.score,
                int(m.touches_border),
            ]
        )
    return rows


def summary_rows(summaries: Sequence[ClassSummary], calibration: Calibration) -> list[list[object]]:
    rows: list[list[object]] = [_header(SUMMARY_FIELDS, calibration)]
    for s in summaries:
        rows.append([s.class_name, s.count, s.area_px, s.area, s.area_fraction, s.number_density])
    return rows
