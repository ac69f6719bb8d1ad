"""The Structures pane: open a crystal file, look at it in 3D, read its symmetry and XRD, export.

Layout and wiring only, over the rows of controls (`controls`), the Info and XRD tabs and the
exports (`exporting`). Parsing and the symmetry search run in the reader's time-limited child
process (a crash in native code there costs a message, not the window); scenes, XRD and file
writing run in workers (`jobs`). Each purpose has one latest-wins `JobSlot`, shown by one
`JobBar`, so fast clicking never shows a stale structure. The GUI thread only draws.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.panes.base import AppContext, Pane
from desktop.panes.structure.controls import StatusRow, StructureToolbar, ViewBar
from desktop.panes.structure.exporting import ExportSource, StructureExports
from desktop.panes.structure.info_panel import InfoPanel
from desktop.panes.structure.jobs import warm_up_reader
from desktop.panes.structure.reading import StructureReading, opened_message
from desktop.panes.structure.view_holder import ViewHolder
from desktop.panes.structure.xrd_panel import XrdPanel
from desktop.workers import JobSlot
from inference.errors import MatLensError
from inference.structures.bonds import majority_symbols
from inference.structures.io import FILE_DIALOG_FILTER, StructureFile, is_structure_file
from inference.structures.picking import describe_atom, measure
from inference.structures.scene import STYLES, Scene, SceneOptions, build_scene
from inference.structures.xrd import XrdPattern, compute_xrd

if TYPE_CHECKING:
    from desktop.panes.structure.view import StructureView
    from inference.structures.prepared import PreparedStructure
    from inference.structures.rendering import Projection

REBUILD_DELAY_MS = 150  # spin boxes fire on every step: wait for the last one


class StructurePane(Pane):
    title = "Structures"
    extensions = frozenset({".cif", ".mcif", ".vasp", ".xyz", ".xsf", ".cssr", ".res", ".gjf"})
    file_filter = FILE_DIALOG_FILTER
    # the file and the block shown: the main window hands them to the Prediction pane
    predict_requested = Signal(Path, str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.file: StructureFile | None = None
        self.prepared: PreparedStructure | None = None
        self._interrupted = False  # work on the file shown was stopped for a read not done yet
        self.scene: Scene | None = None
        self.pattern: XrdPattern | None = None
        self.options = SceneOptions()
        self.picked: list[int] = []
        self.pick_text = ""
        self._camera = "reset"
        self.reading = StructureReading(context, self)
        self.open_slot, self.prepare_slot = self.reading.open_slot, self.reading.prepare_slot
        self.scene_slot = JobSlot(context.jobs, queue_latest=True, parent=self)
        self.xrd_slot = JobSlot(context.jobs, parent=self)
        self.reader_start_slot = JobSlot(context.jobs, parent=self)  # unlabelled: start-up work
        self.exports = StructureExports(context, self._export_source, self)
        self.export_slots = self.exports.slots
        self._rebuild_timer = QTimer(self, singleShot=True, interval=REBUILD_DELAY_MS)
        self._rebuild_timer.timeout.connect(self.rebuild_scene)
        self._build()
        self._wire()

    @classmethod
    def can_open(cls, path: Path) -> bool:
        return is_structure_file(path)

    @property
    def view(self) -> StructureView | None:
        """The 3D view; None until the first scene is drawn."""
        return self.view_holder.view

    @property
    def time_limit_s(self) -> float:
        """Reading's and the symmetry search's time limit, each."""
        return self.reading.time_limit_s

    @time_limit_s.setter
    def time_limit_s(self, seconds: float) -> None:
        self.reading.time_limit_s = seconds

    def warm_up(self) -> None:
        """Start the reader's child process and load VTK now, so the first open is quick."""
        self.reader_start_slot.submit(warm_up_reader, name="structure reader start")

    # layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view_holder = ViewHolder(self)
        self.info = InfoPanel(self)
        self.xrd = XrdPanel(self)
        side = QTabWidget(self)
        side.addTab(self.info, "Info")
        side.addTab(self.xrd, "Powder XRD")

        self.toolbar = StructureToolbar(self)
        self.view_bar = ViewBar(self)
        self.status_row = StatusRow(self._slots, self)
        # The widgets tests and the window reach on the pane itself.
        self.open_button, self.block_combo = self.toolbar.open_button, self.toolbar.block_combo
        self.labels_check = self.toolbar.labels_check
        self.radius_combo, self.color_combo = self.view_bar.radius_combo, self.view_bar.color_combo
        self.pick_label = self.status_row.pick_label
        self.more_time_button = self.status_row.more_time_button
        self.job_bar = self.status_row.job_bar

        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.toolbar)
        column.addWidget(self.view_bar)
        column.addWidget(self.view_holder, 1)
        column.addWidget(self.status_row)

        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([880, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def _wire(self) -> None:
        self.info.variant_changed.connect(self._variant_changed)
        self.info.symprec_changed.connect(lambda _v: self._prepare_current())
        self.xrd.radiation_changed.connect(lambda _r: self._compute_xrd())
        self.xrd.export_requested.connect(lambda: self.exports.ask("xrd"))
        bar = self.toolbar
        bar.open_requested.connect(self._ask_open)
        bar.block_chosen.connect(self._block_chosen)
        bar.style_chosen.connect(self.set_style)
        bar.supercell_changed.connect(self._schedule_rebuild)
        bar.element_toggled.connect(self.set_element_visible)
        bar.labels_toggled.connect(self._labels_toggled)
        bar.predict_requested.connect(self._predict)
        bar.export_requested.connect(self.exports.ask)
        self.view_holder.atom_clicked.connect(self._atom_clicked)
        self.view_bar.direction_chosen.connect(self.view_along)
        self.view_bar.bad_direction.connect(self.context.show_error)
        self.view_bar.projection_changed.connect(self._projection_changed)
        self.view_bar.radius_mode_chosen.connect(lambda m: self._set_option(radius_mode=m))
        self.view_bar.color_scheme_chosen.connect(lambda s: self._set_option(color_scheme=s))
        self.status_row.more_time_requested.connect(self.try_with_more_time)
        self.reading.read_started.connect(self._read_started)
        self.reading.loaded.connect(self._loaded)
        self.reading.read_failed.connect(self._read_failed)
        self.reading.prepared.connect(self._prepared)
        self.reading.more_time_offered.connect(self.status_row.offer_more_time)

    def _predict(self) -> None:
        if self.file is None:
            self.context.show_error("Open a structure first.")
            return
        block = self.file.blocks[max(0, self.block_combo.currentIndex())]
        self.predict_requested.emit(Path(self.file.path), block.name)

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

    # opening -----------------------------------------------------------------------------------
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open structure", "", f"{FILE_DIALOG_FILTER};;All files (*)"
        )
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        self.reading.open(Path(path))

    def _read(self, path: Path) -> None:
        self.reading.read(path)

    def try_with_more_time(self) -> None:
        """Run the read or the symmetry search that ran out of time again, with more time."""
        self.reading.try_with_more_time()

    def _read_started(self) -> None:
        # The work on the structure shown so far is of no use now: stop it (the reader's child
        # is wanted for the new file). If the new file cannot be read, it is done again.
        self._interrupted = (
            self.prepared is None or self.scene_slot.busy or self.xrd_slot.busy
        ) and self.file is not None
        self.scene_slot.discard()
        self.xrd_slot.discard()

    def _read_failed(self) -> None:
        """The file shown stays: what was stopped for the new one is done again (a bad file
        opened while a good one was being prepared left the good one undrawn, its exports
        answering "Open a structure first")."""
        if self._interrupted:
            self._interrupted = False
            self._prepare_current()

    def _loaded(self, loaded: StructureFile) -> None:
        self.file = loaded
        self._interrupted = False
        # The old drawing stays until the new one is ready, but nothing of it can be exported.
        self.prepared, self.pattern = None, None
        self.xrd.clear()
        self.file_opened.emit(loaded.path)
        self.toolbar.show_blocks([block.name for block in loaded.blocks])
        self.options = replace(self.options, hidden_elements=frozenset())
        self.context.show_status(opened_message(loaded))
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
        self.reading.prepare(
            block,
            self.info.current_variant,
            self.info.tolerance,
            Path(self.file.path),
            again=self._prepare_current,
        )

    def _prepared(self, prepared: PreparedStructure) -> None:
        self.prepared = prepared
        self.info.show_info(prepared.info, prepared.notices)
        names = sorted(set(majority_symbols(prepared.structure)))  # what the scene draws
        self.toolbar.show_elements(names, self.options.hidden_elements)
        self.toolbar.enable_supercell(prepared.periodic)
        self.rebuild_scene()
        self._compute_xrd()

    # scene -------------------------------------------------------------------------------------
    def _schedule_rebuild(self) -> None:
        self._camera = "refit"  # a new supercell size: keep the direction, frame it all
        self._rebuild_timer.start()

    def rebuild_scene(self) -> None:
        if self.prepared is None:
            return
        self.options = replace(self.options, supercell=self.toolbar.supercell)
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

    def _projection_changed(self, projection: Projection) -> None:
        if self.view is not None:
            self.view.set_projection(projection)

    def _scene_ready(self, scene: Scene) -> None:
        view = self.view_holder.ensure_view(self.view_bar.projection)
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
        combo = self.toolbar.style_combo
        if combo.currentData() != style:
            combo.setCurrentIndex(combo.findData(style))
            return  # comes back through the combo's signal
        self._set_option(style=style)

    def _set_option(self, **changes) -> None:
        self.options = replace(self.options, **changes)
        self.rebuild_scene()

    def set_supercell(self, repeats: tuple[int, int, int]) -> None:
        self.toolbar.show_supercell(repeats)
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
        self.status_row.show_pick(self.pick_text)
        return self.pick_text

    def clear_picks(self) -> None:
        self.picked = []
        self.pick_text = ""
        if self.view is not None:
            self.view.set_highlight([])
        self.status_row.show_pick(None)

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
    def _export_source(self) -> ExportSource:
        return ExportSource(
            stem=Path(self.file.path).stem if self.file else "structure",
            structure=self.prepared.structure if self.prepared else None,
            pattern=self.pattern,
            view=self.view,
            tolerance=self.info.tolerance,
            path=Path(self.file.path) if self.file else None,
            supercell=self.options.supercell
            if self.prepared is not None and self.prepared.periodic
            else (1, 1, 1),
        )

    def export(self, kind: str, path: Path) -> None:
        """Write the view as PNG, the XRD peaks as CSV or the structure (in workers)."""
        self.exports.export(kind, path)

    # clean-up ----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        for slot in (*self._slots, self.reader_start_slot):
            slot.discard()  # late results are ignored
        self._rebuild_timer.stop()
        if self.view is not None:
            self.view.finalize()
