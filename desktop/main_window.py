"""The MatLens window: panes in tabs, menus, recent files, drag-and-drop and the device label."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.banner import MessageBanner
from desktop.panes import pane_types
from desktop.panes.base import AppContext, Pane, PredictionTarget
from desktop.settings import RecentFiles, app_settings
from desktop.workers import JobRunner
from inference.errors import ErrorReport
from inference.runtime.paths import log_dir
from inference.runtime.sessions import DeviceReport, device_report, on_gpu_fallback

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

WELCOME = (
    "<h2>Welcome to MatLens</h2>"
    "<p>Open a file with <b>File ▸ Open</b> or drop it onto this window.</p>"
)


class _FallbackNotices(QObject):
    """Carries a GPU-to-CPU fallback notice from the model's worker thread to the window."""

    notice = Signal(str)


class MainWindow(QMainWindow):
    device_found = Signal(object)  # the DeviceReport, once the probe has answered

    def __init__(
        self, pane_classes: list[type[Pane]] | None = None, *, warm_up: bool = True
    ) -> None:
        """`warm_up=False` leaves out the background start-up work (benchmarks measure what
        it saves)."""
        super().__init__()
        self.setWindowTitle("MatLens")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.settings = app_settings()
        self.recent = RecentFiles(self.settings)
        self.jobs = JobRunner(self)
        self.undo_group = QUndoGroup(self)
        self.device: DeviceReport | None = None

        self.banner = MessageBanner(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(self._pane_changed)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        context = AppContext(
            jobs=self.jobs, show_error=self.show_error, show_status=self.show_status
        )
        self.panes: list[Pane] = []
        for cls in pane_types() if pane_classes is None else pane_classes:
            self.add_pane(cls(context, self))
        self._link_panes()
        if not self.panes:
            welcome = QLabel(WELCOME, self)
            welcome.setWordWrap(True)
            self.tabs.addTab(welcome, "Start")

        self.device_label = QLabel("Compute device: checking…", self)
        self.statusBar().addPermanentWidget(self.device_label)
        # A model that runs out of GPU memory goes on on the CPU: the person is told, here.
        self._fallbacks = _FallbackNotices(self)
        self._fallbacks.notice.connect(self._gpu_fell_back)
        self._stop_fallback_notices = on_gpu_fallback(self._fallbacks.notice.emit)
        self._build_menus()
        # After the first paint (loading onnxruntime in a worker holds the GIL for a good part
        # of the window's first frame): which device runs the models.
        QTimer.singleShot(300, self, self._probe_device)
        # After the first paint: heavy imports and the panes' child processes in the
        # background, not in a user's first job.
        if warm_up:
            QTimer.singleShot(800, self, self._warm_up)

    def _probe_device(self) -> None:
        # Bound methods of this window: Qt drops them if the window goes before the probe ends.
        self.jobs.start(
            device_report,
            on_result=self._set_device,
            on_error=self._device_failed,
            name="device probe",
        )

    def _warm_up(self) -> None:
        from inference.warmup import import_heavy_modules

        for pane in self.panes:
            pane.warm_up()
        self.jobs.start(import_heavy_modules, name="warm-up imports")

    # panes -------------------------------------------------------------------------------------
    def add_pane(self, pane: Pane) -> None:
        self.panes.append(pane)
        self.tabs.addTab(pane, pane.title)
        self.undo_group.addStack(pane.undo_stack)
        pane.file_opened.connect(lambda path, title=pane.title: self._file_opened(path, title))
        pane.undo_first_changed.connect(self._refresh_undo)
        if len(self.panes) == 1:
            self.undo_group.setActiveStack(pane.undo_stack)

    def _link_panes(self) -> None:
        """Cross-pane actions: "Predict" in Structures (a structure) and Literature (a formula)."""
        prediction = next((p for p in self.panes if isinstance(p, PredictionTarget)), None)
        if prediction is None:
            return
        for pane in self.panes:
            # Panes offer these by name (they never import each other), so look them up.
            structure_signal = getattr(pane, "predict_requested", None)
            formula_signal = getattr(pane, "predict_formula_requested", None)
            if structure_signal is not None:
                structure_signal.connect(
                    lambda path, block, target=prediction: self._predict_in(
                        target, lambda p: target.predict_structure_file(p, block or None), path
                    )
                )
            if formula_signal is not None:
                formula_signal.connect(
                    lambda formula, target=prediction: self._predict_in(
                        target, target.predict_formula, formula
                    )
                )

    def _predict_in(self, pane: QWidget, entry: Callable[[Any], None], argument: object) -> None:
        self.tabs.setCurrentWidget(pane)
        entry(argument)

    def current_pane(self) -> Pane | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, Pane) else None

    def _pane_changed(self, _index: int) -> None:
        pane = self.current_pane()
        if pane is not None:  # the welcome page has no undo stack: the last pane's stays
            self.undo_group.setActiveStack(pane.undo_stack)
        self._refresh_undo()

    def pane_for(self, path: Path) -> Pane | None:
        """The pane whose formats the name belongs to, else the one that reads by content."""
        current = self.current_pane()
        if current and current.can_open(path):
            return current
        by_name = next((p for p in self.panes if p.can_open(path)), None)
        return by_name or next((p for p in self.panes if p.reads_by_content), None)

    # opening files ----------------------------------------------------------------------------
    def open_path(self, path: Path | str) -> bool:
        """Route a file to the pane for its type. A name no pane claims (no extension, a renamed
        TIFF) goes to the pane that reads by content, whose open job sniffs the first bytes off
        this thread and refuses a file that is no image in one line. True: a pane is opening it
        (its job may still refuse it, in the banner)."""
        path = Path(path)
        if not path.exists():
            self.show_message(f"File not found: {path}")
            return False
        pane = self.pane_for(path)
        if pane is None:
            self.show_message(self._refusal(path))
            return False
        self.tabs.setCurrentWidget(pane)
        if pane.can_open(path):
            pane.open_path(path)
        else:
            pane.open_by_content(path, self._refusal(path))
        return True

    def _refusal(self, path: Path) -> str:
        """The one line for a file no pane opens, naming what MatLens does open."""
        known = sorted({e for p in self.panes for e in p.extensions})
        hint = f" (MatLens opens {', '.join(known)})" if known else ""
        if path.suffix:
            return f"MatLens cannot open '{path.suffix}' files{hint}."
        return (
            f"MatLens cannot open '{path.name}': it has no extension and is no image MatLens "
            f"reads{hint}."
        )

    def _file_opened(self, path: Path, pane: str = "") -> None:
        # A file opened fine: an error about an earlier one no longer applies.
        self.clear_error()
        self.recent.add(path, pane)
        self._refresh_recent()
        self.setWindowTitle(f"{Path(path).name} — MatLens")

    def _open_dialog(self) -> None:
        filters = [p.file_filter for p in self.panes if p.file_filter]
        pane = self.current_pane()
        if pane and pane.file_filter in filters:
            filters.remove(pane.file_filter)
            filters.insert(0, pane.file_filter)
        filters.append("All files (*)")
        path, _ = QFileDialog.getOpenFileName(self, "Open", "", ";;".join(filters))
        if path:
            self.open_path(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if any(
            self.pane_for(Path(u.toLocalFile())) for u in event.mimeData().urls() if u.isLocalFile()
        ):
            event.acceptProposedAction()
        elif event.mimeData().hasUrls():
            event.acceptProposedAction()  # accepted so the drop can explain why it is refused

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        """Each dropped file to its pane; a pane holds one file, so of several for one pane the
        first opens and the others are named (the last one opened, the rest went unsaid)."""
        opened: dict[Pane, Path] = {}
        left: dict[Pane, list[str]] = {}
        for url in event.mimeData().urls():
            if not url.isLocalFile():
                continue
            path = Path(url.toLocalFile())
            pane = self.pane_for(path) if path.exists() else None
            if pane is not None and pane in opened:
                left.setdefault(pane, []).append(path.name)
            elif self.open_path(path) and pane is not None:
                opened[pane] = path
        for pane, names in left.items():
            self.banner.show_message(
                f"{pane.title} shows one file at a time: {opened[pane].name} is open; not "
                f"opened: {', '.join(names)}",
                "info",
            )
        event.acceptProposedAction()

    # messages ---------------------------------------------------------------------------------
    def show_error(self, report: ErrorReport) -> None:
        """The panes' error line (AppContext.show_error): banner and status bar."""
        text = report.message
        log.warning("shown to user: %s", text)
        self.banner.show_message(text, "error")
        self.statusBar().showMessage(text, 10000)

    def show_message(self, text: str) -> None:
        """The window's own error sentence (an unknown file type, a missing file)."""
        self.show_error(ErrorReport(text, ""))

    def clear_error(self) -> None:
        """Take down the error banner, and the status line if it still shows the error."""
        text = self.banner.error_text
        self.banner.clear_error()
        if text and self.statusBar().currentMessage() == text:
            self.statusBar().clearMessage()

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _set_device(self, report: DeviceReport) -> None:
        self.device = report
        self.device_found.emit(report)
        self.device_label.setText(report.label)
        self.device_label.setToolTip(
            "Models run on the GPU." if report.is_gpu else f"Models run on the CPU: {report.reason}"
        )

    def _gpu_fell_back(self, notice: str) -> None:
        self.device_label.setText(f"CPU — {notice}")
        self.device_label.setToolTip(f"Models run on the CPU: {notice}")
        self.banner.show_message(f"{notice[:1].upper()}{notice[1:]}.", "info")
        self.statusBar().showMessage(notice, 10000)

    def _device_failed(self, report: ErrorReport) -> None:
        self._set_device(DeviceReport("CPUExecutionProvider", False, "CPU", report.message))

    # menus ------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Open…", self._open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        self._refresh_recent()
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        # Not the group's own action: a pane may have something to take back first (the last
        # point of an object being made), and Ctrl+Z then removed the object accepted before.
        undo = QAction("&Undo", self)
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        undo.triggered.connect(self._undo)
        self.undo_group.undoTextChanged.connect(lambda _text: self._refresh_undo())
        self.undo_group.canUndoChanged.connect(lambda _can: self._refresh_undo())
        self.undo_group.activeStackChanged.connect(lambda _stack: self._refresh_undo())
        redo = self.undo_group.createRedoAction(self, "&Redo")
        # Ctrl+Y (Windows) and Ctrl+Shift+Z (Fiji, ilastik, the README) both redo: the platform's
        # standard key alone is Ctrl+Y on Windows and Linux desktops, Ctrl+Shift+Z did nothing
        redo.setShortcuts(
            list(
                dict.fromkeys(
                    [
                        *QKeySequence.keyBindings(QKeySequence.StandardKey.Redo),
                        QKeySequence("Ctrl+Shift+Z"),
                        QKeySequence("Ctrl+Y"),
                    ]
                )
            )
        )
        edit.addActions([undo, redo])
        self.undo_action, self.redo_action = undo, redo
        self._refresh_undo()

        view = bar.addMenu("&View")
        for i, pane in enumerate(self.panes):
            self._action(
                view,
                pane.title,
                lambda _=False, p=pane: self.tabs.setCurrentWidget(p),
                f"Ctrl+{i + 1}",
            )
        view.addSeparator()
        self._action(view, "Full screen", self._toggle_full_screen, "F11")

        models = bar.addMenu("&Models")
        self._action(models, "Model &manager…", self.show_model_manager)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About MatLens", self.show_about)
        self._action(help_menu, "Open &log folder", self._open_logs)

    def _action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
        return action

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            self._action(self.recent_menu, str(path), lambda _=False, p=path: self._reopen(p))
        if paths:
            self.recent_menu.addSeparator()
            self._action(self.recent_menu, "Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(paths))

    def _reopen(self, path: Path) -> None:
        """A recent file goes back to the pane that opened it, else it is routed by its name."""
        title = self.recent.pane_of(path)
        pane = next((p for p in self.panes if p.title == title), None)
        if not Path(path).exists():  # moved or deleted: said, and gone from the list
            self.show_message(f"File not found: {path} (removed from Open Recent)")
            self._refresh_recent()
            return
        if pane is None:
            self.open_path(path)
            return
        self.tabs.setCurrentWidget(pane)
        pane.open_path(Path(path))

    def _clear_recent(self) -> None:
        self.recent.clear()
        self._refresh_recent()

    def _undo(self) -> None:
        pane = self.current_pane()
        if pane is not None and pane.undo_first_text():
            pane.undo_first()
        else:
            self.undo_group.undo()

    def _refresh_undo(self) -> None:
        action = getattr(self, "undo_action", None)
        if action is None:
            return
        pane = self.current_pane()
        first = pane.undo_first_text() if pane is not None else ""
        what = first or self.undo_group.undoText()
        action.setText(f"&Undo {what}".strip())
        action.setEnabled(bool(first) or self.undo_group.canUndo())

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _open_logs(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))

    def show_about(self) -> None:
        from desktop.dialogs.about import AboutDialog

        AboutDialog(self).open()

    def show_model_manager(self) -> None:
        from desktop.dialogs.models import ModelManager

        dialog = ModelManager(self.jobs, self.device, self)
        dialog.models_changed.connect(self._models_changed)
        self.device_found.connect(dialog.set_device)  # opened before the probe answered
        dialog.open()

    def _models_changed(self) -> None:
        for pane in self.panes:
            pane.models_changed()

    # shutdown ---------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._stop_fallback_notices()
        for pane in self.panes:
            pane.shutdown()
        self.jobs.cancel_all()
        self.jobs.wait(5000)
        super().closeEvent(event)
