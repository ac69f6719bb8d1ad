"""Batch throughput in this process, on 1 and on 2 local dask workers, and the cluster's cost per
item; a projection for N machines from the two.

    .venv/bin/python benchmarks/batch_scaling.py [--images 8] [--items 120]

1. The micrograph recipe (automatic mode, 16 × 16 points) over Super1 images of the shared
   NASA MicroNet set (512 × 512), each mode in one run on this machine, one after the other.
   Printed: items per second over the whole run (cluster start and model loading included)
   and in the steady state (between the first and the last item done), and both as ratios to
   this process. This process and 1 worker give onnxruntime every core; 2 workers one core each.
2. The cost per item of handing items out: a CSV of compositions with one row per item (a few
   milliseconds of work each), in this process and on 1 worker; the difference per item is the
   cluster's overhead (scheduling, pickling, the round trip), per item, on loopback.
3. Projection: N machines like this one give min(N x r, 1 / overhead) items per second, r
   being the steady rate of one machine on the cluster (its overhead included) and 1 / overhead
   the pace at which one scheduler and driver hand out and collect items; the shared file
   system must also take the writes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "segmentation" / "nasa_micronet"
RECIPE = {
    "format": "matlens-recipe",
    "version": 1,
    "mode": "auto",
    "classes": ["precipitate"],
    "parameters": {"auto": {"points_per_side": 16}},
    "calibration": {"rule": "fixed", "pixel_size": 0.05, "unit": "µm"},
}
FORMULAS = ("Fe2O3", "SiC", "NaCl", "GaAs", "TiO2", "Al2O3", "MgO", "ZnO", "CuO", "LiFePO4")


def timed_run(workload, out: Path, where) -> dict:
    from inference.batch import run_workload

    finished: list[float] = []
    started = time.perf_counter()
    report = run_workload(
        workload, out, where, on_item=lambda e: finished.append(time.perf_counter())
    )
    wall = time.perf_counter() - started
    assert report.ok, report.message
    n = len(finished)
    steady = (n - 1) / (finished[-1] - finished[0]) if n > 1 and finished[-1] > finished[0] else 0
    return {"items": n, "wall": wall, "rate": n / wall, "steady": steady}


def micrographs_section(images: int, work: Path) -> tuple[float, list[tuple[str, dict]]]:
    from inference.batch import Where, micrographs
    from inference.segmentation.recipe import recipe_from_dict

    files = sorted((SHARED / "Super1").glob("*/*.tif"))
    files = [f for f in files if "annot" not in f.parent.name][:images]
    folder = work / "images"
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder)
    recipe = recipe_from_dict(RECIPE)
    rows = []
    for label, where in (
        ("this process", Where()),
        ("1 worker", Where.local_workers(1)),
        ("2 workers", Where.local_workers(2)),
    ):
        os.environ["MATLENS_CACHE"] = str(work / f"cache-{len(rows)}")  # no embedding reuse
        rows.append((label, timed_run(micrographs(recipe, folder), work / f"m{len(rows)}", where)))
    return len(files), rows


def overhead_section(items: int, work: Path) -> tuple[dict, dict]:
    from inference.batch import Where, predictions

    table = work / "screen.csv"
    lines = ["formula", *(FORMULAS[i % len(FORMULAS)] for i in range(items))]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    here = timed_run(predictions(table, rows_per_item=1), work / "c0", Where())
    there = timed_run(predictions(table, rows_per_item=1), work / "c1", Where.local_workers(1))
    return here, there


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--items", type=int, default=120, help="one-row items for the overhead")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found: {SHARED}")
    from inference.runtime.paths import models_dir

    work = Path(tempfile.mkdtemp(prefix="matlens-batch-bench-"))
    os.environ.setdefault("MATLENS_MODELS", str(models_dir()))  # before MATLENS_DATA moves
    os.environ.setdefault("MATLENS_DATA", str(work / "data"))
    os.environ.setdefault("MATLENS_LOGS", str(work / "logs"))
    try:
        n, rows = micrographs_section(args.images, work)
        print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
        print(f"\nmicrograph recipe (automatic, 16 x 16 points), {n} Super1 images, one run each")
        print(
            f"{'where':14s} {'wall s':>7s} {'items/s':>8s} {'ratio':>6s} {'steady/s':>9s} {'ratio':>6s}"
        )
        base = rows[0][1]
        for label, r in rows:
            print(
                f"{label:14s} {r['wall']:7.1f} {r['rate']:8.3f} {r['rate'] / base['rate']:6.2f} "
                f"{r['steady']:9.3f} {r['steady'] / base['steady']:6.2f}"
            )
        here, there = overhead_section(args.items, work)
        per_here = here["wall"] / here["items"]
        steady_here = 1 / here["steady"]
        steady_there = 1 / there["steady"]
        overhead = steady_there - steady_here
        print(f"\ncost per item, {args.items} one-row composition items (steady state)")
        print(f"this process   {1000 * steady_here:7.1f} ms per item ({1000 * per_here:.1f} wall)")
        print(f"1 worker       {1000 * steady_there:7.1f} ms per item")
        print(f"cluster overhead per item: {1000 * overhead:.1f} ms")
        label, best = max(rows[1:], key=lambda row: row[1]["steady"])
        machine = best["steady"]  # items/s of one machine, the cluster's overhead included
        cap = 1 / overhead if overhead > 0 else float("inf")
        print(
            f"\nprojection: N machines like this one ({label} each, {machine:.3f} items/s) "
            f"give min(N x {machine:.3f}, {cap:.0f}) items/s"
        )
        print(f"(the overhead is {100 * overhead * machine:.2f} % of a micrograph's time)")
        for machines in (1, 2, 4, 8, 16, 32):
            rate = min(machines * machine, cap)
            print(
                f"{machines:3d} machines: {rate:7.2f} items/s, {10000 / rate / 3600:6.2f} h per 10,000"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
