"""The one worker abstraction: progress, result, error (one line plus details) and cancel."""

from __future__ import annotations

import threading
import time

from desktop.workers import JobRunner
from inference.errors import UnreadableFile


def _sum_with_progress(n, progress, cancel):
    total = 0
    for i in range(n):
        cancel.raise_if_cancelled()
        total += i
        progress((i + 1) / n, f"step {i + 1}")
    return total


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    runner = JobRunner()
    seen, threads, results = [], [], []

    def on_progress(fraction: float, message: str) -> None:
        seen.append((fraction, message))
        threads.append(threading.get_ident())

    with qtbot.waitSignal(runner.busy_changed, check_params_cb=lambda b: b is False, timeout=5000):
        runner.start(
            _sum_with_progress,
            5,
            on_result=results.append,
            on_progress=on_progress,
        )
    assert results == [10]
    assert seen[-1] == (1.0, "step 5")
    assert set(threads) == {threading.get_ident()}  # slots ran on the GUI thread


def test_error_is_one_line_with_details(qtbot):
    def fail():
        raise UnreadableFile("not a TIFF file or truncated: x.tif")

    errors = []
    runner = JobRunner()
    runner.start(fail, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    report = errors[0]
    assert report.message == "not a TIFF file or truncated: x.tif"
    assert "Traceback" in report.details and "\n" not in report.message


def test_unexpected_exception_still_gives_a_readable_message(qtbot):
    def boom():
        return {}["missing key"]

    errors = []
    runner = JobRunner()
    runner.start(boom, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0].message.startswith("Unexpected error (KeyError)")


def test_cancel_stops_a_long_job(qtbot):
    def slow(progress, cancel):
        for _ in range(500):
            cancel.raise_if_cancelled()
            time.sleep(0.01)
        return "finished"

    runner = JobRunner()
    results = []
    worker = runner.start(slow, on_result=results.append)
    qtbot.wait(50)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=3000):
        worker.cancel()
    assert results == []
    qtbot.waitUntil(lambda: not runner.busy, timeout=3000)


STORM = """
import time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from desktop.workers import JobRunner
runner, done = JobRunner(), []
def job(progress, cancel):
    for i in range(200):
        progress(i / 200, "step")
    return None
for _ in range(150):
    runner.start(job, on_result=done.append, on_progress=lambda f, m: None)
end = time.time() + 60
while len(done) < 150 and time.time() < end:
    app.processEvents()
print("survived", len(done))
"""


def test_many_jobs_reporting_at_once_do_not_crash_the_app():
    """PySide6 6.12.0 aborted here (refcount bug on cross-thread signals); the pin must hold."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", STORM], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0 and "survived 150" in out.stdout, out.stderr[-500:]
