"""The smaller electron-microscopy formats rosettasciio reads: MRC, FEI TIA (.emi/.ser), HyperSpy.

Each is a few lines on top of `signals`: the format's reader, lazy, then the shared
image/frame/calibration logic. HyperSpy files are opened here so that the lazy HDF5 handle
is closed after the frame is read.
"""

from __future__ import annotations

from pathlib import Path

from inference.errors import UnreadableFile
from inference.imaging import signals
from inference.imaging.formats import broken
from inference.imaging.micrograph import Micrograph


def _mrc(path: Path) -> list[dict]:
    from rsciio.mrc import file_reader

    return file_reader(str(path), lazy=True)


def _tia(path: Path) -> list[dict]:
    from rsciio.tia import file_reader

    return file_reader(str(path), lazy=True)


def _with_hspy(path: Path, use):
    try:
        import h5py
        from rsciio.hspy._api import HyperspyReader
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
