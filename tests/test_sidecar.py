"""Annotation sidecars in the places labs keep images: read-only shares, shared group folders,
and folders where a save was killed halfway.

A read-only folder is made for real: as root (where chmod does not stop writes) a read-only bind
mount in a private mount namespace (`unshare -m`), otherwise chmod 555.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from read_only import run_python_read_only

from inference.errors import UnreadableFile
from inference.imaging.calibration import Calibration
from inference.runtime.paths import samples_dir
from inference.segmentation import sidecar
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, ImageIdentity

REPO = Path(__file__).resolve().parents[1]
CORRUPT = b'{"format_version": 1, "image": {"file_name": "x", "sha'  # cut by a crash
IDENT = ImageIdentity("steel.tif", "a" * 64)


def annotated(shape=(64, 64), image=IDENT) -> AnnotationSet:
    s = AnnotationSet(shape, image, Calibration(0.5, "µm", "test"))
    mask = AnnotatedObject(1, "grain", mask=np.ones((5, 5), bool), offset=(2, 3))
    s.add(mask)
    return s


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder holding the sample micrograph and a corrupt sidecar beside it."""
    folder = tmp_path / "share"
    folder.mkdir()
    image = Path(shutil.copy(samples_dir() / "superalloy_precipitates.tif", folder))
    beside = folder / (image.name + sidecar.SUFFIX)
    beside.write_bytes(CORRUPT)
    return folder, image, beside


def test_the_read_only_simulation_really_refuses_writes(read_only_folder):
    folder, _, _ = read_only_folder
    out = run_python_read_only(folder, f"open({str(folder / 'x')!r}, 'w')")
    assert out.returncode != 0 and ("Read-only" in out.stderr or "Permission" in out.stderr)


def test_read_only_folder_with_a_corrupt_sidecar_opens_and_edits_go_to_the_user_folder(
    read_only_folder,
):
    folder, image, beside = read_only_folder
    code = f"""
        import json
        from pathlib import Path
        from inference.imaging.io import read_micrograph
        from inference.segmentation import sidecar
        from inference.segmentation.annotations import AnnotatedObject, ImageIdentity
        image = Path({str(image)!r})
        m = read_micrograph(image)
        ident = ImageIdentity.of_file(image)
        first = sidecar.open_for_image(image, ident, m.shape, m.calibration)
        s = first.annotations
        s.add(AnnotatedObject(1, "grain", mask=[[True] * 4] * 4, offset=(10, 10)))
        target = sidecar.sidecar_path(image)
        sidecar.save(s, target)
        again = sidecar.open_for_image(image, ident, m.shape, m.calibration)
        print(json.dumps({{"notice": first.notice, "saved_to": str(target),
                          "reopened": len(again.annotations), "notice2": again.notice}}))
    """
    out = run_python_read_only(folder, code)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert beside.read_bytes() == CORRUPT, "the corrupt sidecar was changed"
    assert sorted(p.name for p in folder.iterdir()) == [image.name, beside.name]
    notice = result["notice"]
    assert beside.name in notice and "read-only" in notice and "left untouched" in notice
    assert "\n" not in notice and "Unexpected error" not in notice
    saved_to = Path(result["saved_to"])
    assert saved_to == sidecar.fallback_path(image) and saved_to.is_file()
    assert result["reopened"] == 1 and result["notice2"] is None  # the user-folder copy is newer


def test_read_only_folder_with_a_corrupt_sidecar_opens_in_the_window(read_only_folder, tmp_path):
    """The path the issue reported: the window showed 'Unexpected error (OSError)' and no image."""
    folder, image, beside = read_only_folder
    shot = Path(os.environ.get("MATLENS_SHOTS") or tmp_path)  # MATLENS_SHOTS: keep the screenshot
    shot.mkdir(parents=True, exist_ok=True)
    code = f"""
        import json, time
        from PySide6.QtWidgets import QApplication
        from desktop.main_window import MainWindow
        app = QApplication([])
        window = MainWindow()
        window.resize(1300, 850)
        window.show()
        window.open_path({str(image)!r})
        pane = window.panes[0]
        deadline = time.time() + 60
        while time.time() < deadline and not pane.ready:
            app.processEvents()
            time.sleep(0.02)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        window.grab().save({str(shot / "read_only_corrupt_sidecar.png")!r})
        print(json.dumps({{"ready": pane.ready, "banner": window.banner.text}}))
        window.close()
    """
    out = run_python_read_only(folder, code, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ready"], "the image did not open"
    banner = result["banner"]
    assert "read-only" in banner and beside.name in banner and "Unexpected" not in banner
    assert beside.read_bytes() == CORRUPT


# --- leftovers of killed saves -------------------------------------------------------------------


def test_a_save_killed_halfway_leaves_a_temp_file_that_the_next_open_removes(tmp_path):
    image = tmp_path / "steel.tif"
    target = sidecar.sidecar_path(image)
    sidecar.save(annotated(), target)
    # A child saves, and is killed with SIGKILL while its temp file exists (before the rename).
    code = f"""
        import os, time
        from pathlib import Path
        from inference.segmentation import sidecar
        from test_sidecar import annotated
        os.replace = lambda *a: (print("written", flush=True), time.sleep(60))
        sidecar.save(annotated(), Path({str(target)!r}))
    """
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"},
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    leftovers = sorted(tmp_path.glob(f".{target.name}.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0

    fresh = tmp_path / f".{target.name}.another-save-running-now.tmp"
    fresh.write_text("{}")
    old = time.time() - 2 * sidecar.LEFTOVER_AGE_S
    os.utime(leftovers[0], (old, old))
    opened = sidecar.open_for_image(image, IDENT, (64, 64))
    assert len(opened.annotations) == 1 and opened.notice is None  # the old sidecar is intact
    assert not leftovers[0].exists(), "the killed save's temp file is still there"
    assert fresh.exists(), "a temp file of a save running right now must not be removed"


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_sidecars_are_created_with_the_umask(tmp_path, umask, mode):
    """Colleagues sharing a folder (umask 022) can read each other's annotations."""
    old = os.umask(umask)
    try:
        path = tmp_path / "a.tif.matlens.json"
        sidecar.save(annotated(), path)
        sidecar.save(annotated(), path)  # a rewrite keeps the mode too
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_a_rewrite_keeps_the_permissions_someone_gave_the_sidecar(tmp_path):
    path = tmp_path / "a.tif.matlens.json"
    sidecar.save(annotated(), path)
    path.chmod(0o660)
    sidecar.save(annotated(), path)
    assert path.stat().st_mode & 0o777 == 0o660


# --- sizes that do not fit the image ---------------------------------------------------------------


def test_a_huge_mask_size_is_refused_before_anything_is_decoded(tmp_path):
    path = tmp_path / "steel.tif.matlens.json"
    sidecar.save(annotated(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["objects"][0].update(size=[100_000, 100_000], rle=[0, 10_000_000_000])
    path.write_text(json.dumps(data), encoding="utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(UnreadableFile, match="outside the 64x64 image"):
            sidecar.load(path)
        opened = sidecar.open_for_image(tmp_path / "steel.tif", IDENT, (64, 64))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(opened.annotations) == 0 and "kept as" in (opened.notice or "")
    assert peak < 50_000_000


def test_a_sidecar_of_another_size_is_set_aside_without_decoding(tmp_path):
    path = tmp_path / "steel.tif.matlens.json"
    sidecar.save(annotated(shape=(64, 64)), path)
    with pytest.raises(sidecar.ShapeMismatch) as info:
        sidecar.load(path, expect_shape=(32, 32))
    assert info.value.found == (64, 64)


def test_deeply_nested_json_is_corrupt_not_a_crash(tmp_path):
    path = tmp_path / "steel.tif.matlens.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    opened = sidecar.open_for_image(tmp_path / "steel.tif", IDENT, (64, 64))
    assert len(opened.annotations) == 0 and "corrupt" in (opened.notice or "")
    assert (tmp_path / "steel.tif.matlens.json.corrupt").exists()
