"""CHGNet ONNX vs CHGNet torch on the alignn POSCARs, and the composition models' MAE table.

    .venv/bin/python benchmarks/prediction.py [--repeats 3] [--limit 70]

Prints: max |ΔE|, |ΔF|, |Δσ|, |Δm| between the two (same structures, same run), the time for
all structures one at a time and batched (ratio torch/ONNX), batch throughput for structures
of ≤ 32 atoms (graph building included and excluded), and the 5-fold MAE of each composition
model beside matbench's CrabNet and Dummy.
"""

from __future__ import annotations

import argparse
import glob
import time
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "structures" / "alignn_poscar"


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def chgnet_section(repeats: int, limit: int) -> None:
    from pymatgen.core import Structure

    from inference.prediction.graph import batch_graphs, build_graph
    from inference.prediction.potential import OUTPUTS, Potential

    warnings.filterwarnings("ignore")
    files = sorted(glob.glob(str(SHARED / "*.vasp")))[:limit]
    structures = [Structure.from_file(f) for f in files]
    pot = Potential()
    print(
        f"CHGNet 0.3.0 on {len(structures)} alignn structures "
        f"({min(map(len, structures))}-{max(map(len, structures))} atoms); "
        f"device: {pot.device.label}"
    )
    ours = pot.predict(structures)
    try:
        from chgnet.model import CHGNet
    except ImportError:
        print("  chgnet not installed: torch comparison skipped")
        return
    import torch

    model = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    ref = model.predict_structure(structures, task="efsm", batch_size=16)
    de = max(abs(r.energy_per_atom - float(q["e"])) for r, q in zip(ours, ref, strict=True))
    df = max(np.abs(r.forces - q["f"]).max() for r, q in zip(ours, ref, strict=True))
    ds = max(np.abs(r.stress - q["s"]).max() for r, q in zip(ours, ref, strict=True))
    dm = max(np.abs(r.magmoms - q["m"].ravel()).max() for r, q in zip(ours, ref, strict=True))
    print(
        f"  parity (max over structures): dE {de:.2e} eV/atom, dF {df:.2e} eV/Å, "
        f"dσ {ds:.2e} GPa, dm {dm:.2e} μB"
    )
    print(f"  torch threads: {torch.get_num_threads()}; onnxruntime: 1 thread (see potential.py)")

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
    t_all = best_of(lambda: pot.predict(small, batch_atoms=1024), repeats)
    graphs = [build_graph(s) for s in small]
    t_graph = best_of(lambda: [build_graph(s) for s in small], repeats)
    batch = batch_graphs(graphs)
    t_net = best_of(lambda: pot.model.run(batch.feeds, OUTPUTS), repeats)
    print(
        f"  ≤32 atoms ({len(small)} structures): {len(small) / t_all:.0f} structures/s end to "
        f"end, {len(small) / t_net:.0f}/s network only (graph building {t_graph:.2f} s)"
    )


def composition_section() -> None:
    from inference.prediction.composition import composition_cards

    cards = composition_cards()
    if not cards:
        print("composition models: none trained")
        return
    print(
        "\nComposition models, 5-fold MAE on crabnet 2.0.8's matbench_cv splits "
        "(matbench columns: official leaderboard folds)"
    )
    print(f"  {'task':28s} {'ours':>16s} {'CrabNet':>9s} {'RF-Magpie':>10s} {'Dummy':>8s}  unit")
    for c in cards:
        x = c.extra
        ours = f"{x['mae']:.4g} ± {np.std(x['fold_mae']):.2g}"
        print(
            f"  {x['splits'].split('/')[-1].split(' ')[0]:28s} {ours:>16s} "
            f"{x.get('crabnet_mae_matbench') or '-'!s:>9s} "
            f"{x.get('rf_magpie_mae_matbench') or '-'!s:>10s} "
            f"{x.get('dummy_mae_matbench') or '-'!s:>8s}  {x['unit']}"
            + (
                f"  (train subsample {x['train_subsample']}/fold)"
                if x.get("train_subsample")
                else ""
            )
        )


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
