"""The Prediction pane: type a formula, press Enter, see the table fill in."""

from __future__ import annotations

import pytest


@pytest.fixture
def pane(qtbot):
    from desktop.panes.base import AppContext
    from desktop.panes.prediction.pane import PredictionPane
    from desktop.workers import JobRunner

    jobs = JobRunner()
    statuses: list[str] = []
    context = AppContext(jobs=jobs, show_error=lambda r: None, show_status=statuses.append)
    widget = PredictionPane(context)
    qtbot.addWidget(widget)
    widget.resize(1000, 650)
    widget.show()
    yield widget
    widget.shutdown()
    jobs.wait(20000)
    widget.close()


def test_type_formula_results_appear(qtbot, pane):
    from inference.prediction.composition import composition_cards

    if not composition_cards():
        pytest.skip("composition models not trained")
    qtbot.keyClicks(pane.input, "Fe2O3")
    qtbot.keyClick(pane.input, "\r")
    qtbot.waitUntil(lambda: pane.table.rowCount() > 0, timeout=20000)
    texts = [pane.table.item(0, c).text() for c in range(pane.table.columnCount())]
    assert texts[0] == "Fe2O3" and texts[3].startswith("±") and texts[4]
    assert pane.export_button.isEnabled() and "CPU" in pane.device_label.text()


def test_bad_formula_shows_one_line(qtbot, pane):
    pane.input.setText("Qq3")
    pane.predict()
    qtbot.waitUntil(lambda: "Qq" in pane.message.text(), timeout=20000)
    assert pane.table.rowCount() == 0 and pane.predict_button.isEnabled()
