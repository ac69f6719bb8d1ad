"""Camera directions for crystallographic views: along a, b, c or any [uvw] direction."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from inference.errors import MatLensError


@dataclass(frozen=True)
class ViewDirection:
    direction: np.ndarray  # unit vector the camera looks along (from the eye to the crystal)
    up: np.ndarray  # unit vector that points up on screen


def parse_uvw(text: str) -> tuple[float, float, float]:
    """'1 1 0', '[110]', '1,1,0' or '-1 0 2' → (u, v, w)."""
    cleaned = text.strip().strip("[]<>() ")
    if re.fullmatch(r"-?\d-?\d-?\d", cleaned):  # compact '110' or '1-10'
        parts = re.findall(r"-?\d", cleaned)
    else:
        parts = [p for p in re.split(r"[\s,;]+", cleaned) if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or not any(values):
        raise MatLensError(f"'{text}' is not a direction: give three numbers such as 1 1 0")
    return values  # type: ignore[return-value]


def along(lattice: np.ndarray, uvw: tuple[float, float, float]) -> ViewDirection:
    """Look along the lattice direction [uvw] (u·a + v·b + w·c), with c (or b) up on screen."""
    lattice = np.asarray(lattice, float)
    d = np.asarray(uvw, float) @ lattice
    norm = np.linalg.norm(d)
    if norm == 0:
        raise MatLensError("the direction [0 0 0] has no length")
    d /= norm
    for candidate in (lattice[2], lattice[1], lattice[0]):
        up = candidate - (candidate @ d) * d
        if np.linalg.norm(up) > 1e-3 * np.linalg.norm(candidate):
            return ViewDirection(d, up / np.linalg.norm(up))
    return ViewDirection(d, np.array([0.0, 1.0, 0.0]))


AXES = {"a": (1.0, 0.0, 0.0), "b": (0.0, 1.0, 0.0), "c": (0.0, 0.0, 1.0)}
