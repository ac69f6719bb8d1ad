"""Run `matlens` as a user does (a real process) and judge the outcome as a user would.

`run_matlens` returns the exit code, the output and the command's own peak RSS. `assert_clean_outcome` holds every
fuzz case to the promise: exit 0 with a result, or exit 2 with one line naming the file, and never
a traceback, a signal or a hang.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float
    timed_out: bool


# Linux keeps a process's peak RSS across fork and exec (exec records the old mm's high-water
# mark), so wait4 on a child forked straight from this pytest process reports pytest's own peak
# whenever that is higher (15 GB seen for a 40 MB command). A small Python started with -S forks
# `matlens` instead, and reports that child's own status and peak to a file.
_LAUNCHER = """
import os, sys
report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(f"{status} {usage.ru_maxrss}")
sys.exit(0)
"""


def run_matlens(*args: object, timeout: float = 120, env: dict[str, str] | None = None) -> CliRun:
    """Run `matlens ARGS` in its own process group; kill the group on time-out."""
    argv = [sys.executable, "-m", "desktop.launcher", *map(str, args)]
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "status"
        child = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), *argv],
            stdout=out,
            stderr=err,
            cwd=REPO,
            env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
            start_new_session=True,
        )
        timed_out = False
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        status, peak_kb = -signal.SIGKILL, float("nan")
        if report.exists():
            raw_status, raw_peak = report.read_text().split()
            status, peak_kb = os.waitstatus_to_exitcode(int(raw_status)), float(raw_peak)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return CliRun(
        tuple(map(str, args)),
        status,
        stdout,
        stderr,
        peak_kb / 1024.0,  # Linux reports kB
        time.perf_counter() - started,
        timed_out,
    )


def assert_clean_outcome(run: CliRun, path: Path | str) -> None:
    """Exit 0 with output, or exit 2 with one line naming the file; no traceback, signal or hang."""
    name = Path(path).name
    where = f"matlens {' '.join(run.args)}"
    assert not run.timed_out, f"{where}: hung (killed after {run.seconds:.0f} s)"
    assert run.returncode >= 0, f"{where}: killed by signal {-run.returncode}"
    assert "Traceback" not in run.stderr, f"{where}: traceback\n{run.stderr[-2000:]}"
    assert run.returncode in (0, 2), f"{where}: exit {run.returncode}\n{run.stderr[-2000:]}"
    if run.returncode == 0:
        assert run.stdout.strip(), f"{where}: exit 0 but no result"
        return
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{where}: expected one line on stderr, got {len(lines)}:\n{run.stderr}"
    assert name in lines[0], f"{where}: the message does not name {name}: {lines[0]}"
    assert "Unexpected error" not in lines[0], f"{where}: not a clear message: {lines[0]}"
