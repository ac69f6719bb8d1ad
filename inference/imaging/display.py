"""Screen contrast for raw detector values: 16-bit, float and complex data become uint8.

Only the displayed copy is stretched; `Micrograph.data` keeps the raw values that
measurements use. Percentiles come from a strided subsample (about a million values), so an
8k × 8k frame costs one pass over the pixels, not a sort.
"""

from __future__ import annotations

import math

import numpy as np

from inference.imaging.micrograph import Micrograph

_SAMPLE_VALUES = 1_000_000  # enough for stable 0.5/99.5 percentiles
_BLOCK_VALUES = 4_000_000  # rows processed at once on the float path (16 MB of float32)


def _array(image: Micrograph | np.ndarray) -> np.ndarray:
    return image.data if isinstance(image, Micrograph) else np.asarray(image)


def _subsample(data: np.ndarray) -> np.ndarray:
    step = max(1, math.ceil(math.sqrt(data.shape[0] * data.shape[1] / _SAMPLE_VALUES)))
    sample = data[::step, ::step]
    return np.abs(sample) if np.iscomplexobj(sample) else sample


def display_range(
    image: Micrograph | np.ndarray, low: float = 0.5, high: float = 99.5
) -> tuple[float, float]:
    """Values mapped to black and white: the `low`/`high` percentiles, NaN and inf ignored.

    Sparse images (a few diffraction spots on zero) have equal percentiles; those fall back
    to the sample's min and max so that the spots still show.
    """
    data = _array(image)
    if data.size == 0:
        return 0.0, 0.0
    values = _subsample(data).ravel()
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 0.0
    lo, hi = (float(v) for v in np.percentile(values, [low, high]))
    if hi <= lo:
        lo, hi = float(values.min()), float(values.max())
    return lo, hi


def _lookup_table(dtype: np.dtype, lo: float, scale: float) -> tuple[np.ndarray, np.dtype]:
    """A uint8 value for every possible 8/16-bit integer, indexed by the unsigned view."""
    unsigned = np.dtype(f"u{dtype.itemsize}")
    levels = np.arange(2 ** (8 * dtype.itemsize), dtype=unsigned).view(dtype).astype(np.float64)
    lut = np.clip((levels - lo) * scale + 0.5, 0, 255).astype(np.uint8)
    return lut, unsigned


def _stretch(data: np.ndarray, lo: float, scale: float, hi: float) -> np.ndarray:
    if data.dtype.kind in "ui" and data.dtype.itemsize <= 2:
        lut, unsigned = _lookup_table(data.dtype, lo, scale)
        return lut[data.view(unsigned)]
    out = np.empty(data.shape, dtype=np.uint8)
    row_values = max(1, int(np.prod(data.shape[1:])))
    rows = max(1, _BLOCK_VALUES // row_values)
    for start in range(0, data.shape[0], rows):
        block = data[start : start + rows]
        block = np.abs(block) if np.iscomplexobj(block) else block
        tmp = block.astype(np.float32)
        # NaN shows black and ±inf as the ends of the range, without inf × 0 = NaN warnings.
        np.nan_to_num(tmp, copy=False, nan=lo, posinf=hi, neginf=lo)
        tmp -= lo
        tmp *= scale
        tmp += 0.5
        np.clip(tmp, 0, 255, out=tmp)
        out[start : start + rows] = tmp
    return out


def to_display(image: Micrograph | np.ndarray, low: float = 0.5, high: float = 99.5) -> np.ndarray:
    """uint8 for the screen: a percentile stretch, or the data itself when already uint8.

    Complex data (FFTs) show their magnitude. A constant image becomes black rather than
    dividing by zero. Colour images are stretched with one range for all three channels.
    """
    data = _array(image)
    if data.ndim == 3 and data.shape[-1] == 4:
        data = data[..., :3]
    if data.dtype == np.uint8:
        return data
    if data.dtype == np.bool_:
        return data.astype(np.uint8) * np.uint8(255)
    lo, hi = display_range(data, low, high)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return _stretch(data, lo, scale, hi)


def to_rgb(image: Micrograph | np.ndarray) -> np.ndarray:
    """H×W×3 uint8, what the segmentation models take; grey is repeated in three channels."""
    data = to_display(image)
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim == 2:
        # One plain copy per channel: numpy lets other threads run during such a copy, where
        # np.repeat held the interpreter lock (0.8 s for 8192² while the window stood still).
        rgb = np.empty((*data.shape, 3), np.uint8)
        for channel in range(3):
            rgb[:, :, channel] = data
        return rgb
    if data.ndim == 3 and data.shape[2] in (3, 4):
        return np.ascontiguousarray(data[..., :3])
    raise ValueError(f"cannot make an RGB image from shape {tuple(data.shape)}")
