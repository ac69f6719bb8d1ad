"""Long jobs never hold up short ones, and closing waits only for what it must.

A batch, indexing a library or Segment everything hold a pool thread for minutes; on a two-core
machine the two threads of Qt's one pool were both taken, so a click's mask appeared 34 s later,
an edit's autosave was not on disk, and closing the window waited for the batch (10 s) before
it even cancelled it. Long jobs run in a pool of their own now, and a slot waits only for its
own jobs.

The long jobs here are what the pool sees of a batch: a labelled, cancellable job in a JobSlot of
the window's runner, holding its thread until it is cancelled (it sleeps: what matters to the
pool is the thread it holds). The click, the mask, the edits and their saves are the real ones.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import pytest
import test_micrograph_pane as micrograph
from PySide6.QtCore import QThread
from test_micrograph_pane import accept, click, interior_point, open_image, wait_mask

from desktop.panes.micrograph.state import SAVE_WAIT_MS
from desktop.workers import JobRunner, JobSlot
from inference.segmentation import sidecar

if TYPE_CHECKING:
    from collections.abc import Iterator

    from inference.jobs import CancelToken

LONG_S = 60.0  # a long job's length when nobody cancels it: far beyond any wait below


def _hold(running: threading.Semaphore, cancel: CancelToken) -> str:
    """A long job: holds its thread until cancelled (LONG_S at most)."""
    running.release()
    end = time.monotonic() + LONG_S
    while time.monotonic() < end:
        cancel.raise_if_cancelled()
        time.sleep(0.01)
    return "held to the end"


def _cores() -> int:
    """As many long jobs as the machine has cores: every thread of a one-pool design."""
    return QThread.idealThreadCount()


class LongJobs:
    """`n` long jobs, each as a batch is submitted: its own background slot, a label, Cancel."""

    def __init__(self, runner: JobRunner, n: int) -> None:
        self.running = threading.Semaphore(0)
        self.slots = [JobSlot(runner, background=True) for _ in range(n)]
        for i, slot in enumerate(self.slots):
            slot.submit(_hold, self.running, label=f"Batch {i}…", name=f"long {i}")

    def wait_running(self, n: int, timeout: float = 10.0) -> None:
        for _ in range(n):
            assert self.running.acquire(timeout=timeout), "a long job did not start"

    def stop(self) -> None:
        for slot in self.slots:
            slot.cancel()
        for slot in self.slots:
            assert slot.wait(10000), "a long job did not stop"


# the Micrographs pane tests' fixtures: the window with MobileSAM, Super1's precipitates
window, precipitates = micrograph.window, micrograph.precipitates


def _hold_every_core(window, long_jobs: list[LongJobs]) -> tuple[int, LongJobs]:
    """As many long jobs in the window's runner as there are cores, running."""
    n = _cores()
    held = LongJobs(window.jobs, n)
    long_jobs.append(held)
    held.wait_running(n)
    return n, held


@pytest.fixture
def long_jobs(qtbot) -> Iterator[list[LongJobs]]:
    made: list[LongJobs] = []
    yield made
    for jobs in made:
        jobs.stop()


# --- the pools, with plain jobs ---------------------------------------------------------------


def test_short_jobs_run_at_once_while_long_ones_hold_every_core(qtbot, long_jobs):
    runner = JobRunner()
    n = _cores()
    held = LongJobs(runner, n)
    long_jobs.append(held)
    held.wait_running(n)
    seen: list[str] = []
    started = time.monotonic()
    # a click's mask (no label), an export (labelled, no Cancel) and opening a file (labelled,
    # with Cancel: a person waits for it, it is no background work)
    JobSlot(runner, queue_latest=True).submit(lambda: "mask", on_result=seen.append)
    JobSlot(runner).submit(
        lambda: "export", label="Exporting x.csv…", cancellable=False, on_result=seen.append
    )
    JobSlot(runner).submit(lambda: "open", label="Opening big.tif", on_result=seen.append)
    # All answered while the long jobs hold every core (in one pool, not before they end).
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=20000)
    assert sorted(seen) == ["export", "mask", "open"]
    assert time.monotonic() - started < LONG_S / 2


def test_a_short_job_does_not_queue_behind_short_ones_that_turned_out_long(qtbot):
    """The start-up warm-ups are unlabelled (short-pool) jobs that take seconds: on two cores
    they held both short threads, and a click in the first seconds waited for them."""
    runner = JobRunner()
    pool = runner.pool
    n = pool.maxThreadCount()
    running, release = threading.Semaphore(0), threading.Event()

    def warm_up() -> None:
        running.release()
        release.wait(LONG_S)

    for i in range(n):
        runner.start(warm_up, name=f"warm-up {i}")
    for _ in range(n):
        assert running.acquire(timeout=10), "a warm-up did not start"
    seen: list[str] = []
    started = time.monotonic()
    JobSlot(runner, queue_latest=True).submit(lambda: "mask", on_result=seen.append)
    try:
        qtbot.waitUntil(lambda: seen == ["mask"], timeout=20000)
        assert time.monotonic() - started < LONG_S / 2  # before the warm-ups were let go
    finally:
        release.set()
        assert runner.wait(10000)
    # the thread lent is given back: the pool is as it was
    qtbot.waitUntil(lambda: pool.activeThreadCount() == 0, timeout=5000)
    assert pool.maxThreadCount() == n


def test_long_jobs_still_run_no_more_at_once_than_there_are_cores(qtbot, long_jobs):
    """The short jobs' threads are theirs alone: more long jobs queue, as before."""
    runner = JobRunner()
    n = QThread.idealThreadCount()
    held = LongJobs(runner, n + 1)
    long_jobs.append(held)
    held.wait_running(n)
    assert not held.running.acquire(timeout=0.5), "a long job beyond the cores ran at once"
    held.slots[0].cancel()
    held.wait_running(1)  # the one queued starts when a thread is free


def test_a_slot_waits_for_its_own_jobs_only(qtbot, long_jobs):
    runner = JobRunner()
    held = LongJobs(runner, 1)
    long_jobs.append(held)
    held.wait_running(1)
    gate = threading.Event()
    saves = JobSlot(runner)
    saves.submit(lambda: gate.wait(5) and "saved", name="final save")
    threading.Timer(0.2, gate.set).start()
    started = time.monotonic()
    assert saves.wait(8000)
    assert time.monotonic() - started < 6.0  # the save's own 0.2-5 s, not the long job's 60 s


def test_wait_all_shares_one_time_limit(qtbot):
    runner = JobRunner()
    gate = threading.Event()
    slots = [JobSlot(runner) for _ in range(2)]
    for slot in slots:
        slot.submit(lambda: gate.wait(5))
    started = time.monotonic()
    assert not JobSlot.wait_all(slots, 300)
    assert time.monotonic() - started < 4.0  # it gave up at its limit, not when the jobs ended
    gate.set()
    assert JobSlot.wait_all(slots, 5000)


# --- the window, as a microscopist uses it ----------------------------------------------------


def _saved(path) -> int:
    return len(sidecar.load(path)) if path.exists() else 0


def test_a_click_is_answered_and_saved_while_long_jobs_hold_every_core(
    qtbot, window, micrograph_sample, precipitates, long_jobs
):
    """Click → mask, then Accept → on disk, with as many long jobs running as there are cores
    (the audit: indexing and Segment everything on two cores; the mask took 34 s)."""
    pane = open_image(qtbot, window, micrograph_sample)
    side = micrograph_sample.with_name(micrograph_sample.name + ".matlens.json")
    n, held = _hold_every_core(window, long_jobs)
    started = time.monotonic()
    click(qtbot, pane, *interior_point(precipitates[0]))
    wait_mask(qtbot, pane)
    to_mask = time.monotonic() - started
    accept(qtbot, pane)
    started = time.monotonic()
    qtbot.waitUntil(lambda: _saved(side) == 1, timeout=10000)
    to_disk = time.monotonic() - started
    print(f"\n{n} long jobs: click → mask {to_mask:.2f} s, accept → on disk {to_disk:.2f} s")
    # Answered and saved while the long jobs still held every core (they hold it till cancelled)
    assert all(slot.busy for slot in held.slots)


def test_closing_with_an_unsaved_edit_while_long_jobs_run_is_quick_and_keeps_it(
    qtbot, window, micrograph_sample, long_jobs
):
    """The close waited for the whole pool (a batch) up to 10 s, then cancelled it; now it
    writes the edit, waits for that alone, and cancels the rest."""
    pane = open_image(qtbot, window, micrograph_sample)
    side = micrograph_sample.with_name(micrograph_sample.name + ".matlens.json")
    n, held = _hold_every_core(window, long_jobs)
    pane.state.set_mode("brush")
    pane.apply_stroke([(20, 20), (40, 24)], erase=False)
    pane.apply_stroke([(60, 60), (90, 70)], erase=False)  # two edits: one may be on its way
    assert pane.annotations is not None and len(pane.annotations) == 2
    started = time.monotonic()
    window.close()  # at once, as the user does
    closed_in = time.monotonic() - started
    on_disk = _saved(side)
    print(f"\nclose with an unsaved edit and {n} long jobs: {closed_in:.2f} s, {on_disk} on disk")
    assert on_disk == 2, "the last edit was lost"
    assert closed_in < SAVE_WAIT_MS / 2000  # it waited SAVE_WAIT_MS (10 s) for the long jobs


def test_closing_with_nothing_unsaved_while_long_jobs_run_is_quick(
    qtbot, window, micrograph_sample, long_jobs
):
    pane = open_image(qtbot, window, micrograph_sample)
    side = micrograph_sample.with_name(micrograph_sample.name + ".matlens.json")
    pane.state.set_mode("brush")
    pane.apply_stroke([(20, 20), (40, 24)], erase=False)
    qtbot.waitUntil(lambda: _saved(side) == 1, timeout=10000)
    n, held = _hold_every_core(window, long_jobs)
    started = time.monotonic()
    window.close()
    closed_in = time.monotonic() - started
    print(f"\nclose with nothing unsaved and {n} long jobs: {closed_in:.2f} s")
    assert closed_in < SAVE_WAIT_MS / 2000
    assert _saved(side) == 1
