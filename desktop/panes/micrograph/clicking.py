"""The object being made: clicks and boxes go to SAM, its candidates come back, Enter accepts.

The "Current object" box of the side panel. Each prompt is decoded in a worker through
`prompted.decode_prompt` (the click path the CLI's `segment` takes too); the decoder slot
queues the newest prompt only, so fast clicks are merged into the next answer.

Before the first click of an object, where the pointer rests the answer to a click there is
worked out ahead (`prompted.answer_ahead`, in its own slot) and its outline shown, as in SAM's
own demo: the click then shows its mask without waiting for the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.settings import app_settings
from inference.errors import MatLensError
from inference.segmentation.overlay import crop_rgba
from inference.segmentation.prompted import answer_ahead, decode_prompt

if TYPE_CHECKING:
    import numpy as np

    from desktop.panes.micrograph.state import MicrographState
    from inference.segmentation.clicks import ClickSession, RefinedCandidate
    from inference.segmentation.geometry import Box, Point

HINT = "Left click: object · Right/Shift click: background · Ctrl+drag: box"
# The pointer counts as resting after this long without a move: moving pointers send events
# every 8-16 ms, and a person's pause before pressing the button is longer than this.
REST_MS = 25
AHEAD_COLOUR = (255, 255, 255)
# No outline for an answer whose box is larger than this (pixels): it is the whole image or
# most of it, whose outline tells little, and its RGBA would cost 4 bytes a pixel per rest.
OUTLINE_MAX_PIXELS = 4096 * 4096
OUTLINE_KEY = "micrographs/outline_under_pointer"


class CurrentObjectBox(QGroupBox):
    # the outline of what a click where the pointer rests takes (RGBA crop, (y0, x0)), or None
    ahead_shown = Signal(object, object)

    def __init__(self, state: MicrographState, parent: QWidget | None = None) -> None:
        super().__init__("Current object", parent)
        self.state = state
        self.decode_slot = state.new_slot(queue_latest=True)
        self._accept_when_answered = False  # Enter came while a click's mask was worked out
        self.ahead_slot = state.new_slot(queue_latest=True)
        self._pointer: tuple[float, float] | None = None  # where the pointer rests, image px
        self.work_ahead = True  # off: every click waits for the decoder (benchmarks compare)
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(REST_MS)
        self._rest.timeout.connect(self._work_ahead)
        self.class_combo = QComboBox(self)
        self.class_combo.setToolTip("Class given to the next accepted object")
        self.class_combo.currentTextChanged.connect(state.set_current_class)
        add_class = QToolButton(self)
        add_class.setText("+")
        add_class.setToolTip("Add a class")
        add_class.clicked.connect(self._ask_new_class)
        # a mistyped class name stayed for good: rename it, or remove a class nothing uses
        self.class_menu_button = QToolButton(self)
        self.class_menu_button.setText("…")
        self.class_menu_button.setToolTip("Rename or remove the chosen class")
        self.class_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        class_menu = QMenu(self.class_menu_button)
        self.rename_class_action = class_menu.addAction("Rename class…", self._ask_class_name)
        self.remove_class_action = class_menu.addAction(
            "Remove class", lambda: self.state.remove_class(self.class_combo.currentText())
        )
        self.class_menu_button.setMenu(class_menu)
        self.candidate_label = QLabel(HINT, self)
        self.candidate_label.setWordWrap(True)
        self.outline_check = QCheckBox("Outline what a click takes where the pointer rests", self)
        self.outline_check.setToolTip(
            "Before the first click of an object, MatLens works out the mask a left click where\n"
            "the pointer rests would take and outlines it; the click then shows it at once."
        )
        self.outline_check.setChecked(bool(app_settings().value(OUTLINE_KEY, True, type=bool)))
        self.outline_check.toggled.connect(self._outline_toggled)
        self.next_button = QPushButton("Next mask (Tab)", self)
        self.next_button.clicked.connect(self.next_candidate)
        self.accept_button = QPushButton("Accept (Enter)", self)
        self.accept_button.clicked.connect(self.accept)
        self.clear_button = QPushButton("Clear (Esc)", self)
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout()
        row.addWidget(QLabel("Class:", self))
        row.addWidget(self.class_combo, 1)
        row.addWidget(add_class)
        row.addWidget(self.class_menu_button)
        buttons = QHBoxLayout()
        for b in (self.next_button, self.accept_button, self.clear_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.candidate_label)
        layout.addWidget(self.outline_check)
        layout.addLayout(buttons)
        state.image_opened.connect(lambda _: self._fill_classes())
        state.image_opened.connect(lambda _: self._show_candidate())  # no answer of the last image
        state.image_opened.connect(lambda _: self._forget_ahead())
        state.mode_changed.connect(lambda _: self.pointer_left())
        state.classes_changed.connect(self._fill_classes)
        state.current_class_changed.connect(self.class_combo.setCurrentText)
        state.candidates_changed.connect(self._show_candidate)
        state.ready_changed.connect(self._ready)
        # an Enter waiting for a mask is for the object being made: not for the next one
        state.image_opened.connect(lambda _: self._drop_waiting_accept())
        state.prompts_changed.connect(self._drop_waiting_accept_if_cleared)

    # the click worked out ahead ------------------------------------------------------------------
    def pointer_moved(self, x: float, y: float) -> None:
        """The pointer is over (x, y): once it rests, work out what a first click there takes."""
        if self._pointer is not None and (int(x), int(y)) != tuple(map(int, self._pointer)):
            self._hide_ahead()
        self._pointer = (x, y)
        self._rest.start()

    def pointer_left(self) -> None:
        """Left the image, pressed a button or changed mode: nothing to outline. A job already
        running is left to finish (the click just made may be the one it works out)."""
        self._pointer = None
        self._rest.stop()
        self._hide_ahead()

    def _outline_toggled(self, shown: bool) -> None:
        settings = app_settings()
        settings.setValue(OUTLINE_KEY, shown)
        settings.sync()
        if not shown:
            self._hide_ahead()

    def _forget_ahead(self) -> None:
        self.ahead_slot.discard()
        self.pointer_left()

    def _work_ahead(self) -> None:
        workbench, pointer = self.state.workbench, self._pointer
        clicks, prompts = workbench.clicks, workbench.prompts
        if pointer is None or clicks is None or prompts is None or not self.work_ahead:
            return
        h, w = clicks.shape
        if not (0 <= pointer[0] < w and 0 <= pointer[1] < h):
            return
        if not prompts.empty and prompts.current is None:
            return  # the last prompt is still being decoded: the next builds on its answer
        self.ahead_slot.submit(
            _answer_and_outline,
            clicks,
            *pointer,
            tuple(prompts.points),
            prompts.box,
            workbench.candidate,
            on_result=self._worked_ahead,
            name="click ahead",
        )

    def _worked_ahead(self, outline: _Outline | None) -> None:
        prompts = self.state.workbench.prompts
        if outline is None or (outline.x, outline.y) != self._pointer:
            return  # nothing to outline, or the pointer moved on
        if prompts is None or not prompts.empty or not self.outline_check.isChecked():
            return  # an object is being made, or outlines are off: the answer is only kept
        self.ahead_shown.emit(outline.rgba, outline.offset)

    def _hide_ahead(self) -> None:
        self.ahead_shown.emit(None, (0, 0))

    # prompts ---------------------------------------------------------------------------------------
    def add_point(self, x: float, y: float, label: int) -> None:
        if not self.state.has_image():
            return
        self._hide_ahead()
        try:
            self.state.workbench.add_point(x, y, label)
        except MatLensError as exc:
            self.state.show_status(str(exc))
            return
        self.request_prediction()

    def set_box(self, box: Box) -> bool:
        """A box drawn on the image; False (and one line) when it is too small or outside."""
        if self.state.workbench.prompts is None:
            return False
        try:
            self.state.workbench.set_box(box)
        except MatLensError as exc:
            self.state.show_status(str(exc))
            return False
        self.request_prediction()
        return True

    def undo_last_point(self) -> None:
        workbench = self.state.workbench
        if workbench.undo_point():
            if workbench.prompts is None or workbench.prompts.empty:
                self.clear()
            else:
                self.request_prediction()

    def request_prediction(self) -> None:
        workbench = self.state.workbench
        prompts, clicks = workbench.prompts, workbench.clicks
        if prompts is None or prompts.empty:
            return
        if clicks is None:
            off = self.state.clicks_off
            again = not off and self.state.preparation_cancelled and not self.state.embed_slot.busy
            if again:  # cancelled before: this click asks for it, and waits for it
                self.state.embed()
            self.candidate_label.setText(
                f"Clicks are off: {off}"
                if off
                else "Preparing the image again (it was cancelled)… your clicks will apply when "
                "ready."
                if again
                else "Preparing the image… your clicks will apply when ready."
            )
            return
        self.decode_slot.submit(
            decode_prompt,
            clicks,
            tuple(prompts.points),
            prompts.box,
            workbench.candidate,
            on_result=self._predicted,
            on_error=self._decode_failed,
            name="decode mask",
        )

    def _predicted(self, candidates) -> None:
        prompts = self.state.workbench.prompts
        if prompts is not None and not prompts.empty:
            self.state.workbench.set_candidates(candidates)
            if self._accept_when_answered and not self.decode_slot.queued:
                self._accept_when_answered = False
                self.state.accept_candidate()  # the answer to the last prompt: Enter's

    def _drop_waiting_accept(self) -> None:
        self._accept_when_answered = False

    def _drop_waiting_accept_if_cleared(self) -> None:
        prompts = self.state.workbench.prompts
        if prompts is None or prompts.empty:
            self._accept_when_answered = False

    def _decode_failed(self, report) -> None:
        self._accept_when_answered = False  # nothing came of the last click to accept
        self.state.report_error(report)

    def _ready(self, ready: bool) -> None:
        if not ready:  # another image or model: an answer worked out ahead is of the last one
            self._forget_ahead()
        if ready:
            self.request_prediction()  # clicks made while the image was being prepared

    # candidates ------------------------------------------------------------------------------------
    def _show_candidate(self) -> None:
        prompts = self.state.workbench.prompts
        cand = prompts.current if prompts is not None else None
        if prompts is None or cand is None:
            self.candidate_label.setText(HINT)
            return
        n = len(prompts.candidates)
        text = f"Mask {prompts.selected + 1} of {n} · {cand.description}"
        text += " · Tab for the next" if n > 1 else ""
        first = prompts.candidates[0]
        if first.ambiguous:  # the click itself was unclear: say so whichever mask is shown
            text = f"Uncertain click. {first.reason}\n{text}"
        self.candidate_label.setText(text)

    def next_candidate(self) -> None:
        self.state.workbench.next_candidate()

    def clear(self) -> None:
        self._accept_when_answered = False
        self.decode_slot.discard()
        self.state.workbench.clear_prompts()

    def accept(self) -> None:
        """Accept the mask of the prompts given. While the last click's mask is still being
        worked out, the one on screen is the click before's: Enter pressed then accepted it with
        the new point among its prompts; it now waits for the answer."""
        if self.decode_slot.busy:
            self._accept_when_answered = True
            self.state.show_status("Accepting as soon as the mask of your last click is ready…")
            return
        if self.state.accept_candidate():
            self.decode_slot.discard()

    # classes ---------------------------------------------------------------------------------------
    def _fill_classes(self) -> None:
        annotations = self.state.workbench.annotations
        if annotations is None:
            return
        keep = self.state.current_class
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItems([c.name for c in annotations.classes])
        self.class_combo.blockSignals(False)
        self.class_combo.setCurrentText(keep)
        if self.class_combo.currentText() != keep:  # the class is gone (undo): take the shown one
            self.state.set_current_class(self.class_combo.currentText())

    def _ask_class_name(self) -> None:
        old = self.class_combo.currentText()
        if self.state.workbench.annotations is None or not old:
            return
        name, ok = QInputDialog.getText(self, "Rename class", f"New name of class {old}:", text=old)
        if ok:
            self.state.rename_class(old, name)

    def _ask_new_class(self) -> None:
        if self.state.workbench.annotations is None:
            return
        name, ok = QInputDialog.getText(self, "New class", "Class name:")
        if ok:
            self.state.add_class(name)


@dataclass(frozen=True)
class _Outline:
    """The outline of a first click's answer worked out ahead at (x, y): RGBA at (y0, x0)."""

    x: float
    y: float
    rgba: np.ndarray
    offset: tuple[int, int]


def _answer_and_outline(
    clicks: ClickSession,
    x: float,
    y: float,
    points: tuple[Point, ...],
    box: Box | None,
    shown: RefinedCandidate | None,
) -> _Outline | None:
    """The ahead slot's job: work the click's answer out (kept in `clicks` for the click; for a
    later click both a left and a right one) and, for a first click, make its outline's RGBA
    here in the worker, not on the GUI thread."""
    ahead = answer_ahead(clicks, x, y, points, box, shown)
    if ahead is not None and not ahead.first:  # refining: a right click is as likely
        answer_ahead(clicks, x, y, points, box, shown, label=0)
    if ahead is None or not ahead.first or ahead.mask.size > OUTLINE_MAX_PIXELS:
        return None
    return _Outline(x, y, crop_rgba(ahead.outline, AHEAD_COLOUR), ahead.offset)
