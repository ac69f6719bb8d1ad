"""Pixel geometry shared by every segmentation module: prompt points, prompt boxes and whole-pixel
rectangles. One convention: x to the right, y down, and a box or rectangle is (x0, y0, x1, y1).

A crop's *offset* (the `offset` of a mask cut to its bounding box) is another thing: it is the
(row, column) = (y0, x0) where the crop starts, in numpy's index order, as `array[y0:, x0:]`.
"""

from __future__ import annotations

from typing import NamedTuple

Point = tuple[float, float, int]  # (x, y, label) in image pixels; label 1 object, 0 background
Box = tuple[float, float, float, float]  # a prompt box (x0, y0, x1, y1) in image pixels


class Rect(NamedTuple):
    """A rectangle of whole pixels (x0, y0, x1, y1), end exclusive: x1 - x0 is its width."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def of_crop(cls, offset: tuple[int, int], shape: tuple[int, ...]) -> Rect:
        """The rectangle a crop covers: `offset` (y0, x0) and the crop's (height, width)."""
        y0, x0 = int(offset[0]), int(offset[1])
        return cls(x0, y0, x0 + int(shape[1]), y0 + int(shape[0]))

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width), as numpy gives an array's."""
        return self.y1 - self.y0, self.x1 - self.x0

    @property
    def slices(self) -> tuple[slice, slice]:
        """`image[rect.slices]` is the part of the image inside the rectangle."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def intersection(self, other: Rect) -> Rect | None:
        """The common part, or None when the two do not overlap."""
        x0, y0 = max(self.x0, other.x0), max(self.y0, other.y0)
        x1, y1 = min(self.x1, other.x1), min(self.y1, other.y1)
        return Rect(x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None

    def holds(self, other: Rect) -> bool:
        """Whether `other` lies wholly inside this rectangle."""
        return (
            self.x0 <= other.x0
            and self.y0 <= other.y0
            and other.x1 <= self.x1
            and other.y1 <= self.y1
        )
