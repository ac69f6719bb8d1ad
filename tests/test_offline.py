"""Offline by construction: start-up, the doctor and a model session never open a network socket."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

GUARD = str(Path(__file__).with_name("offline_guard.py"))
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
ENV.pop("HF_HUB_OFFLINE", None)  # the app must set it by itself


def _no_network_namespace() -> list[str]:
    """`unshare -n` where the kernel lets us: outbound connections become impossible."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"]).returncode == 0:
        return ["unshare", "-n"]
    return []


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_no_network_namespace(), sys.executable, GUARD, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=ENV,
    )


def test_doctor_works_offline_and_sets_hub_flags():
    out = _run("desktop.launcher", "doctor", "--json")
    assert out.returncode == 0, out.stderr
    assert "NETWORK-ATTEMPT" not in out.stderr
    assert json.loads(out.stdout)["offline"] is True


def test_window_start_up_opens_no_socket():
    out = _run("desktop.app", "--quit-after-paint")
    assert out.returncode == 0, out.stderr
    assert "first_paint_s" in out.stdout
    assert "NETWORK-ATTEMPT" not in out.stderr


def test_model_session_runs_offline(tmp_path):
    script = tmp_path / "session.py"
    script.write_text(
        "import numpy as np\n"
        "from inference.runtime.sessions import OnnxModel, device_report\n"
        "from inference.runtime.paths import resources_dir\n"
        "m = OnnxModel(resources_dir() / 'models' / 'probe.onnx')\n"
        "print('OUT', m.run({'x': np.ones(1, np.float32)})[0][0], device_report().provider)\n"
    )
    out = _run(str(script))
    assert out.returncode == 0, out.stderr
    assert "OUT 1.0" in out.stdout and "NETWORK-ATTEMPT" not in out.stderr
