"""The backend-neutral scene on real structures: atoms, boundary images, bonds, polyhedra,
supercells, hidden elements, molecules, picking and the meshes the renderer draws."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Molecule, Structure
from scipy.spatial import ConvexHull

from inference.errors import MatLensError
from inference.structures.bonds import find_bonds
from inference.structures.picking import describe_atom, measure, pick_atom
from inference.structures.reader import boxed
from inference.structures.scene import SceneOptions, build_scene
from inference.structures.views import along, parse_uvw


@pytest.fixture(scope="module")
def nacl():
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.6402), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


@pytest.fixture(scope="module")
def srtio3():
    return Structure.from_spacegroup(
        "Pm-3m",
        Lattice.cubic(3.905),
        ["Sr", "Ti", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0]],
    )


def scene_of(structure, **options):
    return build_scene(structure, find_bonds(structure), SceneOptions(**options))


def test_nacl_conventional_cell_with_boundary_images(nacl):
    scene = scene_of(nacl)
    atoms = scene.atoms
    assert len(nacl) == 8
    inside = np.all(atoms.cell == 0, axis=1)
    assert inside.sum() == 8  # the 8 atoms of the conventional cell ...
    # ... plus their images on faces, edges and corners: 8 Na corners + 6 faces, 12 Cl edges + 1.
    assert (atoms.elements == "Na").sum() == 14 and (atoms.elements == "Cl").sum() == 13
    frac = atoms.positions @ np.linalg.inv(scene.lattice)
    assert frac.min() > -1e-9 and frac.max() < 1 + 1e-9
    assert not scene_of(nacl, boundary_images=False).atoms.cell.any()


def test_nacl_bonds_are_na_cl_at_2_82(nacl):
    scene = scene_of(nacl)
    a, b = scene.bonds.a, scene.bonds.b
    lengths = np.linalg.norm(scene.atoms.positions[a] - scene.atoms.positions[b], axis=1)
    assert len(scene.bonds) == 54
    np.testing.assert_allclose(lengths, 5.6402 / 2, atol=1e-6)
    pairs = {
        tuple(sorted(p)) for p in zip(scene.atoms.elements[a], scene.atoms.elements[b], strict=True)
    }
    assert pairs == {("Cl", "Na")}
    assert find_bonds(nacl).method == "CrystalNN"


def test_cutoff_bonds_match_crystalnn_on_nacl(nacl):
    cnn = find_bonds(nacl, method="crystalnn")
    cut = find_bonds(nacl, method="cutoff")
    assert len(cnn) == len(cut) == 48  # 8 atoms × 6 neighbours
    np.testing.assert_allclose(np.sort(cut.distance), np.sort(cnn.distance))


def test_srtio3_octahedra_and_no_sr_cage_bonds(srtio3):
    scene = scene_of(srtio3, style="polyhedral")
    poly = scene.polyhedra
    assert len(poly) == 1 and scene.atoms.elements[poly.centers[0]] == "Ti"
    assert len(poly.triangles) == 8  # an octahedron
    ball = scene_of(srtio3)
    elements = {
        tuple(sorted(p))
        for p in zip(
            ball.atoms.elements[ball.bonds.a], ball.atoms.elements[ball.bonds.b], strict=True
        )
    }
    assert elements == {("O", "Ti")}  # Sr–O (12-fold cage) and Sr–Ti are not drawn as bonds
    assert len(ball.bonds) == 6


def test_polyhedra_are_completed_outside_the_cell():
    # Ti on the corners: each corner octahedron needs oxygens outside the cell.
    corner = Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.905), ["Ti", "Sr", "O"], [[0, 0, 0], [0.5] * 3, [0.5, 0, 0]]
    )
    scene = scene_of(corner, style="polyhedral")
    assert len(scene.polyhedra) == 8
    assert scene.atoms.outside.sum() > 0
    assert set(scene.atoms.elements[scene.atoms.outside]) == {"O"}


def test_supercell_counts_and_hidden_elements(nacl):
    scene = scene_of(nacl, supercell=(2, 3, 1))
    inside = np.all(scene.atoms.cell < [2, 3, 1], axis=1)
    frac = scene.atoms.positions @ np.linalg.inv(scene.lattice)
    assert (np.all(frac < [2, 3, 1], axis=1) & inside).sum() == 8 * 6
    hidden = scene_of(nacl, supercell=(2, 2, 2), hidden_elements=frozenset({"Cl"}))
    assert set(hidden.atoms.elements) == {"Na"} and len(hidden.bonds) == 0
    assert len(scene.cell_edges) == 24  # supercell outline + the first unit cell


def test_every_style_builds(nacl):
    radii = {}
    for style in ("ball-and-stick", "space-filling", "sticks", "polyhedral"):
        scene = scene_of(nacl, style=style)
        radii[style] = float(scene.atoms.radii.max())
    assert radii["space-filling"] > radii["ball-and-stick"] > radii["sticks"]
    assert len(scene_of(nacl, style="space-filling").bonds) == 0


def test_hundred_thousand_atoms_build_fast(nacl):
    bonds = find_bonds(nacl)
    start = time.perf_counter()
    scene = build_scene(nacl, bonds, SceneOptions(supercell=(23, 23, 24)))
    elapsed = time.perf_counter() - start
    assert len(scene.atoms) > 100_000
    assert len(scene.bonds) > 300_000
    assert elapsed < 5.0, f"scene took {elapsed:.2f} s"


def test_too_large_supercell_is_refused(nacl):
    with pytest.raises(MatLensError, match="supercell"):
        scene_of(nacl, supercell=(60, 60, 60), max_atoms=100_000)


def test_partial_occupancy_is_kept_and_labelled():
    alloy = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(3.75), [Composition({"Cu": 0.75, "Au": 0.25})], [[0, 0, 0]]
    )
    vacancy = Structure(Lattice.cubic(4), [{"Fe": 0.5}], [[0, 0, 0]])
    scene = scene_of(alloy)
    assert scene.atoms.partial.all()
    assert scene.atom_species(0) == "Cu0.75Au0.25"
    assert set(scene.atoms.elements) == {"Cu"}  # drawn in the colour of the main element
    assert scene_of(vacancy).atom_species(0) == "Fe0.5"


def test_molecule_has_no_cell_or_images():
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0.757, 0.586, 0], [-0.757, 0.586, 0]])
    scene = build_scene(boxed(water), find_bonds(boxed(water), periodic=False), periodic=False)
    assert len(scene.atoms) == 3 and len(scene.cell_edges) == 0
    assert len(scene.bonds) == 2


def test_pick_and_measure(nacl):
    scene = scene_of(nacl)
    atoms = scene.atoms
    target = int(np.argmax(atoms.positions[:, 2]))  # an atom on the top face
    origin = atoms.positions[target] + [0, 0, 50]
    hit = pick_atom(origin, np.array([0, 0, -1.0]), atoms.positions, atoms.radii)
    assert hit is not None and atoms.positions[hit][2] == pytest.approx(atoms.positions[target][2])
    down = np.array([0, 0, -1.0])
    assert pick_atom(origin + [100, 0, 0], down, atoms.positions, atoms.radii) is None
    na = int(np.nonzero((atoms.elements == "Na") & ~atoms.cell.any(axis=1))[0][0])
    d = np.linalg.norm(atoms.positions - atoms.positions[na], axis=1)
    cl = [int(i) for i in np.argsort(d) if atoms.elements[i] == "Cl"][:2]
    distance, angle = measure(scene, [na, cl[0]]), measure(scene, [cl[0], na, cl[1]])
    assert distance is not None and distance.value == pytest.approx(2.8201)
    assert angle is not None and angle.value == pytest.approx(90.0)
    pick = describe_atom(scene, None, na)
    assert pick.element == "Na" and pick.frac == pytest.approx((0.0, 0.0, 0.0))


def test_views_along_axes_and_uvw(nacl):
    lattice = nacl.lattice.matrix
    v = along(lattice, (0, 0, 1))
    np.testing.assert_allclose(v.direction, [0, 0, 1], atol=1e-12)
    assert abs(v.up @ v.direction) < 1e-12
    assert parse_uvw("[1-10]") == (1.0, -1.0, 0.0)
    assert parse_uvw("1, 1, 0") == (1.0, 1.0, 0.0)
    with pytest.raises(MatLensError):
        parse_uvw("0 0 0")


def test_wedge_and_edge_meshes():
    from desktop.panes.structure.meshes import feature_edges, wedge_template

    vertices, triangles, colors = wedge_template([(0.5, (255, 0, 0)), (0.25, (0, 0, 255))])
    np.testing.assert_allclose(np.linalg.norm(vertices, axis=1), 1.0)
    assert {tuple(c) for c in colors} == {(255, 0, 0), (0, 0, 255), (236, 236, 236)}
    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    tris = ConvexHull(cube).simplices
    assert len(feature_edges(cube, tris)) == 12  # not the face diagonals
