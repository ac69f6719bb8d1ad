"""Models folders for tests of damaged models: links to the exported models (the real files
are never touched), with one of them replaced by a copy cut short."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def linked_models(folder: Path) -> Path:
    """`folder`, made, holding a link to every file of the real models folder."""
    real = Path(os.environ["MATLENS_MODELS"])
    folder.mkdir()
    for item in real.iterdir():
        (folder / item.name).symlink_to(item)
    return folder


def cut_short(models: Path, name: str, size: int | None = None) -> Path:
    """Replace the link `name` in `models` by a copy of the real file cut to `size` bytes (half
    of it by default); returns the cut file."""
    real = Path(os.environ["MATLENS_MODELS"]) / name
    target = models / name
    target.unlink(missing_ok=True)
    shutil.copyfile(real, target)
    with target.open("r+b") as fh:
        fh.truncate(real.stat().st_size // 2 if size is None else size)
    return target
