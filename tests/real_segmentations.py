"""Real segmentations for the export round trips (tests and benchmarks/export_round_trip.py).

- The bundled superalloy micrograph (NASA MicroNet Super1/spot2_0d_0) outlined by MobileSAM, one
  click at the innermost pixel of each of the 40 largest annotated precipitates, merged as
  automatic results are (no overlaps), then edited as a user would: four objects cut in two by
  the eraser, holes erased in three, objects deleted (gaps in the ids), one-pixel brush dabs on
  the image border and a one-pixel-wide diagonal crack.
- The metallographers' ground truth of the four Super1 test images (secondary precipitates
  and tertiary ones, each 8-connected piece an object) and of the three EBC1 test images
  (oxide and crack regions: large objects with many holes, long thin cracks).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import tifffile
from conftest import REPO, shared
from test_annotations import CAL, ground_truth

from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
    objects_from_labels,
    paint_stroke,
)
from inference.segmentation.merging import apply_merge, merge_objects

SAMPLE = REPO / "resources" / "samples" / "superalloy_precipitates.tif"
SUPER1 = ("spot2_0d_0", "spot2_0d_4", "spot2_180d_3", "spot2_180d_5")
EBC1 = ("040617_2_S127(2)0015", "050317_3_S0440016", "070516_1_S1160030")


def sam_edited_set(sam_model) -> AnnotationSet:
    """The sample outlined by SAM, one click at the innermost pixel of each of the 40 largest
    ground-truth precipitates, then edited (see the module docstring)."""
    from scipy import ndimage as ndi

    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph

    rgb = to_rgb(read_micrograph(SAMPLE))
    embedding = sam_model.embed(rgb)
    red, blue = ground_truth()
    regions, _ = cast("tuple[np.ndarray, int]", ndi.label(red | blue, np.ones((3, 3), bool)))
    found = ndi.find_objects(regions)
    sizes = np.bincount(regions.ravel())[1:]
    s = AnnotationSet(rgb.shape[:2], ImageIdentity(SAMPLE.name, "0" * 64), CAL)
    clicked = []
    for k in np.argsort(-sizes)[:40]:
        depth = cast("np.ndarray", ndi.distance_transform_edt(regions[found[k]] == k + 1))
        y, x = np.unravel_index(np.argmax(depth), depth.shape)
        click = (float(x + found[k][1].start), float(y + found[k][0].start), 1)
        best = max(sam_model.predict(embedding, [click]), key=lambda c: c.score)
        crop, offset = best.mask_crop()
        if crop.any() and crop.sum() < 0.2 * red.size:
            clicked.append(AnnotatedObject(0, "precipitate", crop, offset, score=best.score))
    apply_merge(s, merge_objects(s, clicked))  # as automatic results: no overlaps
    by_size = sorted(s.objects, key=lambda o: -o.area)
    for obj in by_size[:4]:  # the eraser cuts the four largest in two
        x0, y0, x1, y1 = obj.bbox
        path = [((x0 + x1) / 2, y0 - 2), ((x0 + x1) / 2, y1 + 2)]
        cut = paint_stroke(obj, path, 2, True, s.shape)
        assert cut is not None
        s.replace(cut)
    for obj in by_size[4:7]:  # ... and erases a hole in the next three
        cy, cx = np.argwhere(obj.mask).mean(axis=0)  # the centre of mass of the object's pixels
        holed = paint_stroke(obj, [(obj.offset[1] + cx, obj.offset[0] + cy)], 2.5, True, s.shape)
        assert holed is not None
        s.replace(holed)
    for obj in by_size[8::5]:  # deleted objects leave gaps in the ids
        s.remove(obj.id)
    free = s.label_image() == 0
    border = [(x, 0) for x in range(512)] + [(511, y) for y in range(512)]
    for x, y in [(x, y) for x, y in border if free[y, x]][::150][:3]:  # one-pixel dabs
        dab = paint_stroke(None, [(x, y)], 0, False, s.shape, new_id=s.next_id(), class_name="pore")
        assert dab is not None and dab.area == 1
        s.add(dab)
    diagonal = np.eye(7, dtype=bool)
    rows, cols = np.nonzero(np.lib.stride_tricks.sliding_window_view(free, (7, 7)).all(axis=(2, 3)))
    s.add(AnnotatedObject(s.next_id(), "crack", diagonal, (int(rows[0]), int(cols[0]))))
    return s


def ground_truth_sets() -> list[tuple[str, AnnotationSet]]:
    from skimage.measure import label

    from inference.segmentation.labels import annotations_from_labels

    sets = []
    for stem in SUPER1:
        rgba = tifffile.imread(
            shared("segmentation", "nasa_micronet", "Super1", "test_annot", f"{stem}_mask.tif"),
            is_shaped=False,
        )
        rgb = rgba[..., :3].astype(int)
        secondary = cast("np.ndarray", label((rgb == (255, 0, 0)).all(axis=2)))
        tertiary = cast("np.ndarray", label((rgb == (0, 0, 255)).all(axis=2)))
        objects = objects_from_labels(secondary, "precipitate") + objects_from_labels(
            tertiary, "tertiary", first_id=int(secondary.max()) + 1
        )
        s = AnnotationSet(rgb.shape[:2], ImageIdentity(stem, "0" * 64), CAL)
        s.add_class("tertiary")
        for obj in objects:
            s.add(obj)
        sets.append((f"Super1 {stem}", s))
    for stem in EBC1:
        classes = tifffile.imread(
            shared("segmentation", "nasa_micronet", "EBC1", "test_annot", f"{stem}.tif")
        )
        s = annotations_from_labels(
            classes, ImageIdentity(stem, "0" * 64), CAL, class_names=["oxide", "crack"]
        )
        sets.append((f"EBC1 {stem}", s))
    return sets
