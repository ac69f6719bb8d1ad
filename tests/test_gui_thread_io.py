"""The GUI thread never does file I/O: what a user does in the real window, with every file the
main thread opens recorded by a Python audit hook.

Python's audit events "open" (builtins.open, io.open, os.open: numpy, tifffile, pypdfium2's
Python side, json, pathlib reads and writes) and "os.listdir"/"os.scandir" (folder listings) are
recorded when they fire on the main thread. What Qt or another C++ library opens by itself
(QSettings, fonts, icons, onnxruntime's model loading) raises no Python audit event and is not
seen here.

Filtered out as not user file I/O: Python's imports (*.py, *.pyc, *.so, anything under
__pycache__), the interpreter's and the virtualenv's files (sys.prefix, sys.base_prefix: the
standard library and site-packages), the system (/usr, /etc, /proc, /sys, /dev), listings of
folders that hold Python modules (the import system's finder lists them) and file descriptors (an
int "path": a file opened before, by name, and recorded then).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

P = TypeVar("P")
_MAIN_THREAD = threading.main_thread().ident
_EVENTS = ("open", "os.listdir", "os.scandir")


@dataclass(frozen=True)
class MainThreadIO:
    event: str  # "open", "os.listdir" or "os.scandir"
    path: str
    mode: str  # open's mode ("r", "wb", ...), "" for a listing


class _Recorder:
    """One audit hook for the whole test process (a hook cannot be removed): it records only
    while `calls` is a list, and only on the main thread, which is the GUI thread."""

    calls: list[tuple[str, object, object]] | None = None
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        calls = cls.calls
        if calls is None or event not in _EVENTS or threading.get_ident() != _MAIN_THREAD:
            return
        calls.append((event, args[0] if args else None, args[1] if len(args) > 1 else ""))


def _system_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/etc", "/proc", "/sys", "/dev"}
    roots |= {os.path.realpath(r) for r in list(roots)}
    return tuple(r.rstrip("/") + "/" for r in roots)


IMPORT_SUFFIXES = (".py", ".pyc", ".so", ".pyi", ".pth")


def user_file_io(calls: list[tuple[str, object, object]]) -> list[MainThreadIO]:
    """The recorded calls less Python's imports, the interpreter's and the system's files."""
    roots = _system_roots()
    kept: list[MainThreadIO] = []
    for event, raw, mode in calls:
        if raw is None or isinstance(raw, int):
            continue
        path = os.path.abspath(os.fsdecode(raw))  # pyright: ignore[reportArgumentType]
        if path.startswith(roots) or "__pycache__" in path or path.endswith(IMPORT_SUFFIXES):
            continue
        if event == "os.listdir" and any(Path(path).glob("*.py")):
            continue  # the import system looking for a module
        mode_text = mode if isinstance(mode, str) else ""
        found = MainThreadIO(event, path, mode_text if event == "open" else "")
        if found not in kept:
            kept.append(found)
    return kept


def _card_folders() -> tuple[Path, Path]:
    from inference.runtime.paths import models_dir, resources_dir

    return resources_dir() / "models", models_dir() / "cards"


def allowed(found: MainThreadIO) -> bool:
    """Main-thread file operations that may stay, each with why."""
    path = Path(found.path)
    # The model cards: a dozen JSON files of 1-3 KB listed from two folders. The Micrographs pane
    # reads them to fill its SAM model list and the Literature pane to enable "Tag materials" when
    # they are built (and again after Models ▸ Model manager changes the models): the window needs
    # them to paint, and reading them takes well under a millisecond each.
    cards = path.suffix == ".json" and path.parent in _card_folders()
    return found.mode in ("", "r") and (cards or path in _card_folders())


class Audit:
    def __init__(self) -> None:
        self.steps: dict[str, list[MainThreadIO]] = {}

    def step(self, name: str):
        audit = self

        class _Step:
            def __enter__(self) -> None:
                _Recorder.calls = []

            def __exit__(self, *exc: object) -> None:
                calls, _Recorder.calls = _Recorder.calls or [], None
                audit.steps[name] = user_file_io(calls)

        return _Step()

    def report(self) -> str:
        lines = []
        for name, found in self.steps.items():
            lines.append(f"{name}: {len(found)} main-thread file operation(s)")
            lines += [f"    {f.event} {f.mode or '-'} {f.path}" for f in found]
        return "\n".join(lines)


def test_the_gui_thread_opens_no_data_or_model_file(qtbot, micrograph_sample):
    from desktop.dialogs.about import AboutDialog
    from desktop.dialogs.models import ModelManager
    from desktop.main_window import MainWindow
    from desktop.panes.literature.pane import LiteraturePane
    from desktop.panes.micrograph.pane import MicrographPane
    from desktop.panes.prediction.pane import PredictionPane
    from desktop.panes.structure.pane import StructurePane
    from inference.runtime import registry
    from inference.runtime.paths import samples_dir

    if not _Recorder.installed:
        sys.addaudithook(_Recorder.hook)
        _Recorder.installed = True
    audit = Audit()
    registry._hash_cache.clear()  # the checksums are read afresh, as when the app starts
    try:
        with audit.step("start the window"):
            window = MainWindow()
            qtbot.addWidget(window)
            window.resize(1300, 850)
            window.show()
            qtbot.waitExposed(window)
            qtbot.waitUntil(lambda: window.device is not None, timeout=30000)

        def pane(kind: type[P]) -> P:
            return next(p for p in window.panes if isinstance(p, kind))

        micrographs = pane(MicrographPane)
        with audit.step("open the micrograph"):
            window.open_path(micrograph_sample)
            qtbot.waitUntil(lambda: micrographs.ready, timeout=60000)
            view = micrographs.canvas.view
            qtbot.waitUntil(lambda: view.viewRect().width() > 10, timeout=5000)

        with audit.step("click an object and accept it"):
            prompts = micrographs.state.workbench.prompts
            assert prompts is not None
            pos = micrographs.canvas.scene_pos_of(292.5, 290.5)
            qtbot.mouseClick(micrographs.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            qtbot.waitUntil(
                lambda: prompts.current is not None and not micrographs.clicks.decode_slot.busy,
                timeout=30000,
            )
            qtbot.mouseClick(micrographs.clicks.accept_button, Qt.MouseButton.LeftButton)
            annotations = micrographs.annotations
            qtbot.waitUntil(lambda: annotations is not None and len(annotations) == 1)
            qtbot.waitUntil(lambda: not window.jobs.busy, timeout=30000)

        structures = pane(StructurePane)
        with audit.step("open a CIF in Structures"):
            with qtbot.waitSignal(structures.file_opened, timeout=60000):
                window.open_path(samples_dir() / "NaCl.cif")
            qtbot.waitUntil(
                lambda: structures.scene is not None and not structures.busy, timeout=60000
            )

        literature = pane(LiteraturePane)
        with audit.step("open the sample PDF in Literature"):
            window.open_path(samples_dir() / "LaFeAsO1-xHx_NMR_1609.04957.pdf")
            qtbot.waitUntil(
                lambda: literature.paper is not None and not literature.busy, timeout=60000
            )

        prediction = pane(PredictionPane)
        with audit.step("predict a formula"):
            window.tabs.setCurrentWidget(prediction)
            qtbot.keyClicks(prediction.input, "TiO2")
            qtbot.mouseClick(prediction.predict_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: prediction.table.rowCount() > 0, timeout=60000)
            qtbot.waitUntil(lambda: not prediction.predict_slot.busy, timeout=60000)

        registry._hash_cache.clear()  # the checksums are read afresh, as when the app starts
        with audit.step("open Help ▸ About"):
            menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
            assert isinstance(menu, QMenu)
            next(a for a in menu.actions() if a.text().startswith("&About")).trigger()
            about = window.findChild(AboutDialog)
            assert about is not None
            qtbot.waitExposed(about)
            about.close()

        with audit.step("open Models ▸ Model manager"):
            menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Models")
            assert isinstance(menu, QMenu)
            next(a for a in menu.actions() if a.text() == "Model &manager…").trigger()
            dialog = window.findChild(ModelManager)
            assert dialog is not None
            qtbot.waitExposed(dialog)
            qtbot.waitUntil(lambda: not window.jobs.busy, timeout=60000)  # the check ran
            shown = dialog.table.rowCount()
            dialog.close()
    finally:
        _Recorder.calls = None
    print(audit.report())
    assert shown == len(registry.load_cards())  # the check's answer is on screen
    offending = [
        f"{step}: {f.event} {f.mode or '-'} {f.path}"
        for step, found in audit.steps.items()
        for f in found
        if not allowed(f)
    ]
    assert not offending, "the GUI thread did file I/O:\n" + "\n".join(offending)
