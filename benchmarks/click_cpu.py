"""Where a first click's CPU time goes in `ClickSession` (the pane's, `matlens segment`'s and
batch's click path), part by part, and whether a change keeps every answer the same.

Run: `python benchmarks/click_cpu.py [--splits val test] [--random 20] [--save F | --compare F]`
(needs `make models` and ../shared/data). Each click is a first click through a fresh
`ClickSession` as `clicks.click_session` makes it for the pane (whole-image embedding, no zoom,
the RGB given for the local-contrast region), then the first answer's `mask_crop` (what the
viewer draws). Clicks: every annotated object's interior-most point (as `sam_accuracy.py`) and
`--random` uniform clicks per image. The decoder runs on one thread, so the process CPU time
(`time.process_time`) of each part is its single-thread cost.

Parts: decoder (`SamModel.decode_first`, SAM's three low-res maps), policy (`choose_sam`: each
candidate's stability, area and pieces on the 256² map), contrast region (`local_patch`,
`contrast_region`, the typicality of SAM's first mask), merged blobs (a small SAM answer cut to
the clicked blob, `merged_blobs`, with its upsampling), edge level (rule 8: the small answer
shown first cut where its outline has the strongest gradient, `edge_level`, with its upsampling),
upsampling (the shown answer's
`mask_crop`), and the rest of `ClickSession.predict`. The modules the app imports at start-up
(`inference.warmup`) are imported first.

`--save F` writes every click's answers (order, sources, SAM indices, ambiguity and each
answer's cropped mask); `--compare F` checks the answers of the code as it is now against them:
same order and choice, and the lowest mask IoU of the shown answer (1.0 when identical). For a
before/after, run it with `--save` on an older checkout (PYTHONPATH pointing there; parts that
checkout lacks are skipped) and with `--compare` on this one.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from micronet import DATA, DATASETS
from sam_accuracy import load

import inference.segmentation.clicks as clicks
from inference.segmentation.clicks import ClickSession
from inference.segmentation.refine import DEFAULT
from inference.segmentation.sam import SamModel
from inference.warmup import import_heavy_modules

_PARTS = {
    "decoder": (SamModel, "decode_first"),
    "policy": (clicks, "choose_sam"),
    "contrast: patch": (clicks, "local_patch"),
    "contrast: click": (clicks, "click_contrast"),
    "contrast: region": (clicks, "trace_region"),
    "contrast: region (before)": (clicks, "contrast_region"),
    "contrast: typicality": (clicks, "_typicality"),
    "merged blobs": (clicks, "_clicked_blob"),
    "edge level": (clicks, "_on_edge"),
}


class _Timer:
    """Wraps the parts above to add their process CPU time up."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.on = True
        for name, (owner, attr) in _PARTS.items():
            if hasattr(owner, attr):  # an older checkout may lack a part
                setattr(owner, attr, self._wrap(name, getattr(owner, attr)))

    def _wrap(self, name, function):
        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                if self.on:
                    self.spent[name] += time.process_time() - start

        return timed


def _answers(session: ClickSession, x: float, y: float) -> dict:
    shown = session.predict([(x, y, 1)])
    crops = []
    for candidate in shown:
        crop, offset = candidate.mask_crop()
        crops.append((np.packbits(crop), crop.shape, offset))
    return {
        "order": [(c.source, c.index) for c in shown],
        "ambiguous": shown[0].ambiguous,
        "reason": shown[0].reason,
        "crops": crops,
    }


def _crop_iou(a, b) -> float:
    def full(entry):
        bits, shape, offset = entry
        return np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool), offset

    (ma, (ya, xa)), (mb, (yb, xb)) = full(a), full(b)
    h = max(ya + ma.shape[0], yb + mb.shape[0])
    w = max(xa + ma.shape[1], xb + mb.shape[1])
    fa, fb = np.zeros((h, w), bool), np.zeros((h, w), bool)
    fa[ya : ya + ma.shape[0], xa : xa + ma.shape[1]] = ma
    fb[yb : yb + mb.shape[0], xb : xb + mb.shape[1]] = mb
    union = np.count_nonzero(fa | fb)
    return np.count_nonzero(fa & fb) / union if union else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--splits", nargs="+", default=["val"])
    parser.add_argument("--random", type=int, default=20, help="uniform clicks per image")
    parser.add_argument("--limit", type=int, help="first N images per split")
    parser.add_argument("--objects", type=int, help="at most N object clicks per image")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"NASA MicroNet data not found in {DATA}")
    model = SamModel("mobile_sam", threads=1)
    import_heavy_modules()  # as the window does at start-up: no import inside a click
    timer = _Timer()
    rng = np.random.default_rng(7)
    results: dict[tuple, dict] = {}
    whole, upsample, n = 0.0, 0.0, 0
    for dataset in args.datasets:
        for split in args.splits:
            for sample in load(dataset, split, args.limit):
                embedding = model.embed(sample.rgb)
                timer.on = False
                model.prepare_clicks(embedding)
                timer.on = True
                h, w = sample.rgb.shape[:2]
                points = [o.first_click for o in sample.objects[: args.objects]]
                points += [tuple(p) for p in rng.uniform(0, 1, (args.random, 2)) * (w, h)]
                for x, y in points:
                    session = ClickSession(model, embedding, None, DEFAULT, pixels=sample.rgb)
                    start = time.process_time()
                    shown = session.predict([(float(x), float(y), 1)])
                    middle = time.process_time()
                    shown[0].mask_crop()
                    end = time.process_time()
                    whole += end - start
                    upsample += end - middle
                    n += 1
                    if args.save or args.compare:
                        timer.on = False
                        session = ClickSession(model, embedding, None, DEFAULT, pixels=sample.rgb)
                        key = (dataset, split, sample.name, float(x), float(y))
                        results[key] = _answers(session, float(x), float(y))
                        timer.on = True
    load_avg = os.getloadavg()[0]
    print(f"{n} first clicks, ClickSession as the pane makes it, 1 thread, load {load_avg:.1f}")
    print(f"{'part':24s} {'CPU ms/click':>12s}")
    parts = dict(timer.spent)
    parts["upsampling (mask_crop)"] = upsample
    rest = whole - sum(parts.values())
    for name, spent in [*parts.items(), ("rest of predict", rest), ("whole click", whole)]:
        print(f"{name:24s} {1e3 * spent / max(n, 1):12.2f}")
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
        print(f"saved {len(results)} clicks' answers to {args.save}")
    if args.compare:
        before = pickle.loads(args.compare.read_bytes())
        same_order = sum(before[k]["order"] == v["order"] for k, v in results.items())
        same_flag = sum(
            (before[k]["ambiguous"], before[k]["reason"]) == (v["ambiguous"], v["reason"])
            for k, v in results.items()
        )
        identical = sum(
            all(
                a[1] == b[1] and a[2] == b[2] and np.array_equal(a[0], b[0])
                for a, b in zip(before[k]["crops"], v["crops"], strict=True)
            )
            for k, v in results.items()
            if before[k]["order"] == v["order"]
        )
        shown = [_crop_iou(before[k]["crops"][0], v["crops"][0]) for k, v in results.items()]
        print(
            f"against {args.compare}: {len(results)} clicks, same order {same_order}, same "
            f"ambiguity {same_flag}, every answer's mask identical {identical}, "
            f"lowest IoU of the shown answer {min(shown):.4f}"
        )


if __name__ == "__main__":
    main()
