"""Equation of state: scale the cell, relax the atoms at each volume, fit Birch–Murnaghan.

pymatgen's EOS does the fit; the bulk modulus comes out in GPa.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    from inference.prediction.potential import Potential


@dataclass(frozen=True)
class EosResult:
    volumes: np.ndarray  # Å³/atom
    energies: np.ndarray  # eV/atom
    v0: float  # Å³/atom
    e0: float  # eV/atom
    bulk_modulus: float  # GPa
    b_prime: float
    fit_volumes: np.ndarray
    fit_energies: np.ndarray

    def to_json(self) -> dict:
        return {
            "volumes_per_atom": np.round(self.volumes, 5).tolist(),
            "energies_per_atom": np.round(self.energies, 6).tolist(),
            "v0_per_atom": round(self.v0, 5),
            "e0_per_atom": round(self.e0, 6),
            "bulk_modulus_gpa": round(self.bulk_modulus, 3),
            "b_prime": round(self.b_prime, 3),
            "units": {"volume": "Å³/atom", "energy": "eV/atom", "bulk_modulus": "GPa"},
        }


def equation_of_state(
    structure,
    potential: Potential,
    *,
    strain: float = 0.06,
    points: int = 9,
    relax_atoms: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> EosResult:
    """E(V) over ±`strain` linear strain; all cells in one batched run unless atoms relax."""
    from pymatgen.analysis.eos import EOS

    if points < 5:
        raise MatLensError("an equation of state needs at least 5 volumes")
    n = len(structure)
    scales = np.linspace(1 - strain, 1 + strain, points)
    cells = []
    for s in scales:
        cell = structure.copy()
        cell.scale_lattice(structure.volume * s**3)
        cells.append(cell)
    if relax_atoms:
        from inference.prediction.relax import relax

        energies = []
        for i, cell in enumerate(cells):
            res = relax(cell, potential, relax_cell=False, steps=100, cancel=cancel)
            energies.append(res.final.energy_per_atom)
            progress((i + 1) / points, f"{i + 1}/{points} volumes")
    else:
        progress(0.0, f"0/{points} volumes")
        results = potential.predict(
            cells,
            progress=lambda done, _text="": progress(
                done, f"{round(done * points)}/{points} volumes"
            ),
            cancel=cancel,
        )
        energies = [r.energy_per_atom for r in results]
    volumes = np.array([c.volume / n for c in cells])
    energies = np.array(energies)
    try:
        fit = EOS("birch_murnaghan").fit(volumes.tolist(), energies.tolist())
    except Exception as exc:  # noqa: BLE001 - a failed fit is a user-level message
        raise MatLensError(f"the E(V) fit failed ({exc}); try a smaller strain") from None
    grid = np.linspace(volumes.min(), volumes.max(), 100)
    return EosResult(
        volumes=volumes,
        energies=energies,
        v0=float(fit.v0),
        e0=float(fit.e0),
        bulk_modulus=float(fit.b0_GPa),
        b_prime=float(fit.b1),
        fit_volumes=grid,
        fit_energies=np.asarray(fit.func(grid)),
    )
