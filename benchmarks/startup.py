"""Cold-start time: from launching the process to the first painted main window.

Prints one figure per run and the median. Goal: <= 2 s on the 2-core reference machine.
With `--reference DIR` (another checkout, e.g. the main branch) the two start alternately in
the same run and the ratio is printed: timings move with the machine's load, ratios less.
Also prints the heavy modules imported before the first paint (goal: none).
Usage: python benchmarks/startup.py [--runs 5] [--reference ../main]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StartRun:
    wall_s: float  # launch to first paint, as the person waits
    inside_s: float  # from desktop.app's import to first paint
    heavy: str  # heavy libraries loaded before the paint ("none" is the goal)


def one_run(extra: list[str], tree: str | None = None) -> StartRun:
    env = {**os.environ}
    if tree:
        env["PYTHONPATH"] = tree
    if not env.get("DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--quit-after-paint", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tree,  # `-m` puts the working folder first on sys.path
    )
    assert proc.stdout is not None
    heavy = "?"
    for line in proc.stdout:
        if line.startswith("heavy_before_paint"):
            heavy = line.split(None, 1)[1].strip()
        if line.startswith("first_paint_s"):
            wall = time.perf_counter() - start
            proc.wait(timeout=60)
            return StartRun(wall, float(line.split()[1]), heavy)
    raise SystemExit(f"the app exited without painting (exit {proc.wait()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reference", metavar="DIR", help="another checkout to compare with")
    parser.add_argument("files", nargs="*", help="files to open at start-up")
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    trees = {"this": here, **({"reference": args.reference} if args.reference else {})}
    walls: dict[str, list[float]] = {name: [] for name in trees}
    for i in range(args.runs):
        for name, tree in trees.items():
            run = one_run(args.files, tree)
            walls[name].append(run.wall_s)
            print(
                f"run {i + 1} {name}: {run.wall_s:.3f} s to first paint "
                f"({run.inside_s:.3f} s after desktop.app was imported); "
                f"heavy libraries before it: {run.heavy}"
            )
    median = statistics.median(walls["this"])
    print(f"startup_first_paint_median_s {median:.3f}  (goal <= 2.0)")
    if args.reference:
        reference = statistics.median(walls["reference"])
        print(f"reference_first_paint_median_s {reference:.3f}  ({args.reference})")
        print(f"startup_speedup {reference / median:.2f}x")


if __name__ == "__main__":
    main()
