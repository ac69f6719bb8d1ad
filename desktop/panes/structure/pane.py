"""The Structures pane: open a crystal file, look at it in 3D, read its symmetry and XRD, export.

Parsing (in a time-limited child process), symmetry, bonds, scenes and XRD all run through the
JobRunner; the GUI thread only draws. Results of jobs that a newer request superseded are
dropped (generation counters), so fast clicking never shows a stale structure.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.panes.base import AppContext, Pane
from desktop.panes.structure.info_panel import InfoPanel
from desktop.panes.structure.xrd_panel import XrdPanel
from inference.errors import ErrorReport, MatLensError
from inference.structures.bonds import majority_symbols
from inference.structures.elements import COLOR_SCHEMES, RADIUS_MODES
from inference.structures.export import EXPORT_FORMATS, export_structure
from inference.structures.io import (
    FILE_DIALOG_FILTER,
    StructureFile,
    is_structure_file,
    load_structures,
)
from inference.structures.picking import describe_atom, measure
from inference.structures.prepared import PreparedStructure, prepare
from inference.structures.scene import STYLES, Scene, SceneOptions, build_scene
from inference.structures.views import AXES, parse_uvw
from inference.structures.xrd import XrdPattern, compute_xrd, write_csv

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
        self._gen = {"load": 0, "prepare": 0, "scene": 0, "xrd": 0, "export": 0}
        self._camera = "reset"
        self._running = 0
        self._workers: dict[str, object] = {}
        self._rebuild_timer = QTimer(self, singleShot=True, interval=REBUILD_DELAY_MS)
        self._rebuild_timer.timeout.connect(self.rebuild_scene)
        self._build()

    @classmethod
    def can_open(cls, path: Path) -> bool:
        return is_structure_file(path)

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = None  # StructureView, made on the first scene: VTK loads only when needed
        self.view_holder = QWidget(self)
        holder = QVBoxLayout(self.view_holder)
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
        self.elements_button = QToolButton(self, text="Elements")
        self.elements_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.elements_menu = QMenu(self.elements_button)
        self.elements_button.setMenu(self.elements_menu)
        self.labels_check = QCheckBox("Labels", self)
        self.labels_check.toggled.connect(self._labels_toggled)
        self.export_button = QToolButton(self, text="Export")
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
        self.pick_label = QLabel("Click an atom; Shift+click two or three for a distance or angle.")
        self.pick_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        bar = QHBoxLayout()
        bar.addWidget(self.pick_label, 1)
        bar.addWidget(self.progress)
        return bar

    # jobs --------------------------------------------------------------------------------------
    def _start(self, kind: str, fn, *args, on_result, **kwargs) -> None:
        self._gen[kind] += 1
        gen = self._gen[kind]

        def result(value, kind=kind, gen=gen):
            if self._gen[kind] == gen:
                on_result(value)

        def error(report: ErrorReport, kind=kind, gen=gen):
            if self._gen[kind] == gen:
                self.report_error(report)

        previous = self._workers.get(kind)
        if previous is not None and kind != "export":
            previous.cancel()  # e.g. a file still parsing (or hung) when another is opened
        self._running += 1
        self.progress.setRange(0, 0)
        self.progress.show()
        self._workers[kind] = self.context.jobs.start(
            fn,
            *args,
            on_result=result,
            on_error=error,
            on_finished=self._job_finished,
            name=f"structure {kind}",
            **kwargs,
        )

    def _job_finished(self) -> None:
        self._running = max(0, self._running - 1)
        if not self._running:
            self.progress.hide()

    @property
    def busy(self) -> bool:
        return self._running > 0

    # opening -----------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open structure", "", f"{FILE_DIALOG_FILTER};;All files (*)"
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        path = Path(path)
        self.context.show_status(f"Reading {path.name}…")
        self._start("load", load_structures, path, on_result=self._loaded)

    def _loaded(self, loaded: StructureFile) -> None:
        self.file = loaded
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
            parts.append(f"{len(loaded.skipped)} block(s) without a structure skipped")
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
        self._start(
            "prepare",
            prepare,
            block,
            self.info.current_variant,
            self.info.tolerance,
            on_result=self._prepared,
        )

    def _prepared(self, prepared: PreparedStructure) -> None:
        self.prepared = prepared
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
        self._start(
            "scene",
            build_scene,
            p.structure,
            p.neighbors,
            self.options,
            p.periodic,
            on_result=self._scene_ready,
        )

    def _ensure_view(self):
        if self.view is None:
            from desktop.panes.structure.view import StructureView

            self.view = StructureView(self.view_holder)
            self.view.projection = self.projection_combo.currentData()
            self.view.atom_clicked.connect(self._atom_clicked)
            self.placeholder.hide()
            self.view_holder.layout().addWidget(self.view)
        return self.view

    def _projection_changed(self, _index: int) -> None:
        if self.view is not None:
            self.view.set_projection(self.projection_combo.currentData())

    def _scene_ready(self, scene: Scene) -> None:
        self._ensure_view()
        self.scene = scene
        self.clear_picks()
        notices = self.view.set_scene(
            scene, camera=self._camera, labels=self.labels_check.isChecked()
        )
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
        if self.scene is None or index is None:
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
        self.pick_label.setText("Click an atom; Shift+click two or three for a distance or angle.")

    # XRD ---------------------------------------------------------------------------------------
    def _compute_xrd(self) -> None:
        if self.prepared is None or not self.prepared.periodic:
            self.xrd.clear()
            return
        self._start(
            "xrd",
            compute_xrd,
            self.prepared.structure,
            self.xrd.current_radiation,
            on_result=self._xrd_ready,
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
        """Write the view (PNG, on this thread: it is OpenGL), the XRD peaks or the structure."""
        if kind == "png":
            if self.view is None:
                self.context.show_error("Nothing drawn yet to save as a picture.")
                return
            try:
                self.view.export_png(path, scale=3)
            except MatLensError as exc:
                self.context.show_error(str(exc))
                return
            self.context.show_status(f"Saved {path}")
            return
        if kind == "xrd":
            if self.pattern is None:
                self.context.show_error("No XRD pattern yet.")
                return
            self._start("export", write_csv, self.pattern, path, on_result=self._exported)
            return
        self._start(
            "export",
            export_structure,
            self.prepared.structure,
            path,
            kind,
            self.info.tolerance,
            on_result=self._exported,
        )

    def _exported(self, result) -> None:
        path, notice = result if isinstance(result, tuple) else (result, None)
        self.context.show_status(f"Saved {path}" + (f" ({notice})" if notice else ""))

    # clean-up ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        for kind in self._gen:
            self._gen[kind] += 1  # late results are ignored
        for worker in self._workers.values():
            worker.cancel()
        self._rebuild_timer.stop()
        if self.view is not None:
            self.view.finalize()
