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
    PANES_KEY = "recent_file_panes"  # "pane title<TAB>path", for the files in KEY

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[Path]:
        raw = self.settings.value(self.KEY, [], type=list) or []
        if not isinstance(raw, list):  # a settings file edited by hand
            return []
        return [Path(p) for p in raw if p and Path(p).exists()]

    def add(self, path: Path, pane: str = "") -> None:
        """`pane`: the title of the pane that opened it, which opens it again from the list
        (a pymatgen JSON opened by Structures' own button went to Micrographs by its name)."""
        path = Path(path).resolve()
        items = [p for p in self.paths() if p != path]
        items.insert(0, path)
        kept = items[:MAX_RECENT]
        self.settings.setValue(self.KEY, [str(p) for p in kept])
        panes = self._panes()
        if pane:
            panes[str(path)] = pane
        self.settings.setValue(
            self.PANES_KEY, [f"{panes[str(p)]}\t{p}" for p in kept if str(p) in panes]
        )
        self.settings.sync()

    def pane_of(self, path: Path) -> str:
        """The title of the pane that last opened `path` ("" when not known)."""
        return self._panes().get(str(Path(path).resolve()), "")

    def _panes(self) -> dict[str, str]:
        raw = self.settings.value(self.PANES_KEY, [], type=list) or []
        if not isinstance(raw, list):  # a settings file edited by hand
            return {}
        pairs = (str(item).split("\t", 1) for item in raw if "\t" in str(item))
        return {path: title for title, path in pairs}

    def clear(self) -> None:
        self.settings.setValue(self.KEY, [])
        self.settings.setValue(self.PANES_KEY, [])
        self.settings.sync()
