"""Real dask processes for the batch tests: a `dask scheduler` and `dask worker`s started as
separate programs on 127.0.0.1, stopped (their whole process groups) when the test ends.

Also a workload whose one item kills the worker process that runs it, every time: the fault
an out-of-memory kill or a crashing library causes, injected without touching MatLens.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conftest import MODELS_DIR

from inference.batch._predictions import Predictions

if TYPE_CHECKING:
    from inference.batch import Item, ItemOutput

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0  # seconds for the scheduler and workers to come up on a busy machine


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]

    @property
    def worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers]


def _spawn(args: list[str], log: Path, user_dirs: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
        # the workers' own caches, never the user's (the tests' are set per test)
        "MATLENS_CACHE": str(user_dirs / "cache"),
        "MATLENS_DATA": str(user_dirs / "data"),
        "MATLENS_LOGS": str(user_dirs / "logs"),
        "MATLENS_MODELS": MODELS_DIR,
    }
    return subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env=env,
        start_new_session=True,  # its own process group, stopped as one
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL if it lingers; reaped either way."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # children left in the group


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2, threads: int = 1):
    """`dask scheduler` + `dask worker --no-nanny` processes on 127.0.0.1 (one thread each,
    one onnxruntime thread each: the machine is shared)."""
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    started: list[subprocess.Popen] = []
    try:
        scheduler = _spawn(
            [
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            folder / "scheduler.log",
            folder,
        )
        started.append(scheduler)
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.is_file():
            if time.monotonic() > deadline or scheduler.poll() is not None:
                raise RuntimeError((folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        procs = []
        for i in range(workers):
            worker = _spawn(
                [
                    "distributed.cli.dask_worker",
                    address,
                    "--no-nanny",  # the test kills this very process
                    "--nthreads",
                    str(threads),
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(folder / f"w{i}"),
                ],
                folder / f"worker{i}.log",
                folder,
            )
            started.append(worker)
            procs.append(worker)
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT)
        yield Cluster(address, scheduler, procs)
    finally:
        for process in reversed(started):
            stop(process)


def staged_tries(out_dir: Path) -> dict[str, tuple[int, str]]:
    """The tries in progress (their staging folders): folder name -> (worker pid, item)."""
    attempts = out_dir / ".matlens-batch" / "attempts"
    found = {}
    with contextlib.suppress(OSError):
        for entry in attempts.iterdir():
            name, _, where = entry.name.rpartition("@")
            parts = where.split("-")
            if len(parts) >= 3 and parts[-2].isdigit():
                found[entry.name] = (int(parts[-2]), name)
    return found


@dataclass(frozen=True)
class WorkerKillingPredictions(Predictions):
    """Predictions where the structure named `poison` kills its worker process every time."""

    poison: str = ""

    def process(self, item: Item, staging: Path, progress, cancel) -> ItemOutput:
        if item.label == self.poison:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().process(item, staging, progress, cancel)
