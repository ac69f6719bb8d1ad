"""Colour overlays for masks, in numpy, so the GUI only uploads finished pixels."""

from __future__ import annotations

import numpy as np

from inference.segmentation.annotations import AnnotationSet

CANDIDATE_COLOUR = (255, 0, 255)  # the mask under construction: magenta, unlike any class colour
SELECTION_COLOUR = (255, 255, 255)


def objects_rgba(annotations: AnnotationSet, alpha: int = 255) -> np.ndarray:
    """HxWx4 image: each visible object in its class colour, transparent elsewhere."""
    lut = np.zeros((len(annotations.classes) + 1, 4), dtype=np.uint8)
    for i, cls in enumerate(annotations.classes, start=1):
        lut[i] = (*cls.colour, alpha)
    return lut[annotations.class_image(visible_only=True)]


def crop_rgba(
    crop: np.ndarray, colour: tuple[int, int, int] = CANDIDATE_COLOUR, alpha: int = 255
) -> np.ndarray:
    """A cropped boolean mask as RGBA (the decoder already gives crops: no full image needed)."""
    rgba = np.zeros((*crop.shape, 4), dtype=np.uint8)
    rgba[crop] = (*colour, alpha)
    return rgba


def outline(crop: np.ndarray) -> np.ndarray:
    """The boundary pixels of a cropped mask (4-connected), to show which objects are selected."""
    padded = np.pad(crop, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2]
    inner &= padded[1:-1, 2:]
    return crop & ~inner
