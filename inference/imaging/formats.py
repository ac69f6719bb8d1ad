"""Which reader a file needs: by its first bytes when they are distinctive, else by extension.

Files get renamed (a PNG saved as .tif, a TIFF without extension), so a strong signature
(TIFF, PNG, JPEG, GIF, HDF5) wins over the extension. Weak signatures (BMP's "BM", DM's
version number) are trusted only when no strong one matched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.errors import UnreadableFile

if TYPE_CHECKING:
    from pathlib import Path

# Reader families: io.py maps each to a module.
TIFF, PLAIN, DM, HDF5, RSCIIO = "tiff", "plain", "dm", "hdf5", "rsciio"

_EXTENSIONS: dict[str, tuple[str, str]] = {
    ".tif": (TIFF, "TIFF"),
    ".tiff": (TIFF, "TIFF"),
    ".png": (PLAIN, "PNG"),
    ".jpg": (PLAIN, "JPEG"),
    ".jpeg": (PLAIN, "JPEG"),
    ".bmp": (PLAIN, "BMP"),
    ".gif": (PLAIN, "GIF"),
    ".dm3": (DM, "DM3"),
    ".dm4": (DM, "DM4"),
    ".emd": (HDF5, "EMD"),
    ".hspy": (HDF5, "HyperSpy"),
    ".hdf5": (HDF5, "HyperSpy"),  # HyperSpy's extension before 1.6, still in atomap's data
    ".mrc": (RSCIIO, "MRC"),
    ".emi": (RSCIIO, "TIA"),
    ".ser": (RSCIIO, "TIA"),
}

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_EXTENSIONS)
FORMAT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(name for _, name in _EXTENSIONS.values()))
FILE_DIALOG_FILTER = (
    "Micrographs (" + " ".join(f"*{ext}" for ext in SUPPORTED_EXTENSIONS) + ");;All files (*)"
)

_STRONG = (
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"\x89PNG\r\n\x1a\n", PLAIN),
    (b"\xff\xd8\xff", PLAIN),
    (b"GIF87a", PLAIN),
    (b"GIF89a", PLAIN),
    (b"\x89HDF\r\n\x1a\n", HDF5),
)
_WEAK = ((b"BM", PLAIN), (b"\x00\x00\x00\x03", DM), (b"\x00\x00\x00\x04", DM))


def unsupported(path: Path) -> UnreadableFile:
    suffix = f"'{path.suffix}'" if path.suffix else "(no extension)"
    names = ", ".join(FORMAT_NAMES)
    return UnreadableFile(f"unsupported format {suffix} (MatLens reads {names}): {path.name}")


def format_name(path: Path) -> str:
    return _EXTENSIONS.get(path.suffix.lower(), ("", "image"))[1]


def broken(path: Path, name: str | None = None) -> UnreadableFile:
    """'not a TIFF file or truncated: x.tif': the file lacks its format's structure."""
    name = name or format_name(path)
    article = "an" if name in ("EMD", "MRC", "HDF5", "image") else "a"
    return UnreadableFile(f"not {article} {name} file or truncated: {path.name}")


def damaged(path: Path, name: str, what: str) -> UnreadableFile:
    """'x.tif is a damaged TIFF file: <what>; ...': the structure is there but contradicts itself."""
    return UnreadableFile(
        f"{path.name} is a damaged {name} file: {what}; copy it again from the original "
        "or export it again from the microscope software"
    )


def unreadable(path: Path, name: str) -> UnreadableFile:
    """For what a reading library could not make sense of: its own words go to the log."""
    return UnreadableFile(
        f"{path.name} could not be read as {name}: the file is damaged or written in a way "
        "MatLens does not know; copy it again or export it as TIFF (details in the log)"
    )


def family(path: Path) -> str:
    """The reader family for `path`, or a one-line UnreadableFile saying why there is none."""
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(f"empty file (0 bytes): {path.name}")
    with path.open("rb") as handle:
        head = handle.read(16)
    for magic, fam in _STRONG:
        if head.startswith(magic):
            return fam
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    weak = next((fam for magic, fam in _WEAK if head.startswith(magic)), None)
    if by_extension is None:
        if weak is None:
            raise unsupported(path)
        return weak
    fam, name = by_extension
    if fam == RSCIIO:
        return fam  # MRC and TIA have no signature at offset 0; rosettasciio checks them
    if weak is not None:
        return weak
    raise broken(path, name)
