"""Run a model export in a child process, so torch never loads into the app itself.

The child is `python -m inference.export ...`; it prints one JSON object per line:
{"progress": 0.3, "message": "..."}, then {"result": {...}} or {"error": "one line"}.
"""

from __future__ import annotations

import json
import subprocess
import sys

from inference.errors import JobCancelled, MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress


def export_command(*args: str) -> list[str]:
    if getattr(sys, "frozen", False):
        raise MatLensError(
            "Exporting models needs the MatLens set-up environment (with torch); "
            "the installed app ships its models ready-made."
        )
    return [sys.executable, "-m", "inference.export", "--json", *args]


def run_export(
    *args: str, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> dict:
    """Run the exporter with `args` (JSON-lines progress) and return its result; cancel kills it."""
    proc = subprocess.Popen(
        export_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    result: dict | None = None
    error = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        if cancel is not None and cancel.cancelled:
            proc.kill()
            proc.wait()
            raise JobCancelled()
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if "progress" in msg:
            progress(float(msg["progress"]), str(msg.get("message", "")))
        elif "result" in msg:
            result = msg["result"]
        elif "error" in msg:
            error = str(msg["error"])
    proc.wait()
    if error:
        raise MatLensError(error)
    if proc.returncode != 0 or result is None:
        tail = (proc.stderr.read() if proc.stderr else "").strip().splitlines()[-1:] or [""]
        raise MatLensError(f"model export failed (exit {proc.returncode}): {tail[0][:200]}")
    return result
