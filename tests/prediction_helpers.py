"""Fixtures for the prediction tests: the materials store, built once per test session."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(scope="session")
def materials_db_file(tmp_path_factory):
    """The SQLite store of crabnet's tables (about 10-30 s to build, once)."""
    from inference.prediction.materials_store import build_store, source_folder

    if source_folder() is None:
        message = "crabnet's matbench tables are not installed (make run installs crabnet)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # One file per test session, whichever module asks first (each module imports the fixture).
    path = tmp_path_factory.getbasetemp() / "materials-store" / "materials.sqlite"
    return path if path.exists() else build_store(path)


@pytest.fixture
def materials_db(materials_db_file, monkeypatch):
    monkeypatch.setenv("MATLENS_MATERIALS_DB", str(materials_db_file))
    return materials_db_file


def shipped_packed_store() -> Path:
    """The xz-packed store `make models` wrote for the bundle (skips, or fails under CI)."""
    from inference.prediction.materials_store import packed_source
    from inference.runtime.registry import FileStatus, file_status, get_card

    packed = packed_source()
    card = get_card("materials_data")
    if packed is None or file_status(card.files[0]) is not FileStatus.OK:
        message = "the packed materials store is not exported (make models)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return packed


def as_installed_app(monkeypatch, root: Path, packed: Path) -> Path:
    """Environment of an installed MatLens: empty user models, the bundle's models folder
    holding only the packed store, no crabnet, an empty cache (returned)."""
    from inference.prediction import materials_store

    user, bundle, cache = root / "user-models", root / "bundle-models", root / "cache"
    for folder in (user, bundle):
        folder.mkdir()
    (bundle / materials_store.PACKED_FILE).symlink_to(packed)
    monkeypatch.delenv("MATLENS_MATERIALS_DB", raising=False)
    monkeypatch.setenv("MATLENS_MODELS", str(user))
    monkeypatch.setenv("MATLENS_BUNDLED_MODELS", str(bundle))
    monkeypatch.setenv("MATLENS_CACHE", str(cache))
    monkeypatch.setattr(materials_store, "source_folder", lambda: None)
    return cache
