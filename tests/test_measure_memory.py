"""`matlens measure` on a 16000 × 16000 label image stays under 4 GB (it peaked at 13.4 GB), and
on a 1 × 1 image it still answers. Real processes (tests/cli_harness.py), peak RSS from wait4.
benchmarks/measure_memory.py prints the same peak for every export."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from cli_harness import REPO, assert_clean_outcome, run_matlens

SIZE = 16000
LIMIT_MB = 4096


@pytest.mark.slow
def test_measure_a_16000_square_label_image_under_4_gb(tmp_path):
    maker = REPO / "tests" / "synthetic_labels.py"
    subprocess.run([sys.executable, str(maker), str(tmp_path), str(SIZE)], check=True)
    image, labels = tmp_path / f"micrograph_{SIZE}.tif", tmp_path / f"labels_{SIZE}.tif"
    csv, report = tmp_path / "objects.csv", tmp_path / "report.html"
    run = run_matlens(
        "measure", image, labels, "--pixel-size", "0.05", "µm", "--csv", csv,
        "--summary", tmp_path / "summary.csv", "--report", report, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.peak_rss_mb <= LIMIT_MB, f"peak {run.peak_rss_mb:.0f} MB in {run.seconds:.0f} s"
    rows = len(csv.read_text(encoding="utf-8-sig").splitlines()) - 1
    assert rows > 6000 and f": {rows} objects" in run.stdout  # 6400 discs, a few painted over
    assert report.stat().st_size > 10_000


def test_measure_a_one_pixel_image(tmp_path):
    import tifffile

    image, labels = tmp_path / "one.tif", tmp_path / "one_labels.tif"
    tifffile.imwrite(image, np.array([[200]], np.uint8))
    tifffile.imwrite(labels, np.array([[1]], np.uint16))
    csv = tmp_path / "one.csv"
    run = run_matlens(
        "measure", image, labels, "--class", "grain", "--pixel-size", "1", "µm",
        "--csv", csv, "--report", tmp_path / "one.html",
    )  # fmt: skip
    assert_clean_outcome(run, labels)
    assert run.returncode == 0 and "1 object," in run.stdout
    rows = csv.read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 2 and rows[1].startswith("1,grain,1,1,0,0,")
