"""Render resources/icons/matlens.svg to the PNG sizes Linux desktops use and a Windows .ico.

Run once after editing the SVG (`.venv/bin/python installers/make_icons.py`); the outputs are
committed so that builds need neither Qt's SVG module nor this script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs one
    renderer = QSvgRenderer(str(ICONS / "matlens.svg"))
    pngs = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = ICONS / f"matlens-{size}.png"
        image.save(str(out))
        pngs.append(out)
    (ICONS / "matlens.png").write_bytes((ICONS / "matlens-256.png").read_bytes())
    largest = Image.open(pngs[-1])
    largest.save(ICONS / "matlens.ico", sizes=[(s, s) for s in SIZES])
    print(f"wrote {len(pngs)} PNGs, matlens.png and matlens.ico into {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
