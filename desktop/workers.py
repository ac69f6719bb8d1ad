"""The one worker abstraction: every long job runs an `inference` function on QThreadPool.

The function gets `progress(fraction, message)` and `cancel` (a CancelToken) keyword arguments and
returns its result. The GUI hears about it only through signals, delivered on its own thread.

Panes never start workers directly: each purpose (open a file, decode a mask, render a page) owns
one `JobSlot`, which keeps at most one live job, cancels or queues behind the one before, and
drops every result that is no longer the latest. A `JobBar` (desktop.job_bar) shows the slots'
progress with one Cancel button.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from inference.errors import ErrorReport, JobCancelled, describe
from inference.jobs import CancelToken

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    progress = Signal(float, str)  # fraction 0..1, message
    result = Signal(object)
    error = Signal(object)  # ErrorReport: one-line message + details
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened


class Worker(QRunnable):
    """Runs `fn(*args, progress=..., cancel=..., **kwargs)` off the GUI thread."""

    def __init__(self, fn: Callable[..., object], *args, name: str = "", **kwargs) -> None:
        super().__init__()
        self.setAutoDelete(False)  # we keep a reference while the job runs
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.name = name or getattr(fn, "__name__", "job")
        self.token = CancelToken()
        self.signals = WorkerSignals()
        params = inspect.signature(fn).parameters
        self._wants_progress = "progress" in params
        self._wants_cancel = "cancel" in params

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.token.cancelled

    def _report_progress(self, fraction: float, message: str = "") -> None:
        self.signals.progress.emit(max(0.0, min(1.0, float(fraction))), message)

    def run(self) -> None:  # runs on a pool thread
        kwargs = dict(self.kwargs)
        if self._wants_progress:
            kwargs["progress"] = self._report_progress
        if self._wants_cancel:
            kwargs["cancel"] = self.token
        try:
            result = self.fn(*self.args, **kwargs)
        except JobCancelled:
            self.signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a readable message
            report = describe(exc)
            log.warning("job %s failed: %s\n%s", self.name, report.message, report.details)
            self.signals.error.emit(report)
        else:
            if self.token.cancelled:
                self.signals.cancelled.emit()
            else:
                self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()


class JobRunner(QObject):
    """Starts workers and keeps them alive until they finish (one per owner, e.g. a pane)."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._active: dict[QObject, Worker] = {}  # keyed by the worker's signals object

    def start(
        self,
        fn: Callable[..., object],
        *args,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[ErrorReport], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        name: str = "",
        **kwargs,
    ) -> Worker:
        worker = Worker(fn, *args, name=name, **kwargs)
        sig = worker.signals
        for signal, slot in (
            (sig.result, on_result),
            (sig.error, on_error),
            (sig.progress, on_progress),
            (sig.cancelled, on_cancelled),
            (sig.finished, on_finished),
        ):
            if slot is not None:
                signal.connect(slot)
        # A bound slot (not a lambda) so Qt drops the connection if this runner is deleted first.
        sig.finished.connect(self._done)
        self._active[sig] = worker
        self.busy_changed.emit(True)
        self.pool.start(worker)
        return worker

    def _done(self) -> None:
        self._active.pop(self.sender(), None)
        if not self._active:
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        return bool(self._active)

    def cancel_all(self) -> None:
        for worker in list(self._active.values()):
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every job has finished (used at shutdown and in tests)."""
        return self.pool.waitForDone(msecs)


@dataclass(frozen=True)
class _Request:
    fn: Callable[..., object]
    args: tuple
    kwargs: dict
    label: str
    cancellable: bool
    on_result: Callable[[Any], None] | None
    on_error: Callable[[ErrorReport], None] | None
    on_cancelled: Callable[[], None] | None
    name: str


class JobSlot(QObject):
    """One job at a time for one purpose; the latest request wins.

    - `submit` while a job runs: by default the running job is cancelled and the new one starts
      at once. With `queue_latest=True` (cheap jobs such as decoding a mask after each click)
      the running job finishes, its result is dropped, and only the newest request waits to run
      once more; requests in between are never run.
    - `discard` (a new file was opened): cancel, forget anything queued, deliver nothing more.
    - Results, errors and cancellations arrive only for the latest request; a stale job's are
      dropped, so a slow answer for paper A can never land after paper B was opened.

    `label` non-empty makes the job visible in a JobBar with progress; `cancellable` offers Cancel.
    """

    changed = Signal()  # busy, label, progress or cancellable changed: job bars redraw

    def __init__(
        self,
        runner: JobRunner,
        *,
        queue_latest: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else runner)
        self._runner = runner
        self._queue_latest = queue_latest
        self._ticket = 0  # the request whose answers are still wanted
        self._worker: Worker | None = None
        self._worker_ticket = -1
        self._pending: _Request | None = None
        self.label = ""
        self.message = ""
        self.fraction = 0.0
        self.cancellable = False

    # the public face ---------------------------------------------------------------------------
    def submit(
        self,
        fn: Callable[..., object],
        *args: object,
        label: str = "",
        cancellable: bool = True,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[ErrorReport], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        name: str = "",
        **kwargs: object,
    ) -> None:
        request = _Request(
            fn, args, kwargs, label, cancellable, on_result, on_error, on_cancelled, name
        )
        self._ticket += 1  # whatever runs now is stale
        if self._worker is not None:
            if self._queue_latest:
                self._pending = request
                return
            self._worker.cancel()
        self._pending = None
        self._start(request)

    def cancel(self) -> None:
        """The user's Cancel: the running job stops and reports `on_cancelled`; nothing queued runs."""
        self._pending = None
        if self._worker is not None and self.cancellable:
            self._worker.cancel()

    def discard(self) -> None:
        """Cancel and forget: nothing more is delivered from jobs submitted so far."""
        self._ticket += 1
        self._pending = None
        if self._worker is not None:
            self._worker.cancel()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def visible(self) -> bool:
        """Busy with a labelled job (a job bar shows it)."""
        return self._worker is not None and bool(self.label)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (shutdown and tests)."""
        return self._runner.wait(msecs)

    # running -----------------------------------------------------------------------------------
    def _start(self, request: _Request) -> None:
        ticket = self._ticket

        def deliver(callback: Callable[..., None] | None, *value: object) -> None:
            if callback is not None and ticket == self._ticket:
                callback(*value)

        def report(error: ErrorReport) -> None:
            deliver(request.on_error, error)

        # `finished` is connected before the job starts: a job that fails at once (a bad formula)
        # can emit it before `start` returns, and a signal with no receiver yet is lost, which
        # left the slot busy and the job bar showing it. The queued call runs on this (GUI)
        # thread after `_start` returns, when `started` holds the worker.
        started: list[Worker] = []
        worker = self._runner.start(
            request.fn,
            *request.args,
            on_result=lambda value: deliver(request.on_result, value),
            on_error=report,
            on_progress=lambda fraction, message: self._progress(ticket, fraction, message),
            on_cancelled=lambda: deliver(request.on_cancelled),
            on_finished=lambda: self._finished(started[0]),
            name=request.name or request.label,
            **request.kwargs,
        )
        started.append(worker)
        self._worker, self._worker_ticket = worker, ticket
        self.label, self.message = request.label, request.label
        self.fraction, self.cancellable = 0.0, request.cancellable
        self.changed.emit()

    def _progress(self, ticket: int, fraction: float, message: str) -> None:
        if ticket != self._worker_ticket:
            return
        self.fraction = fraction
        if message:
            self.message = message
        self.changed.emit()

    def _finished(self, worker: Worker) -> None:
        if worker is not self._worker:
            return  # a job cancelled for a newer one; the newer one owns the slot
        self._worker = None
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)
            return
        self.label, self.message, self.fraction, self.cancellable = "", "", 0.0, False
        self.changed.emit()
