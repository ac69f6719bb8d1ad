"""The task: one item, run in this process or on a dask worker. It never raises for a bad item;
it returns an `ItemResult` saying what happened."""

from __future__ import annotations

import time
from pathlib import Path

from inference.batch._cache import model_loads
from inference.batch._model import MAX_TRIES, Item, ItemResult, Workload
from inference.batch._store import OutputStore, worker_id
from inference.errors import JobCancelled, ModelUnavailable, describe
from inference.jobs import CancelToken, ProgressCallback, no_progress


def killed_reason(tries: int) -> str:
    return (
        f"stopped after {tries} tries: each one ended its worker process (killed, or out of memory)"
    )


def run_item(
    workload: Workload,
    item: Item,
    out_dir: str,
    digest: str,
    cancel_event: str = "",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ItemResult:
    """Process one item into a private staging folder and commit it; see `_store`.

    `cancel_event` names a dask Event the driver sets on Cancel (on a worker, `cancel` is None).
    """
    started = time.perf_counter()
    store = OutputStore(Path(out_dir))
    if cancel is None and cancel_event:
        cancel = ClusterCancel(cancel_event)
    if store.done_marker(item, digest) is not None:
        # An earlier try committed, then its worker died before it could say so.
        tries = max(1, store.dead_attempts(item))
        return ItemResult(item.name, "done", tries=tries, worker=worker_id())
    dead = store.dead_attempts(item)
    if dead >= MAX_TRIES:
        return ItemResult(item.name, "failed", killed_reason(dead), tries=dead, worker=worker_id())
    staging = store.begin_attempt(item)
    try:
        if cancel is not None:
            cancel.raise_if_cancelled()
        output = workload.process(item, staging, progress, cancel)
        store.commit(item, digest, staging, output)
    except JobCancelled:
        store.abandon(staging)
        return ItemResult(item.name, "cancelled", tries=dead + 1, worker=worker_id())
    except Exception as exc:  # noqa: BLE001 - a bad item is reported, never stops the run
        store.abandon(staging)
        return ItemResult(
            item.name,
            "failed",
            describe(exc).message,
            tries=dead + 1,
            seconds=time.perf_counter() - started,
            worker=worker_id(),
            fatal=isinstance(exc, ModelUnavailable),
        )
    store.abandon(staging)  # now empty but for what the workload left over
    return ItemResult(
        item.name,
        "done",
        tries=dead + 1,
        seconds=time.perf_counter() - started,
        worker=worker_id(),
        models=tuple(sorted(model_loads().items())),
    )


class ClusterCancel(CancelToken):
    """A cancel token on a dask worker: set when the driver sets the run's dask Event.

    The scheduler is asked at most once a second, from the places the job checks anyway.
    """

    def __init__(self, event_name: str, every: float = 1.0) -> None:
        super().__init__()
        self._name = event_name
        self._every = every
        self._asked = 0.0

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        now = time.monotonic()
        if now - self._asked >= self._every:
            self._asked = now
            try:
                from distributed import Event

                if Event(self._name).is_set():
                    self._event.set()
            except Exception:  # noqa: BLE001 - no scheduler to ask: keep going
                pass
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()


def worker_info() -> dict[str, object]:
    """Run on every worker when a run starts: which MatLens it has, how many threads a model
    gets, and the models it has loaded so far."""
    import os

    import inference
    from inference.batch._cache import model_loads
    from inference.runtime.sessions import cpu_threads

    return {
        "matlens": inference.__version__,
        "pid": os.getpid(),
        "model_threads": cpu_threads(),
        "models": model_loads(),
    }
