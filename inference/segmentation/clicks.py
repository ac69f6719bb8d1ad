"""The click session: one image's prompts → candidate masks, best first, in image pixels.

It is the one click path of MatLens: the Micrographs pane, `matlens segment` and scripts all go
through `ClickSession.predict`. What is fed back to the decoder is the policy of `refine`; which
answer to a first click comes first, and whether it is a confident one, is `click_policy`'s,
choosing among SAM's three masks and the region `local_contrast` grows from the clicked pixel
(showing a larger SAM mask first where the image says that the chosen one is a fragment of it,
`fragments`; and, where the policy asks, cutting a small SAM mask that holds several blobs of
the grey level to the clicked one, `merged_blobs`).
Large images come as `tiling.TiledEmbedding`.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation.click_policy import (
    CandidateShape,
    ClickChoice,
    ClickPolicy,
    RegionShape,
    choose,
    edge_shift,
    is_fragment,
    nests,
    sam_shapes,
    scattered,
    with_region,
    with_whole,
)
from inference.segmentation.data_bar import specimen_rows
from inference.segmentation.edge_level import MARGIN as EDGE_MARGIN
from inference.segmentation.edge_level import edge_level
from inference.segmentation.fragments import MARGIN, outline_contrast
from inference.segmentation.geometry import Box, Point, Rect
from inference.segmentation.local_contrast import (
    ClickContrast,
    ContrastParams,
    ContrastRegion,
    LocalPatch,
    click_contrast,
    local_patch,
    trace_region,
    typicality,
)
from inference.segmentation.masks import EIGHT, components, postprocess
from inference.segmentation.merged_blobs import clicked_blob
from inference.segmentation.refine import DEFAULT, RefinePolicy, choose_candidate
from inference.segmentation.sam import LOW_RES, ImageEmbedding, MaskCandidate, SamModel
from inference.segmentation.tiling import (
    TILE_ABOVE,
    Tile,
    TiledEmbedding,
    embed_tiled,
    needs_tiling,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from inference.segmentation.sam import ImageEmbedding, SamModel


@dataclass(eq=False)
class _Frame:
    """An embedding of the whole image or of a square window of it, and what it showed."""

    embedding: ImageEmbedding
    y0: int = 0
    x0: int = 0
    shown: OrderedDict = field(default_factory=OrderedDict)  # (points, box) → logits

    def contains(self, points: Sequence[Point]) -> bool:
        h, w = self.embedding.original_size
        return all(0 <= x - self.x0 < w and 0 <= y - self.y0 < h for x, y, _ in points)

    def local(self, points: Sequence[Point]) -> list[Point]:
        return [(x - self.x0, y - self.y0, label) for x, y, label in points]


# The local-contrast region goes back to the decoder (the next click refines it) as these
# logits: inside where any of its pixels falls in a low-res cell, else outside.
REGION_LOGIT = 8.0


@dataclass(frozen=True, eq=False)
class RegionAnswer:
    """The local-contrast region as an answer of one frame, with MaskCandidate's interface
    (frame pixels): it has no predicted IoU (`score` None) and is index -1. The region is
    traced when first used (`found`): one shown last costs nothing until the user tabs to it."""

    patch: LocalPatch
    contrast: ClickContrast
    params: ContrastParams
    frame_origin: tuple[int, int]  # (y0, x0) of the frame in the image
    original_size: tuple[int, int]  # the frame's embedding's
    input_size: tuple[int, int]
    score: None = None
    index: int = -1

    @cached_property
    def found(self) -> ContrastRegion:
        return trace_region(self.patch, self.contrast, self.params)

    def mask_crop(self) -> tuple[np.ndarray, tuple[int, int]]:
        (y0, x0), (fy, fx) = self.found.offset, self.frame_origin
        return self.found.mask, (y0 - fy, x0 - fx)

    @cached_property
    def region(self) -> tuple[slice, slice]:
        """Where the mask can be true, in the frame."""
        crop, (y0, x0) = self.mask_crop()
        h, w = self.original_size
        rows = slice(min(max(y0, 0), h), min(max(y0 + crop.shape[0], 0), h))
        cols = slice(min(max(x0, 0), w), min(max(x0 + crop.shape[1], 0), w))
        return rows, cols

    @cached_property
    def mask(self) -> np.ndarray:
        """Frame-sized boolean mask."""
        crop, (y0, x0) = self.mask_crop()
        rows, cols = self.region
        out = np.zeros(self.original_size, bool)
        out[rows, cols] = crop[rows.start - y0 : rows.stop - y0, cols.start - x0 : cols.stop - x0]
        return out

    @cached_property
    def logits_lowres(self) -> np.ndarray:
        """The mask in SAM's 256² low-res frame, as logits for `mask_input`."""
        crop, offset = self.mask_crop()
        touched = _cells_touched(crop, offset, self.original_size, self.input_size)
        return np.where(touched, REGION_LOGIT, -REGION_LOGIT).astype(np.float32)


def _cells_touched(
    crop: np.ndarray,
    offset: tuple[int, int],
    original_size: tuple[int, int],
    input_size: tuple[int, int],
) -> np.ndarray:
    """The cells of SAM's 256² low-res map in which a pixel of the mask (a crop at `offset`
    (y0, x0) in a frame of `original_size`) falls."""
    (h, w), (in_h, in_w) = original_size, input_size
    rows, cols = np.nonzero(crop)
    rows, cols = rows + offset[0], cols + offset[1]
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    cell = 1024 / LOW_RES  # input pixels per low-res cell
    r = ((rows[inside] + 0.5) * in_h / h / cell).astype(int)
    c = ((cols[inside] + 0.5) * in_w / w / cell).astype(int)
    touched = np.zeros((LOW_RES, LOW_RES), bool)
    touched[np.minimum(r, LOW_RES - 1), np.minimum(c, LOW_RES - 1)] = True
    return touched


@dataclass(frozen=True, eq=False)
class BlobAnswer:
    """One of SAM's answers cut to the part that holds the click (`merged_blobs`, or rule 7's
    whole object without its stray specks), with
    MaskCandidate's interface (frame pixels). A correction feeds back SAM's logits with the
    cells outside the blob turned off."""

    sam: MaskCandidate
    kept: np.ndarray  # bool crop of SAM's mask
    offset: tuple[int, int]  # (y0, x0) of the crop in the frame
    original_size: tuple[int, int]  # the frame's embedding's
    input_size: tuple[int, int]
    note: str = "cut to the clicked blob"  # what the pane says of it after the predicted IoU

    @property
    def score(self) -> float:
        return self.sam.score

    @property
    def index(self) -> int:
        return self.sam.index

    def mask_crop(self) -> tuple[np.ndarray, tuple[int, int]]:
        return self.kept, self.offset

    @cached_property
    def region(self) -> tuple[slice, slice]:
        """Where the mask can be true, in the frame."""
        (y0, x0), (h, w) = self.offset, self.kept.shape
        return slice(y0, y0 + h), slice(x0, x0 + w)

    @cached_property
    def mask(self) -> np.ndarray:
        """Frame-sized boolean mask."""
        out = np.zeros(self.original_size, bool)
        out[self.region] = self.kept
        return out

    @cached_property
    def logits_lowres(self) -> np.ndarray:
        touched = _cells_touched(self.kept, self.offset, self.original_size, self.input_size)
        logits = self.sam.logits_lowres
        return np.where(touched, logits, np.minimum(logits, -REGION_LOGIT)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class RefinedCandidate:
    """An answer (SAM's MaskCandidate or the local-contrast RegionAnswer) in image coordinates
    (a zoom window's too), post-processed as the policy says, with MaskCandidate's interface:
    score, index, logits_lowres, mask, mask_crop(). The first answer to a first click says
    whether it is `ambiguous` and why (`reason`, one line for the user)."""

    raw: MaskCandidate | RegionAnswer | BlobAnswer
    points: tuple[Point, ...]  # the prompt it answers, image pixels
    box: Box | None
    image_shape: tuple[int, int]
    policy: RefinePolicy = field(repr=False)
    frame: _Frame = field(repr=False)
    ambiguous: bool = False
    reason: str = ""
    # rows above a microscope's data bar (`data_bar.specimen_rows`); None: no bar
    specimen_rows: int | None = None

    @property
    def score(self) -> float | None:
        """SAM's predicted IoU; None for the local-contrast region (no model predicted it)."""
        return self.raw.score

    @property
    def source(self) -> str:
        """ "sam" or "contrast" (the local-contrast region)."""
        return "contrast" if isinstance(self.raw, RegionAnswer) else "sam"

    @property
    def polarity(self) -> str | None:
        """For the local-contrast region: "dark" or "bright" (what was clicked)."""
        return self.raw.contrast.polarity if isinstance(self.raw, RegionAnswer) else None

    @property
    def description(self) -> str:
        """What this answer is, in a few words for the user."""
        if isinstance(self.raw, RegionAnswer):
            return f"traced from the click's local contrast ({self.raw.contrast.polarity} detail)"
        if isinstance(self.raw, BlobAnswer):
            return f"predicted IoU {self.raw.score:.2f}, {self.raw.note}"
        return f"predicted IoU {self.raw.score:.2f}"

    @property
    def index(self) -> int:
        return self.raw.index

    @property
    def logits_lowres(self) -> np.ndarray:
        return self.raw.logits_lowres

    @property
    def zoomed(self) -> bool:
        return self.frame.embedding.original_size != self.image_shape

    @cached_property
    def _crop(self) -> tuple[np.ndarray, tuple[int, int]]:
        crop, (y0, x0) = self.raw.mask_crop()
        y0, x0 = y0 + self.frame.y0, x0 + self.frame.x0
        p = self.policy
        if p.cleans:
            local = [(x - x0, y - y0, label) for x, y, label in self.points]
            crop = postprocess(
                crop,
                local,
                keep_clicked=p.keep_clicked,
                fill_holes_px=p.fill_holes_px,
                min_island_px=p.min_island_px,
            )
        cut = self._data_bar_cut(y0, crop.shape[0])
        if cut is not None:
            crop = crop.copy()
            crop[max(cut - y0, 0) :] = False
        return crop, (y0, x0)

    def _data_bar_cut(self, y0: int, rows: int) -> int | None:
        """The first row of a data bar that the mask (rows y0 onwards) loses, else None. SAM
        sees the bar as part of the picture and often runs an object above it into the bar,
        whose pixels are not specimen. A prompt that points into the bar itself (a positive
        click there, a box centred in it) is the person's choice and is kept whole."""
        limit = self.specimen_rows
        if limit is None or y0 + rows <= limit:
            return None
        if any(label == 1 and y >= limit for _, y, label in self.points):
            return None
        box = self.box
        return limit if box is None or (box[1] + box[3]) / 2 < limit else None

    def mask_crop(self) -> tuple[np.ndarray, tuple[int, int]]:
        """The mask where it can be true and its (y0, x0) in the image: cheap to draw."""
        return self._crop

    @cached_property
    def mask(self) -> np.ndarray:
        """The image-sized boolean mask."""
        if not self.zoomed and not self.policy.cleans and self.specimen_rows is None:
            return self.raw.mask
        crop, (y0, x0) = self._crop
        out = np.zeros(self.image_shape, bool)
        out[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
        return out


_Prompt = tuple[tuple[Point, ...], "Box | None"]


@dataclass(frozen=True)
class _Ahead:
    """A click answered ahead, and the count of remembered-mask changes it holds for (None: a
    first click, whose answer holds for good)."""

    answers: list[RefinedCandidate]
    shown_changes: int | None

    def valid_at(self, shown_changes: int) -> bool:
        return self.shown_changes is None or self.shown_changes == shown_changes


class ClickSession:
    """One image's prompts → candidates, best first. It remembers the mask shown for each
    prompt, so the next click refines it and undo finds the earlier answer again; and it keeps
    one zoom window per first click. Pass `image` (the RGB that was embedded) to allow zooming.
    `encode` embeds a zoom window (default `model.embed`). One thread at a time.

    A large image comes as a `tiling.TiledEmbedding`: its tiles are the zoom windows, already
    embedded. A first click is answered in the tile where it is most central; when that mask
    reaches an edge of the tile inside the image (the object goes on beyond it), the whole
    image's embedding answers instead.

    `pixels` (the RGB that was embedded, without `image`: no zoom) lets a first click be
    answered by the local-contrast region too (`click_policy`).

    `answer_ahead` works out the answer to a click while the pointer rests on a point,
    from another thread; the click there then gets it at once. A lock keeps one prompt at a
    time."""

    def __init__(
        self,
        model: SamModel,
        embedding: ImageEmbedding | TiledEmbedding,
        image: np.ndarray | None = None,
        policy: RefinePolicy = DEFAULT,
        encode: Callable[[np.ndarray], ImageEmbedding] | None = None,
        memory: int = 64,
        pixels: np.ndarray | None = None,
        data_bar_rows: int = 0,
    ) -> None:
        self.model, self.policy, self.image = model, policy, image
        # what the local-contrast region is grown on (no zoom needs it): default `image`
        self.pixels = pixels if pixels is not None else image
        self.encode = encode or model.embed
        self.tiles: TiledEmbedding | None = None
        if isinstance(embedding, TiledEmbedding):
            self.tiles, embedding = embedding, embedding.whole
        self.full = _Frame(embedding)
        # a microscope's data bar: masks of prompts above it leave its rows out (`_data_bar_cut`)
        height = embedding.original_size[0]
        rows = specimen_rows(height, data_bar_rows)
        self.specimen_rows: int | None = rows if rows < height else None
        self._zooms: OrderedDict[Point, _Frame | None] = OrderedDict()
        self._tile_frames: OrderedDict[int, _Frame] = OrderedDict()
        self._memory = memory
        # clicks answered ahead, by prompt: the last few places the pointer rested on (a later
        # click both ways: left and right)
        self._ahead: OrderedDict[_Prompt, _Ahead] = OrderedDict()
        self._shown_changes = 0  # counts changes to the masks remembered (`remember`)
        self._clicks_waiting = 0  # `predict` calls waiting for the lock or running
        self._lock = threading.RLock()

    @property
    def embedding(self) -> ImageEmbedding:
        """The whole image's embedding."""
        return self.full.embedding

    @property
    def shape(self) -> tuple[int, int]:
        return self.full.embedding.original_size

    def predict(
        self, points: Sequence[Point], box: Box | None = None, zoom: bool = True
    ) -> list[RefinedCandidate]:
        """Candidates for the prompt (points and/or box, image pixels), the one to show first.
        `zoom=False` answers from the whole-image embedding only (never runs the encoder)."""
        points = tuple((float(x), float(y), int(label)) for x, y, label in points)
        self._clicks_waiting += 1  # work ahead not yet begun gives way (`answer_ahead`)
        try:
            with self._lock:
                ahead = self._ahead.get((points, box)) if zoom else None
                if ahead is not None and ahead.valid_at(self._shown_changes):
                    self._remember(ahead.answers[0])
                    return ahead.answers
                return self._answer(points, box, zoom)
        finally:
            self._clicks_waiting -= 1

    def answer_ahead(
        self,
        x: float,
        y: float,
        points: Sequence[Point] = (),
        box: Box | None = None,
        label: int = 1,
    ) -> list[RefinedCandidate] | None:
        """What `predict` will answer when a click at (x, y) (`label` 1: left, 0: right) is
        added to the prompt (`points`, `box`: none for a first click), worked out now (the
        pointer rests there) and
        kept for the click. The answers are the ones the click would get: a first click's
        depends on nothing the session learns from other prompts, and a later click's is kept
        only until the masks remembered change (another answer shown, another prompt decoded).
        None where working it out would run the encoder (a zoom window, a tile not embedded
        yet): a resting pointer must not cost seconds; and None when a click is waiting, so
        that it waits for one decode at most."""
        prompt = (
            tuple((float(px), float(py), int(label)) for px, py, label in points)
            + ((float(x), float(y), int(label)),),
            box,
        )
        first = len(prompt[0]) == 1 and box is None
        with self._lock:
            kept = self._ahead.get(prompt)
            if kept is not None and kept.valid_at(self._shown_changes):
                return kept.answers
            if (
                self._clicks_waiting
            ):  # a click made meanwhile comes first: no decode for it to wait on
                return None
            if self.image is not None and self.policy.zoom_below > 0:
                return None
            tiles = self.tiles
            if tiles is not None and not (
                tiles.holds(tiles.layout.tile_at(x, y)) if first else tiles.encode_tile is None
            ):
                return None
            answers = self._answer(prompt[0], box, zoom=True, keep=False)
            self._ahead[prompt] = _Ahead(answers, None if first else self._shown_changes)
            self._ahead.move_to_end(prompt)
            while len(self._ahead) > 6:  # ~1 MB each: the logits of three masks
                self._ahead.popitem(last=False)
            return answers

    def _answer(
        self, points: tuple[Point, ...], box: Box | None, zoom: bool, keep: bool = True
    ) -> list[RefinedCandidate]:
        """`predict`'s answer; `keep=False` leaves the shown masks unremembered (an answer
        worked out ahead is remembered only when the click comes)."""
        if self.tiles is not None and zoom:
            return self._predict_tiled(self.tiles, points, box, keep)
        can_zoom = self.image is not None and self.policy.zoom_below > 0
        if not (zoom and can_zoom and box is None and points and points[0][2] == 1):
            return self._predict(self.full, points, box, keep)
        if points[0] not in self._zooms:
            first_pass = self._predict(self.full, points[:1], None, keep)
            self._zooms[points[0]] = self._window_for(first_pass[0])
            while len(self._zooms) > 8:
                self._zooms.popitem(last=False)  # 4 MB each
            if self._zooms[points[0]] is None and len(points) == 1:
                return first_pass
        self._zooms.move_to_end(points[0])
        window = self._zooms[points[0]]
        if window is not None and window.contains(points):
            return self._predict(window, points, None, keep)
        return self._predict(self.full, points, None, keep)

    def remember(self, candidate: RefinedCandidate) -> None:
        """The user shows another candidate (Tab): the next click refines that one. Candidates
        from another session (an earlier image) are ignored."""
        with self._lock:
            self._remember(candidate)

    def _remember(self, candidate: RefinedCandidate) -> None:
        frame = candidate.frame
        known = frame is self.full or frame in self._zooms.values()
        if not (known or frame in self._tile_frames.values()):
            return
        shown = candidate.frame.shown
        key = (candidate.points, candidate.box)
        if shown.get(key) is not candidate.logits_lowres:
            shown[key] = candidate.logits_lowres
            self._shown_changes += 1  # a later click answered ahead is out of date
        shown.move_to_end(key)
        while len(shown) > self._memory:
            shown.popitem(last=False)

    def _predict_tiled(
        self, tiles: TiledEmbedding, points: tuple[Point, ...], box: Box | None, keep: bool
    ) -> list[RefinedCandidate]:
        """A tiled image's prompt: in the tile most central to the box or first click while the
        prompt fits in it and the first mask stays clear of its inner edges, else the whole."""
        layout = tiles.layout
        if box is not None or not points or points[0][2] != 1:
            tile = layout.tile_for(_prompt_rect(points, box)) if box is not None else None
            frame = self._tile_frame(tiles, tile) if tile is not None else self.full
            return self._predict(frame if frame.contains(points) else self.full, points, box, keep)
        first = points[0]
        if first not in self._zooms:
            tile = layout.tile_at(first[0], first[1])
            frame = self._tile_frame(tiles, tile)
            first_pass = self._predict(frame, points[:1], None, keep)
            rows, cols = first_pass[0].raw.region  # where the mask can be true: no upscale
            y0, x0 = tile.y0 + rows.start, tile.x0 + cols.start
            rect = Rect(x0, y0, x0 + cols.stop - cols.start, y0 + rows.stop - rows.start)
            cut = rows.stop > rows.start and any(layout.cut_sides(tile, rect))
            self._zooms[first] = None if cut else frame
            while len(self._zooms) > 64:
                self._zooms.popitem(last=False)  # frames are shared with _tile_frames
            if not cut and len(points) == 1:
                return first_pass
        self._zooms.move_to_end(first)
        window = self._zooms[first]
        if window is not None and window.contains(points):
            return self._predict(window, points, None, keep)
        return self._predict(self.full, points, None, keep)

    def _tile_frame(self, tiles: TiledEmbedding, tile: Tile) -> _Frame:
        """The tile's frame, kept for the last few tiles used (4 MB of float32 each)."""
        frame = self._tile_frames.get(tile.index)
        if frame is None:
            frame = _Frame(tiles.embedding(tile), tile.y0, tile.x0)
            self._tile_frames[tile.index] = frame
            while len(self._tile_frames) > 8:
                self._tile_frames.popitem(last=False)
        self._tile_frames.move_to_end(tile.index)
        return frame

    def _previous(self, frame: _Frame, points: tuple[Point, ...], box: Box | None):
        """The logits shown for the longest earlier prompt that this one extends."""
        if not self.policy.mask_input:
            return None
        for n in range(len(points) - 1, 0, -1):
            logits = frame.shown.get((points[:n], box))
            if logits is not None:
                return logits
        return None

    def _predict(
        self, frame: _Frame, points: tuple[Point, ...], box: Box | None, keep: bool = True
    ) -> list[RefinedCandidate]:
        first = len(points) == 1 and box is None
        local_box = None
        if box is not None:
            local_box = (box[0] - frame.x0, box[1] - frame.y0, box[2] - frame.x0, box[3] - frame.y0)
        raw = self.model.predict(
            frame.embedding,
            frame.local(points),
            box=local_box,
            multimask=first,
            mask_input=None if first else self._previous(frame, points, box),
        )
        choice = None
        if first and points[0][2] == 1 and self.policy.select == "policy":
            answers, choice = self._first_answers(frame, points[0], raw)
            ordered = [answers[i] for i in choice.order]
        else:
            best = choose_candidate(raw, self.policy) if first else raw[0]
            ordered = [best] + [c for c in raw if c is not best]  # the rest by predicted IoU
        out = [
            RefinedCandidate(
                c, points, box, self.shape, self.policy, frame, specimen_rows=self.specimen_rows
            )
            for c in ordered
        ]
        if choice is not None and choice.ambiguous:
            out[0] = replace(out[0], ambiguous=True, reason=choice.reason)
        if keep:
            self._remember(out[0])
        return out

    def _first_answers(
        self, frame: _Frame, point: Point, raw: list[MaskCandidate]
    ) -> tuple[list[MaskCandidate | RegionAnswer | BlobAnswer], ClickChoice]:
        """SAM's answers to a first click and the local-contrast region, and the order to show
        them in (`click_policy`); a SAM answer shown first that is a fragment of a larger one
        gives way to it; with `split`, a small SAM answer shown first is cut to the clicked
        blob where it holds several."""
        rules = self.policy.clicks
        embedding = frame.embedding
        x, y = point[0] - frame.x0, point[1] - frame.y0
        shapes = sam_shapes(raw, (x, y), embedding.original_size, embedding.input_size, rules)
        sam = choose(shapes, rules)
        answers: list[MaskCandidate | RegionAnswer | BlobAnswer] = [
            _with_edge(c, rules) for c in raw
        ]
        pixels = self.pixels
        if pixels is None or not (
            rules.region or rules.split or rules.fragment_ratio or rules.edges.reach
        ):
            return answers, sam
        patch = local_patch(pixels, point[0], point[1], rules.region_window)
        choice = sam
        params = ContrastParams(rules.region_window, rules.region_size, rules.region_level)
        contrast = click_contrast(patch, params) if rules.region else None
        if contrast is not None:
            region = RegionAnswer(
                patch,
                contrast,
                params,
                (frame.y0, frame.x0),
                embedding.original_size,
                embedding.input_size,
            )
            answers.append(region)
            choice = _with_region(
                sam, region, lambda: _typicality(patch, frame, raw[sam.first]), rules
            )
        if rules.fragment_ratio and choice.first < len(raw) and not choice.ambiguous:
            sam_answers = cast("list[MaskCandidate]", answers[: len(raw)])
            whole = _whole_object(sam_answers, shapes, choice.first, pixels, frame, point, rules)
            if whole is not None:
                choice = with_whole(choice, whole)
                on_edge = _on_edge(sam_answers[whole], pixels, frame, point, rules)
                answers[whole] = _clicked_part(on_edge, frame, point)
        first = answers[choice.first]
        if isinstance(first, MaskCandidate):
            first = answers[choice.first] = _on_edge(first, pixels, frame, point, rules)
        if rules.split and isinstance(first, MaskCandidate):
            answers[choice.first] = _clicked_blob(first, patch, frame, rules)
        return answers, choice

    def _window_for(self, first: RefinedCandidate) -> _Frame | None:
        """A zoom window around the first click, embedded, or None where zooming does not pay:
        the first mask is large or the window would hold the whole image."""
        h, w = self.shape
        longest = max(h, w)
        side = min(round(self.policy.zoom_window * longest), h, w)
        crop, _ = first.mask_crop()
        if self.image is None or max(crop.shape) >= self.policy.zoom_below * longest:
            return None
        if side >= longest:
            return None
        x, y, _ = first.points[0]
        y0 = int(min(max(y - side / 2, 0), h - side))
        x0 = int(min(max(x - side / 2, 0), w - side))
        pixels = np.ascontiguousarray(self.image[y0 : y0 + side, x0 : x0 + side])
        return _Frame(self.encode(pixels), y0, x0)


def click_session(
    model: SamModel,
    rgb: np.ndarray,
    policy: RefinePolicy | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    threshold: int = TILE_ABOVE,
    zoom: bool = False,
    lazy: bool = False,
    data_bar_rows: int = 0,
) -> ClickSession:
    """A ClickSession for an image of any size: in tiles above `threshold`, else on the whole
    image as before (`zoom` passes the image so small objects get a zoom window, +0.6 s).
    `lazy` embeds each tile when a prompt first needs it instead of all of them now.
    `data_bar_rows`: a microscope's data bar, which masks of prompts above it leave out."""
    policy = policy or DEFAULT
    if needs_tiling(rgb.shape, threshold):
        tiles = embed_tiled(model, rgb, progress=progress, cancel=cancel, lazy=lazy)
        return ClickSession(model, tiles, policy=policy, pixels=rgb, data_bar_rows=data_bar_rows)
    embedding = model.embed(rgb, progress, cancel)
    model.prepare_clicks(embedding)
    image = rgb if zoom else None
    return ClickSession(model, embedding, image, policy, pixels=rgb, data_bar_rows=data_bar_rows)


def _with_region(
    sam: ClickChoice, region: RegionAnswer, typical: Callable[[], float], rules: ClickPolicy
) -> ClickChoice:
    """`click_policy.with_region`, with the region traced only where its shape can change the
    order. The policy is asked with the roundest shape (elongation 1, a disc) and an endless
    line: when both give the same order (a click too faint for the region to come first, or
    one the region answers whatever its shape), the shape does not matter. A region shown
    first is traced now, in the worker, like the mask it replaces."""
    snr = region.contrast.snr
    measured: list[float] = []

    def typicality_once() -> float:
        if not measured:
            measured.append(typical())
        return measured[0]

    def order(elongation: float) -> ClickChoice:
        return with_region(sam, RegionShape(snr, elongation), typicality_once, rules)

    choice = order(1.0)
    if choice != order(math.inf):
        choice = order(region.found.elongation)
    if choice.first == len(sam.order):
        _ = region.found
    return choice


def _with_edge(candidate: MaskCandidate, rules: ClickPolicy) -> MaskCandidate:
    """The candidate cut where `click_policy.edge_shift` says. Its shifted logits are what the
    user sees, so they are also what a correction feeds back."""
    shift = edge_shift(candidate.logits_lowres, rules)
    if not shift:
        return candidate
    return replace(candidate, logits_lowres=candidate.logits_lowres + np.float32(shift))


def _on_edge(
    candidate: MaskCandidate, pixels: np.ndarray, frame: _Frame, point: Point, rules: ClickPolicy
) -> MaskCandidate:
    """The candidate cut at the level `edge_level` finds (click_policy rule 8), as logits added
    to its low-res map like rule 5's: what the user sees is what a correction feeds back."""
    params = rules.edges
    if params.reach <= 0:
        return candidate
    embedding = frame.embedding
    (h, w), (in_h, in_w) = embedding.original_size, embedding.input_size
    cells = int(np.count_nonzero(candidate.logits_lowres > 0))
    pixels_per_cell = (1024 / LOW_RES) ** 2 * (h / in_h) * (w / in_w)
    if cells * pixels_per_cell > 2 * params.max_px:  # clearly too large: upscale nothing
        return candidate
    rows, cols = candidate.mapper.region(candidate.logits_lowres + np.float32(params.reach))
    if rows.stop <= rows.start:
        return candidate
    r0, r1 = max(rows.start - EDGE_MARGIN, 0), min(rows.stop + EDGE_MARGIN, h)
    c0, c1 = max(cols.start - EDGE_MARGIN, 0), min(cols.stop + EDGE_MARGIN, w)
    logits = candidate.mapper.upscale(candidate.logits_lowres, (slice(r0, r1), slice(c0, c1)))
    y0, x0 = frame.y0 + r0, frame.x0 + c0
    grey = pixels[y0 : y0 + logits.shape[0], x0 : x0 + logits.shape[1]]
    click = (
        min(max(int(point[1]) - y0, 0), logits.shape[0] - 1),
        min(max(int(point[0]) - x0, 0), logits.shape[1] - 1),
    )
    shift = edge_level(logits, grey, click, params)
    if not shift:
        return candidate
    return replace(candidate, logits_lowres=candidate.logits_lowres + np.float32(shift))


def _clicked_blob(
    candidate: MaskCandidate, patch: LocalPatch, frame: _Frame, rules: ClickPolicy
) -> MaskCandidate | BlobAnswer:
    """A small SAM answer cut to the clicked blob where it holds several (`merged_blobs`),
    else the answer itself."""
    split = rules.split
    if split is None or np.count_nonzero(candidate.logits_lowres > 0) > split.max_cells:
        return candidate
    crop, (y0, x0) = candidate.mask_crop()
    kept = clicked_blob(patch, crop, (y0 + frame.y0, x0 + frame.x0), split)
    if kept is None:
        return candidate
    embedding = frame.embedding
    return BlobAnswer(candidate, kept, (y0, x0), embedding.original_size, embedding.input_size)


def _clicked_part(
    candidate: MaskCandidate, frame: _Frame, point: Point
) -> MaskCandidate | BlobAnswer:
    """The whole object rule 7 shows, without the specks SAM's larger mask often carries in
    the neighbouring objects: its 8-connected part holding the click (the part the rule judged),
    else the answer itself."""
    crop, (y0, x0) = candidate.mask_crop()
    labels, count = components(crop, EIGHT)
    if count < 2:
        return candidate
    row, col = int(point[1]) - frame.y0 - y0, int(point[0]) - frame.x0 - x0
    if not (0 <= row < crop.shape[0] and 0 <= col < crop.shape[1]) or not labels[row, col]:
        return candidate
    embedding = frame.embedding
    kept = labels == labels[row, col]
    return BlobAnswer(
        candidate,
        kept,
        (y0, x0),
        embedding.original_size,
        embedding.input_size,
        note="the whole object, not a part of it",
    )


def _whole_object(
    answers: Sequence[MaskCandidate],
    shapes: Sequence[CandidateShape],
    shown: int,
    pixels: np.ndarray,
    frame: _Frame,
    point: Point,
    rules: ClickPolicy,
) -> int | None:
    """The larger SAM answer of which the one `shown` first is a fragment (`click_policy`
    rule 7), the one whose outline contrast says so most clearly; None if there is none."""
    small = answers[shown]
    h, w = frame.embedding.original_size
    found: tuple[float, int] | None = None
    for i, large in enumerate(answers):
        if i == shown or scattered(shapes[i], rules):
            continue
        (sr, sc), (lr, lc) = small.region, large.region
        if sr.stop <= sr.start or lr.stop <= lr.start:
            continue
        window = (
            slice(max(min(sr.start, lr.start) - MARGIN, 0), min(max(sr.stop, lr.stop) + MARGIN, h)),
            slice(max(min(sc.start, lc.start) - MARGIN, 0), min(max(sc.stop, lc.stop) + MARGIN, w)),
        )
        rows, cols = window
        inner = np.zeros((rows.stop - rows.start, cols.stop - cols.start), bool)
        inner[
            sr.start - rows.start : sr.stop - rows.start,
            sc.start - cols.start : sc.stop - cols.start,
        ] = small.mapper.crop(small.logits_lowres, small.region)
        outer = large.mapper.crop(large.logits_lowres, window)
        shared = int(np.count_nonzero(inner & outer))
        if not nests(int(np.count_nonzero(inner)), int(np.count_nonzero(outer)), shared, rules):
            continue
        y0, x0 = rows.start + frame.y0, cols.start + frame.x0
        grey = pixels[y0 : y0 + inner.shape[0], x0 : x0 + inner.shape[1]]
        click = (
            min(max(int(point[1]) - y0, 0), inner.shape[0] - 1),
            min(max(int(point[0]) - x0, 0), inner.shape[1] - 1),
        )
        contrast = outline_contrast(grey, inner, outer, click)
        if contrast is None or not is_fragment(contrast, rules):
            continue
        if found is None or contrast.ratio < found[0]:
            found = (contrast.ratio, i)
    return None if found is None else found[1]


def _typicality(patch: LocalPatch, frame: _Frame, candidate: MaskCandidate) -> float:
    """`local_contrast.typicality` of a SAM candidate of `frame`, upscaled in the patch only."""
    w = patch.window
    h_frame, w_frame = frame.embedding.original_size
    top, left = max(w.y0 - frame.y0, 0), max(w.x0 - frame.x0, 0)
    bottom, right = min(w.y1 - frame.y0, h_frame), min(w.x1 - frame.x0, w_frame)
    mask = np.zeros(patch.grey.shape, bool)
    if bottom > top and right > left:
        crop = candidate.mapper.crop(
            candidate.logits_lowres, (slice(top, bottom), slice(left, right))
        )
        r0, c0 = top + frame.y0 - w.y0, left + frame.x0 - w.x0
        mask[r0 : r0 + crop.shape[0], c0 : c0 + crop.shape[1]] = crop
    return typicality(patch, mask)


def _prompt_rect(points: Sequence[Point], box: Box) -> Rect:
    """The whole pixels around a box and points."""
    xs = [box[0], box[2], *(p[0] for p in points)]
    ys = [box[1], box[3], *(p[1] for p in points)]
    return Rect(int(min(xs)), int(min(ys)), int(np.ceil(max(xs))) + 1, int(np.ceil(max(ys))) + 1)
