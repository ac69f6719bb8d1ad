"""Open a structure file: the one entry point for the GUI, the CLI and tests.

`load_structures` parses in a child process with a time limit (see `timelimit`), so a malformed
file that hangs pymatgen costs the person a message, not a frozen job. Every failure is an
`UnreadableFile` with one line naming the file. The parser is named by string, so this process
does not even import pymatgen's CIF code: only the child does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import UnreadableFile
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.capacity import LARGE_SITES, count_atom_lines
from inference.structures.formats import FILE_DIALOG_FILTER, is_structure_file
from inference.structures.model import ReadOptions, SkippedBlock, StructureBlock, StructureFile
from inference.structures.timelimit import ParseTimeout, default_runner

if TYPE_CHECKING:
    import os

__all__ = [
    "FILE_DIALOG_FILTER",
    "ReadOptions",
    "SkippedBlock",
    "StructureBlock",
    "StructureFile",
    "TooSlow",
    "is_structure_file",
    "load_structures",
    "more_time",
    "start_reader",
]

READER = "inference.structures.reader:read_structures"


class TooSlow(ParseTimeout):
    """Reading or analysing a file ran out of time; `large` tells a big file from a broken one
    and `more_time_s` is the limit to offer next."""

    def __init__(self, message: str, timeout_s: float, large: bool) -> None:
        super().__init__(message, timeout_s)
        self.large = large
        self.more_time_s = more_time(timeout_s)


def more_time(timeout_s: float) -> float:
    """The next time limit to offer: ten times as long, at least five minutes."""
    return max(300.0, 10.0 * timeout_s)


def too_slow(path: Path, timeout_s: float, action: str = "reading") -> TooSlow:
    """The time-out message: a large file is said to be large (not malformed), with more time
    offered; a small one that still hangs is probably malformed."""
    atoms = count_atom_lines(path)
    if atoms is not None and atoms >= LARGE_SITES:
        return TooSlow(
            f"{path.name} is large ({atoms:,} atoms listed), not malformed: {action} it took "
            f"longer than {timeout_s:g} s and was stopped; give it more time",
            timeout_s,
            large=True,
        )
    return TooSlow(
        f"{action} {path.name} took longer than {timeout_s:g} s and was stopped: the file is "
        "probably malformed, or needs more time",
        timeout_s,
        large=False,
    )


def load_structures(
    path: str | os.PathLike[str],
    options: ReadOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> StructureFile:
    """Read every structure in the file, stopping the parser after `options.timeout_s`
    (0: parse here, without a time limit)."""
    path = Path(path)
    options = options or ReadOptions()
    if not path.exists():
        raise UnreadableFile(f"File not found: {path}")
    progress(0.05, f"reading {path.name}")
    if options.timeout_s <= 0:
        from inference.structures.reader import read_structures

        result = read_structures(path, options)
    else:
        try:
            result = default_runner().call(
                READER, str(path), options, timeout=options.timeout_s, cancel=cancel, what=path.name
            )
        except ParseTimeout as exc:
            raise too_slow(path, exc.timeout_s) from None
    progress(1.0, "")
    return result


# What this process needs once a structure comes back from the child: pymatgen's classes to
# unpickle it into.
PARENT_PRELOAD = ("pymatgen.core",)


def start_reader(
    progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> None:
    """Make the first open fast: start the reader's child process (its Python and pymatgen
    load there) and import what this process needs afterwards. The window runs this in the
    background at start-up; a file opened meanwhile waits for the start instead of a second one."""
    import importlib

    progress(0.0, "starting the structure reader")
    default_runner().start(cancel)
    for name in PARENT_PRELOAD:
        if cancel is not None:
            cancel.raise_if_cancelled()
        importlib.import_module(name)
    progress(1.0, "")
