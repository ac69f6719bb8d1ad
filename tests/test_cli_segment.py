"""`matlens segment` from a terminal or a script: masks and label images, errors in one line."""

from __future__ import annotations

import json

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
        y, x = np.unravel_index(np.argmax(ndimage.distance_transform_edt(mask)), mask.shape)
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
