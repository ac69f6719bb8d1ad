"""An 8192 × 8192 16-bit micrograph end to end: read, display, tiled SAM embedding, clicks, and
segment-everything on the tiles. Prints wall time and peak RSS after each step.

Run by hand (minutes on two CPU cores; the GUI runs the same steps in workers):

    nice .venv/bin/python benchmarks/large_image.py [--size 8192] [--points 16] [--no-auto]

The synthetic micrograph (precipitates of 8 to 60 px radius on a shaded, noisy matrix) is
written as an uncompressed TIFF by a child process, so its making does not count in this
process's peak RSS; it is then read back through `read_micrograph` and the Micrographs pane's
loading path (`inference.segmentation.workflows.load_image`, no Qt). The embedding cache is off
so the encoder really runs for every tile. Peak RSS is the process's high-water mark
(`ru_maxrss`): it includes Python, numpy, onnxruntime and the model (~0.6 GB before any image).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def precipitates(size: int, seed: int = 0) -> np.ndarray:
    """(cy, cx, r) of the synthetic precipitates: 8 to 60 px radius, one per 40,000 px²."""
    rng = np.random.default_rng(seed)
    n = size * size // 40_000  # ~1700 at 8192²
    return np.column_stack(
        [rng.uniform(0, size, n), rng.uniform(0, size, n), rng.uniform(8, 60, n)]
    )


def _discs(size: int, seed: int):
    """Each precipitate's window in the image and its disc inside that window."""
    for cy, cx, r in precipitates(size, seed):
        y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, size)
        x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, size)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        yield (slice(y0, y1), slice(x0, x1)), np.hypot(yy - cy, xx - cx) <= r


def make_micrograph(path: Path, size: int, seed: int = 0) -> None:
    """Precipitates on a matrix with a gentle shading and noise, uint16, in row blocks."""
    import tifffile

    rng = np.random.default_rng(seed + 1)
    data = np.empty((size, size), np.uint16)
    x = np.arange(size, dtype=np.float32)
    for y0 in range(0, size, 512):
        rows = np.arange(y0, min(y0 + 512, size), dtype=np.float32)[:, None]
        shade = 12000 + 3000 * np.sin(rows / size * 3.1) * np.cos(x / size * 2.3)
        block = shade + rng.normal(0, 900, (rows.shape[0], size)).astype(np.float32)
        data[y0 : y0 + rows.shape[0]] = np.clip(block, 0, 65535).astype(np.uint16)
    for window, disc in _discs(size, seed):
        level = rng.normal(34000, 1500, int(disc.sum()))
        data[window][disc] = np.clip(level, 0, 65535).astype(np.uint16)
    tifffile.imwrite(path, data)


def recall(masks, size: int, seed: int = 0, min_area: int = 100) -> dict[str, str]:
    """Share of the precipitates (visible area >= min_area) that some mask matches with
    IoU >= 0.5: all, small (radius < 20 px) and large; and the fragments, masks lying (80 %)
    inside one precipitate without matching it, which bad stitching leaves on the seams."""
    labels = np.zeros((size, size), np.uint16)
    for k, (window, disc) in enumerate(_discs(size, seed), start=1):
        labels[window][disc] = k
    areas = np.bincount(labels.ravel(), minlength=len(precipitates(size, seed)) + 1)
    found = np.zeros(areas.size, bool)
    fragments = 0
    for m in masks:
        (y0, x0), (h, w) = m.offset, m.mask.shape
        inter = np.bincount(labels[y0 : y0 + h, x0 : x0 + w][m.mask], minlength=areas.size)
        inter[0] = 0
        iou = inter / np.maximum(areas + m.area - inter, 1)
        found |= iou >= 0.5
        best = int(np.argmax(inter))
        fragments += bool(inter[best] >= 0.8 * m.area and iou[best] < 0.5)
    counted = areas >= min_area
    counted[0] = False
    radius = np.concatenate([[0.0], precipitates(size, seed)[:, 2]])
    out = {}
    for name, which in (
        ("all", counted),
        ("radius < 20 px", counted & (radius < 20)),
        ("radius >= 20 px", counted & (radius >= 20)),
    ):
        out[name] = f"{found[which].mean():.1%} of {int(which.sum())}" if which.any() else "-"
    out["fragments"] = str(fragments)
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Steps:
    def __init__(self) -> None:
        self.total = 0.0
        print(f"{'step':58s} {'time (s)':>9s} {'RSS MB':>8s} {'peak RSS MB':>12s}", flush=True)

    def __call__(self, name: str, seconds: float) -> None:
        self.total += seconds
        print(f"{name:58s} {seconds:9.2f} {rss_mb():8.0f} {peak_rss_mb():12.0f}", flush=True)


def _clicks(display: np.ndarray) -> dict[str, list[tuple[float, float, int]]]:
    """First clicks on bright precipitates and on the dark matrix, from the displayed image."""
    rng = np.random.default_rng(1)
    step = 8
    small = display[::step, ::step]
    out = {}
    for kind, where, n in (
        ("precipitates", small > np.percentile(small, 99), 10),
        ("the matrix", small < np.percentile(small, 30), 3),
    ):
        ys, xs = np.nonzero(where)
        pick = rng.choice(ys.size, n, replace=False)
        out[kind] = [(float(xs[k] * step), float(ys[k] * step), 1) for k in pick]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--points", type=int, default=16, help="segment-everything grid per tile")
    parser.add_argument("--no-auto", action="store_true", help="skip segment-everything")
    parser.add_argument("--make", type=Path, help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()
    if args.make:
        make_micrograph(args.make, args.size)
        return

    from inference.imaging.io import read_micrograph
    from inference.segmentation.clicks import ClickSession
    from inference.segmentation.everything import segment_everything_tiled
    from inference.segmentation.sam import SamModel
    from inference.segmentation.tiling import embed_tiled
    from inference.segmentation.workflows import load_image

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"synthetic_{args.size}.tif"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--size", str(args.size), "--make", str(path)], check=True
        )
        print(f"made {path.name}: {path.stat().st_size / 1e6:.0f} MB", end=" ")
        print(f"in {time.perf_counter() - start:.1f} s (child process)")

        model = SamModel(use_cache=False)
        model.device  # noqa: B018 - opens the decoder: not part of the image's cost
        step = Steps()
        step("model loaded", 0.0)

        start = time.perf_counter()
        micrograph = read_micrograph(path)
        step(
            f"read_micrograph {micrograph.data.dtype} {micrograph.shape}",
            time.perf_counter() - start,
        )
        del micrograph

        marks: list[tuple[float, str]] = []
        start = time.perf_counter()
        loaded = load_image(path, progress=lambda f, m="": marks.append((time.perf_counter(), m)))
        stop = time.perf_counter()
        ends = [t for t, _ in marks[1:]] + [stop]
        for (t0, message), t1 in zip(marks, ends, strict=True):
            step(f"  load: {message or 'done'}", t1 - t0)
        print(f"  load_image in all: {stop - start:.2f} s")

        n_tiles: list[int] = []
        start = time.perf_counter()
        tiles = embed_tiled(
            model,
            loaded.rgb,
            progress=lambda f, m="": n_tiles.append(1) if m.startswith("embedding tile") else None,
        )
        seconds = time.perf_counter() - start
        n = len(tiles.layout.tiles)
        step(
            f"embed whole + {n} tiles {tiles.layout.grid} ({seconds / (n + 1):.2f} s each)", seconds
        )
        print(f"  tile features held: {tiles.nbytes / 1e6:.0f} MB (float16)")

        session = ClickSession(model, tiles)
        for kind, clicks in _clicks(loaded.display).items():
            start = time.perf_counter()
            zoomed = sum(session.predict([c])[0].zoomed for c in clicks)
            seconds = time.perf_counter() - start
            each = seconds / len(clicks) * 1000
            step(
                f"{len(clicks)} clicks on {kind} ({zoomed} in a tile), {each:.0f} ms each", seconds
            )

        if args.no_auto:
            print(f"total: {step.total:.1f} s; peak RSS {peak_rss_mb():.0f} MB")
            return
        from inference.segmentation.automatic import AutoParams, segment_everything

        params = AutoParams(points_per_side=args.points)
        start = time.perf_counter()
        masks = segment_everything_tiled(model, loaded.rgb, params, tiles=tiles)
        seconds = time.perf_counter() - start
        step(f"segment everything on tiles, {args.points}² each: {len(masks)} masks", seconds)
        print(f"total: {step.total:.1f} s; peak RSS {peak_rss_mb():.0f} MB")

        # The same prompt spacing on the specimen as the tiles': only the resolution differs.
        side = min(256, round(args.points * args.size / tiles.layout.tile))
        start = time.perf_counter()
        whole = segment_everything(model, tiles.whole, AutoParams(points_per_side=side))
        seconds = time.perf_counter() - start
        print(f"for comparison, the whole image shrunk to 1024, {side}² points: {seconds:.1f} s")
        print("precipitates found (a mask with IoU >= 0.5):")
        for name, found in (("tiles", masks), ("whole image", whole)):
            print(
                f"  {name:12s}", "; ".join(f"{k} {v}" for k, v in recall(found, args.size).items())
            )


if __name__ == "__main__":
    main()
