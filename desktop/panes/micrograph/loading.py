"""What a worker prepares before the pane shows an image (the GUI thread reads no files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.imaging.display import to_display, to_rgb
from inference.imaging.io import read_micrograph
from inference.imaging.micrograph import Micrograph
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation import sidecar
from inference.segmentation.annotations import AnnotationSet, ImageIdentity


@dataclass(frozen=True)
class LoadedImage:
    micrograph: Micrograph
    display: np.ndarray  # uint8 for the screen
    rgb: np.ndarray  # uint8 HxWx3 for the model
    annotations: AnnotationSet
    notice: str | None
    path: Path
    sidecar_key: Path  # the image path whose sidecar holds these annotations


def load_image(
    path: Path,
    frame: int = 0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> LoadedImage:
    progress(0.05, f"reading {path.name}")
    micrograph = read_micrograph(path, frame=frame)
    if cancel:
        cancel.raise_if_cancelled()
    progress(0.5, "adjusting contrast")
    display = to_display(micrograph)
    rgb = to_rgb(display)
    progress(0.7, "loading annotations")
    name = path.name if micrograph.n_frames == 1 else f"{path.name}[{frame}]"
    identity = ImageIdentity.of_pixels(name, micrograph.data)
    key = _sidecar_key(path, frame, micrograph.n_frames)
    opened = sidecar.open_for_image(key, identity, micrograph.shape, micrograph.calibration)
    progress(1.0, "")
    return LoadedImage(micrograph, display, rgb, opened.annotations, opened.notice, path, key)


def _sidecar_key(path: Path, frame: int, n_frames: int) -> Path:
    """Each frame of a stack keeps its own annotations."""
    return path if n_frames == 1 else path.with_name(f"{path.name}.frame{frame}")
