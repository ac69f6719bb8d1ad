"""Small array fixes shared by the readers: channels last, alpha dropped, native byte order."""

from __future__ import annotations

import mmap

import numpy as np

from inference.errors import UnreadableFile


def check_frame(frame: int, n_frames: int) -> None:
    if not 0 <= frame < n_frames:
        noun = "frame" if n_frames == 1 else "frames"
        raise UnreadableFile(f"frame {frame} out of range (stack has {n_frames} {noun})")


def as_image(data: np.ndarray, samples_axis: int | None = None) -> np.ndarray:
    """H×W or H×W×3: samples moved last, grey+alpha → grey, RGBA → RGB, native byte order."""
    if data.dtype.names:  # DM and Velox store colour as a record (R, G, B, A)
        if not {"R", "G", "B"} <= set(data.dtype.names):
            raise UnreadableFile(f"unsupported pixel record {data.dtype.names}")
        data = np.stack([data[c] for c in ("R", "G", "B")], axis=-1)
    if samples_axis is not None and data.ndim == 3 and samples_axis != data.ndim - 1:
        data = np.moveaxis(data, samples_axis, -1)
    if data.ndim == 3:
        channels = data.shape[-1]
        if channels == 1 or channels == 2 or channels > 4:
            data = data[..., 0]
        elif channels == 4:
            data = data[..., :3]
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    if data.size == 0:
        raise UnreadableFile("image has zero pixels")
    if data.ndim != 2 and not (data.ndim == 3 and data.shape[2] == 3):
        raise UnreadableFile(f"not a 2-D image (data shape {tuple(data.shape)})")
    return np.ascontiguousarray(data)


def detached(data: np.ndarray) -> np.ndarray:
    """A copy when `data` still views a memory-mapped file, so the file can close (Windows)."""
    base = data
    while base is not None:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return np.array(data)
        base = getattr(base, "base", None)
    return data
