"""Label images read back into annotations, so any segmentation can be measured.

Two readings of the pixel values:
- instances (the default): each value > 0 is one object, its id the value itself, so CSV rows
  can be matched with the label image (what `matlens segment --prompts` and the exports write);
- classes (`class_names` given): value k is the k-th class (what `matlens phases` writes), and
  each 8-connected region of a class becomes one object.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError, UnreadableFile
from inference.segmentation.annotations import (
    DEFAULT_CLASSES,
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
    ObjectClass,
    next_colour,
)
from inference.segmentation.phase_objects import phase_objects

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.imaging.calibration import Calibration


def read_label_image(path: str | Path) -> np.ndarray:
    """A single-channel integer image (PNG or TIFF, 8 or 16 bit), or one UnreadableFile line."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"label image not found: {path}")
    # The micrograph reader checks headers against the file and the size against the memory
    # left, and says what is wrong in one line (Pillow alone says "decompression bomb").
    from inference.imaging.io import read_micrograph

    labels = read_micrograph(path).data
    while labels.ndim > 2 and 1 in labels.shape:  # a 1 × H × W page, H × W × 1; keep 1 × 1
        labels = labels.squeeze(axis=labels.shape.index(1))
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise UnreadableFile(
            f"{path.name} is not a label image (one channel of integers, 0 = background); "
            f"it is {labels.dtype} with shape {labels.shape}"
        )
    if labels.dtype.kind == "i" and labels.size and int(labels.min()) < 0:
        # negative values were taken for background: a count of 0 objects without a word
        raise UnreadableFile(
            f"{path.name} has negative values (down to {int(labels.min())}): a label image "
            "holds 0 for the background and 1, 2, … for the objects"
        )
    return labels


def classes_for(names: Sequence[str]) -> list[ObjectClass]:
    """ObjectClasses for names: the default colour of a known class, else a free palette colour."""
    known = {c.name: c for c in DEFAULT_CLASSES}
    classes: list[ObjectClass] = []
    for name in dict.fromkeys(names):
        colour = known[name].colour if name in known else next_colour(c.colour for c in classes)
        classes.append(ObjectClass(name, colour))
    return classes


def annotations_from_labels(
    labels: np.ndarray,
    image: ImageIdentity,
    calibration: Calibration | None = None,
    class_name: str = "object",
    class_names: Sequence[str] | None = None,
) -> AnnotationSet:
    """Annotations from a label image: instances of `class_name`, or classes (`class_names`)."""
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "ui":
        raise MatLensError(f"a label image is 2-D integers, not {labels.dtype} {labels.shape}")
    if class_names is None:
        objects = _instances(labels, class_name)
        classes = classes_for([class_name])
    else:
        if not class_names:
            raise MatLensError("give at least one class name")
        top = int(labels.max())
        if top > len(class_names):
            raise MatLensError(
                f"the label image has class values up to {top} but only "
                f"{len(class_names)} class names were given"
            )
        objects = _regions(labels, class_names)
        classes = classes_for(class_names)
    return AnnotationSet(labels.shape, image, calibration, classes, objects)


def _instances(labels: np.ndarray, class_name: str) -> list[AnnotatedObject]:
    """One object per value, id = value (cropped, no full-size masks)."""
    from scipy import ndimage

    objects = []
    for value, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is not None:
            crop = labels[found] == value
            offset = (found[0].start, found[1].start)
            objects.append(AnnotatedObject(value, class_name, crop, offset, source="import"))
    return objects


def _regions(labels: np.ndarray, class_names: Sequence[str]) -> list[AnnotatedObject]:
    """Each 8-connected region of each class value becomes an object; ids run 1..N."""
    return list(phase_objects(labels, class_names, min_area_px=1, source="import").objects)
