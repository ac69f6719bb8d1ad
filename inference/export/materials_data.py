"""The Materials-data store (SQLite) from crabnet's matbench tables, built at `make models`.

The installed bundle has no crabnet, so the store is built here, at set-up time, into the
models folder, and packed with xz beside it (58 MB → 12 MB); the bundle ships the packed file
read-only (resources/models/materials_data.json names it with its sha256) and the app unpacks it
on first use. Both steps are deterministic (same rows, same order, same SQLite pages, same xz
level): the same crabnet, SQLite and liblzma give the same sha256.
"""

from __future__ import annotations

from pathlib import Path

from inference.jobs import ProgressCallback, no_progress
from inference.prediction.materials_store import PACKED_FILE, STORE_FILE, build_store, pack_store


def export(out: Path, progress: ProgressCallback = no_progress) -> Path:
    store = build_store(Path(out) / STORE_FILE, progress=progress)
    progress(0.9, "packing the materials tables")
    return pack_store(store, Path(out) / PACKED_FILE)
