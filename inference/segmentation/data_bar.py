"""A microscope's data bar is not specimen: every automatic number leaves it out.

FEI/Thermo SEM images carry a data bar in their bottom rows (HV, magnification, their own scale
bar and text; `Micrograph.data_bar_rows` says how many rows, from the file's
`PrivateFei.DatabarHeight`). Fiji users crop it by hand; MatLens knows the rows, so:

- Segment everything and the microstructure map run on the rows above it (`specimen`): SAM
  never sees the bar, so no object is found in it and none runs into it. The map is padded back
  to the image's height (`to_image_height`), so its label image lines up with the file.
- A click's mask leaves the bar's rows out when the prompt lies above it (SAM sees the bar as
  part of the picture and runs objects near it into it: 26 of 63 clicks within 20 rows above
  the bar of a Helios image did); a prompt in the bar itself is the person's and kept whole.
- Phases by example classifies the whole image (the pane reuses its embedding), then gives
  the data bar no phase (`clear_data_bar`: label 0), so phase fractions are over the specimen.
- Measurements take the specimen area (`AnnotationSet.specimen_rows`) as the image area: area
  fractions count only pixels above the bar, and number densities, crack length per area and
  the grain size's test area use the specimen's area. An object a person paints into the bar is
  kept and counted as drawn (its count, size and shape); only its pixels above the bar count
  towards the area fractions.

Every export stays image-sized, so it lines up with the original file in Fiji.
"""

from __future__ import annotations

import numpy as np


def specimen_rows(height: int, data_bar_rows: int) -> int:
    """The image rows above the data bar; every row when there is none (or a nonsense one)."""
    height, data_bar_rows = int(height), int(data_bar_rows)
    return height - data_bar_rows if 0 < data_bar_rows < height else height


def specimen(image: np.ndarray, data_bar_rows: int) -> np.ndarray:
    """The rows above the data bar (a view, no copy); the image itself without a data bar."""
    return image[: specimen_rows(image.shape[0], data_bar_rows)]


def to_image_height(array: np.ndarray, height: int) -> np.ndarray:
    """`array` made for the specimen rows, padded with zeros (False) below to `height` rows."""
    missing = int(height) - array.shape[0]
    if missing <= 0:
        return array
    pad = [(0, missing)] + [(0, 0)] * (array.ndim - 1)
    return np.pad(array, pad)


def clear_data_bar(labels: np.ndarray, data_bar_rows: int) -> np.ndarray:
    """A copy of `labels` with 0 (no class, no object) in the data bar's rows."""
    rows = specimen_rows(labels.shape[0], data_bar_rows)
    if rows == labels.shape[0]:
        return labels
    out = labels.copy()
    out[rows:] = 0
    return out
