"""The examples a phase map was made from, as saved with the annotations and in a recipe.

An example is a class name and the points (x, y) in image pixels where the user clicked or
painted it. The JSON form is the one `matlens phases --examples` and batch recipes read:
`[{"class": "matrix", "points": [[x, y], ...]}, ...]`, so the examples saved with an image can
be put into a recipe as they are and a batch repeats the phases by example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


@dataclass(frozen=True)
class SavedExample:
    class_name: str
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", tuple((float(x), float(y)) for x, y in self.points))


def examples_to_json(examples: Iterable[SavedExample]) -> list[dict]:
    return [
        {"class": e.class_name, "points": [[x, y] for x, y in e.points]}
        for e in examples
        if e.points
    ]


def examples_from_json(data: object) -> tuple[SavedExample, ...]:
    """The inverse of `examples_to_json`; ValueError names what is wrong."""
    if not isinstance(data, list):
        raise ValueError("phase examples must be a list")
    out = []
    for i, entry in enumerate(data, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("class"), str):
            raise ValueError(f'phase example {i} has no "class" name')
        points = entry.get("points", [])
        if not isinstance(points, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 for p in points
        ):
            raise ValueError(f"the points of phase example {i} must be [[x, y], ...]")
        parsed = tuple((float(p[0]), float(p[1])) for p in points)
        if not all(math.isfinite(v) for p in parsed for v in p):
            raise ValueError(f"phase example {i} has a point that is not a number")
        out.append(SavedExample(entry["class"], parsed))
    return tuple(out)


def examples_by_class(
    points: Mapping[str, Sequence[tuple[float, float]]],
) -> tuple[SavedExample, ...]:
    """From the pane's {class: points} (classes without points left out)."""
    return tuple(SavedExample(name, tuple(pts)) for name, pts in points.items() if pts)
