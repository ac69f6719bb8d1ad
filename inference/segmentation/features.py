"""Per-pixel features for phase segmentation by example, computed once per image.

Everything lives on one working grid: the image block-averaged by an integer stride so that its
longest side is at most `GRID` (full resolution up to that size). On it:

- SAM image-encoder features: the 64×64×256 tokens reduced by PCA to a few components *before*
  they are upsampled (bilinear, through the encoder's resize and padding), so no image-sized
  256-channel array is ever made (that would be 1 GB at 1024²).
- A classic filter bank on the grey image (Gaussian, gradient magnitude, Laplacian of Gaussian
  and local standard deviation at several scales), as ilastik and Trainable Weka use.
- Regions: Felzenszwalb superpixels, within which `classify` averages its per-pixel answer so
  that phase boundaries follow edges in the image.

The GUI computes this once per image (after the embedding) and keeps it; each new example only
retrains and re-predicts (`inference.segmentation.phases.classify`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation._sam_image import LOW_RES, TARGET, as_uint8

if TYPE_CHECKING:
    from inference.segmentation.sam import ImageEmbedding, SamModel

GRID = 512  # longest side of the working grid; larger images are block-averaged down to it
SCALES = (1.0, 2.0, 4.0, 8.0, 16.0)  # filter scales in grid pixels
# PCA components kept of the 256 encoder channels. With 3 clicks per class (10 seeds), 4 / 8 / 16
# scored macro IoU 0.656 / 0.617 / 0.610 on Super1 and 0.391 / 0.411 / 0.412 on EBC1: a few
# clicks overfit many smooth features on small objects, while layers need more of them.
SAM_COMPONENTS = 8
REGION_SCALE = 1000.0  # Felzenszwalb `scale`: larger gives larger regions
REGION_MIN_SIZE = 20  # grid pixels
_TOKEN = TARGET // 64  # encoder pixels (in the 1024 frame) per token
_ROW_BLOCK = 1 << 22  # pixels read at once when block-averaging a large image


@dataclass(frozen=True, eq=False)
class PhaseFeatures:
    """Features of one image on its working grid. Grid pixel (i, j) covers image rows
    [i·stride, (i+1)·stride) and columns [j·stride, (j+1)·stride). Keep it per image: it also
    caches SAM's mask for each clicked point, so only new clicks call the decoder."""

    values: np.ndarray  # float32 [gh, gw, F], each feature standardised (mean 0, std 1)
    names: tuple[str, ...]
    image_shape: tuple[int, int]  # (height, width) of the image
    stride: int
    regions: np.ndarray  # int32 [gh, gw] superpixel ids 0..n-1
    embedding: ImageEmbedding | None = None
    model: SamModel | None = field(default=None, repr=False)
    mask_cache: dict = field(default_factory=dict, repr=False)  # (x, y) → bool grid mask

    @property
    def grid_shape(self) -> tuple[int, int]:
        return int(self.values.shape[0]), int(self.values.shape[1])

    @cached_property
    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Image rows and columns at the centre of each grid pixel (integer indices)."""
        (gh, gw), s = self.grid_shape, self.stride
        h, w = self.image_shape
        return np.minimum(np.arange(gh) * s + s // 2, h - 1), np.minimum(
            np.arange(gw) * s + s // 2, w - 1
        )

    @cached_property
    def snap_samples(self) -> np.ndarray:
        """Flat grid pixels whose predictions give each superpixel its mean: every other grid
        pixel in each direction, plus one pixel of each region so none is left out."""
        gh, gw = self.grid_shape
        lattice = (np.arange(0, gh, 2)[:, None] * gw + np.arange(0, gw, 2)[None, :]).ravel()
        _, first = np.unique(self.regions.ravel(), return_index=True)
        return np.union1d(lattice, first)

    @cached_property
    def _samples_by_region(self) -> tuple[np.ndarray, np.ndarray]:
        ids = self.regions.ravel()[self.snap_samples]
        order = np.argsort(ids, kind="stable")
        starts = np.searchsorted(ids[order], np.arange(int(self.regions.max()) + 2))
        return self.snap_samples[order], starts

    def region_samples(self, region: int, most: int = 64) -> np.ndarray:
        """At most `most` of `snap_samples` in one region, spread over it."""
        samples, starts = self._samples_by_region
        members = samples[starts[region] : starts[region + 1]]
        if members.size > most:
            members = members[:: -(-members.size // most)]
        return members

    def to_grid(self, mask: np.ndarray) -> np.ndarray:
        """An image-sized array sampled at the grid's pixel centres."""
        rows, cols = self.centres
        return mask[rows][:, cols]

    def lowres_to_grid(self, logits: np.ndarray) -> np.ndarray:
        """SAM's 256×256 low-res mask logits (over the padded 1024 frame) at the grid's pixels:
        cheaper than the full-resolution mask and as good for picking training pixels."""
        if self.embedding is None:
            raise ValueError("these features were computed without a SAM embedding")
        (h, w), (in_h, in_w) = self.embedding.original_size, self.embedding.input_size
        scale = LOW_RES / TARGET
        rows = _grid_centres(self.grid_shape[0], self.stride, h) * (in_h / h) * scale - 0.5
        cols = _grid_centres(self.grid_shape[1], self.stride, w) * (in_w / w) * scale - 0.5
        return lerp(lerp(np.asarray(logits, np.float32), rows, 0), cols, 1)

    def subset(self, prefix: str) -> PhaseFeatures:
        """Only the features whose name starts with `prefix` ("sam" or "filter"), for
        ablations; the regions, embedding and model stay."""
        keep = [i for i, n in enumerate(self.names) if n.startswith(prefix)]
        return PhaseFeatures(
            np.ascontiguousarray(self.values[..., keep]),
            tuple(self.names[i] for i in keep),
            self.image_shape,
            self.stride,
            self.regions,
            self.embedding,
            self.model,
        )


def grid_stride(shape: tuple[int, int], grid: int = GRID) -> int:
    """The integer stride that brings the longest side to at most `grid`."""
    return max(1, math.ceil(max(shape) / grid))


def grey_image(rgb: np.ndarray) -> np.ndarray:
    """uint8 HxW: the mean of the channels (micrographs are grey; colour reaches SAM)."""
    pixels = as_uint8(rgb)
    if pixels.ndim == 2:
        return pixels
    if all(np.array_equal(pixels[..., 0], pixels[..., c]) for c in (1, 2)):
        return np.ascontiguousarray(pixels[..., 0])
    return np.rint(pixels.astype(np.float32).mean(axis=2)).astype(np.uint8)


def block_mean(grey: np.ndarray, stride: int) -> np.ndarray:
    """float32 image averaged over stride×stride blocks (edge blocks padded by replication),
    a few rows at a time so an 8k×8k image never exists as floats."""
    if stride == 1:
        return grey.astype(np.float32)
    h, w = grey.shape
    gh, gw = -(-h // stride), -(-w // stride)
    cols = np.minimum(np.arange(gw * stride), w - 1)
    out = np.empty((gh, gw), np.float32)
    rows_per_block = max(1, _ROW_BLOCK // (w * stride))
    for g0 in range(0, gh, rows_per_block):
        g1 = min(gh, g0 + rows_per_block)
        rows = np.minimum(np.arange(g0 * stride, g1 * stride), h - 1)
        block = grey[rows][:, cols].astype(np.float32)
        out[g0:g1] = block.reshape(g1 - g0, stride, gw, stride).mean(axis=(1, 3))
    return out


def filter_bank(
    grey: np.ndarray, scales: tuple[float, ...] = SCALES
) -> tuple[np.ndarray, tuple[str, ...]]:
    """[h, w, F] float32 classic features of a grey image and their names: the image itself,
    then per scale σ: Gaussian, gradient magnitude, Laplacian of Gaussian (σ²-normalised) and
    local standard deviation (in a Gaussian window)."""
    from scipy import ndimage as ndi

    image = grey.astype(np.float32)
    planes, names = [image], ["filter raw"]
    for sigma in scales:
        smooth = ndi.gaussian_filter(image, sigma, mode="reflect")
        square = ndi.gaussian_filter(image * image, sigma, mode="reflect")
        planes += [
            smooth,
            ndi.gaussian_gradient_magnitude(image, sigma, mode="reflect"),
            ndi.gaussian_laplace(image, sigma, mode="reflect") * sigma**2,
            np.sqrt(np.maximum(square - smooth * smooth, 0.0)),
        ]
        names += [f"filter {kind} σ={sigma:g}" for kind in ("gauss", "gradient", "LoG", "std")]
    return np.stack(planes, axis=-1), tuple(names)


def lerp(values: np.ndarray, coords: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of `values` at fractional indices `coords` along `axis`, clamped at
    the ends (torch's bilinear with align_corners=False)."""
    n = values.shape[axis]
    coords = np.clip(coords, 0.0, n - 1)
    lo = np.floor(coords).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    shape = [1] * values.ndim
    shape[axis] = -1
    frac = (coords - lo).astype(np.float32).reshape(shape)
    a, b = np.take(values, lo, axis=axis), np.take(values, hi, axis=axis)
    return a + (b - a) * frac


def _grid_centres(n_grid: int, stride: int, n_image: int) -> np.ndarray:
    """Image coordinates (pixel k spans [k, k+1)) of the grid pixels' centres."""
    return np.minimum((np.arange(n_grid) + 0.5) * stride, n_image)


def sam_maps(
    embedding: ImageEmbedding, grid_shape: tuple[int, int], stride: int, components: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """[gh, gw, C] float32: the encoder tokens that cover the image, projected on their first
    `components` principal axes, then bilinearly upsampled to the grid."""
    (h, w), (in_h, in_w) = embedding.original_size, embedding.input_size
    th, tw = -(-in_h // _TOKEN), -(-in_w // _TOKEN)  # tokens not made only of padding
    tokens = embedding.features[0, :th, :tw].reshape(th * tw, -1).astype(np.float32)
    tokens -= tokens.mean(axis=0)
    # Principal axes from the 256×256 covariance: eigh takes milliseconds where an SVD of the
    # tokens takes 0.1-1 s on two busy cores.
    _, vectors = np.linalg.eigh(tokens.T.astype(np.float64) @ tokens)
    c = min(components, vectors.shape[1])
    axes = vectors[:, ::-1][:, :c].astype(np.float32)  # largest variance first
    maps = (tokens @ axes).reshape(th, tw, c)
    gh, gw = grid_shape
    rows = _grid_centres(gh, stride, h) * (in_h / h) / _TOKEN - 0.5
    cols = _grid_centres(gw, stride, w) * (in_w / w) / _TOKEN - 0.5
    up = lerp(lerp(maps, rows, axis=0), cols, axis=1)
    return up.astype(np.float32), tuple(f"sam pc{k + 1}" for k in range(c))


def superpixels(grey_grid: np.ndarray) -> np.ndarray:
    """int32 region ids 0..n-1 of the grid image (Felzenszwalb's graph segmentation)."""
    from skimage.segmentation import felzenszwalb

    regions = felzenszwalb(
        grey_grid, scale=REGION_SCALE, sigma=0.8, min_size=REGION_MIN_SIZE, channel_axis=None
    )
    return regions.astype(np.int32, copy=False)


def standardise(values: np.ndarray) -> np.ndarray:
    """Mean 0, standard deviation 1 per feature (in place), so that no feature's units weigh
    in; constant features become 0."""
    flat = values.reshape(-1, values.shape[-1])
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    flat -= mean
    flat /= np.where(std > 1e-6, std, 1.0).astype(np.float32)
    return values


def compute_features(
    model: SamModel | None,
    rgb: np.ndarray,
    embedding: ImageEmbedding | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    grid: int = GRID,
    components: int = SAM_COMPONENTS,
) -> PhaseFeatures:
    """Everything `classify` needs from one image: the once-per-image step. The embedding is
    reused when given (the pane already has it), else `model` computes it (from its disk cache
    when it can). With neither, only the filter features are used and clicks are not grown
    into SAM masks."""
    grey = grey_image(rgb)
    stride = grid_stride(grey.shape, grid)
    if embedding is None and model is not None:
        embedding = model.embed(rgb, lambda f, m="": progress(0.7 * f, m), cancel)
    if embedding is not None and tuple(embedding.original_size) != grey.shape:
        raise ValueError(f"the embedding is of a {embedding.original_size} image, not {grey.shape}")
    _check(cancel)
    progress(0.7, "computing filter features")
    small = block_mean(grey, stride)
    filters, names = filter_bank(small)
    planes = [filters]
    if embedding is not None:
        maps, sam_names = sam_maps(embedding, small.shape, stride, components)
        planes.append(maps)
        names += sam_names
    values = standardise(np.concatenate(planes, axis=-1))
    _check(cancel)
    progress(0.85, "finding regions")
    regions = superpixels(small)
    progress(1.0, "features ready")
    return PhaseFeatures(values, names, grey.shape, stride, regions, embedding, model)


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
