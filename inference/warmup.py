"""Import the heavy scientific modules once, in the background, soon after start-up.

Loading a compiled extension (scikit-learn, scikit-image, pandas via scikit-learn, scipy.linalg)
holds Python's GIL for tens of milliseconds at a time. Done lazily inside a job, that froze the
window for up to 150 ms the first time a user segmented or classified phases
(benchmarks/ui_responsiveness.py); done here, right after the window is painted, it costs
nothing the user is waiting for. Never imports torch or transformers.
"""

from __future__ import annotations

import importlib

from inference.jobs import CancelToken, ProgressCallback, no_progress

MODULES = (
    "onnxruntime",
    "imagecodecs",
    "scipy.ndimage",
    "scipy.sparse.linalg",
    "skimage.measure",
    "skimage.morphology",
    "skimage.segmentation",
    "sklearn.ensemble",
    "inference.imaging.io",
    "inference.segmentation.sam",
    "inference.segmentation.export",
    "inference.segmentation.refine",
    "inference.segmentation.clicks",
    "inference.segmentation.tiling",
    "inference.segmentation.automatic",
    "inference.segmentation.everything",
    "inference.segmentation.microstructure",
    "inference.segmentation.phases",
    "inference.segmentation.summary",
    "inference.segmentation.report",
)


def import_heavy_modules(
    progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> int:
    """Import MODULES; a missing optional one is skipped. Returns how many were imported."""
    done = 0
    for k, name in enumerate(MODULES):
        if cancel is not None and cancel.cancelled:
            break
        progress(k / len(MODULES), f"loading {name}")
        try:
            importlib.import_module(name)
            done += 1
        except ImportError:
            continue
    return done
