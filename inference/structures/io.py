"""Open a structure file: the one entry point for the GUI, the CLI and tests.

`load_structures` parses in a child process with a time limit (see `timelimit`), so a malformed
file that hangs pymatgen costs the person a message, not a frozen job. Every failure is an
`UnreadableFile` with one line naming the file. The parser is named by string, so this process
does not even import pymatgen's CIF code: only the child does.
"""

from __future__ import annotations

import os
from pathlib import Path

from inference.errors import UnreadableFile
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.formats import FILE_DIALOG_FILTER, is_structure_file
from inference.structures.model import ReadOptions, SkippedBlock, StructureBlock, StructureFile
from inference.structures.timelimit import default_runner

__all__ = [
    "FILE_DIALOG_FILTER",
    "ReadOptions",
    "SkippedBlock",
    "StructureBlock",
    "StructureFile",
    "is_structure_file",
    "load_structures",
]

READER = "inference.structures.reader:read_structures"


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
        result = default_runner().call(
            READER, str(path), options, timeout=options.timeout_s, cancel=cancel, what=path.name
        )
    progress(1.0, "")
    return result
