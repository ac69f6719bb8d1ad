"""The measurement summary of one image: what the GUI's summary panel, the report and the batch
summary CSV show.

Conventions:
- Mean, median and standard deviation of sizes leave out objects that touch the image border
  (they are cut, so their size is wrong); `n_border` says how many were left out. Counts,
  fractions and number densities include them.
- Grain size (ASTM E112, see `grain_size`) is computed for the class named `grain_class`
  when it has objects; crack length for `crack_class`. Both are None otherwise.
- Uncalibrated images give every length and area in pixels ("px", "px²") and no G.
- The field is the specimen: the rows above a microscope's data bar (`data_bar`). Fractions,
  densities, crack length per area and the grain size's test area and lines are over it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from inference.imaging.calibration import data_bar_note
from inference.segmentation.export import write_table
from inference.segmentation.grain_size import GrainSize, grain_size
from inference.segmentation.measure import (
    CRACK_CLASS,
    ClassSummary,
    ObjectMeasurement,
    measure,
    summarise,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from inference.imaging.calibration import Calibration
    from inference.segmentation.annotations import AnnotationSet

GRAIN_CLASS = "grain"


@dataclass(frozen=True)
class SizeStats:
    """Equivalent circle diameters (`unit`) and areas (`unit`²) of the objects not on the border."""

    n: int
    n_border: int
    mean_diameter: float  # NaN when n == 0
    median_diameter: float
    std_diameter: float  # sample standard deviation (ddof=1); NaN when n < 2
    mean_area: float


@dataclass(frozen=True)
class ClassStatistics:
    summary: ClassSummary
    sizes: SizeStats

    @property
    def class_name(self) -> str:
        return self.summary.class_name


@dataclass(frozen=True)
class CrackStats:
    """Skeleton lengths of the crack objects; `length_per_area` is L_A in `unit`⁻¹."""

    class_name: str
    count: int
    total_length: float
    mean_length: float  # NaN when there is no crack
    max_length: float
    length_per_area: float
    unit: str


@dataclass(frozen=True)
class MeasurementSummary:
    image: str  # file name
    shape: tuple[int, int]  # (height, width) in pixels
    calibration: Calibration
    classes: tuple[ClassStatistics, ...]
    grain_class: str
    grain_size: GrainSize | None
    cracks: CrackStats | None
    notes: tuple[str, ...] = ()
    data_bar_rows: int = 0  # bottom rows left out of the field (a microscope's data bar)

    @property
    def specimen_rows(self) -> int:
        """The rows the fractions and densities are over: those above the data bar."""
        return self.shape[0] - self.data_bar_rows

    @property
    def unit(self) -> str:
        return self.calibration.unit if self.calibration.calibrated else "px"

    @property
    def area_unit(self) -> str:
        return self.calibration.area_unit

    @property
    def object_count(self) -> int:
        return sum(c.summary.count for c in self.classes)

    def to_dict(self) -> dict:
        """JSON-ready (NaN becomes None), for `matlens measure --json` and the batch markers."""
        return cast("dict", _plain(dataclasses.asdict(self)))


def size_stats(measurements: Sequence[ObjectMeasurement]) -> SizeStats:
    inner = [m for m in measurements if not m.touches_border]
    d = np.array([m.equivalent_diameter for m in inner], dtype=float)
    a = np.array([m.area for m in inner], dtype=float)
    return SizeStats(
        n=len(inner),
        n_border=len(measurements) - len(inner),
        mean_diameter=float(d.mean()) if d.size else math.nan,
        median_diameter=float(np.median(d)) if d.size else math.nan,
        std_diameter=float(d.std(ddof=1)) if d.size > 1 else math.nan,
        mean_area=float(a.mean()) if a.size else math.nan,
    )


def crack_stats(
    measurements: Sequence[ObjectMeasurement], class_name: str, image_area: float, unit: str
) -> CrackStats:
    lengths = [m.skeleton_length for m in measurements if m.class_name == class_name]
    values = np.array([v for v in lengths if v is not None], dtype=float)
    total = float(values.sum())
    return CrackStats(
        class_name=class_name,
        count=len(lengths),
        total_length=total,
        mean_length=float(values.mean()) if values.size else math.nan,
        max_length=float(values.max()) if values.size else math.nan,
        length_per_area=total / image_area,
        unit=unit,
    )


def grain_labels(annotations: AnnotationSet, grain_class: str = GRAIN_CLASS) -> np.ndarray:
    """Label image of the grain class alone (the overlap rule applies: the top object wins)."""
    index = {c.name: k for k, c in enumerate(annotations.classes, start=1)}
    labels = annotations.label_image(values="position")
    if grain_class not in index:
        return np.zeros_like(labels)
    labels[annotations.class_image() != index[grain_class]] = 0
    return labels


def summarise_image(
    annotations: AnnotationSet,
    measurements: Sequence[ObjectMeasurement] | None = None,
    grain_class: str = GRAIN_CLASS,
    crack_class: str = CRACK_CLASS,
) -> MeasurementSummary:
    """Everything the summary panel shows; pass `measurements` if you already have them."""
    cal = annotations.calibration
    if measurements is None:
        measurements = measure(annotations, length_classes=(crack_class,))
    classes = tuple(
        ClassStatistics(s, size_stats([m for m in measurements if m.class_name == s.class_name]))
        for s in summarise(annotations)
    )
    counts = {c.class_name: c.summary.count for c in classes}
    notes: list[str] = []
    if not cal.calibrated:
        notes.append("Uncalibrated: lengths in px, areas in px²")
    data_bar_rows = annotations.shape[0] - annotations.specimen_rows
    if data_bar_rows:  # the report and the Measure tab say what the fractions are over
        notes.append(data_bar_note(data_bar_rows))
    grains = None
    if counts.get(grain_class, 0) > 0:
        field = grain_labels(annotations, grain_class)[: annotations.specimen_rows]
        grains = grain_size(field, cal)
        notes.extend(grains.notes)
    cracks = None
    if counts.get(crack_class, 0) > 0:
        unit = cal.unit if cal.calibrated else "px"
        image_area = cal.area(float(annotations.specimen_rows * annotations.shape[1]))
        cracks = crack_stats(measurements, crack_class, image_area, unit)
    return MeasurementSummary(
        image=annotations.image.file_name,
        shape=annotations.shape,
        calibration=cal,
        classes=classes,
        grain_class=grain_class,
        grain_size=grains,
        cracks=cracks,
        notes=tuple(dict.fromkeys(notes)),
        data_bar_rows=data_bar_rows,
    )


# --- one row per image (the batch summary CSV, `matlens measure --summary`) --------------------
def summary_row(summary: MeasurementSummary) -> dict[str, object]:
    """Column name -> value; units in the names, as in the object CSV ("px" when uncalibrated)."""
    u, a = summary.unit, summary.area_unit
    cal = summary.calibration
    row: dict[str, object] = {
        "image": summary.image,
        "width_px": summary.shape[1],
        "height_px": summary.shape[0],
        f"pixel_size_{u}": cal.pixel_size if cal.calibrated else None,
        "calibration": cal.source if cal.calibrated else "none",
        "objects": summary.object_count,
    }
    if summary.data_bar_rows:  # the fractions' field is the specimen above it
        row["data_bar_rows"] = summary.data_bar_rows
    for c in summary.classes:
        s, z = c.summary, c.sizes
        row[f"{s.class_name}_count"] = s.count
        row[f"{s.class_name}_area_fraction"] = s.area_fraction
        row[f"{s.class_name}_number_density_per_{a}"] = s.number_density
        row[f"{s.class_name}_mean_diameter_{u}"] = z.mean_diameter
        row[f"{s.class_name}_median_diameter_{u}"] = z.median_diameter
    g = summary.grain_size
    if g is not None:
        row["grain_G_planimetric"] = g.planimetric.g
        row["grain_G_intercept"] = g.intercept.g
        row["grain_N_equivalent"] = g.planimetric.n_equivalent
        row["grain_N_A_per_mm²"] = g.planimetric.grains_per_mm2
        row["grain_intersections"] = g.intercept.n_intersections
        row["grain_mean_intercept_mm"] = g.intercept.mean_intercept_mm
        row["grain_mean_intercept_px"] = g.intercept.mean_intercept_px
    k = summary.cracks
    if k is not None:
        row[f"{k.class_name}_total_length_{u}"] = k.total_length
        row[f"{k.class_name}_length_per_area_per_{u}"] = k.length_per_area
    return row


def write_summary_rows(
    rows: Sequence[dict[str, object]], path: str | Path, delimiter: str = ","
) -> Path:
    """Rows of `summary_row` as one CSV; the columns are the union, in the order first seen
    (an image without grains has blank grain-size cells)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    table = [columns, *([row.get(c) for c in columns] for row in rows)]
    return write_table(table, path, delimiter)


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value
