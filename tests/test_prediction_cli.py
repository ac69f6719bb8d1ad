"""`matlens predict ... --json` for a formula, a structure, a folder and bad input."""

from __future__ import annotations

import json
import shutil

import pytest

import inference.cli as cli
from inference.runtime.registry import FileStatus, card_status, get_card


@pytest.fixture(autouse=True)
def _predict_registered(monkeypatch):
    monkeypatch.setitem(cli.SUBCOMMANDS, "predict", "predict")


def _json(capsys, *argv):
    rc = cli.main(["predict", *argv, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def _need_chgnet():
    if card_status(get_card("chgnet")) is not FileStatus.OK:
        pytest.skip("CHGNet ONNX not exported: run `make models`")


def test_formula_json(capsys):
    from inference.prediction.composition import composition_cards

    if not composition_cards():
        pytest.skip("composition models not trained")
    data = _json(capsys, "GaAs")
    assert data["reduced_formula"] == "GaAs"
    assert "band_gap" in data and "band_gap" in data["uncertainty"]


def test_structure_json(capsys, shared_data):
    _need_chgnet()
    path = shared_data("structures", "alignn_poscar", "POSCAR-JVASP-1996.vasp")
    data = _json(capsys, str(path))
    assert set(data) >= {"energy_per_atom", "forces", "stress", "magmoms", "device"}
    assert len(data["forces"]) == data["n_atoms"] and len(data["stress"]) == 3


def test_folder_batch_reports_bad_files(capsys, shared_data, tmp_path):
    _need_chgnet()
    for name in ("POSCAR-JVASP-1996.vasp", "POSCAR-JVASP-10.vasp"):
        shutil.copy(shared_data("structures", "alignn_poscar", name), tmp_path / name)
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a oops\n")
    data = _json(capsys, str(tmp_path))
    assert len(data) == 3
    errors = [d for d in data if "error" in d]
    assert len(errors) == 1 and errors[0]["file"] == "broken.cif"


@pytest.mark.parametrize("arg", ["Xx2O3", "missing/file.cif", "Fe2((O3"])
def test_bad_input_is_one_line_exit_2(capsys, arg):
    rc = cli.main(["predict", arg, "--json"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("matlens: ") and "\n" not in err
