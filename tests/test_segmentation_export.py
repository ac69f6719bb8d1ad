"""Measurements and exports read back with the tool each is meant for: tifffile for the label
TIFF (and our reader for its calibration), imageio for PNGs, pycocotools for COCO, roifile for
the ImageJ ROI set, pandas for the CSV.

The round trips run on real segmentations:
- the bundled superalloy micrograph (Super1/spot2_0d_0) outlined by MobileSAM, one click per
  annotated precipitate, then edited as a user would: an object cut in two by the eraser, a hole
  erased in another, one-pixel brush dabs, objects on the image border, deleted objects (gaps
  in the ids);
- the metallographers' ground truth of the Super1 and EBC1 test images (EBC1: oxide layers and
  cracks, each region an object: large objects with many holes, long thin cracks).
"""

from __future__ import annotations

import csv
import json

import imageio.v3 as iio
import numpy as np
import pytest
import roifile
import tifffile
from conftest import REPO, shared
from skimage.draw import polygon
from test_annotations import CAL, blank_set, ground_truth, square, super1_set

from inference.errors import MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation import export
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
    objects_from_labels,
    paint_stroke,
)
from inference.segmentation.measure import measure, summarise
from inference.segmentation.merging import apply_merge, merge_objects
from inference.segmentation.outlines import pixel_outlines

SAMPLE = REPO / "resources" / "samples" / "superalloy_precipitates.tif"
SUPER1 = ("spot2_0d_0", "spot2_0d_4", "spot2_180d_3", "spot2_180d_5")
EBC1 = ("040617_2_S127(2)0015", "050317_3_S0440016", "070516_1_S1160030")

# pycocotools 2.0 with numpy 2 warns on every decode; the decoded masks are what is tested
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def annotated():
    return super1_set()


# --- real segmentations ------------------------------------------------------------------------
def sam_edited_set(sam_model) -> AnnotationSet:
    """The sample outlined by SAM, one click at the innermost pixel of each of the 40 largest
    ground-truth precipitates, then edited (see the module docstring)."""
    from scipy import ndimage as ndi

    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph

    rgb = to_rgb(read_micrograph(SAMPLE))
    embedding = sam_model.embed(rgb)
    red, blue = ground_truth()
    regions, _ = ndi.label(red | blue, np.ones((3, 3), bool))
    found = ndi.find_objects(regions)
    sizes = np.bincount(regions.ravel())[1:]
    s = AnnotationSet(rgb.shape[:2], ImageIdentity(SAMPLE.name, "0" * 64), CAL)
    clicked = []
    for k in np.argsort(-sizes)[:40]:
        depth = ndi.distance_transform_edt(regions[found[k]] == k + 1)
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
        cy, cx = ndi.center_of_mass(obj.mask)
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
        secondary = label((rgb == (255, 0, 0)).all(axis=2))
        tertiary = label((rgb == (0, 0, 255)).all(axis=2))
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


@pytest.fixture(scope="module")
def real_sets(sam_model) -> list[tuple[str, AnnotationSet]]:
    return [("superalloy, SAM + edits", sam_edited_set(sam_model)), *ground_truth_sets()]


def test_the_real_sets_hold_the_hard_cases(real_sets):
    from inference.segmentation.outlines import has_holes

    objects = [o for _, s in real_sets for o in s.objects]
    parts = [sum(not r.hole for r in pixel_outlines(o.mask)) for o in objects]
    assert sum(p > 1 for p in parts) >= 5
    assert sum(has_holes(o.mask) for o in objects) >= 5
    assert sum(o.area <= 3 for o in objects) >= 3
    assert sum(1 for _, s in real_sets for m in measure(s) if m.touches_border) >= 20
    sam_set = real_sets[0][1]
    ids = [o.id for o in sam_set.objects]
    assert ids != list(range(1, len(ids) + 1))  # gaps after deletions


# --- helpers: rasterise what the consumers read ------------------------------------------------
def window_of(obj: AnnotatedObject) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = obj.bbox
    return x0 - 1, y0 - 1, x1 + 1, y1 + 1  # one pixel around: anything drawn outside shows


def fill_rings(rings: list[np.ndarray], window, rule: str) -> np.ndarray:
    """Pixels whose centres lie inside the rings (pixel-corner coordinates, as ImageJ), under
    the even-odd or the non-zero winding rule, in `window` = (x0, y0, x1, y1); any polygon."""
    x0, y0, x1, y1 = window
    total = np.zeros((y1 - y0, x1 - x0), np.int32)
    for xy in rings:
        xy = np.asarray(xy, float)
        rr, cc = polygon(xy[:, 1] - 0.5 - y0, xy[:, 0] - 0.5 - x0, total.shape)
        if rule == "even-odd":
            total[rr, cc] ^= 1
        else:
            x, y = xy[:, 0], xy[:, 1]
            total[rr, cc] += 1 if np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0 else -1
    return total != 0


def fill_rectilinear(rings: list[np.ndarray], window, rule: str) -> np.ndarray:
    """`fill_rings` for rings of horizontal and vertical edges only (asserted), by scanlines:
    a vertical edge at x = X from y = a to b crosses the centres of rows a..b-1, and every pixel
    centre right of it, so the winding number is a running sum along each row. Fast for an
    oxide layer with thousands of vertices and hundreds of holes."""
    x0, y0, x1, y1 = window
    crossings = np.zeros((y1 - y0, x1 - x0 + 1), np.int32)
    for xy in rings:
        xy = np.asarray(xy, float)
        nxt = np.roll(xy, -1, axis=0)
        assert ((xy[:, 0] == nxt[:, 0]) | (xy[:, 1] == nxt[:, 1])).all(), "a slanted edge"
        assert np.array_equal(xy, np.round(xy)), "a vertex off the pixel corners"
        vertical = (xy[:, 0] == nxt[:, 0]) & (xy[:, 1] != nxt[:, 1])
        for (x, ya), (_, yb) in zip(xy[vertical], nxt[vertical], strict=True):
            lo, hi = int(min(ya, yb)) - y0, int(max(ya, yb)) - y0
            crossings[lo:hi, int(x) - x0] += 1 if yb > ya else -1
    winding = np.cumsum(crossings, axis=1)[:, :-1]
    return (winding % 2 == 1) if rule == "even-odd" else (winding != 0)


def object_in(obj: AnnotatedObject, window) -> np.ndarray:
    x0, y0, x1, y1 = window
    out = np.zeros((y1 - y0, x1 - x0), bool)
    (oy, ox), (h, w) = obj.offset, obj.mask.shape
    out[oy - y0 : oy - y0 + h, ox - x0 : ox - x0 + w] = obj.mask
    return out


# --- outlines ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mask",
    [
        np.ones((1, 1), bool),
        np.eye(4, dtype=bool),  # diagonal pixels: one 8-connected part
        np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], bool),
        np.pad(np.pad(np.ones((1, 1), bool), 2), 1, constant_values=True),  # island in a hole
        np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]], bool),
    ],
)
def test_pixel_outlines_fill_back_exactly_under_both_rules(mask):
    obj = AnnotatedObject(1, "grain", mask, (3, 5))
    rings = pixel_outlines(obj.mask, obj.offset)
    for rule in ("even-odd", "non-zero"):
        got = fill_rings([r.xy for r in rings], window_of(obj), rule)
        assert np.array_equal(got, object_in(obj, window_of(obj))), rule
        # the fast scanline fill of the ROI test agrees with scikit-image's polygon
        assert np.array_equal(fill_rectilinear([r.xy for r in rings], window_of(obj), rule), got)
    assert all(np.array_equal(r.xy, np.round(r.xy)) for r in rings)  # on pixel corners
    assert all((r.signed_area < 0) == r.hole for r in rings)


def test_a_single_pixel_is_its_four_corners():
    (ring,) = pixel_outlines(np.ones((1, 1), bool), (7, 3))
    assert sorted(map(tuple, ring.xy.tolist())) == [(3, 7), (3, 8), (4, 7), (4, 8)]


# --- measurements ------------------------------------------------------------------------------
def test_phase_fraction_equals_the_ground_truth_pixel_fraction(annotated):
    red, blue = ground_truth()
    by_class = {s.class_name: s for s in summarise(annotated)}
    assert by_class["precipitate"].area_fraction == pytest.approx(red.mean())
    assert by_class["matrix"].area_fraction == pytest.approx(blue.mean())
    assert by_class["grain"].count == 0 and by_class["grain"].area_fraction == 0
    image_area = red.size * CAL.pixel_size**2
    count = sum(1 for o in annotated.objects if o.class_name == "precipitate")
    assert by_class["precipitate"].count == count
    assert by_class["precipitate"].number_density == pytest.approx(count / image_area)
    assert by_class["precipitate"].area == pytest.approx(red.sum() * CAL.pixel_size**2)


def test_measurements_are_calibrated(annotated):
    rows = measure(annotated)
    assert [m.id for m in rows] == [o.id for o in annotated.objects]
    for m, obj in zip(rows, annotated.objects, strict=True):
        assert m.area_px == obj.area
        assert m.area == pytest.approx(obj.area * 0.05**2)
        assert m.equivalent_diameter == pytest.approx(2 * np.sqrt(obj.area / np.pi) * 0.05)
        x0, y0, x1, y1 = obj.bbox
        assert x0 <= m.centroid_x < x1 and y0 <= m.centroid_y < y1
        assert m.unit == "µm"
    assert any(m.touches_border for m in rows) and not all(m.touches_border for m in rows)


@pytest.mark.parametrize(
    ("mask", "angle"),
    [
        (np.ones((4, 40), bool), 0.0),  # horizontal
        (np.ones((40, 4), bool), 90.0),  # vertical
        (np.fliplr(np.eye(30, dtype=bool) | np.eye(30, k=1, dtype=bool)), 45.0),  # up-right
    ],
)
def test_orientation_follows_imagej(mask, angle):
    s = blank_set()
    s.add(AnnotatedObject(1, "grain", mask, (5, 5)))
    m = measure(s)[0]
    assert m.orientation == pytest.approx(angle, abs=1.0)
    assert m.aspect_ratio > 5


def test_a_one_pixel_object_is_measured():
    s = blank_set()
    s.add(AnnotatedObject(1, "pore", np.ones((1, 1), bool), (10, 10)))
    (m,) = measure(s)
    assert m.area_px == 1 and m.centroid_x == 10 and m.centroid_y == 10
    assert m.equivalent_diameter == pytest.approx(2 / np.sqrt(np.pi))


# --- label images ------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_label_image_values_are_the_object_ids(real_sets, tmp_path, suffix):
    s = real_sets[0][1]
    path = export.write_label_image(s, tmp_path / f"labels{suffix}")
    back = iio.imread(path) if suffix == ".png" else tifffile.imread(path)
    assert back.dtype == np.uint16
    assert np.array_equal(back, s.label_image())
    for obj in s.objects:  # no overlaps here: every object is whole under its id
        assert (back[obj.slices][obj.mask] == obj.id).all()
    assert set(np.unique(back)) == {0, *(o.id for o in s.objects)}


def test_the_label_tiff_carries_the_calibration_for_imagej(annotated, tmp_path):
    from inference.imaging.io import read_micrograph

    path = export.write_label_image(annotated, tmp_path / "labels.tif")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        assert tif.imagej_metadata["unit"] == "um"  # ImageJ shows it as µm
        page = tif.pages[0]
        x_num, x_den = page.tags["XResolution"].value
        y_num, y_den = page.tags["YResolution"].value
        assert x_num / x_den == pytest.approx(1 / 0.05) and y_num / y_den == pytest.approx(20)
        assert np.array_equal(page.asarray(), annotated.label_image())
    back = read_micrograph(path).calibration  # our reader picks a readable unit (nm here)
    assert back.calibrated and back.to("µm").pixel_size == pytest.approx(0.05)
    uncalibrated = blank_set()
    uncalibrated.add(square(1, 0, 0, 4))
    with tifffile.TiffFile(export.write_label_image(uncalibrated, tmp_path / "px.tif")) as tif:
        assert "unit" not in (tif.imagej_metadata or {})


def test_ids_above_65535_need_a_32_bit_tiff(tmp_path):
    s = blank_set()
    s.add(square(70000, 0, 0, 4))
    s.add(square(3, 10, 10, 4))
    path = export.write_label_image(s, tmp_path / "labels.tif")
    back = tifffile.imread(path)
    assert back.dtype == np.uint32 and back[0, 0] == 70000 and back[10, 10] == 3
    with pytest.raises(MatLensError, match="save the label image as .tif"):
        export.write_label_image(s, tmp_path / "labels.png")


def test_label_image_needs_a_known_extension(annotated, tmp_path):
    with pytest.raises(MatLensError, match="png or .tif"):
        export.write_label_image(annotated, tmp_path / "labels.jpg")


def test_class_masks_only_for_classes_with_objects(annotated, tmp_path):
    red, blue = ground_truth()
    paths = export.write_class_masks(annotated, tmp_path / "masks", prefix="spot2_")
    assert sorted(p.name for p in paths) == ["spot2_matrix.png", "spot2_precipitate.png"]
    masks = {p.stem.removeprefix("spot2_"): iio.imread(p) for p in paths}
    for m in masks.values():
        assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 255}
    assert np.array_equal(masks["precipitate"] == 255, red)
    assert np.array_equal(masks["matrix"] == 255, blue)
    assert export.safe_file_name("γ' / prime?") == "γ_prime"


# --- COCO --------------------------------------------------------------------------------------
@pytest.mark.parametrize("segmentation", ["polygon", "rle"])
def test_coco_ann_to_mask_is_exact_for_every_object(real_sets, tmp_path, segmentation):
    from pycocotools.coco import COCO

    exact = total = 0
    for name, s in real_sets:
        path = export.write_coco(s, tmp_path / "coco.json", f"{name}.tif", segmentation)
        coco = COCO(str(path))
        for obj in s.objects:
            ann = coco.anns[obj.id]
            got = coco.annToMask(ann).astype(bool)
            exact += np.array_equal(got, obj.full_mask(s.shape))
            total += 1
            if segmentation == "polygon" and isinstance(ann["segmentation"], list):
                assert all(
                    len(p) >= 8 and float(v).is_integer() for p in ann["segmentation"] for v in p
                )
    assert exact == total, f"{exact} of {total} objects exact"


def test_coco_records_and_categories(annotated, tmp_path):
    path = export.write_coco(annotated, tmp_path / "coco.json", "spot2_0d_0.tif")
    coco = json.loads(path.read_text(encoding="utf-8"))
    assert coco["images"] == [
        {
            "id": 1,
            "file_name": "spot2_0d_0.tif",
            "width": 512,
            "height": 512,
            "pixel_size": 0.05,
            "unit": "µm",
        }
    ]
    categories = {c["id"]: c["name"] for c in coco["categories"]}
    assert sorted(categories) == list(range(1, len(annotated.classes) + 1))
    for ann, obj in zip(coco["annotations"], annotated.objects, strict=True):
        assert ann["id"] == obj.id and ann["image_id"] == 1 and ann["iscrowd"] == 0
        assert categories[ann["category_id"]] == obj.class_name
        assert ann["area"] == obj.area
        x0, y0, x1, y1 = obj.bbox
        assert ann["bbox"] == [x0, y0, x1 - x0, y1 - y0]
        assert ann.get("score") == obj.score


def test_coco_keeps_holes_and_parts():
    from pycocotools import mask as coco_mask

    ring = np.ones((12, 10), bool)
    ring[4:8, 3:7] = False
    ring[5, 5] = True  # an island in the hole
    two = np.zeros((20, 30), bool)
    two[:5, :5] = True
    two[10:, 10:] = True
    s = blank_set((40, 40))
    s.add(AnnotatedObject(1, "grain", ring, (5, 7)))
    s.add(AnnotatedObject(2, "grain", two, (20, 5)))
    holed, parted = (json.loads(json.dumps(export.coco_annotation(s, o))) for o in s.objects)
    assert isinstance(holed["segmentation"], dict)  # a hole: RLE
    assert isinstance(parted["segmentation"], list) and len(parted["segmentation"]) == 2
    for record, obj in zip((holed, parted), s.objects, strict=True):
        segm = record["segmentation"]
        rles = coco_mask.frPyObjects(segm, 40, 40)
        rle = coco_mask.merge(rles) if isinstance(rles, list) else rles
        assert np.array_equal(coco_mask.decode(rle).astype(bool), obj.full_mask(s.shape))


# --- ImageJ ------------------------------------------------------------------------------------
def test_imagej_rois_rasterise_to_the_same_pixels(real_sets, tmp_path):
    exact = total = composite = 0
    for _, s in real_sets:
        path = tmp_path / "rois.zip"
        path.write_bytes(b"stale")  # an old export is replaced, not appended to
        export.write_imagej_rois(s, path)
        rois = roifile.roiread(path)
        assert [r.name for r in rois] == [f"{o.class_name}-{o.id:04d}" for o in s.objects]
        for roi, obj in zip(rois, s.objects, strict=True):
            rings = roi.coordinates(multi=True)
            composite += roi.composite
            if not roi.composite:
                assert roi.roitype == roifile.ROI_TYPE.TRACED and len(rings) == 1
            window = window_of(obj)
            truth = object_in(obj, window)
            ok = all(
                np.array_equal(fill_rectilinear(rings, window, r), truth)
                for r in ("even-odd", "non-zero")
            )
            exact += ok
            total += 1
    assert composite >= 10
    assert exact == total, f"{exact} of {total} ROIs exact"


# --- one id everywhere -------------------------------------------------------------------------
def test_one_id_per_object_across_every_export(real_sets, tmp_path):
    import pandas as pd
    from pycocotools.coco import COCO

    s = real_sets[0][1]
    labels = tifffile.imread(export.write_label_image(s, tmp_path / "labels.tif"))
    coco = COCO(str(export.write_coco(s, tmp_path / "coco.json", "x.tif")))
    rois = roifile.roiread(export.write_imagej_rois(s, tmp_path / "rois.zip"))
    table = pd.read_csv(export.write_csv(s, tmp_path / "objects.csv"), encoding="utf-8-sig")
    ids = [o.id for o in s.objects]
    assert sorted(coco.anns) == sorted(ids)
    assert [int(r.name.rsplit("-", 1)[1]) for r in rois] == ids
    assert table["id"].tolist() == ids
    areas = dict(zip(*np.unique(labels[labels > 0], return_counts=True), strict=True))
    for row in table.itertuples():
        assert areas[row.id] == row.area_px == coco.anns[row.id]["area"]


# --- CSV ---------------------------------------------------------------------------------------
def read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_areas_are_in_calibrated_units(annotated, tmp_path):
    rows = read_csv(export.write_csv(annotated, tmp_path / "objects.csv"))
    assert len(rows) == len(annotated)
    header = list(rows[0])
    assert header[:3] == ["id", "class", "area_px"]
    assert "area_µm²" in header and "equivalent_diameter_µm" in header
    assert "perimeter_µm" in header and "centroid_x_px" in header
    for row, obj in zip(rows, annotated.objects, strict=True):
        assert int(row["id"]) == obj.id and row["class"] == obj.class_name
        assert int(row["area_px"]) == obj.area
        assert float(row["area_µm²"]) == pytest.approx(obj.area * 0.05**2, rel=1e-9)
        assert row["score"] == ("" if obj.score is None else "0.9")


def test_csv_is_labelled_px_when_uncalibrated(tmp_path):
    s = blank_set()
    s.add(square(1, 0, 0, 10))
    s.add(AnnotatedObject(2, "crack", np.ones((1, 20), bool), (30, 5)))  # a one-pixel line
    rows = read_csv(export.write_csv(s, tmp_path / "objects.csv"))
    assert "area_px²" in rows[0] and "equivalent_diameter_px" in rows[0]
    assert not any("µm" in key for key in rows[0])
    assert float(rows[0]["area_px²"]) == 100
    assert rows[0]["score"] == ""  # no score: an empty cell
    assert rows[1]["aspect_ratio"] == ""  # undefined (minor axis 0): empty, not "nan"


def test_summary_csv_has_the_classes_with_objects(annotated, tmp_path):
    path = export.write_summary_csv(annotated, tmp_path / "summary.csv", delimiter=";")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(";") == [
        "class",
        "count",
        "area_px",
        "area_µm²",
        "area_fraction",
        "number_density_per_µm²",
    ]
    assert sorted(line.split(";")[0] for line in lines[1:]) == ["matrix", "precipitate"]


def test_uncalibrated_summary(tmp_path):
    s = blank_set((10, 10))
    s.add(square(1, 0, 0, 5, "pore"))
    pore = {x.class_name: x for x in summarise(s)}["pore"]
    assert pore.area_fraction == 0.25 and pore.number_density == 0.01 and pore.unit == "px"
    assert Calibration().area_unit == "px²"
