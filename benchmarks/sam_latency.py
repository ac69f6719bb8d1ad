"""SAM latency on this machine: encoder at 1024², and click → mask split into its steps.

Run by hand: `python benchmarks/sam_latency.py [--encoder-runs 5] [--clicks 50]` (< 1 min on
2 CPU cores). Needs the exported MobileSAM (`make models`). The embedding cache is bypassed.
Steps of one click: decoder (prompt encoding + ONNX decoder), post-processing (low-res map to a
full-resolution boolean mask, only where it can be true) and overlay (an RGBA overlay of the
mask shown on the 1024² display image: tinted pixels selected inside the mask's region).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from inference.segmentation.sam import MaskCandidate, SamModel, raster

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "segmentation"
SAMPLE = SHARED / "nasa_micronet" / "Super1" / "test" / "spot2_0d_0.tif"
COLOUR, ALPHA = (255, 215, 0), 0.45


def test_image(size: int = 1024) -> np.ndarray:
    """The shared superalloy micrograph scaled to size², or synthetic blobs without it."""
    if SAMPLE.exists():
        import tifffile

        image = tifffile.imread(SAMPLE)[..., :3]
        reps = -(-size // image.shape[0])
        return np.ascontiguousarray(image.repeat(reps, 0).repeat(reps, 1)[:size, :size])
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    image = np.full((size, size), 90.0)
    for cx, cy, r in rng.uniform([0, 0, 10], [size, size, 60], (60, 3)):
        image[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = 170.0
    return np.repeat(image.astype(np.uint8)[:, :, None], 3, axis=2)


class Overlay:
    """The viewer's composition, RGBA as Qt takes it: the display is tinted once per image,
    then each click only selects tinted or plain pixels (one uint32 each) inside the region."""

    def __init__(self, display: np.ndarray) -> None:
        tint = np.asarray(COLOUR, np.float32) * ALPHA
        tinted = (display.astype(np.float32) * (1 - ALPHA) + tint).round().astype(np.uint8)
        self.base, self.tinted = _rgba32(display), _rgba32(tinted)
        self.frame = self.base.copy()
        self.last = (slice(0, 0), slice(0, 0))

    def show(self, candidate: MaskCandidate) -> np.ndarray:
        self.frame[self.last] = self.base[self.last]  # undo the previous candidate
        crop, (y0, x0) = candidate.mask_crop()
        region = (slice(y0, y0 + crop.shape[0]), slice(x0, x0 + crop.shape[1]))
        np.copyto(self.frame[region], self.tinted[region], where=crop)
        self.last = region
        return self.frame


def _rgba32(rgb: np.ndarray) -> np.ndarray:
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    return np.ascontiguousarray(rgba).view(np.uint32)[:, :, 0]


def stats(values: list[float]) -> str:
    ms = sorted(v * 1e3 for v in values)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--model", default="mobile_sam")
    parser.add_argument("--encoder-runs", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=50)
    args = parser.parse_args()

    image = test_image()
    model = SamModel(args.model, use_cache=False)
    start = time.perf_counter()
    print(
        f"device: {model.device.label}   (decoder session + warm-up {time.perf_counter() - start:.2f} s)"
    )
    encoder_times = []
    for _ in range(args.encoder_runs + 1):
        start = time.perf_counter()
        embedding = model.embed(image)
        encoder_times.append(time.perf_counter() - start)
    runs = encoder_times[1:]  # the first run also opens the session
    print(
        f"embed 1024² (resize + encoder), median of {len(runs)}: {statistics.median(runs):.3f} s"
        f"   first run {encoder_times[0]:.2f} s"
    )

    rng = np.random.default_rng(1)
    clicks = rng.uniform(0, image.shape[0] - 1, (args.clicks, 2))
    start = time.perf_counter()
    overlay = Overlay(image)
    print(
        f"overlay set-up (tint the 1024² display once per image): {time.perf_counter() - start:.3f} s"
    )
    for multimask in (True, False):
        steps: dict[str, list[float]] = {
            "decoder": [],
            "post-processing": [],
            "overlay": [],
            "click → mask": [],
            "click → overlay": [],
        }
        for x, y in clicks:
            t0 = time.perf_counter()
            tiles, iou = model.decode(embedding, [(x, y, 1)])
            t1 = time.perf_counter()
            ks = (1, 2, 3) if multimask else (0,)
            best = max(ks, key=lambda k: iou[0, k])
            cand = MaskCandidate(
                float(iou[0, best]), raster(tiles, best), best, model.mapper(embedding)
            )
            cand.mask_crop()
            t2 = time.perf_counter()
            overlay.show(cand)
            t3 = time.perf_counter()
            steps["decoder"].append(t1 - t0)
            steps["post-processing"].append(t2 - t1)
            steps["overlay"].append(t3 - t2)
            steps["click → mask"].append(t2 - t0)
            steps["click → overlay"].append(t3 - t0)
        predict = []
        for x, y in clicks[:20]:
            t0 = time.perf_counter()
            best_mask = model.predict(embedding, [(x, y, 1)], multimask=multimask)[0].mask
            assert best_mask.shape == image.shape[:2]
            predict.append(time.perf_counter() - t0)
        print(f"\n{args.clicks} random clicks, multimask={multimask}:")
        for name, values in steps.items():
            print(f"  {name:16s} {stats(values)}")
        print(f"  {'predict().mask':16s} {stats(predict)}   (full-size bool mask, best candidate)")


if __name__ == "__main__":
    main()
