"""Which atoms a person can see from a camera: the ones that get a label.

An atom counts as seen when the sight line through its centre (where its label is drawn) meets
its own sphere before any other: a label on an atom behind another would sit on the front
sphere and name the wrong atom. The test is exact ray–sphere geometry in numpy, as picking is
(`picking.pick_atom`), so it is the same on screen, offscreen and in a picture exported at three
times the window size. VTK's z-buffer test (vtkSelectVisiblePoints) reads the depth of the
tile being drawn: a NaCl 2×2×2 picture exported at 3× kept 2 of its 107 labels. It would also
let an atom's own bond, where it points at the camera, hide the atom's label. Bonds are thin
and belong to the atoms they join, so only spheres hide an atom here; translucent polyhedra
hide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAME_DEPTH = 1e-6  # Å: two spheres that coincide; the lower index keeps the label


@dataclass(frozen=True)
class Eye:
    """Where the camera is and where it looks. `parallel`: an orthographic view, whose sight
    lines all run along `direction`; otherwise they start at `position` (perspective)."""

    position: tuple[float, float, float]
    direction: tuple[float, float, float]  # from the camera toward the scene
    parallel: bool = True


def atoms_in_sight(
    positions: np.ndarray, radii: np.ndarray, eye: Eye, among: np.ndarray | None = None
) -> np.ndarray:
    """Indices (from `among`, default all atoms) of the atoms whose own sphere is the first one
    the sight line through their centre meets, in the order of `among`."""
    positions = np.asarray(positions, float)
    radii = np.asarray(radii, float)
    among = np.arange(len(positions)) if among is None else np.asarray(among, np.int64)
    if len(among) == 0 or len(positions) == 0:
        return among[:0]
    origins, directions, keys, key_radius, can_hide = _sight_lines(positions, radii, eye, among)
    from scipy.spatial import KDTree

    # Each atom's possible occluders: spheres whose projection (a disc in the picture) could
    # cover its centre; the exact ray–sphere test below decides.
    nearby = KDTree(keys).query_ball_point(keys[among], key_radius)
    counts = np.fromiter((len(n) for n in nearby), np.int64, len(among))
    which = np.repeat(np.arange(len(among)), counts)  # position in `among`
    other = np.fromiter((j for n in nearby for j in n), np.int64, int(counts.sum()))
    own = among[which]
    keep = other != own
    which, own, other = which[keep], own[keep], other[keep]

    d = directions[which]
    to_other = positions[other] - origins[which]
    along = np.einsum("ij,ij->i", to_other, d)
    miss2 = np.einsum("ij,ij->i", to_other, to_other) - along**2
    hit = (miss2 <= radii[other] ** 2) & (along > 0) & can_hide[other]
    entry_other = along - np.sqrt(np.clip(radii[other] ** 2 - miss2, 0, None))
    to_own = positions[own] - origins[which]
    entry_own = np.einsum("ij,ij->i", to_own, d) - radii[own]
    in_front = entry_other < entry_own - SAME_DEPTH
    tie = (np.abs(entry_other - entry_own) <= SAME_DEPTH) & (other < own)
    hidden = np.zeros(len(among), bool)
    hidden[which[hit & (in_front | tie)]] = True
    return among[~hidden]


def _sight_lines(positions, radii, eye: Eye, among):
    """Per atom of `among`: the sight line's origin and unit direction. Per atom: a point in a
    space where a sphere covers another's centre only within `key_radius` of it, and whether
    it can hide anything."""
    look = np.asarray(eye.direction, float)
    look = look / np.linalg.norm(look)
    if eye.parallel:
        # Picture coordinates: the positions with their depth along `look` removed.
        depth = positions @ look
        keys = positions - depth[:, None] * look
        start = depth.min() - 2 * radii.max() - 1.0  # behind every sphere
        origins = keys[among] + start * look
        directions = np.broadcast_to(look, (len(among), 3))
        return origins, directions, keys, float(radii.max()), np.ones(len(positions), bool)
    # Perspective: directions from the eye, as unit vectors; a sphere at distance D covers the
    # directions within asin(r / D) of its centre's (a chord of 2·sin(angle / 2)).
    eye_at = np.asarray(eye.position, float)
    offsets = positions - eye_at
    distance = np.linalg.norm(offsets, axis=1)
    keys = offsets / np.where(distance > 0, distance, 1.0)[:, None]
    outside = distance > radii  # a sphere around the eye is not drawn whole: it hides nothing
    angle = np.arcsin(np.clip(radii / np.where(outside, distance, np.inf), 0, 1))
    chord = float(2 * np.sin(angle.max() / 2)) if len(angle) else 0.0
    origins = np.broadcast_to(eye_at, (len(among), 3))
    return origins, keys[among], keys, chord, outside
