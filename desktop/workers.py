"""The one worker abstraction: every long job runs an `inference` function on QThreadPool.

The function gets `progress(fraction, message)` and `cancel` (a CancelToken) keyword arguments and
returns its result. The GUI hears about it only through signals, delivered on its own thread.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from inference.errors import ErrorReport, JobCancelled, describe
from inference.jobs import CancelToken

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
        self._active: dict[WorkerSignals, Worker] = {}

    def start(
        self,
        fn: Callable[..., object],
        *args,
        on_result: Callable[[object], None] | None = None,
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
