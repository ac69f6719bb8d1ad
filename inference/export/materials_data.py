"""The Materials-data store (SQLite) from crabnet's matbench tables, built at `make models`.

The installed bundle has no crabnet, so the store is built here, at set-up time, into the
models folder; the bundle ships it read-only (resources/models/materials_data.json names it
with its sha256), and the app finds it there for known values and `matlens data query`.
The build is deterministic (same rows, same order, same SQLite pages): the same crabnet and
SQLite give the same sha256.
"""

from __future__ import annotations

from pathlib import Path

from inference.jobs import ProgressCallback, no_progress
from inference.prediction.materials_store import STORE_FILE, build_store


def export(out: Path, progress: ProgressCallback = no_progress) -> Path:
    return build_store(Path(out) / STORE_FILE, progress=progress)
