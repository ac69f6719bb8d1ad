"""Microstructure map from the automatic masks: phase vs matrix, grains and boundaries, cracks.

The seed method: the masks of segment-everything become closed regions that tile the image,
connected components are found, neighbouring regions are merged by the user's rule, and the
merged regions are read as a binary or labelled map.

1. Regions: the masks are painted largest first, so an object inside a larger one (a precipitate
   in the matrix) keeps its own pixels; what no mask covers is left as gaps. Every 4-connected
   component of one mask or of the gaps is a region.
2. Thin boundaries: masks grow by up to `gap_px` into the gaps around them, so two regions
   that a thin uncovered line separates become neighbours; wider gaps stay regions of their own.
3. Merging (`merge`): "intensity" joins neighbours whose mean grey values differ by at most
   `intensity_delta` times the image's contrast (the gap between the means of its two Otsu
   classes), closest pair first, means updated as regions join; "size" joins regions
   smaller than `min_region_px` to their most similar neighbour; "both" does size, then
   intensity; "none" keeps the regions.
4. The map:
   - "phase": the merged regions fall into two classes by their mean grey value (Otsu's
     threshold on the region means, weighted by area). The class holding the largest region is
     the matrix unless `phase` says "dark" or "bright". binary = phase; labels = its regions.
   - "grains": the merged regions are grains; gaps are shared out by a watershed on the grey
     gradient, so grains meet at the image's edges. binary = grain boundaries (one pixel wide);
     labels = grains, 0 on the boundaries.
   - "cracks": dark, thin, long features. Pixels darker than their surroundings by the
     fraction `crack_contrast` (a grey closing `crack_width_px` wide gives the surroundings),
     plus thin dark regions, joined
     across gaps up to `gap_px`, kept where the feature is long (`crack_min_length_px`) and
     thin (mean width = area / skeleton length ≤ `crack_width_px`). binary = cracks; labels =
     one per crack.

`benchmarks/phase_fraction.py` compares the phase fractions with the ground truth and Otsu.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation.annotations import AnnotatedObject, objects_from_labels
from inference.segmentation.masks import EIGHT, AutoMask, components

if TYPE_CHECKING:
    from collections.abc import Sequence

KINDS = ("phase", "grains", "cracks")
MERGE_RULES = ("intensity", "size", "both", "none")


@dataclass(frozen=True)
class MapParams:
    kind: str = "phase"  # "phase" (phase vs matrix), "grains" or "cracks"
    merge: str = "both"  # "intensity", "size", "both" or "none"
    intensity_delta: float = 0.25  # neighbours merge when their means differ by at most this
    # fraction of the image's contrast (the gap between the means of its two Otsu classes)
    min_region_px: int = 64  # smaller regions join their most similar neighbour
    gap_px: int = 2  # regions separated by an uncovered line this thin are neighbours
    phase: str = (
        "auto"  # which class is the phase: "auto" (not the largest region's), "dark", "bright"
    )
    crack_width_px: int = 7  # cracks are at most this wide
    crack_min_length_px: int = 30  # ... and at least this long
    crack_contrast: float = 0.25  # ... and this much darker than their surroundings (fraction)

    def check(self) -> None:
        if self.kind not in KINDS:
            raise MatLensError(f"Unknown map kind '{self.kind}': use {', '.join(KINDS)}.")
        if self.merge not in MERGE_RULES:
            raise MatLensError(f"Unknown merge rule '{self.merge}': use {', '.join(MERGE_RULES)}.")
        if self.phase not in ("auto", "dark", "bright"):
            raise MatLensError(f"The phase is 'auto', 'dark' or 'bright', not '{self.phase}'.")
        if min(self.gap_px, self.min_region_px, self.crack_width_px) < 0:
            raise MatLensError("Map sizes in pixels cannot be negative.")


@dataclass(frozen=True, eq=False)
class MicrostructureMap:
    kind: str
    labels: np.ndarray  # int32; 0 = matrix, boundary or background
    binary: np.ndarray  # bool: the phase, the grain boundaries or the cracks
    regions: int  # regions before merging

    @property
    def count(self) -> int:
        """Particles, grains or cracks."""
        return int(self.labels.max()) if self.labels.size else 0

    @property
    def fraction(self) -> float:
        """Area fraction of `binary` (phase fraction, boundary or crack fraction)."""
        return float(self.binary.mean()) if self.binary.size else 0.0


# --- regions ----------------------------------------------------------------------------------


def grey_image(image: np.ndarray) -> np.ndarray:
    """A display image (grey or RGB/RGBA, 0..255) as float32 grey."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return image[:, :, :3].astype(np.float32).mean(axis=2)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim != 2:
        raise MatLensError(f"The map needs a grey or RGB image, not shape {image.shape}.")
    return image.astype(np.float32)


def paint(shape: tuple[int, int], masks: Sequence[AutoMask]) -> np.ndarray:
    """int32 image: 1 + the index of the mask that owns each pixel (0: none). Larger masks are
    painted first, so an object inside another keeps its pixels."""
    owner = np.zeros(shape, np.int32)
    for i in sorted(range(len(masks)), key=lambda i: -masks[i].area):
        m = masks[i]
        y0, x0 = m.offset
        view = owner[y0 : y0 + m.mask.shape[0], x0 : x0 + m.mask.shape[1]]
        view[m.mask[: view.shape[0], : view.shape[1]]] = i + 1
    return owner


def _grow_into_gaps(owner: np.ndarray, distance: int) -> np.ndarray:
    """Masks grown by up to `distance` px into the uncovered pixels (nearest mask wins)."""
    from scipy import ndimage as ndi

    if distance <= 0 or owner.all() or not owner.any():
        return owner
    found = ndi.distance_transform_edt(owner == 0, return_indices=True)
    dist, (iy, ix) = cast("tuple[np.ndarray, np.ndarray]", found)
    grown = owner[iy, ix]
    grown[dist > distance] = 0
    return np.where(owner > 0, owner, grown)


def regions_of(owner: np.ndarray) -> tuple[np.ndarray, int]:
    """Each 4-connected component of one owner value (gaps included) as a region 1..n."""
    from skimage.measure import label

    regions = np.asarray(label(owner, background=-1, connectivity=1), np.int32)
    return regions, int(regions.max())


def adjacency(labels: np.ndarray) -> np.ndarray:
    """(k, 2) pairs a < b of labels that touch (4-neighbours)."""
    pairs = []
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        differ = a != b
        pairs.append(np.stack([a[differ], b[differ]], axis=1))
    pairs = np.sort(np.concatenate(pairs), axis=1).astype(np.int64)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


# --- merging ----------------------------------------------------------------------------------


class _Merger:
    """Union-find over regions with their areas and grey sums, so means update as they join."""

    def __init__(self, area: np.ndarray, total: np.ndarray, pairs: np.ndarray) -> None:
        self.parent = np.arange(len(area))
        self.area, self.total = area.astype(np.float64), total.astype(np.float64)
        self.neighbours: list[set[int]] = [set() for _ in range(len(area))]
        for a, b in pairs:
            self.neighbours[a].add(int(b))
            self.neighbours[b].add(int(a))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return int(i)

    def mean(self, i: int) -> float:
        return self.total[i] / max(self.area[i], 1.0)

    def join(self, a: int, b: int) -> int:
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if self.area[a] < self.area[b]:
            a, b = b, a
        self.parent[b] = a
        self.area[a] += self.area[b]
        self.total[a] += self.total[b]
        self.neighbours[a] |= self.neighbours[b]
        self.neighbours[b] = set()
        return a

    def _live_neighbours(self, a: int) -> set[int]:
        live = {self.find(n) for n in self.neighbours[a]} - {a}
        self.neighbours[a] = live
        return live

    def by_size(self, min_area: float) -> None:
        """Regions below min_area join their most similar neighbour, smallest first."""
        heap = [(self.area[i], i) for i in range(1, len(self.area)) if self.area[i] < min_area]
        heapq.heapify(heap)
        while heap:
            area, i = heapq.heappop(heap)
            if self.find(i) != i or self.area[i] != area:
                continue  # merged meanwhile, or grown: its entry is stale
            near = self._live_neighbours(i) - {0}
            if not near:
                continue
            best = min(near, key=lambda n: abs(self.mean(n) - self.mean(i)))
            root = self.join(i, best)
            if self.area[root] < min_area:
                heapq.heappush(heap, (self.area[root], root))

    def by_intensity(self, delta: float) -> None:
        """Neighbours whose means differ by at most delta join, closest pair first."""
        heap = []
        for a in range(1, len(self.area)):
            for b in self.neighbours[a]:
                if a < b:
                    heap.append((abs(self.mean(a) - self.mean(b)), a, b))
        heapq.heapify(heap)
        while heap:
            diff, a, b = heapq.heappop(heap)
            if diff > delta:
                break
            ra, rb = self.find(a), self.find(b)
            if ra == rb:
                continue
            now = abs(self.mean(ra) - self.mean(rb))
            if now > diff + 1e-9:  # means moved since the pair was queued
                heapq.heappush(heap, (now, ra, rb))
                continue
            root = self.join(ra, rb)
            for n in self._live_neighbours(root) - {0}:
                heapq.heappush(heap, (abs(self.mean(root) - self.mean(n)), root, n))

    def roots(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.area))])


def contrast(grey: np.ndarray) -> float:
    """The gap between the mean grey values of the image's two Otsu classes."""
    from skimage.filters import threshold_otsu

    sample = grey[:: max(1, grey.shape[0] // 512), :: max(1, grey.shape[1] // 512)]
    if sample.min() == sample.max():
        return 0.0
    t = threshold_otsu(sample)
    return float(sample[sample > t].mean() - sample[sample <= t].mean())


def merged_regions(
    grey: np.ndarray, regions: np.ndarray, n: int, params: MapParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regions merged by the rule, renumbered 1..m; with each merged region's area and mean."""
    area = np.bincount(regions.ravel(), minlength=n + 1)
    total = np.bincount(regions.ravel(), weights=grey.ravel(), minlength=n + 1)
    merger = _Merger(area, total, adjacency(regions))
    merger.area[0] = 0  # label 0 does not occur: every pixel is in a region
    if params.merge in ("size", "both") and params.min_region_px > 0:
        merger.by_size(params.min_region_px)
    if params.merge in ("intensity", "both"):
        merger.by_intensity(params.intensity_delta * contrast(grey))
    roots = merger.roots()
    unique, lut = np.unique(roots[1:], return_inverse=True)
    lut = np.concatenate([[0], lut + 1]).astype(np.int32)
    merged = lut[regions]
    m_area = np.bincount(merged.ravel(), minlength=len(unique) + 1).astype(np.float64)
    m_total = np.bincount(merged.ravel(), weights=grey.ravel(), minlength=len(unique) + 1)
    return merged, m_area, m_total / np.maximum(m_area, 1.0)


# --- the maps ---------------------------------------------------------------------------------


def _weighted_otsu(values: np.ndarray, weights: np.ndarray) -> float:
    from skimage.filters import threshold_otsu

    counts, edges = np.histogram(values, bins=256, range=(0.0, 256.0), weights=weights)
    if np.count_nonzero(counts) < 2:
        return float(values.mean())
    return float(threshold_otsu(hist=(counts, (edges[:-1] + edges[1:]) / 2)))


def _relabel(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Labels whose `keep` flag is set, renumbered 1..k in order; the rest 0."""
    lut = np.zeros(len(keep), np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1)
    return lut[labels]


def _phase_map(merged, area, mean, params: MapParams) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(1, len(area))
    threshold = _weighted_otsu(mean[idx], area[idx])
    dark = mean < threshold
    if params.phase == "auto":
        largest = idx[np.argmax(area[idx])]
        phase_is_dark = not dark[largest]
    else:
        phase_is_dark = params.phase == "dark"
    keep = dark if phase_is_dark else ~dark
    keep[0] = False
    labels = _relabel(merged, keep)
    return labels, labels > 0


def _grain_map(grey, merged, owner_gaps) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage as ndi
    from skimage.filters import sobel
    from skimage.segmentation import find_boundaries, watershed

    markers = np.where(owner_gaps, 0, merged)  # wide gaps are not grains: shared out
    if markers.any():
        grains = watershed(sobel(ndi.gaussian_filter(grey, 1.0)), markers)
    else:
        grains = np.ones_like(merged)
    grains = _relabel(grains, np.bincount(grains.ravel()) > 0)  # 1..k without holes
    boundary = find_boundaries(grains, connectivity=1, mode="inner")
    grains = grains.copy()
    grains[boundary] = 0
    return grains.astype(np.int32), boundary


def _crack_map(grey, merged, mean, params: MapParams) -> tuple[np.ndarray, np.ndarray]:
    from scipy import ndimage as ndi
    from skimage.morphology import disk, skeletonize

    width = max(params.crack_width_px, 1)
    smooth = ndi.gaussian_filter(grey, 1.0)
    # the surroundings: a closing wider than any crack (square, so it runs as two 1-D passes)
    surround = ndi.grey_closing(smooth, size=(2 * width + 1, 2 * width + 1))
    candidate = smooth < (1.0 - params.crack_contrast) * surround
    # thin dark regions of the map count whole (a crack SAM outlined)
    area = np.bincount(merged.ravel())
    local = np.bincount(merged.ravel(), weights=surround.ravel(), minlength=len(area))
    local = local / np.maximum(area, 1)
    dark = mean[: len(area)] < (1.0 - params.crack_contrast) * local
    candidate |= dark[merged] & _thin(merged, width)
    if params.gap_px > 0:  # join pieces across short gaps
        candidate = ndi.binary_closing(candidate, structure=disk(params.gap_px), border_value=0)
    labels, count = components(candidate, EIGHT)
    if count == 0:
        return labels.astype(np.int32), labels > 0
    length = np.bincount(labels[skeletonize(candidate)].ravel(), minlength=count + 1)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = (length >= params.crack_min_length_px) & (sizes <= width * np.maximum(length, 1))
    keep[0] = False
    labels = _relabel(labels, keep)
    return labels, labels > 0


def _thin(merged: np.ndarray, width: int) -> np.ndarray:
    """Per pixel: does its region have a mean width (area / skeleton length) of at most width?"""
    from skimage.morphology import skeletonize

    n = int(merged.max())
    area = np.bincount(merged.ravel(), minlength=n + 1)
    inner = merged * ~find_edges(merged)
    length = np.bincount(merged[skeletonize(inner > 0)].ravel(), minlength=n + 1)
    thin = (length > 0) & (area <= width * np.maximum(length, 1))
    thin[0] = False
    return thin[merged]


def find_edges(labels: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another label: skeletons of touching regions stay apart."""
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    return edge


def build_map(
    image: np.ndarray,
    masks: Sequence[AutoMask],
    params: MapParams = MapParams(),  # frozen, so sharing it is safe
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> MicrostructureMap:
    """The microstructure map of `image` (the display image, grey or RGB) from its automatic
    masks (image coordinates), as the module docstring describes."""
    params.check()
    grey = grey_image(image)
    progress(0.0, "closing regions")
    owner = paint(grey.shape, masks)
    grown = _grow_into_gaps(owner, params.gap_px)
    regions, n = regions_of(grown)
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(0.3, f"merging {n} regions")
    merged, area, mean = merged_regions(grey, regions, n, params)
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(0.7, f"{params.kind} map from {len(area) - 1} regions")
    if params.kind == "phase":
        labels, binary = _phase_map(merged, area, mean, params)
    elif params.kind == "grains":
        labels, binary = _grain_map(grey, merged, grown == 0)
    else:
        labels, binary = _crack_map(grey, merged, mean, params)
    progress(1.0, "map ready")
    return MicrostructureMap(params.kind, labels.astype(np.int32), binary.astype(bool), n)


def map_objects(
    micro_map: MicrostructureMap, class_name: str, first_id: int
) -> list[AnnotatedObject]:
    """One editable object per particle, grain or crack of the map (source "map")."""
    return objects_from_labels(micro_map.labels, class_name, first_id, source="map")
