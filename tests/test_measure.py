"""Crack lengths, class fractions, size histograms, the summary, CSV units, the HTML report and
`matlens measure` on real label images."""

from __future__ import annotations

import base64
import csv
import json
import math
import re
from typing import cast

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from conftest import shared
from scipy import ndimage
from skimage.measure import label

from inference import cli
from inference.imaging.calibration import Calibration
from inference.runtime.paths import samples_dir
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, ImageIdentity
from inference.segmentation.cracks import path_length_px, skeleton_length_px
from inference.segmentation.export import write_csv
from inference.segmentation.histogram import histogram, size_histogram
from inference.segmentation.measure import measure
from inference.segmentation.report import overlay_image, write_report
from inference.segmentation.summary import summarise_image, summary_row, write_summary_rows

CAL = Calibration(0.1, "µm", "test")
SAMPLE = samples_dir() / "superalloy_precipitates.tif"
SUPER1_GT = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
EBC1 = ("segmentation", "nasa_micronet", "EBC1")
EBC1_NAME = "040617_2_S127(2)0015.tif"


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def cli_run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# --- crack length --------------------------------------------------------------------------------
def test_straight_and_diagonal_lines_have_their_length():
    line = np.zeros((20, 60), bool)
    line[10, 5:55] = True
    assert skeleton_length_px(line) == pytest.approx(49)  # 50 pixel centres, 49 steps
    assert skeleton_length_px(line.T) == pytest.approx(49)
    diagonal = np.eye(40, dtype=bool)
    assert skeleton_length_px(diagonal) == pytest.approx(39 * math.sqrt(2))
    assert skeleton_length_px(np.fliplr(diagonal)) == pytest.approx(39 * math.sqrt(2))


def test_corners_are_not_counted_twice():
    corner = np.zeros((5, 5), bool)
    corner[1, 1:4] = True
    corner[1:4, 3] = True  # an L: 2 steps right, 2 steps down
    assert path_length_px(corner) == pytest.approx(4)


def test_thick_crack_reads_its_length_less_about_its_width():
    crack = np.zeros((30, 120), bool)
    crack[13:18, 10:110] = True  # 100 px long, 5 px wide
    assert 94 <= skeleton_length_px(crack) <= 100


def cracked_set(cal: Calibration = CAL) -> AnnotationSet:
    s = AnnotationSet((100, 100), ImageIdentity("cracks.tif", "0" * 64), cal)
    s.add(AnnotatedObject(1, "crack", np.ones((1, 51), bool), (20, 10)))  # 50 px
    s.add(AnnotatedObject(2, "crack", np.eye(31, dtype=bool), (40, 40)))  # 30·√2 px
    s.add(AnnotatedObject(3, "pore", np.ones((10, 10), bool), (80, 5)))
    return s


def test_crack_lengths_per_object_and_total_are_calibrated():
    s = cracked_set()
    rows = {m.id: m for m in measure(s)}
    assert rows[1].skeleton_length == pytest.approx(5.0)
    assert rows[2].skeleton_length == pytest.approx(3 * math.sqrt(2))
    assert rows[3].skeleton_length is None  # pores get no skeleton length
    cracks = summarise_image(s).cracks
    assert cracks is not None  # the set has cracks
    assert cracks.count == 2 and cracks.unit == "µm"
    assert cracks.total_length == pytest.approx(5 + 3 * math.sqrt(2))
    assert cracks.max_length == pytest.approx(5.0)
    assert cracks.length_per_area == pytest.approx(cracks.total_length / (10 * 10))


# --- per class ----------------------------------------------------------------------------------
def two_class_set(cal: Calibration = CAL) -> AnnotationSet:
    s = AnnotationSet((100, 200), ImageIdentity("two.tif", "0" * 64), cal)
    s.add(AnnotatedObject(1, "pore", np.ones((10, 10), bool), (10, 10)))  # 100 px
    s.add(AnnotatedObject(2, "pore", np.ones((20, 20), bool), (50, 50)))  # 400 px
    s.add(AnnotatedObject(3, "pore", np.ones((5, 5), bool), (0, 190)))  # on the border
    s.add(AnnotatedObject(4, "precipitate", np.ones((40, 50), bool), (30, 120)))  # 2000 px
    return s


def test_class_fractions_counts_and_mean_sizes():
    summary = summarise_image(two_class_set())
    by = {c.class_name: c for c in summary.classes}
    pore, ppt = by["pore"], by["precipitate"]
    assert pore.summary.count == 3 and ppt.summary.count == 1
    assert pore.summary.area_fraction == pytest.approx(525 / 20000)
    assert ppt.summary.area_fraction == pytest.approx(2000 / 20000)
    assert pore.summary.number_density == pytest.approx(3 / (100 * 200 * 0.01))
    # the border pore is counted but not sized
    assert pore.sizes.n == 2 and pore.sizes.n_border == 1
    ecd = [2 * math.sqrt(a / math.pi) * 0.1 for a in (100, 400)]
    assert pore.sizes.mean_diameter == pytest.approx(np.mean(ecd))
    assert pore.sizes.std_diameter == pytest.approx(np.std(ecd, ddof=1))
    assert by["grain"].summary.count == 0 and math.isnan(by["grain"].sizes.mean_diameter)
    assert summary.grain_size is None and summary.cracks is None
    assert summary.to_dict()["classes"][0]["sizes"]["mean_diameter"] is None  # NaN -> null


# --- histograms ---------------------------------------------------------------------------------
def test_linear_and_log_bins():
    values = [1, 2, 3, 10, 100, 1000, 0, -1, float("nan")]
    lin = histogram(values, bins=4, scale="linear")
    assert lin.edges[0] == -1 and lin.edges[-1] == 1000 and lin.total == 8 and lin.left_out == 1
    log = histogram(values, bins=3, scale="log", quantity="area", unit="µm²")
    assert np.allclose(log.edges, [1, 10, 100, 1000])
    assert log.counts.tolist() == [3, 1, 2]  # [1, 10), [10, 100), [100, 1000]
    assert log.left_out == 3  # 0, -1 and NaN cannot sit on a log axis
    assert np.allclose(log.centres, [math.sqrt(10), math.sqrt(1000), math.sqrt(1e5)])
    assert log.label == "area (µm²)"
    fixed = histogram([5, 50], bins=2, value_range=(0, 10))
    assert fixed.counts.tolist() == [0, 1] and fixed.left_out == 1


def test_size_histogram_leaves_out_border_objects():
    m = measure(two_class_set())
    h = size_histogram(m, "pore", quantity="equivalent_diameter", bins=5)
    assert h.total == 2 and h.unit == "µm"
    assert size_histogram(m, "pore", quantity="area", include_border=True).total == 3
    assert size_histogram(m, "pore", quantity="area").unit == "µm²"
    with pytest.raises(ValueError, match="no histogram"):
        size_histogram(m, quantity="colour")


# --- CSV ----------------------------------------------------------------------------------------
def test_csv_columns_carry_units(tmp_path):
    s = cracked_set()
    rows = read_csv(write_csv(s, tmp_path / "objects.csv"))
    assert float(rows[0]["skeleton_length_µm"]) == pytest.approx(5.0)
    assert rows[2]["skeleton_length_µm"] == ""  # not a crack
    summary = write_summary_rows([summary_row(summarise_image(s))], tmp_path / "summary.csv")
    row = read_csv(summary)[0]
    assert row["image"] == "cracks.tif" and row["pixel_size_µm"] == "0.1"
    assert float(row["crack_total_length_µm"]) == pytest.approx(5 + 3 * math.sqrt(2))
    assert "pore_mean_diameter_µm" in row and "pore_number_density_per_µm²" in row
    bare = write_summary_rows(
        [summary_row(summarise_image(cracked_set(Calibration())))], tmp_path / "px.csv"
    )
    header = list(read_csv(bare)[0])
    assert "crack_total_length_px" in header and "pore_number_density_per_px²" in header
    assert not any("µm" in h for h in header)


# --- report -------------------------------------------------------------------------------------
def embedded_png(html: str) -> np.ndarray:
    found = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert found, "no embedded PNG"
    return iio.imread(base64.b64decode(found.group(1)))


def test_report_is_self_contained_with_table_picture_and_histograms(tmp_path):
    s = two_class_set()
    grey = np.full((100, 200), 128, np.uint8)
    html = write_report(s, grey, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<table>" in html and "<td>pore</td><td>3</td>" in html
    assert "2.62 %" in html  # the pore area fraction, 525 / 20000
    assert "per µm²" in html and "0.1 µm per pixel" in html
    assert html.count("<svg") == 2  # pores and the precipitate
    picture = embedded_png(html)
    assert picture.shape == (100, 200, 3)
    assert tuple(picture[60, 60]) != (128, 128, 128)  # inside a pore: tinted
    assert tuple(picture[95, 100]) == (128, 128, 128)  # background untouched
    assert "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_uncalibrated_report_says_pixels(tmp_path):
    labels = np.zeros((60, 60), np.uint16)
    labels[:30, :30], labels[:30, 30:], labels[30:, :30], labels[30:, 30:] = 1, 2, 3, 4
    from inference.segmentation.labels import annotations_from_labels

    s = annotations_from_labels(labels, ImageIdentity("g.tif", ""), None, class_name="grain")
    html = write_report(s, np.zeros((60, 60), np.uint8), tmp_path / "r.html").read_text("utf-8")
    assert "uncalibrated" in html and "px²" in html and "µm" not in html
    assert "needs a calibration" in html and "G needs a calibrated image" in html


def test_overlay_outlines_objects_in_their_class_colour():
    s = two_class_set()
    out = overlay_image(np.zeros((100, 200, 3), np.uint8), s)
    pore = s.class_named("pore").colour
    assert tuple(out[10, 10]) == pore  # the corner of a pore: outline at full colour
    assert 0 < out[15, 15, 0] + out[15, 15, 1] + out[15, 15, 2] < sum(pore)  # inside: tinted


# --- the CLI on real label images ---------------------------------------------------------------
@pytest.fixture
def super1_labels(shared_data, tmp_path):
    rgba = tifffile.imread(shared_data(*SUPER1_GT), is_shaped=False)
    red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
    labels = cast("np.ndarray", label(red)).astype(np.uint16)
    path = tmp_path / "labels.png"
    iio.imwrite(path, labels)
    return path, labels


def test_measure_cli_writes_csv_summary_and_report(capsys, tmp_path, super1_labels):
    path, labels = super1_labels
    out = tmp_path / "out"
    out.mkdir()
    code, stdout, err = cli_run(
        capsys, "measure", SAMPLE, path, "--pixel-size", "0.05", "um", "--class", "precipitate",
        "--csv", out / "o.csv", "--summary", out / "s.csv", "--report", out / "r.html", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(stdout)
    ppt = next(c for c in result["classes"] if c["summary"]["class_name"] == "precipitate")
    assert ppt["summary"]["count"] == labels.max()
    assert ppt["summary"]["area_fraction"] == pytest.approx((labels > 0).mean())
    assert result["calibration"] == {"pixel_size": 0.05, "unit": "µm", "source": "command line"}
    rows = read_csv(out / "o.csv")
    assert len(rows) == labels.max()
    assert [int(r["id"]) for r in rows] == list(range(1, labels.max() + 1))  # id = label value
    first = rows[0]
    assert int(first["area_px"]) == (labels == 1).sum()
    assert float(first["area_µm²"]) == pytest.approx((labels == 1).sum() * 0.0025)
    summary = read_csv(out / "s.csv")
    assert len(summary) == 1 and summary[0]["precipitate_count"] == str(labels.max())
    html = (out / "r.html").read_text(encoding="utf-8")
    assert embedded_png(html).shape[:2] == labels.shape and "precipitate" in html


def test_measure_cli_reads_class_maps(capsys, tmp_path, shared_data):
    gt = shared_data(*EBC1, "test_annot", EBC1_NAME)
    image = shared_data(*EBC1, "test", EBC1_NAME)
    code, stdout, err = cli_run(
        capsys,
        "measure",
        image,
        gt,
        "--classes",
        "oxide,crack",
        "--csv",
        tmp_path / "o.csv",
        "--json",
    )
    assert code == 0, err
    result = json.loads(stdout)
    truth = tifffile.imread(gt)
    by = {c["summary"]["class_name"]: c["summary"] for c in result["classes"]}
    assert by["oxide"]["area_fraction"] == pytest.approx((truth == 1).mean())
    assert by["crack"]["area_fraction"] == pytest.approx((truth == 2).mean())
    _, n_cracks = cast(
        "tuple[np.ndarray, int]", ndimage.label(truth == 2, structure=np.ones((3, 3)))
    )
    assert by["crack"]["count"] == n_cracks
    assert by["crack"]["unit"] == "px" and result["cracks"]["total_length"] > 100
    header = list(read_csv(tmp_path / "o.csv")[0])
    assert "skeleton_length_px" in header and "area_px²" in header


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("oxide,,crack", "--classes: class 2 (value 2) has no name"),
        ("oxide,oxide", "'oxide' names both value 1 and value 2; give each class its own name"),
    ],
)
def test_measure_cli_refuses_a_class_without_its_own_name(
    capsys, tmp_path, shared_data, names, message
):
    """An empty name left a class nameless in the CSV; a repeated one merged two classes (the
    oxide count and fraction became oxide's plus crack's). Both are one line, exit 2, no CSV."""
    gt = shared_data(*EBC1, "test_annot", EBC1_NAME)
    image = shared_data(*EBC1, "test", EBC1_NAME)
    out = tmp_path / "o.csv"
    code, _, err = cli_run(capsys, "measure", image, gt, "--classes", names, "--csv", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pixel-size", "0.05", "furlong"], "unknown length unit 'furlong'"),
        (["--pixel-size", "-1", "nm"], "positive number"),
    ],
)
def test_measure_cli_bad_calibration_is_one_line(capsys, tmp_path, super1_labels, args, message):
    path, _ = super1_labels
    code, _, err = cli_run(capsys, "measure", SAMPLE, path, *args, "--csv", tmp_path / "o.csv")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_measure_cli_size_mismatch_and_missing_files(capsys, tmp_path):
    small = tmp_path / "small.png"
    iio.imwrite(small, np.ones((10, 12), np.uint16))
    code, _, err = cli_run(capsys, "measure", SAMPLE, small, "--csv", tmp_path / "o.csv")
    assert code == 2 and "small.png is 12×10 px but superalloy_precipitates.tif is 512×512" in err
    code, _, err = cli_run(
        capsys, "measure", SAMPLE, tmp_path / "nope.png", "--csv", tmp_path / "o.csv"
    )
    assert code == 2 and "label image not found" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli_run(
        capsys, "measure", tmp_path / "nope.tif", small, "--csv", tmp_path / "o.csv"
    )
    assert code == 2 and "not found" in err
    rgb = tmp_path / "rgb.png"
    iio.imwrite(rgb, np.zeros((512, 512, 3), np.uint8))
    code, _, err = cli_run(capsys, "measure", SAMPLE, rgb, "--csv", tmp_path / "o.csv")
    assert code == 2 and "not a label image" in err
    # negative labels were taken for background: 0 objects measured without a word
    signed = tmp_path / "signed.tif"
    tifffile.imwrite(signed, np.full((512, 512), -1, np.int16))
    code, out, err = cli_run(capsys, "measure", SAMPLE, signed, "--csv", tmp_path / "s.csv")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "signed.tif has negative values (down to -1)" in err
    assert not (tmp_path / "s.csv").exists()


def test_measure_cli_says_what_the_image_box_says_before_its_numbers(capsys, tmp_path):
    """A DM-saved stack whose pixels are 10x taller than wide reads px, and says why; once
    --pixel-size gives a size, that reason is moot and goes."""
    image = shared(
        "microscope_formats", "rosettasciio", "tiff", "test_loading_image_saved_with_DM_stack.tif"
    )
    labels = tmp_path / "labels.png"
    blob = np.zeros((68, 68), np.uint16)
    blob[20:30, 20:40] = 1
    iio.imwrite(labels, blob)
    code, out, _ = cli_run(capsys, "measure", image, labels, "--csv", tmp_path / "o.csv")
    assert code == 0
    assert "1 object, uncalibrated" in out
    assert "  note: pixels are not square (0.16867 µm wide, 1.6867 µm high)" in out
    code, out, _ = cli_run(
        capsys, "measure", image, labels, "--csv", tmp_path / "o.csv", "--json",
        "--pixel-size", "0.5", "um",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["image_notes"] == []


def test_matlens_measure_uses_the_scale_the_pane_measures_with(tmp_path):
    """A scale set by hand in the Micrographs pane (saved in the image's sidecar) or carried by
    the pane's label-image export (an ImageJ TIFF) was left out: "4 objects, uncalibrated",
    areas in px² where the pane showed µm²."""
    from cli_harness import run_matlens

    from inference.imaging.calibration import Calibration
    from inference.imaging.io import read_micrograph
    from inference.runtime.paths import samples_dir
    from inference.segmentation.annotations import AnnotationSet, ImageIdentity
    from inference.segmentation.export import write_raster
    from inference.segmentation.workflows import save_annotations

    image = tmp_path / "plain.png"  # a file with no scale of its own
    image_data = read_micrograph(samples_dir() / "superalloy_precipitates.tif").data
    iio.imwrite(image, image_data[..., 0] if image_data.ndim == 3 else image_data)
    labels = np.zeros(image_data.shape[:2], np.uint16)
    labels[10:30, 10:30] = 1  # 400 px
    plain_labels = tmp_path / "labels.png"
    iio.imwrite(plain_labels, labels)
    scale = Calibration(0.05, "µm", "manual")

    # the label export carries the scale: 400 px of 0.05 µm are 1 µm²
    carried = tmp_path / "labels.tif"
    write_raster(carried, labels, scale)
    run = run_matlens("measure", image, carried, "--csv", tmp_path / "a.csv", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert "calibration carried by labels.tif: 50 nm/px" in data["image_notes"]
    summary = data["classes"][0]["summary"]
    assert summary["area"] * (1e-3 if summary["unit"] == "nm" else 1) ** 2 == pytest.approx(1.0)

    # a scale set in the pane (its sidecar) is the one the pane measured with
    pane = AnnotationSet(image_data.shape[:2], ImageIdentity.of_file(image), scale)
    save_annotations(pane, image)
    run = run_matlens("measure", image, plain_labels, "--csv", tmp_path / "b.csv", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert "calibration set in the Micrographs pane: 0.05 µm/px" in data["image_notes"]
    summary = data["classes"][0]["summary"]
    assert (summary["area"], summary["unit"]) == (pytest.approx(1.0), "µm")
