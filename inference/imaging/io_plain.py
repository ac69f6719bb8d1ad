"""PNG, JPEG, BMP and GIF through imageio (Pillow): optical images, exports, screenshots.

Grey stays 2-D (a grey palette too), 16-bit PNG stays uint16, alpha is dropped. These
formats carry no calibration: their dpi fields are print settings.

Pillow refuses images above 179 megapixels as possible "decompression bombs", which refused
MatLens's own 16000 × 16000 exports. Here the header's size is checked against the memory left
instead (`memory.check_fits`), and Pillow's fixed limit is lifted only while MatLens reads.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import imageio.v3 as iio
import numpy as np
from PIL import Image

from inference.imaging._pixels import as_image, check_frame
from inference.imaging.formats import broken
from inference.imaging.memory import check_fits
from inference.imaging.micrograph import Micrograph

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_NAMES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".gif": "GIF"}
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    Image.DecompressionBombError,
)
_PILLOW_LIMIT = threading.Lock()


def _name(path: Path) -> str:
    return _NAMES.get(path.suffix.lower(), "image")


@contextmanager
def _sized_by_memory() -> Iterator[None]:
    """Pillow's pixel-count guard off, for MatLens's own reads that check the memory first."""
    with _PILLOW_LIMIT:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def count_frames(path: Path) -> int:
    try:
        with _sized_by_memory():
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
        with _sized_by_memory():
            mode = _check_size(path, frame)
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


def _check_size(path: Path, frame: int) -> str:
    """Pillow's mode, after the header's size passed the memory check (nothing decoded yet)."""
    with Image.open(path) as image:
        if frame:
            image.seek(frame)
        width, height = image.size
        mode = str(image.mode)
        dtype = (
            np.uint16 if mode.startswith("I;16") else np.uint32 if mode in ("I", "F") else np.uint8
        )
        check_fits(path, width, height, dtype, len(image.getbands()))
        return mode


def _channels_equal(data: np.ndarray) -> bool:
    return bool((data[..., 0] == data[..., 1]).all() and (data[..., 1] == data[..., 2]).all())
