"""Importing your own SAM checkpoint: the model manager exports it to ONNX and it can be used.

A ViT-B with random weights stands in for a real checkpoint (none can be downloaded here): the
path through torch.load(weights_only=True), ONNX export, model card and ONNX run is the same.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_cli import matlens

torch = pytest.importorskip("torch", reason="importing checkpoints needs the set-up environment")


def random_vit_b():
    """A segment-anything ViT-B with random weights (mobile_sam ships the same model code)."""
    from inference.export import _stubs

    _stubs.install()  # torchvision and timm cannot run with CPU torch
    mobile_sam = pytest.importorskip("mobile_sam")
    torch.manual_seed(0)
    return mobile_sam.sam_model_registry["vit_b"]()


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("MATLENS_MODELS", str(folder))
    return folder


def test_random_vit_b_checkpoint_imports_through_the_model_manager(qtbot, tmp_path, models_dir):
    from desktop.dialogs.models import ModelManager
    from desktop.workers import JobRunner
    from inference.segmentation.sam import SamModel

    sam = random_vit_b()
    ckpt = tmp_path / "sam_vit_b_random.pth"
    torch.save({"model": sam.state_dict()}, ckpt)  # micro-sam style nesting
    del sam

    jobs = JobRunner()
    dialog = ModelManager(jobs, None)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60_000)  # the files are checked in a job
    rows_before = dialog.table.rowCount()
    assert rows_before > 0
    dialog.import_checkpoint(ckpt, "vit_b", "Lab SAM B")
    qtbot.waitUntil(lambda: dialog.worker is None, timeout=300_000)
    assert "Imported Lab SAM B" in dialog.status.text(), dialog.status.text()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60_000)
    assert dialog.table.rowCount() == rows_before + 1

    listed = json.loads(matlens("models", "list", "--json").stdout)
    card = next(c for c in listed if c["name"] == "Lab SAM B")
    assert card["status"] == "ok" and card["bundled"] is False

    model = SamModel(card["id"])
    rgb = np.zeros((300, 400, 3), np.uint8)
    rgb[100:200, 150:250] = 200
    candidates = model.predict(model.embed(rgb), [(200, 150, 1)])
    assert candidates and candidates[0].mask.shape == (300, 400)


def test_a_file_that_is_no_checkpoint_gives_one_line(tmp_path, models_dir):
    bad = tmp_path / "notes.pth"
    bad.write_text("this is not a checkpoint")
    res = matlens("models", "import", str(bad), "--type", "vit_b")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("matlens: "), res.stderr
