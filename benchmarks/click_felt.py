"""Click → mask as the user feels it in the window: from the mouse button's release (a click is
taken on release) to the mask set on the canvas, with and without the click worked out ahead
where the pointer rests, against the plain exported decoder in the same run (issue 18, goal 2:
≥ 1.5x, mask IoU ≥ 0.99).

Run by hand: `QT_QPA_PLATFORM=offscreen python benchmarks/click_felt.py [--clicks 30]` (~1 min
on 2 CPU cores; needs `make models`). The real main window opens the image of `sam_latency.py`
(Super1 spot2_0d_0 tiled to 1024²). For each click QTest moves the pointer next to the point and
onto it, lets it rest R ms (events processed), presses, holds the button H ms and releases. The same points go through each variant, the order turning from click to click:

- plain decoder (reference): SamModel.predict through the exported click decoder, threads
  spinning, and the mask crop: `click_speed.py`'s reference, on the pane's embedding;
- pane, no work ahead: the window's click with nothing worked out ahead (the pane as it was
  before), so the decoder runs after the release;
- pane: the window as it is.

Each object gets a first click, a later left click near it and a later right click (background;
the later ones refine the mask shown, and the plain decoder's later clicks get the answer before
as their mask input). R (the rest
before pressing) and H (the press held) are the user's; a person's click holds the button for
about 0.1 s. Printed per (R, H) and click: p50 and p90 per variant and the ratios to the
reference; and whether the pane's masks equal the masks without work ahead (IoU, same answer).
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

    def one_click(x: float, y: float, rest: float, hold: float, ahead: bool, right: bool = False):
        """Move onto (x, y), rest, press, hold, release: seconds to the mask, and the mask."""
        pane.clicks.work_ahead = ahead  # off: the pane as it was before
        button = Qt.MouseButton.RightButton if right else Qt.MouseButton.LeftButton
        pos = pane.canvas.scene_pos_of(x, y)
        QTest.mouseMove(viewport, pos - QPoint(12, 7))
        pump(0.02)
        QTest.mouseMove(viewport, pos)
        pump(rest)
        QTest.mousePress(viewport, button, Qt.KeyboardModifier.NoModifier, pos)
        pump(hold)
        before = pane.state.workbench.candidate
        shown_at.clear()
        start = time.perf_counter()
        QTest.mouseRelease(viewport, button, Qt.KeyboardModifier.NoModifier, pos)
        until(lambda: bool(shown_at) and pane.state.workbench.candidate not in (None, before))
        candidate = pane.state.workbench.candidate
        assert candidate is not None
        return shown_at[-1] - start, candidate

    def pane_object(clicks_made: list[tuple[float, float, int]], rest, hold, ahead):
        """The clicks of one object (x, y, label: 1 left, 0 right), then Clear."""
        answers = [one_click(x, y, rest, hold, ahead, not label) for x, y, label in clicks_made]
        QTest.mouseClick(pane.clicks.clear_button, Qt.MouseButton.LeftButton)
        QTest.mouseMove(viewport, QPoint(2, 2))  # away, so the next rest starts afresh
        pump(0.03)
        return [t for t, _ in answers], [c for _, c in answers]

    def plain_object(clicks_made: list[tuple[float, float, int]]):
        """The plain decoder's answers to the same clicks, each later one with the mask input
        of the answer before it, as the pane feeds it back; seconds per click."""
        times, previous = [], None
        for n in range(1, len(clicks_made) + 1):
            start = time.perf_counter()
            answers = plain.predict(
                embedding, clicks_made[:n], multimask=n == 1, mask_input=previous
            )
            answers[0].mask_crop()
            times.append(time.perf_counter() - start)
            previous = answers[0].logits_lowres
        return times

    warm = [(100.0, 100.0, 1), (110.0, 104.0, 1), (95.0, 108.0, 0)]
    for _ in range(3):  # sessions warm
        plain_object(warm)
        pane_object(warm, 0.05, 0.0, True)

    rng = np.random.default_rng(1)
    settings = [(0.0, 0.0), (0.0, 0.1), (0.05, 0.0), (0.15, 0.1)]
    names = ["plain decoder", "pane, no work ahead", "pane"]
    kinds = ("first", "later", "right")  # a first click, a later left one, a later right one
    print(f"click → mask shown, {args.clicks} objects per setting, wall ms (1024² image)")
    print(f"{'rest R, hold H':16} {'click':6} {'variant':20} {'p50':>6} {'p90':>6} {'ratio':>6}")
    for rest, hold in settings:
        firsts = rng.uniform(40, image.shape[0] - 40, (args.clicks, 2))
        laters = firsts + rng.uniform(-15, 15, (args.clicks, 2))
        rights = firsts + rng.uniform(-30, 30, (args.clicks, 2))
        times = {(n, k): [] for n in names for k in range(len(kinds))}
        ious, same = [], 0
        for i in range(args.clicks):
            made = [(*firsts[i], 1), (*laters[i], 1), (*rights[i], 0)]
            made = [(float(x), float(y), label) for x, y, label in made]
            answers = {}
            for name in names[i % 3 :] + names[: i % 3]:
                if name == "plain decoder":
                    spent = plain_object(made)
                else:
                    spent, answers[name] = pane_object(made, rest, hold, name == "pane")
                for k, t in enumerate(spent):
                    times[name, k].append(t)
            for mine, theirs in zip(answers["pane"], answers["pane, no work ahead"], strict=True):
                a, b = mine.mask, theirs.mask
                union = np.count_nonzero(a | b)
                ious.append(np.count_nonzero(a & b) / union if union else 1.0)
                same += mine.index == theirs.index
        label = f"R {rest * 1e3:3.0f}, H {hold * 1e3:3.0f} ms"
        for k, kind in enumerate(kinds):
            reference = statistics.median(times["plain decoder", k])
            for name in names:
                values = times[name, k]
                ratio = reference / statistics.median(values)
                print(
                    f"{label:16} {kind:6} {name:20} {_ms(values):6.1f} {_ms(values, 0.9):6.1f}"
                    f" {ratio:5.2f}x",
                    flush=True,
                )
        print(
            f"{label:16} masks of the pane against the pane without work ahead: min IoU"
            f" {min(ious):.4f}, same answer {same}/{len(ious)}"
        )
    print("(ratio: p50 of the plain decoder / p50 of the variant, same run; goal ≥ 1.5x)")
    window.close()


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
