"""The smaller electron-microscopy formats rosettasciio reads: MRC, FEI TIA (.emi/.ser), HyperSpy.

Each is a few lines on top of `signals`: the format's reader, lazy, then the shared
image/frame/calibration logic. HyperSpy files are opened here so that the lazy HDF5 handle
is closed after the frame is read.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from inference.errors import UnreadableFile
from inference.imaging import signals
from inference.imaging.formats import broken, damaged

if TYPE_CHECKING:
    from pathlib import Path

    from inference.imaging.micrograph import Micrograph

_MRC_HEADER = 1024
_MRC_MODE_BYTES = {0: 1, 1: 2, 2: 4, 4: 8, 6: 2, 12: 2}  # the modes rosettasciio reads


def check_mrc_header(path: Path) -> None:
    """Size and pixel type from the header against the file's length, before rosettasciio maps it.

    A cut MRC otherwise fails deep in numpy's memory map ("mmap length is greater than file
    size"), and a flipped size byte can claim gigabytes.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_MRC_HEADER)
    if len(head) < _MRC_HEADER:
        raise damaged(path, "MRC", f"its {_MRC_HEADER}-byte header is cut short")
    nx, ny, nz, mode = struct.unpack("<4i", head[:16])
    extended = struct.unpack("<i", head[92:96])[0]
    if mode not in _MRC_MODE_BYTES:
        raise damaged(path, "MRC", f"its header gives pixel mode {mode}, not an MRC pixel type")
    if min(nx, ny, nz) < 1 or extended < 0:
        raise damaged(path, "MRC", f"its header gives a size of {nx} × {ny} × {nz} pixels")
    promised = nx * ny * nz * _MRC_MODE_BYTES[mode]
    needed = _MRC_HEADER + extended + promised
    if needed > size:
        raise damaged(
            path,
            "MRC",
            f"its header promises {nx} × {ny} × {nz} pixels, {needed:,} bytes with the headers, "
            f"but the file has {size:,} bytes (cut short, or the header is corrupt)",
        )


def _mrc(path: Path) -> list[dict]:
    from rsciio.mrc import file_reader

    signals.quiet_rsciio()

    check_mrc_header(path)
    return file_reader(str(path), lazy=True)


def _tia(path: Path) -> list[dict]:
    from rsciio.tia import file_reader

    signals.quiet_rsciio()

    return file_reader(str(path), lazy=True)


def _with_hspy(path: Path, use):
    try:
        import h5py
        from rsciio.hspy._api import HyperspyReader

        signals.quiet_rsciio()
    except ImportError as exc:
        raise UnreadableFile("reading HyperSpy files needs the 'h5py' package") from exc
    try:
        h5file = h5py.File(path, "r")
    except OSError as exc:
        raise broken(path, "HyperSpy") from exc
    with h5file:
        return use(HyperspyReader(h5file).read(lazy=True))


_FORMATS = {".mrc": ("MRC", _mrc), ".emi": ("TIA", _tia), ".ser": ("TIA", _tia)}
HYPERSPY = "HyperSpy"


def _run(path: Path, kind: str | None, use):
    suffix = path.suffix.lower()
    if kind == HYPERSPY or suffix in (".hspy", ".hdf5", ".h5"):
        return _with_hspy(path, lambda found: use(found, HYPERSPY))
    fmt, load = _FORMATS[suffix]
    return use(load(path), fmt)


def count_frames(path: Path, kind: str | None = None) -> int:
    """`kind` forces HyperSpy for HDF5 files with another extension; else the suffix decides."""
    return _run(
        path, kind, lambda found, fmt: signals.n_frames(signals.pick_image(found, path.name))
    )


def read(path: Path, frame: int = 0, kind: str | None = None) -> Micrograph:
    return _run(path, kind, lambda found, fmt: signals.to_micrograph(found, path, frame, fmt, fmt))
