"""Automatic results join existing objects without duplicates (`merging`), on the issue's case
rebuilt with the exported MobileSAM: 9 clicked precipitates, then segment everything, then the
microstructure map, on the bundled superalloy micrograph (NASA MicroNet Super1/spot2_0d_0)."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest
from conftest import REPO, shared
from test_annotations import blank_set, square

from inference.imaging.calibration import Calibration
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, ImageIdentity
from inference.segmentation.measure import measure, summarise
from inference.segmentation.merging import apply_merge, merge_objects

SAMPLE = REPO / "resources" / "samples" / "superalloy_precipitates.tif"
SAMPLE_TRUTH = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")


def class_pixels(s: AnnotationSet, name: str) -> np.ndarray:
    """How many objects of the class hold each pixel."""
    count = np.zeros(s.shape, np.int32)
    for o in s.objects:
        if o.class_name == name:
            count[o.slices] += o.mask
    return count


# --- the rule on squares -----------------------------------------------------------------------
def test_a_mask_mostly_covered_is_dropped_and_a_partial_overlap_is_clipped():
    s = blank_set()
    s.add(square(1, 10, 10, 10, "precipitate"))
    found_again = square(50, 11, 11, 10, "precipitate")  # 81 of 100 px taken
    beside = square(51, 10, 16, 10, "precipitate")  # 40 of 100 px taken
    elsewhere = square(52, 40, 40, 5, "precipitate")
    result = merge_objects(s, [found_again, beside, elsewhere])
    assert (len(result.added), result.dropped, result.clipped) == (2, 1, 1)
    assert [o.id for o in result.added] == [2, 3]  # numbered from the set's next id
    clipped = result.added[0]
    assert clipped.area == 60 and clipped.bbox == (20, 10, 26, 20)
    assert result.added[1].same_pixels(elsewhere)
    assert len(s) == 1  # pure: the set is unchanged until applied
    apply_merge(s, result)
    assert class_pixels(s, "precipitate").max() == 1
    assert result.message == "added 2, 1 already there (left out), 1 trimmed where they overlapped"


def test_the_threshold_is_half_the_new_mask():
    s = blank_set()
    s.add(square(1, 0, 0, 10, "pore"))
    half = AnnotatedObject(9, "pore", np.ones((10, 20), bool), (0, 0))  # exactly 50 % taken
    less = AnnotatedObject(9, "pore", np.ones((10, 21), bool), (0, 0))  # 47.6 % taken
    assert merge_objects(s, [half]).dropped == 1
    kept = merge_objects(s, [less]).added
    assert len(kept) == 1 and kept[0].area == 110


def test_new_masks_do_not_stack_on_each_other_and_slivers_go():
    s = blank_set((64, 64))
    big = square(1, 0, 0, 20, "grain")
    nested = square(2, 5, 5, 6, "grain")  # inside the first: dropped
    wider = AnnotatedObject(3, "grain", np.ones((21, 20), bool), (0, 0))  # 95 % taken: dropped
    spanning = np.zeros((20, 45), bool)
    spanning[:, :20] = True  # taken by `big`
    spanning[:8, 21] = True  # a detached 8 px sliver
    spanning[:, 25:] = True  # 400 px of its own
    result = merge_objects(s, [big, nested, wider, AnnotatedObject(4, "grain", spanning)])
    assert [o.area for o in result.added] == [400, 400]
    assert result.added[1].bbox == (25, 0, 45, 20)  # the sliver went with the taken part
    assert (result.dropped, result.clipped) == (2, 1)


def test_other_classes_are_kept_apart_unless_asked():
    s = blank_set()
    s.add(square(1, 0, 0, 10, "precipitate"))
    matrix = AnnotatedObject(5, "matrix", np.ones((10, 30), bool), (0, 0))
    assert merge_objects(s, [matrix]).added[0].area == 300  # another class may overlap
    assert merge_objects(s, [matrix], across_classes=True).added[0].area == 200


def test_replace_takes_out_the_class_and_keeps_the_others():
    s = blank_set()
    s.add(square(1, 0, 0, 10, "pore"))
    s.add(square(2, 30, 30, 10, "grain"))
    result = merge_objects(s, [square(7, 2, 2, 10, "pore")], policy="replace")
    assert [o.id for o in result.removed] == [1]
    assert len(result.added) == 1 and result.added[0].area == 100 and result.added[0].id == 3
    apply_merge(s, result)
    assert sorted((o.id, o.class_name) for o in s.objects) == [(2, "grain"), (3, "pore")]
    with pytest.raises(ValueError, match="keep' or 'replace"):
        merge_objects(s, [], policy="merge")  # type: ignore[arg-type]


def test_running_the_same_tool_twice_adds_nothing():
    s = blank_set()
    masks = [square(i, 8 * i, 8 * i, 6, "precipitate") for i in range(1, 6)]
    apply_merge(s, merge_objects(s, masks))
    again = merge_objects(s, masks)
    assert (len(again.added), again.dropped) == (0, 5)


# --- the case with real SAM ------------------------------------------------------------
@pytest.fixture(scope="module")
def superalloy(sam_model):
    from inference.imaging.display import to_display, to_rgb
    from inference.imaging.io import read_micrograph

    display = to_display(read_micrograph(SAMPLE))
    rgb = to_rgb(display)
    return display, rgb, sam_model.embed(rgb)


def clicked_precipitates(sam_model, rgb, embedding) -> AnnotationSet:
    """Nine clicks, one inside each of the nine largest secondary precipitates the
    metallographer marked (red in the ground truth), each accepted as ClickSession first
    shows it; answered from the whole-image embedding (zoom=False), since the zoom window
    encodes a crop per click, which would triple the test's time."""
    import tifffile
    from scipy import ndimage as ndi

    from inference.segmentation.clicks import ClickSession

    truth = tifffile.imread(shared(*SAMPLE_TRUTH), key=0)[..., :3].astype(int)
    regions, _ = cast(
        "tuple[np.ndarray, int]",
        ndi.label((truth == (255, 0, 0)).all(axis=2), np.ones((3, 3), bool)),
    )
    sizes = np.bincount(regions.ravel())
    sizes[0] = 0
    session = ClickSession(sam_model, embedding, image=rgb)
    s = AnnotationSet(
        rgb.shape[:2], ImageIdentity("superalloy.tif", "0" * 64), Calibration(0.05, "µm")
    )
    for k in np.argsort(-sizes)[:9]:
        ys, xs = np.nonzero(regions == k)
        pick = np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2)  # central, inside it
        shown = session.predict([(float(xs[pick]), float(ys[pick]), 1)], zoom=False)[0]
        crop, offset = shown.mask_crop()
        s.add(AnnotatedObject(s.next_id(), "precipitate", crop, offset, score=shown.score))
    return s


def test_clicks_then_everything_then_map_count_each_precipitate_once(sam_model, superalloy):
    from inference.segmentation.automatic import AutoParams, segment_everything, to_objects
    from inference.segmentation.microstructure import MapParams, build_map, map_objects

    display, rgb, embedding = superalloy
    s = clicked_precipitates(sam_model, rgb, embedding)
    clicked = s.objects
    assert len(clicked) == 9

    masks = segment_everything(sam_model, embedding, AutoParams(points_per_side=16))
    everything = merge_objects(s, to_objects(masks, "precipitate", 1))
    apply_merge(s, everything)
    # most clicked precipitates are found again by segment everything: dropped, not stacked
    assert everything.dropped >= 5
    assert len(s) == 9 + len(everything.added) < 9 + len(masks)

    mapped = map_objects(build_map(display, masks, MapParams()), "precipitate", 1)
    after_map = merge_objects(s, mapped)
    apply_merge(s, after_map)
    # the map's particles are the same precipitates: nearly all already there
    assert after_map.dropped >= 0.8 * len(mapped)

    precipitates = [o for o in s.objects if o.class_name == "precipitate"]
    # no pixel in two precipitates ...
    assert class_pixels(s, "precipitate").max() == 1
    # ... so the area fraction is the objects' areas over the image, and the count agrees
    summary = {c.class_name: c for c in summarise(s)}["precipitate"]
    assert summary.count == len(precipitates) == len(s)
    total = sum(o.area for o in precipitates)
    assert summary.area_px == total
    assert summary.area_fraction == pytest.approx(total / rgb.shape[0] / rgb.shape[1])
    mean_area = np.mean([m.area for m in measure(s)])
    assert summary.area == pytest.approx(mean_area * summary.count)
    # every object, the clicked ones first, is whole in the label image under its id
    labels = s.label_image()
    for obj in s.objects:
        assert (labels[obj.slices][obj.mask] == obj.id).all(), f"object {obj.id} is covered"
    for obj in clicked:
        assert s.get(obj.id) is obj  # kept as clicked
    ids, counts = np.unique(labels[labels > 0], return_counts=True)
    assert dict(zip(ids.tolist(), counts.tolist(), strict=True)) == {o.id: o.area for o in s}
