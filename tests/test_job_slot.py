"""JobSlot: the latest request wins, stale answers are dropped, and the job bar follows it."""

from __future__ import annotations

import threading

from desktop.job_bar import JobBar
from desktop.workers import JobRunner, JobSlot


def _wait_for(gate: threading.Event, value, cancel=None):
    """Block until `gate` opens (or the job is cancelled), then answer `value`."""
    while not gate.wait(0.01):
        if cancel is not None:
            cancel.raise_if_cancelled()
    return value


def test_a_slow_first_answer_never_lands_after_the_second(qtbot):
    slot = JobSlot(JobRunner())
    first_gate, second_gate = threading.Event(), threading.Event()
    seen = []
    slot.submit(lambda: _wait_for(first_gate, "A"), on_result=seen.append)
    slot.submit(lambda: _wait_for(second_gate, "B"), on_result=seen.append)
    second_gate.set()
    qtbot.waitUntil(lambda: seen == ["B"], timeout=5000)
    first_gate.set()  # A finishes last: its answer is stale
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    slot.wait(5000)
    qtbot.wait(50)
    assert seen == ["B"]


def test_submit_cancels_the_running_job(qtbot):
    slot = JobSlot(JobRunner())
    gate = threading.Event()
    cancelled_a = threading.Event()

    def job_a(cancel):
        try:
            return _wait_for(gate, "A", cancel)
        finally:
            cancelled_a.set()

    slot.submit(job_a)
    slot.submit(lambda: "B")
    assert cancelled_a.wait(5), "the first job was not told to stop"
    gate.set()


def test_queue_latest_runs_only_the_newest_request_once_more(qtbot):
    slot = JobSlot(JobRunner(), queue_latest=True)
    gate = threading.Event()
    ran, seen = [], []

    def job(name, wait=False):
        ran.append(name)
        if wait:
            gate.wait(5)
        return name

    slot.submit(job, "first", True, on_result=seen.append)
    qtbot.waitUntil(lambda: ran == ["first"], timeout=5000)
    slot.submit(job, "second", on_result=seen.append)
    slot.submit(job, "third", on_result=seen.append)
    gate.set()
    qtbot.waitUntil(lambda: seen == ["third"], timeout=5000)
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    assert ran == ["first", "third"]  # "second" was replaced before it could run


def test_discard_delivers_nothing_more(qtbot):
    slot = JobSlot(JobRunner())
    gate = threading.Event()
    seen, errors, cancels = [], [], []
    slot.submit(
        lambda: _wait_for(gate, "old"),
        on_result=seen.append,
        on_error=errors.append,
        on_cancelled=lambda: cancels.append(1),
    )
    slot.discard()
    gate.set()
    qtbot.waitUntil(lambda: not slot.busy, timeout=5000)
    qtbot.wait(50)
    assert (seen, errors, cancels) == ([], [], [])


def test_cancel_reports_cancelled_and_the_bar_hides(qtbot):
    bar = JobBar()
    qtbot.addWidget(bar)
    bar.show()
    slot = JobSlot(JobRunner())
    bar.watch(slot)
    gate = threading.Event()
    cancels = []

    def slow(progress, cancel):
        progress(0.4, "reading page 2 of 5")
        return _wait_for(gate, "done", cancel)

    slot.submit(slow, label="Opening paper.pdf", on_cancelled=lambda: cancels.append(1))
    qtbot.waitUntil(lambda: bar.text == "reading page 2 of 5", timeout=5000)
    assert bar.progress.value() == 40 and bar.cancel_button.isVisible()
    bar.cancel_button.click()
    qtbot.waitUntil(lambda: cancels == [1], timeout=5000)
    qtbot.waitUntil(lambda: bar.text == "" and not bar.cancel_button.isVisible(), timeout=5000)


def test_a_step_without_progress_shows_busy_then_the_percentage_again(qtbot):
    """An encoder runs as one call after `progress(0.1, ...)`: the bar turns busy instead of
    sitting at 10 % for minutes, keeps the step's words and Cancel, and shows the percentage
    again at the next report."""
    from PySide6.QtCore import Qt

    bar = JobBar()
    qtbot.addWidget(bar)
    bar.show()
    slot = JobSlot(JobRunner())
    bar.watch(slot)
    encoded, decoded = threading.Event(), threading.Event()
    cancels = []

    def embed(progress, cancel):
        progress(0.1, "computing the SAM embedding (CPU)")
        _wait_for(encoded, None, cancel)  # one long call, no progress
        progress(0.6, "tiling")
        return _wait_for(decoded, "done", cancel)

    slot.submit(embed, label="Preparing the image…", on_cancelled=lambda: cancels.append(1))
    qtbot.waitUntil(lambda: bar.text == "computing the SAM embedding (CPU)", timeout=5000)
    assert not bar.busy and bar.progress.value() == 10  # a fresh step shows its percentage
    qtbot.waitUntil(lambda: bar.busy, timeout=5000)
    assert bar.progress.minimum() == bar.progress.maximum() == 0  # Qt's indeterminate bar
    assert bar.text == "computing the SAM embedding (CPU)" and bar.cancel_button.isVisible()

    encoded.set()
    qtbot.waitUntil(lambda: bar.text == "tiling", timeout=5000)
    assert not bar.busy and bar.progress.maximum() == 100 and bar.progress.value() == 60
    qtbot.waitUntil(lambda: bar.busy, timeout=5000)
    qtbot.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)  # Cancel still stops it
    qtbot.waitUntil(lambda: cancels == [1], timeout=5000)
    qtbot.waitUntil(lambda: bar.text == "" and not bar.busy, timeout=5000)
    assert not bar.progress.isVisible() and not bar.cancel_button.isVisible()


def test_errors_arrive_once_for_the_latest_request(qtbot):
    slot = JobSlot(JobRunner())
    errors = []

    def fail():
        raise ValueError("bad cell")

    slot.submit(fail, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert "bad cell" in errors[0].message


def test_a_job_that_ends_before_submit_returns_still_frees_the_slot(qtbot):
    """`finished` is connected before the job starts: an instant job used to leave the slot
    busy forever (its queued requests never ran, the job bar never cleared)."""
    slot = JobSlot(JobRunner())
    seen = []
    for i in range(100):
        slot.submit(lambda i=i: i, on_result=seen.append)
        qtbot.waitUntil(lambda: not slot.busy, timeout=2000)
    assert seen == list(range(100))
