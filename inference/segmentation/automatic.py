"""Segment everything: SAM prompted by points, as SAM's automatic mask generator (AMG) does, with
the prompts placed where objects are likely and the decoder run in batches, every step sized
for a 2-core CPU.

1. Prompts: a coarse grid of points (SAM's `build_point_grid`, 8 x 8 by default) and, when the
   image is given, one point on each of its blobs (`_object_prompts`: MobileSAMv2's idea of
   prompting where objects are, with a Laplacian-of-Gaussian detector instead of a model).
   One prompt each (the point plus SAM's padding point), decoded by the batch decoder
   (`decoder_batch` in the model card): SAM's three multimask answers per point, their
   predicted IoUs, and their stability scores computed in the graph on the 256x256 low-res
   logits. Cards without a batch decoder (older imports) loop the click decoder instead:
   same answers, slower.
2. Filtering on the low-res logits, before any upscaling: predicted IoU ≥ `pred_iou_thresh`,
   stability ≥ `stability_thresh`, and not (nearly) the whole image.
3. Non-maximum suppression on the low-res masks (mask IoU, with boxes and areas as a quick
   reject), best predicted IoU first.
4. Only the survivors are upscaled to the image, and only where they can be true (MaskMapper).
   Holes and islands smaller than `min_area_px` are removed as AMG does (the island holding the
   grid point is always kept), masks smaller than that are dropped, and NMS runs once more.

With `skip_covered`, a point that lies inside an already accepted stable mask is not decoded
at all (grid points are visited coarse to fine and in batches of 16, so early masks cover the
most). On NASA MicroNet val (Super1 and EBC1) the defaults decode about a fifth of the points
of the former 32 x 32 grid and find more of the annotated objects; `benchmarks/auto_segment.py`
measures both against that grid in one run.
"""

from __future__ import annotations

import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.runtime.sessions import OnnxModel, cpu_threads
from inference.segmentation._object_prompts import blob_prompts
from inference.segmentation._sam_image import LOW_RES, MaskMapper
from inference.segmentation.annotations import AnnotatedObject
from inference.segmentation.masks import AutoMask, non_max_suppression, postprocess, tight
from inference.segmentation.sam import ImageEmbedding, SamModel, raster

if TYPE_CHECKING:
    from collections.abc import Sequence

MAPS = 3  # SAM's multimask answers (maps 1-3 of the decoder)
_MARGIN = 2  # low-res pixels kept around a mask: the upscale reads at most this far out
_SMALL_SPLIT = 2  # parts of a batch under 2 × _SUB_BATCH prompts, whatever the cores
_SUB_BATCH = 4  # prompts per CPU run: what one core keeps in its cache


@dataclass(frozen=True)
class AutoParams:
    """Settings of segment-everything. Defaults are tuned on SEM micrographs (NASA MicroNet
    Super1 and EBC1, `benchmarks/auto_segment.py --tune`): MobileSAM rates its masks lower than
    SAM ViT-H, for which AMG's 0.88 / 0.95 were chosen, and those drop most precipitates there.
    The prompts (grid, blobs, covering) were chosen on the train splits and compared on val
    (`benchmarks/auto_segment.py --quality val`)."""

    points_per_side: int = 8
    points_per_batch: int = 16
    pred_iou_thresh: float = 0.8
    stability_thresh: float = 0.9
    nms_iou_thresh: float = 0.7
    min_area_px: int = 50
    stability_offset: float = 1.0  # logit margin of the stability score (AMG's default)
    max_area_fraction: float = 0.95  # larger masks are "the whole image", not an object
    skip_covered: bool = True  # do not decode points inside accepted stable masks
    cover_stability: float = 0.95  # ... stable at least this much
    cover_area_fraction: float = 0.5  # ... and at most this part of the image
    cover_smallest: bool = True  # ... only the smallest such mask of each prompt covers
    object_prompts: bool = True  # prompts on blobs of the image too (when it is given)
    blob_threshold: float = 0.2  # ... their least scale-normalised LoG response (0..1 image)
    max_object_prompts: int = 256  # ... the strongest this many
    object_prompts_first: bool = False  # ... decoded before the grid

    def check(self) -> None:
        if not 1 <= self.points_per_side <= 256:
            raise MatLensError(f"Points per side must be 1..256, not {self.points_per_side}.")
        if self.points_per_batch < 1:
            raise MatLensError("Points per batch must be at least 1.")
        for name in ("pred_iou_thresh", "stability_thresh", "nms_iou_thresh"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise MatLensError(f"{name} must lie in 0..1, not {value}.")
        if self.min_area_px < 0:
            raise MatLensError(f"The minimum area must be ≥ 0 px, not {self.min_area_px}.")
        if self.max_object_prompts < 0 or self.blob_threshold < 0:
            raise MatLensError("Object prompts: the limit and the blob threshold must be ≥ 0.")


# --- geometry -------------------------------------------------------------------------------


def grid_points(shape: tuple[int, int], per_side: int) -> np.ndarray:
    """SAM's point grid over an image of `shape` (h, w): (per_side², 2) as (x, y) pixels."""
    h, w = shape
    side = (np.arange(per_side) + 0.5) / per_side
    xs, ys = np.meshgrid(side * w, side * h)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def coarse_to_fine(per_side: int) -> np.ndarray:
    """Grid indices ordered so that every 8th point comes first, then every 4th, 2nd, the rest:
    with `skip_covered`, the first masks found are then spread over the image."""
    index = np.arange(per_side)
    level = np.full(per_side, 3)
    for lvl, step in ((2, 2), (1, 4), (0, 8)):
        level[index % step == step // 2] = lvl
    rows, cols = np.divmod(np.arange(per_side * per_side), per_side)
    return np.lexsort((np.arange(per_side * per_side), np.maximum(level[rows], level[cols])))


# --- the decoder ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decoded:
    tiles: np.ndarray  # [n, 65536, 3] low-res logits of maps 1-3, tile order
    iou: np.ndarray  # [n, 3]
    stability: np.ndarray  # [n, 3]


class _BatchDecoder:
    """The batch decoder of one SamModel: per-image inputs once, then prompts in small runs
    spread over the cores (each run on one thread keeps its data in that core's cache)."""

    def __init__(self, model: SamModel) -> None:
        card = model.card
        gpu = model.device.is_gpu
        threads = None if gpu else 1
        self.decoder = OnnxModel(card.path("decoder_batch"), prefer_gpu=gpu, threads=threads)
        self.image = OnnxModel(card.path("decoder_batch_image"), prefer_gpu=gpu, threads=None)
        self.workers = 1 if self.decoder.device.is_gpu else cpu_threads()
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="sam-batch")

    def image_inputs(self, embedding: ImageEmbedding) -> dict[str, np.ndarray]:
        outputs = self.image.run({"image_embeddings": embedding.features})
        return dict(zip(self.image.output_names, outputs, strict=True))

    def decode(self, image: dict, coords: np.ndarray, offset: float) -> list[_Decoded]:
        n = len(coords)
        # Runs of _SUB_BATCH prompts, and small batches (few points left uncovered) in
        # _SMALL_SPLIT parts, so that two cores both decode. The split must not depend on
        # this machine's cores: the decoder's float results differ in the last bits with the
        # batch size, which can tip a mask over a threshold, and a batch run must give the
        # same objects in this process and on a one-thread worker.
        size = max(1, min(_SUB_BATCH, -(-n // _SMALL_SPLIT)))
        pad = np.zeros((n, 1, 2), np.float32)
        feeds = dict(image, stability_offset=np.array([offset], np.float32))
        points = np.concatenate([coords[:, None].astype(np.float32), pad], axis=1)
        labels = np.tile(np.array([[1.0, -1.0]], np.float32), (n, 1))

        def run(start: int) -> _Decoded:
            part = slice(start, start + size)
            tiles, iou, stability = self.decoder.run(
                dict(feeds, point_coords=points[part], point_labels=labels[part])
            )
            return _Decoded(tiles, iou[:, 1:], stability)

        return list(self.pool.map(run, range(0, n, size)))


class _LoopDecoder:
    """Fallback for models without a batch decoder: the click decoder, one point at a time."""

    def __init__(self, model: SamModel, embedding: ImageEmbedding) -> None:
        self.model, self.embedding = model, embedding

    def decode(self, image: dict, coords: np.ndarray, offset: float) -> list[_Decoded]:
        frame_h, frame_w = self.embedding.input_size
        h, w = self.embedding.original_size
        tiles, ious = [], []
        for x, y in coords:  # back to image pixels: decode() maps them to the 1024 frame
            t, iou = self.model.decode(self.embedding, [(x * w / frame_w, y * h / frame_h, 1)])
            tiles.append(t.reshape(-1, 4)[:, 1:])
            ious.append(iou[0, 1:])
        tiles = np.stack(tiles)
        inner = np.count_nonzero(tiles > offset, axis=1)
        outer = np.count_nonzero(tiles > -offset, axis=1)
        return [_Decoded(tiles, np.stack(ious), inner / np.maximum(outer, 1))]


_decoders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_decoders_lock = threading.Lock()


def has_batch_decoder(model: SamModel) -> bool:
    return {"decoder_batch", "decoder_batch_image"} <= {f.role for f in model.card.files}


def _batch_decoder(model: SamModel) -> _BatchDecoder:
    with _decoders_lock:
        decoder = _decoders.get(model)
        if decoder is None:
            decoder = _decoders[model] = _BatchDecoder(model)
        return decoder


# --- candidates -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Candidate:
    """A mask that passed the filters, in the 256x256 low-res frame."""

    mask: np.ndarray  # bool crop
    offset: tuple[int, int]
    score: float
    stability: float
    point: tuple[float, float]
    logits: np.ndarray = field(repr=False)  # float32 crop, _MARGIN wider than the mask
    logits_offset: tuple[int, int] = (0, 0)

    def full_logits(self) -> np.ndarray:
        out = np.full((LOW_RES, LOW_RES), -1e4, np.float32)
        y0, x0 = self.logits_offset
        out[y0 : y0 + self.logits.shape[0], x0 : x0 + self.logits.shape[1]] = self.logits
        return out


@dataclass
class _Run:
    """State of one segment_everything call."""

    params: AutoParams
    valid: tuple[int, int]  # low-res rows and columns that show the image
    candidates: list[_Candidate] = field(default_factory=list)
    decoded: int = 0  # points decoded (fewer than the grid with skip_covered)

    @cached_property
    def covered(self) -> np.ndarray:
        return np.zeros((LOW_RES, LOW_RES), bool)

    def add(self, decoded: _Decoded, points: np.ndarray) -> None:
        p = self.params
        vh, vw = self.valid
        max_area = p.max_area_fraction * vh * vw
        cover_area = p.cover_area_fraction * vh * vw
        keep = (decoded.iou >= p.pred_iou_thresh) & (decoded.stability >= p.stability_thresh)
        covers: dict[int, tuple[int, int]] = {}  # prompt → (area, candidate) that covers
        for i, k in zip(*np.nonzero(keep), strict=True):
            logits = raster(decoded.tiles[i].reshape(64, 64, 2, 2, 2, 2, MAPS), k)
            found = tight(logits[:vh, :vw] > 0)
            if found is None:
                continue
            mask, (y0, x0) = found
            area = int(np.count_nonzero(mask))
            if area > max_area:
                continue
            ly0, lx0 = max(y0 - _MARGIN, 0), max(x0 - _MARGIN, 0)
            ly1 = min(y0 + mask.shape[0] + _MARGIN, LOW_RES)
            lx1 = min(x0 + mask.shape[1] + _MARGIN, LOW_RES)
            stability = float(decoded.stability[i, k])
            self.candidates.append(
                _Candidate(
                    mask,
                    (y0, x0),
                    float(decoded.iou[i, k]),
                    stability,
                    (float(points[i, 0]), float(points[i, 1])),
                    logits[ly0:ly1, lx0:lx1].copy(),
                    (ly0, lx0),
                )
            )
            if p.skip_covered and stability >= p.cover_stability and area <= cover_area:
                cover = covers.get(i)
                if not p.cover_smallest or cover is None or area < cover[0]:
                    covers[i] = (area, len(self.candidates) - 1)
                if not p.cover_smallest:
                    self._cover(self.candidates[-1])
        if p.cover_smallest:
            for _, index in covers.values():
                self._cover(self.candidates[index])

    def _cover(self, candidate: _Candidate) -> None:
        y0, x0 = candidate.offset
        h, w = candidate.mask.shape
        self.covered[y0 : y0 + h, x0 : x0 + w] |= candidate.mask


def _upscale(candidate: _Candidate, mapper: MaskMapper, min_area: int) -> AutoMask | None:
    """The candidate at image resolution, holes and islands below min_area removed."""
    logits = candidate.full_logits()
    region = mapper.region(logits)
    crop = mapper.crop(logits, region)
    y0, x0 = region[0].start, region[1].start
    if min_area:
        px, py = candidate.point
        crop = postprocess(
            crop,
            [(px - x0, py - y0, 1)],
            keep_clicked=False,
            fill_holes_px=min_area - 1,
            min_island_px=min_area,
        )
    found = tight(crop)
    if found is None:
        return None
    mask, (dy, dx) = found
    if np.count_nonzero(mask) < max(min_area, 1):
        return None
    mask.flags.writeable = False
    score = min(max(candidate.score, 0.0), 1.0)  # SAM's IoU head overshoots 1 slightly
    return AutoMask(mask, (y0 + dy, x0 + dx), score, candidate.stability, candidate.point)


# --- the pipeline ---------------------------------------------------------------------------


def prompt_points(
    embedding: ImageEmbedding, params: AutoParams, image: np.ndarray | None = None
) -> np.ndarray:
    """The prompts in decoding order, (x, y) image pixels: the grid (coarse to fine when
    covered points are skipped), then the blob centres of `image` with `object_prompts`."""
    shape = embedding.original_size
    points = grid_points(shape, params.points_per_side)
    if params.skip_covered:
        points = points[coarse_to_fine(params.points_per_side)]
    if params.object_prompts and image is not None:
        if tuple(image.shape[:2]) != tuple(shape):
            raise MatLensError(f"The image is {image.shape[:2]}, its embedding is for {shape}.")
        blobs = blob_prompts(image, params.blob_threshold, limit=params.max_object_prompts)
        parts = [points, blobs.reshape(-1, 2)]
        points = np.concatenate(parts[::-1] if params.object_prompts_first else parts)
    return points


@dataclass(frozen=True)
class GridResult:
    candidates: list[_Candidate]  # low-res masks that passed the filters
    decoded: int  # points decoded (fewer than the grid with skip_covered)


def grid_candidates(
    model: SamModel,
    embedding: ImageEmbedding,
    params: AutoParams = AutoParams(),  # frozen, so sharing it is safe
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    image: np.ndarray | None = None,
) -> GridResult:
    """Steps 1-2: decode the prompts, keep what passes the filters (low-res, not upscaled).
    `image` (the pixels that were embedded) adds the object prompts when params ask for them."""
    params.check()
    if embedding.model_id != model.card_id:
        raise MatLensError(
            f"This embedding was made by {embedding.model_id}, not {model.card_id}; embed again."
        )
    h, w = embedding.original_size
    frame_h, frame_w = embedding.input_size
    points = prompt_points(embedding, params, image)
    frame = points * (frame_w / w, frame_h / h)  # the decoder's 1024 frame
    low = np.clip(frame * LOW_RES / 1024, 0, LOW_RES - 1).astype(int)  # x, y at low res
    if has_batch_decoder(model):
        decoder = _batch_decoder(model)
        inputs = decoder.image_inputs(embedding)
    else:
        decoder, inputs = _LoopDecoder(model, embedding), {}
    run = _Run(params, (-(-frame_h // 4), -(-frame_w // 4)))
    total, done = len(points), 0
    progress(0.0, f"segment everything: {total} points")
    while done < total:
        if cancel is not None:
            cancel.raise_if_cancelled()
        batch = np.arange(done, min(done + params.points_per_batch, total))
        done = int(batch[-1]) + 1
        if params.skip_covered:
            batch = batch[~run.covered[low[batch, 1], low[batch, 0]]]
        if batch.size:
            start = 0
            for part in decoder.decode(inputs, frame[batch], params.stability_offset):
                run.add(part, points[batch[start : start + len(part.iou)]])
                start += len(part.iou)
            run.decoded += int(batch.size)
        progress(done / total, f"segment everything: {done} of {total} points")
    return GridResult(run.candidates, run.decoded)


def masks_from_candidates(
    candidates: Sequence[_Candidate],
    mapper: MaskMapper,
    params: AutoParams = AutoParams(),  # frozen, so sharing it is safe
) -> list[AutoMask]:
    """Steps 2-4 on grid_candidates' output: filter (again: the thresholds may be stricter
    now), NMS at low res, upscale the survivors, clean them, NMS again."""
    kept = [
        c
        for c in candidates
        if c.score >= params.pred_iou_thresh and c.stability >= params.stability_thresh
    ]
    survivors = non_max_suppression(kept, params.nms_iou_thresh)
    masks = [_upscale(c, mapper, params.min_area_px) for c in survivors]
    return non_max_suppression([m for m in masks if m is not None], params.nms_iou_thresh)


def segment_everything(
    model: SamModel,
    embedding: ImageEmbedding,
    params: AutoParams = AutoParams(),  # frozen, so sharing it is safe
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    image: np.ndarray | None = None,
) -> list[AutoMask]:
    """Every object SAM finds from point prompts, best predicted IoU first: a grid, and with
    `image` (the pixels that were embedded) prompts on its blobs. Progress per batch of
    points; `cancel` is checked between batches."""

    def decoding(fraction: float, message: str = "") -> None:
        progress(0.9 * fraction, message)

    found = grid_candidates(model, embedding, params, decoding, cancel, image)
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(0.9, f"{len(found.candidates)} candidate masks; removing duplicates")
    masks = masks_from_candidates(found.candidates, model.mapper(embedding), params)
    progress(1.0, f"{len(masks)} masks")
    return masks


def to_objects(masks: Sequence[AutoMask], class_name: str, first_id: int) -> list[AnnotatedObject]:
    """Editable objects (source "auto"), ids from `first_id`, in the order given."""
    return [
        AnnotatedObject(
            first_id + i,
            class_name,
            m.mask,
            m.offset,
            score=m.score,
            points=((m.point[0], m.point[1], 1),),
            source="auto",
        )
        for i, m in enumerate(masks)
    ]
