"""The one worker abstraction: every long job runs an `inference` function on QThreadPool.

The function gets `progress(fraction, message)` and `cancel` (a CancelToken) keyword arguments and
returns its result. The GUI hears about it only through signals, delivered on its own thread.

Two pools, so that a click never waits behind a batch: background work, which runs for minutes
while the person goes on (a batch, indexing a library, Segment everything: slots made with
`background=True`), has a pool of its own, as many threads as cores; every other job (a click's
mask, autosave, opening a file, an export, a page to draw) runs in Qt's global pool, and never
queues: with every thread there taken (by the start-up warm-ups, a long read), it gets one more
for its run. So background work runs no more in parallel than before, and what the person waits
for starts at once.

Panes never start workers directly: each purpose (open a file, decode a mask, render a page) owns
one `JobSlot`, which keeps at most one live job, cancels or queues behind the one before, and
drops every result that is no longer the latest. A `JobBar` (desktop.job_bar) shows the slots'
progress with one Cancel button.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from inference.errors import ErrorReport, JobCancelled, describe
from inference.jobs import CancelToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

_long_pool: QThreadPool | None = None


def long_job_pool() -> QThreadPool:
    """The pool of long jobs, one per process as the global pool is (made on first use)."""
    global _long_pool  # one per process, like QThreadPool.globalInstance()
    if _long_pool is None:
        _long_pool = QThreadPool()
        _long_pool.setObjectName("long jobs")
        _long_pool.setMaxThreadCount(max(1, QThread.idealThreadCount()))
    return _long_pool


def wait_for(workers: Iterable[Worker], msecs: int) -> bool:
    """Block until each of `workers` has finished, `msecs` at most in all; True if they did."""
    deadline = time.monotonic() + msecs / 1000
    return all(worker.wait(max(0.0, deadline - time.monotonic()) * 1000) for worker in workers)


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
        self._ended = threading.Event()  # set once `finished` is emitted, on the pool thread
        self.extra_thread_of: QThreadPool | None = None  # the pool that lent it a thread more
        params = inspect.signature(fn).parameters
        self._wants_progress = "progress" in params
        self._wants_cancel = "cancel" in params

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def is_cancelled(self) -> bool:
        return self.token.cancelled

    @property
    def ended(self) -> bool:
        """The job has run and said `finished` (its slots may not have heard it yet)."""
        return self._ended.is_set()

    def wait(self, msecs: float = 30000) -> bool:
        """Block until this job has ended (queued or running now), `msecs` at most."""
        return self._ended.wait(msecs / 1000)

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
            if self.extra_thread_of is not None:
                self.extra_thread_of.reserveThread()  # the thread lent is the pool's again
            self.signals.finished.emit()
            self._ended.set()


class JobRunner(QObject):
    """Starts workers and keeps them alive until they finish (one per owner, e.g. a pane).

    `long=True` jobs go to `long_pool`, the others to `pool` (see the module's docstring)."""

    busy_changed = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
        long_pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.long_pool = long_pool or long_job_pool()
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
        long: bool = False,
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
        if long:
            self.long_pool.start(worker)
            return worker
        if self.pool.activeThreadCount() >= self.pool.maxThreadCount():
            # Every short thread is taken, by jobs that turned out long (the start-up warm-ups, a
            # slow measure): this one gets a thread more for its run instead of queuing (Qt's
            # releaseThread without reserveThread), given back when it ends.
            self.pool.releaseThread()
            worker.extra_thread_of = self.pool
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
        """Block until every job this runner started has finished (shutdown and tests); other
        runners' jobs in the same pools are not waited for."""
        return wait_for(list(self._active.values()), msecs)


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
    A `background` slot's jobs (a batch, indexing, Segment everything) run in the runner's pool
    of long jobs; every other slot's in the short pool, which they never hold (module docstring).
    """

    changed = Signal()  # busy, label, progress or cancellable changed: job bars redraw

    def __init__(
        self,
        runner: JobRunner,
        *,
        queue_latest: bool = False,
        background: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else runner)
        self._runner = runner
        self._queue_latest = queue_latest
        self._background = background
        self._ticket = 0  # the request whose answers are still wanted
        self._worker: Worker | None = None
        self._worker_ticket = -1
        self._pending: _Request | None = None
        self._started: list[Worker] = []  # this slot's jobs, the stale ones too, till they end
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
    def queued(self) -> bool:
        """A newer request waits for the running job to end (queue_latest)."""
        return self._pending is not None

    @property
    def visible(self) -> bool:
        """Busy with a labelled job (a job bar shows it)."""
        return self._worker is not None and bool(self.label)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every job this slot started has ended (shutdown and tests); other jobs
        in the pool, a batch say, are not waited for. A request queued behind the running job
        starts on the GUI thread afterwards: it is not waited for."""
        return wait_for(self._started, msecs)

    @staticmethod
    def wait_all(slots: Iterable[JobSlot], msecs: int = 30000) -> bool:
        """`wait` for each of `slots`, `msecs` at most in all."""
        return wait_for([worker for slot in slots for worker in slot._started], msecs)

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
            long=self._background,
            **request.kwargs,
        )
        started.append(worker)
        self._started = [w for w in self._started if not w.ended] + [worker]
        self._worker, self._worker_ticket = worker, ticket
        self.label, self.message = request.label, request.label
        self.fraction, self.cancellable = 0.0, request.cancellable
        self.changed.emit()

    def _progress(self, ticket: int, fraction: float, message: str) -> None:
        # A job can outlive its slot (the pane closed while it ran): nothing more to show.
        if not shiboken6.isValid(self) or ticket != self._worker_ticket:
            return
        self.fraction = fraction
        if message:
            self.message = message
        self.changed.emit()

    def _finished(self, worker: Worker) -> None:
        if not shiboken6.isValid(self):
            return
        if worker in self._started:  # not held on to: its arguments may be a whole image
            self._started.remove(worker)
        if worker is not self._worker:
            return  # a job cancelled for a newer one; the newer one owns the slot
        self._worker = None
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(pending)
            return
        self.label, self.message, self.fraction, self.cancellable = "", "", 0.0, False
        self.changed.emit()
