"""`matlens segment` from a terminal or a script: masks and label images, errors in one line."""

from __future__ import annotations

import json
from typing import cast

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from scipy import ndimage
from skimage import measure
from test_cli import matlens

from inference.errors import ModelUnavailable
from inference.runtime.paths import samples_dir
from inference.runtime.registry import require

SAMPLE = str(samples_dir() / "superalloy_precipitates.tif")
GT = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")


@pytest.fixture(autouse=True)
def _model():
    try:
        require("mobile_sam")
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def targets(shared_data):
    rgba = tifffile.imread(shared_data(*GT))
    red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
    labels = measure.label(red)
    regions = sorted(measure.regionprops(labels), key=lambda r: -r.area)[:2]
    out = []
    for r in regions:
        mask = labels == r.label
        y, x = np.unravel_index(
            np.argmax(cast("np.ndarray", ndimage.distance_transform_edt(mask))), mask.shape
        )
        out.append((mask, int(x), int(y)))
    return out


def test_one_object_from_points_writes_a_mask(tmp_path, targets):
    mask, x, y = targets[0]
    out = tmp_path / "mask.png"
    res = matlens(
        "segment",
        SAMPLE,
        "--point",
        f"{x},{y}",
        "--point",
        f"{x + 40},{y},0",
        "--out",
        str(out),
        "--json",
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    written = iio.imread(out)
    assert written.dtype == np.uint8 and set(np.unique(written)) <= {0, 255}
    got = written > 0
    assert got[y, x] and (got & mask).sum() / (got | mask).sum() > 0.7
    assert summary["objects"][0]["area_px"] == int(got.sum())
    assert 0 < summary["objects"][0]["score"] <= 1


def test_prompts_file_writes_a_label_image(tmp_path, targets):
    prompts = {
        "objects": [
            {"points": [[x, y, 1]], "box": None, "class": "precipitate"} for _, x, y in targets
        ]
    }
    (tmp_path / "p.json").write_text(json.dumps(prompts))
    out = tmp_path / "labels.png"
    res = matlens(
        "segment", SAMPLE, "--prompts", str(tmp_path / "p.json"), "--out", str(out), "--json"
    )
    assert res.returncode == 0, res.stderr
    labels = iio.imread(out)
    assert labels.dtype == np.uint16
    for i, (_, x, y) in enumerate(targets):
        assert labels[y, x] == i + 1  # object i has value i + 1
    objects = json.loads(res.stdout)["objects"]
    assert [o["class"] for o in objects] == ["precipitate", "precipitate"]


def test_prompts_give_one_coco_annotation_each_in_order_with_overlaps_kept(tmp_path, targets):
    """Three objects, the second a box around the first two, the third the first again: COCO
    keeps all three whole; the label image gives each pixel to the first object claiming it."""
    from pycocotools.coco import COCO

    (a_mask, ax, ay), (b_mask, bx, by) = targets
    ys, xs = np.nonzero(a_mask | b_mask)
    box = [int(xs.min()) - 4, int(ys.min()) - 4, int(xs.max()) + 4, int(ys.max()) + 4]
    prompts = {
        "objects": [
            {"points": [[ax, ay, 1]], "class": "precipitate"},
            {"points": [], "box": box, "class": "cluster"},
            {"points": [[ax, ay, 1]], "class": "precipitate"},
        ]
    }
    (tmp_path / "p.json").write_text(json.dumps(prompts))
    coco_path, out = tmp_path / "objects.json", tmp_path / "labels.tif"
    res = matlens(
        "segment", SAMPLE, "--prompts", str(tmp_path / "p.json"),
        "--coco", str(coco_path), "--out", str(out), "--json",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    coco = COCO(str(coco_path))
    anns = coco.loadAnns(coco.getAnnIds())
    assert [a["id"] for a in anns] == [1, 2, 3]
    names = [coco.loadCats(a["category_id"])[0]["name"] for a in anns]
    assert names == ["precipitate", "cluster", "precipitate"]
    rles = [a["segmentation"] for a in anns]
    assert all(isinstance(r, dict) and isinstance(r["counts"], list) for r in rles)  # uncompressed
    masks = [coco.annToMask(a).astype(bool) for a in anns]
    assert [int(m.sum()) for m in masks] == [a["area"] for a in anns]
    assert masks[0][ay, ax] and masks[1][ay, ax] and masks[1][by, bx]
    assert np.array_equal(masks[0], masks[2])  # the same clicks, the same mask, kept twice
    overlap = masks[0] & masks[1]
    assert overlap.sum() > 0.8 * masks[0].sum()  # the box's object holds the first one
    labels = tifffile.imread(out)
    assert np.array_equal(labels == 1, masks[0])  # the first claim wins where they overlap
    assert np.array_equal(labels == 2, masks[1] & ~masks[0])
    assert not (labels == 3).any()
    summary = json.loads(res.stdout)
    assert summary["coco"] == str(coco_path)
    assert [o["area_px"] for o in summary["objects"]] == [int(m.sum()) for m in masks]


def test_help_states_the_overlap_rule():
    res = matlens("segment", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "belongs to the FIRST object that claims it" in text and "--coco" in text


@pytest.mark.parametrize(
    "args, words",
    [
        (["--point", "9999,5"], "Click inside the image"),
        (["--point", "1,2,7"], "label must be 1"),
        (["--point", "abc"], "bad --point"),
        (["--box", "1,2,3"], "bad --box"),
        ([], "give at least one --point"),
    ],
)
def test_bad_prompts_are_one_line(tmp_path, args, words):
    res = matlens("segment", SAMPLE, *args, "--out", str(tmp_path / "m.png"))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and words in res.stderr, res.stderr


def test_bad_image_is_one_line(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    res = matlens("segment", str(empty), "--point", "1,1", "--out", str(tmp_path / "m.png"))
    assert res.returncode == 2 and res.stderr.startswith("matlens: empty file")


def imagej_pixel_size(path) -> tuple[float, str]:
    """(pixel size, unit) as Fiji reads a label TIFF: 1 / XResolution in the ImageJ unit."""
    with tifffile.TiffFile(path) as tif:
        page = cast("tifffile.TiffPage", tif.pages[0])
        numerator, denominator = page.tags["XResolution"].value
        unit = (tif.imagej_metadata or {}).get("unit", "")
    return denominator / numerator, unit


def test_label_tiffs_from_the_cli_carry_the_pixel_size_as_the_panes_export_does(
    tmp_path, shared_data
):
    """A DM STEM image of 0.2485 nm pixels (clicked) and a TIA TEM image of 5.26 nm pixels (found
    by segment everything, which refuses the 68 px DM3): Fiji must measure both in nm."""
    formats = shared_data("microscope_formats", "rosettasciio")
    image = str(formats / "digitalmicrograph" / "2D" / "test_STEM_image.dm3")
    larger = str(formats / "tia" / "new" / "128x128-TEM_search.emi")
    prompts = tmp_path / "p.json"
    prompts.write_text(json.dumps({"objects": [{"points": [[34, 34, 1]]}]}))
    clicked, found = tmp_path / "clicked.tif", tmp_path / "found.tif"
    res = matlens("segment", image, "--prompts", str(prompts), "--out", str(clicked))
    assert res.returncode == 0, res.stderr
    res = matlens("auto", larger, "--points-per-side", "2", "--out", str(found))
    assert res.returncode == 0, res.stderr
    for path, pixel in ((clicked, 0.248538), (found, 5.261214)):
        size, unit = imagej_pixel_size(path)
        assert unit == "nm" and size == pytest.approx(pixel, rel=1e-5)
