"""The smallest image segment everything (and the maps built on it) can work on.

SAM sees every image at 1024 px on its long side, so a small image is upscaled many times
first: a 16 × 16 MRC frame 64 ×, a 68 × 68 DM3 15 ×. Measured on the NASA MicroNet train split
(`benchmarks/min_image_side.py`, real micrographs shrunk to a given short side), the share of
ground-truth objects that one automatic mask finds (IoU >= 0.5) falls from 0.41 at 96 px to
0.27 at 64 px, 0.13 at 48 px and 0 at 32 px (on the test split: 0.38 at 96 px, 0.09 at 64 px).
Below `MIN_SIDE` the tools refuse, in one line,
instead of reporting "0 objects, 0 %" where the truth is "not measured".
"""

from __future__ import annotations

from inference.errors import MatLensError

MIN_SIDE = 96  # px on the image's short side
SAM_SIDE = 1024  # the side SAM embeds at


class OutsideModelDomain(MatLensError):  # noqa: N818 - named for what a user is told
    """The image is too small for SAM's automatic segmentation to mean anything."""


def check_automatic_domain(shape: tuple[int, ...], data_bar_rows: int = 0) -> None:
    """Refuse, in one line, an image whose short side is below `MIN_SIDE` px. `shape` is what
    SAM would see: with a microscope's data bar of `data_bar_rows` left out, the rows above it,
    and the line says so (the file itself is taller)."""
    height, width = int(shape[0]), int(shape[1])
    if min(height, width) >= MIN_SIDE:
        return
    upscale = SAM_SIDE / max(height, width, 1)
    what = (
        f"The specimen is {width} × {height} px above the data bar"
        if data_bar_rows > 0
        else f"This image is {width} × {height} px"
    )
    raise OutsideModelDomain(
        f"{what}: automatic segmentation needs {MIN_SIDE} px on "
        f"the short side (SAM would upscale it {upscale:.0f}×), out of the model's domain; "
        "nothing measured"
    )
