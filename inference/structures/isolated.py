"""Symmetry and bonds of a person's file, computed in the reader's child process.

spglib and pymatgen's compiled neighbour search are native code: on a cell that slipped past
validation they can crash the process that calls them. Run there, a crash kills only the child
and becomes one line (`ChildCrashed`), and a search that runs too long on a huge cell is stopped
(`TooSlow`) instead of holding a core until the app exits. The window and `matlens structure`
both call these; `time_limit_s=0` runs in this process (tests, and callers that already are a
child).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.structures.analysis import DEFAULT_SYMPREC, CellVariant, StructureInfo
from inference.structures.io import too_slow
from inference.structures.timelimit import ParseTimeout, default_runner

if TYPE_CHECKING:
    import os

    from inference.structures.model import ReadOptions, SkippedBlock, StructureBlock
    from inference.structures.prepared import AnalysedBlock, PreparedStructure

PREPARE = "inference.structures.prepared:prepare"
ANALYSE = "inference.structures.prepared:analyse_block"
SUMMARIZE = "inference.structures.isolated:summarize_file"


@dataclass(frozen=True)
class BlockSummary:
    """What `structure info` prints for one block (no pymatgen objects: cheap to send)."""

    name: str
    info: StructureInfo
    notices: tuple[str, ...]


@dataclass(frozen=True)
class FileSummary:
    path: Path
    format: str
    blocks: tuple[BlockSummary, ...]
    skipped: tuple[SkippedBlock, ...]


def summarize_file(
    path: str | os.PathLike[str],
    options: ReadOptions,
    choice: str | None = None,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
) -> FileSummary:
    """Read the file and analyse every block (or the chosen one), in this process."""
    from inference.structures.prepared import analyse_block
    from inference.structures.reader import read_structures

    loaded = read_structures(path, replace(options, timeout_s=0))
    blocks = loaded.blocks if choice is None else (loaded.block(choice),)
    summaries = []
    for block in blocks:
        analysed = analyse_block(block, variant, symprec)
        summaries.append(BlockSummary(block.name, analysed.info, analysed.notices))
    return FileSummary(loaded.path, loaded.format, tuple(summaries), loaded.skipped)


def summarize_safely(
    path: str | os.PathLike[str],
    options: ReadOptions,
    choice: str | None = None,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    *,
    cancel: CancelToken | None = None,
) -> FileSummary:
    """`summarize_file` in the child, reading and analysing within `options.timeout_s`."""
    path = Path(path)
    if options.timeout_s <= 0:
        return summarize_file(path, options, choice, variant, symprec)
    if not path.exists():
        from inference.errors import UnreadableFile

        raise UnreadableFile(f"File not found: {path}")
    return _in_child(
        SUMMARIZE,
        str(path),
        options,
        choice,
        variant,
        symprec,
        path=path,
        timeout=options.timeout_s,
        cancel=cancel,
        action="reading and analysing",
    )


def analyse_safely(
    block: StructureBlock,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    *,
    path: Path,
    time_limit_s: float,
    cancel: CancelToken | None = None,
) -> AnalysedBlock:
    """The chosen cell and its info (no bonds), computed in the child."""
    if time_limit_s <= 0:
        from inference.structures.prepared import analyse_block

        return analyse_block(block, variant, symprec)
    return _in_child(
        ANALYSE,
        block,
        variant,
        symprec,
        path=path,
        timeout=time_limit_s,
        cancel=cancel,
        action="analysing",
    )


def prepare_safely(
    block: StructureBlock,
    variant: CellVariant = "as-read",
    symprec: float = DEFAULT_SYMPREC,
    *,
    path: Path,
    time_limit_s: float,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PreparedStructure:
    """Cell, symmetry and bonds for the window, computed in the child. When the symmetry search
    runs out of time (spglib is slow on cells of many thousand atoms) the structure still
    comes back, without a space group, with `symmetry_stopped_s` set and a notice."""
    if time_limit_s <= 0:
        from inference.structures.prepared import prepare

        return prepare(block, variant, symprec, progress=progress, cancel=cancel)
    runner = default_runner()
    progress(0.1, f"finding the space group of {block.name}")
    try:
        return runner.call(
            PREPARE,
            block,
            variant,
            symprec,
            True,
            timeout=time_limit_s,
            cancel=cancel,
            what=path.name,
            action="analysing",
        )
    except ParseTimeout:
        pass
    progress(0.6, "the symmetry search ran out of time: finding bonds without it")
    prepared = _in_child(
        PREPARE,
        block,
        variant,
        symprec,
        False,
        path=path,
        timeout=time_limit_s,
        cancel=cancel,
        action="analysing",
    )
    atoms = len(block.structure)
    notice = (
        f"the space group search was stopped after {time_limit_s:g} s ({atoms:,} atoms): "
        "no space group or Wyckoff positions; give it more time to let it finish"
    )
    return replace(prepared, notices=(*prepared.notices, notice), symmetry_stopped_s=time_limit_s)


def _in_child(
    fn: str,
    *args: Any,
    path: Path,
    timeout: float,
    cancel: CancelToken | None,
    action: str,
) -> Any:
    """`fn(*args)` in the reader's child process; out of time, the one line that names the
    file and offers more time."""
    try:
        return default_runner().call(
            fn, *args, timeout=timeout, cancel=cancel, what=path.name, action=action
        )
    except ParseTimeout as exc:
        raise too_slow(path, exc.timeout_s, action) from None
