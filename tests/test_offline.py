"""Offline by construction: start-up, the doctor and a model session never open a network socket."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import inference

REPO = Path(__file__).resolve().parents[1]
GUARD = str(Path(__file__).with_name("offline_guard.py"))
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
ENV.pop("HF_HUB_OFFLINE", None)  # the app must set it by itself
# onnxruntime 1.31 switches its telemetry off by itself when CI is set, so under CI the traced
# processes would prove nothing: they run as on a user's machine, without it.
ENV.pop("CI", None)


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


# --- traced: a long-lived MatLens opens no AF_INET/AF_INET6 socket at all ----------------------
# onnxruntime-gpu's telemetry resolves mobile.events.data.microsoft.com about 10 s after import,
# so each traced process lives well past that. strace sees every connect(), the DNS resolver's
# included, whatever library makes it.

TRACE_SECONDS = 18
SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
INET = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?,")


def _strace_or_reason() -> str:
    """'' when strace can trace a child here, else why not."""
    if not shutil.which("strace"):
        return "strace is not installed (installers/linux/system-deps.sh installs it)"
    probe = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", os.devnull, "true"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"strace cannot attach here (ptrace restricted?): {probe.stderr.strip()[:200]}"
    return ""


@dataclass(frozen=True)
class Traced:
    returncode: int
    stdout: str
    stderr: str
    inet_connects: list[str]
    home: Path

    @property
    def telemetry_files(self) -> list[Path]:
        return sorted(p for p in (self.home / ".cache" / "Microsoft").rglob("*") if p.is_file())


def _traced(name: str, argv: list[str], folder: Path, env: dict[str, str]) -> Traced:
    home = folder / f"home-{name}"
    home.mkdir()
    log = folder / f"{name}.trace"
    out = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(log)]
        + _no_network_namespace()
        + argv,
        capture_output=True,
        text=True,
        timeout=TRACE_SECONDS + 120,
        env={**env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")},
    )
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return Traced(
        out.returncode, out.stdout, out.stderr, [x for x in lines if INET.search(x)], home
    )


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """The window, a CLI command and bare onnxruntime, each traced for TRACE_SECONDS, at once."""
    reason = _strace_or_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the offline check cannot run in CI: {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("traced")
    # MatLens must set the variables itself: nothing inherited from this test process.
    bare = {k: v for k, v in ENV.items() if k not in inference.OFFLINE_ENVIRONMENT}
    bare.update(
        MATLENS_LOGS=str(folder / "logs"),
        MATLENS_CACHE=str(folder / "cache"),
        MATLENS_DATA=str(folder / "data"),
        MATLENS_SETTINGS=str(folder / "settings.ini"),
    )
    image = Path(shutil.copy(SAMPLES / "superalloy_precipitates.tif", folder))
    cif = Path(shutil.copy(SAMPLES / "NaCl.cif", folder))
    shot = folder / "window.png"
    runs = {
        # `matlens IMAGE CIF`: SAM embeds the image, the CIF is parsed in a child process.
        "window": [
            sys.executable,
            "-m",
            "desktop.launcher",
            str(image),
            str(cif),
            "--screenshot",
            str(shot),
            "--screenshot-delay",
            str(TRACE_SECONDS),
        ],
        # `matlens doctor` (it loads onnxruntime and builds sessions), then the process stays.
        "cli": [
            sys.executable,
            "-c",
            "import sys, time\nfrom desktop.launcher import main\n"
            f"code = main(['doctor', '--json'])\ntime.sleep({TRACE_SECONDS})\nsys.exit(code)",
        ],
        # The control: onnxruntime without MatLens, so the trace must show its telemetry.
        "bare onnxruntime": [
            sys.executable,
            "-c",
            f"import onnxruntime, time\ntime.sleep({TRACE_SECONDS})",
        ],
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        futures = {
            name: pool.submit(_traced, name.split()[0], argv, folder, bare)
            for name, argv in runs.items()
        }
        results = {name: f.result() for name, f in futures.items()}
    return results


def test_the_trace_sees_onnxruntime_telemetry_without_matlens(traced):
    """Proves the probe works: bare onnxruntime 1.31 resolves its telemetry host and keeps a db."""
    control = traced["bare onnxruntime"]
    assert control.returncode == 0, control.stderr
    assert control.telemetry_files, "onnxruntime wrote no telemetry database without the variable"
    assert control.inet_connects, "strace saw no AF_INET connect from bare onnxruntime"


@pytest.mark.parametrize("name", ["window", "cli"])
def test_long_lived_matlens_makes_no_network_connect(traced, name):
    run = traced[name]
    assert run.returncode == 0, run.stderr[-2000:]
    assert not run.inet_connects, f"{name}: network connects\n" + "\n".join(run.inet_connects[:5])
    assert not run.telemetry_files, f"{name}: onnxruntime telemetry wrote {run.telemetry_files}"
    if name == "window":
        assert "saved" in run.stdout, "the window did not live to its screenshot"
    else:
        report = json.loads(run.stdout)
        assert report["offline"] is True, report["offline_why_not"]


def test_doctor_says_why_when_onnxruntime_came_first(tmp_path):
    """Imported before MatLens and without the variable, onnxruntime's telemetry runs: not offline."""
    env = {k: v for k, v in ENV.items() if k != "ORT_DISABLE_TELEMETRY"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import onnxruntime\nfrom desktop.launcher import main\nmain(['doctor', '--json'])",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**env, "HOME": str(tmp_path)},
    )
    report = json.loads(out.stdout)
    assert report["offline"] is False
    why = " ".join(report["offline_why_not"])
    assert "imported before MatLens" in why and "onnxruntime.db" in why


ENTRY_POINTS = [
    "desktop/launcher.py",
    "desktop/app.py",
    "installers/pyinstaller/matlens_entry.py",
]


def _module_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _first_party(name: str) -> bool:
    return name.split(".")[0] in ("inference", "desktop")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_points_import_inference_before_any_library(entry):
    """`import inference` sets ORT_DISABLE_TELEMETRY: it must come before any third-party import."""
    imports = _module_imports(REPO / entry)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    third_party = [n for n in imports if n.split(".")[0] not in stdlib and not _first_party(n)]
    first = next(i for i, n in enumerate(imports) if _first_party(n))
    before = [n for n in imports[:first] if n in third_party]
    assert not before and imports[first].split(".")[0] == "inference", (entry, imports)


def test_scripts_reach_onnxruntime_only_through_inference():
    """Benchmarks, installers and desktop never import onnxruntime before `inference`."""
    offenders = []
    for folder in ("benchmarks", "installers", "desktop"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "onnxruntime" not in text:
                continue
            imports = _module_imports(path)
            ort = next((i for i, n in enumerate(imports) if n.startswith("onnxruntime")), None)
            first = next((i for i, n in enumerate(imports) if _first_party(n)), None)
            if ort is not None and (first is None or first > ort):
                offenders.append(str(path.relative_to(REPO)))
            if re.search(r"^\s+import onnxruntime", text, re.M) and "import inference" not in text:
                offenders.append(f"{path.relative_to(REPO)} (import inside a function)")
    assert not offenders, offenders
