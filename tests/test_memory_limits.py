"""A 16000 × 16000 micrograph through `matlens`, in a real process whose peak RSS is measured.

The promise: at most 4 GB, or a refusal before any pixel is decoded, in one line that says how
large an image can be. The image is made once per session (256 MB of 8-bit grey: bright squares
on a darker matrix, so SAM has an object to find); `segment` then writes a 16000² mask PNG that
is opened again, as MatLens's own exports are (Pillow called those "decompression bombs").
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from cli_harness import assert_clean_outcome, run_matlens

SIDE = 16000
LIMIT_MB = 4096


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("huge")
    image = np.full((SIDE, SIDE), 90, np.uint8)
    for y in range(100, SIDE, 400):
        image[y : y + 150].reshape(150, SIDE // 400, 400)[:, :, 100:250] = 200
    path = folder / "huge.tif"
    tifffile.imwrite(path, image)
    return path


def test_segment_on_16000_square_stays_under_4_gb_and_its_mask_opens_again(huge, tmp_path):
    mask = tmp_path / "mask.png"
    first = run_matlens(
        "segment", huge, "--point", "8150,8150", "--out", mask, "--json", timeout=600
    )
    assert_clean_outcome(first, huge)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert (out["width"], out["height"]) == (SIDE, SIDE)
    assert 0 < out["objects"][0]["area_px"] < SIDE * SIDE // 100  # one square, not the matrix
    assert first.peak_rss_mb <= LIMIT_MB, f"segment peaked at {first.peak_rss_mb:.0f} MB"

    again = run_matlens(
        "segment",
        mask,
        "--point",
        "8150,8150",
        "--out",
        tmp_path / "m2.png",
        "--json",
        timeout=600,
    )
    assert_clean_outcome(again, mask)
    assert again.returncode == 0, again.stderr  # not "could be decompression bomb DOS attack"
    assert json.loads(again.stdout)["width"] == SIDE
    assert again.peak_rss_mb <= LIMIT_MB, f"segment of the mask peaked at {again.peak_rss_mb:.0f}"
    print(
        f"\nsegment 16000² TIFF: {first.peak_rss_mb:.0f} MB, {first.seconds:.0f} s; "
        f"its 16000² mask PNG: {again.peak_rss_mb:.0f} MB, {again.seconds:.0f} s"
    )


def test_an_image_beyond_the_memory_left_is_refused_before_it_is_decoded(huge, tmp_path):
    run = run_matlens(
        "segment",
        huge,
        "--point",
        "1,1",
        "--out",
        tmp_path / "m.png",
        env={"MATLENS_MEMORY_LIMIT": "1G"},
    )
    assert_clean_outcome(run, huge)
    assert run.returncode == 2
    assert "16,000 × 16,000 pixels" in run.stderr and "up to about" in run.stderr
    assert run.peak_rss_mb < 400, f"{run.peak_rss_mb:.0f} MB: the pixels were read first"
