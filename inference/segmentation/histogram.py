"""Size-distribution histograms as plain numbers (numpy only): the GUI and the report draw them.

Log bins are spaced evenly in log10 between the smallest and the largest positive value;
values <= 0 (and NaN) cannot sit on a log axis and are counted in `left_out`. Each bin holds
values in [edge_i, edge_i+1), the last bin also its right edge, as numpy.histogram does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.segmentation.measure import ObjectMeasurement

Scale = Literal["linear", "log"]

# quantity -> (ObjectMeasurement field, is it an area)
QUANTITIES = {
    "equivalent_diameter": ("equivalent_diameter", False),
    "area": ("area", True),
    "perimeter": ("perimeter", False),
    "aspect_ratio": ("aspect_ratio", None),
    "skeleton_length": ("skeleton_length", False),
}


@dataclass(frozen=True)
class Histogram:
    """Counts per bin; `edges` has one more entry than `counts`."""

    edges: np.ndarray
    counts: np.ndarray
    scale: Scale
    quantity: str = ""
    unit: str = ""  # "" for dimensionless quantities
    left_out: int = 0  # values that could not be binned (NaN, or <= 0 on a log scale)

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def centres(self) -> np.ndarray:
        """Bar centres: arithmetic on a linear scale, geometric on a log scale."""
        lo, hi = self.edges[:-1], self.edges[1:]
        return np.sqrt(lo * hi) if self.scale == "log" else (lo + hi) / 2

    @property
    def label(self) -> str:
        name = self.quantity.replace("_", " ")
        return f"{name} ({self.unit})" if self.unit else name


def histogram(
    values: Sequence[float] | np.ndarray,
    bins: int = 20,
    scale: Scale = "linear",
    value_range: tuple[float, float] | None = None,
    quantity: str = "",
    unit: str = "",
) -> Histogram:
    """Bin `values` into `bins` linear or logarithmic bins over `value_range` (default: the data)."""
    if bins < 1:
        raise ValueError("a histogram needs at least one bin")
    if scale not in ("linear", "log"):
        raise ValueError(f"histogram scale is 'linear' or 'log', not '{scale}'")
    v = np.asarray(values, dtype=float).ravel()
    usable = np.isfinite(v) & ((v > 0) if scale == "log" else True)
    left_out = int(v.size - usable.sum())
    v = v[usable]
    lo, hi = value_range if value_range else ((v.min(), v.max()) if v.size else (1.0, 10.0))
    if scale == "log" and lo <= 0:
        raise ValueError("a log-scale histogram needs a positive range")
    if hi <= lo:  # all values equal: one value wide around it
        lo, hi = (lo / 2, lo * 2) if scale == "log" else (lo - 0.5, lo + 0.5)
    edges = (
        np.logspace(np.log10(lo), np.log10(hi), bins + 1)
        if scale == "log"
        else np.linspace(lo, hi, bins + 1)
    )
    edges[0], edges[-1] = lo, hi  # logspace rounds its ends: the min and max must stay inside
    counts, _ = np.histogram(v, bins=edges)
    outside = int(v.size - counts.sum())
    return Histogram(edges, counts.astype(np.int64), scale, quantity, unit, left_out + outside)


def size_histogram(
    measurements: Sequence[ObjectMeasurement],
    class_name: str | None = None,
    quantity: str = "equivalent_diameter",
    bins: int = 20,
    scale: Scale = "linear",
    include_border: bool = False,
) -> Histogram:
    """Histogram of one measured quantity over the objects of a class (all classes if None).

    Objects touching the image border are left out by default: they are cut, so their size is
    wrong (the same rule as the mean sizes in the summary).
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"no histogram for '{quantity}'; choose one of {', '.join(QUANTITIES)}")
    field, is_area = QUANTITIES[quantity]
    chosen = [
        m
        for m in measurements
        if (class_name is None or m.class_name == class_name)
        and (include_border or not m.touches_border)
    ]
    values = [getattr(m, field) for m in chosen]
    values = [np.nan if v is None else v for v in values]
    unit = measurements[0].unit if measurements else ""
    if is_area is None:
        unit = ""
    elif is_area:
        unit = f"{unit}²" if unit else ""
    return histogram(values, bins, scale, quantity=quantity, unit=unit)
