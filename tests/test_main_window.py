"""The main window as a person meets it: menus, messages, recent files, drops, crashes, device."""

from __future__ import annotations

import html
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMenu

from desktop.crash import CrashHandler
from desktop.main_window import MainWindow


def _window(qtbot, **kwargs):
    window = MainWindow(**kwargs)
    qtbot.addWidget(window)
    window.show()
    return window


def test_menus_and_device_label(qtbot):
    window = _window(qtbot)
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Models", "Help"]
    qtbot.waitUntil(lambda: window.device is not None, timeout=10000)
    label = window.device_label.text()
    assert label.startswith("GPU: ") or label.startswith("CPU — ")
    assert window.undo_action.text().replace("&", "") == "Undo"


def test_view_menu_and_ctrl_number_show_each_pane(qtbot):
    """View ▸ Structures and Ctrl+2 stayed on the tab shown and raised a TypeError (the
    action's checked flag took the pane's place), which the crash dialog then reported."""
    from PySide6.QtTest import QTest

    window = _window(qtbot)
    with qtbot.waitActive(window):
        window.activateWindow()
    view = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&View")
    for i, pane in enumerate(window.panes):
        QTest.keyClick(window, Qt.Key(Qt.Key.Key_1.value + i), Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentWidget() is pane, pane.title
    window.tabs.setCurrentIndex(0)
    titled = {a.text(): a for a in view.actions()}
    titled[window.panes[-1].title].trigger()
    assert window.tabs.currentWidget() is window.panes[-1]


def test_unknown_file_type_gets_a_one_line_message(qtbot, tmp_path):
    window = _window(qtbot)
    odd = tmp_path / "notes.xyz123"
    odd.write_text("hello")
    window.open_path(odd)  # its first bytes are read in the Micrographs pane's open job
    qtbot.waitUntil(lambda: "cannot open '.xyz123' files" in window.banner.text, timeout=10000)
    assert "\n" not in window.banner.text
    assert ".cif" in window.banner.text and ".tif" in window.banner.text
    assert window.open_path(tmp_path / "gone.tif") is False
    assert "File not found" in window.banner.text


def test_drop_of_unknown_file_explains_instead_of_failing(qtbot, tmp_path):
    window = _window(qtbot)
    odd = tmp_path / "data.weird"
    odd.write_text("x")
    _drop(window, odd)
    qtbot.waitUntil(lambda: "cannot open '.weird' files" in window.banner.text, timeout=10000)


def test_a_dropped_folder_without_papers_leaves_the_open_library(qtbot, tmp_path):
    """A folder of micrographs dropped on the window went to the Literature pane as a library
    of 0 papers and replaced the one open there. Now one line points to Batch…, and the open
    library stays; an empty folder says what a library is."""
    import shutil

    from desktop.panes.literature.pane import LiteraturePane
    from inference.runtime.paths import samples_dir

    window = _window(qtbot)
    pane = next(p for p in window.panes if isinstance(p, LiteraturePane))
    papers, images, empty = (tmp_path / n for n in ("papers", "images", "empty"))
    for folder in (papers, images, empty):
        folder.mkdir()
    shutil.copy(next(samples_dir().glob("*.pdf")), papers)
    for name in ("a.tif", "b.tif"):
        shutil.copy(samples_dir() / "superalloy_precipitates.tif", images / name)
    _drop(window, papers)
    qtbot.waitUntil(lambda: pane.library_list.count() == 1, timeout=120000)
    _drop(window, images)
    said = (
        "The folder images holds no PDF papers but 2 images: to run the Micrographs pane's settings"
    )
    qtbot.waitUntil(lambda: said in window.banner.text, timeout=30000)
    assert "Batch…" in window.banner.text and "\n" not in window.banner.text
    _drop(window, empty)
    qtbot.waitUntil(
        lambda: (
            "The folder empty holds no PDF papers: a library is a folder of PDF files"
            in window.banner.text
        ),
        timeout=30000,
    )
    assert pane.library is not None and pane.library.root == papers
    assert pane.library_list.count() == 1


def _drop(window, path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(event)
    window.dropEvent(event)


def test_a_tiff_without_extension_opens_as_in_the_cli(qtbot, tmp_path, shared_data, monkeypatch):
    """`matlens segment noext` reads a TIFF by its first bytes; the window opens it too, reading
    those bytes in the open job, never on the GUI thread."""
    import shutil
    import threading

    from desktop.panes.micrograph.pane import MicrographPane
    from inference.imaging import formats

    source = shared_data("microscope_formats", "rosettasciio", "tiff")
    source = source / "test_loading_image_saved_with_imageJ.tif"
    noext = Path(shutil.copy(source, tmp_path / "imagej_scan"))
    sniffed_on: list[bool] = []
    family = formats.family

    def sniff(path):
        sniffed_on.append(threading.current_thread() is threading.main_thread())
        return family(path)

    monkeypatch.setattr(formats, "family", sniff)
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QFileDialog

    window = _window(qtbot)
    window.tabs.setCurrentIndex(window.tabs.count() - 1)  # not the Micrographs tab
    asked: list[str] = []

    def choose(_parent, _title, _folder, filters):
        asked.append(filters)
        return str(noext), "All files (*)"

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    open_action = next(a for a in window.findChildren(QAction) if a.text() == "&Open…")
    open_action.trigger()  # File ▸ Open…, "All files (*)" chosen
    assert asked and asked[0].endswith("All files (*)")
    pane = window.current_pane()
    assert isinstance(pane, MicrographPane)
    qtbot.waitUntil(lambda: pane.loaded is not None, timeout=30000)
    loaded = pane.loaded
    assert loaded is not None and loaded.path == noext
    assert loaded.micrograph.shape == (68, 68)
    assert loaded.micrograph.calibration.unit == "µm"
    assert abs(loaded.micrograph.calibration.pixel_size - 0.168675) < 1e-5
    assert window.windowTitle().startswith("imagej_scan")
    assert sniffed_on and not any(sniffed_on)

    # dropped onto the window: the same, and a file that is no image is one line, the image stays
    dropped = Path(shutil.copy(source, tmp_path / "dropped_scan"))
    _drop(window, dropped)
    qtbot.waitUntil(lambda: pane.loaded is not None and pane.loaded.path == dropped, timeout=30000)
    notes = tmp_path / "README"
    notes.write_text("calibration: 0.17 um per pixel\n")
    _drop(window, notes)
    qtbot.waitUntil(lambda: "cannot open 'README'" in window.banner.text, timeout=10000)
    assert "no extension" in window.banner.text and "\n" not in window.banner.text
    assert pane.loaded is not None and pane.loaded.path == dropped


def test_recent_files_survive_a_restart(qtbot, tmp_path):
    window = _window(qtbot)
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    a.write_bytes(b"1")
    b.write_bytes(b"2")
    window._file_opened(a)
    window._file_opened(b)
    window._file_opened(a)
    again = _window(qtbot)
    assert again.recent.paths() == [a.resolve(), b.resolve()]
    assert [x.text() for x in again.recent_menu.actions()][:2] == [
        str(a.resolve()),
        str(b.resolve()),
    ]


def test_a_recent_file_moved_away_is_said_and_leaves_the_list(qtbot, tmp_path):
    """Open Recent ▸ a file moved since said "File not found" and stayed listed."""
    window = _window(qtbot)
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    a.write_bytes(b"1")
    b.write_bytes(b"2")
    window._file_opened(b)
    window._file_opened(a)
    a.rename(tmp_path / "moved.tif")
    entry = next(x for x in window.recent_menu.actions() if x.text() == str(a.resolve()))
    entry.trigger()
    assert window.banner.text == f"File not found: {a.resolve()} (removed from Open Recent)"
    assert [x.text() for x in window.recent_menu.actions()][0] == str(b.resolve())
    assert str(a.resolve()) not in [x.text() for x in window.recent_menu.actions()]


def test_several_images_dropped_open_the_first_and_name_the_others(qtbot, tmp_path):
    """Two micrographs dropped at once: the last opened and the first went unsaid. The pane
    holds one image: the first opens and a line names the one not opened."""
    import shutil

    from desktop.panes.micrograph.pane import MicrographPane
    from inference.runtime.paths import samples_dir

    window = _window(qtbot)
    pane = next(p for p in window.panes if isinstance(p, MicrographPane))
    first, second = tmp_path / "first.tif", tmp_path / "second.tif"
    for path in (first, second):
        shutil.copy(samples_dir() / "superalloy_precipitates.tif", path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(first)), QUrl.fromLocalFile(str(second))])
    event = QDropEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dragEnterEvent(event)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: pane.loaded is not None, timeout=30000)
    assert pane.loaded is not None and pane.loaded.path == first
    assert window.banner.text == (
        "Micrographs shows one file at a time: first.tif is open; not opened: second.tif"
    )


def test_crash_handler_logs_and_keeps_running(qtbot):
    window = _window(qtbot)
    handler = CrashHandler()
    handler.show_dialogs = False
    try:
        raise ZeroDivisionError("division by zero in a slot")
    except ZeroDivisionError:
        handler._excepthook(*sys.exc_info())
    assert handler.last is not None
    assert (
        handler.last.message == "Unexpected error (ZeroDivisionError): division by zero in a slot"
    )
    qtbot.waitUntil(lambda: "ZeroDivisionError" in handler.log_path.read_text(), timeout=3000)
    assert window.isVisible()


def test_about_lists_bundled_models_with_licences(qtbot):
    from desktop.dialogs.about import AboutDialog
    from inference.runtime.registry import load_cards

    window = _window(qtbot)
    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    text = dialog.label.text()  # HTML source
    for card in (c for c in load_cards() if c.bundled):
        for field in (card.name, card.licence, card.source_package):
            assert html.escape(field) in text


def test_model_manager_shows_models_and_device(qtbot):
    from desktop.dialogs.models import ModelManager
    from inference.runtime.registry import load_cards

    window = _window(qtbot)
    qtbot.waitUntil(lambda: window.device is not None, timeout=10000)
    assert window.device is not None
    dialog = ModelManager(window.jobs, window.device, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60000)  # checksums are read in a job
    assert dialog.table.rowCount() == len(load_cards())
    assert window.device.label in dialog.device_label.text()


def test_model_manager_opened_at_start_names_the_device_once_found(qtbot):
    """Opened before the window has found its device (the probe runs after the first paint),
    the Model manager said "Compute device: checking…" for as long as it stayed open."""
    from desktop.dialogs.models import ModelManager

    window = _window(qtbot)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Models")
    assert isinstance(menu, QMenu)
    next(a for a in menu.actions() if a.text() == "Model &manager…").trigger()
    dialog = window.findChild(ModelManager)
    assert dialog is not None
    assert window.device is None and "checking…" in dialog.device_label.text()
    qtbot.waitUntil(lambda: window.device is not None, timeout=10000)
    assert window.device is not None
    assert f"Compute device:</b> {window.device.label}" in dialog.device_label.text()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60000)


def test_model_manager_states_agree_with_the_doctor(qtbot, tmp_path, monkeypatch, capsys):
    """Models ▸ Model manager… says of each model what `matlens doctor` and `models list` say:
    the Tc linker (its coefficients are in its card, no files) is ok, not "missing", and a card
    that cannot be read says so instead of "missing"."""
    from desktop.dialogs.models import ModelManager
    from inference import doctor
    from inference.cli import main as cli_main

    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))  # no exported files: cheap to check
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "broken.json").write_text("{not json", encoding="utf-8")
    window = _window(qtbot)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Models")
    assert isinstance(menu, QMenu)
    next(a for a in menu.actions() if a.text() == "Model &manager…").trigger()
    dialog = window.findChild(ModelManager)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.checking, timeout=60000)  # checksums are read in a job
    cells = [
        (dialog.table.item(row, 0), dialog.table.item(row, 2))
        for row in range(dialog.table.rowCount())
    ]
    shown = {name.text(): state.text() for name, state in cells if name and state}
    assert len(shown) == dialog.table.rowCount()
    verdicts = {
        m.name: "ok"
        if m.ok
        else m.problem.split(":")[0] or next(v for v in m.files.values() if v != "ok")
        for m in doctor.collect().models
    }
    assert shown == verdicts
    assert shown["broken"] == "unreadable card"
    tc_linker = next(m.name for m in doctor.collect().models if m.id == "tc_linker")
    assert shown[tc_linker] == "ok"
    # every column in sight: the long licences wrap instead of pushing Source off the side
    qtbot.waitExposed(dialog)
    assert dialog.table.horizontalScrollBar().maximum() == 0
    assert cli_main(["models", "list"]) == 0  # the CLI's list agrees too
    listed = dict(line.split()[:2] for line in capsys.readouterr().out.splitlines())
    assert listed["tc_linker"] == "ok" and listed["broken"] == "unreadable"
    dialog.close()


def test_running_app_never_imports_torch_or_transformers(tmp_path):
    """Checked in a fresh process: the window opens, and neither module is loaded."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtWidgets import QApplication
        from PySide6.QtCore import QTimer
        app = QApplication([])
        from desktop.main_window import MainWindow
        w = MainWindow(); w.show()
        QTimer.singleShot(1500, app.quit); app.exec()
        heavy = sorted(m for m in ("torch", "transformers", "segment_anything") if m in sys.modules)
        print("HEAVY", heavy)
        w.close(); w.deleteLater(); app.processEvents()
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_an_error_banner_goes_when_the_next_file_opens(qtbot, main_window, shared_data):
    """An EELS spectrum is not an image: its error must not stay above the FEI image opened
    next (the banner used to stay up for 20 s, over a file that opened fine)."""
    folder = shared_data("microscope_formats", "rosettasciio", "digitalmicrograph")
    spectrum = folder / "1D" / "test-EELS_spectrum.dm3"
    image = folder / "Fei_HAADF-DE_location.dm3"
    micrographs = next(p for p in main_window.panes if p.title == "Micrographs")
    assert main_window.open_path(spectrum)
    qtbot.waitUntil(lambda: main_window.banner.text != "", timeout=60000)
    error = main_window.banner.text
    assert "\n" not in error
    with qtbot.waitSignal(micrographs.file_opened, timeout=60000):
        assert main_window.open_path(image)
    assert main_window.banner.text == ""
    assert main_window.statusBar().currentMessage() != error


def test_a_model_leaving_the_gpu_is_told_in_the_window(qtbot):
    """A model that runs out of GPU memory in a worker goes on on the CPU: the device label
    and a notice say so (the CUDA failure is simulated; the job and the CPU run are real)."""
    import numpy as np
    from test_runtime import PROBE, _OutOfGpuMemory

    from inference.runtime.sessions import CUDA, DeviceReport, OnnxModel

    window = _window(qtbot, pane_classes=[], warm_up=False)
    qtbot.waitUntil(lambda: window.device is not None, timeout=10000)
    model = OnnxModel(PROBE, prefer_gpu=False)
    # a session that fails as CUDA does when its memory runs out; no GPU here to make it real
    model.session = _OutOfGpuMemory()  # pyright: ignore[reportAttributeAccessIssue]
    model.device = DeviceReport(CUDA, True, "NVIDIA H100")
    results = []
    window.jobs.start(model.run, {"x": np.ones(1, np.float32)}, on_result=results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=10000)
    qtbot.waitUntil(lambda: "ran out of memory" in window.device_label.text(), timeout=5000)
    assert window.device_label.text() == (
        "CPU — the GPU ran out of memory running probe.onnx: it runs on the CPU from now on"
    )
    assert window.banner.text.startswith("The GPU ran out of memory running probe.onnx")
    window.close()


def test_a_recent_file_goes_back_to_the_pane_that_opened_it(qtbot, tmp_path):
    """A pymatgen JSON is opened with the Structures pane's own Open button (the window does
    not route .json by name: other panes write JSON). From File ▸ Open Recent it went to
    Micrographs: "MatLens cannot open '.json' files"."""
    from pymatgen.core import Structure

    from inference.runtime.paths import samples_dir

    path = tmp_path / "NaCl.json"
    Structure.from_file(samples_dir() / "NaCl.cif").to(filename=str(path))
    window = _window(qtbot)
    structures = next(p for p in window.panes if p.title == "Structures")
    with qtbot.waitSignal(structures.file_opened, timeout=60000):
        structures.open_path(path)
    again = _window(qtbot)  # the list lives on in the settings
    action = next(a for a in again.recent_menu.actions() if a.text() == str(path.resolve()))
    structures = next(p for p in again.panes if p.title == "Structures")
    with qtbot.waitSignal(structures.file_opened, timeout=60000):
        action.trigger()  # what a click on the menu entry does
    assert again.tabs.currentWidget() is structures
    assert not again.banner.error_text
