"""CIFs whose symmetry pymatgen cannot read alone, from the COD toolkit's test files.

A CIF that gives only a space-group symbol pymatgen's tables lack ("P2_1/n", the pre-1983
cubic "P m 3 m") used to be read as P1: a quarter of the atoms, a density of 0.6 g/cm³ and a
note saying the file had no space group. A modulated (superspace) block was read as P1 too. A
formula in the file that disagrees with the atoms read was never said. Each is checked through
the reader, `matlens structure info` and the window.
"""

from __future__ import annotations

import json

import pytest
from cli_harness import run_matlens
from conftest import shared

from inference.structures.isolated import summarize_file
from inference.structures.model import ReadOptions
from inference.structures.reader import read_structures

NO_LIMIT = ReadOptions(timeout_s=0)


def _cif(name: str):
    return shared("structures", "cod_tools_cifs", name)


def test_a_short_monoclinic_symbol_is_read_in_its_own_setting():
    """'P2_1/n' with no symmetry operations: the b-unique n-glide setting (P 1 21/n 1)."""
    path = _cif("1100107-spacegroup-with-underscore.cif")
    summary = summarize_file(path, NO_LIMIT)
    info, notices = summary.blocks[0].info, summary.blocks[0].notices
    assert (info.spacegroup_symbol, info.spacegroup_number) == ("P2_1/c", 14)
    assert info.nsites == 100  # 25 sites in the general position of P2_1/n, 4 copies each
    assert info.formula == "Al8P8H36N4O44"  # the 25 listed atoms, Al2P2H9NO11, four times
    assert info.density == pytest.approx(2.45, abs=0.01)  # AlPO4-15 (0.61 g/cm³ read as P1)
    assert "space group 'P2_1/n' read as P 1 2_1/n 1 (No. 14)" in notices
    assert not any("read as P1" in n for n in notices), notices


def test_an_old_cubic_symbol_is_read():
    """LaB6 written 'P m 3 m' (the notation before 1983 for Pm-3m)."""
    path = _cif("1000055-unrecognised-spacegroup.cif")
    summary = summarize_file(path, NO_LIMIT)
    info, notices = summary.blocks[0].info, summary.blocks[0].notices
    assert info.formula == "LaB6" and info.nsites == 7
    assert (info.spacegroup_symbol, info.spacegroup_number) == ("Pm-3m", 221)
    assert info.density == pytest.approx(4.71, abs=0.02)  # LaB6's X-ray density
    assert any("'P m 3 m' read as" in n and "No. 221" in n for n in notices), notices


def test_a_symbol_nobody_can_read_says_so_instead_of_no_space_group(tmp_path):
    text = _cif("1100107-spacegroup-with-underscore.cif").read_text()
    bad = tmp_path / "unknown-symbol.cif"
    bad.write_text(text.replace("P2_1/n", "Q9_9/z"))
    block = read_structures(bad, NO_LIMIT).blocks[0]
    assert len(block.structure) == 25
    assert any(
        "the space group 'Q9_9/z' in the file is not one MatLens can read" in n
        and "read as P1" in n
        for n in block.notices
    ), block.notices
    assert not any(n.startswith("no space group") for n in block.notices)


def test_modulated_blocks_are_skipped_with_a_reason():
    """sn5033sup1.cif: two superspace blocks (C2/m(α0γ)0s) and their 3D supercell."""
    loaded = read_structures(_cif("sn5033sup1.cif"), NO_LIMIT)
    assert loaded.block_names == ["alpha1-Cr2P2O7_supercell"]
    assert loaded.blocks[0].structure.composition.reduced_formula == "Cr2P2O7"
    reasons = {s.name: s.reason for s in loaded.skipped}
    assert set(reasons) == {"_alpha2-Cr2P2O7", "_alpha1-Cr2P2O7_superspace"}
    for reason in reasons.values():
        assert reason.startswith("a modulated structure (superspace group C2/m(α0γ)0s)"), reason


def test_a_formula_that_disagrees_with_the_atoms_is_said(tmp_path):
    text = _cif("1000125-cell-diff.cif").read_text()
    assert "'Al F4 K'" in text
    fine = read_structures(_cif("1000125-cell-diff.cif"), NO_LIMIT).blocks[0]
    assert not any("formula" in n for n in fine.notices), fine.notices
    wrong = tmp_path / "wrong-formula.cif"
    wrong.write_text(text.replace("'Al F4 K'", "'Al F6 K3'"))
    block = read_structures(wrong, NO_LIMIT).blocks[0]
    assert "the file's formula (K3AlF6) does not match its atoms (KAlF4)" in block.notices


def test_cli_info_shows_the_space_group_the_file_states():
    run = run_matlens(
        "structure", "info", _cif("1000055-unrecognised-spacegroup.cif"), "--json", timeout=120
    )
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["formula"] == "LaB6" and record["spacegroup_number"] == 221
    run = run_matlens("structure", "info", _cif("sn5033sup1.cif"), timeout=120)
    assert run.returncode == 0, run.stderr
    assert "CrPO3" not in run.stdout and "Cr24P24O84" in run.stdout
    assert "skipped: a modulated structure" in run.stdout


def test_symbols_that_name_several_settings_are_not_guessed():
    """Fd-3m has two origins and R3 hexagonal or rhombohedral axes: the symbol alone cannot
    say which, so no operations are made up (the file must list them)."""
    from inference.structures.space_groups import find_setting

    for symbol in ("F d 3 m", "Fd-3m", "R 3", "P 4/n", "Q9_9/z", ""):
        assert find_setting(symbol) is None, symbol
    named = {
        "P2(1)/n": ("P 1 2_1/n 1", 4),  # SHELX's way of writing the screw axis
        "P 1 1 21/n": ("P 1 1 2_1/n", 4),  # c unique, written in full
        "Pbnm": ("P 2_1/b 2_1/n 2_1/m", 8),  # a setting of Pnma
        "I a 3 d": ("I 4_1/a -3 2/d", 96),
    }
    for symbol, (full, count) in named.items():
        setting = find_setting(symbol)
        assert setting is not None, symbol
        assert (setting.full_symbol, len(setting.operations)) == (full, count)


def test_the_window_shows_the_stated_space_group_and_skips_modulated_blocks(qtbot):
    """Opened as a person opens a file (File ▸ Open routes through the window's open_path)."""
    pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")
    from test_structures_pane import structure_file_opened

    lab6 = _cif("1000055-unrecognised-spacegroup.cif")
    with structure_file_opened(qtbot, lab6) as (window, pane):
        fields = pane.info.fields
        assert fields["formula"].text() == "LaB6"
        assert fields["spacegroup"].text() == "Pm-3m (No. 221)"
        assert fields["density"].text().startswith("4.7")
        assert "'P m 3 m' read as" in pane.info.notices.text()
        assert "read as P1" not in pane.info.notices.text()

        messages = []
        window.statusBar().messageChanged.connect(messages.append)
        pane.prepared = None
        assert window.open_path(_cif("sn5033sup1.cif"))
        qtbot.waitUntil(lambda: pane.prepared is not None and not pane.busy, timeout=60000)
        assert pane.block_combo.count() == 1
        assert pane.info.fields["reduced"].text() == "Cr2P2O7"
        assert any("skipped: a modulated structure" in m for m in messages), messages
        assert not window.banner.error_text
