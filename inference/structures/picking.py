"""Picking atoms and measuring between them, in plain geometry (no renderer needed).

Picking is a ray–sphere test over every drawn atom in numpy: exact for impostor spheres (which
GPU pickers handle poorly), the same offscreen and on screen, and fast for 10⁵ atoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from inference.structures.analysis import StructureInfo
    from inference.structures.scene import Scene


def pick_atom(
    origin: np.ndarray, direction: np.ndarray, positions: np.ndarray, radii: np.ndarray
) -> int | None:
    """Index of the first sphere hit by the ray origin + t·direction (t ≥ 0), or None."""
    if len(positions) == 0:
        return None
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    oc = positions - np.asarray(origin, float)
    along = oc @ d
    closest2 = np.einsum("ij,ij->i", oc, oc) - along**2
    r2 = np.asarray(radii, float) ** 2
    hit = closest2 <= r2
    if not hit.any():
        return None
    entry = along - np.sqrt(np.clip(r2 - closest2, 0, None))
    entry = np.where(hit & (along >= 0), entry, np.inf)
    best = int(np.argmin(entry))
    return best if np.isfinite(entry[best]) else None


@dataclass(frozen=True)
class AtomPick:
    index: int
    element: str  # species text: "Na", or "Fe0.5Ni0.5" on a mixed site
    label: str  # "Na1"
    site: int
    frac: tuple[float, float, float]  # in the unit cell's axes (a copy in cell 1,0,0 has x ≥ 1)
    wyckoff: str

    def text(self) -> str:
        x, y, z = (_four_places(v) for v in self.frac)
        where = f", Wyckoff {self.wyckoff}" if self.wyckoff else ""
        return f"{self.element} — site {self.label} (#{self.site + 1}{where}) at ({x}, {y}, {z})"


def _four_places(value: float) -> str:
    """'0.0000' for the -1e-17 the inverse cell leaves on a cell edge, never '-0.0000'."""
    return f"{round(value, 4) + 0.0:.4f}"


def describe_atom(scene: Scene, info: StructureInfo | None, index: int) -> AtomPick:
    site = int(scene.atoms.site[index])
    frac = np.asarray(scene.atoms.positions[index]) @ np.linalg.inv(scene.lattice)
    wyckoff = info.sites[site].wyckoff if info is not None and site < len(info.sites) else ""
    return AtomPick(
        index=index,
        element=scene.atom_species(index),
        label=scene.atom_name(index),
        site=site,
        frac=(float(frac[0]), float(frac[1]), float(frac[2])),
        wyckoff=wyckoff,
    )


@dataclass(frozen=True)
class Measurement:
    atoms: tuple[int, ...]
    value: float  # Å for a distance, degrees for an angle
    kind: str  # "distance" or "angle"
    text: str


def measure(scene: Scene, indices: list[int] | tuple[int, ...]) -> Measurement | None:
    """Distance for two picked atoms, the angle at the middle one for three."""
    indices = tuple(int(i) for i in indices)
    p = scene.atoms.positions
    names = [scene.atom_name(i) for i in indices]
    if len(indices) == 2:
        value = float(np.linalg.norm(p[indices[1]] - p[indices[0]]))
        return Measurement(indices, value, "distance", f"{names[0]}–{names[1]}: {value:.4f} Å")
    if len(indices) == 3:
        u = p[indices[0]] - p[indices[1]]
        v = p[indices[2]] - p[indices[1]]
        norm = np.linalg.norm(u) * np.linalg.norm(v)
        if norm == 0:
            return None
        value = float(np.degrees(np.arccos(np.clip(u @ v / norm, -1.0, 1.0))))
        return Measurement(indices, value, "angle", f"{'–'.join(names)}: {value:.2f}°")
    return None
