"""Where MatLens keeps resources, models, caches and logs (overridable for tests and bundles)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from inference.errors import MatLensError

APP_NAME = "MatLens"


def resources_dir() -> Path:
    """The read-only resources shipped with the app (repo checkout or PyInstaller bundle)."""
    override = os.environ.get("MATLENS_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def _user_dir(env: str, default: Path) -> Path:
    path = Path(os.environ[env]) if os.environ.get(env) else default
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only disk: say which folder, and how out
        raise MatLensError(
            f"MatLens cannot use the folder {path} ({exc.strerror or exc}); "
            f"set {env} to a writable folder"
        ) from exc
    return path


def user_data_dir() -> Path:
    return _user_dir("MATLENS_DATA", platformdirs.user_data_path(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """Exported and imported ONNX models; `MATLENS_MODELS` overrides it."""
    return _user_dir("MATLENS_MODELS", user_data_dir() / "models")


def bundled_models_dir() -> Path | None:
    """Read-only models shipped inside an installed bundle (`models/` beside the resources).

    Files here are used when the user's models folder lacks them, so an installed MatLens
    works with nothing exported; `MATLENS_BUNDLED_MODELS` overrides it (tests, shared installs).
    """
    override = os.environ.get("MATLENS_BUNDLED_MODELS")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "models" if bundle else None


def cache_dir() -> Path:
    """Recomputable data, such as image embeddings."""
    return _user_dir("MATLENS_CACHE", platformdirs.user_cache_path(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return _user_dir("MATLENS_LOGS", platformdirs.user_log_path(APP_NAME, appauthor=False))


def samples_dir() -> Path:
    return resources_dir() / "samples"
