"""The Structures pane: open a crystal file, look at it in 3D, read its symmetry and XRD, export.

Parsing and the symmetry search run in the reader's time-limited child process (a crash in
native code there costs a message, not the window); scenes, XRD and file writing run in
workers. Each purpose has one latest-wins `JobSlot`, shown by one `JobBar`, so fast clicking
never shows a stale structure. The GUI thread only draws.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.job_bar import JobBar
from desktop.panes.base import AppContext, Pane
from desktop.panes.structure.info_panel import InfoPanel
from desktop.panes.structure.xrd_panel import XrdPanel
from desktop.workers import JobSlot
from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.bonds import majority_symbols
from inference.structures.elements import COLOR_SCHEMES, RADIUS_MODES
from inference.structures.export import (
    EXPORT_FORMATS,
    ExportFormat,
    SavedFile,
    export_structure,
)
from inference.structures.io import (
    FILE_DIALOG_FILTER,
    ReadOptions,
    StructureFile,
    TooSlow,
    is_structure_file,
    load_structures,
    more_time,
    start_reader,
)
from inference.structures.isolated import prepare_safely
from inference.structures.picking import describe_atom, measure
from inference.structures.scene import STYLES, Scene, SceneOptions, build_scene
from inference.structures.views import AXES, parse_uvw
from inference.structures.xrd import XrdPattern, compute_xrd, load_calculator, write_csv

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from desktop.panes.structure.view import StructureView
    from inference.structures.analysis import CellVariant
    from inference.structures.model import StructureBlock
    from inference.structures.prepared import PreparedStructure

_STYLE_TEXT = {
    "ball-and-stick": "Ball and stick",
    "space-filling": "Space filling",
    "sticks": "Sticks",
    "polyhedral": "Polyhedral",
}
_RADIUS_TEXT = {
    "atomic": "Atomic",
    "ionic": "Ionic",
    "covalent": "Covalent",
    "vdw": "van der Waals",
}
REBUILD_DELAY_MS = 150  # spin boxes fire on every step: wait for the last one
PICK_HINT = "Click an atom; Shift+click two or three for a distance or angle."


@dataclass(frozen=True)
class OutOfTime:
    """Reading ran out of time: the message, and the longer limit the person may grant."""

    message: str
    more_time_s: float


def _read(
    path: Path,
    time_limit_s: float,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> StructureFile | OutOfTime:
    """load_structures, with a time-out as a result: the pane then offers more time."""
    try:
        return load_structures(
            path, ReadOptions(timeout_s=time_limit_s), progress=progress, cancel=cancel
        )
    except TooSlow as exc:
        return OutOfTime(str(exc), exc.more_time_s)


def _prepare(
    block: StructureBlock,
    variant: CellVariant,
    symprec: float,
    path: Path,
    time_limit_s: float,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PreparedStructure | OutOfTime:
    """prepare_safely, with a time-out (even without the symmetry search) as a result."""
    try:
        return prepare_safely(
            block,
            variant,
            symprec,
            path=path,
            time_limit_s=time_limit_s,
            progress=progress,
            cancel=cancel,
        )
    except TooSlow as exc:
        return OutOfTime(str(exc), exc.more_time_s)


def _start_reader(
    *, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> None:
    """The child process and this process's pymatgen (start_reader), then the 3D view's module
    (importing VTK takes a moment the first open would otherwise spend on the GUI thread; an
    import only: the view itself is made on the GUI thread), last the XRD code, which the
    first open needs only after the structure is drawn."""
    import importlib

    start_reader(progress=progress, cancel=cancel)
    importlib.import_module("desktop.panes.structure.view")
    if cancel is not None:
        cancel.raise_if_cancelled()
    load_calculator()


def _save_png(pixels: np.ndarray, path: Path) -> Path:
    """Write grabbed RGB pixels (a worker job: the grab itself is OpenGL, on the GUI thread)."""
    import imageio.v3 as iio

    try:
        iio.imwrite(path, pixels, extension=".png")
    except OSError as exc:
        raise MatLensError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


class StructurePane(Pane):
    title = "Structures"
    extensions = frozenset({".cif", ".mcif", ".vasp", ".xyz", ".xsf", ".cssr", ".res", ".gjf"})
    file_filter = FILE_DIALOG_FILTER
    predict_requested = Signal(Path)  # the main window hands it to the Prediction pane

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.file: StructureFile | None = None
        self.prepared: PreparedStructure | None = None
        self.scene: Scene | None = None
        self.pattern: XrdPattern | None = None
        self.options = SceneOptions()
        self.picked: list[int] = []
        self.pick_text = ""
        self._camera = "reset"
        self.time_limit_s = ReadOptions().timeout_s  # reading and the symmetry search, each
        self._retry: Callable[[], None] | None = None  # what "Try with more time" runs again
        runner = context.jobs
        self.open_slot = JobSlot(runner, parent=self)
        self.prepare_slot = JobSlot(runner, parent=self)
        self.scene_slot = JobSlot(runner, queue_latest=True, parent=self)
        self.xrd_slot = JobSlot(runner, parent=self)
        self.reader_start_slot = JobSlot(runner, parent=self)  # unlabelled: start-up work
        # One slot per export kind: a CIF and then a POSCAR are both written.
        self.export_slots = {
            kind: JobSlot(runner, parent=self) for kind in ("png", "xrd", *EXPORT_FORMATS)
        }
        self._rebuild_timer = QTimer(self, singleShot=True, interval=REBUILD_DELAY_MS)
        self._rebuild_timer.timeout.connect(self.rebuild_scene)
        self._build()

    @classmethod
    def can_open(cls, path: Path) -> bool:
        return is_structure_file(path)

    def warm_up(self) -> None:
        """Start the reader's child process and load VTK now, so the first open is quick."""
        self.reader_start_slot.submit(_start_reader, name="structure reader start")

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view: StructureView | None = None  # made on the first scene: VTK loads then
        self.view_holder = QWidget(self)
        holder = self._holder_layout = QVBoxLayout(self.view_holder)
        holder.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel(
            "Open a crystal structure: CIF, mCIF, POSCAR/CONTCAR, XYZ, XSF, CSSR, RES, "
            "vasprun.xml (File ▸ Open, drag and drop, or the Open button).",
            self.view_holder,
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        holder.addWidget(self.placeholder)
        self.info = InfoPanel(self)
        self.info.variant_changed.connect(self._variant_changed)
        self.info.symprec_changed.connect(lambda _v: self._prepare_current())
        self.xrd = XrdPanel(self)
        self.xrd.radiation_changed.connect(lambda _r: self._compute_xrd())
        self.xrd.export_requested.connect(lambda: self._ask_export("xrd"))

        side = QTabWidget(self)
        side.addTab(self.info, "Info")
        side.addTab(self.xrd, "Powder XRD")

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._toolbar())
        column.addLayout(self._view_bar())
        column.addWidget(self.view_holder, 1)
        column.addLayout(self._status_bar())

        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([880, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _toolbar(self) -> QHBoxLayout:
        self.open_button = QPushButton("Open…", self)
        self.open_button.clicked.connect(self._ask_open)
        self.block_combo = QComboBox(self)
        self.block_combo.setToolTip("Data blocks in this file")
        self.block_combo.setVisible(False)
        self.block_combo.currentIndexChanged.connect(self._block_chosen)
        self.style_combo = QComboBox(self)
        for style in STYLES:
            self.style_combo.addItem(_STYLE_TEXT[style], style)
        self.style_combo.currentIndexChanged.connect(
            lambda _i: self.set_style(self.style_combo.currentData())
        )
        self.repeat_spins = []
        repeats = QHBoxLayout()
        repeats.setSpacing(2)
        for axis in "abc":
            spin = QSpinBox(self, minimum=1, maximum=60, value=1)
            spin.setToolTip(f"Repeat the cell along {axis}")
            spin.valueChanged.connect(lambda _v: self._schedule_rebuild())
            self.repeat_spins.append(spin)
            repeats.addWidget(spin)
        self.elements_button = QToolButton(self)
        self.elements_button.setText("Elements")
        self.elements_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.elements_menu = QMenu(self.elements_button)
        self.elements_button.setMenu(self.elements_menu)
        self.labels_check = QCheckBox("Labels", self)
        self.labels_check.toggled.connect(self._labels_toggled)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("PNG image (high resolution)…", lambda: self._ask_export("png"))
        for fmt, (text, _) in EXPORT_FORMATS.items():
            menu.addAction(f"{text}…", lambda f=fmt: self._ask_export(f))
        menu.addAction("XRD peaks (CSV)…", lambda: self._ask_export("xrd"))
        self.export_button.setMenu(menu)

        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.block_combo, 1)
        bar.addWidget(self.style_combo)
        bar.addWidget(QLabel("Supercell", self))
        bar.addLayout(repeats)
        bar.addWidget(self.elements_button)
        bar.addWidget(self.labels_check)
        self.predict_button = QPushButton("Predict properties", self)
        self.predict_button.setToolTip("Energy, forces, stress and magnetic moments (CHGNet)")
        self.predict_button.clicked.connect(self._predict)
        bar.addStretch(1)
        bar.addWidget(self.predict_button)
        bar.addWidget(self.export_button)
        return bar

    def _predict(self) -> None:
        if self.file is None:
            self.context.show_error("Open a structure first.")
            return
        self.predict_requested.emit(Path(self.file.path))

    def _view_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("View along", self))
        for axis in "abc":
            button = QPushButton(axis, self)
            button.setFixedWidth(32)
            button.clicked.connect(lambda _c, a=axis: self.view_along(AXES[a]))
            bar.addWidget(button)
        self.uvw_edit = QLineEdit(self)
        self.uvw_edit.setPlaceholderText("[u v w]")
        self.uvw_edit.setMaximumWidth(90)
        self.uvw_edit.returnPressed.connect(self._uvw_entered)
        bar.addWidget(self.uvw_edit)
        reset = QPushButton("Reset", self)
        reset.clicked.connect(lambda: self.view_along(None))
        bar.addWidget(reset)
        self.projection_combo = QComboBox(self)
        self.projection_combo.addItem("Orthographic", "orthographic")
        self.projection_combo.addItem("Perspective", "perspective")
        self.projection_combo.currentIndexChanged.connect(self._projection_changed)
        bar.addWidget(self.projection_combo)
        bar.addSpacing(12)
        self.radius_combo = QComboBox(self)
        for mode in RADIUS_MODES:
            self.radius_combo.addItem(f"{_RADIUS_TEXT[mode]} radii", mode)
        self.radius_combo.currentIndexChanged.connect(
            lambda _i: self._set_option(radius_mode=self.radius_combo.currentData())
        )
        self.color_combo = QComboBox(self)
        for scheme in COLOR_SCHEMES:
            self.color_combo.addItem(f"{scheme} colours", scheme)
        self.color_combo.currentIndexChanged.connect(
            lambda _i: self._set_option(color_scheme=self.color_combo.currentData())
        )
        bar.addWidget(self.radius_combo)
        bar.addWidget(self.color_combo)
        bar.addStretch(1)
        return bar

    def _status_bar(self) -> QHBoxLayout:
        self.pick_label = QLabel(PICK_HINT)
        self.pick_label.setWordWrap(True)
        self.more_time_button = QPushButton("Try with more time", self)
        self.more_time_button.setToolTip(
            "Large cells are slow to read and to search for symmetry: run again with a longer "
            "time limit"
        )
        self.more_time_button.clicked.connect(self.try_with_more_time)
        self.more_time_button.hide()
        self.job_bar = JobBar(self)
        self.job_bar.watch(
            self.open_slot,
            self.prepare_slot,
            self.scene_slot,
            self.xrd_slot,
            *self.export_slots.values(),
        )
        # The bar keeps its height when idle: the 3D view must not jump as jobs come and go.
        self.job_bar.setMinimumHeight(self.job_bar.cancel_button.sizeHint().height())
        row = QHBoxLayout()
        row.addWidget(self.pick_label, 1)
        row.addWidget(self.more_time_button)
        row.addWidget(self.job_bar, 1)
        return row

    @property
    def _slots(self) -> list[JobSlot]:
        return [
            self.open_slot,
            self.prepare_slot,
            self.scene_slot,
            self.xrd_slot,
            *self.export_slots.values(),
        ]

    @property
    def busy(self) -> bool:
        return any(slot.busy for slot in self._slots)

    def _offer_more_time(self, retry: Callable[[], None] | None) -> None:
        self._retry = retry
        if retry is not None:
            minutes = more_time(self.time_limit_s) / 60
            self.more_time_button.setText(f"Try with more time ({minutes:g} min)")
        self.more_time_button.setVisible(retry is not None)

    def try_with_more_time(self) -> None:
        """Run the read or the symmetry search that ran out of time again, with more time."""
        retry, self._retry = self._retry, None
        self.more_time_button.hide()
        if retry is not None:
            self.time_limit_s = more_time(self.time_limit_s)
            retry()

    # opening -----------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open structure", "", f"{FILE_DIALOG_FILTER};;All files (*)"
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        self.time_limit_s = ReadOptions().timeout_s
        self._read(Path(path))

    def _read(self, path: Path) -> None:
        # The work on the file shown so far is of no use now: stop it (it may hold the child).
        for slot in (self.prepare_slot, self.scene_slot, self.xrd_slot):
            slot.discard()
        self._offer_more_time(None)
        self.open_slot.submit(
            _read,
            path,
            self.time_limit_s,
            label=f"Reading {path.name}",
            on_result=lambda result: self._read_done(path, result),
            on_error=self.report_error,
            on_cancelled=lambda: self.context.show_status(f"Stopped reading {path.name}"),
            name="structure read",
        )

    def _read_done(self, path: Path, result: StructureFile | OutOfTime) -> None:
        if isinstance(result, OutOfTime):
            self.context.show_error(result.message)
            self._offer_more_time(lambda: self._read(path))
            return
        self._loaded(result)

    def _loaded(self, loaded: StructureFile) -> None:
        self.file = loaded
        # The old drawing stays until the new one is ready, but nothing of it can be exported.
        self.prepared, self.pattern = None, None
        self.xrd.clear()
        self.file_opened.emit(loaded.path)
        self.block_combo.blockSignals(True)
        self.block_combo.clear()
        for block in loaded.blocks:
            self.block_combo.addItem(block.name)
        self.block_combo.setCurrentIndex(0)
        self.block_combo.blockSignals(False)
        self.block_combo.setVisible(len(loaded.blocks) > 1)
        parts = [f"Opened {loaded.path.name}"]
        if len(loaded.blocks) > 1:
            parts.append(f"{len(loaded.blocks)} structures: choose one in the list")
        if loaded.skipped:
            first = loaded.skipped[0]
            more = f" and {len(loaded.skipped) - 1} more" if len(loaded.skipped) > 1 else ""
            parts.append(f"block '{first.name}' skipped: {first.reason}{more}")
        self.options = replace(self.options, hidden_elements=frozenset())
        self.context.show_status("; ".join(parts))
        self._camera = "reset"
        self.select_block(0)

    def _block_chosen(self, index: int) -> None:
        if index >= 0:
            self._camera = "reset"
            self.select_block(index)

    def select_block(self, index: int) -> None:
        if self.file is None or not 0 <= index < len(self.file.blocks):
            return
        if self.block_combo.currentIndex() != index:
            self.block_combo.setCurrentIndex(index)  # comes back through _block_chosen
            return
        self._prepare_current()

    def _variant_changed(self, _variant: str) -> None:
        self._camera = "reset"  # another cell: frame it anew
        self._prepare_current()

    def _prepare_current(self) -> None:
        if self.file is None:
            return
        block = self.file.blocks[max(0, self.block_combo.currentIndex())]
        self.scene_slot.discard()
        self.xrd_slot.discard()
        self.prepare_slot.submit(
            _prepare,
            block,
            self.info.current_variant,
            self.info.tolerance,
            Path(self.file.path),
            self.time_limit_s,
            label=f"Finding the symmetry and bonds of {block.name}",
            on_result=self._prepared,
            on_error=self.report_error,
            name="structure prepare",
        )

    def _prepared(self, prepared: PreparedStructure | OutOfTime) -> None:
        if isinstance(prepared, OutOfTime):
            self.context.show_error(prepared.message)
            self._offer_more_time(self._prepare_current)
            return
        self.prepared = prepared
        self._offer_more_time(self._prepare_current if prepared.symmetry_stopped_s else None)
        self.info.show_info(prepared.info, prepared.notices)
        self._fill_elements(prepared)
        periodic = prepared.periodic
        for spin in self.repeat_spins:
            spin.setEnabled(periodic)
        self.rebuild_scene()
        self._compute_xrd()

    def _fill_elements(self, prepared: PreparedStructure) -> None:
        self.elements_menu.clear()
        for name in sorted(set(majority_symbols(prepared.structure))):  # what the scene draws
            action = QAction(name, self.elements_menu, checkable=True)
            action.setChecked(name not in self.options.hidden_elements)
            action.toggled.connect(lambda on, n=name: self.set_element_visible(n, on))
            self.elements_menu.addAction(action)

    # scene -------------------------------------------------------------------------------------
    def _schedule_rebuild(self) -> None:
        self._camera = "refit"  # a new supercell size: keep the direction, frame it all
        self._rebuild_timer.start()

    def _current_options(self) -> SceneOptions:
        supercell = tuple(s.value() for s in self.repeat_spins)
        return replace(self.options, supercell=supercell)

    def rebuild_scene(self) -> None:
        if self.prepared is None:
            return
        self.options = self._current_options()
        p = self.prepared
        self.scene_slot.submit(
            build_scene,
            p.structure,
            p.neighbors,
            self.options,
            p.periodic,
            label="Building the picture",
            cancellable=False,
            on_result=self._scene_ready,
            on_error=self.report_error,
            name="structure scene",
        )

    def _ensure_view(self) -> StructureView:
        if self.view is None:
            from desktop.panes.structure.view import StructureView

            self.view = StructureView(self.view_holder)
            self.view.projection = self.projection_combo.currentData()
            self.view.atom_clicked.connect(self._atom_clicked)
            self.placeholder.hide()
            self._holder_layout.addWidget(self.view)
        return self.view

    def _projection_changed(self, _index: int) -> None:
        if self.view is not None:
            self.view.set_projection(self.projection_combo.currentData())

    def _scene_ready(self, scene: Scene) -> None:
        view = self._ensure_view()
        self.scene = scene
        self.clear_picks()
        notices = view.set_scene(scene, camera=self._camera, labels=self.labels_check.isChecked())
        self._camera = "keep"
        messages = [*scene.notices, *notices]
        self.context.show_status(
            "; ".join(messages)
            if messages
            else f"{len(scene.atoms):,} atoms, {len(scene.bonds):,} bonds drawn"
        )

    def set_style(self, style: str) -> None:
        if style not in STYLES:
            raise MatLensError(f"unknown style '{style}'")
        if self.style_combo.currentData() != style:
            self.style_combo.setCurrentIndex(self.style_combo.findData(style))
            return  # comes back through the combo's signal
        self.options = replace(self.options, style=style)
        self.rebuild_scene()

    def _set_option(self, **changes) -> None:
        self.options = replace(self.options, **changes)
        self.rebuild_scene()

    def set_supercell(self, repeats: tuple[int, int, int]) -> None:
        for spin, value in zip(self.repeat_spins, repeats, strict=True):
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)
        self._camera = "refit"
        self.rebuild_scene()

    def set_element_visible(self, element: str, visible: bool) -> None:
        hidden = set(self.options.hidden_elements)
        (hidden.discard if visible else hidden.add)(element)
        self.options = replace(self.options, hidden_elements=frozenset(hidden))
        self.rebuild_scene()

    def _labels_toggled(self, on: bool) -> None:
        if self.view is None:
            return
        for notice in self.view.set_labels(on):
            self.context.show_status(notice)

    def view_along(self, uvw: tuple[float, float, float] | None) -> None:
        if self.view is not None:
            self.view.reset_view(uvw)

    def _uvw_entered(self) -> None:
        try:
            self.view_along(parse_uvw(self.uvw_edit.text()))
        except MatLensError as exc:
            self.context.show_error(str(exc))

    # picking -----------------------------------------------------------------------------------
    def _atom_clicked(self, index: int, add: bool) -> None:
        self.pick_atom(None if index < 0 else index, add=add)

    def pick_atom(self, index: int | None, add: bool = False) -> str:
        """Select an atom (None clears); with `add`, up to three for a distance or an angle."""
        if self.scene is None or self.view is None or index is None:
            self.clear_picks()
            return self.pick_text
        if not 0 <= index < len(self.scene.atoms):
            raise MatLensError(f"no atom {index} in the scene")
        if add and len(self.picked) < 3 and index not in self.picked:
            self.picked.append(index)
        else:
            self.picked = [index]
        self.view.set_highlight(self.picked)
        info = self.prepared.info if self.prepared else None
        if len(self.picked) == 1:
            pick = describe_atom(self.scene, info, index)
            self.pick_text = pick.text()
            self.info.select_site(pick.site)
        else:
            result = measure(self.scene, self.picked)
            self.pick_text = result.text if result else ""
        self.pick_label.setText(self.pick_text)
        return self.pick_text

    def clear_picks(self) -> None:
        self.picked = []
        self.pick_text = ""
        if self.view is not None:
            self.view.set_highlight([])
        self.pick_label.setText(PICK_HINT)

    # XRD ---------------------------------------------------------------------------------------
    def _compute_xrd(self) -> None:
        if self.prepared is None or not self.prepared.periodic:
            self.xrd_slot.discard()
            self.xrd.clear()
            return
        self.xrd_slot.submit(
            compute_xrd,
            self.prepared.structure,
            self.xrd.current_radiation,
            label="Computing the powder pattern",
            on_result=self._xrd_ready,
            # A cell too large for a pattern is said in the XRD tab, not as an error banner.
            on_error=lambda report: self.xrd.show_notice(report.message),
            name="structure xrd",
        )

    def _xrd_ready(self, pattern: XrdPattern) -> None:
        self.pattern = pattern
        self.xrd.show_pattern(pattern)

    # export ------------------------------------------------------------------------------------
    def _ask_export(self, kind: str) -> None:
        if self.prepared is None:
            self.context.show_error("Open a structure first.")
            return
        stem = Path(self.file.path).stem if self.file else "structure"
        filters = {
            "png": ("PNG image (*.png)", ".png"),
            "xrd": ("CSV (*.csv)", "_xrd.csv"),
            "cif-symmetrized": ("CIF (*.cif)", ".cif"),
            "cif-p1": ("CIF (*.cif)", "_P1.cif"),
            "poscar": ("VASP POSCAR (*.vasp)", ".vasp"),
            "xyz": ("Extended XYZ (*.xyz)", ".xyz"),
        }
        flt, suffix = filters[kind]
        path, _ = QFileDialog.getSaveFileName(self, "Export", stem + suffix, flt)
        if path:
            self.export(kind, Path(path))

    def export(self, kind: str, path: Path) -> None:
        """Write the view as PNG (grabbed here: it is OpenGL; written in a worker), the XRD
        peaks or the structure (in a worker)."""
        path = Path(path)
        slot = self.export_slots[kind]
        if kind == "png":
            if self.view is None:
                self.context.show_error("Nothing drawn yet to save as a picture.")
                return
            pixels = self.view.grab_pixels(scale=3)
            slot.submit(_save_png, pixels, path, **self._export_callbacks(path, wrap=True))
            return
        if kind == "xrd":
            if self.pattern is None:
                self.context.show_error("No XRD pattern yet.")
                return
            slot.submit(write_csv, self.pattern, path, **self._export_callbacks(path, wrap=True))
            return
        if self.prepared is None:
            self.context.show_error("Open a structure first.")
            return
        fmt: ExportFormat = kind  # type: ignore[assignment] - a key of EXPORT_FORMATS
        slot.submit(
            export_structure,
            self.prepared.structure,
            path,
            fmt,
            self.info.tolerance,
            **self._export_callbacks(path),
        )

    def _export_callbacks(self, path: Path, wrap: bool = False) -> dict:
        """Keyword arguments of an export job; `wrap`: the job returns a bare path."""
        return {
            "label": f"Saving {path.name}",
            "cancellable": False,
            "on_result": (lambda p: self._exported(SavedFile(p))) if wrap else self._exported,
            "on_error": self.report_error,
            "name": "structure export",
        }

    def _exported(self, saved: SavedFile) -> None:
        notice = f" ({saved.notice})" if saved.notice else ""
        self.context.show_status(f"Saved {saved.path}{notice}")

    # clean-up ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        for slot in (*self._slots, self.reader_start_slot):
            slot.discard()  # late results are ignored
        self._rebuild_timer.stop()
        if self.view is not None:
            self.view.finalize()
