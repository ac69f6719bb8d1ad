"""VTK props that draw a `Scene`: one prop per kind of thing, never one per atom.

Atoms are vtkOpenGLSphereMapper impostors and bonds vtkOpenGLStickMapper impostors (the fast
path of VTK's own molecule mapper): each atom or half-bond is one point in a buffer, shaded per
pixel as a true sphere or cylinder with correct depth. Unlike vtkPointGaussianMapper's flat
splats they intersect properly, and unlike vtkGlyph3DMapper they cost no triangles: 10⁵ atoms
turn at several frames per second even in software OpenGL (benchmarks/structure_render.py).
Beyond 60,000 bonds, bonds become lines. Partly occupied sites are drawn as coloured wedges
(VESTA style) from a small mesh; polyhedra are one translucent triangle mesh with its edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import vtkActor, vtkActor2D, vtkPolyDataMapper, vtkProp
from vtkmodules.vtkRenderingLabel import vtkLabeledDataMapper
from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLSphereMapper, vtkOpenGLStickMapper

from desktop.panes.structure.meshes import feature_edges, replicate, wedge_template
from inference.structures.elements import color as element_color
from inference.structures.visibility import Eye, atoms_in_sight

if TYPE_CHECKING:
    from inference.structures.scene import Scene

LINE_BONDS = 60_000  # more bonds than this are drawn as 2-pixel lines: at that scale a bond
# is a few pixels long, and lines cost software OpenGL a tenth of what stick impostors do
MAX_WEDGE_ATOMS = 5000  # more partly occupied atoms than this are drawn as plain spheres
MAX_LABELS = 3000
LABEL_SIZE = 13  # points
HEAVY_SCENE = 40_000  # bonds + atoms above which bonds hide while the view rotates
CELL_COLOR = (0.15, 0.15, 0.15)
POLYHEDRA_OPACITY = 0.55
HIGHLIGHT = (1.0, 0.85, 0.1)


def _points(points: np.ndarray) -> vtkPoints:
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(np.ascontiguousarray(points, dtype=np.float64), deep=True))
    return pts


def _cells(offsets: np.ndarray, connectivity: np.ndarray) -> vtkCellArray:
    cells = vtkCellArray()
    cells.SetData(
        numpy_to_vtkIdTypeArray(np.ascontiguousarray(offsets, dtype=np.int64), deep=True),
        numpy_to_vtkIdTypeArray(np.ascontiguousarray(connectivity, dtype=np.int64), deep=True),
    )
    return cells


def _array(values: np.ndarray, name: str):
    arr = numpy_to_vtk(np.ascontiguousarray(values), deep=True)
    arr.SetName(name)
    return arr


def point_cloud(points: np.ndarray, **arrays: np.ndarray) -> vtkPolyData:
    """Points with one vertex cell each (the impostor mappers draw vertices) and point arrays."""
    poly = vtkPolyData()
    poly.SetPoints(_points(points))
    n = len(points)
    poly.SetVerts(_cells(np.arange(n + 1), np.arange(n)))
    for name, values in arrays.items():
        poly.GetPointData().AddArray(_array(values, name))
    if "colors" in arrays:
        poly.GetPointData().SetActiveScalars("colors")
    return poly


def sphere_actor(
    centers: np.ndarray, radii: np.ndarray, colors: np.ndarray, opacity: float = 1.0
) -> vtkActor:
    poly = point_cloud(
        centers,
        radius=np.asarray(radii, np.float32),
        colors=np.asarray(colors, np.uint8).reshape(-1, 3),
    )
    mapper = vtkOpenGLSphereMapper()
    mapper.SetInputData(poly)
    mapper.SetScaleArray("radius")
    mapper.SetColorModeToDirectScalars()
    mapper.ScalarVisibilityOn()
    actor = vtkActor()
    actor.SetMapper(mapper)
    _shiny(actor)
    actor.GetProperty().SetOpacity(opacity)
    return actor


def _shiny(actor: vtkActor) -> None:
    prop = actor.GetProperty()
    prop.SetAmbient(0.15)
    prop.SetDiffuse(0.8)
    prop.SetSpecular(0.35)
    prop.SetSpecularPower(40)


def stick_actor(
    starts: np.ndarray, ends: np.ndarray, radius: float, colors: np.ndarray
) -> vtkActor:
    """Cylinders from starts to ends (the stick mapper needs colours, or it crashes)."""
    vec = ends - starts
    length = np.linalg.norm(vec, axis=1)
    ok = length > 1e-9
    vec, length = vec[ok], length[ok]
    centers = 0.5 * (starts[ok] + ends[ok])
    # The stick mapper draws |orientation| × scale[0] long: a unit orientation and the length.
    orientation = (vec / length[:, None]).astype(np.float32)
    scale = np.column_stack([length, np.full_like(length, radius), np.full_like(length, radius)])
    poly = point_cloud(
        centers,
        orient=orientation,
        scale=scale.astype(np.float32),
        colors=np.asarray(colors, np.uint8).reshape(-1, 3)[ok],
    )
    mapper = vtkOpenGLStickMapper()
    mapper.SetInputData(poly)
    mapper.SetScaleArray("scale")
    mapper.SetOrientationArray("orient")
    mapper.SetColorModeToDirectScalars()
    mapper.ScalarVisibilityOn()
    actor = vtkActor()
    actor.SetMapper(mapper)
    _shiny(actor)
    return actor


def line_actor(
    segments: np.ndarray, rgb=CELL_COLOR, width: float = 1.5, colors: np.ndarray | None = None
) -> vtkActor:
    """Straight lines, (k, 2, 3); `colors` (k, 3) colours each line, (k, 2, 3) each end."""
    poly = vtkPolyData()
    poly.SetPoints(_points(segments.reshape(-1, 3)))
    k = len(segments)
    poly.SetLines(_cells(np.arange(0, 2 * k + 1, 2), np.arange(2 * k)))
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    if colors is not None:
        colors = np.asarray(colors, np.uint8)
        per_point = colors.reshape(-1, 3) if colors.ndim == 3 else np.repeat(colors, 2, axis=0)
        poly.GetPointData().SetScalars(_array(per_point, "colors"))
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(*rgb)
    prop.SetLineWidth(width)
    prop.LightingOff()
    return actor


def mesh_actor(
    vertices: np.ndarray,
    triangles: np.ndarray,
    colors: np.ndarray,
    normals: np.ndarray | None = None,
    opacity: float = 1.0,
    cell_colors: bool = False,
) -> vtkActor:
    poly = vtkPolyData()
    poly.SetPoints(_points(vertices))
    t = len(triangles)
    poly.SetPolys(_cells(np.arange(0, 3 * t + 1, 3), np.asarray(triangles).reshape(-1)))
    data = poly.GetCellData() if cell_colors else poly.GetPointData()
    data.SetScalars(_array(np.asarray(colors, np.uint8).reshape(-1, 3), "colors"))
    if normals is not None:
        poly.GetPointData().SetNormals(_array(np.asarray(normals, np.float32), "normals"))
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    mapper.SetColorModeToDirectScalars()
    mapper.SetScalarModeToUseCellData() if cell_colors else mapper.SetScalarModeToUsePointData()
    actor = vtkActor()
    actor.SetMapper(mapper)
    _shiny(actor)
    actor.GetProperty().SetOpacity(opacity)
    return actor


def label_points(points: np.ndarray, texts: list[str], atoms: np.ndarray) -> vtkPolyData:
    """The labels' input: a point per label with its text and the index of its atom."""
    poly = point_cloud(points, atom=np.asarray(atoms, np.int64))
    strings = vtkStringArray()
    strings.SetName("label")
    for text in texts:
        strings.InsertNextValue(text)
    poly.GetPointData().AddArray(strings)
    return poly


def label_actor(points: np.ndarray, texts: list[str], atoms: np.ndarray) -> vtkActor2D:
    mapper = vtkLabeledDataMapper()
    mapper.SetInputData(label_points(points, texts, atoms))
    mapper.SetLabelModeToLabelFieldData()
    mapper.SetFieldDataName("label")
    text = mapper.GetLabelTextProperty()
    text.SetColor(0.05, 0.05, 0.05)
    text.SetFontSize(LABEL_SIZE)
    text.BoldOn()
    text.ItalicOff()
    text.ShadowOff()
    text.SetJustificationToCentered()
    text.SetVerticalJustificationToCentered()
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    return actor


class SceneProps:
    """Everything drawn for one scene; the view adds `props` to its renderer."""

    def __init__(self, scene: Scene, labels: bool = False) -> None:
        self.scene = scene
        self.atoms: list[vtkActor] = []
        self.bonds: vtkActor | None = None
        self.cell: vtkActor | None = None
        self.polyhedra: list[vtkActor] = []
        self.labels: vtkActor2D | None = None
        self._label_texts: dict[int, str] = {}  # atom index -> its label, for every labelled atom
        self._labels_seen_from: Eye | None = None
        self.notices: list[str] = []
        self._wedge_poly: vtkPolyData | None = None
        self._wedge_groups: list = []
        self._build_atoms()
        self._build_bonds()
        self._build_polyhedra()
        if len(scene.cell_edges):
            self.cell = line_actor(scene.cell_edges)
        self.set_labels(labels)

    @property
    def props(self) -> list[vtkProp]:
        items: list[vtkProp] = [*self.atoms, *self.polyhedra]
        for extra in (self.bonds, self.cell, self.labels):
            if extra is not None:
                items.append(extra)
        return items

    @property
    def heavy(self) -> bool:
        return len(self.scene.atoms) + len(self.scene.bonds) > HEAVY_SCENE

    # atoms -----------------------------------------------------------------------------------
    def _build_atoms(self) -> None:
        atoms = self.scene.atoms
        if len(atoms) == 0:
            return
        wedge = atoms.partial.copy()
        if wedge.sum() > MAX_WEDGE_ATOMS:
            self.notices.append(
                f"{int(wedge.sum()):,} partly occupied atoms: drawn in the colour of their "
                "main element"
            )
            wedge[:] = False
        solid = ~wedge
        if solid.any():
            self.atoms.append(
                sphere_actor(atoms.positions[solid], atoms.radii[solid], atoms.colors[solid])
            )
        if wedge.any():
            self.atoms.append(self._wedges(np.nonzero(wedge)[0]))

    def _wedges(self, indices: np.ndarray) -> vtkActor:
        scene, atoms = self.scene, self.scene.atoms
        groups = []
        for site in np.unique(atoms.site[indices]):
            chosen = indices[atoms.site[indices] == site]
            fractions = [
                (occ, element_color(el, scene.options.color_scheme))
                for el, occ in scene.site_species[site]
            ]
            groups.append((wedge_template(fractions), chosen))
        self._wedge_groups = groups
        vertices, normals, triangles, colors = self._wedge_mesh(np.array([0.0, 0.0, 1.0]))
        actor = mesh_actor(vertices, triangles, colors, normals=normals)
        self._wedge_poly = actor.GetMapper().GetInput()
        return actor

    def _wedge_mesh(self, axis: np.ndarray):
        atoms = self.scene.atoms
        rotation = rotation_to(axis)
        offset = 0
        vertices, normals, triangles, colors = [], [], [], []
        for (v, t, c), chosen in self._wedge_groups:
            turned = (v @ rotation.T, t, c)
            pv, pn, pt, pc = replicate(turned, atoms.positions[chosen], atoms.radii[chosen])
            vertices.append(pv)
            normals.append(pn)
            triangles.append(pt + offset)
            colors.append(pc)
            offset += len(pv)
        return (
            np.concatenate(vertices),
            np.concatenate(normals),
            np.concatenate(triangles),
            np.concatenate(colors),
        )

    @property
    def has_wedges(self) -> bool:
        return self._wedge_poly is not None

    def face_wedges(self, toward_camera: np.ndarray) -> None:
        """Turn the pie of every partly occupied site to face the camera, so the visible
        sectors show the true occupancies."""
        if self._wedge_poly is None:
            return
        vertices, normals, _, _ = self._wedge_mesh(np.asarray(toward_camera, float))
        self._wedge_poly.SetPoints(_points(vertices))
        self._wedge_poly.GetPointData().SetNormals(_array(normals.astype(np.float32), "normals"))
        self._wedge_poly.Modified()

    # bonds -------------------------------------------------------------------------------------
    def _build_bonds(self) -> None:
        bonds, atoms = self.scene.bonds, self.scene.atoms
        if len(bonds) == 0 or bonds.radius <= 0:
            return
        pa, pb = atoms.positions[bonds.a], atoms.positions[bonds.b]
        if len(bonds) > LINE_BONDS:  # one line per bond, shaded from one atom's colour to the other
            ends = np.stack([atoms.colors[bonds.a], atoms.colors[bonds.b]], axis=1)
            ends = (ends * 0.7).astype(np.uint8)  # unlit lines look brighter than shaded atoms
            self.bonds = line_actor(np.stack([pa, pb], axis=1), width=2.0, colors=ends)
            self.notices.append(f"{len(bonds):,} bonds drawn as lines")
            return
        middle = 0.5 * (pa + pb)
        # Two half-sticks per bond, each in the colour of its own atom.
        starts = np.concatenate([pa, middle])
        ends = np.concatenate([middle, pb])
        colors = np.concatenate([atoms.colors[bonds.a], atoms.colors[bonds.b]])
        self.bonds = stick_actor(starts, ends, bonds.radius, colors)

    # polyhedra ---------------------------------------------------------------------------------
    def _build_polyhedra(self) -> None:
        poly = self.scene.polyhedra
        if len(poly) == 0:
            return
        self.polyhedra.append(
            mesh_actor(
                poly.vertices,
                poly.triangles,
                poly.colors,
                opacity=POLYHEDRA_OPACITY,
                cell_colors=True,
            )
        )
        edges = feature_edges(poly.vertices, poly.triangles)
        if len(edges):
            segments = poly.vertices[edges]
            self.polyhedra.append(line_actor(segments, rgb=(0.25, 0.25, 0.3), width=1.2))

    # labels ------------------------------------------------------------------------------------
    def set_labels(self, visible: bool) -> None:
        if not visible:
            if self.labels is not None:
                self.labels.SetVisibility(False)
            return
        if self.labels is None:
            atoms = self.scene.atoms
            shown = np.nonzero(~atoms.outside)[0]
            if len(shown) > MAX_LABELS:
                self.notices.append(f"labels are shown for up to {MAX_LABELS:,} atoms")
                return
            self._label_texts = {int(i): _label_text(self.scene, int(i)) for i in shown}
            texts = list(self._label_texts.values())
            self.labels = label_actor(atoms.positions[shown], texts, shown)
        self._labels_seen_from = None  # hidden labels were not kept up with the camera
        self.labels.SetVisibility(True)

    def label_atoms_in_sight(self, eye: Eye) -> None:
        """Label only the atoms seen from `eye` (`inference.structures.visibility`): a label of
        an atom behind another would sit on the front atom. Called before every render; the
        work is done only when the camera has moved."""
        if self.labels is None or not self.labels.GetVisibility():
            return
        if eye == self._labels_seen_from:
            return
        self._labels_seen_from = eye
        atoms = self.scene.atoms
        candidates = np.fromiter(self._label_texts, np.int64, len(self._label_texts))
        seen = atoms_in_sight(atoms.positions, atoms.radii, eye, among=candidates)
        texts = [self._label_texts[int(i)] for i in seen]
        mapper = cast("vtkLabeledDataMapper", self.labels.GetMapper())  # from label_actor()
        mapper.SetInputData(label_points(atoms.positions[seen], texts, seen))

    def scale_labels(self, factor: float) -> None:
        """Grow the label font for a picture rendered at `factor` times the window size."""
        if self.labels is not None:
            mapper = cast("vtkLabeledDataMapper", self.labels.GetMapper())  # from label_actor()
            mapper.GetLabelTextProperty().SetFontSize(round(LABEL_SIZE * factor))

    def set_detail(self, full: bool) -> None:
        """Hide bonds and polyhedra while a heavy scene rotates (level of detail)."""
        for prop in [self.bonds, *self.polyhedra]:
            if prop is not None:
                prop.SetVisibility(full)


def rotation_to(axis: np.ndarray) -> np.ndarray:
    """A rotation matrix taking the z axis onto `axis`."""
    z = np.asarray(axis, float) / np.linalg.norm(axis)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.column_stack([x, y, z])


def _label_text(scene: Scene, index: int) -> str:
    """The file's label ('O2'); a partly occupied site shows its occupancies instead."""
    if scene.atoms.partial[index]:
        return scene.atom_species(index)
    return scene.atom_name(index)


def highlight_props(scene: Scene, picked: list[int]) -> list[vtkProp]:
    """A halo around picked atoms and lines between them."""
    if not picked:
        return []
    atoms = scene.atoms
    idx = np.asarray(picked, int)
    halo = sphere_actor(
        atoms.positions[idx],
        atoms.radii[idx] * 1.3 + 0.08,
        np.tile(np.array([[255, 215, 25]], np.uint8), (len(idx), 1)),
        opacity=0.45,
    )
    props: list[vtkProp] = [halo]
    if len(idx) > 1:
        pts = atoms.positions[idx]
        segments = np.stack([pts[:-1], pts[1:]], axis=1)
        props.append(line_actor(segments, rgb=HIGHLIGHT, width=3.0))
    return props
