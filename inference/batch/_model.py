"""What crosses between the driver, the workers and the callers: items, outputs, results, reports.

Everything here is a frozen dataclass of plain values, so it pickles to a dask worker and back
and prints as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from inference.jobs import CancelToken, ProgressCallback

MAX_TRIES = 3  # an item whose tries all ended their worker is failed after this many


@dataclass(frozen=True)
class Item:
    """One task: one file, or one slice of a table."""

    name: str  # unique in the run and safe as a file name: names the item's outputs
    label: str  # what a person sees: the file name, or "rows 1-500"
    source: str  # the input file, as an absolute path every worker can read
    stamp: str  # changes when the input changes (size and mtime, or a hash of the rows)
    payload: tuple[str, ...] = ()  # the data itself when it is small (a slice of a CSV)


@dataclass(frozen=True)
class ItemOutput:
    """What a workload's `process` wrote into its private staging folder."""

    files: tuple[str, ...]  # paths relative to the output folder
    result: dict[str, Any] = field(default_factory=dict)  # JSON the merge reads back


ItemState = Literal["done", "failed", "cancelled"]


@dataclass(frozen=True)
class ItemResult:
    """What a task tells the driver (a task never raises for a bad item)."""

    name: str
    state: ItemState
    error: str = ""  # one line, when failed
    tries: int = 1  # this try plus the earlier ones that ended their worker
    seconds: float = 0.0
    worker: str = ""  # host:pid
    fatal: bool = False  # a missing model: every item would fail alike, so the run stops
    models: tuple[tuple[str, int], ...] = ()  # (model, times loaded) in that worker so far


@dataclass(frozen=True)
class MergeResult:
    """The merged files, and lines for the report (e.g. rows of a CSV that had errors)."""

    outputs: tuple[str, ...]
    notes: tuple[str, ...] = ()
    failed_parts: int = 0  # rows inside an item that failed (a CSV's bad compositions)


class Workload(Protocol):
    """A kind of batch. Instances are frozen dataclasses: they travel to the workers."""

    @property
    def kind(self) -> str: ...  # "micrographs", "papers", "predictions"

    @property
    def source(self) -> str: ...  # the input folder or file, for the report

    def settings(self) -> dict[str, Any]: ...  # hashed: a change redoes every item

    def items(self) -> list[Item]: ...  # on the driver

    def prepare(self, out_dir: Path) -> None: ...  # on the driver, before any item

    def process(  # on a worker: write the item's files into `staging`
        self, item: Item, staging: Path, progress: ProgressCallback, cancel: CancelToken | None
    ) -> ItemOutput: ...

    def merge(  # on the driver, from the per-item outputs: every item, in input order, with
        # the result of each item done (from its marker) and the failure of each failed one
        self,
        out_dir: Path,
        items: list[Item],
        done: dict[str, dict[str, Any]],
        failed: dict[str, ItemFailure],
    ) -> MergeResult: ...


@dataclass(frozen=True)
class Where:
    """Where the items run: in this process (the default), on N local worker processes, or on
    an existing dask cluster."""

    workers: int = 0  # local worker processes; 0 with no scheduler: in this process
    scheduler: str = ""  # tcp://host:8786 of a running `dask scheduler`

    @classmethod
    def this_process(cls) -> Where:
        return cls()

    @classmethod
    def local_workers(cls, n: int) -> Where:
        return cls(workers=n)

    @classmethod
    def cluster(cls, address: str) -> Where:
        return cls(scheduler=address)

    @property
    def embedded(self) -> bool:
        return not self.workers and not self.scheduler

    @property
    def label(self) -> str:
        if self.scheduler:
            return f"the cluster at {self.scheduler}"
        if self.workers:
            plural = "es" if self.workers > 1 else ""
            return f"{self.workers} worker process{plural} of this computer"
        return "this computer (one process)"


THIS_PROCESS = Where()


@dataclass(frozen=True)
class ItemFailure:
    file: str  # the item's label
    reason: str  # one line
    tries: int = 1


@dataclass(frozen=True)
class ItemRetry:
    """An item done after earlier tries ended their worker (killed, out of memory)."""

    file: str
    tries: int


@dataclass(frozen=True)
class ItemEvent:
    """One item finished (or was found done): for a per-item list in the GUI."""

    name: str
    label: str
    state: Literal["done", "skipped", "failed"]
    error: str = ""
    tries: int = 1
    worker: str = ""


@dataclass(frozen=True)
class BatchProgress:
    """The figures the CLI bar and the GUI show."""

    total: int
    done: int  # this run
    skipped: int  # done in an earlier run
    failed: int
    elapsed: float  # seconds since the first item was handed out
    current: float = 0.0  # fraction of the item in progress (this process only)
    workers: int = 1

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def fraction(self) -> float:
        if not self.total:
            return 1.0
        return min(1.0, (self.finished + self.current) / self.total)

    @property
    def rate(self) -> float:
        """Items per second in this run (items found done are not counted)."""
        worked = self.done + self.failed + self.current
        return worked / self.elapsed if self.elapsed > 0 and worked > 0 else 0.0

    @property
    def seconds_left(self) -> float | None:
        left = self.total - self.finished - self.current
        if left <= 0:
            return 0.0
        return left / self.rate if self.rate > 0 else None

    @property
    def counts(self) -> str:
        """Items done and failed, without the rate and the time left (a run that stopped)."""
        done = f"{self.done + self.skipped}/{self.total} done"
        return f"{done} · {self.failed} failed" if self.failed else done

    @property
    def message(self) -> str:
        parts = [self.counts]
        if self.rate:
            parts.append(
                f"{self.rate:.2f} items/s" if self.rate < 10 else f"{self.rate:.0f} items/s"
            )
        left = self.seconds_left
        if left is not None and self.finished < self.total:
            parts.append(f"{_clock(left)} left")
        if not self.workers:
            parts.append("waiting for workers")
        return " · ".join(parts)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class BatchReport:
    workload: str
    input: str
    out_dir: str
    where: str
    items: int
    done: tuple[str, ...]  # labels of the items done in this run
    skipped: tuple[str, ...]  # already done with the same settings
    failures: tuple[ItemFailure, ...]
    retried: tuple[ItemRetry, ...]  # done after a worker died under them
    cancelled: bool
    stopped: str  # why the run stopped early ("" when it ran to the end or was cancelled)
    outputs: tuple[str, ...]  # the merged files
    notes: tuple[str, ...]
    seconds: float
    models_loaded: dict[str, dict[str, int]] = field(default_factory=dict)  # worker: model: n
    # Rows inside items that failed (3 bad compositions of a CSV, which is one item): not ok,
    # as a failed item is not (the run of such a CSV said exit 0).
    failed_parts: int = 0

    @property
    def left(self) -> int:
        return self.items - len(self.done) - len(self.skipped) - len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.left and not self.failed_parts

    @property
    def message(self) -> str:
        """One line for the status bar and the terminal."""
        parts = [f"{len(self.done)} done"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already done")
        if self.retried:
            died = sum(r.tries - 1 for r in self.retried)
            parts.append(
                f"{len(self.retried)} retried after {died} worker{'s' if died > 1 else ''} died"
            )
        if self.failures:
            parts.append(f"{len(self.failures)} failed (see failures.csv)")
        if self.cancelled:
            parts.append(f"cancelled with {self.left} left; run again to resume")
        elif self.stopped:
            parts.append(f"stopped with {self.left} left ({self.stopped}); run again to resume")
        merged = f"; results in {Path(self.outputs[0]).name}" if self.outputs else ""
        noun = "item" if self.items == 1 else "items"
        return f"{self.items} {noun} on {self.where}: {', '.join(parts)}{merged}"

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "left": self.left, "message": self.message}
