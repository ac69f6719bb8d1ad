"""The annotations of one micrograph: classes, objects with cropped masks, and undoable edits.

Objects are immutable. Every edit of an `AnnotationSet` returns what the undo needs, so the Qt
pane can wrap each one in a QUndoCommand without copying the image-sized state:

    added = s.add(obj)                 undo: s.remove(added.id)
    index, gone = s.remove(obj_id)     undo: s.add(gone, index)
    before = s.replace(new_obj)        undo: s.replace(before)
    before = s.reclass(obj_id, name)   undo: s.replace(before)
    before = s.set_visible(obj_id, v)  undo: s.replace(before)

Overlap rule: objects may overlap. Wherever they do, the object later in `objects` wins in
`label_image()` and `class_image()` (it is drawn on top), and so in the exports and the phase
fractions. Per-object measurements use each object's own full mask. Automatic results are added
through `merging.merge_objects`, which keeps each pixel in at most one object per class.

The set also keeps the examples from which a phase map was made (`phase_examples`), so they are
saved with the annotations and a batch can repeat the phases by example.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from inference.imaging.calibration import Calibration
from inference.segmentation.data_bar import specimen_rows

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from inference.segmentation.geometry import Box, Point
    from inference.segmentation.saved_examples import SavedExample

RGB = tuple[int, int, int]

MAX_LABEL = 65535  # the largest id a 16-bit label image holds; larger ids need 32 bits


@dataclass(frozen=True)
class ObjectClass:
    """A kind of object in a micrograph and the colour it is drawn in."""

    name: str
    colour: RGB


# Okabe-Ito colours: distinguishable with the common forms of colour blindness.
_PALETTE: tuple[RGB, ...] = (
    (0, 114, 178),  # blue
    (230, 159, 0),  # orange
    (240, 228, 66),  # yellow
    (213, 94, 0),  # vermillion
    (0, 158, 115),  # bluish green
    (86, 180, 233),  # sky blue
    (204, 121, 167),  # reddish purple
    (0, 0, 0),  # black
)

DEFAULT_CLASSES: tuple[ObjectClass, ...] = (
    ObjectClass("grain", _PALETTE[0]),
    ObjectClass("precipitate", _PALETTE[1]),
    ObjectClass("pore", _PALETTE[2]),
    ObjectClass("crack", _PALETTE[3]),
    ObjectClass("matrix", _PALETTE[4]),
)


def next_colour(used: Iterable[RGB]) -> RGB:
    """A colour for a user-defined class: the first palette colour not yet taken."""
    taken = set(used)
    for colour in _PALETTE:
        if colour not in taken:
            return colour
    return _PALETTE[len(taken) % len(_PALETTE)]


@dataclass(frozen=True)
class ImageIdentity:
    """Which image the annotations belong to: its file name and the sha256 of its bytes."""

    file_name: str
    sha256: str

    @classmethod
    def of_file(cls, path: str | Path) -> ImageIdentity:
        """Hash the file in chunks (8k x 8k images are hundreds of MB; run it in a worker)."""
        path = Path(path)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return cls(path.name, digest.hexdigest())

    @classmethod
    def of_pixels(cls, file_name: str, pixels: np.ndarray) -> ImageIdentity:
        """For images that exist only in memory (a crop, a synthetic test image)."""
        pixels = np.ascontiguousarray(pixels)
        digest = hashlib.sha256(f"{pixels.dtype.str}{pixels.shape}".encode())
        digest.update(pixels.data)
        return cls(file_name, digest.hexdigest())


class CroppedMask:
    """Geometry of a boolean `mask` cropped to its box and placed at `offset` = (y0, x0)."""

    mask: np.ndarray
    offset: tuple[int, int]

    @property
    def slices(self) -> tuple[slice, slice]:
        """Where the cropped mask sits in the image: `image[obj.slices][obj.mask]`."""
        y0, x0 = self.offset
        return slice(y0, y0 + self.mask.shape[0]), slice(x0, x0 + self.mask.shape[1])

    @property
    def area(self) -> int:
        """Number of pixels."""
        return int(np.count_nonzero(self.mask))

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), half-open pixel bounds: x1 - x0 is the width in pixels."""
        y0, x0 = self.offset
        return x0, y0, x0 + self.mask.shape[1], y0 + self.mask.shape[0]


@dataclass(frozen=True, eq=False)
class AnnotatedObject(CroppedMask):
    """One object: a boolean mask cropped to its bounding box, placed at `offset` = (y0, x0).

    The mask is trimmed to its tight bounding box and made read-only, so objects can be shared
    between undo commands without copies. `eq=False`: two objects compare by identity; use
    `same_pixels()` to compare masks.
    """

    id: int
    class_name: str
    mask: np.ndarray
    offset: tuple[int, int] = (0, 0)
    score: float | None = None
    points: tuple[Point, ...] = ()
    box: Box | None = None
    visible: bool = True
    source: str = "brush"  # "sam", "brush", "auto", "import", ...

    def __post_init__(self) -> None:
        mask = np.asarray(self.mask)
        if mask.ndim != 2:
            raise ValueError(f"an object mask must be 2-D, not {mask.ndim}-D")
        if mask.dtype != np.bool_:
            mask = mask.astype(bool)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            raise ValueError(f"object {self.id} has no pixels")
        y0, x0 = int(self.offset[0]), int(self.offset[1])
        tight = rows[0] == 0 and cols[0] == 0
        tight = tight and rows[-1] == mask.shape[0] - 1 and cols[-1] == mask.shape[1] - 1
        if not tight:
            mask = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            y0, x0 = y0 + int(rows[0]), x0 + int(cols[0])
        if mask.flags.writeable:  # never share a buffer the caller may still change
            mask = mask.copy()
            mask.flags.writeable = False
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "offset", (y0, x0))
        object.__setattr__(self, "points", tuple(tuple(p) for p in self.points))
        if self.box is not None:
            object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        if self.score is not None:
            object.__setattr__(self, "score", float(self.score))

    @classmethod
    def from_full_mask(
        cls, full_mask: np.ndarray, id: int, class_name: str, **fields
    ) -> AnnotatedObject:
        """Crop an image-sized mask; raises ValueError when it is empty."""
        full_mask = np.asarray(full_mask, dtype=bool)
        rows, cols = np.flatnonzero(full_mask.any(axis=1)), np.flatnonzero(full_mask.any(axis=0))
        if rows.size == 0:
            raise ValueError(f"object {id} has no pixels")
        crop = full_mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        return cls(id, class_name, crop, (int(rows[0]), int(cols[0])), **fields)

    def full_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """The mask in image coordinates (allocates a full image: avoid in loops)."""
        out = np.zeros(shape, dtype=bool)
        out[self.slices] |= self.mask
        return out

    def contains(self, x: int, y: int) -> bool:
        y0, x0 = self.offset
        h, w = self.mask.shape
        return y0 <= y < y0 + h and x0 <= x < x0 + w and bool(self.mask[y - y0, x - x0])

    def same_pixels(self, other: AnnotatedObject) -> bool:
        return self.offset == other.offset and np.array_equal(self.mask, other.mask)

    def with_mask(self, mask: np.ndarray, offset: tuple[int, int]) -> AnnotatedObject:
        return dataclasses.replace(self, mask=mask, offset=offset)


def objects_from_labels(
    labels: np.ndarray, class_name: str, first_id: int = 1, **fields
) -> list[AnnotatedObject]:
    """One object per label value > 0, in label order, cropped without full-size copies."""
    from scipy import ndimage

    objects = []
    for value, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        crop = labels[found] == value
        offset = (found[0].start, found[1].start)
        objects.append(AnnotatedObject(first_id + len(objects), class_name, crop, offset, **fields))
    return objects


class AnnotationSet:
    """All annotations of one image. Mutable: edit it only through the methods below."""

    def __init__(
        self,
        shape: tuple[int, int],
        image: ImageIdentity,
        calibration: Calibration | None = None,
        classes: Iterable[ObjectClass] = DEFAULT_CLASSES,
        objects: Iterable[AnnotatedObject] = (),
        next_id: int = 1,
        phase_examples: Iterable[SavedExample] = (),
        *,
        data_bar_rows: int = 0,
    ) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.image = image
        self.calibration = calibration or Calibration()
        # The image's bottom rows that are a microscope's data bar (`Micrograph.data_bar_rows`):
        # a property of the image, like its shape, so it is not saved with the annotations.
        self.data_bar_rows = int(data_bar_rows)
        self.classes = list(classes)
        self._objects: list[AnnotatedObject] = []
        self._next_id = int(next_id)
        self.phase_examples: tuple[SavedExample, ...] = tuple(phase_examples)
        for obj in objects:
            self.add(obj)

    def __repr__(self) -> str:
        return (
            f"AnnotationSet({self.image.file_name!r}, shape={self.shape}, "
            f"{len(self._objects)} objects, {self.calibration})"
        )

    def copy(self) -> AnnotationSet:
        """A snapshot to save or export in a worker while the GUI goes on editing.

        Cheap: objects are immutable, so only the lists are copied.
        """
        twin = AnnotationSet(
            self.shape, self.image, self.calibration, self.classes, data_bar_rows=self.data_bar_rows
        )
        twin._objects = list(self._objects)
        twin._next_id = self._next_id
        twin.phase_examples = self.phase_examples
        return twin

    # --- reading -----------------------------------------------------------------------------
    @property
    def objects(self) -> tuple[AnnotatedObject, ...]:
        """In drawing order: later objects lie on top."""
        return tuple(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    @property
    def specimen_rows(self) -> int:
        """The rows above the data bar (all rows without one): the area that area fractions,
        number densities and the grain size are measured over."""
        return specimen_rows(self.shape[0], self.data_bar_rows)

    def __iter__(self) -> Iterator[AnnotatedObject]:
        return iter(tuple(self._objects))

    def get(self, obj_id: int) -> AnnotatedObject:
        return self._objects[self.index_of(obj_id)]

    def index_of(self, obj_id: int) -> int:
        for i, obj in enumerate(self._objects):
            if obj.id == obj_id:
                return i
        raise KeyError(f"no object with id {obj_id}")

    def object_at(self, x: int, y: int, visible_only: bool = True) -> AnnotatedObject | None:
        """The top-most object under a pixel (for selection by clicking)."""
        for obj in reversed(self._objects):
            if (obj.visible or not visible_only) and obj.contains(x, y):
                return obj
        return None

    def class_named(self, name: str) -> ObjectClass:
        for cls in self.classes:
            if cls.name == name:
                return cls
        raise KeyError(f"no class named '{name}'")

    def next_id(self) -> int:
        """The id for the next new object. Ids are never reused in a session, so undo is safe."""
        return self._next_id

    # --- edits: each returns what its undo needs ---------------------------------------------
    def add(self, obj: AnnotatedObject, index: int | None = None) -> AnnotatedObject:
        """Insert on top (or at `index`, to undo a remove). Returns the object."""
        self._check(obj)
        if any(o.id == obj.id for o in self._objects):
            raise ValueError(f"an object with id {obj.id} already exists")
        if index is None:
            self._objects.append(obj)
        else:
            self._objects.insert(index, obj)
        self._next_id = max(self._next_id, obj.id + 1)
        return obj

    def remove(self, obj_id: int) -> tuple[int, AnnotatedObject]:
        """Returns (position, object) so that `add(obj, position)` restores the drawing order."""
        index = self.index_of(obj_id)
        return index, self._objects.pop(index)

    def replace(self, new: AnnotatedObject) -> AnnotatedObject:
        """Swap in a new version of an object (same id, same place). Returns the old version."""
        self._check(new)
        index = self.index_of(new.id)
        old, self._objects[index] = self._objects[index], new
        return old

    def reclass(self, obj_id: int, class_name: str) -> AnnotatedObject:
        return self.replace(dataclasses.replace(self.get(obj_id), class_name=class_name))

    def set_visible(self, obj_id: int, visible: bool) -> AnnotatedObject:
        return self.replace(dataclasses.replace(self.get(obj_id), visible=visible))

    def set_phase_examples(self, examples: Iterable[SavedExample]) -> tuple[SavedExample, ...]:
        """Keep the examples a phase map was made from; returns the previous ones (for undo)."""
        before, self.phase_examples = self.phase_examples, tuple(examples)
        return before

    def add_class(self, name: str, colour: RGB | None = None) -> ObjectClass:
        """A user-defined class; the colour defaults to the first unused palette colour."""
        name = name.strip()
        if not name:
            raise ValueError("a class needs a name")
        if any(c.name == name for c in self.classes):
            raise ValueError(f"a class named '{name}' already exists")
        cls = ObjectClass(name, colour or next_colour(c.colour for c in self.classes))
        self.classes.append(cls)
        return cls

    def _check(self, obj: AnnotatedObject) -> None:
        if not any(c.name == obj.class_name for c in self.classes):
            raise ValueError(f"unknown class '{obj.class_name}'")
        x0, y0, x1, y1 = obj.bbox
        if x0 < 0 or y0 < 0 or y1 > self.shape[0] or x1 > self.shape[1]:
            raise ValueError(f"object {obj.id} lies outside the {self.shape} image")

    # --- rasters -----------------------------------------------------------------------------
    def label_image(
        self, values: Literal["id", "position"] = "id", visible_only: bool = False
    ) -> np.ndarray:
        """0 is background; each object is its id (or 1-based position). uint16, or uint32
        when a number exceeds MAX_LABEL.

        Later objects are painted over earlier ones (the overlap rule).
        """
        numbered = enumerate(self._objects, start=1)
        chosen = [(n, o) for n, o in numbered if o.visible or not visible_only]
        objects = [o for _, o in chosen]
        numbers = [n if values == "position" else o.id for n, o in chosen]
        dtype = np.uint32 if numbers and max(numbers) > MAX_LABEL else np.uint16
        return _paint(self.shape, objects, numbers, dtype)

    def class_image(self, visible_only: bool = False) -> np.ndarray:
        """uint8 image: 0 is background; class k of `classes` (1-based) elsewhere.

        Same overlap rule as `label_image`.
        """
        index = {c.name: i for i, c in enumerate(self.classes, start=1)}
        objects = [o for o in self._objects if o.visible or not visible_only]
        dtype = np.uint8 if len(self.classes) < 256 else np.uint16
        return _paint(self.shape, objects, [index[o.class_name] for o in objects], dtype)


def _paint(
    shape: tuple[int, int], objects: Sequence[AnnotatedObject], values: Sequence[int], dtype
) -> np.ndarray:
    out = np.zeros(shape, dtype=dtype)
    for obj, value in zip(objects, values, strict=True):
        out[obj.slices][obj.mask] = value
    return out


# --- brush and eraser --------------------------------------------------------------------------
def paint(
    obj: AnnotatedObject,
    centre_xy: tuple[float, float],
    radius: float,
    erase: bool,
    shape: tuple[int, int],
) -> AnnotatedObject | None:
    """A new version of `obj` with a disk added (brush) or removed (eraser).

    Returns None when the eraser leaves no pixel, so the caller removes the object instead.
    """
    return paint_stroke(obj, [centre_xy], radius, erase, shape)


def paint_stroke(
    obj: AnnotatedObject | None,
    path_xy: Sequence[tuple[float, float]],
    radius: float,
    erase: bool,
    shape: tuple[int, int],
    *,
    new_id: int | None = None,
    class_name: str | None = None,
) -> AnnotatedObject | None:
    """Apply a whole mouse stroke at once (one undo step), filling the gaps between samples.

    With `obj=None` the brush starts a new object with `new_id` and `class_name`.
    A pixel (row, col) is inside a disk when (col - x)² + (row - y)² <= radius².
    """
    radius = max(float(radius), 0.0)
    stroke = _stroke_mask(path_xy, radius, shape)
    if stroke is None:  # entirely outside the image
        return obj
    s_mask, (sy, sx) = stroke
    if obj is None:
        if erase:
            return None
        if new_id is None or class_name is None:
            raise ValueError("a new brush object needs an id and a class")
        return AnnotatedObject(new_id, class_name, s_mask, (sy, sx), source="brush")

    ox0, oy0, ox1, oy1 = obj.bbox
    sy1, sx1 = sy + s_mask.shape[0], sx + s_mask.shape[1]
    if erase:
        y0, x0, y1, x1 = max(oy0, sy), max(ox0, sx), min(oy1, sy1), min(ox1, sx1)
        if y0 >= y1 or x0 >= x1:
            return obj  # the eraser missed the object
        mask = obj.mask.copy()
        mask[y0 - oy0 : y1 - oy0, x0 - ox0 : x1 - ox0] &= ~s_mask[
            y0 - sy : y1 - sy, x0 - sx : x1 - sx
        ]
        if not mask.any():
            return None
        return obj.with_mask(mask, obj.offset)
    y0, x0, y1, x1 = min(oy0, sy), min(ox0, sx), max(oy1, sy1), max(ox1, sx1)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    mask[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] = obj.mask
    mask[sy - y0 : sy1 - y0, sx - x0 : sx1 - x0] |= s_mask
    return obj.with_mask(mask, (y0, x0))


def _stroke_mask(
    path_xy: Sequence[tuple[float, float]], radius: float, shape: tuple[int, int]
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """The pixels within `radius` of the polyline, cropped to the image: (mask, (y0, x0))."""
    pts = np.asarray(path_xy, dtype=float).reshape(-1, 2)
    if pts.size == 0:
        return None
    x0 = max(int(np.floor(pts[:, 0].min() - radius)), 0)
    y0 = max(int(np.floor(pts[:, 1].min() - radius)), 0)
    x1 = min(int(np.ceil(pts[:, 0].max() + radius)) + 1, shape[1])
    y1 = min(int(np.ceil(pts[:, 1].max() + radius)) + 1, shape[0])
    if x0 >= x1 or y0 >= y1:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    segments = zip(pts, pts[1:], strict=False) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in segments:
        # each segment is a capsule drawn in its own window, so fast strokes leave no gaps
        wx0 = max(int(np.floor(min(a[0], b[0]) - radius)), x0)
        wy0 = max(int(np.floor(min(a[1], b[1]) - radius)), y0)
        wx1 = min(int(np.ceil(max(a[0], b[0]) + radius)) + 1, x1)
        wy1 = min(int(np.ceil(max(a[1], b[1]) + radius)) + 1, y1)
        if wx0 >= wx1 or wy0 >= wy1:
            continue
        yy, xx = np.mgrid[wy0:wy1, wx0:wx1]
        dx, dy = b[0] - a[0], b[1] - a[1]
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else np.clip(((xx - a[0]) * dx + (yy - a[1]) * dy) / length2, 0, 1)
        inside = (xx - a[0] - t * dx) ** 2 + (yy - a[1] - t * dy) ** 2 <= radius * radius
        mask[wy0 - y0 : wy1 - y0, wx0 - x0 : wx1 - x0] |= inside
    if not mask.any():
        return None
    return mask, (y0, x0)
