"""Powder X-ray diffraction pattern (pymatgen's XRDCalculator) and its CSV export.

Cu Kα (the weighted Kα1/Kα2 mean, 1.54184 Å) is the default, as on most lab diffractometers.
Partial occupancies enter the structure factors as they are.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from inference.errors import MatLensError

if TYPE_CHECKING:
    from pymatgen.core import Structure

DEFAULT_RADIATION = "CuKa"
DEFAULT_RANGE = (5.0, 90.0)
# Reflections × atoms that pymatgen's XRDCalculator gets through in about 30 s on one core
# (measured ~2e6 per second on rock-salt supercells). Its Python loop cannot be stopped, so
# larger cells are refused up front: a 20,000-atom cell would take hours.
MAX_XRD_WORK = 6e7


# Named X-ray lines in Å, as in pymatgen's XRDCalculator (a test keeps them equal); copied so
# that filling the radiation list does not import pymatgen's diffraction code.
RADIATIONS: dict[str, float] = {
    "CuKa": 1.54184, "CuKa2": 1.54439, "CuKa1": 1.54056, "CuKb1": 1.39222,
    "MoKa": 0.71073, "MoKa2": 0.71359, "MoKa1": 0.7093, "MoKb1": 0.63229,
    "CrKa": 2.291, "CrKa2": 2.29361, "CrKa1": 2.2897, "CrKb1": 2.08487,
    "FeKa": 1.93735, "FeKa2": 1.93998, "FeKa1": 1.93604, "FeKb1": 1.75661,
    "CoKa": 1.79026, "CoKa2": 1.79285, "CoKa1": 1.78896, "CoKb1": 1.63079,
    "AgKa": 0.560885, "AgKa2": 0.563813, "AgKa1": 0.559421, "AgKb1": 0.497082,
}  # fmt: skip


def radiations() -> dict[str, float]:
    """Named X-ray lines (Å): CuKa, MoKa, CoKa, FeKa, CrKa, AgKa and their α1, α2, β1."""
    return dict(RADIATIONS)


@dataclass(frozen=True)
class XrdPeak:
    two_theta: float
    intensity: float  # 0..100, strongest peak = 100
    d_spacing: float  # Å
    hkls: tuple[
        tuple[int, ...], ...
    ]  # Miller (or Miller–Bravais) indices of the merged reflections
    multiplicities: tuple[int, ...]

    @property
    def hkl_text(self) -> str:
        return ", ".join(_hkl(h) for h in self.hkls)


@dataclass(frozen=True)
class XrdPattern:
    peaks: tuple[XrdPeak, ...]
    wavelength: float  # Å
    radiation: str  # "CuKa", or "" for a custom wavelength
    two_theta_range: tuple[float, float]

    @property
    def two_theta(self) -> np.ndarray:
        return np.array([p.two_theta for p in self.peaks])

    @property
    def intensity(self) -> np.ndarray:
        return np.array([p.intensity for p in self.peaks])


def _hkl(hkl: tuple[int, ...]) -> str:
    return "(" + " ".join(str(int(i)) for i in hkl) + ")"


def load_calculator() -> None:
    """Import pymatgen's diffraction code now (seconds on a slow machine: it pulls in much of
    pymatgen), in the background at start-up, so the first pattern does not wait for it."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator  # noqa: F401


def compute_xrd(
    structure: Structure,
    radiation: str | float = DEFAULT_RADIATION,
    two_theta_range: tuple[float, float] = DEFAULT_RANGE,
) -> XrdPattern:
    """Peaks between the two angles (degrees 2θ) for a named X-ray line or a wavelength in Å."""
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    lo, hi = two_theta_range
    if not 0 <= lo < hi <= 180:
        raise MatLensError(f"bad 2θ range {lo:g}–{hi:g}°: it must lie within 0–180°")
    if isinstance(radiation, str):
        if radiation not in radiations():
            raise MatLensError(
                f"unknown radiation '{radiation}' (choose from {', '.join(radiations())})"
            )
        wavelength, name = radiations()[radiation], radiation
    else:
        wavelength, name = float(radiation), ""
        if not 0.05 <= wavelength <= 5:
            raise MatLensError(f"a wavelength of {wavelength:g} Å is not an X-ray wavelength")
    _check_work(structure, wavelength, hi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # pymatgen annotates `wavelength` as a line name; it documents and takes Å as well
        calculator = XRDCalculator(wavelength=cast("Any", wavelength))
        pattern = calculator.get_pattern(structure, two_theta_range=(lo, hi))
    peaks = tuple(
        XrdPeak(
            two_theta=float(x),
            intensity=float(y),
            d_spacing=float(d),
            hkls=tuple(tuple(int(i) for i in h["hkl"]) for h in hkls),
            multiplicities=tuple(int(h["multiplicity"]) for h in hkls),
        )
        for x, y, d, hkls in zip(pattern.x, pattern.y, pattern.d_hkls, pattern.hkls, strict=True)
    )
    return XrdPattern(peaks, wavelength, name, (lo, hi))


def _check_work(structure: Structure, wavelength: float, two_theta_max: float) -> None:
    """Refuse a pattern with more reflections × atoms than `MAX_XRD_WORK`."""
    radius = 2 * np.sin(np.radians(two_theta_max / 2)) / wavelength  # 1/Å
    volume = float(structure.lattice.volume)
    reflections = 4 / 3 * np.pi * radius**3 * volume
    if reflections * len(structure) > MAX_XRD_WORK:
        raise MatLensError(
            f"no powder pattern: this cell ({len(structure):,} atoms, {volume:,.0f} Å³) has about "
            f"{reflections:,.0f} reflections up to {two_theta_max:g}° 2θ, too many to compute "
            "here; use the primitive cell or a narrower 2θ range"
        )


def write_csv(pattern: XrdPattern, path: str | Path) -> Path:
    """One row per peak: 2θ, intensity, d, hkl list and multiplicities."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        label = pattern.radiation or "custom"
        writer.writerow([f"# wavelength {pattern.wavelength:.6f} A ({label})"])
        writer.writerow(["two_theta_deg", "intensity", "d_spacing_A", "hkl", "multiplicity"])
        for p in pattern.peaks:
            writer.writerow(
                [
                    f"{p.two_theta:.4f}",
                    f"{p.intensity:.3f}",
                    f"{p.d_spacing:.5f}",
                    " ".join(_hkl(h) for h in p.hkls),
                    " ".join(str(m) for m in p.multiplicities),
                ]
            )
    return path


def profile(
    pattern: XrdPattern, fwhm: float = 0.1, step: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian-broadened curve through the peaks, for plotting next to measured data."""
    lo, hi = pattern.two_theta_range
    x = np.arange(lo, hi + step / 2, step)
    y = np.zeros_like(x)
    sigma = fwhm / 2.3548
    for p in pattern.peaks:
        window = np.abs(x - p.two_theta) < 6 * sigma
        y[window] += p.intensity * np.exp(-0.5 * ((x[window] - p.two_theta) / sigma) ** 2)
    return x, y
