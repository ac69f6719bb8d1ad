"""TIFF micrographs through tifffile: 8/16/32-bit, float, RGB, stacks, vendor calibration.

Only the requested frame is read: tifffile reads an uncompressed page straight into the
result array, so an 8192 × 8192 16-bit frame costs its own 128 MB and nothing more.
Compressed TIFFs that tifffile cannot decode without `imagecodecs` (LZW, JPEG, PackBits)
are handed to Pillow, which decodes them for 8/16-bit grey and 8-bit RGB.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

import imageio.v3 as iio
import numpy as np
import tifffile

from inference.errors import UnreadableFile
from inference.imaging._pixels import as_image, check_frame
from inference.imaging.formats import broken, damaged
from inference.imaging.memory import check_fits
from inference.imaging.micrograph import Micrograph
from inference.imaging.tiff_metadata import read_tiff_info

if TYPE_CHECKING:
    from pathlib import Path

_IMAGE_AXES = "YXS"


def _open(path: Path) -> tifffile.TiffFile:
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, EOFError, OSError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise broken(path, "TIFF") from exc
    except (IndexError, KeyError, ZeroDivisionError, OverflowError, struct.error) as exc:
        # tifffile trips over impossible values (0 samples per pixel, 0 rows per strip)
        raise damaged(path, "TIFF", "its image header holds impossible values") from exc
    if not tif.pages or not tif.series:
        tif.close()
        raise broken(path, "TIFF")
    return tif


def _main_series(tif: tifffile.TiffFile) -> tifffile.TiffPageSeries:
    """The data, not the preview: Olympus SIS stores an RGB thumbnail before the raw image."""
    for series in tif.series:
        if series.keyframe.is_sis:
            return series
    return tif.series[0]


def _n_frames(series: tifffile.TiffPageSeries) -> int:
    """Every axis that is not Y, X or samples is flattened into the frame index."""
    return math.prod(
        n for n, ax in zip(series.shape, series.axes, strict=True) if ax not in _IMAGE_AXES
    )


def count_frames(path: Path) -> int:
    with _open(path) as tif:
        return _n_frames(_main_series(tif))


def _expected_chunks(page: tifffile.TiffPage, found: int) -> int:
    """How many strips or tiles the page's size and layout call for."""
    try:
        return math.prod(page.chunked)
    except tifffile.TiffFileError:  # rows per strip 0: harmless when all rows are in one strip
        return 1 if found == 1 else -1


def _bytes_needed(page: tifffile.TiffPage, counts: tuple[int, ...]) -> list[int]:
    """What decoding takes from each strip: the pixels it holds when uncompressed (a byte count
    that overshoots is harmless), else its whole byte count."""
    if page.compression != 1 or page.bitspersample % 8 or page.planarconfig != 1:
        return list(counts)
    chunk = math.prod(page.chunks) * page.bitspersample // 8
    if page.is_tiled:
        return [chunk] * len(counts)
    left = page.size * page.bitspersample // 8
    needed = []
    for _ in counts:
        needed.append(min(chunk, left))
        left -= needed[-1]
    return needed


def _check_layout(tif: tifffile.TiffFile, page: tifffile.TiffPage, path: Path) -> None:
    """The header's promise against the bytes on disk, before any pixel is decoded.

    One flipped bit in a width, a height, a sample count or a strip table still parses: tifffile
    then pads the missing strips with zeros or reads pixels from the header (a 512 × 512 image
    came back 512 × 1536), or divides by a zero count. Such files are refused here.
    """
    samples = f" of {page.samplesperpixel} samples" if page.samplesperpixel != 1 else ""
    shape = f"{page.imagewidth} × {page.imagelength} pixels{samples}"
    if not page.samplesperpixel or not page.bitspersample:
        raise damaged(
            path,
            "TIFF",
            f"its header says {page.samplesperpixel} samples of {page.bitspersample} bits per pixel",
        )
    offsets, counts = page.dataoffsets, page.databytecounts
    if len(offsets) != len(counts) or len(offsets) != _expected_chunks(page, len(offsets)):
        raise damaged(path, "TIFF", f"its strip table does not fit its size of {shape}")
    uncompressed = page.compression == 1 and page.bitspersample % 8 == 0
    if uncompressed and all(counts) and sum(counts) < page.size * page.bitspersample // 8:
        promised = page.size * page.bitspersample // 8
        raise damaged(
            path,
            "TIFF",
            f"its header promises {shape} ({promised:,} bytes) but it holds "
            f"{sum(counts):,} bytes of pixels",
        )
    needed = _bytes_needed(page, counts) if all(counts) else list(counts)
    if any(o < 8 for o, n in zip(offsets, needed, strict=True) if n):
        raise damaged(path, "TIFF", "its pixel data would start inside the header")
    end = max((o + n for o, n in zip(offsets, needed, strict=True) if n), default=0)
    size = path.stat().st_size
    if end > size:
        raise damaged(
            path,
            "TIFF",
            f"its pixel data would run {end - size:,} bytes past the end of the file "
            "(cut short, or the header is corrupt)",
        )
    shaped = tif.shaped_metadata[0].get("shape") if tif.is_shaped and tif.shaped_metadata else None
    if shaped and math.prod(shaped) % page.size:
        written = " × ".join(map(str, shaped))
        raise damaged(path, "TIFF", f"its header says {shape} but it was saved as {written}")


def _frame_page(series: tifffile.TiffPageSeries, frame: int) -> tifffile.TiffPage:
    page = series.pages[frame] if len(series.pages) == _n_frames(series) else series.keyframe
    return page if isinstance(page, tifffile.TiffPage) else series.keyframe


def _read_pixels(
    tif: tifffile.TiffFile,
    series: tifffile.TiffPageSeries,
    page: tifffile.TiffPage,
    frame: int,
    path: Path,
) -> np.ndarray:
    """The frame as an array (`page` is the frame's page, already checked)."""
    index = tif.series.index(series)
    one_page_per_frame = len(series.pages) == _n_frames(series)
    try:
        if one_page_per_frame:
            data = tif.asarray(series=index, key=frame)
        else:  # a single page holding a volume (tiled depth, odd writers): small files only
            data = series.asarray().reshape(-1, *series.keyframe.shape)[frame]
    except ValueError as exc:
        if "imagecodecs" not in str(exc):
            raise broken(path, "TIFF") from exc
        data = _read_with_pillow(path, page)
    return data


def _read_with_pillow(path: Path, page: tifffile.TiffPage) -> np.ndarray:
    compression = getattr(page.compression, "name", str(page.compression))
    try:
        return iio.imread(path, plugin="pillow", index=page.index)
    except Exception as pil_exc:
        raise UnreadableFile(
            f"{compression}-compressed TIFF needs the 'imagecodecs' package: {path.name}"
        ) from pil_exc


def _palette(data: np.ndarray, colormap: np.ndarray, meta: dict[str, str]) -> np.ndarray:
    """SEM palettes are a grey ramp, sometimes with overlay colours: keep the grey indices."""
    eight_bit = colormap >> 8 if colormap.max() > 255 else colormap
    grey = (colormap[0] == colormap[1]) & (colormap[1] == colormap[2])
    ramp = grey & (eight_bit[0] == np.arange(colormap.shape[1]))
    if ramp.mean() >= 0.75:
        if not ramp.all():
            meta["palette"] = f"grey ramp with {int((~ramp).sum())} overlay colours (kept grey)"
        return data
    meta["palette"] = "colour palette applied"
    return eight_bit.T.astype(np.uint8)[data]


def read(path: Path, frame: int = 0) -> Micrograph:
    with _open(path) as tif:
        series = _main_series(tif)
        n_frames = _n_frames(series)
        check_frame(frame, n_frames)
        if 0 in series.keyframe.shape:
            raise UnreadableFile(f"image has zero pixels: {path.name}")
        page = _frame_page(series, frame)
        for checked in {id(p): p for p in (series.keyframe, page)}.values():
            _check_layout(tif, checked, path)
        dtype = page.dtype if page.dtype is not None else np.float64  # unknown: assume wide
        check_fits(path, page.imagewidth, page.imagelength, dtype, page.samplesperpixel)
        data = _read_pixels(tif, series, page, frame, path)
        info = read_tiff_info(tif, series.keyframe)
        meta = dict(info.metadata)
        photometric = page.photometric
        colormap = page.colormap
        if photometric == tifffile.PHOTOMETRIC.PALETTE and colormap is not None and data.ndim == 2:
            data = _palette(data, colormap, meta)
        elif photometric == tifffile.PHOTOMETRIC.MINISWHITE and data.dtype.kind == "u":
            data = np.iinfo(data.dtype).max - data
            meta["photometric"] = "min-is-white (inverted to min-is-black)"
        as_stored = data.ndim == 3 and data.shape == page.shape and "S" in page.axes
        samples_axis = page.axes.find("S") if as_stored else None
        data = as_image(data, samples_axis)
        others = [f"{s.shape} {s.dtype}" for s in tif.series if s is not series]
        if others:
            meta["other images in file"] = "; ".join(others)
        vendor = f" ({info.vendor})" if info.vendor else ""
        meta = {"format": f"TIFF{vendor}", "data type": str(data.dtype), **meta}
        return Micrograph(
            data=data,
            calibration=info.calibration,
            path=path,
            frame=frame,
            n_frames=n_frames,
            metadata=meta,
            title=path.stem,
        )
