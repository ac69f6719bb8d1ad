"""Keep the embeddings cache under a size cap by removing the least recently used files.

Every image SAM embeds leaves ~4 MB under `<cache>/embeddings/<model>/`; a batch of 10,000
images would leave ~40 GB. Before a new file is written, the oldest-used `.npy` files go until
the new one fits under the cap (`MATLENS_CACHE_LIMIT`, e.g. `500M`; 2 GB by default). A file's
modification time is its last use: a cache hit touches it. Only `.npy` files inside the
embeddings folder are ever removed (symbolic links are not followed), with the half-written
files of processes that died, and a file another MatLens process removed first is skipped.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from inference.runtime.sizes import size_from_environment

DEFAULT_CACHE_LIMIT = 2 * 2**30
STALE_TEMP_S = 3600  # a half-written file this old was left by a process that died


def cache_limit() -> int:
    """Bytes the embeddings cache may take (`MATLENS_CACHE_LIMIT`, e.g. `500M`; 2 GB default)."""
    limit = size_from_environment("MATLENS_CACHE_LIMIT")
    return DEFAULT_CACHE_LIMIT if limit is None else limit


@dataclass(frozen=True)
class CachedFile:
    path: Path
    size: int
    last_used: float


def cached_files(root: Path) -> list[CachedFile]:
    """The `.npy` files under `root`, oldest-used first, after the temporary files of writes
    that died more than an hour ago; links and vanished files are skipped."""
    found: list[CachedFile] = []
    now = time.time()
    for folder, _dirs, names in os.walk(root):  # does not descend into linked folders
        for name in names:
            temporary = name.startswith(".") and name.endswith(".tmp")
            if not (name.endswith(".npy") or temporary):
                continue
            path = Path(folder) / name
            try:
                info = path.lstat()
            except OSError:  # removed by another process meanwhile
                continue
            if path.is_symlink():
                continue
            if temporary:
                if now - info.st_mtime < STALE_TEMP_S:
                    continue  # another process is writing it
                found.append(CachedFile(path, info.st_size, 0.0))
                continue
            found.append(CachedFile(path, info.st_size, info.st_mtime))
    found.sort(key=lambda f: f.last_used)
    return found


def make_room(root: Path, incoming: int, limit: int | None = None) -> bool:
    """Remove the least recently used files under `root` until `incoming` more bytes fit under
    the cap. False when the new file alone is larger than the cap (then nothing is removed)."""
    limit = cache_limit() if limit is None else limit
    if incoming > limit:
        return False
    files = cached_files(root)
    total = sum(f.size for f in files)
    for old in files:
        if total + incoming <= limit:
            break
        try:
            old.path.unlink()
        except FileNotFoundError:  # another process pruned it first: the room is made anyway
            pass
        except OSError:  # read-only or locked: it stays, and counts
            continue
        total -= old.size
    return True


def mark_used(path: Path) -> None:
    """A cache hit: the file becomes the most recently used."""
    with contextlib.suppress(OSError):  # a read-only cache still serves hits
        os.utime(path)
