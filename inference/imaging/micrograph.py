"""The one image type every reader returns and every pane and algorithm consumes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from inference.imaging.calibration import CALIBRATION_NOTE, DATA_BAR_NOTE, Calibration

if TYPE_CHECKING:
    from pathlib import Path

_MAX_NOTE = 160  # a Velox file can list a dozen detectors: the Image box shows the start


@dataclass(frozen=True, eq=False)
class Micrograph:
    """One frame of a microscope file, raw values untouched.

    `data` keeps the file's dtype (uint8, uint16, int32, float32, complex64...) so that
    measurements see the detector's numbers; contrast for the screen comes from
    `inference.imaging.display.to_display`. Colour images are H×W×3 (alpha dropped).
    `metadata` is flat and human-readable (key → str) because it is shown as a table.
    """

    data: np.ndarray
    calibration: Calibration = field(default_factory=Calibration)
    path: Path | None = None
    frame: int = 0
    n_frames: int = 1
    metadata: dict[str, str] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self) -> None:
        shape = tuple(self.data.shape)
        if not (len(shape) == 2 or (len(shape) == 3 and shape[2] == 3)):
            raise ValueError(f"a micrograph is H×W or H×W×3, not {shape}")
        if self.data.size == 0:
            raise ValueError("a micrograph needs at least one pixel")
        if not 0 <= self.frame < max(self.n_frames, 1):
            raise ValueError(f"frame {self.frame} is outside 0..{self.n_frames - 1}")

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) in pixels, also for colour images."""
        return int(self.data.shape[0]), int(self.data.shape[1])

    @property
    def is_rgb(self) -> bool:
        return self.data.ndim == 3

    @property
    def is_complex(self) -> bool:
        return np.iscomplexobj(self.data)

    @property
    def notes(self) -> tuple[str, ...]:
        """What a person must know before measuring, one line each: why the file's own scale
        was not used, the rows of a data bar, and the other signals in the file (a Velox EMD
        holds HAADF, DF, iDPC...), of which only this one is open."""
        notes = [
            self.metadata[k] for k in (CALIBRATION_NOTE, DATA_BAR_NOTE) if self.metadata.get(k)
        ]
        if self.metadata.get("other signals"):
            line = f"also in the file, not opened: {self.metadata['other signals']}"
            notes.append(line if len(line) <= _MAX_NOTE else line[: _MAX_NOTE - 1] + "…")
        return tuple(notes)

    def with_calibration(self, calibration: Calibration) -> Micrograph:
        """The same image with a new calibration (e.g. one drawn over the scale bar)."""
        return dataclasses.replace(self, calibration=calibration)
