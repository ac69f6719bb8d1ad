"""Reading a structure file and preparing one of its blocks, with the offer of more time.

Both steps run in the reader's time-limited child process (a crash in native code there costs a
message, not the window), each in its own latest-wins slot. A step that runs out of time, or a
symmetry search stopped early, is offered again with a longer limit ("Try with more time").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop.panes.structure.jobs import OutOfTime, prepare_block, read_file
from desktop.workers import JobSlot
from inference.structures.io import ReadOptions, more_time

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from desktop.panes.base import AppContext
    from inference.structures.analysis import CellVariant
    from inference.structures.io import StructureFile
    from inference.structures.model import StructureBlock
    from inference.structures.prepared import PreparedStructure


class StructureReading(QObject):
    read_started = Signal()  # the work on the structure shown so far is of no use now
    loaded = Signal(object)  # StructureFile
    read_failed = Signal()  # the file was not read (an error, out of time or cancelled)
    prepared = Signal(object)  # PreparedStructure
    more_time_offered = Signal(object)  # minutes the next try may take; None: nothing offered

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.open_slot = JobSlot(context.jobs, parent=self)
        self.prepare_slot = JobSlot(context.jobs, parent=self)
        self.time_limit_s = ReadOptions().timeout_s  # reading and the symmetry search, each
        self._retry: Callable[[], None] | None = None  # what "Try with more time" runs again

    def open(self, path: Path) -> None:
        """Read a file the person chose, with the default time limit."""
        self.time_limit_s = ReadOptions().timeout_s
        self.read(path)

    def read(self, path: Path) -> None:
        self.read_started.emit()
        self.prepare_slot.discard()  # it may hold the child
        self._offer_more_time(None)
        self.open_slot.submit(
            read_file,
            path,
            self.time_limit_s,
            label=f"Reading {path.name}",
            on_result=lambda result: self._read_done(path, result),
            on_error=self._read_error,
            on_cancelled=lambda: self._read_stopped(path),
            name="structure read",
        )

    def _read_error(self, report) -> None:
        self.context.show_error(report)
        self.read_failed.emit()

    def _read_stopped(self, path: Path) -> None:
        self.context.show_status(f"Stopped reading {path.name}")
        self.read_failed.emit()

    def _read_done(self, path: Path, result: StructureFile | OutOfTime) -> None:
        if isinstance(result, OutOfTime):
            self.context.show_error(result.message)
            self._offer_more_time(lambda: self.read(path))
            self.read_failed.emit()
            return
        self.loaded.emit(result)

    def prepare(
        self,
        block: StructureBlock,
        variant: CellVariant,
        symprec: float,
        path: Path,
        again: Callable[[], None],
    ) -> None:
        """Find the block's symmetry and bonds; `again` is what "Try with more time" runs
        (the caller asks anew for the block and settings shown then)."""
        self.prepare_slot.submit(
            prepare_block,
            block,
            variant,
            symprec,
            path,
            self.time_limit_s,
            label=f"Finding the symmetry and bonds of {block.name}",
            on_result=lambda result: self._prepared(result, again),
            on_error=self.context.show_error,
            name="structure prepare",
        )

    def _prepared(self, result: PreparedStructure | OutOfTime, again: Callable[[], None]) -> None:
        if isinstance(result, OutOfTime):
            self.context.show_error(result.message)
            self._offer_more_time(again)
            return
        self._offer_more_time(again if result.symmetry_stopped_s else None)
        self.prepared.emit(result)

    def _offer_more_time(self, retry: Callable[[], None] | None) -> None:
        self._retry = retry
        self.more_time_offered.emit(None if retry is None else more_time(self.time_limit_s) / 60)

    def try_with_more_time(self) -> None:
        """Run the read or the symmetry search that ran out of time again, with more time."""
        retry, self._retry = self._retry, None
        self.more_time_offered.emit(None)
        if retry is not None:
            self.time_limit_s = more_time(self.time_limit_s)
            retry()


def opened_message(loaded: StructureFile) -> str:
    """The status line for a file just read: its name, its blocks, those skipped and why."""
    parts = [f"Opened {loaded.path.name}"]
    if len(loaded.blocks) > 1:
        parts.append(f"{len(loaded.blocks)} structures: choose one in the list")
    if loaded.skipped:
        first = loaded.skipped[0]
        more = f" and {len(loaded.skipped) - 1} more" if len(loaded.skipped) > 1 else ""
        parts.append(f"block '{first.name}' skipped: {first.reason}{more}")
    return "; ".join(parts)
