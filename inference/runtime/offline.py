"""Is this MatLens process really offline? The doctor's answer, with the reason when it is not.

Three things must hold: the offline variables that `inference/__init__.py` sets are present,
onnxruntime was not imported before them (its telemetry starts at import), and this process
runs no onnxruntime telemetry store. The last is checked on the evidence: on Linux the process
holds ~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db open while the telemetry
runs; elsewhere the database must not have changed since this process started.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import inference

_STARTED = time.time()
_DB_NAME = "onnxruntime.db"


@dataclass(frozen=True)
class OfflineReport:
    offline: bool
    why_not: list[str] = field(default_factory=list)  # empty when offline
    notes: list[str] = field(default_factory=list)
    telemetry_db: str | None = None  # where onnxruntime's telemetry store is, when it exists


def telemetry_folders() -> list[Path]:
    """Where onnxruntime's 1DS telemetry keeps its database (the Linux place is observed)."""
    home = Path.home()
    folders = [home / ".cache" / "Microsoft" / "DeveloperTools" / ".onnxruntime"]
    if os.environ.get("XDG_CACHE_HOME"):
        folders.append(Path(os.environ["XDG_CACHE_HOME"]) / "Microsoft/DeveloperTools/.onnxruntime")
    if os.environ.get("LOCALAPPDATA"):
        folders.append(Path(os.environ["LOCALAPPDATA"]) / "Microsoft/DeveloperTools/.onnxruntime")
    return list(dict.fromkeys(folders))


def _existing_db() -> Path | None:
    return next((f / _DB_NAME for f in telemetry_folders() if (f / _DB_NAME).is_file()), None)


def _open_by_this_process() -> bool | None:
    """True/False from /proc/self/fd on Linux; None where that cannot be known."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return None
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:  # the listing's own descriptor is gone by now
            continue
        if Path(target).name.startswith(_DB_NAME):
            return True
    return False


def _written_since_start(db: Path) -> bool:
    stamps = [p.stat().st_mtime for p in db.parent.glob(_DB_NAME + "*") if p.is_file()]
    return bool(stamps) and max(stamps) >= _STARTED - 1


def check() -> OfflineReport:
    """Call after onnxruntime has been loaded (the doctor builds sessions first)."""
    why_not = [
        f"{key} is not set to {value}"
        for key, value in inference.OFFLINE_ENVIRONMENT.items()
        if os.environ.get(key) != value
    ]
    if inference.ONNXRUNTIME_IMPORTED_EARLY:
        why_not.append(
            "onnxruntime was imported before MatLens set ORT_DISABLE_TELEMETRY, so its telemetry "
            "runs in this process; import inference first (or set ORT_DISABLE_TELEMETRY=1)"
        )
    db = _existing_db()
    notes = []
    if db is not None:
        held = _open_by_this_process()
        active = held if held is not None else _written_since_start(db)
        if active and "onnxruntime" in sys.modules:
            why_not.append(f"onnxruntime telemetry is writing {db} in this process")
        else:
            notes.append(
                f"{db} was left by another program or an earlier MatLens without "
                "ORT_DISABLE_TELEMETRY; this MatLens does not use it (it may be deleted)"
            )
    return OfflineReport(not why_not, why_not, notes, str(db) if db else None)
