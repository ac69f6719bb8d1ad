"""Run tests against the modules of a built bundle: a pytest plugin and an import hook.

`pytest -p bundle_modules tests/test_imaging_io.py` (with installers/pyinstaller on PYTHONPATH
and MATLENS_BUNDLE=dist/matlens) imports MatLens and every library the bundle carries from the
bundle: Python modules from the executable's PYZ archive, extension modules and data files from
`_internal`. A module the bundle left out (bundle_config.EXCLUDES, a dropped extension module or
submodule of a bundled package) fails to import as it would in the frozen app, so a test that
still passes shows the bundle has what that code path needs. The standard library and the test
tools (pytest, its plugins) come from this Python as usual.

Child processes (the CIF parser's time limit) are not covered: they import from the venv.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

import pytest

_PYZ_PACKAGE, _PYZ_NAMESPACE = 1, 3  # PyInstaller's PYZ type codes (pyimod01_archive)


class BundleFinder(importlib.abc.MetaPathFinder):
    """Finds modules in a built bundle's PYZ and `_internal`; refuses what it left out."""

    def __init__(self, bundle: Path, excludes: tuple[str, ...]):
        # PyInstaller is a build tool, installed by `make bundle` only.
        from PyInstaller.archive.readers import (  # pyright: ignore[reportMissingImports]
            CArchiveReader,
        )

        executable = next(p for p in (bundle / "matlens", bundle / "matlens.exe") if p.is_file())
        self.internal = bundle / "_internal"
        self.pyz = CArchiveReader(str(executable)).open_embedded_archive("PYZ.pyz")
        self.excludes = excludes
        self.tops = {name.partition(".")[0] for name in self.pyz.toc}
        self.tops |= {
            p.name.partition(".")[0]
            for p in self.internal.glob("*.so")
            if p.is_file() and not p.name.startswith("lib")
        }
        self.tops -= set(sys.stdlib_module_names) | _TEST_TOOLS
        self.served: set[str] = set()
        self.from_venv: set[str] = set()

    def _excluded(self, name: str) -> bool:
        return any(name == e or name.startswith(e + ".") for e in self.excludes)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in _TEST_TOOLS:
            return None
        if self._excluded(fullname):
            if self._for_tests(fullname):  # e.g. torch, which a test compares against
                return _venv_spec(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r} (left out of the bundle)")
        if top not in self.tops:
            return None
        self.served.add(top)
        entry = self.pyz.toc.get(fullname)
        folder = self.internal.joinpath(*fullname.split("."))
        if entry is not None:
            kind = entry[0]
            if kind == _PYZ_NAMESPACE:
                spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
                spec.submodule_search_locations = [str(folder)]
                return spec
            package = kind == _PYZ_PACKAGE
            origin = folder / "__init__.py" if package else folder.with_suffix(".py")
            return importlib.util.spec_from_file_location(
                fullname,
                origin,
                loader=_PyzLoader(self.pyz, fullname, str(origin)),
                submodule_search_locations=[str(folder)] if package else None,
            )
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = folder.with_name(folder.name + suffix)
            if candidate.is_file():
                loader = importlib.machinery.ExtensionFileLoader(fullname, str(candidate))
                return importlib.util.spec_from_file_location(fullname, candidate, loader=loader)
        spec = self._from_a_package_finder(fullname, path, target)
        if spec is not None:
            return spec
        if self._for_tests(fullname):  # a test's own reference reader (rsciio.tiff)
            return _venv_spec(fullname)
        raise ModuleNotFoundError(f"No module named {fullname!r} (not in the bundle)")

    def _for_tests(self, fullname: str) -> bool:
        """Whether a module the bundle lacks is wanted by a test, not by the app: imported in a
        test file, or by (or inside) a module a test already took from the venv."""
        parent = fullname.rpartition(".")[0]
        frame = sys._getframe(2)
        while frame is not None and "importlib" in frame.f_code.co_filename:
            frame = frame.f_back
        importer = frame.f_globals.get("__name__") if frame is not None else None
        in_tests = frame is not None and Path(frame.f_code.co_filename).parent.name == "tests"
        in_tests |= str(importer).startswith("_pytest")  # pytest.importorskip in a test
        if in_tests or parent in self.from_venv or importer in self.from_venv:
            self.from_venv.add(fullname)
            return True
        return False

    def _from_a_package_finder(self, fullname, path, target):
        """Modules a bundled package makes on the fly with its own finder (toolz's `tlz`)."""
        for finder in sys.meta_path:
            if finder is self or type(finder).__module__.partition(".")[0] not in self.served:
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None


def _venv_spec(fullname: str):
    """Where this Python would find the module without the bundle."""
    top, *rest = fullname.split(".")
    spec = importlib.machinery.PathFinder.find_spec(top)
    if not rest or spec is None or not spec.submodule_search_locations:
        return spec
    folder = Path(spec.submodule_search_locations[0]).joinpath(*rest[:-1])
    return importlib.machinery.PathFinder.find_spec(fullname, [str(folder)])


class _PyzLoader(importlib.abc.Loader):
    def __init__(self, pyz, name: str, origin: str):
        self.pyz, self.name, self.origin = pyz, name, origin

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.origin
        exec(self.pyz.extract(self.name), module.__dict__)

    def get_code(self, fullname):  # runpy, multiprocessing
        return self.pyz.extract(fullname)


def install(bundle: Path) -> BundleFinder:
    """Put the bundle first on the import path (before anything it carries is imported)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bundle_config

    finder = BundleFinder(bundle, bundle_config.EXCLUDES)
    finder.tops -= set(sys.modules)  # what pytest's own start-up imported stays as it is
    sys.meta_path.insert(0, finder)
    return finder


# Test tools the bundle may also carry a copy of; they keep coming from this Python.
_TEST_TOOLS = {"pytest", "_pytest", "pytestqt", "pluggy", "iniconfig", "packaging", "py"}

_FINDER: BundleFinder | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _FINDER
    bundle = Path(os.environ.get("MATLENS_BUNDLE", Path(__file__).parents[2] / "dist" / "matlens"))
    _FINDER = install(bundle.resolve())


def pytest_report_header(config):
    if _FINDER is not None:
        return f"bundle_modules: importing from {_FINDER.internal.parent}"
    return None


def pytest_terminal_summary(terminalreporter):
    if _FINDER is not None:
        served = ", ".join(sorted(_FINDER.served))
        terminalreporter.write_line(f"bundle_modules: imported from the bundle: {served}")
        if _FINDER.from_venv:  # top-level names: torch alone brings hundreds of modules
            names = ", ".join(sorted({n.partition(".")[0] for n in _FINDER.from_venv}))
            terminalreporter.write_line(
                f"bundle_modules: not in the bundle, for tests only: {names}"
            )
