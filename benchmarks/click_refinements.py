"""Ideas for a better answer to the first click, measured on the answer the pane shows first
(issue 15, item 3): each one replaces that answer when it is one of SAM's masks; the
local-contrast region is kept as it is. Choose on train, select on val; never on test.

Run: `python benchmarks/click_refinements.py [--datasets Super1 EBC1] [--splits train val]`
(~5 min for both val splits on 2 CPU cores; needs `make models` and ../shared/data).

Ideas (the pane's first answer under refine.DEFAULT, then):
- refine: the shown mask's low-res logits back as `mask_input` with the same click, SAM's single
  answer (one more decoder pass), also kept only when it overlaps the first by IoU ≥ 0.9;
- box: the shown mask's bounding box with the click, SAM's single answer, kept only when it
  overlaps the first by IoU ≥ 0.8; and the same with the shown logits as `mask_input`;
- cut: the shown logits (DEFAULT has already moved a large mask's by +2) cut at another value
  than 0;
- clean: `masks.postprocess`, keeping the clicked part, filling holes, dropping islands;
- oracle: the best of SAM's three masks and the region (no policy can beat it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from micronet import DATA, DATASETS, iou
from sam_accuracy import load

from inference.segmentation.clicks import ClickSession, RefinedCandidate
from inference.segmentation.masks import postprocess
from inference.segmentation.refine import DEFAULT
from inference.segmentation.sam import SamModel


def bounding_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def ideas(
    model: SamModel, embedding, shown: RefinedCandidate, click: tuple[float, float, int]
) -> dict[str, np.ndarray]:
    """The shown answer's replacement under each idea (image-sized boolean masks)."""
    first = shown.mask
    logits = shown.logits_lowres
    out: dict[str, np.ndarray] = {}
    refined = model.predict(embedding, [click], multimask=False, mask_input=logits)[0].mask
    out["refine (mask_input, same click)"] = refined
    out["refine, kept when IoU with first >= 0.9"] = (
        refined if iou(refined, first) >= 0.9 else first
    )
    box = bounding_box(first)
    if box is not None:
        boxed = model.predict(embedding, [click], box=box, multimask=False)[0].mask
        out["box, kept when IoU with first >= 0.8"] = boxed if iou(boxed, first) >= 0.8 else first
        both = model.predict(embedding, [click], box=box, multimask=False, mask_input=logits)
        both_mask = both[0].mask
        out["box + mask_input, kept when IoU >= 0.8"] = (
            both_mask if iou(both_mask, first) >= 0.8 else first
        )
    mapper = model.mapper(embedding)
    for cut in (-2.0, -1.0, 1.0):
        out[f"cut the shown logits at {cut:+g}"] = mapper.mask(logits - cut)
    points = [click]
    out["clean: keep the clicked part"] = postprocess(first, points, keep_clicked=True)
    out["clean: fill holes"] = postprocess(first, points, keep_clicked=False, fill_holes_px=10**9)
    out["clean: drop islands < 100 px"] = postprocess(
        first, points, keep_clicked=False, min_island_px=100
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--splits", nargs="+", default=["val"])
    args = parser.parse_args()
    if "test" in args.splits:
        raise SystemExit("choose on train, select on val: this script does not read test")
    if not DATA.is_dir():
        raise SystemExit(f"NASA MicroNet data not found in {DATA} (set MATLENS_SHARED_DATA)")
    model = SamModel("mobile_sam")
    print("1-click mean IoU of the answer shown first, as the pane answers (no zoom window)")
    for dataset in args.datasets:
        for split in args.splits:
            scores: dict[str, list[float]] = defaultdict(list)
            for sample in load(dataset, split):
                embedding = model.embed(sample.rgb)
                for obj in sample.objects:
                    click = (*obj.first_click, 1)
                    session = ClickSession(model, embedding, None, DEFAULT, pixels=sample.rgb)
                    answers = session.predict([click])
                    shown = answers[0]
                    scores["DEFAULT"].append(iou(shown.mask, obj.mask))
                    scores["oracle: best of SAM's masks and the region"].append(
                        max(iou(a.mask, obj.mask) for a in answers)
                    )
                    if shown.source != "sam":
                        for name in ideas_names():
                            scores[name].append(scores["DEFAULT"][-1])
                        continue
                    found = ideas(model, embedding, shown, click)
                    for name in ideas_names():
                        mask = found.get(name, shown.mask)
                        scores[name].append(iou(mask, obj.mask))
            print(f"\n{dataset} / {split} ({len(scores['DEFAULT'])} objects)")
            for name, values in scores.items():
                print(f"  {name:44s} {statistics.fmean(values):.3f}")
            sys.stdout.flush()


def ideas_names() -> list[str]:
    return [
        "refine (mask_input, same click)",
        "refine, kept when IoU with first >= 0.9",
        "box, kept when IoU with first >= 0.8",
        "box + mask_input, kept when IoU >= 0.8",
        "cut the shown logits at -2",
        "cut the shown logits at -1",
        "cut the shown logits at +1",
        "clean: keep the clicked part",
        "clean: fill holes",
        "clean: drop islands < 100 px",
    ]


if __name__ == "__main__":
    main()
