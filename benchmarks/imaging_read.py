"""Read and display-stretch times for an 8192 × 8192 micrograph (16-bit and float32).

Run by hand: `python benchmarks/imaging_read.py [--size 8192]`. Prints wall time and the
peak memory numpy allocated (tracemalloc) for each step; the file is written to a temp
folder first, so the read comes from the page cache (a cold disk read adds disk time).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import tifffile

from inference.imaging.display import to_display
from inference.imaging.io import count_frames, read_micrograph

if TYPE_CHECKING:
    from collections.abc import Callable


T = TypeVar("T")


def _measure(step: Callable[[], T], repeats: int = 3) -> tuple[float, float, T]:
    """Best wall time of `repeats` runs, and the peak traced allocation of the first run."""
    tracemalloc.start()
    result = step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best, peak / 1e6, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    args = parser.parse_args()
    n = args.size
    rng = np.random.default_rng(0)
    print(f"{'step':44s} {'time (s)':>9s} {'peak MB':>8s}")
    with tempfile.TemporaryDirectory() as folder:
        for dtype in (np.uint16, np.float32):
            data = rng.integers(0, 4096, (n, n)).astype(dtype)
            path = Path(folder) / f"big_{np.dtype(dtype).name}.tif"
            tifffile.imwrite(path, data)
            size_mb = path.stat().st_size / 1e6
            del data
            label = f"{n}x{n} {np.dtype(dtype).name} ({size_mb:.0f} MB)"
            seconds, peak, _ = _measure(lambda p=path: count_frames(p))
            print(f"{'count_frames ' + label:44s} {seconds:9.3f} {peak:8.1f}")
            seconds, peak, micrograph = _measure(lambda p=path: read_micrograph(p))
            print(f"{'read_micrograph ' + label:44s} {seconds:9.3f} {peak:8.1f}")
            seconds, peak, _ = _measure(lambda m=micrograph: to_display(m))
            print(f"{'to_display ' + label:44s} {seconds:9.3f} {peak:8.1f}")
            del micrograph


if __name__ == "__main__":
    main()
