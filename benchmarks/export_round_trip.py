"""The export round-trip table: how many objects each export gives back exactly when read with
the tool it is meant for (tifffile, pycocotools, roifile, pandas).

    nice .venv/bin/python benchmarks/export_round_trip.py [--code DIR]

The objects are real segmentations (tests/real_segmentations.py): the bundled superalloy
micrograph outlined by MobileSAM and edited (cuts, holes, one-pixel dabs, deletions), and the
ground truth of the Super1 and EBC1 test images. They are built with this checkout's code and
handed over as plain arrays, so `--code DIR` writes the exports with another checkout's code
(e.g. main, for the figures before a change) on exactly the same objects.

An object is exact when the pixels the consumer gives back for it are its pixels:
- label TIFF: the pixels whose value is the object's id;
- COCO: pycocotools `annToMask` of the annotation whose id is the object's id;
- ImageJ ROIs: the ROI named `<class>-<id>`, rasterised as ImageJ does (pixel centres inside,
  the rings of a composite ROI combined even-odd);
- CSV: the row whose `id` is the object's id has its area in pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_WRITER = r"""
import json, sys
from pathlib import Path
import numpy as np
from inference.imaging.calibration import Calibration
from inference.segmentation import export
from inference.segmentation.annotations import (
    AnnotatedObject, AnnotationSet, ImageIdentity, ObjectClass)

folder = Path(sys.argv[1])
for meta_path in sorted(folder.glob("set*.json")):
    meta = json.loads(meta_path.read_text())
    arrays = np.load(meta_path.with_suffix(".npz"))
    classes = [ObjectClass(c["name"], tuple(c["colour"])) for c in meta["classes"]]
    objects = [
        AnnotatedObject(o["id"], o["class"], arrays[f"m{i}"], tuple(o["offset"]))
        for i, o in enumerate(meta["objects"])
    ]
    s = AnnotationSet(tuple(meta["shape"]), ImageIdentity(meta["name"], "0" * 64),
                      Calibration(*meta["calibration"]), classes, objects)
    stem = meta_path.with_suffix("")
    export.write_label_image(s, f"{stem}.labels.tif")
    export.write_coco(s, f"{stem}.coco.json", meta["name"])
    export.write_imagej_rois(s, f"{stem}.rois.zip")
    export.write_csv(s, f"{stem}.csv")
"""


def _save(sets, folder: Path) -> None:
    for k, (name, s) in enumerate(sets):
        meta = {
            "name": name,
            "shape": list(s.shape),
            "calibration": [s.calibration.pixel_size, s.calibration.unit, s.calibration.source],
            "classes": [{"name": c.name, "colour": list(c.colour)} for c in s.classes],
            "objects": [
                {"id": o.id, "class": o.class_name, "offset": list(o.offset)} for o in s.objects
            ],
        }
        (folder / f"set{k:02d}.json").write_text(json.dumps(meta))
        np.savez_compressed(
            folder / f"set{k:02d}.npz", **{f"m{i}": o.mask for i, o in enumerate(s.objects)}
        )


def _check(s, stem: Path) -> dict[str, int]:
    import pandas as pd
    import roifile
    import tifffile
    from pycocotools.coco import COCO
    from roi_raster import fill_rings

    exact: dict[str, int] = dict.fromkeys(("label TIFF", "COCO", "ImageJ ROI", "CSV"), 0)
    labels = tifffile.imread(f"{stem}.labels.tif")
    coco = COCO(f"{stem}.coco.json")
    read = roifile.roiread(f"{stem}.rois.zip")  # one ROI or a list, as the file holds
    rois = {r.name: r for r in (read if isinstance(read, list) else [read])}
    table = pd.read_csv(f"{stem}.csv", encoding="utf-8-sig").set_index("id")
    for obj in s.objects:
        truth = obj.full_mask(s.shape)
        exact["label TIFF"] += bool(np.array_equal(labels == obj.id, truth))
        if obj.id in coco.anns:
            exact["COCO"] += bool(np.array_equal(coco.annToMask(coco.anns[obj.id]) > 0, truth))
        roi = rois.get(f"{obj.class_name}-{obj.id:04d}")
        if roi is not None:
            x0, y0, x1, y1 = obj.bbox
            window = (x0 - 2, y0 - 2, x1 + 2, y1 + 2)
            drawn = fill_rings(roi.coordinates(multi=True), window, "even-odd")
            inside = np.zeros_like(drawn)
            (oy, ox), (h, w) = obj.offset, obj.mask.shape
            inside[oy - y0 + 2 : oy - y0 + 2 + h, ox - x0 + 2 : ox - x0 + 2 + w] = obj.mask
            exact["ImageJ ROI"] += bool(np.array_equal(drawn, inside))
        if obj.id in table.index:
            exact["CSV"] += int(table.loc[obj.id, "area_px"]) == obj.area
    return exact


def _everything(model):
    """Segment everything on the sample with the app's defaults (32 × 32 points), merged."""
    from real_segmentations import SAMPLE
    from test_annotations import CAL

    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph
    from inference.segmentation.annotations import AnnotationSet, ImageIdentity
    from inference.segmentation.automatic import segment_everything, to_objects
    from inference.segmentation.merging import apply_merge, merge_objects

    rgb = to_rgb(read_micrograph(SAMPLE))
    masks = segment_everything(model, model.embed(rgb))
    s = AnnotationSet(rgb.shape[:2], ImageIdentity(SAMPLE.name, "0" * 64), CAL)
    apply_merge(s, merge_objects(s, to_objects(masks, "precipitate", 1)))
    return "everything, SAM 32×32", s


def main() -> None:
    import warnings

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--code", type=Path, default=REPO, help="checkout whose exports to run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # pycocotools on numpy 2

    from real_segmentations import ground_truth_sets, sam_edited_set

    from inference.segmentation.sam import SamModel

    model = SamModel(use_cache=False)
    sets = [("superalloy, SAM + edits", sam_edited_set(model)), _everything(model)]
    sets += ground_truth_sets()
    code = args.code.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _save(sets, folder)
        env = {**os.environ, "PYTHONPATH": str(code)}
        subprocess.run([sys.executable, "-c", _WRITER, tmp], cwd=code, env=env, check=True)
        groups: dict[str, list] = {}
        for k, (name, s) in enumerate(sets):
            group = name.split(",")[0].split(" ")[0]
            groups.setdefault(group, []).append((s, _check(s, folder / f"set{k:02d}")))
    print(f"\ncode: {code}")
    print("| format | tool | " + " | ".join(f"{g} objects exact" for g in groups) + " |")
    print("|---|---|" + "---|" * len(groups))
    tools = {"label TIFF": "tifffile", "COCO": "pycocotools annToMask", "ImageJ ROI": "roifile"}
    tools["CSV"] = "pandas"
    for fmt, tool in tools.items():
        cells = []
        for rows in groups.values():
            n = sum(len(s) for s, _ in rows)
            cells.append(f"{sum(e[fmt] for _, e in rows)} / {n}")
        print(f"| {fmt} | {tool} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
