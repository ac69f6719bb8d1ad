"""`matlens doctor`: versions, ONNX providers, the device used and each model's state."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata

from inference import __version__
from inference.runtime import offline
from inference.runtime.paths import models_dir
from inference.runtime.registry import damage, file_path, file_status, is_unreadable, load_cards
from inference.runtime.sessions import device_report, versions

PACKAGES = (
    "PySide6-Essentials",
    "pyqtgraph",
    "vtk",
    "pymatgen",
    "onnxruntime-gpu",
    "numpy",
    "tifffile",
    "rosettasciio",
    "scikit-image",
)


@dataclass
class ModelState:
    id: str
    name: str
    licence: str
    source: str
    files: dict[str, str] = field(default_factory=dict)  # file name -> ok / missing / mismatch
    problem: str = ""  # why the card itself could not be read
    damage: str = ""  # one line: what cannot be loaded and the fix ("" when nothing is damaged)

    @property
    def ok(self) -> bool:
        # a card may carry its weights itself (the Tc linker's coefficients): no files is fine
        return not self.problem and all(v == "ok" for v in self.files.values())


@dataclass
class DoctorReport:
    matlens: str
    python: str
    platform: str
    packages: dict[str, str]
    providers_available: list[str]
    device: dict
    offline: bool
    offline_why_not: list[str]
    offline_notes: list[str]
    models_dir: str
    models: list[ModelState]

    @property
    def damaged(self) -> list[str]:
        """One line per model that is installed but cannot be loaded, each with its fix."""
        return [m.damage for m in self.models if m.damage]

    def to_json(self) -> dict:
        data = asdict(self)
        for m, state in zip(data["models"], self.models, strict=True):
            m["ok"] = state.ok
        return data


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect() -> DoctorReport:
    device = device_report()  # loads onnxruntime: its telemetry, if any, has started by now
    network = offline.check()
    models = [
        ModelState(
            c.id,
            c.name,
            c.licence,
            f"{c.source_package} {c.source_version}".strip(),
            {f.name: file_status(f).value for f in c.files},
            c.description if is_unreadable(c) else "",
            damage(c),
        )
        for c in load_cards()
    ]
    return DoctorReport(
        matlens=__version__,
        python=sys.version.split()[0],
        platform=f"{platform.system()} {platform.machine()}",
        packages={p: _version(p) for p in PACKAGES},
        providers_available=versions()["providers_available"].split(", "),
        device={
            "label": device.label,
            "provider": device.provider,
            "is_gpu": device.is_gpu,
            "name": device.device_name,
            "why_not_gpu": device.reason,
        },
        offline=network.offline,
        offline_why_not=network.why_not,
        offline_notes=network.notes,
        models_dir=str(models_dir()),
        models=models,
    )


def render_text(report: DoctorReport) -> str:
    lines = [
        f"MatLens {report.matlens} on Python {report.python} ({report.platform})",
        f"Device: {report.device['label']}",
        f"ONNX providers available: {', '.join(report.providers_available)}",
        f"Offline: {'yes' if report.offline else 'NO — ' + '; '.join(report.offline_why_not)}",
        *(f"  note: {note}" for note in report.offline_notes),
        f"Models folder: {report.models_dir}",
        "Models:",
    ]
    for m in report.models:
        state = (
            "ok"
            if m.ok
            else m.problem or "; ".join(f"{k}: {v}" for k, v in m.files.items() if v != "ok")
        )
        lines.append(f"  {'✓' if m.ok else '✗'} {m.name} [{m.licence}] — {state}")
    if any(not m.ok and not m.damage for m in report.models):
        lines.append(
            "Missing models are needed only by the features that use them: install them with "
            "`make models` or Models ▸ Model manager ▸ Install missing models."
        )
    lines.append("Packages: " + ", ".join(f"{k} {v}" for k, v in report.packages.items()))
    return "\n".join(lines)


def model_paths() -> dict[str, str]:
    return {f.name: str(file_path(f)) for c in load_cards() for f in c.files}
