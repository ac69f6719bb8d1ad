"""Click → mask: the app's first click against the plain exported click decoder, in the same run,
and whether the masks stay the same (issue 18, goal 2: ≥ 1.5x, mask IoU ≥ 0.99).

Run by hand: `python benchmarks/click_speed.py [--clicks 40] [--rounds 3]` (~1-2 min on 2 CPU
cores; needs `make models`). The image is the one of `sam_latency.py` (Super1 spot2_0d_0 tiled
to 1024²). Each click is timed on every variant back to back (interleaved, so a busy machine
slows all alike; the order turns from click to click, so that no variant always follows the
same one): prompt → SAM's three candidates → the best one's mask where it can be true
(`mask_crop`, what the viewer draws). Printed per round and over all rounds: p50 and min wall
time per variant, each ratio with its reference, and the lowest mask IoU of the variant's
candidates against the reference's (each of SAM's three maps; for the click sessions, the
mask shown first and whether the same answer was chosen).

Variants:
- plain decoder (reference): SamModel.predict through the exported click decoder, every core,
  threads spinning between runs, as before issue 18;
- plain decoder, no spinning: the same with threads that sleep between runs: the app's click
  before the first-click path (the "before" of the last column);
- app: SamModel.predict as it is now: a first click runs through the segment-everything
  decoder with one prompt (the per-image products of the embedding with the decoder's weights
  made once per image, not timed per click), threads that sleep between runs;
- app, 1 thread: the same with a one-thread session (a session option);
- click session, before / app: ClickSession.predict, the pane's and `matlens segment`'s path
  (click policy and local-contrast region included), on the plain decoder / as it is now.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from sam_latency import test_image

from inference.runtime.sessions import OnnxModel
from inference.segmentation.clicks import ClickSession
from inference.segmentation.sam import SamModel

if TYPE_CHECKING:
    from collections.abc import Callable


class PlainSam(SamModel):
    """SamModel as it was before issue 18: every prompt through the click decoder."""

    @property
    def has_first_click_decoder(self) -> bool:
        return False


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


@dataclass
class _Variant:
    predict: Callable[[float, float], list]
    reference: str  # name of the variant it is compared with ("" for a reference)
    before: str = ""  # and the app's variant before issue 18's first-click path, if any
    times: list[list[float]] = field(default_factory=list)  # per round
    ious: list[float] = field(default_factory=list)
    same_choice: list[bool] = field(default_factory=list)


def _variants(image: np.ndarray) -> dict[str, _Variant]:
    plain = PlainSam(use_cache=False)
    plain._decoder = OnnxModel(plain.card.path("decoder"), spin=True)
    embedding = plain.embed(image)
    no_spin = PlainSam(use_cache=False)
    app, one = SamModel(use_cache=False), SamModel(use_cache=False, threads=1)
    for model in (app, one):
        model.prepare_clicks(embedding)  # as click_session does while the image is embedded
    before_session = ClickSession(PlainSam(use_cache=False), embedding, pixels=image)
    app_session = ClickSession(app, embedding, pixels=image)
    reference, before = "plain decoder (reference)", "plain decoder, no spinning"
    return {
        reference: _Variant(lambda x, y: plain.predict(embedding, [(x, y, 1)]), ""),
        before: _Variant(lambda x, y: no_spin.predict(embedding, [(x, y, 1)]), reference),
        "app": _Variant(lambda x, y: app.predict(embedding, [(x, y, 1)]), reference, before),
        "app, 1 thread": _Variant(
            lambda x, y: one.predict(embedding, [(x, y, 1)]), reference, before
        ),
        "click session, before": _Variant(lambda x, y: before_session.predict([(x, y, 1)]), ""),
        "click session, app": _Variant(
            lambda x, y: app_session.predict([(x, y, 1)]), "click session, before"
        ),
    }


def _p50(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    image = test_image()
    variants = _variants(image)
    for variant in variants.values():
        variant.predict(100.0, 100.0)  # sessions warm
    rng = np.random.default_rng(1)
    names = list(variants)
    for r in range(args.rounds):
        clicks = rng.uniform(0, image.shape[0] - 1, (args.clicks, 2))
        for variant in variants.values():
            variant.times.append([])
        for i, (x, y) in enumerate(clicks):
            answers = {}
            for name in names[i % len(names) :] + names[: i % len(names)]:  # no fixed order
                variant = variants[name]
                start = time.perf_counter()
                candidates = variant.predict(x, y)
                candidates[0].mask_crop()
                variant.times[r].append(time.perf_counter() - start)
                answers[name] = candidates
            for name, variant in variants.items():
                if not variant.reference:
                    continue
                mine, theirs = answers[name], answers[variant.reference]
                if name.startswith("click session"):  # the answer shown first
                    variant.ious.append(_iou(mine[0].mask, theirs[0].mask))
                    variant.same_choice.append(mine[0].index == theirs[0].index)
                    continue
                by_index = {c.index: c.mask for c in theirs}
                variant.ious += [_iou(c.mask, by_index[c.index]) for c in mine]
                variant.same_choice.append([c.index for c in mine] == [c.index for c in theirs])
        ms = ", ".join(f"{n} {_p50(v.times[r]):.1f}" for n, v in variants.items())
        print(f"round {r + 1} p50 ms: {ms}", flush=True)

    print(f"\nfirst click → mask, {args.rounds} rounds of {args.clicks} clicks, wall ms")
    print(
        f"{'variant':28} {'rounds p50':>20} {'p50':>6} {'min':>6} {'ratio':>6} {'min IoU':>8} same"
    )
    for name, variant in variants.items():
        every = [t for times in variant.times for t in times]
        per_round = " ".join(f"{_p50(t):5.1f}" for t in variant.times)
        tail = "     1x"
        for other in (variant.reference, variant.before):
            if not other:
                continue
            ref = variants[other]
            ratio = _p50([t for times in ref.times for t in times]) / _p50(every)
            rounds = [_p50(a) / _p50(b) for a, b in zip(ref.times, variant.times, strict=True)]
            per = " ".join(f"{x:.2f}x" for x in rounds)
            if other == variant.reference:
                tail = (
                    f" {ratio:5.2f}x {min(variant.ious):8.4f}"
                    f" {sum(variant.same_choice)}/{len(variant.same_choice)}"
                    f"  per round {per} vs {other}"
                )
            else:
                tail += f"; {ratio:.2f}x (per round {per}) vs {other}"
        print(f"{name:28} {per_round:>20} {_p50(every):6.1f} {min(every) * 1e3:6.1f}{tail}")
    print("(ratio: p50 of the reference / p50 of the variant, same run; goal ≥ 1.5x, IoU ≥ 0.99)")


if __name__ == "__main__":
    main()
