"""Page images for the viewer (pypdfium2; QtPdf is not available with PySide6 6.11)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.literature.pdf import PDFIUM_LOCK, open_document

if TYPE_CHECKING:
    from inference.jobs import CancelToken


def render_page(
    path: Path, index: int, scale: float = 2.0, cancel: CancelToken | None = None
) -> np.ndarray:
    """RGB uint8 image of page `index` (0-based) at `scale` pixels per PDF point."""
    doc = open_document(Path(path))
    with PDFIUM_LOCK:  # PDFium is not thread-safe (see `PDFIUM_LOCK`)
        try:
            if cancel:
                cancel.raise_if_cancelled()
            page = doc[index]
            try:
                # pypdfium2 declares `scale: int`, but it takes any float (pixels per PDF point).
                bitmap = page.render(scale=scale)  # pyright: ignore[reportArgumentType]
                image = np.array(bitmap.to_numpy()[..., :3])  # a copy: the bitmap is freed now
                mode = bitmap.mode
                bitmap.close()  # here, not by the garbage collector outside the lock
            finally:
                page.close()
        finally:
            doc.close()
    if mode in ("BGRA", "BGRX", "BGR"):
        image = np.ascontiguousarray(image[..., ::-1])
    return image
