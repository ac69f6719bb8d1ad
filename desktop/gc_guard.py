"""Python's cyclic garbage collector runs on the GUI thread only.

Left automatic, a collection can start in whichever thread allocates when the threshold is
reached, and that may be a worker. If the garbage holds Qt widgets (a closed window's menus),
PySide deletes them from the worker while the GUI thread waits on the same Qt mutex: the app
hangs (seen with a pymatgen import in a worker collecting an old window's QMenu). pyqtgraph's
collector disables the automatic one and collects on a GUI-thread timer instead.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_on_gui_thread(interval_s: float = 1.0) -> None:
    """Install once, after the QApplication exists."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
