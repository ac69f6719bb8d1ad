"""The issue's duplicate case with the app's defaults: 9 clicked precipitates, then segment
everything (32 × 32 points), then the microstructure map, on the bundled superalloy micrograph.
Each automatic result is added as before (appended on top) and through `merging.merge_objects`
(keep existing, drop masks ≥ 50 % covered, clip the rest).

    nice .venv/bin/python benchmarks/merge_duplicates.py

Per step: precipitates counted, the share of the image's pixels held by two or more
precipitates, objects not whole in the label image (painted over by a later one) and, of those,
clicked ones; the area fraction Measure reports next to the objects' summed areas over the image
(equal when nothing is counted twice).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _row(step: str, s, clicked_ids: set[int]) -> str:
    from inference.segmentation.measure import summarise

    held = np.zeros(s.shape, np.int32)
    for o in s.objects:
        held[o.slices] += o.mask
    labels = s.label_image()
    covered = [o.id for o in s.objects if not (labels[o.slices][o.mask] == o.id).all()]
    fraction = {c.class_name: c for c in summarise(s)}["precipitate"].area_fraction
    summed = sum(o.area for o in s.objects) / labels.size
    return (
        f"| {step} | {len(s)} | {(held > 1).mean():.1%} | {len(covered)} "
        f"({len(clicked_ids & set(covered))}) | {fraction:.3f} | {summed:.3f} |"
    )


def main() -> None:
    from test_merging import SAMPLE, clicked_precipitates

    from inference.imaging.display import to_display, to_rgb
    from inference.imaging.io import read_micrograph
    from inference.segmentation.automatic import segment_everything, to_objects
    from inference.segmentation.merging import apply_merge, merge_objects
    from inference.segmentation.microstructure import MapParams, build_map, map_objects
    from inference.segmentation.sam import SamModel

    model = SamModel(use_cache=False)
    display = to_display(read_micrograph(SAMPLE))
    rgb = to_rgb(display)
    embedding = model.embed(rgb)
    masks = segment_everything(model, embedding)
    mapped = build_map(display, masks, MapParams())
    print(f"segment everything: {len(masks)} masks; map: {mapped.labels.max()} particles\n")
    print("| step | precipitates | pixels in ≥ 2 | not whole in label image (clicked) "
          "| area fraction | summed areas / image |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for how in ("appended (before)", "merged (after)"):
        s = clicked_precipitates(model, rgb, embedding)
        clicked = {o.id for o in s.objects}
        print(_row(f"{how}: 9 clicks", s, clicked))
        for step, objs in (
            ("+ everything", to_objects(masks, "precipitate", 1)),
            ("+ map", map_objects(mapped, "precipitate", 1)),
        ):
            if how.startswith("merged"):
                result = merge_objects(s, objs)
                apply_merge(s, result)
                step += f" ({result.message})"
            else:
                for obj in objs:  # what the pane did: every mask on top, renumbered
                    s.add(dataclasses.replace(obj, id=s.next_id()))
            print(_row(f"{how}: {step}", s, clicked))


if __name__ == "__main__":
    main()
