"""The Structures pane as a crystallographer uses it: open a CIF, change style and supercell,
pick atoms, measure, export a picture and files. Real Qt widgets, real VTK rendering (OSMesa
offscreen when there is no display; see conftest)."""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np
import pytest

from inference.runtime.paths import samples_dir

pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")

SAMPLES = samples_dir()


def _vtk_can_render() -> str | None:
    """Why VTK cannot draw here, or None (OSMesa must exist when Qt runs offscreen)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        import ctypes.util

        if os.environ.get("VTK_DEFAULT_OPENGL_WINDOW") != "vtkOSOpenGLRenderWindow":
            return "no display and VTK is not set to OSMesa (VTK_DEFAULT_OPENGL_WINDOW)"
        if not ctypes.util.find_library("OSMesa"):
            return "no display and no libOSMesa (apt install libosmesa6)"
    return None


def structure_window(qtbot):
    """A shown main window with the Structures pane alone, as a person opens files in it
    (File ▸ Open routes through `open_path`); skips where VTK cannot draw."""
    reason = _vtk_can_render()
    if reason:
        pytest.skip(f"VTK cannot render in this environment: {reason}")
    from desktop.main_window import MainWindow
    from desktop.panes.structure.pane import StructurePane

    window = MainWindow(pane_classes=[StructurePane], warm_up=False)
    qtbot.addWidget(window)
    window.show()
    assert isinstance(window.panes[0], StructurePane)
    return window


@contextlib.contextmanager
def structure_file_opened(qtbot, path):
    """`structure_window` with `path` opened and drawn: (window, pane); the window is closed
    afterwards, whatever the test asserted."""
    from desktop.panes.structure.pane import StructurePane

    window = structure_window(qtbot)
    pane = window.panes[0]
    assert isinstance(pane, StructurePane)
    try:
        assert window.open_path(path)
        qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
        yield window, pane
    finally:
        window.close()


@pytest.fixture
def pane(open_pane):
    reason = _vtk_can_render()
    if reason:
        pytest.skip(f"VTK cannot render in this environment: {reason}")
    from desktop.panes.structure.pane import StructurePane

    return open_pane(StructurePane, size=(1100, 700))


def _wait_idle(qtbot, pane, timeout=60000):
    qtbot.waitUntil(lambda: not pane.busy, timeout=timeout)
    assert not pane.errors, pane.errors


def _open(qtbot, pane, name):
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(SAMPLES / name)
    _wait_idle(qtbot, pane)
    assert pane.scene is not None


def _png_pixels(path):
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull()
    ptr = image.constBits()
    data = np.frombuffer(ptr, np.uint8, image.sizeInBytes())
    return image, data


def test_open_style_supercell_pick_export(qtbot, pane, tmp_path):
    from pymatgen.io.vasp import Poscar

    _open(qtbot, pane, "NaCl.cif")
    info = pane.prepared.info
    assert info.spacegroup_symbol == "Fm-3m" and info.spacegroup_number == 225
    assert pane.scene is not None and len(pane.scene.atoms) == 27 and len(pane.scene.bonds) == 54
    assert pane.info.fields["spacegroup"].text().startswith("Fm-3m")
    assert pane.info.table.rowCount() == 8

    for style in ("space-filling", "sticks", "polyhedral", "ball-and-stick"):
        pane.set_style(style)
        _wait_idle(qtbot, pane)
        assert pane.scene.options.style == style
    pane.radius_combo.setCurrentIndex(pane.radius_combo.findData("ionic"))
    pane.color_combo.setCurrentIndex(pane.color_combo.findData("Jmol"))
    _wait_idle(qtbot, pane)
    na_color = pane.scene.atoms.colors[pane.scene.atoms.elements == "Na"][0]
    assert tuple(na_color) == (171, 92, 242)  # Jmol's sodium violet
    pane.set_supercell((2, 2, 2))
    _wait_idle(qtbot, pane)
    assert len(pane.scene.atoms) == 125  # (2·2+1)³ fcc-on-rocksalt points
    # The supercell shown is what a POSCAR export holds (it held one 8-atom cell).
    pane.export("poscar", tmp_path / "supercell.vasp")
    _wait_idle(qtbot, pane)
    assert len(Poscar.from_file(tmp_path / "supercell.vasp").structure) == 64

    # Picking: a real click on the atom nearest the middle of the view hits an atom ...
    view = pane.view
    w, h = view.render_window.GetSize()
    assert view.pick_at(w / 2, h / 2) is not None
    # ... and the handler describes it, then measures distance and angle.
    atoms = pane.scene.atoms
    na = int(np.nonzero((atoms.elements == "Na") & np.all(atoms.cell == 0, axis=1))[0][0])
    d = np.linalg.norm(atoms.positions - atoms.positions[na], axis=1)
    cl = [int(i) for i in np.argsort(d) if atoms.elements[i] == "Cl"][:2]
    text = pane.pick_atom(na)
    assert "Na" in text and "4a" in text and "(0.0000, 0.0000, 0.0000)" in text
    pane.pick_atom(cl[0])  # a plain click starts a new selection
    assert pane.pick_atom(na, add=True).endswith("2.8201 Å")
    assert pane.pick_atom(cl[1], add=True).endswith("90.00°")  # the angle at the middle atom
    pane.pick_atom(None)
    assert pane.picked == []

    pane.set_element_visible("Cl", False)
    _wait_idle(qtbot, pane)
    assert set(pane.scene.atoms.elements) == {"Na"}
    pane.set_element_visible("Cl", True)
    _wait_idle(qtbot, pane)

    pane.labels_check.setChecked(True)
    pane.view_along((1, 1, 0))
    png = tmp_path / "nacl.png"
    pane.export("png", png)  # grabbed now, written by a worker
    _wait_idle(qtbot, pane)
    image, pixels = _png_pixels(png)
    w, h = pane.view.render_window.GetSize()
    assert (image.width(), image.height()) == (3 * w, 3 * h)
    assert pixels.std() > 20, "the exported picture is blank"

    for kind, name in (("cif-symmetrized", "out.cif"), ("poscar", "out.vasp"), ("xyz", "o.xyz")):
        pane.export(kind, tmp_path / name)
    pane.export("xrd", tmp_path / "xrd.csv")
    _wait_idle(qtbot, pane)
    assert "Fm-3m" in (tmp_path / "out.cif").read_text()
    assert (tmp_path / "xrd.csv").read_text().count("\n") > 5


def test_blocks_partial_occupancy_and_xrd(qtbot, pane):
    _open(qtbot, pane, "NaCl_KCl_two_blocks.cif")
    assert pane.block_combo.count() == 2 and pane.block_combo.isVisibleTo(pane)
    pane.select_block(1)
    _wait_idle(qtbot, pane)
    assert pane.prepared.info.reduced_formula == "KCl"
    assert pane.pattern is not None and pane.pattern.peaks
    strongest = pane.xrd.peak_near(28.4, 0.3)  # KCl (200) with Cu Kα
    assert strongest is not None and "(2 0 0)" in pane.xrd.describe_peak(strongest)

    _open(qtbot, pane, "CuAu_disordered.cif")
    assert pane.scene.atoms.partial.all()
    assert pane.view.props.has_wedges
    assert "Cu0.75Au0.25" in pane.pick_atom(0)
    pane.info.variant.setCurrentIndex(pane.info.variant.findData("primitive"))
    _wait_idle(qtbot, pane)
    assert pane.prepared.structure.num_sites == 1


def test_bad_file_gives_one_line(qtbot, pane, tmp_path):
    bad = tmp_path / "broken.cif"
    bad.write_text("data_x\n_cell_length_a 5\n")
    pane.open_path(bad)
    qtbot.waitUntil(lambda: bool(pane.errors), timeout=60000)
    assert len(pane.errors) == 1 and "\n" not in pane.errors[0]
    assert "broken.cif" in pane.errors[0]


def test_main_window_routes_structure_files(qtbot, tmp_path):
    reason = _vtk_can_render()
    if reason:
        pytest.skip(f"VTK cannot render in this environment: {reason}")
    import shutil

    from desktop.main_window import MainWindow
    from desktop.panes.structure.pane import StructurePane

    window = MainWindow(pane_classes=[StructurePane])
    qtbot.addWidget(window)
    window.show()
    pane = window.panes[0]
    assert isinstance(pane, StructurePane)
    poscar = tmp_path / "POSCAR"  # no extension: routed by name
    shutil.copy(SAMPLES / "NaCl.cif", tmp_path / "NaCl.cif")
    from inference.structures.export import export_structure
    from inference.structures.reader import read_structures

    structure = read_structures(tmp_path / "NaCl.cif").blocks[0].structure
    export_structure(structure, poscar, "poscar")
    assert window.open_path(poscar)
    qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
    assert pane.prepared is not None and pane.prepared.info.reduced_formula == "NaCl"
    view = pane.view
    assert view is not None
    window.close()  # shutdown() finalizes the VTK window before Qt deletes it
    assert view._finalized


def test_a_read_that_runs_out_of_time_offers_more_time(qtbot, pane, tmp_path):
    """A 2,744-atom P1 cell (pymatgen's CIF reader is quadratic in the sites: several seconds)
    with a 1 s limit: one line calling it large, then 'Try with more time' reads and draws it."""
    from PySide6.QtCore import Qt
    from structure_mutants import nacl_supercell_cif

    path = tmp_path / "nacl-7x7x7.cif"
    path.write_bytes(nacl_supercell_cif((7, 7, 7)))
    pane.time_limit_s = 1.0
    pane._read(path)
    qtbot.waitUntil(lambda: pane.more_time_button.isVisible(), timeout=60000)
    assert len(pane.errors) == 1
    assert pane.errors[0].startswith("nacl-7x7x7.cif is large (2,744 atoms listed), not malformed")
    assert pane.more_time_button.text() == "Try with more time (5 min)"
    with qtbot.waitSignal(pane.file_opened, timeout=300000):
        qtbot.mouseClick(pane.more_time_button, Qt.MouseButton.LeftButton)
    assert pane.time_limit_s == 300 and not pane.more_time_button.isVisible()
    pane.errors.clear()
    _wait_idle(qtbot, pane, timeout=300000)
    assert pane.prepared.info.nsites == 2744 and pane.prepared.info.spacegroup_symbol == "Fm-3m"


def test_first_open_after_start_up_uses_the_prewarmed_reader(qtbot, monkeypatch):
    """The window starts the reader's child process in the background after its first paint;
    the first CIF a person opens (Open… button, file dialog) is read by that same child, not a
    new one started on demand, and is drawn."""
    reason = _vtk_can_render()
    if reason:
        pytest.skip(f"VTK cannot render in this environment: {reason}")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from desktop.main_window import MainWindow
    from desktop.panes.structure.pane import StructurePane
    from inference.structures.timelimit import default_runner

    default_runner().kill()  # as at start-up: no child yet (earlier tests may have left one)
    window = MainWindow(pane_classes=[StructurePane])
    qtbot.addWidget(window)
    window.show()
    pane = window.panes[0]
    assert isinstance(pane, StructurePane)
    qtbot.waitUntil(lambda: pane.reader_start_slot.busy, timeout=10000)  # after the first paint
    qtbot.waitUntil(lambda: not pane.reader_start_slot.busy, timeout=120000)
    child = default_runner().pid
    assert child is not None, "the start-up work did not start the reader"
    assert not pane.busy and pane.scene is None  # nothing shown or waited on meanwhile

    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(SAMPLES / "NaCl.cif"), "")
    )
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        qtbot.mouseClick(pane.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
    assert default_runner().pid == child  # read and analysed by the prewarmed child
    prepared, scene = pane.prepared, pane.scene
    assert prepared is not None and prepared.info.spacegroup_symbol == "Fm-3m"
    assert scene is not None and len(scene.atoms) == 27
    assert not window.banner.error_text
    window.close()


def test_an_export_onto_the_open_file_is_refused_and_the_file_kept(qtbot, pane, tmp_path):
    """Saving "CIF with space group" over the CIF that is open replaced it (its comments and
    uncertainties) with the regenerated file, without a word."""
    cif = tmp_path / "NaCl.cif"
    cif.write_bytes((SAMPLES / "NaCl.cif").read_bytes())
    before = cif.read_bytes()
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(cif)
    _wait_idle(qtbot, pane)
    pane.export("cif-symmetrized", cif)
    qtbot.waitUntil(lambda: bool(pane.errors), timeout=60000)
    assert pane.errors == [
        "NaCl.cif is the file the structure was read from: save the export under another "
        "name (it would replace the file with less than it holds)"
    ]
    assert cif.read_bytes() == before


def test_a_bad_file_opened_while_a_good_one_is_prepared_leaves_the_good_one_shown(
    qtbot, pane, tmp_path
):
    """NaCl read, and a broken CIF opened before NaCl's symmetry and bonds were found: the
    broken one got its line, and NaCl stayed named in the title but was never drawn, its
    exports answering "Open a structure first"."""
    broken = tmp_path / "broken.cif"
    broken.write_text("data_x\n_cell_length_a 5\nthis is not a CIF\n")
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        pane.open_path(SAMPLES / "NaCl.cif")
    pane.open_path(broken)
    qtbot.waitUntil(lambda: bool(pane.errors), timeout=60000)
    qtbot.waitUntil(lambda: not pane.busy and pane.prepared is not None, timeout=60000)
    assert len(pane.errors) == 1 and "broken.cif" in pane.errors[0]
    assert pane.file is not None and pane.file.path.name == "NaCl.cif"
    assert pane.prepared.info.reduced_formula == "NaCl" and pane.scene is not None
    pane.export("poscar", tmp_path / "NaCl.vasp")
    qtbot.waitUntil(lambda: (tmp_path / "NaCl.vasp").exists(), timeout=30000)
    assert len(pane.errors) == 1
