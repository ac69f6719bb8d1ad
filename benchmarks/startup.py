"""Cold-start time: from launching the process to the first painted main window.

Prints one figure per run and the median. Goal: <= 2 s on the 2-core reference machine.
Usage: python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def one_run(extra: list[str]) -> tuple[float, float]:
    env = {**os.environ}
    if not env.get("DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--quit-after-paint", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("first_paint_s"):
            wall = time.perf_counter() - start
            proc.wait(timeout=60)
            return wall, float(line.split()[1])
    raise SystemExit(f"the app exited without painting (exit {proc.wait()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("files", nargs="*", help="files to open at start-up")
    args = parser.parse_args()
    walls = []
    for i in range(args.runs):
        wall, inside = one_run(args.files)
        walls.append(wall)
        print(
            f"run {i + 1}: {wall:.3f} s to first paint ({inside:.3f} s after desktop.app was imported)"
        )
    print(f"startup_first_paint_median_s {statistics.median(walls):.3f}  (goal <= 2.0)")


if __name__ == "__main__":
    main()
