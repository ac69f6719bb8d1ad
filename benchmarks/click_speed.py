"""Click → mask: the first click of an object through the batch decoder (`prepare_clicks`) against
the plain exported click decoder, in the same run, and whether the masks stay the same.

Run by hand: `python benchmarks/click_speed.py [--clicks 40] [--rounds 3]` (~1 min on 2 CPU
cores; needs `make models`). The image is the one of `sam_latency.py` (Super1 spot2_0d_0 tiled
to 1024²). Each click is timed on every variant back to back (interleaved, so a busy machine
slows all alike): decode, the candidates, and the shown candidate's mask where it can be true
(`mask_crop`, what the viewer draws). Printed: p50 and min of the wall time per variant, each
ratio with its reference (the plain click decoder with the app's session options), and the mask
IoU of every candidate against the plain decoder's.

Follow-up clicks (a second point, the shown mask fed back as `mask_input`, SAM's single answer)
run the click decoder on both sides: timed too, so the table says what did not change.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sam_latency import test_image

from inference.segmentation.sam import SamModel


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    image = test_image()
    variants = {  # name → (model, prepared)
        "plain decoder (today, 2 threads)": (SamModel(use_cache=False), False),
        "plain decoder, 1 thread": (SamModel(use_cache=False, threads=1), False),
        "batch decoder (prepare_clicks)": (SamModel(use_cache=False), True),
        "batch decoder, 1 thread": (SamModel(use_cache=False, threads=1), True),
    }
    embeddings = {}
    for name, (model, prepared) in variants.items():
        embeddings[name] = model.embed(image)
        if prepared:
            start = time.perf_counter()
            model.prepare_clicks(embeddings[name])
            print(f"{name}: prepare_clicks {time.perf_counter() - start:.2f} s (once per image)")
    reference = next(iter(variants))
    rng = np.random.default_rng(1)
    clicks = rng.uniform(0, image.shape[0] - 1, (args.clicks, 2))
    first: dict[str, list[float]] = {name: [] for name in variants}
    follow: dict[str, list[float]] = {name: [] for name in variants}
    ious = []
    for _ in range(args.rounds):
        for x, y in clicks:
            masks = {}
            for name, (model, _prepared) in variants.items():
                emb = embeddings[name]
                start = time.perf_counter()
                candidates = model.predict(emb, [(x, y, 1)], multimask=True)
                candidates[0].mask_crop()
                first[name].append(time.perf_counter() - start)
                masks[name] = {c.index: c.mask for c in candidates}
                shown = candidates[0].logits_lowres
                x2, y2 = min(x + 7.0, image.shape[1] - 1), min(y + 5.0, image.shape[0] - 1)
                start = time.perf_counter()
                again = model.predict(
                    emb, [(x, y, 1), (x2, y2, 1)], multimask=False, mask_input=shown
                )
                again[0].mask_crop()
                follow[name].append(time.perf_counter() - start)
            for name in variants:
                if name != reference:
                    ious += [_iou(masks[reference][k], m) for k, m in masks[name].items()]

    def p50(values: list[float]) -> float:
        return statistics.median(values) * 1e3

    n = args.clicks * args.rounds
    print(f"\nclick → mask, {n} clicks ({args.rounds} rounds of {args.clicks}), wall ms")
    print(
        f"{'variant':36} {'first p50':>9} {'min':>7} {'ratio':>6}   {'follow-up p50':>13} {'ratio':>6}"
    )
    for name in variants:
        ratio = p50(first[reference]) / p50(first[name])
        ratio_f = p50(follow[reference]) / p50(follow[name])
        print(
            f"{name:36} {p50(first[name]):9.1f} {min(first[name]) * 1e3:7.1f} {ratio:5.2f}x"
            f"   {p50(follow[name]):13.1f} {ratio_f:5.2f}x"
        )
    print(f"(ratios: p50 of '{reference}' / p50 of the variant, same run)")
    print(f"mask IoU against the plain decoder, every candidate: min {min(ious):.4f}")


if __name__ == "__main__":
    main()
