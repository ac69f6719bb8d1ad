"""PNG, JPEG, BMP and GIF through imageio (Pillow): optical images, exports, screenshots.

Grey stays 2-D (a grey palette too), 16-bit PNG stays uint16, alpha is dropped. These
formats carry no calibration: their dpi fields are print settings.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image

from inference.imaging._pixels import as_image, check_frame
from inference.imaging.formats import broken
from inference.imaging.micrograph import Micrograph

_NAMES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF"}
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError)


def _name(path: Path) -> str:
    return _NAMES.get(path.suffix.lower(), "image")


def count_frames(path: Path) -> int:
    try:
        props = iio.improps(path, index=None, plugin="pillow")
    except _DECODE_ERRORS as exc:
        raise broken(path, _name(path)) from exc
    if props.n_images:
        return int(props.n_images)
    return int(props.shape[0]) if props.is_batch else 1


def read(path: Path, frame: int = 0) -> Micrograph:
    n_frames = count_frames(path)
    check_frame(frame, n_frames)
    try:
        mode = _mode(path, frame)
        convert = "RGB" if mode == "CMYK" else None
        data = iio.imread(path, index=frame, plugin="pillow", mode=convert)
    except _DECODE_ERRORS as exc:
        raise broken(path, _name(path)) from exc
    data = np.asarray(data)
    if mode.startswith("P") and data.ndim == 3 and _channels_equal(data):
        data = data[..., 0]  # a grey palette stores one value per pixel
    data = as_image(data)
    return Micrograph(
        data=data,
        path=path,
        frame=frame,
        n_frames=n_frames,
        metadata={"format": _name(path), "data type": str(data.dtype), "mode": mode},
        title=path.stem,
    )


def _mode(path: Path, frame: int) -> str:
    """Pillow's mode from the header (imageio's immeta decodes the whole image first)."""
    with Image.open(path) as image:
        if frame:
            image.seek(frame)
        return str(image.mode)


def _channels_equal(data: np.ndarray) -> bool:
    return bool((data[..., 0] == data[..., 1]).all() and (data[..., 1] == data[..., 2]).all())
