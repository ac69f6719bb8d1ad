"""Atom labels in the Structures pane name only atoms a person can see.

A lab user turned labels on for a 2×2×2 supercell and read a jumble: the labels of atoms behind
other atoms were drawn over the front ones, so "Na1" sat on a chlorine. Real pane, real VTK
(OSMesa offscreen, or GLX under `xvfb-run -a`); the labels are read back from the
vtkLabeledDataMapper after it drew them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from inference.runtime.paths import samples_dir
from inference.structures.picking import pick_atom
from inference.structures.visibility import Eye, atoms_in_sight

pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")


def _drawn_labels(view) -> dict[int, str]:
    """Atom index -> text of every label the label mapper drew in the last frame."""
    view.redraw()
    mapper = view.props.labels.GetMapper()
    atoms = view.scene.atoms
    drawn = {}
    for i in range(mapper.GetNumberOfLabels()):
        where = [0.0, 0.0, 0.0]
        mapper.GetLabelPosition(i, where)
        index = int(np.argmin(np.linalg.norm(atoms.positions - np.array(where), axis=1)))
        assert np.linalg.norm(atoms.positions[index] - where) < 1e-6, "a label off every atom"
        drawn[index] = mapper.GetLabelText(i)
    return drawn


def _column_along_view(view) -> tuple[int, int]:
    """Two atoms on one sight line through the middle of the picture: the front one and the
    one at the back of the column, which the front one hides (worked out from the camera)."""
    camera = view.renderer.GetActiveCamera()
    look = np.subtract(camera.GetFocalPoint(), camera.GetPosition())
    look /= np.linalg.norm(look)
    atoms = view.scene.atoms
    depth = atoms.positions @ look
    across = atoms.positions - depth[:, None] * look  # where each atom lands in the picture
    middle = across[np.argmin(np.linalg.norm(across - across.mean(axis=0), axis=1))]
    column = np.nonzero(np.linalg.norm(across - middle, axis=1) < 1e-6)[0]
    assert len(column) >= 3, "no column of atoms along the view"
    front, back = column[np.argmin(depth[column])], column[np.argmax(depth[column])]
    return int(front), int(back)


def test_labels_of_hidden_atoms_are_not_drawn_and_show_once_turned_to_the_front(qtbot, open_pane):
    from desktop.panes.structure.pane import StructurePane

    pane = open_pane(StructurePane, size=(1000, 700))
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(samples_dir() / "NaCl.cif")
    qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
    pane.set_supercell((2, 2, 2))
    qtbot.waitUntil(lambda: not pane.busy and len(pane.scene.atoms) == 125, timeout=60000)
    assert not pane.errors, pane.errors
    qtbot.mouseClick(pane.labels_check, Qt.MouseButton.LeftButton)
    assert pane.labels_check.isChecked()
    view = pane.view
    scene = view.scene

    pane.view_along((1, 0, 0))
    front, back = _column_along_view(view)
    drawn = _drawn_labels(view)
    assert drawn.get(front) == scene.atom_name(front)
    assert back not in drawn, f"{scene.atom_name(back)} behind {scene.atom_name(front)} labelled"
    assert len(drawn) == 25  # the 5 × 5 atoms of the front face, and no others
    if shots := os.environ.get("MATLENS_SHOTS"):
        from PySide6.QtGui import QImage

        rgb = np.ascontiguousarray(view.grab_pixels(scale=1))
        h, w, _ = rgb.shape
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        image.save(str(Path(shots) / "labels_nacl_2x2x2_along_100.png"))

    # A picture exported at 3× the window is drawn in tiles: the same labels are drawn.
    view.grab_pixels(scale=3)
    assert _drawn_labels(view) == drawn

    pane.view_along((-1, 0, 0))  # turned round: the back of the column is now in front
    drawn = _drawn_labels(view)
    assert drawn.get(back) == scene.atom_name(back)
    assert front not in drawn

    # Labels turned off, the view turned back, labels on again: they follow the new view.
    qtbot.mouseClick(pane.labels_check, Qt.MouseButton.LeftButton)
    pane.view_along((1, 0, 0))
    qtbot.mouseClick(pane.labels_check, Qt.MouseButton.LeftButton)
    drawn = _drawn_labels(view)
    assert front in drawn and back not in drawn


@pytest.mark.parametrize("parallel", [True, False])
def test_atoms_in_sight_are_those_a_ray_through_their_centre_hits_first(parallel):
    """The geometry under the labels, against one ray–sphere pick per atom."""
    rng = np.random.default_rng(7)
    positions = rng.uniform(0, 10, (300, 3))
    radii = rng.uniform(0.3, 1.2, 300)
    look = np.array([0.3, -0.8, 0.5])
    look /= np.linalg.norm(look)
    camera = np.array([5.0, 5.0, 5.0]) - 40 * look
    eye = Eye(tuple(camera), tuple(look), parallel)  # pyright: ignore[reportArgumentType]
    expected = []
    for i, centre in enumerate(positions):
        origin, toward = (centre - 100 * look, look) if parallel else (camera, centre - camera)
        if pick_atom(origin, toward, positions, radii) == i:
            expected.append(i)
    seen = atoms_in_sight(positions, radii, eye)
    assert 0 < len(seen) < len(positions)
    assert seen.tolist() == expected
    among = np.array(expected[:5] + [i for i in range(300) if i not in expected][:5])
    assert atoms_in_sight(positions, radii, eye, among=among).tolist() == expected[:5]
