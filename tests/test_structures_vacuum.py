"""A slab or 2D-layer cell (JARVIS-DFT 2D entries carry 12-30 Å of vacuum) has no material
density: SiS's monolayer cell read 0.63 g/cm³, a quarter of the material's. Such a cell says
why in the reader's notices, `matlens structure info` and the window, and bulk cells keep
their density. Real JARVIS POSCARs from alignn's sample data."""

from __future__ import annotations

import json

import pytest
from cli_harness import run_matlens
from conftest import shared
from pymatgen.core import Structure

from inference.structures.analysis import analyze, vacuum_gap


def _poscar(name: str):
    return shared("structures", "alignn_poscar", f"POSCAR-JVASP-{name}.vasp")


def test_a_2d_cell_gives_no_density_and_says_why():
    info = analyze(Structure.from_file(_poscar("28397")))
    assert info.density is None
    (note,) = [n for n in info.notices if "vacuum" in n]
    assert "19.9 Å of vacuum along c" in note and "0.63 g/cm³" in note


@pytest.mark.parametrize("name", ["1372", "1996", "10", "90856"])
def test_bulk_cells_keep_their_density(name):
    structure = Structure.from_file(_poscar(name))
    assert vacuum_gap(structure) is None
    assert analyze(structure).density == pytest.approx(structure.density)


def test_cli_info_says_it_and_json_gives_no_density():
    text = run_matlens("structure", "info", _poscar("28397"), timeout=120)
    assert text.returncode == 0, text.stderr
    assert "density" not in text.stdout.replace("no density", "")
    assert "19.9 Å of vacuum along c" in text.stdout
    as_json = run_matlens("structure", "info", _poscar("28397"), "--json", timeout=120)
    record = json.loads(as_json.stdout)
    assert record["density"] is None and record["formula"] == "Si4S4"


def test_the_window_shows_no_density_for_a_2d_cell(qtbot):
    pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")
    from test_structures_pane import structure_file_opened

    with structure_file_opened(qtbot, _poscar("28397")) as (window, pane):
        assert pane.info.fields["density"].text() == "—"
        assert "19.9 Å of vacuum along c" in pane.info.notices.text()
        assert window.open_path(_poscar("1372"))
        qtbot.waitUntil(
            lambda: pane.info.fields["density"].text().endswith("g/cm³") and not pane.busy,
            timeout=60000,
        )
