"""A scale bar burnt into exported pictures (the report's overlay, batch overlays).

The bar's length is a round value (1, 2 or 5 × 10^k of a length unit) close to a fifth of the
picture's width, written with the same number formatting as the tables. A value below 1 moves to
the next smaller unit (0.5 µm reads "500 nm"), one of 1000 or more to the next larger (2000 nm
reads "2 µm"). Uncalibrated pictures get no bar: a bar in pixels would say nothing that the
picture does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from inference.segmentation.numbers import format_quantity

if TYPE_CHECKING:
    from inference.imaging.calibration import Calibration

_SMALLER = {"m": "mm", "cm": "mm", "mm": "µm", "µm": "nm", "nm": "pm", "Å": "pm"}
_LARGER = {"pm": "nm", "Å": "nm", "nm": "µm", "µm": "mm", "mm": "m"}
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
    while length >= 1000 and cal.unit in _LARGER:  # a TEM image in pm: "1 nm", not "1,000 pm"
        coarser = cal.to(_LARGER[cal.unit])
        length *= coarser.pixel_size / cal.pixel_size
        cal = coarser
    length = float(f"{length:.6g}")  # 0.1 µm * 1000 = 100.00000000000001 nm
    return ScaleBar(length, cal.unit, length / cal.pixel_size)


def draw_scale_bar(rgb: np.ndarray, calibration: Calibration, data_bar_rows: int = 0) -> np.ndarray:
    """Draw a bar and its length in the bottom-right corner of `rgb` (H×W×3 uint8, writable,
    whose pixels `calibration` describes), white on a black box, in place; returns `rgb`.
    Only the corner is touched, so a 16000 px picture costs no second image. Uncalibrated
    pictures are left as they are. The bottom `data_bar_rows` (a microscope's data bar, with
    its own bar and text) are left alone: the corner is the one above them, when it fits."""
    bar = choose_scale_bar(calibration, rgb.shape[1])
    if bar is None:
        return rgb
    full_height, width = rgb.shape[:2]
    height = full_height - data_bar_rows if 0 < data_bar_rows < full_height // 2 else full_height
    zoom = max(1, round(min(height, width) / 250))  # text about 1/25 of the picture high
    text = np.kron(_text_mask(bar.label), np.ones((zoom, zoom), dtype=bool))
    margin, thick = 4 * zoom, 3 * zoom
    bar_w = max(int(round(bar.length_px)), 1)
    box_h = min(margin + text.shape[0] + margin + thick + margin, height)
    box_w = min(max(bar_w, text.shape[1]) + 2 * margin, width)
    box = np.zeros((box_h, box_w), dtype=bool)  # True: white
    tx = max((box_w - text.shape[1]) // 2, 0)
    shown = text[: max(box_h - margin, 0), : box_w - tx]
    box[margin : margin + shown.shape[0], tx : tx + shown.shape[1]] = shown[: box_h - margin]
    bx = max((box_w - bar_w) // 2, 0)
    box[box_h - margin - thick : box_h - margin, bx : bx + bar_w] = True
    y1 = height - min(margin, height - box_h)
    x1 = width - min(margin, width - box_w)
    rgb[y1 - box_h : y1, x1 - box_w : x1, :3] = np.where(box[..., None], 255, 0).astype(np.uint8)
    return rgb


@cache
def _text_mask(text: str) -> np.ndarray:
    """The text in Pillow's built-in bitmap font (Latin-1, so µ and Å; no FreeType, which the
    bundle leaves out), as a boolean array."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default_imagefont()
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
    return np.asarray(image) > 127
