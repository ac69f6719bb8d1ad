"""Persistent preferences (QSettings) and the recent-files list."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


def app_settings() -> QSettings:
    """The user's settings; `MATLENS_SETTINGS` points them at an ini file (tests, portable installs)."""
    override = os.environ.get("MATLENS_SETTINGS")
    if override:
        return QSettings(override, QSettings.Format.IniFormat)
    return QSettings("MatLens", "MatLens")


class RecentFiles:
    """Most recent first, no duplicates, files that vanished are dropped when listed."""

    KEY = "recent_files"

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[Path]:
        raw = self.settings.value(self.KEY, [], type=list) or []
        if not isinstance(raw, list):  # a settings file edited by hand
            return []
        return [Path(p) for p in raw if p and Path(p).exists()]

    def add(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [p for p in self.paths() if p != path]
        items.insert(0, path)
        self.settings.setValue(self.KEY, [str(p) for p in items[:MAX_RECENT]])
        self.settings.sync()

    def clear(self) -> None:
        self.settings.setValue(self.KEY, [])
        self.settings.sync()
