"""Will an image fit in the memory left? Asked before any pixel is decoded.

A 16000 × 16000 micrograph is fine on a workstation; a header that claims 60000 × 60000 (or a
giant scan on a small laptop) would otherwise end in an out-of-memory kill, or a MemoryError
halfway through. Here it is one line that says how large an image can be right now.
`MATLENS_MEMORY_LIMIT` (e.g. `8G`, `500M`) caps what MatLens counts as free: for shared
servers, and for tests.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import UnreadableFile
from inference.runtime.sizes import size_from_environment

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


def _limit_from_environment() -> int | None:
    return size_from_environment("MATLENS_MEMORY_LIMIT")


def _cgroup_room() -> int | None:
    """A container's own limit (cgroup v2) minus what it uses, when there is one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return int(limit) - used if limit.isdigit() else None


def available_bytes() -> int | None:
    """Memory this process could still take, or None when the system does not say."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            import psutil

            found.append(int(psutil.virtual_memory().available))
        except (ImportError, OSError):  # psutil is optional; without it, no refusal
            pass
    for extra in (_cgroup_room(), _limit_from_environment()):
        if extra is not None:
            found.append(extra)
    return max(0, min(found)) if found else None


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def bytes_needed(width: int, height: int, dtype: DTypeLike, samples: int = 1) -> int:
    """The raw frame, one working copy of it, and the 8-bit RGB copy that display and models use."""
    raw = width * height * samples * np.dtype(dtype).itemsize
    return 2 * raw + 3 * width * height


def check_fits(path: Path, width: int, height: int, dtype: DTypeLike, samples: int = 1) -> None:
    """Refuse up front, in one line, an image that cannot fit in the memory left."""
    need = bytes_needed(width, height, dtype, samples)
    free = available_bytes()
    if free is None or need <= free:
        return
    per_pixel = need / max(1, width * height)
    side = int(math.sqrt(free / per_pixel))
    raw = width * height * samples * np.dtype(dtype).itemsize
    raise UnreadableFile(
        f"{path.name} is {width:,} × {height:,} pixels ({_size(raw)} of pixel data), too large "
        f"for the {_size(free)} of memory free: images like it can be up to about "
        f"{side:,} × {side:,} pixels now; close other programs or crop the image"
    )
