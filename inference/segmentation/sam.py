"""Segment Anything at run time: embed an image once, then turn clicks and boxes into masks.

onnxruntime and numpy only. The graphs come from `inference.export.sam`: the encoder takes the
resized uint8 image (normalising and padding inside), the decoder returns SAM's four low-res
logit maps, and numpy upscales only the chosen map and only where it can be true.

A first prompt without a mask (SAM's three answers to an ambiguous click) runs through the
segment-everything decoder (`decoder_batch`) with one prompt: its products of the image
embedding with the decoder's weights are computed once per image (`decoder_batch_image`, kept
for the last few embeddings), so a click does about half the multiply-adds of the click
decoder; the logits agree with the click decoder's to ~1e-4. Later clicks (a mask input) and
cards without that graph use the click decoder.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.runtime.cache_limit import make_room, mark_used
from inference.runtime.paths import cache_dir
from inference.runtime.registry import ModelCard, require
from inference.runtime.sessions import DeviceReport, OnnxModel
from inference.segmentation._sam_image import (
    LOW_RES,
    MaskMapper,
    as_uint8,
    encoder_input,
    preprocess_shape,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

EMBEDDING_SHAPE = (1, 64, 64, 256)  # channels-last, as the decoder reads it
_CACHE_VERSION = b"matlens-sam-embedding-v1"
_NO_MASK = np.zeros((1, 1, 4, 4), np.float32)  # a tiny dummy: the graph skips the mask path
_FIRST_CLICK_ROLES = frozenset({"decoder_batch", "decoder_batch_image"})
_KEPT_IMAGE_INPUTS = 4  # embeddings whose first-click inputs are kept (~28 MB each)

# 1024-frame pixels by which a model's masks are moved down when upscaled (`MaskMapper`).
# MobileSAM's masks sit about half a pixel of its 1024 frame above the objects, whatever the
# image: the mask for a click on the image turned upside down, turned back, lies a whole frame
# pixel below the upright one's (median over SAM's three masks for a click on each object of
# the train splits: Super1 1.00 frame px over 630 masks, EBC1 0.98 over 37), while mirroring
# left-right moves them sideways by 0.1-0.4 frame px. Moved down 0.5, the upside-down gap on
# Super1 train is 0.02 frame px. Chosen on the train splits (1-click IoU through the pane's
# click path, shifts of 0, 0.25, 0.5, 0.75, 1 px): Super1 0.878 → 0.880 (secondary
# precipitates, 6-12 px across, 0.794 → 0.796), EBC1 0.4552 → 0.4550 (its objects span
# hundreds of pixels); on val Super1 0.878 → 0.882, EBC1 0.354 unchanged; on test (run once,
# at the end) Super1 0.871 → 0.875, EBC1 0.413 unchanged. Other models (a user's imported
# checkpoint) keep SAM's own postprocess.
MASK_ROW_SHIFT = {"mobile_sam": 0.5}


@dataclass(frozen=True, eq=False)
class ImageEmbedding:
    """What the encoder saw: its features and the sizes needed to map prompts and masks."""

    features: np.ndarray  # float32 EMBEDDING_SHAPE
    original_size: tuple[int, int]  # (height, width) of the image
    input_size: tuple[int, int]  # (height, width) after resizing the longest side to 1024
    model_id: str
    image_hash: str
    from_cache: bool = False


@dataclass(frozen=True, eq=False)
class MaskCandidate:
    """One of SAM's answers. `mask` (bool, image size) is computed on first use."""

    score: float  # SAM's predicted IoU, clipped to [0, 1]
    logits_lowres: np.ndarray  # float32 256x256; pass back as `mask_input` to refine
    index: int  # which of SAM's four outputs (0: single-mask, 1-3: multimask)
    mapper: MaskMapper = field(repr=False)

    @cached_property
    def region(self) -> tuple[slice, slice]:
        """Rows and columns outside which the mask is certainly empty."""
        return self.mapper.region(self.logits_lowres)

    @cached_property
    def mask(self) -> np.ndarray:
        return self.mapper.mask(self.logits_lowres, self.region)

    def mask_crop(self) -> tuple[np.ndarray, tuple[int, int]]:
        """The mask inside `region` and its (y0, x0): cheap to overlay without a full image."""
        rows, cols = self.region
        if "mask" in self.__dict__:  # already computed
            return self.mask[rows, cols], (rows.start, cols.start)
        return self.mapper.crop(self.logits_lowres, self.region), (rows.start, cols.start)


def image_key(image: np.ndarray, salt: str = "") -> str:
    """sha256 of the uint8 pixels, their shape and the encoder they are meant for."""
    digest = hashlib.sha256(_CACHE_VERSION + salt.encode())
    digest.update(str(image.shape).encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


class SamModel:
    """A SAM encoder/decoder pair from the model registry; sessions open on first use."""

    def __init__(
        self,
        card_id: str = "mobile_sam",
        *,
        prefer_gpu: bool = True,
        threads: int | None = None,
        use_cache: bool = True,
        mask_row_shift: float | None = None,
    ) -> None:
        self.card_id = card_id
        self.use_cache = use_cache
        # None: the card's (`MASK_ROW_SHIFT`); a number (0: SAM's own postprocess) for comparing
        self.mask_row_shift = mask_row_shift
        self._prefer_gpu, self._threads = prefer_gpu, threads
        self._lock = threading.Lock()
        self._card: ModelCard | None = None
        self._encoder: OnnxModel | None = None
        self._decoder: OnnxModel | None = None
        self._decoder_batch: OnnxModel | None = None
        self._decoder_batch_image: OnnxModel | None = None
        self._mappers: dict[tuple, MaskMapper] = {}
        # id(embedding) → (a weak reference to it, its first-click inputs), latest last
        self._image_inputs: OrderedDict[int, tuple[weakref.ref, dict[str, np.ndarray]]] = (
            OrderedDict()
        )

    # --- loading ----------------------------------------------------------------------------

    @property
    def card(self) -> ModelCard:
        if self._card is None:
            self._card = require(self.card_id)  # ModelUnavailable names the fix
        return self._card

    def _session(self, role: str) -> OnnxModel:
        attr = f"_{role}"
        with self._lock:
            if getattr(self, attr) is None:
                # The click decoders' threads sleep between runs instead of spinning: on a busy
                # 2-core machine a spinning thread waits for a core while the other spins, and
                # the p50 of a click grows 1.3-1.9x (`benchmarks/click_speed.py`); the fastest
                # click stays the same.
                model = OnnxModel(
                    self.card.path(role),
                    prefer_gpu=self._prefer_gpu,
                    threads=self._threads,
                    spin=role not in ("decoder", "decoder_batch"),
                )
                setattr(self, attr, model)
                if role == "decoder":
                    self._warm_up(model)
        return getattr(self, attr)

    def _warm_up(self, decoder: OnnxModel) -> None:
        """One throw-away run so the first real click does not pay for allocations."""
        decoder.run(
            self._feeds(
                np.zeros(EMBEDDING_SHAPE, np.float32),
                np.zeros((1, 2, 2), np.float32),
                np.array([[1, -1]], np.float32),
                None,
            )
        )

    @property
    def device(self) -> DeviceReport:
        """Where the decoder (and, built the same way, the encoder) runs."""
        return self._session("decoder").device

    def _cache_path(self, key: str) -> Path:
        return cache_dir() / "embeddings" / self.card_id / f"{key}.npy"

    # --- embedding --------------------------------------------------------------------------

    def embed(
        self,
        image: np.ndarray,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> ImageEmbedding:
        """The image embedding, from the disk cache when this image was embedded before."""
        pixels = as_uint8(image)
        original = (int(pixels.shape[0]), int(pixels.shape[1]))
        resized = preprocess_shape(*original)
        encoder_sha = next((f.sha256 for f in self.card.files if f.role == "encoder"), "")
        key = image_key(pixels, salt=self.card.id + encoder_sha)
        path = self._cache_path(key)
        cached = self._read_cache(path) if self.use_cache else None
        # The decoder session and the mask mapper are made here, in the worker thread, so the
        # first click costs no more than the next ones.
        self._session("decoder")
        self.mapper_for(original, resized)
        if cached is not None:
            progress(1.0, "embedding from cache")
            return ImageEmbedding(cached, original, resized, self.card_id, key, from_cache=True)
        progress(0.0, "preparing the image")
        x = encoder_input(pixels)
        if cancel is not None:
            cancel.raise_if_cancelled()
        encoder = self._session("encoder")
        progress(0.1, f"computing the SAM embedding ({encoder.device.label})")
        features = encoder.run({"image": x})[0].astype(np.float32, copy=False)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.use_cache:
            progress(0.95, "saving the embedding")
            self._write_cache(path, features)
        progress(1.0, "embedding ready")
        return ImageEmbedding(features, original, resized, self.card_id, key)

    @staticmethod
    def _read_cache(path: Path) -> np.ndarray | None:
        try:
            features = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if features.shape != EMBEDDING_SHAPE or features.dtype != np.float32:
            return None
        mark_used(path)  # the cap removes the least recently used embeddings first
        return features

    @staticmethod
    def _write_cache(path: Path, features: np.ndarray) -> None:
        """Write to a private name, then rename: readers never see half a file. Older
        embeddings go first when the cache would grow past its cap (MATLENS_CACHE_LIMIT)."""
        try:
            embeddings = path.parent.parent  # <cache>/embeddings/<model>/<key>.npy
            if not make_room(embeddings, incoming=features.nbytes + 128):
                return  # a cap smaller than one embedding: nothing is cached
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as fh:
                np.save(fh, features, allow_pickle=False)
            os.replace(tmp, path)
        except OSError:
            pass  # a full or read-only cache only costs speed

    # --- prompts → masks --------------------------------------------------------------------

    def predict(
        self,
        embedding: ImageEmbedding,
        points: Sequence[tuple[float, float, int]] = (),
        box: tuple[float, float, float, float] | None = None,
        multimask: bool = True,
        mask_input: np.ndarray | None = None,
    ) -> list[MaskCandidate]:
        """Masks for points (x, y, 1 object / 0 background) and/or a box (x0, y0, x1, y1), all
        in original image pixels. `multimask` gives SAM's three answers for an ambiguous
        prompt (one click), else its single answer. `mask_input` is a previous candidate's
        `logits_lowres`, for iterative refinement. Best score first."""
        mapper = self.mapper(embedding)
        if multimask and mask_input is None and self.has_first_click_decoder:
            tiles, iou = self.decode_first(embedding, points, box)
            maps = list(zip((1, 2, 3), rasters(tiles), strict=True))
        else:
            tiles, iou = self.decode(embedding, points, box, mask_input)
            maps = [(k, raster(tiles, k)) for k in ((1, 2, 3) if multimask else (0,))]
        candidates = [
            MaskCandidate(float(np.clip(iou[0, k], 0.0, 1.0)), logits, k, mapper)
            for k, logits in maps
        ]
        return sorted(candidates, key=lambda c: -c.score)

    def decode(
        self,
        embedding: ImageEmbedding,
        points: Sequence[tuple[float, float, int]] = (),
        box: tuple[float, float, float, float] | None = None,
        mask_input: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The decoder's raw output: low-res logits as [64, 64, 2, 2, 2, 2, 4] tiles (see
        `raster`) and the four predicted IoUs [1, 4]."""
        self._check_embedding(embedding)
        coords, labels = prompt_arrays(embedding, points, box)
        if mask_input is not None:
            mask_input = np.asarray(mask_input, np.float32)
            if mask_input.size != LOW_RES * LOW_RES:
                raise MatLensError("mask_input must be a candidate's 256x256 logits_lowres.")
            mask_input = mask_input.reshape(1, 1, LOW_RES, LOW_RES)
        decoder = self._session("decoder")
        tiles, iou = decoder.run(self._feeds(embedding.features, coords, labels, mask_input))
        return tiles, iou

    def _check_embedding(self, embedding: ImageEmbedding) -> None:
        if embedding.model_id != self.card_id:
            raise MatLensError(
                f"This embedding was made by {embedding.model_id}, not {self.card_id}; embed again."
            )

    @property
    def has_first_click_decoder(self) -> bool:
        """Whether first prompts can run through the segment-everything decoder (cards imported
        before it existed have only the click decoder)."""
        return {f.role for f in self.card.files} >= _FIRST_CLICK_ROLES

    def decode_first(
        self,
        embedding: ImageEmbedding,
        points: Sequence[tuple[float, float, int]] = (),
        box: tuple[float, float, float, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """SAM's multimask answers to a prompt without a mask, from the segment-everything
        decoder: maps 1-3 as [64, 64, 2, 2, 2, 2, 3] tiles (map k is `raster(tiles, k - 1)`)
        and the four predicted IoUs [1, 4], as `decode` gives them to ~1e-4."""
        self._check_embedding(embedding)
        coords, labels = prompt_arrays(embedding, points, box)
        feeds = dict(self.first_click_inputs(embedding), point_coords=coords, point_labels=labels)
        tiles, iou, _ = self._session("decoder_batch").run(feeds)
        return tiles.reshape(64, 64, 2, 2, 2, 2, 3), iou

    def first_click_inputs(self, embedding: ImageEmbedding) -> dict[str, np.ndarray]:
        """The segment-everything decoder's per-image inputs for this embedding: computed once
        (about a tenth of a second), kept for the last few embeddings used."""
        key = id(embedding)
        with self._lock:
            kept = self._image_inputs.get(key)
            if kept is not None and kept[0]() is embedding:
                self._image_inputs.move_to_end(key)
                return kept[1]
        image = self._session("decoder_batch_image")
        outputs = image.run({"image_embeddings": embedding.features})
        inputs = dict(zip(image.output_names, outputs, strict=True))
        inputs["stability_offset"] = np.ones(1, np.float32)  # the stability output is unused
        with self._lock:
            self._image_inputs[key] = (weakref.ref(embedding), inputs)
            while len(self._image_inputs) > _KEPT_IMAGE_INPUTS:
                self._image_inputs.popitem(last=False)
        return inputs

    def prepare_clicks(self, embedding: ImageEmbedding) -> None:
        """Everything the first click on this embedding needs, made now (in a worker thread) so
        that the click costs no more than the next ones."""
        if self.has_first_click_decoder:
            self.decode_first(embedding, [(0.0, 0.0, 1)])  # also the session's first run

    @staticmethod
    def _feeds(features, coords, labels, mask_input) -> dict[str, np.ndarray]:
        has = mask_input is not None
        return {
            "image_embeddings": features,
            "point_coords": coords,
            "point_labels": labels,
            "mask_input": mask_input if has else _NO_MASK,
            "has_mask_input": np.array([1.0 if has else 0.0], np.float32),
        }

    def mapper(self, embedding: ImageEmbedding) -> MaskMapper:
        """Low-res logits → full-size mask for this embedding's image size (kept per size)."""
        return self.mapper_for(embedding.original_size, embedding.input_size)

    def mapper_for(self, original_size: tuple[int, int], input_size: tuple[int, int]) -> MaskMapper:
        key = (original_size, input_size)
        mapper = self._mappers.get(key)
        if mapper is None:
            if len(self._mappers) > 8:
                self._mappers.clear()
            shift = self.mask_row_shift
            if shift is None:
                shift = MASK_ROW_SHIFT.get(self.card_id, 0.0)
            mapper = self._mappers[key] = MaskMapper(*key, row_shift=shift)
        return mapper


def raster(tiles: np.ndarray, k: int) -> np.ndarray:
    """Map k of the decoder's [64, 64, 2, 2, 2, 2, 4] output as a 256x256 raster image."""
    return np.ascontiguousarray(tiles[..., k].transpose(0, 2, 4, 1, 3, 5)).reshape(LOW_RES, LOW_RES)


def rasters(tiles: np.ndarray) -> list[np.ndarray]:
    """Every map of the decoder's [64, 64, 2, 2, 2, 2, n] output, as `raster` gives each: one
    reordering copy with the map index kept innermost (it moves runs of 2 × n contiguous values,
    not single ones), then each map's plain strided copy; 0.3 ms for three maps instead of 0.45."""
    rows_first = np.ascontiguousarray(tiles.transpose(0, 2, 4, 1, 3, 5, 6))
    return [
        np.ascontiguousarray(rows_first[..., k]).reshape(LOW_RES, LOW_RES)
        for k in range(tiles.shape[-1])
    ]


def prompt_arrays(
    embedding: ImageEmbedding,
    points: Sequence[tuple[float, float, int]],
    box: tuple[float, float, float, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """SAM's point_coords/point_labels in the 1024 frame: points, then the box corners (labels
    2, 3), or SAM's padding point (label -1) when there is no box."""
    h, w = embedding.original_size
    coords, labels = [], []
    for point in points:
        try:
            x, y, label = float(point[0]), float(point[1]), int(point[2])
        except (TypeError, ValueError, IndexError):
            raise MatLensError(f"A point is (x, y, label), not {point!r}.") from None
        if not (0 <= x < w and 0 <= y < h):
            raise MatLensError(f"Click inside the image: ({x:.0f}, {y:.0f}) is outside {w}×{h}.")
        if label not in (0, 1):
            raise MatLensError(f"A point's label is 1 (object) or 0 (background), not {label}.")
        coords.append((x, y))
        labels.append(label)
    if box is not None:
        x0, x1 = sorted((float(box[0]), float(box[2])))
        y0, y1 = sorted((float(box[1]), float(box[3])))
        if not all(np.isfinite((x0, y0, x1, y1))) or x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise MatLensError(
                f"The box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}) is outside {w}×{h}."
            )
        x0, x1 = max(x0, 0.0), min(x1, float(w))
        y0, y1 = max(y0, 0.0), min(y1, float(h))
        coords += [(x0, y0), (x1, y1)]
        labels += [2, 3]
    elif coords:
        coords.append((0.0, 0.0))
        labels.append(-1)
    if not coords:
        raise MatLensError("Give SAM at least one point or a box.")
    new_h, new_w = embedding.input_size
    scale = np.array([new_w / w, new_h / h])
    xy = (np.array(coords, dtype=np.float64) * scale).astype(np.float32)
    return xy[None], np.array([labels], np.float32)
