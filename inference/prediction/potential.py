"""CHGNet through onnxruntime: energy per atom, forces, stress and magnetic moments, batched.

The graph is built in numpy (graph.py); the ONNX file holds CHGNet's network plus its
backward pass, so forces (−dE/dx) and stress (dE/dε / V) come out of one session run.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.prediction.graph import batch_graphs, build_graph

MODEL_ID = "chgnet"
OUTPUTS = ["energy_per_atom", "forces", "stress", "magmoms"]
LARGE_CELL_ATOMS = 2000  # above this, warn about memory (bonds grow ~60 per atom)
GPA_TO_EV_A3 = 1 / 160.21766208


@dataclass(frozen=True)
class PotentialResult:
    """CHGNet's outputs for one structure, in the units CHGNet reports."""

    formula: str
    n_atoms: int
    energy_per_atom: float  # eV/atom
    forces: np.ndarray  # [n, 3] eV/Å
    stress: np.ndarray  # [3, 3] GPa, (1/V) dE/dε (ASE's sign: negative under compression)
    magmoms: np.ndarray  # [n] μB, magnitudes

    @property
    def energy(self) -> float:
        return self.energy_per_atom * self.n_atoms

    @property
    def max_force(self) -> float:
        return float(np.linalg.norm(self.forces, axis=1).max()) if self.n_atoms else 0.0

    def to_json(self) -> dict:
        return {
            "formula": self.formula,
            "n_atoms": self.n_atoms,
            "energy_per_atom": float(self.energy_per_atom),
            "energy": float(self.energy),
            "forces": np.round(self.forces, 6).tolist(),
            "stress": np.round(self.stress, 6).tolist(),
            "magmoms": np.round(self.magmoms, 4).tolist(),
            "units": {
                "energy_per_atom": "eV/atom",
                "energy": "eV",
                "forces": "eV/Å",
                "stress": "GPa",
                "magmoms": "μB",
            },
        }


class Potential:
    """CHGNet 0.3.0 as an ONNX session; thread-safe, built once per process (`get_potential`)."""

    def __init__(self, path=None, *, prefer_gpu: bool = True) -> None:
        from inference.runtime.registry import require
        from inference.runtime.sessions import OnnxModel

        if path is None:
            path = require(MODEL_ID).path("model")
        # One CPU thread: onnxruntime's CPU ScatterND with reduction="add" races when several
        # threads hit the same row (measured: forces off by up to 0.1 eV/Å, run to run).
        self.model = OnnxModel(path, prefer_gpu=prefer_gpu, threads=1)

    @property
    def device(self):
        return self.model.device

    def predict(
        self,
        structures: Sequence,
        *,
        batch_atoms: int = 512,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[PotentialResult]:
        """Predict many structures, packing up to `batch_atoms` atoms into one session run."""
        graphs = [build_graph(s) for s in structures]
        results: list[PotentialResult] = []
        for chunk in _chunks([g.n_atoms for g in graphs], batch_atoms):
            if cancel is not None:
                cancel.raise_if_cancelled()
            batch = batch_graphs([graphs[i] for i in chunk])
            e, f, s, m = self.model.run(batch.feeds, OUTPUTS)
            splits = np.cumsum(batch.atoms_per_graph)[:-1]
            for k, (i, forces, mag) in enumerate(
                zip(chunk, np.split(f, splits), np.split(m, splits), strict=True)
            ):
                results.append(
                    PotentialResult(
                        formula=structures[i].composition.reduced_formula,
                        n_atoms=len(structures[i]),
                        energy_per_atom=float(e[k]),
                        forces=forces.astype(np.float64),
                        stress=s[k].astype(np.float64),
                        magmoms=mag.astype(np.float64),
                    )
                )
            progress(len(results) / len(graphs), f"{len(results)}/{len(graphs)} structures")
        return results

    def predict_one(self, structure) -> PotentialResult:
        return self.predict([structure])[0]


def _chunks(sizes: list[int], limit: int) -> list[list[int]]:
    """Group consecutive structures so that each group has at most `limit` atoms (or one)."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i, n in enumerate(sizes):
        if current and total + n > limit:
            groups.append(current)
            current, total = [], 0
        current.append(i)
        total += n
    if current:
        groups.append(current)
    return groups


def memory_warning(structure) -> str:
    """A one-line warning for cells large enough to strain memory; empty otherwise."""
    n = len(structure)
    if n <= LARGE_CELL_ATOMS:
        return ""
    gib = n * 60 * 3 * 64 * 4 * 12 / 2**30  # bonds × angles per bond × features × bytes
    return (
        f"{n} atoms: CHGNet may need ~{gib:.0f} GiB of memory; it falls back to the CPU on GPU OOM"
    )


@functools.cache
def get_potential() -> Potential:
    """The process-wide CHGNet session (sessions are expensive; runs are thread-safe)."""
    return Potential()


def check_size(structure, max_atoms: int = 20000) -> None:
    if len(structure) > max_atoms:
        raise MatLensError(
            f"{len(structure)} atoms is more than CHGNet can handle here (limit {max_atoms})"
        )
