"""The object being segmented: its clicks, its box and SAM's candidate masks. No Qt, no model.

The pane feeds clicks in; a worker turns `request()` into candidates; the user cycles through
them and accepts one. Clicks outside the image are refused with a one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inference.errors import MatLensError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class PromptRequest:
    """What the decoder is asked: points as (x, y, label) and an optional box, in image pixels."""

    points: tuple[tuple[float, float, int], ...]
    box: tuple[float, float, float, float] | None
    multimask: bool


@dataclass
class PromptState:
    shape: tuple[int, int]  # (height, width) of the image
    points: list[tuple[float, float, int]] = field(default_factory=list)
    box: tuple[float, float, float, float] | None = None
    candidates: list = field(default_factory=list)  # MaskCandidate, best first
    selected: int = 0

    def _inside(self, x: float, y: float) -> bool:
        h, w = self.shape
        return 0 <= x < w and 0 <= y < h

    def add_point(self, x: float, y: float, label: int) -> None:
        if not self._inside(x, y):
            h, w = self.shape
            raise MatLensError(f"Click inside the image: ({x:.0f}, {y:.0f}) is outside {w}×{h}.")
        self.points.append((float(x), float(y), 1 if label else 0))

    def set_box(self, box: tuple[float, float, float, float]) -> None:
        h, w = self.shape
        x0, y0, x1, y1 = box
        x0, x1 = sorted((min(max(x0, 0), w - 1), min(max(x1, 0), w - 1)))
        y0, y1 = sorted((min(max(y0, 0), h - 1), min(max(y1, 0), h - 1)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise MatLensError("Draw the box inside the image, at least a few pixels wide.")
        self.box = (x0, y0, x1, y1)

    def undo_point(self) -> bool:
        if self.points:
            self.points.pop()
            return True
        return False

    def clear(self) -> None:
        self.points.clear()
        self.box = None
        self.candidates = []
        self.selected = 0

    @property
    def empty(self) -> bool:
        return not self.points and self.box is None

    def request(self) -> PromptRequest:
        # One click is ambiguous (part, object, group): ask for 3 masks. More prompts are not.
        multimask = len(self.points) == 1 and self.box is None
        return PromptRequest(tuple(self.points), self.box, multimask)

    def set_candidates(self, candidates: list) -> None:
        """Candidates best first, in the order given (refine.ClickSession decides what is best)."""
        self.candidates = list(candidates)
        self.selected = 0

    def cycle(self) -> int:
        if self.candidates:
            self.selected = (self.selected + 1) % len(self.candidates)
        return self.selected

    @property
    def current(self):
        return self.candidates[self.selected] if self.candidates else None

    def current_mask(self) -> np.ndarray | None:
        cand = self.current
        return None if cand is None else cand.mask
