"""Click → mask as the user feels it in the window: from the mouse button's release (a click is
taken on release) to the mask set on the canvas, with and without the click worked out ahead
where the pointer rests, against the plain exported decoder in the same run (issue 18, goal 2:
≥ 1.5x, mask IoU ≥ 0.99).

Run by hand: `QT_QPA_PLATFORM=offscreen python benchmarks/click_felt.py [--clicks 30]` (~1 min
on 2 CPU cores; needs `make models`). The real main window opens the image of `sam_latency.py`
(Super1 spot2_0d_0 tiled to 1024²). For each click QTest moves the pointer next to the point and
onto it, lets it rest R ms (events processed), presses, holds the button H ms and releases;
then Clear. The same points go through each variant, the order turning from click to click:

- plain decoder (reference): SamModel.predict through the exported click decoder, threads
  spinning, and the mask crop: `click_speed.py`'s reference, on the pane's embedding;
- pane, no work ahead: the window's click with the answers worked out ahead forgotten before
  the click (the pane as it was before), so the decoder runs after the release;
- pane: the window as it is.

R (the rest before pressing) and H (the press held) are the user's; a person's click holds the
button for about 0.1 s. Printed per (R, H): p50 and p90 per variant, the ratios to the
reference, and whether the pane's mask equals the no-ahead mask (IoU, same answer).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _ms(values: list[float], q: float = 0.5) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()

    import tifffile
    from click_speed import PlainSam
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from sam_latency import test_image

    from desktop.main_window import MainWindow
    from desktop.panes.micrograph.pane import MicrographPane
    from inference.runtime.sessions import OnnxModel

    app = QApplication.instance() or QApplication(sys.argv)
    image = test_image()
    folder = Path(tempfile.mkdtemp())
    path = folder / "super1_1024.tif"
    tifffile.imwrite(path, image)
    window = MainWindow()
    window.resize(1300, 850)
    window.show()
    pane = window.panes[0]
    assert isinstance(pane, MicrographPane)

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while True:
            app.processEvents()
            if time.perf_counter() >= end:
                return
            time.sleep(0.0005)

    def until(done, limit: float = 20.0) -> None:
        end = time.perf_counter() + limit
        while not done():
            if time.perf_counter() > end:
                raise SystemExit("the window did not answer in time")
            app.processEvents()
            time.sleep(0.0002)

    window.open_path(path)
    until(lambda: pane.ready, 120)
    pump(0.5)
    clicks = pane.state.workbench.clicks
    assert clicks is not None
    plain = PlainSam(use_cache=False)
    plain._decoder = OnnxModel(plain.card.path("decoder"), spin=True)
    embedding = clicks.embedding
    viewport = pane.canvas.viewport()
    shown_at: list[float] = []
    pane.state.candidates_changed.connect(lambda: shown_at.append(time.perf_counter()))

    def pane_click(x: float, y: float, rest: float, hold: float, ahead: bool):
        pos = pane.canvas.scene_pos_of(x, y)
        QTest.mouseMove(viewport, pos - QPoint(12, 7))
        pump(0.02)
        QTest.mouseMove(viewport, pos)
        pump(rest)
        if not ahead:
            clicks._ahead.clear()  # the pane before: nothing worked out ahead
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        pump(hold)
        if not ahead:
            clicks._ahead.clear()
        shown_at.clear()
        start = time.perf_counter()
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
        until(lambda: bool(shown_at) and pane.state.workbench.candidate is not None)
        elapsed = shown_at[-1] - start
        candidate = pane.state.workbench.candidate
        assert candidate is not None
        mask = candidate.mask
        QTest.mouseClick(pane.clicks.clear_button, Qt.MouseButton.LeftButton)
        QTest.mouseMove(viewport, QPoint(2, 2))  # away, so the next rest starts afresh
        pump(0.03)
        return elapsed, mask, candidate.index

    def plain_click(x: float, y: float):
        start = time.perf_counter()
        candidates = plain.predict(embedding, [(x, y, 1)])
        candidates[0].mask_crop()
        return time.perf_counter() - start

    for _ in range(3):  # sessions warm
        plain_click(100.0, 100.0)
        pane_click(100.0, 100.0, 0.05, 0.0, True)

    rng = np.random.default_rng(1)
    settings = [(0.0, 0.0), (0.05, 0.0), (0.15, 0.0), (0.15, 0.1)]
    print(f"click → mask shown, {args.clicks} clicks per setting, wall ms (1024² image)")
    print(f"{'rest R, hold H':16} {'variant':22} {'p50':>7} {'p90':>7} {'ratio':>7}  masks")
    for rest, hold in settings:
        points = rng.uniform(20, image.shape[0] - 20, (args.clicks, 2))
        times: dict[str, list[float]] = {"plain decoder": [], "pane, no work ahead": [], "pane": []}
        ious, same = [], 0
        for i, (x, y) in enumerate(points):
            order = ["plain decoder", "pane, no work ahead", "pane"]
            order = order[i % 3 :] + order[: i % 3]
            masks = {}
            for name in order:
                if name == "plain decoder":
                    times[name].append(plain_click(x, y))
                    continue
                elapsed, mask, index = pane_click(x, y, rest, hold, name == "pane")
                times[name].append(elapsed)
                masks[name] = (mask, index)
            (a, ia), (b, ib) = masks["pane"], masks["pane, no work ahead"]
            union = np.count_nonzero(a | b)
            ious.append(np.count_nonzero(a & b) / union if union else 1.0)
            same += ia == ib
        reference = statistics.median(times["plain decoder"])
        label = f"R {rest * 1e3:3.0f}, H {hold * 1e3:3.0f} ms"
        for name, values in times.items():
            ratio = reference / statistics.median(values)
            tail = f"  min IoU {min(ious):.4f}, same {same}/{len(ious)}" if name == "pane" else ""
            print(
                f"{label:16} {name:22} {_ms(values):7.1f} {_ms(values, 0.9):7.1f} "
                f"{ratio:6.2f}x{tail}",
                flush=True,
            )
    print("(ratio: p50 of the plain decoder / p50 of the variant, same run; goal ≥ 1.5x)")
    window.close()


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
