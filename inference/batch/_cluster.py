"""Items on dask.distributed: a LocalCluster of worker processes, or a running cluster.

A worker that dies mid-item (kill -9, out of memory) is noticed by the scheduler, which hands
its item to another worker; the task counts the tries that died (`_store`) and gives up after
`MAX_TRIES`. Cancel sets a dask Event that running tasks check, and cancels the rest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.batch._model import MAX_TRIES, Item, ItemResult, Where, Workload
from inference.batch._task import killed_reason, run_item, worker_info
from inference.errors import JobCancelled, MatLensError, describe
from inference.jobs import CancelToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from distributed import Client

    from inference.batch._tally import Tally
    from inference.jobs import CancelToken

WORKERS_EVERY = 2.0  # seconds between asking the scheduler how many workers there are
CONNECT_TIMEOUT = 10  # seconds to reach a scheduler


def model_threads(workers: int, cores: int | None = None) -> int:
    """onnxruntime threads per worker process: the cores shared out (MATLENS_THREADS wins)."""
    override = os.environ.get("MATLENS_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, (cores or os.cpu_count() or 1) // max(1, workers))


@contextlib.contextmanager
def connect(where: Where) -> Iterator[Client]:
    """A client of the cluster `where` names; a local cluster is closed with it."""
    import dask.config
    from distributed import Client, LocalCluster

    if where.scheduler:
        try:
            client = Client(where.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise MatLensError(
                f"cannot reach the dask scheduler at {where.scheduler} ({first}); "
                "is `dask scheduler` running there?"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    threads = model_threads(where.workers)
    config = {
        # A worker killed by its item is replaced and the item handed on; the task itself
        # fails the item on the try after MAX_TRIES deaths, with a clear reason.
        "distributed.scheduler.allowed-failures": MAX_TRIES,
        # Reading a structure starts a time-limited child process (a crash in a user's file
        # must not take the worker down), and daemonic processes may not have children.
        "distributed.worker.daemon": False,
    }
    # The settings stay set while the cluster lives: a nanny reads them again when it restarts
    # a worker that died.
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=where.workers,
            threads_per_worker=1,  # one item at a time per process; onnxruntime has the cores
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,  # type: ignore[arg-type] - None: no dashboard
            # its small HTTP server (health checks) on a free loopback port, not on 8787
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL,  # the report says what happened to the workers
            env={"MATLENS_THREADS": str(threads)},
        )
        try:
            client = Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def check_workers(client: Client) -> list[str]:
    """Fail at once when a worker cannot import MatLens; notes for version mismatches."""
    import inference

    infos: dict = client.run(worker_info, on_error="return")  # type: ignore[assignment]
    notes = []
    for address, info in infos.items():
        if isinstance(info, BaseException):
            raise MatLensError(
                f"worker {address} cannot run MatLens ({describe(info).message}); "
                "install MatLens on that machine and start its worker from that environment"
            )
        if info.get("matlens") != inference.__version__:
            notes.append(
                f"worker {address} has MatLens {info.get('matlens')}, "
                f"this computer {inference.__version__}"
            )
    return notes


def run_on_cluster(
    where: Where,
    workload: Workload,
    todo: list[Item],
    out_dir: Path,
    digest: str,
    tally: Tally,
    cancel: CancelToken | None,
) -> tuple[bool, str]:
    """Hand the items to the cluster and count what comes back; (cancelled, why stopped)."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed import KilledWorker
    except ImportError:  # older layouts
        from distributed.scheduler import KilledWorker  # type: ignore[no-redef]

    with connect(where) as client:
        check_workers(client)
        run_id = uuid.uuid4().hex[:12]
        event_name = f"matlens-cancel-{run_id}"
        futures = {}
        for item in todo:
            future = client.submit(
                run_item,
                workload,
                item,
                str(out_dir),
                digest,
                event_name,
                key=f"matlens-{workload.kind}-{item.name}-{run_id}",
                pure=False,
            )
            futures[future.key] = (future, item)
        tally.start_clock()
        tally.tell(force=True)
        pending = as_completed([f for f, _ in futures.values()], loop=client.loop)
        asked = 0.0
        try:
            while not pending.is_empty():
                if cancel is not None and cancel.cancelled:
                    _cancel(client, event_name, [f for f, _ in futures.values()])
                    return True, ""
                if client.status not in ("running", "connecting"):
                    return False, f"lost the connection to {where.label}"
                now = time.monotonic()
                if now - asked >= WORKERS_EVERY:
                    asked = now
                    with contextlib.suppress(Exception):
                        tally.workers = len(client.nthreads())  # type: ignore[arg-type]
                batch = pending.next_batch(block=False)
                if not batch:
                    tally.tell()
                    time.sleep(0.05)
                    continue
                for future in batch:
                    item = futures[future.key][1]
                    result = _result_of(future, item, KilledWorker, FutureCancelledError)
                    if result is None:  # cancelled under us: the scheduler restarted or left
                        return False, f"{where.label} dropped the task of {item.label}"
                    tally.record(item, result)
                    if result.state == "failed" and result.fatal:
                        _cancel(client, event_name, [f for f, _ in futures.values()])
                        raise MatLensError(f"{result.worker}: {result.error}")
        except BaseException:
            # KeyboardInterrupt or a fatal error: stop the cluster's work before leaving
            with contextlib.suppress(Exception):
                _cancel(client, event_name, [f for f, _ in futures.values()])
            raise
    return False, ""


def _result_of(future, item: Item, killed_worker, cancelled_error) -> ItemResult | None:
    try:
        return future.result(timeout=30)
    except killed_worker as exc:
        tries = MAX_TRIES + 1
        text = str(exc)
        for word in text.split():
            if word.isdigit():
                tries = int(word)
                break
        return ItemResult(item.name, "failed", killed_reason(tries), tries=tries)
    except cancelled_error:
        return None
    except Exception as exc:  # noqa: BLE001 - e.g. MatLens missing where the task ran
        return ItemResult(item.name, "failed", describe(exc).message)


def _cancel(client: Client, event_name: str, futures: list) -> None:
    """Running tasks see the Event within a second and stop; the rest never start."""
    from distributed import Event

    with contextlib.suppress(Exception):
        Event(event_name, client=client).set()
    client.cancel(futures, force=True)


def each_on_workers(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    where: Where,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, Any]]:
    """`fn(*call)` for every call on the workers `where` names, yielded as `(index, result)`
    in the order they finish (an exception `fn` raised is yielded as the result).

    For jobs smaller than a batch item (a paper to index) that need no outputs on disk: the
    same workers, the same start-up settings and the same Cancel as `run_workload`. Cancel
    drops the calls not started, and closing a local cluster ends the worker processes, so a
    running call stops with them; `JobCancelled` is raised.
    """
    from distributed import as_completed

    with connect(where) as client:
        futures = {
            client.submit(fn, *call, key=f"matlens-call-{uuid.uuid4().hex}", pure=False): index
            for index, call in enumerate(calls)
        }
        pending = as_completed(list(futures), loop=client.loop, with_results=False)
        try:
            while not pending.is_empty():
                if cancel is not None and cancel.cancelled:
                    raise JobCancelled()
                batch = pending.next_batch(block=False)
                if not batch:
                    time.sleep(0.02)
                    continue
                for future in batch:
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001 - the caller decides what it means
                        result = exc
                    yield futures[future], result
        finally:
            with contextlib.suppress(Exception):
                client.cancel(list(futures), force=True)


def papers_on_workers(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    workers: int,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[int, Any]]:
    """`each_on_workers` on `workers` local worker processes: what `Library.update` takes as
    `on_workers` to index papers in parallel."""
    return each_on_workers(fn, calls, Where.local_workers(workers), cancel)
