"""CHGNet through onnxruntime: energy per atom, forces, stress and magnetic moments, batched.

The graph is built in numpy (graph.py); the ONNX file holds CHGNet's network plus its
backward pass, so forces (−dE/dx) and stress (dE/dε / V) come out of one session run.

Several cores are used by running single-threaded session runs on disjoint chunks of a batch at
the same time, not by onnxruntime's intra-op threads: its CPU ScatterND(reduction="add") races
when several threads add into one row (measured: forces off by up to 0.1 eV/Å run to run). One
thread per run keeps every output bit-identical run to run.
"""

from __future__ import annotations

import contextlib
import functools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.prediction.graph import batch_graphs, build_graph

if TYPE_CHECKING:
    from collections.abc import Sequence

MODEL_ID = "chgnet"
OUTPUTS = ["energy_per_atom", "forces", "stress", "magmoms"]
CPU_BATCH_ATOMS = 24  # per run: small tensors stay in cache, and 2 workers share the load evenly
GPU_BATCH_ATOMS = 512
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

    def __init__(self, path=None, *, prefer_gpu: bool = True, workers: int | None = None) -> None:
        from inference.runtime.registry import require
        from inference.runtime.sessions import OnnxModel, cpu_threads

        if path is None:
            path = require(MODEL_ID).path("model")
        # One intra-op thread per run (see the module docstring); `workers` runs at once instead.
        # Full float32 on the GPU: energies must match the CPU's within 1e-4 eV/atom, which
        # TF32 products (the CUDA provider's default) do not promise.
        self.model = OnnxModel(path, prefer_gpu=prefer_gpu, threads=1, tf32=False)
        self.workers = 1 if self.model.device.is_gpu else max(1, workers or cpu_threads())

    @property
    def device(self):
        return self.model.device

    def predict(
        self,
        structures: Sequence,
        *,
        batch_atoms: int | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[PotentialResult]:
        """Predict many structures, packing up to `batch_atoms` atoms into one session run."""
        if batch_atoms is None:
            batch_atoms = GPU_BATCH_ATOMS if self.device.is_gpu else CPU_BATCH_ATOMS
        sizes = [len(s) for s in structures]
        # Small inputs are still shared out: a chunk closes at its share of the atoms.
        share = math.ceil(sum(sizes) / self.workers) + max(sizes, default=1) - 1
        chunks = _chunks(sizes, min(batch_atoms, share))
        workers = min(self.workers, len(chunks))

        def run(chunk: list[int]) -> list[PotentialResult]:
            if cancel is not None:
                cancel.raise_if_cancelled()
            # graphs are built in the workers too (a bad structure raises its one-line error here)
            batch = batch_graphs([build_graph(structures[i]) for i in chunk])
            return _results(structures, chunk, batch, self.model.run(batch.feeds, OUTPUTS))

        results: list[PotentialResult] = []
        # Chunks go to whichever worker is free; map() keeps them in input order.
        with ThreadPoolExecutor(workers) if workers > 1 else contextlib.nullcontext() as pool:
            for done in (pool.map if pool is not None else map)(run, chunks):
                results.extend(done)
                progress(len(results) / len(sizes), f"{len(results)}/{len(sizes)} structures")
        return results

    def predict_one(self, structure) -> PotentialResult:
        return self.predict([structure])[0]


def _results(structures, chunk, batch, outputs) -> list[PotentialResult]:
    """Split one session run's outputs back into per-structure results."""
    e, f, s, m = outputs
    splits = np.cumsum(batch.atoms_per_graph)[:-1]
    return [
        PotentialResult(
            formula=structures[i].composition.reduced_formula,
            n_atoms=len(structures[i]),
            energy_per_atom=float(e[k]),
            forces=forces.astype(np.float64),
            stress=s[k].astype(np.float64),
            magmoms=mag.astype(np.float64),
        )
        for k, (i, forces, mag) in enumerate(
            zip(chunk, np.split(f, splits), np.split(m, splits), strict=True)
        )
    ]


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


# Peak memory of one CHGNet run grows with the bonds (5 Å) and the angles between bonds within
# 3 Å, counted here from the cell's density. Measured peaks (2 CPU threads): NaCl 1000 atoms
# 0.89 GB, NaCl 4096 atoms 3.3 GB, Cu 2048 atoms 5.6 GB; the fit below gives those within a few
# percent and carries a 25 % margin.
BYTES_PER_BOND = int(1.25 * 1.8e3)
BYTES_PER_ANGLE = int(1.25 * 27.5e3)
BASE_BYTES = 900 * 2**20  # the process with CHGNet loaded
MEMORY_LIMIT_BYTES = 4 * 2**30  # what one prediction may use, whatever the machine has


def estimated_memory(n_atoms: int, volume: float) -> int:
    """Bytes one CHGNet run on a cell of `n_atoms` in `volume` Å³ needs (about)."""
    density = n_atoms / max(volume, 1e-9)
    bonds = min(n_atoms - 1, density * 4.19 * 5.0**3)
    near = min(n_atoms - 1, density * 4.19 * 3.0**3)
    per_atom = BYTES_PER_BOND * bonds + BYTES_PER_ANGLE * near * max(near - 1, 0)
    return int(BASE_BYTES + n_atoms * per_atom)


def memory_budget() -> int:
    """The smaller of 4 GiB and what the machine has free (Linux: MemAvailable)."""
    budget = MEMORY_LIMIT_BYTES
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                budget = min(budget, int(line.split()[1]) * 1024)
    return budget


def check_memory(structure, budget: int | None = None) -> None:
    """Refuse, before any graph is built, a cell whose run would not fit in memory."""
    budget = memory_budget() if budget is None else budget
    n, volume = len(structure), float(structure.volume)
    need = estimated_memory(n, volume)
    if need <= budget:
        return
    fits = n
    while fits > 1 and estimated_memory(fits, volume * fits / n) > budget:
        fits = int(fits * 0.9)
    raise MatLensError(
        f"{n} atoms would need about {need / 2**30:.1f} GiB for CHGNet, more than the "
        f"{budget / 2**30:.1f} GiB allowed; a cell of this density can have at most about "
        f"{fits} atoms (use a smaller supercell)"
    )


def memory_warning(structure) -> str:
    """A one-line note for cells that will take a while; empty otherwise."""
    n = len(structure)
    if n <= LARGE_CELL_ATOMS:
        return ""
    gib = estimated_memory(n, float(structure.volume)) / 2**30
    return f"{n} atoms: CHGNet needs about {gib:.1f} GiB of memory and a while to run"


@functools.cache
def get_potential() -> Potential:
    """The process-wide CHGNet session (sessions are expensive; runs are thread-safe)."""
    return Potential()


def check_size(structure, max_atoms: int = 20000) -> None:
    if len(structure) > max_atoms:
        raise MatLensError(
            f"{len(structure)} atoms is more than CHGNet can handle here (limit {max_atoms})"
        )
