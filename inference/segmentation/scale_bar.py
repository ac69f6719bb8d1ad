"""A scale bar burnt into exported pictures (the report's overlay, batch overlays).

The bar's length is a round value (1, 2 or 5 × 10^k of a length unit) close to a fifth of the
picture's width, written with the same number formatting as the tables. A value below 1 moves to
the next smaller unit (0.5 µm reads "500 nm"). Uncalibrated pictures get no bar: a bar in pixels
would say nothing that the picture does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from inference.imaging.calibration import Calibration
from inference.segmentation.numbers import format_quantity

_SMALLER = {"m": "mm", "cm": "mm", "mm": "µm", "µm": "nm", "nm": "pm", "Å": "pm"}
_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class ScaleBar:
    length: float  # in `unit`
    unit: str
    length_px: float  # on the picture

    @property
    def label(self) -> str:
        return format_quantity(self.length, self.unit, trim=True)  # "5 µm", not "5.00 µm"


def choose_scale_bar(
    calibration: Calibration, width_px: int, fraction: float = 0.2
) -> ScaleBar | None:
    """The round length nearest below `fraction` of the width; None when uncalibrated."""
    if not calibration.calibrated or width_px < 20 or not calibration.pixel_size > 0:
        return None
    target = fraction * width_px * calibration.pixel_size
    exponent = math.floor(math.log10(target))
    length = max(s * 10.0**exponent for s in _STEPS if s * 10.0**exponent <= target)
    cal = calibration
    while length < 1 and cal.unit in _SMALLER:
        finer = cal.to(_SMALLER[cal.unit])
        length *= finer.pixel_size / cal.pixel_size
        cal = finer
    length = float(f"{length:.6g}")  # 0.1 µm * 1000 = 100.00000000000001 nm
    return ScaleBar(length, cal.unit, length / cal.pixel_size)


def draw_scale_bar(rgb: np.ndarray, calibration: Calibration) -> np.ndarray:
    """`rgb` (H×W×3 uint8, whose pixels `calibration` describes) with a bar and its length in
    the bottom-right corner, white on a dark box; returned as is when uncalibrated."""
    bar = choose_scale_bar(calibration, rgb.shape[1])
    if bar is None:
        return rgb
    from PIL import Image, ImageDraw

    height, width = rgb.shape[:2]
    size = max(12, min(height, width) // 30)
    font = _font(size)
    image = Image.fromarray(np.ascontiguousarray(rgb[..., :3]))
    draw = ImageDraw.Draw(image)
    margin, thick = size // 2, max(3, size // 4)
    text_box = draw.textbbox((0, 0), bar.label, font=font)
    text_w, text_h = text_box[2] - text_box[0], text_box[3] - text_box[1]
    bar_w = max(int(round(bar.length_px)), 1)
    box_w = max(bar_w, text_w) + 2 * margin
    box_h = text_h + thick + 3 * margin
    x1, y1 = width - margin, height - margin
    x0, y0 = max(x1 - box_w, 0), max(y1 - box_h, 0)
    draw.rectangle((x0, y0, x1, y1), fill=(0, 0, 0))
    bar_x0 = x0 + (box_w - bar_w) // 2
    draw.rectangle(
        (bar_x0, y1 - margin - thick, bar_x0 + bar_w - 1, y1 - margin - 1), fill=(255, 255, 255)
    )
    text_x = x0 + (box_w - text_w) // 2 - text_box[0]
    draw.text((text_x, y0 + margin - text_box[1]), bar.label, fill=(255, 255, 255), font=font)
    return np.asarray(image)


@cache
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)  # Pillow's built-in scalable font: no files needed
