"""Measurements and exports (label images, class masks, COCO, ImageJ ROIs, CSV) read back."""

from __future__ import annotations

import csv
import json

import imageio.v3 as iio
import numpy as np
import pytest
import roifile
import tifffile
from skimage.draw import polygon
from test_annotations import CAL, blank_set, ground_truth, square, super1_set

from inference.errors import MatLensError
from inference.imaging.calibration import Calibration
from inference.segmentation import export
from inference.segmentation.annotations import AnnotatedObject
from inference.segmentation.measure import measure, summarise


@pytest.fixture(scope="module")
def annotated():
    return super1_set()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def rasterise(polygons, shape) -> np.ndarray:
    out = np.zeros(shape, bool)
    for xy in polygons:
        xy = np.asarray(xy, float).reshape(-1, 2)
        rr, cc = polygon(xy[:, 1], xy[:, 0], shape)
        out[rr, cc] = True
    return out


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
    assert [m.label for m in rows] == list(range(1, len(rows) + 1))
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


# --- rasters -----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_label_image_round_trip(annotated, tmp_path, suffix):
    path = export.write_label_image(annotated, tmp_path / f"labels{suffix}")
    back = iio.imread(path) if suffix == ".png" else tifffile.imread(path)
    assert back.dtype == np.uint16
    assert np.array_equal(back, annotated.label_image(values="position"))
    assert back.max() == len(annotated)
    for position, obj in enumerate(annotated.objects, start=1):
        assert (back[obj.slices][obj.mask] == position).all()


def test_label_image_needs_a_known_extension(annotated, tmp_path):
    with pytest.raises(MatLensError, match="png or .tif"):
        export.write_label_image(annotated, tmp_path / "labels.jpg")


def test_class_masks_are_binary_png_per_class(annotated, tmp_path):
    red, blue = ground_truth()
    paths = export.write_class_masks(annotated, tmp_path / "masks", prefix="spot2_")
    assert [p.name for p in paths] == [f"spot2_{c.name}.png" for c in annotated.classes]
    masks = {p.stem.removeprefix("spot2_"): iio.imread(p) for p in paths}
    for m in masks.values():
        assert m.dtype == np.uint8 and set(np.unique(m)) <= {0, 255}
    assert np.array_equal(masks["precipitate"] == 255, red)
    assert np.array_equal(masks["matrix"] == 255, blue)
    assert not masks["pore"].any()
    assert export.safe_file_name("γ' / prime?") == "γ_prime"


# --- COCO --------------------------------------------------------------------------------------
def test_coco_polygons_rasterise_back_to_the_masks(annotated, tmp_path):
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
    assert len(coco["annotations"]) == len(annotated)
    shape = annotated.shape
    for ann, obj in zip(coco["annotations"], annotated.objects, strict=True):
        assert ann["id"] == obj.id and ann["image_id"] == 1 and ann["iscrowd"] == 0
        assert categories[ann["category_id"]] == obj.class_name
        assert ann["area"] == obj.area
        x0, y0, x1, y1 = obj.bbox
        assert ann["bbox"] == [x0, y0, x1 - x0, y1 - y0]
        assert all(len(p) >= 6 and len(p) % 2 == 0 for p in ann["segmentation"])
        assert iou(rasterise(ann["segmentation"], shape), obj.full_mask(shape)) > 0.9
        assert ann.get("score") == obj.score


def test_coco_rle_is_exact_even_with_holes(tmp_path):
    s = blank_set((40, 30))
    ring = np.ones((12, 10), bool)
    ring[4:8, 3:7] = False
    s.add(AnnotatedObject(1, "grain", ring, (5, 7)))
    s.add(AnnotatedObject(2, "pore", np.ones((40, 2), bool), (0, 28)))  # full height
    path = export.write_coco(s, tmp_path / "c.json", "x.tif", segmentation="rle")
    for ann, obj in zip(json.loads(path.read_text())["annotations"], s.objects, strict=True):
        rle = ann["segmentation"]
        assert rle["size"] == [40, 30]
        counts = np.asarray(rle["counts"])
        assert counts.sum() == 40 * 30
        flat = np.repeat(np.arange(counts.size) % 2 == 1, counts)
        assert np.array_equal(flat.reshape(30, 40).T, obj.full_mask(s.shape))
    # polygons fill the hole; the label image keeps it
    poly = export.outer_contours(s.get(1))
    assert len(poly) == 1 and rasterise(poly, s.shape)[11, 12]


def test_a_multi_part_object_gives_one_polygon_per_part(tmp_path):
    s = blank_set()
    mask = np.zeros((20, 30), bool)
    mask[:5, :5] = True
    mask[10:20, 10:30] = True
    s.add(AnnotatedObject(1, "grain", mask, (2, 3)))
    parts = export.outer_contours(s.get(1))
    assert len(parts) == 2
    assert np.array_equal(rasterise(parts, s.shape), s.get(1).full_mask(s.shape))
    assert rasterise(parts[:1], s.shape).sum() == 200  # largest first


# --- ImageJ ------------------------------------------------------------------------------------
def test_imagej_roi_zip_reads_back(annotated, tmp_path):
    path = tmp_path / "rois.zip"
    path.write_bytes(b"stale")  # an old export is replaced, not appended to
    export.write_imagej_rois(annotated, path)
    rois = roifile.roiread(path)
    assert len(rois) == len(annotated)
    height, width = annotated.shape
    for roi, obj in zip(rois, annotated.objects, strict=True):
        assert roi.name == f"{obj.class_name}-{obj.id:04d}"
        assert roi.roitype == roifile.ROI_TYPE.POLYGON
        xy = roi.coordinates()
        assert (xy[:, 0] >= 0).all() and (xy[:, 0] <= width).all()
        assert (xy[:, 1] >= 0).all() and (xy[:, 1] <= height).all()
        # ImageJ puts (0, 0) at a pixel corner: shift back to pixel centres to rasterise
        assert iou(rasterise([xy - 0.5], annotated.shape), obj.full_mask(annotated.shape)) > 0.9


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


def test_summary_csv_and_semicolons(annotated, tmp_path):
    path = export.write_summary_csv(annotated, tmp_path / "summary.csv", delimiter=";")
    text = path.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert header == [
        "class",
        "count",
        "area_px",
        "area_µm²",
        "area_fraction",
        "number_density_per_µm²",
    ]
    assert len(text.splitlines()) == 1 + len(annotated.classes)


def test_uncalibrated_summary(tmp_path):
    s = blank_set((10, 10))
    s.add(square(1, 0, 0, 5, "pore"))
    pore = {x.class_name: x for x in summarise(s)}["pore"]
    assert pore.area_fraction == 0.25 and pore.number_density == 0.01 and pore.unit == "px"
    assert Calibration().area_unit == "px²"
