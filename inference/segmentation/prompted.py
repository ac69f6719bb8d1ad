"""The click path of MatLens, once: a prompt to SAM's candidates for the Micrographs pane, and a
list of prompted objects segmented as a person makes them there, for `matlens segment` and
scripts. Both run `clicks.ClickSession.predict` with the first candidate as the one shown, so the
same clicks give the same masks in the pane and on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    CroppedMask,
    ImageIdentity,
)
from inference.segmentation.labels import classes_for
from inference.segmentation.overlay import outline
from inference.segmentation.prompts import PromptRequest, PromptState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.imaging.calibration import Calibration
    from inference.segmentation.clicks import ClickSession, RefinedCandidate
    from inference.segmentation.geometry import Box, Point


def decode_prompt(
    clicks: ClickSession,
    points: Sequence[Point],
    box: Box | None = None,
    shown: RefinedCandidate | None = None,
) -> tuple[RefinedCandidate, ...]:
    """SAM's candidates for the prompt, the one to show first. `shown` is the candidate on
    screen (after Tab): the next click refines that one."""
    if shown is not None:
        clicks.remember(shown)
    return tuple(clicks.predict(points, box=box))


@dataclass(frozen=True)
class ClickAhead:
    """What a click at (x, y) will show, worked out while the pointer rests there: the mask
    shown first, a boolean crop at `offset` (y0, x0). `first`: the click would start an object
    (the pane outlines only those: a later click's mask refines the one on screen, and a right
    click would take another)."""

    x: float
    y: float
    first: bool
    mask: np.ndarray
    offset: tuple[int, int]

    @cached_property
    def outline(self) -> np.ndarray:
        """The mask's boundary pixels, same crop (made only when it is to be drawn)."""
        return outline(self.mask)


def answer_ahead(
    clicks: ClickSession,
    x: float,
    y: float,
    points: Sequence[Point] = (),
    box: Box | None = None,
    shown: RefinedCandidate | None = None,
    label: int = 1,
) -> ClickAhead | None:
    """The answer to a click at (x, y) (`label` 1: left, 0: right) added to the prompt
    (`points`, `box`; `shown` the candidate on screen, as for `decode_prompt`), worked out before
    the click (the pane calls it when the pointer rests) so that the click shows it at once;
    None where that would run the encoder. The click itself still goes through
    `decode_prompt`, which finds the answer kept."""
    if shown is not None:
        clicks.remember(shown)  # as the click's decode_prompt will: the answer builds on it
    answers = clicks.answer_ahead(x, y, points, box, label)
    if not answers:
        return None
    crop, offset = answers[0].mask_crop()
    return ClickAhead(x, y, not points and box is None, crop, offset)


@dataclass(frozen=True)
class ObjectPrompt:
    """One object to segment from a prompts file: its points and box, in image pixels."""

    points: tuple[Point, ...]
    box: Box | None = None
    class_name: str = "object"


@dataclass(frozen=True, eq=False)
class PromptedObject(CroppedMask):
    """The mask a prompt gave, cut to where it can be true, at `offset` (y0, x0)."""

    index: int  # 0-based position in the prompts
    class_name: str
    mask: np.ndarray
    offset: tuple[int, int]
    score: float | None  # SAM's predicted IoU of the candidate shown (None: local contrast)
    source: str = "sam"  # "sam" or "contrast" (`clicks.RefinedCandidate.source`)


def _steps(shape: tuple[int, int], prompt: ObjectPrompt, number: int) -> list[PromptRequest]:
    """The decoder requests a person makes in the pane for one object: box, then each point."""
    state = PromptState(shape)
    steps = []
    if prompt.box is not None:
        state.set_box(prompt.box)
        steps.append(state.request())
    for x, y, label in prompt.points:
        state.add_point(x, y, label)  # one line for a point outside the image
        steps.append(state.request())
    if not steps:
        raise MatLensError(f"object {number} has neither points nor a box")
    return steps


def check_prompts(shape: tuple[int, int], prompts: Sequence[ObjectPrompt]) -> None:
    """Refuse bad prompts in one line before any model runs."""
    for i, prompt in enumerate(prompts, start=1):
        _steps(shape, prompt, i)


def segment_prompts(clicks: ClickSession, prompts: Sequence[ObjectPrompt]) -> list[PromptedObject]:
    """Each object as a person makes it in the pane, in order, on one click session: the box
    first, then the points one at a time, each refining the first candidate shown; the object
    is the first candidate of the last step."""
    results = []
    for i, prompt in enumerate(prompts):
        shown: RefinedCandidate | None = None
        for request in _steps(clicks.shape, prompt, i + 1):
            shown = decode_prompt(clicks, request.points, request.box, shown)[0]
        assert shown is not None  # _steps gives at least one request
        crop, offset = shown.mask_crop()
        results.append(
            PromptedObject(i, prompt.class_name, crop, offset, shown.score, shown.source)
        )
    return results


def prompted_annotations(
    objects: Sequence[PromptedObject],
    shape: tuple[int, int],
    image: ImageIdentity,
    calibration: Calibration | None = None,
) -> AnnotationSet:
    """The prompted objects as annotations, ids 1..N in prompt order, overlaps kept; an empty
    mask is one line (it cannot be exported or measured)."""

    empty = [o.index + 1 for o in objects if not o.mask.any()]
    if empty:
        raise MatLensError(
            f"object {empty[0]} gave an empty mask: give it a point on the object (label 1)"
        )
    names = list(dict.fromkeys(o.class_name for o in objects))
    annotations = AnnotationSet(shape, image, calibration, classes_for(names))
    for o in objects:
        annotations.add(
            AnnotatedObject(
                o.index + 1, o.class_name, o.mask, o.offset, score=o.score, source=o.source
            )
        )
    return annotations


def first_claim_labels(shape: tuple[int, int], objects: Sequence[CroppedMask]) -> np.ndarray:
    """uint16 label image, object i (0-based) = value i + 1; where objects overlap, a pixel
    belongs to the FIRST object that claims it."""
    if len(objects) > 65535:
        raise MatLensError(f"{len(objects)} objects do not fit a 16-bit label image")
    labels = np.zeros(shape, np.uint16)
    for value, obj in enumerate(objects, start=1):
        view = labels[obj.slices]
        view[obj.mask & (view == 0)] = value
    return labels
