"""The driver: find the items, skip those done, hand the rest out, count, merge, report.

Items run in this process by default (nothing to start); with `Where.local_workers(n)` on a
dask LocalCluster of n processes on this machine; with `Where.cluster(address)` on a running
dask cluster. All three call the same task (`_task.run_item`) and merge from the same per-item
outputs, so the merged files do not depend on where the items ran.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING

from inference.batch._model import (
    THIS_PROCESS,
    BatchProgress,
    BatchReport,
    Item,
    ItemEvent,
    ItemResult,
    Where,
    Workload,
)
from inference.batch._store import OutputStore, settings_digest
from inference.batch._tally import Tally
from inference.batch._task import run_item
from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    from collections.abc import Callable


def run_workload(
    workload: Workload,
    out_dir: str | Path,
    where: Where = THIS_PROCESS,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_item: Callable[[ItemEvent], None] | None = None,
) -> BatchReport:
    """Run every item not done yet; returns what happened (`cancelled` when stopped).

    `progress(fraction, message)` and `cancel` as for any MatLens job; `on_progress` gets the
    figures (done, failed, rate, time left) and `on_item` each item as it finishes.
    """
    started = time.perf_counter()
    check_where(where)
    out_dir = Path(out_dir)
    items = workload.items()
    if len({i.name for i in items}) != len(items):
        raise MatLensError("two items would write the same outputs")  # a workload bug
    if out_dir.is_file():
        raise MatLensError(f"{out_dir} is a file: choose a folder for the outputs")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MatLensError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    workload.prepare(out_dir)
    store = OutputStore(out_dir)
    store.lock()
    digest = settings_digest(workload.kind, workload.settings())
    manifest = {
        "format": "matlens-batch-manifest",
        "version": 1,
        "workload": workload.kind,
        "input": str(workload.source),
        "settings": workload.settings(),
        "digest": digest,
        "where": where.label,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
    }
    tally = Tally(items, store, manifest, progress, on_progress, on_item)
    cancelled, stopped = False, ""
    merged = None
    try:
        store.clear_attempts()
        todo = []
        for item in items:
            if store.done_marker(item, digest) is not None:
                tally.skip(item)
            else:
                todo.append(item)
        tally.save()
        if where.embedded or not todo:
            tally.tell(force=True)  # a cluster's first figures come once it is reached
        if todo:
            if where.embedded:
                cancelled = _run_here(workload, todo, out_dir, digest, tally, cancel)
            else:
                from inference.batch._cluster import run_on_cluster

                cancelled, stopped = run_on_cluster(
                    where, workload, todo, out_dir, digest, tally, cancel
                )
        if not cancelled and not stopped:
            store.clear_attempts()  # every task has ended: what is left are tries that died
    finally:
        done = {}
        for item in items:
            marker = store.done_marker(item, digest)
            if marker is not None:
                done[item.name] = marker.get("result") or {}
                if tally.states[item.name]["state"] != "done":  # finished as the run stopped
                    tally.states[item.name] = {"state": "done"}
        failed = {n: f for n, f in tally.failures.items() if n not in done}
        try:
            merged = workload.merge(out_dir, items, done, failed)
        finally:
            tally.save(final=True)
            store.unlock()
    tally.current = 0.0
    tally.tell("batch cancelled" if cancelled else "batch finished", force=True)
    progress(1.0, "batch cancelled" if cancelled else "batch finished")
    return BatchReport(
        workload=workload.kind,
        input=str(workload.source),
        out_dir=str(out_dir),
        where=where.label,
        items=len(items),
        done=tuple(tally.done),
        skipped=tuple(tally.skipped),
        failures=tuple(tally.failures[i.name] for i in items if i.name in failed),
        retried=tuple(tally.retried),
        cancelled=cancelled,
        stopped=stopped,
        outputs=merged.outputs,
        notes=merged.notes,
        seconds=time.perf_counter() - started,
        models_loaded=tally.models,
        failed_parts=merged.failed_parts,
    )


def check_where(where: Where) -> None:
    if where.workers and where.scheduler:
        raise MatLensError("give either a number of local workers or a scheduler, not both")
    if where.workers < 0:
        raise MatLensError("the number of workers must be at least 1")
    if where.scheduler:
        address = where.scheduler
        scheme, _, rest = address.rpartition("://")
        host, _, port = rest.rpartition(":")
        if scheme not in ("", "tcp", "tls") or not host or not port.isdigit():
            raise MatLensError(
                f"'{address}' is not a scheduler address (expected tcp://HOST:PORT, "
                "e.g. tcp://192.168.1.10:8786)"
            )


def _run_here(
    workload: Workload,
    todo: list[Item],
    out_dir: Path,
    digest: str,
    tally: Tally,
    cancel: CancelToken | None,
) -> bool:
    """Item after item in this process; True when cancelled."""
    for item in todo:
        if cancel is not None and cancel.cancelled:
            return True

        def item_progress(fraction: float, message: str = "", label: str = item.label) -> None:
            tally.current = max(0.0, min(1.0, fraction))
            tally.tell(f"{label}: {message}" if message else "")

        tally.tell(f"{item.label}: starting", force=True)
        result = run_item(
            workload, item, str(out_dir), digest, progress=item_progress, cancel=cancel
        )
        if result.state == "cancelled":
            return True
        tally.record(item, result)
        _stop_if_fatal(result)
    return False


def _stop_if_fatal(result: ItemResult) -> None:
    """A missing model is no bad item: every item would fail the same way, so stop."""
    if result.state == "failed" and result.fatal:
        raise MatLensError(result.error)
