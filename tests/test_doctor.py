"""`matlens doctor` as a lab user runs it: a damaged model fails the check (exit 1, one line each
naming the file and the fix); a healthy set-up, or one that only lacks a model, passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_harness import run_matlens
from tests.model_folders import cut_short, linked_models

CHGNET = "chgnet_0.3.0_efsm.onnx"  # 3.9 MB: the smallest exported ONNX graph


def _models_like_the_real_ones(folder: Path) -> Path:
    """A models folder of links to the exported models (the real ones are never touched)."""
    from inference.runtime.registry import FileStatus, file_status, get_card

    if file_status(get_card("chgnet").files[0]) is not FileStatus.OK:
        pytest.skip("CHGNet is not exported: run `make models`")
    return linked_models(folder)


def _cut_short(models: Path, source: Path) -> Path:
    """Put in `models` a copy of the real CHGNet file cut to half its size (a link is replaced)."""
    assert source == Path(os.environ["MATLENS_MODELS"])  # the copy is of the real file
    return cut_short(models, CHGNET)


def test_a_cut_short_model_fails_the_doctor_with_one_line_naming_the_file_and_the_fix(tmp_path):
    real = Path(os.environ["MATLENS_MODELS"])
    models = _models_like_the_real_ones(tmp_path / "models")
    damaged = _cut_short(models, real)

    run = run_matlens("doctor", env={"MATLENS_MODELS": str(models)})
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines == [
        f"matlens: CHGNet 0.3.0 (energy, forces, stress, magmoms): model file {damaged} is "
        "damaged (checksum mismatch); run `make models`, or open Models ▸ Model manager and "
        "press Install missing models."
    ]
    assert "✗ CHGNet 0.3.0" in run.stdout  # the report itself is still printed in full

    as_json = run_matlens("doctor", "--json", env={"MATLENS_MODELS": str(models)})
    assert as_json.returncode == 1 and as_json.stderr.strip().splitlines() == lines
    assert "damaged" in as_json.stdout  # the JSON names it too, for scripts


def test_a_healthy_setup_passes_and_a_missing_model_is_not_damage(tmp_path):
    models = _models_like_the_real_ones(tmp_path / "models")
    healthy = run_matlens("doctor", env={"MATLENS_MODELS": str(models)})
    assert healthy.returncode == 0, healthy.stderr
    assert "matlens: " not in healthy.stderr  # no damaged model named

    (models / CHGNET).unlink()  # not exported (yet): listed, not a failed check
    missing = run_matlens("doctor", env={"MATLENS_MODELS": str(models)})
    assert missing.returncode == 0, missing.stderr
    assert f"{CHGNET}: missing" in missing.stdout
    assert "Install missing models" in missing.stdout


def test_in_an_installed_app_the_fix_is_to_delete_the_damaged_copy(tmp_path):
    """The installed app cannot export models: when the user's folder holds a damaged copy of a
    file the app ships intact, the fix is to delete that copy, not `make models`."""
    real = Path(os.environ["MATLENS_MODELS"])
    shipped = _models_like_the_real_ones(tmp_path / "shipped")
    user = tmp_path / "user"
    user.mkdir()
    damaged = _cut_short(user, real)

    env = {"MATLENS_MODELS": str(user), "MATLENS_BUNDLED_MODELS": str(shipped)}
    run = run_matlens("doctor", env=env)
    assert run.returncode == 1, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.endswith(f"{damaged}, so MatLens uses the intact copy it ships.")
    assert f"delete {damaged}" in line

    damaged.unlink()  # what the line says to do
    fixed = run_matlens("doctor", env=env)
    assert fixed.returncode == 0, fixed.stderr


def test_the_model_manager_names_the_fix_in_the_doctors_words(qtbot, tmp_path, monkeypatch):
    """Models ▸ Model manager… with a cut-short CHGNet: under the table, the line `matlens
    doctor` prints for it (the file and the fix), also on the Status cell's tooltip."""
    from PySide6.QtWidgets import QMenu

    from desktop.dialogs.models import COLUMNS, ModelManager
    from desktop.main_window import MainWindow

    real = Path(os.environ["MATLENS_MODELS"])
    models = _models_like_the_real_ones(tmp_path / "models")
    _cut_short(models, real)
    doctor = run_matlens("doctor", env={"MATLENS_MODELS": str(models)})
    [said] = doctor.stderr.strip().splitlines()

    monkeypatch.setenv("MATLENS_MODELS", str(models))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Models")
    assert isinstance(menu, QMenu)
    next(a for a in menu.actions() if a.text() == "Model &manager…").trigger()
    dialog = window.findChild(ModelManager)
    assert dialog is not None
    # the dialog opens at once and says it is checking: the checksums are read in a job
    assert dialog.checking and dialog.check_bar.text == "Checking the models' files…"
    assert not dialog.damage_label.isVisible() and not dialog.install_button.isEnabled()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60000)
    assert dialog.damage_label.isVisible()
    assert dialog.damage_label.text() == said.removeprefix("matlens: ")
    assert "run `make models`, or open Models ▸ Model manager" in dialog.damage_label.text()
    cells = {
        (row, col): item.text() if (item := dialog.table.item(row, col)) else ""
        for row in range(dialog.table.rowCount())
        for col in range(len(COLUMNS))
    }
    row = next(r for (r, c), text in cells.items() if c == 0 and text.startswith("CHGNet"))
    status = dialog.table.item(row, COLUMNS.index("Status"))
    assert status is not None and status.text() == "checksum mismatch"
    assert status.toolTip() == dialog.damage_label.text()  # the same line, on the cell
    healthy = [t for (r, c), t in cells.items() if c == COLUMNS.index("Status") and r != row]
    assert "checksum mismatch" not in healthy  # only the cut-short model is named
    assert dialog.install_button.isEnabled()  # the button the line names
    if shots := os.environ.get("MATLENS_SHOTS"):
        dialog.grab().save(str(Path(shots) / "model_manager_damaged_chgnet.png"))
    dialog.close()
