"""Physical pixel size of a micrograph, from metadata or drawn over the scale bar."""

from __future__ import annotations

from dataclasses import dataclass

# Lengths MatLens understands, in metres; "px" means uncalibrated.
_METRES = {
    "pm": 1e-12,
    "Å": 1e-10,
    "A": 1e-10,
    "nm": 1e-9,
    "µm": 1e-6,
    "um": 1e-6,
    "mm": 1e-3,
    "cm": 1e-2,
    "m": 1.0,
}


def normalise_unit(unit: str) -> str:
    u = unit.strip().replace("μ", "µ")  # Greek mu -> micro sign
    return {
        "um": "µm",
        "micron": "µm",
        "microns": "µm",
        "A": "Å",
        "angstrom": "Å",
        "nanometer": "nm",
    }.get(u, u)


# Pixels whose height differs from their width by more than this are not square: one pixel
# size would make every area and every length that is not horizontal wrong.
SQUARE_TOLERANCE = 0.01

# The Micrograph.metadata key of the one line that says why the file's own scale was not
# used (reciprocal space, pixels not square, a print resolution): the pane shows it.
CALIBRATION_NOTE = "calibration"
# The key of the line saying which rows are the microscope's data bar (FEI writes its height).
DATA_BAR_NOTE = "data bar"
# The key of the data bar's height in rows (the bottom rows of the image), as a whole number.
DATA_BAR_ROWS = "data bar rows"


def data_bar_note(rows: int) -> str:
    """The one line the Image box, `matlens` and the report say about a data bar of `rows`:
    MatLens leaves those rows out by itself (`inference.segmentation.data_bar`)."""
    return f"Data bar: bottom {rows} rows, left out of automatic segmentation and area fractions"


# The Micrograph.metadata key set when the file has a scale that is no square pixel's real size;
# its value says why (NOT_SQUARE, RECIPROCAL). No one pixel size is right for such an image, so
# a batch recipe's fallback for files without a scale must not be given to it. A file with no
# usable scale at all (none, a print resolution, no unit) has no such key.
SCALE_REFUSED = "scale refused"
NOT_SQUARE = "pixels not square"
RECIPROCAL = "reciprocal space"


def refused_scale(note: str, why: str) -> dict[str, str]:
    """The metadata lines of a file whose own scale is not used: the note shown and why."""
    return {CALIBRATION_NOTE: note, SCALE_REFUSED: why}


def square(width: float, height: float) -> bool:
    """Do a pixel's width and height agree within SQUARE_TOLERANCE?"""
    return abs(height - width) <= SQUARE_TOLERANCE * width


def not_square(width: float, height: float, unit: str) -> dict[str, str]:
    """The metadata lines of a file whose pixels are not square: the note shown and why."""
    note = (
        f"pixels are not square ({width:.5g} {unit} wide, {height:.5g} {unit} high): "
        "left uncalibrated, since areas and diameters need square pixels"
    )
    return refused_scale(note, NOT_SQUARE)


@dataclass(frozen=True)
class Calibration:
    """Size of one pixel. Without metadata or a drawn scale, `unit` is "px" and `pixel_size` is 1."""

    pixel_size: float = 1.0
    unit: str = "px"
    source: str = "none"  # e.g. "FEI tags", "Zeiss tags", "ImageJ", "DM", "EMD", "manual"

    @property
    def calibrated(self) -> bool:
        return self.unit != "px"

    def length(self, pixels: float) -> float:
        return pixels * self.pixel_size

    def area(self, pixel_count: float) -> float:
        return pixel_count * self.pixel_size**2

    @property
    def area_unit(self) -> str:
        return f"{self.unit}²" if self.calibrated else "px²"

    def to(self, unit: str) -> Calibration:
        """The same calibration expressed in another length unit."""
        unit = normalise_unit(unit)
        if not self.calibrated:
            return self
        factor = _METRES[self.unit] / _METRES[unit]
        return Calibration(self.pixel_size * factor, unit, self.source)

    def readable(self) -> Calibration:
        """Pick the unit that keeps the pixel size between 0.1 and 1000 (nm for TEM, µm for SEM)."""
        if not self.calibrated:
            return self
        metres = self.pixel_size * _METRES[self.unit]
        for unit in ("pm", "nm", "µm", "mm", "m"):
            if metres / _METRES[unit] < 1000:
                return self.to(unit)
        return self.to("m")

    def tidy(self) -> Calibration:
        """Keep the file's own unit unless the number is awkward (below 0.1 or from 1000 up)."""
        if not self.calibrated or 0.1 <= self.pixel_size < 1000:
            return self
        return self.readable()

    @classmethod
    def from_scale_bar(cls, line_pixels: float, length: float, unit: str) -> Calibration:
        """Calibration drawn by hand: a line of `line_pixels` over a bar of `length` `unit`."""
        if line_pixels <= 0 or length <= 0:
            raise ValueError("the scale bar line and its length must both be positive")
        unit = normalise_unit(unit)
        if unit not in _METRES:
            raise ValueError(f"unknown length unit '{unit}'")
        return cls(length / line_pixels, unit, "manual")

    @classmethod
    def from_metres(cls, metres_per_pixel: float, source: str) -> Calibration:
        return cls(metres_per_pixel, "m", source).readable()

    @staticmethod
    def known_unit(unit: str) -> bool:
        return normalise_unit(unit) in _METRES
