"""Measurements and exports read back with the tool each is meant for: tifffile for the label
TIFF (and our reader for its calibration), imageio for PNGs, pycocotools for COCO, roifile for
the ImageJ ROI set, pandas for the CSV. The round trips run on real segmentations
(tests/real_segmentations.py): the bundled superalloy micrograph outlined by MobileSAM and
edited as a user would, and the metallographers' ground truth of the Super1 and EBC1 test
images."""

from __future__ import annotations

import csv
import json

import imageio.v3 as iio
import numpy as np
import pytest
import roifile
import tifffile
from real_segmentations import ground_truth_sets, sam_edited_set
from roi_raster import fill_rectilinear, fill_rings
from test_annotations import CAL, blank_set, ground_truth, square, super1_set

from inference.errors import MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation import export
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
)
from inference.segmentation.measure import measure, summarise
from inference.segmentation.outlines import pixel_outlines

# pycocotools 2.0 with numpy 2 warns on every decode; the decoded masks are what is tested
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def annotated():
    return super1_set()


# --- real segmentations ------------------------------------------------------------------------
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
        assert tif.is_imagej and tif.imagej_metadata is not None
        assert tif.imagej_metadata["unit"] == "um"  # ImageJ shows it as µm
        page = tif.pages.first
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
        assert isinstance(rois, list)
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
    assert isinstance(rois, list)
    table = pd.read_csv(export.write_csv(s, tmp_path / "objects.csv"), encoding="utf-8-sig")
    ids = [o.id for o in s.objects]
    assert sorted(coco.anns) == sorted(ids)
    assert [int(r.name.rsplit("-", 1)[1]) for r in rois] == ids
    assert table["id"].tolist() == ids
    areas = dict(zip(*np.unique(labels[labels > 0], return_counts=True), strict=True))
    for row in table.to_dict("records"):
        assert areas[row["id"]] == row["area_px"] == coco.anns[row["id"]]["area"]


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
