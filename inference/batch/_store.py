"""The output folder: per-item outputs committed atomically, markers, the manifest and a lock.

Layout under the output folder (the workloads add their own files)::

    .matlens-batch/items/<name>.json      marker: settings digest, input stamp, files, result
    .matlens-batch/attempts/<name>@<host>-<pid>-<id>/   a try in progress (or one that died)
    .matlens-batch/manifest.json          the settings, their digest and each item's state
    .matlens-batch/lock                   the driver writing here (host and pid)

A try writes into its own staging folder, renames each file into place (a rename within one
file system is atomic, so a reader sees a whole file or none) and writes the marker last: an
item is done exactly when its marker says so. Two tries of one item never write the same file;
the folder of a try whose worker died stays behind, which is how the next try counts them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.errors import MatLensError

if TYPE_CHECKING:
    from inference.batch._model import Item, ItemOutput

STATE = ".matlens-batch"
MARKER_FORMAT = 1
LOCK_STALE = 120.0  # seconds; the driver refreshes its lock every few seconds


def settings_digest(kind: str, settings: dict[str, Any]) -> str:
    text = json.dumps(
        {"kind": kind, **settings}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def write_json_atomic(path: Path, data: Any, indent: int | None = None) -> None:
    """Write a private temp file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=indent), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


class OutputStore:
    """One output folder, as the driver and the workers see it."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.state = self.out_dir / STATE
        self.markers = self.state / "items"
        self.attempts = self.state / "attempts"

    # --- markers --------------------------------------------------------------------------------
    def marker(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.markers / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def done_marker(self, item: Item, digest: str) -> dict[str, Any] | None:
        """The item's marker when it was done with these settings from this very input and its
        files are all there; else None."""
        marker = self.marker(item.name)
        if (
            not marker
            or marker.get("digest") != digest
            or marker.get("source") != item.source
            or marker.get("stamp") != item.stamp
        ):
            return None
        files = marker.get("files") or []
        if not all((self.out_dir / f).is_file() for f in files):
            return None
        return marker

    # --- one try of one item --------------------------------------------------------------------
    def begin_attempt(self, item: Item) -> Path:
        host = socket.gethostname().replace("@", "_")
        staging = self.attempts / f"{item.name}@{host}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        return staging

    def dead_attempts(self, item: Item, besides: Path | None = None) -> int:
        """Tries of this item in this run that never finished (their worker died)."""
        try:
            entries = list(self.attempts.iterdir())
        except OSError:
            return 0
        prefix = f"{item.name}@"
        return sum(1 for p in entries if p.name.startswith(prefix) and p != besides)

    def commit(self, item: Item, digest: str, staging: Path, output: ItemOutput) -> None:
        """Rename the try's files into place, then write the marker: the item is done."""
        for rel in output.files:
            src, dst = staging / rel, self.out_dir / rel
            if not src.is_file():
                raise MatLensError(f"{item.label}: the output {rel} was not written")
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        marker = {
            "format": MARKER_FORMAT,
            "digest": digest,
            "name": item.name,
            "label": item.label,
            "source": item.source,
            "stamp": item.stamp,
            "files": list(output.files),
            "result": output.result,
        }
        write_json_atomic(self.markers / f"{item.name}.json", marker)

    @staticmethod
    def abandon(staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)

    def clear_attempts(self) -> None:
        """A new run starts counting tries afresh (left-over folders are from dead runs)."""
        shutil.rmtree(self.attempts, ignore_errors=True)

    # --- the driver's files ---------------------------------------------------------------------
    def write_manifest(self, data: dict[str, Any]) -> None:
        write_json_atomic(self.state / "manifest.json", data, indent=1)

    def lock(self) -> None:
        """Refuse a second driver on this output folder; a lock left by a dead driver is taken
        over (on another machine: one not refreshed for LOCK_STALE seconds)."""
        self.state.mkdir(parents=True, exist_ok=True)
        path = self.state / "lock"
        me = {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read_lock(path)
                if holder and _alive(holder, path):
                    raise MatLensError(
                        f"another batch is writing to {self.out_dir} "
                        f"(process {holder.get('pid')} on {holder.get('host')}); "
                        "wait for it or choose another output folder"
                    ) from None
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(me, fh)
            return

    def refresh_lock(self) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.state / "lock")

    def unlock(self) -> None:
        path = self.state / "lock"
        holder = _read_lock(path)
        if (
            holder
            and holder.get("pid") == os.getpid()
            and holder.get("host") == socket.gethostname()
        ):
            with contextlib.suppress(OSError):
                path.unlink()


def _read_lock(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(holder: dict[str, Any], path: Path) -> bool:
    if holder.get("host") != socket.gethostname():
        # Another machine: its process cannot be asked, but a running driver refreshes the lock.
        try:
            return time.time() - path.stat().st_mtime < LOCK_STALE
        except OSError:
            return False
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except (OSError, ValueError):
        return False
    return True


@contextlib.contextmanager
def replacing(path: Path):
    """Yield a private temp path to write; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
