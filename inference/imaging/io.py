"""Open any supported micrograph file: the one entry point for the GUI, the CLI and tests.

Every failure leaves as `UnreadableFile` with one line naming the file, never a traceback:
the Micrographs pane shows it in the status bar and the CLI prints it with exit code 2.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import JobCancelled, MatLensError, UnreadableFile, UnsupportedFormat
from inference.imaging import formats, io_dm, io_emd, io_plain, io_rsciio, io_tiff
from inference.imaging.formats import FILE_DIALOG_FILTER, SUPPORTED_EXTENSIONS
from inference.imaging.micrograph import Micrograph
from inference.jobs import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    import os
    from types import ModuleType

__all__ = [
    "FILE_DIALOG_FILTER",
    "SUPPORTED_EXTENSIONS",
    "count_frames",
    "is_supported",
    "read_micrograph",
]

_MAX_MESSAGE = 300
log = logging.getLogger(__name__)


def is_supported(path: str | os.PathLike[str]) -> bool:
    """For drag-and-drop routing: does the extension belong to a micrograph format?"""
    return Path(path).suffix.lower() in SUPPORTED_EXTENSIONS


def _one_line(message: str, name: str) -> str:
    text = " ".join(message.split())
    if name not in text:
        text = f"{text}: {name}"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(exc).__name__


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """Turn whatever a library raises into one readable line that names the file."""
    name = path.name
    try:
        yield
    except (JobCancelled, UnsupportedFormat):
        raise  # an unsupported format's line names the file; callers tell it from a broken file
    except MatLensError as exc:
        raise UnreadableFile(_one_line(str(exc), name)) from exc
    except FileNotFoundError as exc:
        raise UnreadableFile(f"file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise UnreadableFile(f"is a folder, not a file: {name}") from exc
    except PermissionError as exc:
        raise UnreadableFile(f"permission denied: {name}") from exc
    except MemoryError as exc:
        raise UnreadableFile(
            f"not enough memory to open {name}; close other programs or crop the image"
        ) from exc
    except ImportError as exc:
        package = exc.name or _first_line(exc)
        raise UnreadableFile(f"reading {name} needs the '{package}' package") from exc
    except Exception as exc:  # the point of this function: no traceback reaches the user
        # A library's own words (KeyError: 2050, addr overflow, ...) help nobody at the
        # microscope; they go to the log with the traceback, the user gets what to do.
        log.warning("reading %s failed", path, exc_info=exc)
        raise formats.unreadable(path, _format_of(path)) from exc


def _format_of(path: Path) -> str:
    """'DM3', 'EMD', 'TIFF'... by content when the extension does not say."""
    name = formats.format_name(path)
    if name != "image":
        return name
    try:
        return {formats.TIFF: "TIFF", formats.DM: "DM", formats.HDF5: "HDF5"}.get(
            formats.family(path), "an image"
        )
    except (MatLensError, OSError):
        return "an image"


Reader = tuple[Callable[[Path, int], Micrograph], Callable[[Path], int]]


def _module(module: ModuleType) -> Reader:
    return module.read, module.count_frames


def _hdf5_reader(path: Path) -> Reader:
    """EMD and HyperSpy are both HDF5: HyperSpy files say so in a root attribute."""
    try:
        import h5py
    except ImportError:
        return _module(io_emd)  # it raises the readable "needs h5py" message
    try:
        h5file = h5py.File(path, "r")
    except OSError as exc:  # h5py's message for a cut file is long and technical
        name = formats.format_name(path)
        raise formats.broken(path, name if name in ("EMD", "HyperSpy") else "HDF5") from exc
    with h5file:
        hyperspy = h5file.attrs.get("file_format") in ("HyperSpy", b"HyperSpy")
    if not hyperspy:
        return _module(io_emd)
    kind = io_rsciio.HYPERSPY
    return (
        lambda p, frame: io_rsciio.read(p, frame, kind),
        lambda p: io_rsciio.count_frames(p, kind),
    )


def _reader(path: Path) -> Reader:
    if path.is_dir():
        raise IsADirectoryError(path)
    family = formats.family(path)
    if family == formats.HDF5:
        return _hdf5_reader(path)
    modules = {
        formats.TIFF: io_tiff,
        formats.PLAIN: io_plain,
        formats.DM: io_dm,
        formats.RSCIIO: io_rsciio,
    }
    return _module(modules[family])


def read_micrograph(
    path: str | os.PathLike[str],
    frame: int = 0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Micrograph:
    """One frame of `path` with its raw values, calibration and metadata."""
    path = Path(path)
    check: Callable[[], None] = cancel.raise_if_cancelled if cancel else lambda: None
    progress(0.0, f"Opening {path.name}")
    check()
    with _readable(path):
        read, _ = _reader(path)
        progress(0.1, f"Reading {path.name}")
        micrograph = read(path, frame)
    check()
    progress(1.0, f"Read {path.name}")
    return micrograph


def count_frames(path: str | os.PathLike[str]) -> int:
    """Frames in the file's image (1 for a single image), without reading the pixels."""
    path = Path(path)
    with _readable(path):
        _, count = _reader(path)
        return int(count(path))
