"""Relax positions and cell with CHGNet-ONNX forces and stress (ASE FIRE + FrechetCellFilter).

ASE supplies the optimiser and the cell filter; the energies, forces and stresses come from
the ONNX session via `OnnxCalculator`. Progress is reported per step and Cancel is honoured
between steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.prediction.potential import GPA_TO_EV_A3, Potential, PotentialResult


def _calculator_class():
    from ase.calculators.calculator import Calculator, all_changes

    class OnnxCalculator(Calculator):
        """An ASE calculator backed by the CHGNet ONNX session."""

        implemented_properties = ["energy", "free_energy", "forces", "stress", "magmoms"]

        def __init__(self, potential: Potential, **kwargs):
            super().__init__(**kwargs)
            self.potential = potential
            self.last: PotentialResult | None = None

        def calculate(self, atoms=None, properties=None, system_changes=all_changes):
            from pymatgen.io.ase import AseAtomsAdaptor

            super().calculate(atoms, properties, system_changes)
            res = self.potential.predict_one(
                AseAtomsAdaptor.get_structure(self.atoms)  # pyright: ignore[reportArgumentType]
            )
            self.last = res
            # CHGNet's stress is (1/V) dE/dε in GPa, ASE's convention too: only the unit changes.
            s = res.stress * GPA_TO_EV_A3
            self.results = {
                "energy": res.energy,
                "free_energy": res.energy,
                "forces": res.forces,
                "stress": np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]),
                "magmoms": res.magmoms,
            }

    return OnnxCalculator


def calculator(potential: Potential):
    return _calculator_class()(potential)


@dataclass
class RelaxResult:
    """The relaxed structure and the trajectory of energy and max force per step."""

    structure: object  # pymatgen Structure
    final: PotentialResult
    energies: list[float] = field(default_factory=list)  # eV/atom per step
    max_forces: list[float] = field(default_factory=list)  # eV/Å per step
    converged: bool = False

    @property
    def steps(self) -> int:
        return len(self.energies)

    def to_json(self) -> dict:
        lat = self.structure.lattice  # pyright: ignore[reportAttributeAccessIssue]
        return {
            "converged": self.converged,
            "steps": self.steps,
            "energies_per_atom": [round(e, 6) for e in self.energies],
            "max_forces": [round(f, 6) for f in self.max_forces],
            "volume": round(lat.volume, 4),
            "lattice": np.round(lat.matrix, 6).tolist(),
            "final": self.final.to_json(),
        }


def relax(
    structure,
    potential: Potential,
    *,
    fmax: float = 0.05,
    steps: int = 300,
    relax_cell: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> RelaxResult:
    """FIRE until every force is below `fmax` eV/Å (and the stress, when the cell relaxes)."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(structure)
    calc = calculator(potential)
    atoms.calc = calc  # pyright: ignore[reportAttributeAccessIssue]
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    opt = FIRE(target, logfile=None)  # pyright: ignore[reportArgumentType]
    out = RelaxResult(structure=structure, final=potential.predict_one(structure))
    n = len(atoms)  # pyright: ignore[reportArgumentType]

    def record():
        if cancel is not None:
            cancel.raise_if_cancelled()
        res = calc.last
        if res is None:
            return
        out.energies.append(res.energy / n)
        out.max_forces.append(res.max_force)
        progress(
            min(0.99, len(out.energies) / steps),
            f"step {len(out.energies)}: "
            f"{out.energies[-1]:.4f} eV/atom, max force {res.max_force:.3f} eV/Å",
        )

    opt.attach(record, interval=1)
    out.converged = bool(opt.run(fmax=fmax, steps=steps))
    relaxed = AseAtomsAdaptor.get_structure(atoms)
    out.structure = relaxed
    out.final = potential.predict_one(relaxed)
    progress(1.0, "relaxed" if out.converged else f"stopped after {steps} steps")
    return out
