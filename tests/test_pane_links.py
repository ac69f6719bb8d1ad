"""Cross-pane actions in the main window: Literature and Structures hand work to Prediction."""

from __future__ import annotations

import pytest
from literature_helpers import paper
from PySide6.QtCore import Qt


def _pane(window, title):
    return next(p for p in window.panes if p.title == title)


def test_predict_a_material_found_in_a_paper(qtbot, main_window):
    from inference.prediction.composition import composition_cards

    if not composition_cards():
        pytest.skip("composition models not trained")
    literature, prediction = _pane(main_window, "Literature"), _pane(main_window, "Prediction")
    main_window.tabs.setCurrentWidget(literature)
    with qtbot.waitSignal(literature.file_opened, timeout=60000):
        literature.open_path(paper("Suzuki_etal_2015-CC.pdf"))
    qtbot.waitUntil(lambda: not literature.busy, timeout=60000)
    assert not literature.predict_button.isEnabled()  # nothing selected yet

    row = next(i for i, r in enumerate(literature.table.records) if r.material == "EuFBiS2")
    rect = literature.table.visualItemRect(literature.table.item(row, 0))
    qtbot.mouseClick(literature.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert literature.predict_button.isEnabled()
    assert literature.predict_button.text() == "Predict properties of EuFBiS2"

    qtbot.mouseClick(literature.predict_button, Qt.MouseButton.LeftButton)
    assert main_window.tabs.currentWidget() is prediction
    assert prediction.input.text() == "EuFBiS2"
    qtbot.waitUntil(lambda: prediction.table.rowCount() > 0, timeout=30000)
    assert prediction.table.item(0, 0).text() == "EuFBiS2"
    quantities = {prediction.table.item(r, 1).text() for r in range(prediction.table.rowCount())}
    assert any("band gap" in q for q in quantities), quantities
    qtbot.waitUntil(lambda: not literature.busy, timeout=60000)


def test_variable_formula_cannot_be_predicted(qtbot, main_window):
    literature = _pane(main_window, "Literature")
    with qtbot.waitSignal(literature.file_opened, timeout=60000):
        literature.open_path(paper("1609.04957-CC.pdf"))
    qtbot.waitUntil(lambda: not literature.busy, timeout=60000)
    variable = [r for r in literature.table.records if r.material and "x" in r.material]
    if not variable:
        pytest.skip("no record with a variable formula in this paper")
    literature.focus_record(variable[0])
    assert not literature.predict_button.isEnabled()
    assert "not a fixed composition" in literature.predict_button.toolTip()
    qtbot.waitUntil(lambda: not literature.busy, timeout=60000)


def test_predict_the_structure_open_in_structures(qtbot, main_window):
    from inference.runtime.paths import samples_dir

    structures, prediction = _pane(main_window, "Structures"), _pane(main_window, "Prediction")
    main_window.tabs.setCurrentWidget(structures)
    with qtbot.waitSignal(structures.file_opened, timeout=60000):
        structures.open_path(samples_dir() / "SrTiO3.cif")
    qtbot.waitUntil(lambda: not structures.busy, timeout=60000)

    qtbot.mouseClick(structures.toolbar.predict_button, Qt.MouseButton.LeftButton)
    assert main_window.tabs.currentWidget() is prediction
    qtbot.waitUntil(lambda: prediction.table.rowCount() > 0, timeout=60000)
    rows = {
        prediction.table.item(r, 1).text(): prediction.table.item(r, 2).text()
        for r in range(prediction.table.rowCount())
    }
    assert -9.0 < float(rows["total energy"]) < -8.0  # CHGNet: about -8.42 eV/atom for SrTiO3
    assert "SrTiO3.cif" in prediction.input.text()
    # The structure's composition gets what typing SrTiO3 gets: its known values come first
    # (a person reads the table's number before any model's), then CHGNet's, then the
    # composition models' band gap, each saying it is the composition's.
    table = [
        [prediction.table.item(r, c).text() for c in range(prediction.table.columnCount())]
        for r in range(prediction.table.rowCount())
    ]
    kinds = [row[5] for row in table]
    energy = next(i for i, row in enumerate(table) if row[1] == "total energy")
    known = [i for i, k in enumerate(kinds) if k.startswith("known")]
    assert known and max(known) < energy, kinds
    assert all("composition's value (SrTiO3)" in table[i][7] for i in known)
    gap = next(row for row in table if row[1] == "band gap" and row[5] == "prediction")
    assert 2.0 < float(gap[2]) < 4.5 and gap[6].endswith("from the composition SrTiO3 alone")
    assert table.index(gap) > energy and gap[0] == table[energy][0]  # the same item


def test_predict_a_structure_with_partly_occupied_sites(qtbot, main_window):
    """Cu3Au with Cu and Au sharing every site (the shipped sample): CHGNet cannot take it. The
    pane used to show only a red line; it now shows the composition's known values and
    predictions, and says in one line why there is no CHGNet row."""
    from inference.runtime.paths import samples_dir

    structures, prediction = _pane(main_window, "Structures"), _pane(main_window, "Prediction")
    main_window.tabs.setCurrentWidget(structures)
    with qtbot.waitSignal(structures.file_opened, timeout=60000):
        structures.open_path(samples_dir() / "CuAu_disordered.cif")
    qtbot.waitUntil(lambda: not structures.busy, timeout=60000)

    qtbot.mouseClick(structures.toolbar.predict_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: prediction.table.rowCount() > 0, timeout=60000)
    table = [
        [prediction.table.item(r, c).text() for c in range(prediction.table.columnCount())]
        for r in range(prediction.table.rowCount())
    ]
    assert {row[0] for row in table} == {"CuAu_disordered.cif [Cu3Au]"}  # file [block]
    assert table[0][5].startswith("known") and "(Cu3Au)" in table[0][7]
    assert "total energy" not in {row[1] for row in table}
    assert any(row[1] == "band gap" and row[5] == "prediction" for row in table)
    assert "CHGNet needs an ordered structure" in prediction.message.text()
    assert "#b00020" not in prediction.message.text()  # a note, not a failure


def test_predict_the_block_shown_not_the_first_one(qtbot, main_window, tmp_path):
    """A CIF with two structures (KAlF4 and graphite, two COD files in one): with the second
    chosen in Structures, Predict properties used to send only the file, and CHGNet predicted
    the first block, KAlF4, under the file's name."""
    from conftest import shared

    from inference.runtime.registry import FileStatus, card_status, get_card

    if card_status(get_card("chgnet")) is not FileStatus.OK:
        pytest.skip("CHGNet ONNX not exported: run `make models`")
    cifs = shared("structures", "cod_tools_cifs")
    both = tmp_path / "two.cif"
    both.write_text(
        (cifs / "1000125-cell-diff.cif").read_text()
        + "\n"
        + (cifs / "1011060-graphite-atom-label.cif").read_text()
    )
    structures, prediction = _pane(main_window, "Structures"), _pane(main_window, "Prediction")
    main_window.tabs.setCurrentWidget(structures)
    with qtbot.waitSignal(structures.file_opened, timeout=60000):
        structures.open_path(both)
    qtbot.waitUntil(lambda: not structures.busy and structures.prepared is not None, timeout=60000)
    assert structures.block_combo.count() == 2
    structures.block_combo.setCurrentIndex(1)  # as a person picks it in the list
    qtbot.waitUntil(
        lambda: (
            structures.prepared is not None
            and structures.prepared.info.reduced_formula == "C"
            and not structures.busy
        ),
        timeout=60000,
    )

    qtbot.mouseClick(structures.toolbar.predict_button, Qt.MouseButton.LeftButton)
    assert main_window.tabs.currentWidget() is prediction
    qtbot.waitUntil(lambda: prediction.report is not None, timeout=60000)
    record = prediction.report.records[0]
    assert record["formula"] == "C", record.get("formula")
    assert prediction.table.item(0, 0).text() == "two.cif [1011060]"
    assert not any("first" in w for w in prediction.report.warnings), prediction.report.warnings
