"""FEI/Thermo-like TIFFs of any size: the real FEI Helios file's own tags (rosettasciio's test
file, from `shared/data/microscope_formats`) with a given specimen written above a data bar.

The Helios file is 512 × 471 px with a 29-row data bar. Its FEI text block (tag 34682) is kept
as the microscope wrote it except for the three lines that must follow the new size
(`ResolutionX`, `ResolutionY`: the specimen's rows, `DatabarHeight`); its data bar's pixels are
stretched (nearest neighbour) to the new bar. Nothing is copied into the repository: the file is
written at test (or benchmark) time from the shared data.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

import numpy as np
import tifffile

if TYPE_CHECKING:
    from pathlib import Path

HELIOS_PARTS = ("microscope_formats", "rosettasciio", "tiff", "tiff_FEI_Helios.zip")
HELIOS_MEMBER = "FEI-Helios-Ebeam-8bits.tif"
HELIOS_BAR_ROWS = 29
FEI_TAG = 34682  # FEI_HELIOS: the microscope's INI-like text


def write_fei_like(helios_zip: Path, path: Path, specimen: np.ndarray, bar_rows: int) -> Path:
    """Write `specimen` (uint8, rows × columns) with a `bar_rows` data bar below it, tagged as
    the Helios file is, to `path`."""
    with zipfile.ZipFile(helios_zip) as archive:
        data = archive.read(HELIOS_MEMBER)
    with tifffile.TiffFile(io.BytesIO(data)) as tif:
        page = tif.pages.first
        tag = page.tags[FEI_TAG]
        text = data[tag.valueoffset : tag.valueoffset + tag.count].decode("latin-1")
        pixels = page.asarray()
    text = text.rstrip("\x00")
    rows, columns = specimen.shape
    for key, value in (
        ("ResolutionX", columns),
        ("ResolutionY", rows),
        ("DatabarHeight", bar_rows),
    ):
        text = re.sub(rf"(?m)^{key}=.*$", f"{key}={value}", text)
    bar = pixels[-HELIOS_BAR_ROWS:]
    ys = np.arange(bar_rows) * HELIOS_BAR_ROWS // bar_rows
    xs = np.arange(columns) * bar.shape[1] // columns
    image = np.concatenate([specimen.astype(np.uint8), bar[ys][:, xs]], axis=0)
    tifffile.imwrite(path, image, extratags=[(FEI_TAG, "s", 0, text, True)])
    return path
