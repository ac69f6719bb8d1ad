"""Installers: the bundle recipe, the Linux tarball and install.sh, the Windows scripts, the icons,
the GPU reasons `matlens doctor` gives, and (when `make bundle` has run) the built bundle itself.

Everything but the last test runs without building anything, so it runs in CI.
"""

from __future__ import annotations

import configparser
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inference.runtime.registry import ModelFile, file_path
from inference.runtime.sessions import (
    cuda_provider_installed,
    driver_problem,
    gpu_unavailable_reason,
)

REPO = Path(__file__).resolve().parents[1]
LINUX = REPO / "installers" / "linux"
WINDOWS = REPO / "installers" / "windows"
ICONS = REPO / "resources" / "icons"
BUNDLE = REPO / "dist" / "matlens"
EXTENSIONS = {"*.cif", "*.dm3", "*.dm4", "*.emd"}
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


@functools.cache
def _bundle_config():
    """installers/pyinstaller/bundle_config.py, imported as the spec imports it (not a package:
    its folder goes on the path, as matlens.spec puts it, for bundle_elf)."""
    folder = REPO / "installers" / "pyinstaller"
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    spec = importlib.util.spec_from_file_location("bundle_config", folder / "bundle_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bundle_config"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def _site_packages() -> Path:
    import numpy

    return Path(numpy.__file__).parents[1]


def _one(folder: Path, pattern: str) -> Path:
    (path,) = folder.glob(pattern)
    return path


def _readelf_needed(path: Path) -> tuple[str, ...]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True)
    return tuple(re.findall(r"\(NEEDED\).*\[(.*)\]", out.stdout))


def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    # Keys are case-sensitive; typeshed declares optionxform a method, so pyright flags this.
    parser.optionxform = str  # pyright: ignore[reportAttributeAccessIssue]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def _mime_types() -> dict[str, set[str]]:
    root = ET.parse(LINUX / "matlens-mime.xml").getroot()
    return {
        t.get("type", ""): {g.get("pattern", "") for g in t.findall(f"{MIME_NS}glob")}
        for t in root.findall(f"{MIME_NS}mime-type")
    }


# --- the PyInstaller recipe -------------------------------------------------------------------


def test_bundle_leaves_out_the_set_up_only_packages():
    cfg = _bundle_config()
    for heavy in (
        "torch",
        "transformers",
        "chgnet",
        "segment_anything",
        "onnx",
        "inference.export",
    ):
        assert heavy in cfg.EXCLUDES
    spec = (REPO / "installers" / "pyinstaller" / "matlens.spec").read_text()
    assert "excludes=list(cfg.EXCLUDES)" in spec
    assert "desktop.launcher import main" in cfg.ENTRY.read_text()


def test_bundle_ships_every_exported_model_and_checks_it(tmp_path):
    cfg = _bundle_config()
    names = {m.name for m in cfg.model_files(tmp_path)}
    assert {
        "mobile_sam_encoder.onnx",
        "mobile_sam_decoder.onnx",
        "minilm_l6_v2_lower.onnx",
        "minilm_l6_v2_upper.onnx",
        "materials-v1.sqlite.xz",  # the Materials-data store, packed: the bundle has no crabnet
    } <= names
    problems = cfg.check_models(cfg.model_files(tmp_path))
    assert len(problems) == len(names) and all("missing" in p for p in problems)
    (tmp_path / "mobile_sam_encoder.onnx").write_bytes(b"not the exported model")
    problems = cfg.check_models(cfg.model_files(tmp_path))
    assert any(p.startswith("mobile_sam_encoder.onnx: checksum differs") for p in problems)


def test_bundle_resources_include_the_samples_but_no_sidecars():
    cfg = _bundle_config()
    sources = [Path(src) for src, _ in cfg.resource_files()]
    assert REPO / "resources" / "samples" / "superalloy_precipitates.tif" in sources
    assert REPO / "resources" / "models" / "probe.onnx" in sources
    assert not [s for s in sources if s.name.endswith(".matlens.json")]


def test_gpu_provider_libraries_are_recognised_on_both_systems():
    cfg = _bundle_config()
    assert cfg.is_gpu_provider("onnxruntime/capi/libonnxruntime_providers_cuda.so")
    assert cfg.is_gpu_provider(
        "onnxruntime\\capi\\onnxruntime_providers_cuda.dll".replace("\\", "/")
    )
    assert not cfg.is_gpu_provider("onnxruntime/capi/libonnxruntime_providers_shared.so")


def test_only_libraries_patchelf_left_alone_are_stripped():
    import numpy
    import vtkmodules

    cfg = _bundle_config()
    site = Path(numpy.__file__).parents[1]
    (openblas,) = (site / "numpy.libs").glob("libscipy_openblas*.so")
    assert cfg.load_segments(openblas) > 4  # repaired by auditwheel: stripping breaks it
    assert not cfg.strippable(openblas, site)
    vtk_core = Path(vtkmodules.__file__).parent / "libvtkCommonCore.so"
    assert cfg.strippable(vtk_core, site)
    assert cfg.load_segments(REPO / "resources" / "icons" / "matlens.png") is None


def test_tiff_codecs_stay_and_what_matlens_never_loads_is_left_out():
    cfg = _bundle_config()
    for kept in ("_imcd", "_zlib", "_zstd", "_jpeg8", "_jpeg2k", "_lzma", "_webp"):
        assert not cfg.left_out(f"imagecodecs/{kept}.abi3.so")
    for dropped in ("_avif", "_blosc2", "_sz3", "_pcodec"):
        assert cfg.left_out(f"imagecodecs/{dropped}.abi3.so")
    assert cfg.left_out("PySide6/Qt/translations/qtbase_de.qm")
    assert cfg.left_out("PySide6/Qt/plugins/platforms/libqvnc.so")
    for platform in ("libqxcb.so", "libqwayland.so", "libqoffscreen.so"):
        assert not cfg.left_out(f"PySide6/Qt/plugins/platforms/{platform}")
    assert cfg.left_out("sklearn/tree/_tree.pyx") and cfg.left_out("numpy-2.4.6.dist-info/RECORD")
    assert not cfg.left_out("numpy-2.4.6.dist-info/METADATA")  # `matlens doctor` reads versions
    cuda = "onnxruntime/capi/libonnxruntime_providers_cuda.so"
    assert cfg.left_out(cuda) and not cfg.left_out(cuda, keep_cuda=True)
    # What phases and the DM3/MRC readers import must not be excluded; pandas is optional.
    for needed in ("sklearn.ensemble", "narwhals", "rsciio.utils", "scipy.io"):
        assert cfg.is_runtime_module(needed), needed
    assert not cfg.is_runtime_module("pandas")
    assert not cfg.is_runtime_module("plotly.graph_objs")
    assert not cfg.is_runtime_module("rsciio.utils._tests")


def test_structure_formats_pymatgen_loads_by_name_are_bundled():
    modules = _bundle_config().structure_format_modules()
    for name in ("pymatgen.io.xcrysden", "pymatgen.io.cssr", "pymatgen.io.res", "pymatgen.io.xyz"):
        assert name in modules


@pytest.mark.skipif(not shutil.which("readelf"), reason="needs binutils' readelf")
def test_needed_libraries_are_read_as_readelf_reads_them():
    cfg = _bundle_config()
    site = _site_packages()
    for lib in (
        _one(site / "numpy.libs", "libscipy_openblas*.so"),
        _one(site / "numpy" / "_core", "_multiarray_umath.*.so"),
        _one(site / "PySide6" / "Qt" / "plugins" / "platforms", "libqxcb.so"),
    ):
        assert cfg.needed_libraries(lib) == _readelf_needed(lib), lib
    assert cfg.needed_libraries(ICONS / "matlens.png") == ()


def test_a_codec_left_out_takes_the_libraries_only_it_needed(tmp_path):
    cfg = _bundle_config()
    site = _site_packages()
    libs = site / "imagecodecs.libs"
    avif = _one(site / "imagecodecs", "_avif.*.so")
    jpeg = _one(site / "imagecodecs", "_jpeg8.*.so")
    binaries = [
        (f"imagecodecs/{avif.name}", str(avif), "EXTENSION"),
        (f"imagecodecs/{jpeg.name}", str(jpeg), "EXTENSION"),
    ]
    for path in sorted(libs.iterdir()):
        binaries.append((f"imagecodecs.libs/{path.name}", str(path), "BINARY"))
    libavif = _one(libs, "libavif-*.so*").name
    libjpeg = _one(libs, "libjpeg-*.so*").name
    datas = [(libavif, f"imagecodecs.libs/{libavif}", "SYMLINK")]
    kept, kept_datas, orphans = cfg.prune_binaries(binaries, datas)
    names = {Path(dest).name for dest, _, _ in kept}
    assert avif.name not in names and libavif not in names
    assert f"imagecodecs.libs/{libavif}" in orphans
    assert _one(libs, "libaom-*.so*").name not in names  # AV1 encoder: only libavif needed it
    assert jpeg.name in names and libjpeg in names  # still needed by the JPEG codec
    assert kept_datas == []  # the symlink to a dropped library goes too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux shared libraries")
def test_debug_sections_are_cut_from_a_patchelf_library_and_it_still_loads(tmp_path):
    import ctypes

    _bundle_config()  # puts bundle_elf on the path
    from bundle_elf import cut_debug_sections, load_segments, sections, segments

    site = _site_packages()
    original = _one(site / "imagecodecs", "_deflate.*.so")  # the TIFF deflate codec
    assert (load_segments(original) or 0) > 4  # repaired by auditwheel: `strip` would break it
    (tmp_path / "imagecodecs").mkdir()
    (tmp_path / "imagecodecs.libs").symlink_to(site / "imagecodecs.libs")  # its RPATH
    lib = tmp_path / "imagecodecs" / original.name
    shutil.copy2(original, lib)
    before = lib.read_bytes()
    assert any(s.name.startswith(".debug") for s in sections(before))
    saved = cut_debug_sections(lib)
    after = lib.read_bytes()
    assert saved > 0 and len(after) == len(before) - saved
    assert not any(s.name.startswith(".debug") and s.size for s in sections(after))
    for old, new in zip(segments(before), segments(after), strict=True):
        assert (old.vaddr, old.filesz) == (new.vaddr, new.filesz)
        assert (new.offset - new.vaddr) % 4096 == (old.offset - old.vaddr) % 4096
    handle = ctypes.CDLL(str(lib))  # the loader maps it and resolves libdeflate through RPATH
    assert handle.PyInit__deflate
    assert cut_debug_sections(lib) == 0  # nothing left to cut


def test_identical_copies_become_links(tmp_path):
    cfg = _bundle_config()
    (tmp_path / "numpy.libs").mkdir()
    (tmp_path / "scipy.libs").mkdir()
    payload = os.urandom(1 << 17)
    (tmp_path / "numpy.libs" / "libgfortran.so").write_bytes(payload)
    (tmp_path / "scipy.libs" / "libgfortran.so").write_bytes(payload)
    (tmp_path / "scipy.libs" / "other.so").write_bytes(os.urandom(1 << 17))
    saved = cfg.link_duplicates(tmp_path)
    copy = tmp_path / "scipy.libs" / "libgfortran.so"
    assert saved == len(payload) and copy.is_symlink()
    assert os.readlink(copy) == "../numpy.libs/libgfortran.so" and copy.read_bytes() == payload
    assert not (tmp_path / "scipy.libs" / "other.so").is_symlink()


# --- bundled models are found read-only when the user's folder lacks them ----------------------


def test_bundled_model_is_used_only_when_the_user_has_none(tmp_path, monkeypatch):
    user, shipped = tmp_path / "user", tmp_path / "bundle"
    user.mkdir()
    shipped.mkdir()
    monkeypatch.setenv("MATLENS_MODELS", str(user))
    monkeypatch.setenv("MATLENS_BUNDLED_MODELS", str(shipped))
    f = ModelFile("encoder", "enc.onnx", "")
    assert file_path(f) == user / "enc.onnx"  # neither has it: the user folder is named
    (shipped / "enc.onnx").write_bytes(b"shipped")
    assert file_path(f) == shipped / "enc.onnx"
    (user / "enc.onnx").write_bytes(b"re-exported by the user")
    assert file_path(f) == user / "enc.onnx"


# --- Linux: desktop entry, file types, icons, install.sh ---------------------------------------


def test_desktop_entry_is_valid_and_opens_the_four_file_types():
    path = LINUX / "matlens.desktop"
    validator = shutil.which("desktop-file-validate")
    if validator:
        out = subprocess.run([validator, str(path)], capture_output=True, text=True)
        assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    entry = _desktop_entry(path)
    assert entry["Type"] == "Application" and entry["Icon"] == "matlens"
    assert "%F" in entry["Exec"]
    declared = {m for m in entry["MimeType"].split(";") if m}
    assert declared == set(_mime_types())


def test_mime_xml_maps_cif_dm3_dm4_emd():
    types = _mime_types()
    assert set().union(*types.values()) == EXTENSIONS
    assert types["chemical/x-cif"] == {"*.cif"}


def test_icons_exist_in_every_size():
    ET.parse(ICONS / "matlens.svg")
    from PIL import Image

    for size in (16, 24, 32, 48, 64, 128, 256):
        with Image.open(ICONS / f"matlens-{size}.png") as im:
            assert im.size == (size, size) and im.mode == "RGBA"
    with Image.open(ICONS / "matlens.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]


def test_install_sh_help():
    out = subprocess.run(
        ["bash", str(LINUX / "install.sh"), "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert "--system" in out.stdout and "--uninstall" in out.stdout
    bad = subprocess.run(
        ["bash", str(LINUX / "install.sh"), "--bogus"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown option" in bad.stderr


@pytest.fixture
def fake_tarball(tmp_path):
    """The real build_tarball.sh run on a stand-in bundle (a script named matlens), unpacked."""
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    exe = bundle / "matlens"
    exe.write_text('#!/bin/sh\necho "fake matlens $*"\n')
    exe.chmod(0o755)
    out = tmp_path / "out"
    built = subprocess.run(
        ["bash", str(LINUX / "build_tarball.sh"), str(bundle), str(out)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (tarball,) = out.glob("MatLens-*-linux-x86_64.tar.gz")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(unpacked)], check=True)
    (top,) = unpacked.iterdir()
    return top


def _run_install(top: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["bash", str(top / "install.sh"), *args], capture_output=True, text=True, env=env
    )


def test_per_user_install_then_uninstall(fake_tarball, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    done = _run_install(fake_tarball, home)
    assert done.returncode == 0, done.stderr
    app = home / ".local" / "lib" / "matlens"
    share = home / ".local" / "share"
    command = home / ".local" / "bin" / "matlens"
    assert subprocess.run([str(command), "doctor"], capture_output=True, text=True).stdout == (
        "fake matlens doctor\n"
    )
    entry = _desktop_entry(share / "applications" / "matlens.desktop")
    assert entry["Exec"] == f'"{app}/matlens" %F'
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(share / "applications" / "matlens.desktop")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout
    assert (share / "mime" / "packages" / "matlens.xml").is_file()
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / "matlens.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "matlens.svg").is_file()
    if shutil.which("update-mime-database"):
        globs = (share / "mime" / "globs2").read_text()
        assert "application/x-gatan-dm4:*.dm4" in globs and "chemical/x-cif:*.cif" in globs

    again = _run_install(fake_tarball, home)  # an upgrade replaces the earlier install
    assert again.returncode == 0 and "Removing the MatLens already" in again.stdout

    (share / "MatLens" / "models").mkdir(parents=True)  # user data must survive uninstall
    gone = _run_install(fake_tarball, home, "--uninstall")
    assert gone.returncode == 0, gone.stderr
    assert not app.exists() and not command.is_symlink()
    assert not (share / "applications" / "matlens.desktop").exists()
    assert not (share / "mime" / "packages" / "matlens.xml").exists()
    assert not list((share / "icons").rglob("matlens.*"))
    assert (share / "MatLens" / "models").is_dir()


def test_prefix_install_and_system_needs_root(fake_tarball, tmp_path):
    prefix = tmp_path / "opt"
    done = _run_install(fake_tarball, tmp_path, "--prefix", str(prefix))
    assert done.returncode == 0, done.stderr
    assert (prefix / "bin" / "matlens").resolve() == prefix / "lib" / "matlens" / "matlens"
    assert (prefix / "share" / "applications" / "matlens.desktop").is_file()
    if os.geteuid() != 0:
        refused = _run_install(fake_tarball, tmp_path, "--system")
        assert refused.returncode == 2 and "needs root" in refused.stderr


def test_uninstall_refuses_a_folder_that_is_not_an_install(tmp_path):
    stray = tmp_path / "stray"
    stray.mkdir()
    shutil.copy(LINUX / "uninstall.sh", stray / "uninstall.sh")
    (stray / "keep.txt").write_text("mine")
    out = subprocess.run(["bash", str(stray / "uninstall.sh")], capture_output=True, text=True)
    assert out.returncode == 1 and (stray / "keep.txt").exists()


# --- Windows: Inno Setup script and the CI workflow (built on a Windows runner only) ------------


def test_inno_setup_script_installs_per_machine_with_the_four_associations():
    iss = (WINDOWS / "matlens.iss").read_text()
    assert "PrivilegesRequired=admin" in iss
    assert re.search(r'Name: "\{autoprograms\}\\MatLens"; Filename: "\{app\}\\\{#AppExe\}"', iss)
    for ext in ("cif", "dm3", "dm4", "emd"):
        assert f'Subkey: "Software\\Classes\\.{ext}\\OpenWithProgids"' in iss
        assert f'Subkey: "Software\\Classes\\MatLens.{ext}\\shell\\open\\command"' in iss
    found = re.search(r"^SetupIconFile=(.+)$", iss, re.M)
    assert found is not None, "the Inno Setup script names no icon"
    icon = found.group(1).strip()
    assert (WINDOWS / icon.replace("\\", "/")).resolve().is_file()
    assert "ChangesAssociations=yes" in iss


def test_windows_workflow_builds_the_installer_with_python_311():
    yaml = pytest.importorskip("yaml")
    flow = yaml.safe_load((REPO / ".github" / "workflows" / "windows-installer.yml").read_text())
    job = flow["jobs"]["installer"]
    assert job["runs-on"] == "windows-latest"
    steps = job["steps"]
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert any("installers/windows/build.ps1" in s.get("run", "") for s in steps)
    script = (WINDOWS / "build.ps1").read_text()
    for step in ("inference.export", "PyInstaller", "matlens.spec", "ISCC.exe", "matlens.iss"):
        assert step in script


# --- plain-words GPU reasons --------------------------------------------------------------------


def test_driver_too_old_and_no_gpu_are_said_plainly():
    old = driver_problem(12080, 1)
    assert old.startswith("NVIDIA driver too old") and "CUDA 12.8" in old and "580" in old
    assert "sees no GPU" in driver_problem(13000, 0)
    assert driver_problem(13020, 1) == ""


def test_missing_cuda_provider_library_is_detected(tmp_path):
    assert not cuda_provider_installed(tmp_path)
    import onnxruntime

    capi = Path(onnxruntime.__file__).parent / "capi"
    assert cuda_provider_installed(capi)  # the set-up venv has onnxruntime-gpu's provider


def test_no_driver_reason_on_a_machine_without_nvidia():
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        assert gpu_unavailable_reason() == "no CUDA GPU found (no NVIDIA driver)"
    else:
        pytest.skip("this machine has an NVIDIA driver")


# --- the built bundle (only after `make bundle`) ------------------------------------------------


@pytest.mark.slow
@pytest.mark.needs_bundle
def test_built_bundle_passes_its_smoke_test():
    if not (BUNDLE / "matlens").is_file():
        pytest.skip("no bundle in dist/matlens: run `make bundle` first (takes minutes)")
    out = subprocess.run(
        ["bash", str(LINUX / "smoke_test.sh"), str(BUNDLE)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "smoke: all checks passed" in out.stdout


@pytest.mark.slow
@pytest.mark.needs_bundle
def test_microscope_files_open_with_the_bundles_own_modules():
    """tests/test_imaging_io.py and the structure readers, importing MatLens and its libraries
    from the built bundle (installers/pyinstaller/bundle_modules.py): catches what the bundle
    recipe left out that a reader imports lazily (rosettasciio's DM3/MRC path, pymatgen's
    format registry)."""
    if not (BUNDLE / "matlens").is_file():
        pytest.skip("no bundle in dist/matlens: run `make bundle` first (takes minutes)")
    folder = REPO / "installers" / "pyinstaller"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "bundle_modules", "-p", "no:cacheprovider"]
        + ["tests/test_imaging_io.py", "tests/test_structures_io.py"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(folder), "MATLENS_BUNDLE": str(BUNDLE)},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "bundle_modules: imported from the bundle:" in out.stdout
    assert "rsciio" in out.stdout and "failed" not in out.stdout
