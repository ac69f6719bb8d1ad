"""Run a child process for which a folder is read-only, for real.

As root, chmod does not stop writes, so a read-only bind mount in a private mount namespace
(`unshare -m`) makes the folder read-only for that child alone (writes fail with EROFS, as on a
read-only share). Other users get chmod 555. Where neither works the test is skipped, and fails
under CI=true.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def read_only_prefix(folder: Path) -> list[str]:
    """The command prefix that runs a child with `folder` read-only, or a skip/fail saying why."""
    if os.geteuid() != 0:
        return []  # chmod is enough (set by the caller)
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}'"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        reason = f"cannot make a read-only folder as root here: {probe.stderr.strip()[:200]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder)]


def run_read_only(
    folder: Path, argv: list[str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the command line `argv` in a child for which `folder` is read-only."""
    prefix = read_only_prefix(folder)
    if not prefix:
        folder.chmod(0o555)
    try:
        return subprocess.run(
            [*prefix, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    finally:
        folder.chmod(0o755)


def run_python_read_only(
    folder: Path, code: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run Python `code` in a child for which `folder` is read-only."""
    return run_read_only(folder, [sys.executable, "-c", textwrap.dedent(code)], timeout)
