"""Start the MatLens window: `matlens` with no subcommand, or `python -m desktop.app [FILES]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import inference  # noqa: F401 - sets the offline environment before anything else loads

_START = time.perf_counter()
# Libraries that take a noticeable part of a second to import: none should load before the
# window's first paint (`--quit-after-paint` lists those that did).
HEAVY_MODULES = frozenset(
    {"matplotlib", "onnxruntime", "scipy", "sklearn", "skimage", "pymatgen", "vtkmodules", "torch"}
)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="matlens", description="MatLens desktop workbench")
    parser.add_argument("files", nargs="*", help="files to open")
    parser.add_argument("--screenshot", metavar="PNG", help="save the window to PNG, then quit")
    parser.add_argument("--screenshot-delay", type=float, default=3.0, metavar="S")
    parser.add_argument(
        "--quit-after-paint",
        action="store_true",
        help="print the time to the first painted window and quit (benchmarks)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from desktop.crash import CrashHandler
    from desktop.gc_guard import collect_on_gui_thread
    from desktop.main_window import MainWindow
    from inference.runtime.paths import resources_dir

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication), "MatLens needs a widget application, not a core one"
    app.setApplicationName("MatLens")
    app.setOrganizationName("MatLens")
    icon = resources_dir() / "icons" / "matlens.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    crash = CrashHandler(app)
    crash.install()
    collect_on_gui_thread()

    window = MainWindow()

    if args.quit_after_paint:

        class FirstPaint(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt API
                if event.type() == QEvent.Type.Paint:
                    elapsed = time.perf_counter() - _START
                    loaded = sorted({m.split(".")[0] for m in sys.modules} & HEAVY_MODULES)
                    print(f"heavy_before_paint {' '.join(loaded) or 'none'}", flush=True)
                    print(f"first_paint_s {elapsed:.3f}", flush=True)
                    QTimer.singleShot(0, app.quit)
                    obj.removeEventFilter(self)
                return False

        probe = FirstPaint(window)
        window.installEventFilter(probe)

    window.show()
    for path in args.files:
        window.open_path(Path(path))
    if args.screenshot:

        def shoot() -> None:
            # The screen's pixels include the OpenGL (VTK) view, which widget.grab() leaves black.
            if app.platformName() == "offscreen":
                image = window.grab()
            else:
                image = window.screen().grabWindow(window.winId())
            image.save(args.screenshot)
            print(f"saved {args.screenshot}", flush=True)
            window.close()

        QTimer.singleShot(int(args.screenshot_delay * 1000), shoot)
    code = app.exec()
    window.deleteLater()
    app.processEvents()
    return code


if __name__ == "__main__":
    sys.exit(main())
