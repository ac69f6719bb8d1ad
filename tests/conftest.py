"""Shared test set-up: a headless Qt platform, private settings, and the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MATLENS_SHARED_DATA", REPO.parent / "shared" / "data"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Where `make models` exported the models, read before any test redirects the user folders.
from inference.runtime.paths import models_dir  # noqa: E402

MODELS_DIR = str(models_dir())


IN_CI = os.environ.get("CI", "").lower() == "true"
# Under CI a skip is a failure: a missing model, data set or library there means the check did
# not run. Only GPU tests (CI has no GPU) and tests of a built bundle may skip.
CI_MAY_SKIP = ("gpu", "needs_bundle")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not any(item.get_closest_marker(m) for m in CI_MAY_SKIP):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where it must run: {reason}"


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # Without a display, Qt renders offscreen and VTK through OSMesa (other mixes segfault).
    if not os.environ.get("DISPLAY") and os.name != "nt":
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")


@pytest.fixture(autouse=True, scope="session")
def _gc_on_the_gui_thread(qapp):
    """As in the app: a collection in a worker thread can delete old widgets there and hang."""
    from desktop.gc_guard import collect_on_gui_thread

    collect_on_gui_thread()


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Settings, caches and logs go to a temp folder; models stay where `make models` put them."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("MATLENS_DATA", str(base / "data"))
    monkeypatch.setenv("MATLENS_CACHE", str(base / "cache"))
    monkeypatch.setenv("MATLENS_LOGS", str(base / "logs"))
    monkeypatch.setenv("MATLENS_SETTINGS", str(base / "settings.ini"))
    monkeypatch.setenv("MATLENS_MODELS", MODELS_DIR)


def _files_beside_shared_images() -> set[Path]:
    """MatLens's own files (sidecars, their temp files) inside the shared image folders."""
    found: set[Path] = set()
    for folder in ("segmentation", "microscope_formats"):
        root = SHARED_DATA / folder
        if root.is_dir():
            found.update(root.rglob("*.matlens.json*"))
    return found


@pytest.fixture(autouse=True)
def _shared_data_stays_untouched():
    """The shared data belongs to others: a test that writes beside it (a sidecar after an edit,
    which root can do in a read-only folder) fails, and the file is removed."""
    before = _files_beside_shared_images()
    yield
    written = _files_beside_shared_images() - before
    for path in written:
        path.unlink(missing_ok=True)
    assert not written, f"the test wrote into ../shared/data: {sorted(map(str, written))}"


def shared(*parts: str) -> Path:
    """A file in ../shared/data, or a skip that says why."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (clone with ../shared beside the checkout)")
    return path


@pytest.fixture
def shared_data():
    return shared


@pytest.fixture
def open_pane(qtbot):
    """Build a real pane outside the main window, collecting its messages as a person sees them.

    Usage: `pane = open_pane(LiteraturePane, size=(1300, 800))`; `pane.errors` and
    `pane.statuses` hold the one-line messages it showed.
    """
    from desktop.panes.base import AppContext
    from desktop.workers import JobRunner

    made = []

    def make(pane_class, size=(1100, 700)):
        errors: list[str] = []
        statuses: list[str] = []
        jobs = JobRunner()
        context = AppContext(
            jobs=jobs,
            show_error=lambda r: errors.append(getattr(r, "message", str(r))),
            show_status=statuses.append,
        )
        widget = pane_class(context)
        widget.errors, widget.statuses = errors, statuses
        qtbot.addWidget(widget)
        widget.resize(*size)
        widget.show()
        qtbot.waitExposed(widget)
        made.append((widget, jobs))
        return widget

    yield make
    for widget, jobs in made:
        widget.shutdown()
        jobs.wait(10000)
        widget.close()


@pytest.fixture
def main_window(qtbot):
    """The real main window with its four panes, shown (offscreen) and closed afterwards."""
    from desktop.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1300, 850)
    window.show()
    yield window
    window.close()


@pytest.fixture
def micrograph_sample(tmp_path):
    """A copy of the bundled superalloy micrograph, so sidecars never land in resources/."""
    import shutil

    from inference.runtime.paths import samples_dir

    source = samples_dir() / "superalloy_precipitates.tif"
    return Path(shutil.copy(source, tmp_path / source.name))


@pytest.fixture
def mobile_sam_exported():
    """A skip naming the fix when MobileSAM is not exported (a failure under CI=true)."""
    from inference.errors import ModelUnavailable
    from inference.runtime.registry import require

    try:
        require("mobile_sam")
    except ModelUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def sam_model():
    """MobileSAM over ONNX without the disk cache, or a skip naming the fix when not exported."""
    from inference.errors import ModelUnavailable
    from inference.segmentation.sam import SamModel

    sam = SamModel(use_cache=False)
    try:
        sam.card  # noqa: B018 - raises ModelUnavailable when the files are not exported
    except ModelUnavailable as exc:
        pytest.skip(f"MobileSAM is not exported: {exc}")
    return sam


@pytest.fixture(autouse=True)
def _rss_log(request):
    """MATLENS_TEST_RSS_LOG=FILE writes each test's resident memory after it (to find leaks)."""
    yield
    log = os.environ.get("MATLENS_TEST_RSS_LOG")
    if not log:
        return
    import gc
    import resource

    if os.environ.get("MATLENS_TEST_GC") == "1":
        gc.collect()
    rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    counts = ""
    if os.environ.get("MATLENS_TEST_COUNT"):
        import collections

        names = os.environ["MATLENS_TEST_COUNT"].split(",")
        tally = collections.Counter(
            type(o).__name__ for o in gc.get_objects() if type(o).__name__ in names
        )
        counts = " ".join(f"{n}={tally[n]}" for n in names)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"{rss / 2**20:.0f}\t{peak / 2**20:.0f}\t{request.node.nodeid}\t{counts}\n")
