"""A 16000 × 16000 micrograph through `matlens`, in a real process whose peak RSS is measured.

The promise: at most 4 GB, or a refusal before any pixel is decoded, in one line that says how
large an image can be. The image is made once per session (256 MB of 8-bit grey: bright squares
on a darker matrix, so SAM has an object to find); `segment` then writes a 16000² mask PNG that
is opened again, as MatLens's own exports are (Pillow called those "decompression bombs").
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
from cli_harness import REPO, CliRun, assert_clean_outcome

SIDE = 16000
LIMIT_MB = 4096

# Linux carries a process's peak RSS across exec (exec_mmap keeps the old mm's high-water mark), so
# wait4's ru_maxrss for a child started from this (large) pytest process reports pytest's own peak
# when that is higher. A small Python forks `matlens` here: the child's figure is then its own.
_FORK_AND_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "desktop.launcher", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(f"PEAK_RSS_MB {usage.ru_maxrss / 1024:.1f}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(*args, timeout: float = 600, env: dict[str, str] | None = None) -> CliRun:
    """`matlens ARGS` as `run_matlens` runs it, with the peak RSS of that process alone."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", _FORK_AND_MEASURE, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        start_new_session=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        stdout, stderr = child.communicate()
        timed_out = True
    lines = stderr.splitlines()
    peak = next((float(x.split()[1]) for x in lines if x.startswith("PEAK_RSS_MB")), float("nan"))
    stderr = "".join(f"{x}\n" for x in lines if not x.startswith("PEAK_RSS_MB"))
    seconds = time.perf_counter() - started
    args_text = tuple(map(str, args))
    return CliRun(args_text, child.returncode, stdout, stderr, peak, seconds, timed_out)


pytestmark = pytest.mark.slow


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
    first = run_measured(
        "segment", huge, "--point", "8150,8150", "--out", mask, "--json", timeout=600
    )
    assert_clean_outcome(first, huge)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert (out["width"], out["height"]) == (SIDE, SIDE)
    assert 0 < out["objects"][0]["area_px"] < SIDE * SIDE // 100  # one square, not the matrix
    assert first.peak_rss_mb <= LIMIT_MB, f"segment peaked at {first.peak_rss_mb:.0f} MB"

    again = run_measured(
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
    run = run_measured(
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
