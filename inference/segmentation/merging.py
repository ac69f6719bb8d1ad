"""Adding automatic results (segment everything, a map, phases) to annotations without
duplicating the objects that are already there.

One rule for every automatic tool: within a class, each pixel belongs to at most one object.

Policy "keep" (the default): existing objects stay as they are and only what is new is added.
A new mask is compared with the existing objects of its class and with the new masks accepted
before it (in the order given: segment everything gives the best predicted IoU first):
- if at least `duplicate_fraction` (default 50 %) of its pixels are taken already, it is the
  same object found again and is dropped;
- if fewer are taken, it is clipped: it gives up the taken pixels, and the pieces of it left
  smaller than `min_piece_px` (default 10 px, slivers along an existing outline) go too; a mask
  with nothing left is dropped.
Policy "replace": the existing objects of the classes the new masks belong to are removed, and
the new masks are added under the same rule among themselves.

With `across_classes=True` the rule holds across classes as well (each pixel in at most one
object of any class), which suits a phase map, where every pixel has one phase: a clicked
precipitate then keeps its pixels when a "matrix" region from the map overlaps it.

The thresholds are stated choices, not fitted values: half an object's area is where "mostly
the same object" starts, and 10 px is below any object a person would click.

Pure: nothing is changed. The pane turns a `MergeResult` into one undoable step (remove
`removed`, add `added`); scripts and tests call `apply_merge`. Work is per object crop, so a
16000 × 16000 image costs no image-sized array.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, cast

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from inference.segmentation.annotations import AnnotatedObject, AnnotationSet

Policy = Literal["keep", "replace"]
POLICIES: tuple[Policy, ...] = ("keep", "replace")
DUPLICATE_FRACTION = 0.5
MIN_PIECE_PX = 10

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class MergeResult:
    """What merging automatic masks into annotations gives: apply it as one step."""

    added: tuple[AnnotatedObject, ...]  # new objects, numbered from the set's next id
    removed: tuple[AnnotatedObject, ...]  # existing objects that "replace" takes out
    dropped: int  # new masks left out as duplicates (mostly covered, or nothing left)
    clipped: int  # new masks that gave up pixels another object of the class had
    policy: Policy
    duplicate_fraction: float

    @property
    def message(self) -> str:
        """One line for the status bar."""
        parts = [f"added {len(self.added)}"]
        if self.removed:
            parts.append(f"replaced {len(self.removed)}")
        if self.dropped:
            parts.append(f"{self.dropped} already there (left out)")
        if self.clipped:
            parts.append(f"{self.clipped} trimmed where they overlapped")
        return ", ".join(parts)


def merge_objects(
    annotations: AnnotationSet,
    new_objects: Iterable[AnnotatedObject],
    policy: Policy = "keep",
    duplicate_fraction: float = DUPLICATE_FRACTION,
    min_piece_px: int = MIN_PIECE_PX,
    across_classes: bool = False,
    first_id: int | None = None,
    supersedes: str = "",
) -> MergeResult:
    """The objects to add (and, for "replace", to remove) so that `new_objects` join
    `annotations` under the rule in the module docstring. Ids and the new objects' own ids are
    ignored: the added objects are numbered from `first_id` (default: the set's next id).
    `supersedes`: a tool's source ("phases") whose earlier objects the new ones replace under
    either policy, a new result of the same tool (from corrected examples) being its update."""
    if policy not in POLICIES:
        raise ValueError(f"merge policy is 'keep' or 'replace', not '{policy}'")
    if not 0 < duplicate_fraction <= 1:
        raise ValueError("duplicate_fraction must be in (0, 1]")
    new = list(new_objects)
    new_classes = {o.class_name for o in new}
    existing = annotations.objects
    removed = tuple(
        o
        for o in existing
        if (policy == "replace" and o.class_name in new_classes)
        or (supersedes and o.source == supersedes)
    )
    gone = {id(o) for o in removed}
    taken = _Occupancy([o for o in existing if id(o) not in gone], across_classes)
    next_id = annotations.next_id() if first_id is None else int(first_id)
    added: list[AnnotatedObject] = []
    dropped = clipped = 0
    for obj in new:
        covered = taken.covered(obj)
        n_covered = int(np.count_nonzero(covered)) if covered is not None else 0
        if n_covered == 0:
            kept: AnnotatedObject | None = replace(obj, id=next_id)
        elif n_covered >= duplicate_fraction * obj.area:
            kept = None
        else:
            assert covered is not None
            rest = _without_specks(obj.mask & ~covered, min_piece_px)
            kept = replace(obj, id=next_id, mask=rest) if rest.any() else None
            clipped += kept is not None
        if kept is None:
            dropped += 1
            continue
        added.append(kept)
        taken.add(kept)
        next_id += 1
    return MergeResult(tuple(added), removed, dropped, clipped, policy, duplicate_fraction)


def duplicate_note(annotations: AnnotationSet, obj: AnnotatedObject) -> str | None:
    """One line when a clicked object (not merged: the person chose it) is mostly, by the
    automatic tools' `DUPLICATE_FRACTION`, pixels that other objects of its class already hold:
    the same precipitate accepted twice is counted twice."""
    others = [o for o in annotations.objects if o.id != obj.id]
    covered = _Occupancy(others, across_classes=False).covered(obj)
    share = np.count_nonzero(covered) / max(obj.area, 1) if covered is not None else 0.0
    if share < DUPLICATE_FRACTION:
        return None
    return (
        f"#{obj.id} lies {share:.0%} inside other {obj.class_name} objects: it is counted "
        "again (Ctrl+Z takes it back)"
    )


def apply_merge(annotations: AnnotationSet, result: MergeResult) -> None:
    """Carry out a merge on the set (the pane does the same through its undo stack)."""
    for obj in result.removed:
        annotations.remove(obj.id)
    for obj in result.added:
        annotations.add(obj)


class _Occupancy:
    """The objects whose pixels are taken, found by bounding box."""

    def __init__(self, objects: Sequence[AnnotatedObject], across_classes: bool) -> None:
        self.across_classes = across_classes
        self.objects: list[AnnotatedObject] = list(objects)
        self.boxes = [o.bbox for o in self.objects]
        self._array: np.ndarray | None = None

    def add(self, obj: AnnotatedObject) -> None:
        self.objects.append(obj)
        self.boxes.append(obj.bbox)
        self._array = None

    def covered(self, obj: AnnotatedObject) -> np.ndarray | None:
        """Which pixels of `obj`'s crop another object (of its class) holds; None if none."""
        if not self.objects:
            return None
        if self._array is None or len(self._array) != len(self.boxes):
            self._array = np.asarray(self.boxes, dtype=np.int64).reshape(-1, 4)
        b = self._array
        x0, y0, x1, y1 = obj.bbox
        hits = np.flatnonzero((b[:, 0] < x1) & (b[:, 2] > x0) & (b[:, 1] < y1) & (b[:, 3] > y0))
        covered = None
        for k in hits:
            other = self.objects[k]
            if not self.across_classes and other.class_name != obj.class_name:
                continue
            ox0, oy0, ox1, oy1 = other.bbox
            wx0, wy0, wx1, wy1 = max(x0, ox0), max(y0, oy0), min(x1, ox1), min(y1, oy1)
            part = other.mask[wy0 - oy0 : wy1 - oy0, wx0 - ox0 : wx1 - ox0]
            if not part.any():
                continue
            if covered is None:
                covered = np.zeros(obj.mask.shape, dtype=bool)
            covered[wy0 - y0 : wy1 - y0, wx0 - x0 : wx1 - x0] |= part
        return None if covered is None else covered & obj.mask


def _without_specks(mask: np.ndarray, min_px: int) -> np.ndarray:
    """The mask without its 8-connected pieces smaller than `min_px`."""
    from scipy import ndimage

    if min_px <= 1:
        return mask
    pieces, n = cast("tuple[np.ndarray, int]", ndimage.label(mask, structure=_EIGHT))
    if n == 0:
        return mask
    sizes = np.bincount(pieces.ravel(), minlength=n + 1)
    small = sizes < min_px
    small[0] = True
    return ~small[pieces]
