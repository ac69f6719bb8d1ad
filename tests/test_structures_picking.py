"""Atom picking with a real mouse: QTest presses and releases on the VTK widget itself, at the
screen position where an atom is drawn, and the pick label changes as a person sees it.

Runs with whatever display the session has: under Xvfb (`xvfb-run -a`) VTK renders through
GLX into a real X window; without a display the conftest chooses offscreen Qt and OSMesa. Both
deliver the same Qt mouse events to the widget, which is what broke: VTK's trackball style
grabbed the event focus on the press, so the release never reached the picking code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from inference.runtime.paths import samples_dir
from inference.structures.picking import describe_atom

pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")


@pytest.fixture
def nacl(open_pane, qtbot):
    from desktop.panes.structure.pane import StructurePane

    pane = open_pane(StructurePane, size=(1000, 700))
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(samples_dir() / "NaCl.cif")
    qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
    assert not pane.errors, pane.errors
    return pane


def _visible_atoms(view, scene):
    """Atoms whose drawn centre is on screen and not hidden behind another atom: index ->
    widget position (where a person would click)."""
    w, h = view.render_window.GetSize()
    found = {}
    for index, position in enumerate(scene.atoms.positions):
        x, y = view.project(position)
        if 5 < x < w - 5 and 5 < y < h - 5 and view.pick_at(x, y) == index:
            found[index] = view.widget_point(x, y).toPoint()
    return found


def _click(qtbot, widget, point, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, modifier, point)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, point)


def test_a_real_click_on_an_atom_names_it_and_shift_click_measures(qtbot, nacl):
    pane, scene = nacl, nacl.scene
    widget = pane.view.vtk_widget
    atoms = scene.atoms
    visible = _visible_atoms(pane.view, scene)
    sodium = [i for i in visible if atoms.elements[i] == "Na"]
    chlorine = [i for i in visible if atoms.elements[i] == "Cl"]
    assert sodium and chlorine, "no atom of each element is in view"
    first = sodium[0]
    before = pane.pick_label.text()

    _click(qtbot, widget, visible[first])
    qtbot.waitUntil(lambda: pane.pick_label.text() != before, timeout=5000)
    text = pane.pick_label.text()
    x, y, z = atoms.positions[first] @ np.linalg.inv(scene.lattice)  # fractional coordinates
    assert text.startswith("Na — site Na1"), text
    assert "Wyckoff 4a" in text, text  # sodium's site in Fm-3m
    assert f"at ({x:.4f}, {y:.4f}, {z:.4f})" in text, text
    assert pane.picked == [first]

    # Shift+click the nearest visible chlorine: the label gives the Na–Cl distance
    d = {i: float(np.linalg.norm(atoms.positions[i] - atoms.positions[first])) for i in chlorine}
    partner = min(d, key=lambda i: d[i])
    _click(qtbot, widget, visible[partner], Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: pane.picked == [first, partner], timeout=5000)
    assert pane.pick_label.text().endswith(f"{d[partner]:.4f} Å"), pane.pick_label.text()

    # a click on empty space clears the selection
    corner = QPoint(6, 6)
    assert pane.view.pick_at(*pane.view.display_point(QPointF(corner))) is None
    _click(qtbot, widget, corner)
    qtbot.waitUntil(lambda: pane.picked == [], timeout=5000)
    assert pane.pick_label.text() == before

    # a drag turns the crystal and picks nothing
    camera = pane.view.renderer.GetActiveCamera()
    eye = camera.GetPosition()
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=visible[first])
    for step in range(1, 6):
        qtbot.mouseMove(widget, visible[first] + QPoint(12 * step, 5 * step))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=visible[first] + QPoint(60, 25))
    assert pane.picked == []
    assert camera.GetPosition() != eye, "the drag did not rotate the view"


def test_the_same_clicks_with_the_other_renderer():
    """The clicks again, in a process that renders the other way: under Xvfb (VTK through GLX
    into a real X window, as on a desktop) when this run has no display, else offscreen Qt and
    OSMesa, the conftest's choice without one."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "VTK_DEFAULT_OPENGL_WINDOW", "DISPLAY")
    }
    test = f"{Path(__file__).name}::test_a_real_click_on_an_atom_names_it_and_shift_click_measures"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test]
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            pytest.skip("xvfb-run is missing: install xvfb (installers/linux/system-deps.sh)")
        command = [xvfb, "-a", "-s", "-screen 0 1280x1024x24", *command]
    run = subprocess.run(
        command, cwd=Path(__file__).parent, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_a_picked_atom_on_a_cell_edge_has_no_minus_zero():
    """Atoms drawn on the cell's edges (LaB6's La, KAlF4's Al, graphite's C in COD files) read
    "at (-0.0000, 1.0000, -0.0000)" when picked: rounding noise of the inverse cell."""
    from conftest import shared

    from inference.structures.analysis import analyze
    from inference.structures.bonds import find_bonds
    from inference.structures.model import ReadOptions
    from inference.structures.reader import read_structures
    from inference.structures.scene import build_scene

    names = ("1000055-unrecognised-spacegroup.cif", "1000125-cell-diff.cif")
    names += ("1011060-graphite-atom-label.cif",)
    for name in names:
        path = shared("structures", "cod_tools_cifs", name)
        structure = read_structures(path, ReadOptions(timeout_s=0)).blocks[0].structure
        scene = build_scene(structure, find_bonds(structure), None, True)
        texts = [
            describe_atom(scene, analyze(structure), i).text() for i in range(len(scene.atoms))
        ]
        assert not [t for t in texts if "-0.0000" in t], name
        assert any("(0.0000, " in t or " 0.0000)" in t for t in texts), name
