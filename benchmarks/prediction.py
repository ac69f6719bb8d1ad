"""CHGNet ONNX vs CHGNet torch on the alignn POSCARs, and the composition models' MAE table.

    .venv/bin/python benchmarks/prediction.py [--repeats 3] [--limit 70]

Prints: max |ΔE|, |ΔF|, |Δσ|, |Δm| between the two (same structures, same run), the float32
floor (torch float32 and ONNX against the same maths in float64), the time for all structures
one at a time and batched (ratio torch/ONNX), batch throughput for structures of ≤ 32 atoms
(with 1 and 2 threads, and CPU time per core, which the other processes on a busy machine
disturb less), and the 5-fold MAE of each composition model beside matbench's CrabNet and Dummy.
"""

from __future__ import annotations

import argparse
import glob
import time
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "structures" / "alignn_poscar"


def best_of(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def float64_energies(structures) -> np.ndarray:
    """Energy per atom from the exported maths run by torch in float64: the float32 floor."""
    import torch

    from inference.export.chgnet import INPUTS, load_chgnet, wrapper
    from inference.prediction.graph import batch_graphs, build_graph

    model = wrapper(load_chgnet()).double()
    out = []
    for s in structures:
        feeds = batch_graphs([build_graph(s)]).feeds
        args = [torch.from_numpy(feeds[n]) for n in INPUTS]
        args = [a.double() if a.is_floating_point() else a for a in args]
        out.append(float(model(*args)[0][0]))
    return np.array(out)


def chgnet_section(repeats: int, limit: int) -> None:
    import os

    from pymatgen.core import Structure

    from inference.prediction.graph import batch_graphs, build_graph
    from inference.prediction.potential import CPU_BATCH_ATOMS, OUTPUTS, Potential, _chunks

    warnings.filterwarnings("ignore")
    files = sorted(glob.glob(str(SHARED / "*.vasp")))[:limit]
    structures = [Structure.from_file(f) for f in files]
    pot = Potential()
    print(
        f"CHGNet 0.3.0 on {len(structures)} alignn structures "
        f"({min(map(len, structures))}-{max(map(len, structures))} atoms); "
        f"device: {pot.device.label}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (timings are noisy when it exceeds the core count)"
    )
    ours = pot.predict(structures)
    try:
        from chgnet.model.model import CHGNet
    except ImportError:
        print("  chgnet not installed: torch comparison skipped")
        return
    import torch

    model = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    ref = model.predict_structure(structures, task="efsm", batch_size=16)
    assert isinstance(ref, list)  # one prediction per structure of the list
    pairs = list(zip(ours, ref, strict=True))
    de = np.array([abs(r.energy_per_atom - float(q["e"])) for r, q in pairs])
    df = max(np.abs(r.forces - q["f"]).max() for r, q in pairs)
    ds = max(np.abs(r.stress - q["s"]).max() for r, q in pairs)
    dm = max(np.abs(r.magmoms - q["m"].ravel()).max() for r, q in pairs)
    worst = structures[int(de.argmax())]
    print(
        f"  parity (max over structures): dE {de.max():.2e} eV/atom "
        f"({worst.composition.reduced_formula}), dF {df:.2e} eV/Å, dσ {ds:.2e} GPa, "
        f"dm {dm:.2e} μB"
    )
    e64 = float64_energies(structures)
    e_torch = np.array([float(q["e"]) for q in ref])
    e_onnx = np.array([r.energy_per_atom for r in ours])
    print(
        f"  float32 floor: |E − float64| max {np.abs(e_torch - e64).max():.2e} eV/atom for "
        f"torch, {np.abs(e_onnx - e64).max():.2e} for ONNX"
    )
    print(
        f"  torch threads: {torch.get_num_threads()}; onnxruntime: 1 intra-op thread per run, "
        f"{pot.workers} runs at once (see potential.py)"
    )

    t_onnx1 = best_of(lambda: [pot.predict([s]) for s in structures], repeats)
    t_torch1 = best_of(
        lambda: [model.predict_structure(s, task="efsm") for s in structures], repeats
    )
    print(
        f"  one at a time: ONNX {t_onnx1:.2f} s, torch {t_torch1:.2f} s, "
        f"ratio {t_torch1 / t_onnx1:.1f}x"
    )
    t_onnxb = best_of(lambda: pot.predict(structures), repeats)
    t_torchb = best_of(
        lambda: model.predict_structure(structures, task="efsm", batch_size=16), repeats
    )
    print(
        f"  batched:       ONNX {t_onnxb:.2f} s, torch {t_torchb:.2f} s, "
        f"ratio {t_torchb / t_onnxb:.1f}x"
    )

    small = [s for s in structures if len(s) <= 32]
    t_graph = best_of(lambda: [build_graph(s) for s in small], repeats)
    graphs = [build_graph(s) for s in small]
    chunks = _chunks([g.n_atoms for g in graphs], CPU_BATCH_ATOMS)
    batches = [batch_graphs([graphs[i] for i in c]).feeds for c in chunks]
    t_net_cpu = best_of(
        lambda: [pot.model.run(b, OUTPUTS) for b in batches], repeats, time.process_time
    )
    print(
        f"  ≤32 atoms ({len(small)} structures, {CPU_BATCH_ATOMS}-atom runs): graph building "
        f"{t_graph * 1e3:.0f} ms, network {t_net_cpu * 1e3:.0f} ms CPU time on one core "
        f"({len(small) / t_net_cpu:.0f} structures/s per core)"
    )
    for workers in (1, 2):
        runner = Potential(workers=workers)
        t_wall = best_of(lambda r=runner: r.predict(small), repeats)
        print(
            f"    {workers} thread(s): {len(small) / t_wall:.0f} structures/s end to end "
            "(graph building included)"
        )


def composition_section() -> None:
    """The 5-fold table from the model cards (benchmarks/composition_models.py)."""
    import composition_models

    print()
    composition_models.main()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=70)
    args = parser.parse_args()
    chgnet_section(args.repeats, args.limit)
    composition_section()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
