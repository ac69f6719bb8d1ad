"""Pixel geometry around SAM, in numpy: the encoder's resize and the decoder's mask upscale.

The resize reproduces segment_anything's ResizeLongestSide.apply_image (a PIL bilinear resize,
which antialiases when shrinking) bit for bit, including PIL's 22-bit fixed-point rounding, so
embeddings match the torch reference without PIL at run time.

The upscale reproduces SamPredictor's postprocess (bilinear 256 → 1024, crop the padding,
bilinear to the image size; `MaskMapper`'s `row_shift` can move the 1024 map down first) as one sparse linear map per axis (scipy.sparse: single-threaded,
so it does not fight onnxruntime's threads for the cores), and evaluates it only where the mask
can be true: bilinear weights are non-negative, so an output pixel whose low-res support holds
no positive logit is false without computing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.errors import MatLensError

TARGET = 1024
LOW_RES = 256
_PRECISION_BITS = 32 - 8 - 2  # PIL's Resample.c
_CHUNK_ELEMENTS = 1 << 20  # int32 accumulator block: 4 MB


def as_uint8(image: np.ndarray) -> np.ndarray:
    """A display image (HxW or HxWx3/4, uint8 or floats on 0..255) as uint8 HxW or HxWx3."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        image = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3]
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise MatLensError(
            f"SAM needs a 2-D grey or RGB image, not an array of shape {image.shape}."
        )
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.integer):
        lo, hi = int(image.min()), int(image.max())
        if lo < 0 or hi > 255:
            raise MatLensError(
                f"SAM needs an 8-bit display image; this one holds values {lo}..{hi}."
            )
        return image.astype(np.uint8)
    if not np.issubdtype(image.dtype, np.floating):
        raise MatLensError(f"SAM cannot read an image of type {image.dtype}.")
    image = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    hi = float(image.max())
    if 0.0 < hi <= 1.0:
        raise MatLensError("SAM needs a display image on 0..255; this one is scaled to 0..1.")
    return np.rint(np.clip(image, 0.0, 255.0)).astype(np.uint8)


def preprocess_shape(height: int, width: int, target: int = TARGET) -> tuple[int, int]:
    """ResizeLongestSide.get_preprocess_shape: the size with the longest side == target."""
    scale = target * 1.0 / max(height, width)
    new_h, new_w = int(height * scale + 0.5), int(width * scale + 0.5)
    if min(new_h, new_w) < 1:
        raise MatLensError(f"The image ({width}×{height} px) is too thin for SAM.")
    return new_h, new_w


def _coefficients(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """PIL's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    center = (np.arange(out_size) + 0.5) * scale
    xmin = np.maximum(np.trunc(center - support + 0.5), 0).astype(np.int64)
    xmax = np.minimum(np.trunc(center + support + 0.5), in_size).astype(np.int64) - xmin
    taps = np.arange(ksize)
    x = (taps[None, :] + xmin[:, None] - center[:, None] + 0.5) / filterscale
    weights = np.clip(1.0 - np.abs(x), 0.0, None)
    weights[taps[None, :] >= xmax[:, None]] = 0.0
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=weights, where=total != 0)
    fixed = weights * (1 << _PRECISION_BITS)
    fixed = np.where(fixed < 0, np.trunc(fixed - 0.5), np.trunc(fixed + 0.5)).astype(np.int32)
    return xmin, fixed


def _resample_rows(image: np.ndarray, out_size: int) -> np.ndarray:
    """One PIL pass along axis 0 of a 2-D uint8 array (gathers whole rows: fast)."""
    in_size, width = image.shape
    start, fixed = _coefficients(in_size, out_size)
    out = np.empty((out_size, width), dtype=np.uint8)
    step = max(1, _CHUNK_ELEMENTS // out_size)
    for c0 in range(0, width, step):
        block = image[:, c0 : c0 + step]
        acc = np.full((out_size, block.shape[1]), 1 << (_PRECISION_BITS - 1), dtype=np.int32)
        for tap in range(fixed.shape[1]):
            acc += block[np.minimum(start + tap, in_size - 1)] * fixed[:, tap : tap + 1]
        np.right_shift(acc, _PRECISION_BITS, out=acc)
        out[:, c0 : c0 + step] = np.clip(acc, 0, 255)
    return out


def _resample_cols(image: np.ndarray, out_size: int) -> np.ndarray:
    """One PIL pass along axis 1 of a 2-D uint8 array, a block of rows at a time."""
    height, in_size = image.shape
    start, fixed = _coefficients(in_size, out_size)
    out = np.empty((height, out_size), dtype=np.uint8)
    step = max(1, _CHUNK_ELEMENTS // out_size)
    for r0 in range(0, height, step):
        block = image[r0 : r0 + step]
        acc = np.full((block.shape[0], out_size), 1 << (_PRECISION_BITS - 1), dtype=np.int32)
        for tap in range(fixed.shape[1]):
            acc += np.take(block, np.minimum(start + tap, in_size - 1), axis=1) * fixed[:, tap]
        np.right_shift(acc, _PRECISION_BITS, out=acc)
        out[r0 : r0 + step] = np.clip(acc, 0, 255)
    return out


def _resize_plane(plane: np.ndarray, new_h: int, new_w: int) -> np.ndarray:
    return _resample_rows(_resample_cols(plane, new_w), new_h)  # horizontal first, as PIL


def resize_longest_side(image: np.ndarray, target: int = TARGET) -> np.ndarray:
    """uint8 HxW[x3] → uint8 h'xw'[x3] with max(h', w') == target, exactly as PIL would."""
    h, w = image.shape[:2]
    new_h, new_w = preprocess_shape(h, w, target)
    if (new_h, new_w) == (h, w):
        return np.ascontiguousarray(image)
    if image.ndim == 2:
        return _resize_plane(image, new_h, new_w)
    planes = [np.ascontiguousarray(image[:, :, c]) for c in range(image.shape[2])]
    if all(np.array_equal(planes[0], p) for p in planes[1:]):  # grey stored as RGB
        return np.repeat(_resize_plane(planes[0], new_h, new_w)[:, :, None], len(planes), axis=2)
    return np.stack([_resize_plane(p, new_h, new_w) for p in planes], axis=2)


def encoder_input(image: np.ndarray) -> np.ndarray:
    """uint8 HxW[x3] → the encoder's uint8 h'xw'x3 input (grey is resized once, then stacked)."""
    resized = resize_longest_side(image)
    if resized.ndim == 2:
        resized = np.repeat(resized[:, :, None], 3, axis=2)
    return np.ascontiguousarray(resized)


def _bilinear(in_size: int, out_size: int, shift: float = 0.0):
    """torch F.interpolate(mode='bilinear', align_corners=False) along one axis, as a sparse
    out x in matrix; with `shift`, the output moves that many output pixels forward (down or
    right): output i reads the input where plain interpolation reads output i - shift."""
    from scipy import sparse

    src = np.maximum((np.arange(out_size) + 0.5 - shift) * (in_size / out_size) - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    frac = src - i0
    rows = np.arange(out_size)
    data = np.concatenate([1.0 - frac, frac])
    index = (np.concatenate([rows, rows]), np.concatenate([i0, i1]))
    return sparse.csr_matrix((data, index), shape=(out_size, in_size))  # duplicates add up


@dataclass(frozen=True)
class _AxisMap:
    """Low-res (256) → original pixels along one axis, as a sparse matrix: each output mixes at
    most 3 adjacent low-res values. scipy's sparse product is single-threaded C (BLAS threads
    would spin against onnxruntime's on two cores, and a dense product wastes 98% of its work)."""

    matrix: Any  # scipy.sparse CSR, out x 256, float32 (scipy imported when first needed)
    lo: np.ndarray  # first low-res index used by each output
    hi: np.ndarray  # last low-res index used by each output

    @classmethod
    def build(cls, original: int, resized: int, shift: float = 0.0) -> _AxisMap:
        """`shift`: 1024-frame pixels the upscaled logits move forward (`MaskMapper`)."""
        upscale = _bilinear(LOW_RES, TARGET, shift)[:resized]
        matrix = (_bilinear(resized, original) @ upscale).tocsr()
        matrix.data[matrix.data <= 0] = 0.0
        matrix.eliminate_zeros()
        matrix.sort_indices()
        starts, ends = matrix.indptr[:-1], matrix.indptr[1:]
        lo, hi = matrix.indices[starts], matrix.indices[ends - 1]  # every row has a weight
        return cls(matrix.astype(np.float32), lo, hi)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Outputs [a, b) whose support meets low-res [first, last]."""
        a = int(np.searchsorted(self.hi, first, side="left"))
        b = int(np.searchsorted(self.lo, last, side="right"))
        return a, b


class MaskMapper:
    """SamPredictor.postprocess_masks + threshold for one (original, resized) size pair.
    `row_shift` moves the upscaled logits down by that many pixels of the 1024 frame before the
    crop and the resize to the image: a model whose masks sit above the objects (MobileSAM's,
    `sam.MASK_ROW_SHIFT`) is corrected where the mask is made; 0 is SAM's postprocess itself."""

    def __init__(
        self, original_size: tuple[int, int], input_size: tuple[int, int], row_shift: float = 0.0
    ):
        self.original_size = original_size
        self.row_shift = row_shift
        self.rows = _AxisMap.build(original_size[0], input_size[0], row_shift)
        self.cols = _AxisMap.build(original_size[1], input_size[1])

    def region(self, logits: np.ndarray) -> tuple[slice, slice]:
        """The part of the image where the mask can be true (empty slices if nowhere)."""
        positive = logits > 0
        rows, cols = np.flatnonzero(positive.any(axis=1)), np.flatnonzero(positive.any(axis=0))
        if rows.size == 0:
            return slice(0, 0), slice(0, 0)
        r0, r1 = self.rows.span(int(rows[0]), int(rows[-1]))
        c0, c1 = self.cols.span(int(cols[0]), int(cols[-1]))
        return slice(r0, r1), slice(c0, c1)

    def crop(self, logits: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
        """The thresholded full-resolution mask inside `region`."""
        return self.upscale(logits, region) > 0.0

    def upscale(self, logits: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
        """The full-resolution logits inside `region` (float32; the mask is where > 0)."""
        rs, cs = region
        if rs.stop <= rs.start or cs.stop <= cs.start:
            return np.zeros((max(rs.stop - rs.start, 0), max(cs.stop - cs.start, 0)), np.float32)
        # Columns first on the small 256-row map, then rows: the big product comes out in
        # C order, so no full-size transpose is needed.
        wide = np.ascontiguousarray((self.cols.matrix[cs] @ logits.T).T)  # 256 x cols
        return np.asarray(self.rows.matrix[rs] @ wide)

    def mask(self, logits: np.ndarray, region: tuple[slice, slice] | None = None) -> np.ndarray:
        region = self.region(logits) if region is None else region
        out = np.zeros(self.original_size, dtype=bool)
        out[region] = self.crop(logits, region)
        return out
