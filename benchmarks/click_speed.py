"""Click → mask: candidates for a faster first click against the plain exported click decoder,
in the same run, and whether their masks stay the same (issue 18, goal 2: ≥ 1.5x, IoU ≥ 0.99).

Run by hand: `python benchmarks/click_speed.py [--clicks 40] [--rounds 3]` (~1 min on 2 CPU
cores; needs `make models`). The image is the one of `sam_latency.py` (Super1 spot2_0d_0 tiled
to 1024²). Each click is timed on every variant back to back (interleaved, so a busy machine
slows all alike; the order turns from click to click, so that no variant always follows
the same one): decode, the three candidates, and the best one's mask where it can be true
(`mask_crop`, what the viewer draws). Printed: p50 and min wall time per variant, each ratio
with its reference (the plain click decoder as it was: every core, threads spinning between
runs), and the mask IoU of the variant's candidates against the reference's.

Variants: session options (1 thread; threads that sleep between runs, the app's since this
benchmark) and the batch decoder of segment
everything for one prompt (B = 1), whose per-image products of the embedding with the
decoder's weights are computed once per image (`decoder_batch_image`, not timed per click).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sam_latency import test_image

from inference.runtime.sessions import OnnxModel
from inference.segmentation.sam import MaskCandidate, SamModel, prompt_arrays, raster


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


class _BatchClick:
    """One click through the batch decoder graph (maps 1-3, as a first click needs)."""

    def __init__(self, model: SamModel, embedding, threads: int | None) -> None:
        self.model, self.embedding = model, embedding
        self.decoder = OnnxModel(model.card.path("decoder_batch"), threads=threads)
        image = OnnxModel(model.card.path("decoder_batch_image"))
        outputs = image.run({"image_embeddings": embedding.features})
        self.inputs = dict(zip(image.output_names, outputs, strict=True))
        self.inputs["stability_offset"] = np.ones(1, np.float32)

    def predict(self, x: float, y: float) -> list[MaskCandidate]:
        coords, labels = prompt_arrays(self.embedding, [(x, y, 1)], None)
        tiles, iou, _ = self.decoder.run(
            dict(self.inputs, point_coords=coords, point_labels=labels)
        )
        tiles = tiles.reshape(64, 64, 2, 2, 2, 2, 3)
        mapper = self.model.mapper(self.embedding)
        out = [
            MaskCandidate(float(np.clip(iou[0, k], 0, 1)), raster(tiles, k - 1), k, mapper)
            for k in (1, 2, 3)
        ]
        return sorted(out, key=lambda c: -c.score)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    image = test_image()
    model = SamModel(use_cache=False)  # the reference: the click decoder as it was
    model._decoder = OnnxModel(model.card.path("decoder"), spin=True)
    embedding = model.embed(image)
    one = SamModel(use_cache=False, threads=1)
    app = SamModel(use_cache=False)  # the app's: threads that sleep between runs
    batch, batch_one = _BatchClick(model, embedding, None), _BatchClick(model, embedding, 1)
    variants = {
        "plain decoder (before)": lambda x, y: model.predict(embedding, [(x, y, 1)]),
        "plain decoder, 1 thread": lambda x, y: one.predict(embedding, [(x, y, 1)]),
        "app: no spinning": lambda x, y: app.predict(embedding, [(x, y, 1)]),
        "batch decoder, B = 1": batch.predict,
        "batch decoder, B = 1, 1 thread": batch_one.predict,
    }
    reference = next(iter(variants))
    for fn in variants.values():
        fn(100.0, 100.0)  # sessions warm
    rng = np.random.default_rng(1)
    clicks = rng.uniform(0, image.shape[0] - 1, (args.clicks, 2))
    times: dict[str, list[float]] = {name: [] for name in variants}
    ious = {name: [] for name in variants}
    names = list(variants)
    for _ in range(args.rounds):
        for i, (x, y) in enumerate(clicks):
            masks = {}
            for name in names[i % len(names) :] + names[: i % len(names)]:  # no fixed order
                fn = variants[name]
                start = time.perf_counter()
                candidates = fn(x, y)
                candidates[0].mask_crop()
                times[name].append(time.perf_counter() - start)
                masks[name] = {c.index: c.mask for c in candidates}
            for name in variants:
                ious[name] += [_iou(masks[reference][k], m) for k, m in masks[name].items()]

    def p50(values: list[float]) -> float:
        return statistics.median(values) * 1e3

    n = args.clicks * args.rounds
    print(f"first click → mask, {n} clicks ({args.rounds} rounds of {args.clicks}), wall ms")
    print(f"{'variant':32} {'p50':>7} {'min':>7} {'ratio':>6} {'min mask IoU':>13}")
    for name in variants:
        ratio = p50(times[reference]) / p50(times[name])
        print(
            f"{name:32} {p50(times[name]):7.1f} {min(times[name]) * 1e3:7.1f} {ratio:5.2f}x"
            f" {min(ious[name]):13.4f}"
        )
    print(f"(ratio: p50 of '{reference}' / p50 of the variant, same run; goal ≥ 1.5x)")


if __name__ == "__main__":
    main()
