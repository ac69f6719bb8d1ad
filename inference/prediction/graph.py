"""CHGNet's crystal graph built with numpy and pymatgen, so the ONNX network needs no torch.

The atom graph holds every directed pair within 6 Å (each with its periodic image); a pair and
its reverse share one undirected bond. The bond graph holds every pair of bonds shorter than
3 Å that meet at an atom (CHGNet's angles). The layout matches `chgnet.graph.CrystalGraph`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError

if TYPE_CHECKING:
    from collections.abc import Sequence

ATOM_CUTOFF = 6.0  # CHGNet 0.3.0 (model.graph_converter.atom_graph_cutoff)
BOND_CUTOFF = 3.0
MAX_Z = 94  # CHGNet's embedding covers H..Pu


@dataclass(frozen=True)
class CrystalGraph:
    """One structure's graph; indices are local to the structure."""

    atomic_numbers: np.ndarray  # [A] int64
    positions: np.ndarray  # [A, 3] Cartesian Å
    lattice: np.ndarray  # [3, 3] rows are lattice vectors, Å
    atom_graph: np.ndarray  # [B, 2] center, neighbour (directed)
    image: np.ndarray  # [B, 3] periodic image of the neighbour
    directed2undirected: np.ndarray  # [B]
    undirected2directed: np.ndarray  # [U]
    bond_graph: np.ndarray  # [N, 5] atom, bond1 (undir), bond1 (dir), bond2 (undir), bond2 (dir)

    @property
    def n_atoms(self) -> int:
        return len(self.atomic_numbers)


def check_structure(structure) -> None:
    """One-line errors for what CHGNet cannot handle (molecules, unknown or heavy elements)."""
    if not hasattr(structure, "lattice"):
        raise MatLensError("CHGNet needs a periodic crystal (this is a molecule with no cell)")
    if not structure.is_ordered:
        # No pane of MatLens orders a structure; its formula does go to the composition models.
        formula = structure.composition.reduced_formula
        raise MatLensError(
            "CHGNet needs an ordered structure (this one has partial occupancies): order it in "
            f"a supercell first, or predict from its formula ({formula}) with the composition "
            "models"
        )
    # A CIF symbol such as "Xx" becomes a dummy species whose Z is not an element's: it would
    # index CHGNet's embedding out of range, so every species is checked before any model runs.
    not_elements = sorted({str(s.specie) for s in structure if not _is_element(s.specie)})
    if not_elements:
        raise MatLensError(
            f"{', '.join(not_elements)} is not a chemical element; CHGNet needs real elements"
        )
    heavy = sorted({s.specie.symbol for s in structure if s.specie.Z > MAX_Z})
    if heavy:
        raise MatLensError(f"CHGNet covers elements up to Pu (Z=94); not {', '.join(heavy)}")


def _is_element(specie) -> bool:
    """An Element, or an ion of one (Fe2+); not a DummySpecies ("Xx", "X0+")."""
    from pymatgen.core import DummySpecies, Element

    if isinstance(specie, DummySpecies):
        return False
    element = specie if isinstance(specie, Element) else getattr(specie, "element", None)
    return isinstance(element, Element) and 1 <= element.Z <= 118


def build_graph(structure) -> CrystalGraph:
    """The graph of one pymatgen Structure (raises a one-line error for an isolated atom)."""
    check_structure(structure)
    n = len(structure)
    center, neighbor, image, distance = structure.get_neighbor_list(
        r=ATOM_CUTOFF, sites=structure.sites, numerical_tol=1e-8
    )
    center = center.astype(np.int64)
    neighbor = neighbor.astype(np.int64)
    image = np.rint(image).astype(np.int64)
    isolated = n - len(np.unique(center))
    if isolated:
        raise MatLensError(
            f"{isolated} atom(s) have no neighbour within {ATOM_CUTOFF:g} Å "
            "(a single atom or a very sparse cell); CHGNet cannot predict this structure"
        )
    d2u, u2d = _pair_bonds(center, neighbor, image)
    bond_graph = _line_graph(center, distance, d2u)
    return CrystalGraph(
        atomic_numbers=np.array([s.specie.Z for s in structure], dtype=np.int64),
        positions=np.asarray(structure.cart_coords, dtype=np.float64),
        lattice=np.asarray(structure.lattice.matrix, dtype=np.float64),
        atom_graph=np.stack([center, neighbor], axis=1),
        image=image.astype(np.float64),
        directed2undirected=d2u,
        undirected2directed=u2d,
        bond_graph=bond_graph,
    )


def _pair_bonds(center, neighbor, image) -> tuple[np.ndarray, np.ndarray]:
    """Match each directed bond i→j (image t) with its reverse j→i (image −t).

    A bond's id is the lower of its two directed indices, numbered in order (vectorised: an
    integer key per directed bond, its reverse found by binary search).
    """
    reverse = _reverse_bonds(center, neighbor, image)
    k = np.arange(len(center))
    u2d = np.flatnonzero(k < reverse)
    d2u = np.searchsorted(u2d, np.minimum(k, reverse))
    return d2u.astype(np.int64), u2d.astype(np.int64)


def _reverse_bonds(center, neighbor, image) -> np.ndarray:
    """The index of j→i (image −t) for each directed bond i→j (image t)."""
    n = int(max(center.max(initial=0), neighbor.max(initial=0))) + 1
    span = int(np.abs(image).max(initial=0))
    base = 2 * span + 1

    def key(c, nb, t):
        cell = ((t[:, 0] + span) * base + (t[:, 1] + span)) * base + (t[:, 2] + span)
        return (c * n + nb) * base**3 + cell

    keys = key(center, neighbor, image)
    order = np.argsort(keys, kind="stable")
    wanted = key(neighbor, center, -image)
    pos = np.minimum(np.searchsorted(keys, wanted, sorter=order), len(keys) - 1)
    reverse = order[pos]
    if len(keys) and not np.array_equal(keys[reverse], wanted):
        raise MatLensError("the neighbour list is not symmetric; check the structure")
    return reverse


def _line_graph(center, distance, d2u) -> np.ndarray:
    """Every ordered pair of distinct short bonds that share their center atom.

    Rows come grouped by center atom, then by first bond, then by second bond (CHGNet's order),
    built without a Python loop: bond a at offset o of a group of s takes the other s − 1.
    """
    short = np.flatnonzero(distance < BOND_CUTOFF)
    order = short[np.argsort(center[short], kind="stable")]
    centers = center[order]
    starts = np.flatnonzero(np.r_[True, centers[1:] != centers[:-1]]) if len(order) else order
    sizes = np.diff(np.r_[starts, len(order)])
    group_start = np.repeat(starts, sizes)  # per short bond: where its group starts
    offset = np.arange(len(order)) - group_start
    partners = np.repeat(sizes, sizes) - 1  # per short bond: s − 1
    a_pos = np.repeat(np.arange(len(order)), partners)
    j = np.arange(len(a_pos)) - np.repeat(np.cumsum(partners) - partners, partners)
    b_pos = np.repeat(group_start, partners) + j + (j >= np.repeat(offset, partners))
    a, b = order[a_pos], order[b_pos]
    return np.stack([center[a], d2u[a], a, d2u[b], b], axis=1).astype(np.int64).reshape(-1, 5)


@dataclass(frozen=True)
class BatchedGraph:
    """Several graphs concatenated with global indices: the ONNX model's inputs."""

    feeds: dict[str, np.ndarray]
    atoms_per_graph: np.ndarray


def batch_graphs(graphs: Sequence[CrystalGraph]) -> BatchedGraph:
    """Concatenate graphs and shift their indices (atoms, directed and undirected bonds)."""
    z, pos, lat, owner, ag, img, d2u, u2d, bg = ([] for _ in range(9))
    n_atom = n_dir = n_und = 0
    for g, graph in enumerate(graphs):
        z.append(graph.atomic_numbers)
        pos.append(graph.positions)
        lat.append(graph.lattice)
        owner.append(np.full(graph.n_atoms, g, dtype=np.int64))
        ag.append(graph.atom_graph + n_atom)
        img.append(graph.image)
        d2u.append(graph.directed2undirected + n_und)
        u2d.append(graph.undirected2directed + n_dir)
        shifted = graph.bond_graph.copy()
        shifted[:, 0] += n_atom
        shifted[:, [1, 3]] += n_und
        shifted[:, [2, 4]] += n_dir
        bg.append(shifted)
        n_atom += graph.n_atoms
        n_dir += len(graph.atom_graph)
        n_und += len(graph.undirected2directed)
    feeds = {
        "atomic_numbers": np.concatenate(z).astype(np.int64),
        "positions": np.concatenate(pos).astype(np.float32),
        "lattices": np.stack(lat).astype(np.float32),
        "strains": np.zeros((len(graphs), 3, 3), dtype=np.float32),
        "atom_owner": np.concatenate(owner),
        "atom_graph": np.concatenate(ag).astype(np.int64),
        "image": np.concatenate(img).astype(np.float32),
        "directed2undirected": np.concatenate(d2u).astype(np.int64),
        "undirected2directed": np.concatenate(u2d).astype(np.int64),
        "bond_graph": np.concatenate(bg).astype(np.int64).reshape(-1, 5),
    }
    return BatchedGraph(feeds, np.array([g.n_atoms for g in graphs], dtype=np.int64))
