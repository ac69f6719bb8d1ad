"""Fixtures for the prediction tests: the materials store, built once per test session."""

from __future__ import annotations

import os

import pytest


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
