"""Symmetry, cells, XRD and export on real structures."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from inference.errors import MatLensError
from inference.runtime.paths import samples_dir
from inference.structures.analysis import analyze, cell_variant
from inference.structures.export import ExportFormat, export_structure
from inference.structures.io import ReadOptions
from inference.structures.prepared import prepare
from inference.structures.reader import read_structures
from inference.structures.xrd import compute_xrd, write_csv

SAMPLES = samples_dir()


def block(name):
    return read_structures(SAMPLES / name, ReadOptions(timeout_s=0)).blocks[0]


def test_nacl_info():
    info = analyze(block("NaCl.cif").structure)
    assert (info.spacegroup_symbol, info.spacegroup_number) == ("Fm-3m", 225)
    assert info.crystal_system == "cubic"
    assert (info.formula, info.reduced_formula, info.nsites) == ("Na4Cl4", "NaCl", 8)
    assert info.lattice is not None  # a crystal has a cell
    assert info.lattice.a == pytest.approx(5.6402) and info.lattice.alpha == 90
    assert info.density == pytest.approx(2.1635, abs=1e-3)  # g/cm³, handbook 2.165
    assert {s.wyckoff for s in info.sites if s.species == "Na"} == {"4a"}
    assert {s.wyckoff for s in info.sites if s.species == "Cl"} == {"4b"}
    record = info.to_json()
    for key in (
        "formula",
        "reduced_formula",
        "spacegroup_symbol",
        "spacegroup_number",
        "lattice",
        "volume",
        "density",
        "nsites",
    ):
        assert key in record


def test_wyckoff_multiplicity_is_conventional_in_the_primitive_cell():
    structure = block("NaCl.cif").structure
    primitive, notice = cell_variant(structure, "primitive")
    assert notice is None and len(primitive) == 2
    info = analyze(primitive)
    assert sorted(s.wyckoff for s in info.sites) == ["4a", "4b"]
    assert [s.label for s in info.sites] == ["Na1", "Cl1"]
    conventional, _ = cell_variant(primitive, "conventional")
    assert len(conventional) == 8


def test_tolerance_changes_the_space_group():
    distorted = Structure(
        Lattice.cubic(4.0), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.52]]
    )  # CsCl with Cl shifted by 0.08 Å
    assert analyze(distorted, symprec=0.01).spacegroup_number == 99  # P4mm
    assert analyze(distorted, symprec=0.2).spacegroup_number == 221  # Pm-3m


def test_partial_occupancy_info():
    info = analyze(block("CuAu_disordered.cif").structure)
    assert not info.is_ordered and info.spacegroup_number == 225
    assert info.sites[0].species == "Cu0.75Au0.25" and info.sites[0].wyckoff == "4a"


def test_prepare_combines_cell_info_and_bonds():
    prepared = prepare(block("SrTiO3.cif"), "conventional", 0.01)
    assert prepared.info.spacegroup_symbol == "Pm-3m"
    assert len(prepared.neighbors) == 12  # Ti–O both ways; Sr in its cage has none


def test_xrd_nacl_cu_ka():
    pattern = compute_xrd(block("NaCl.cif").structure)
    strongest = max(pattern.peaks, key=lambda p: p.intensity)
    assert strongest.hkls == ((2, 0, 0),)
    assert strongest.two_theta == pytest.approx(31.70, abs=0.05)  # d = 2.820 Å
    assert strongest.intensity == pytest.approx(100)
    first = pattern.peaks[0]
    assert first.hkls == ((1, 1, 1),) and first.two_theta == pytest.approx(27.36, abs=0.05)
    mo = compute_xrd(block("NaCl.cif").structure, "MoKa")
    assert mo.peaks[0].two_theta < first.two_theta
    custom = compute_xrd(block("NaCl.cif").structure, 1.5406)
    assert custom.radiation == "" and custom.wavelength == 1.5406
    with pytest.raises(MatLensError):
        compute_xrd(block("NaCl.cif").structure, "XyKa")


def test_radiation_table_matches_pymatgen():
    from pymatgen.analysis.diffraction.xrd import WAVELENGTHS

    from inference.structures.xrd import RADIATIONS

    assert dict(WAVELENGTHS) == RADIATIONS


def test_xrd_csv(tmp_path):
    path = write_csv(compute_xrd(block("NaCl.cif").structure), tmp_path / "x.csv")
    lines = path.read_text().splitlines()
    assert lines[1].startswith("two_theta_deg,intensity,d_spacing_A,hkl")
    assert "(1 1 1)" in lines[2]


def test_export_round_trips(tmp_path):
    structure = block("SrTiO3.cif").structure
    formats: tuple[tuple[ExportFormat, str], ...] = (
        ("cif-symmetrized", "s.cif"),
        ("cif-p1", "p1.cif"),
        ("poscar", "POSCAR"),
        ("xyz", "s.xyz"),
    )
    for fmt, name in formats:
        path = export_structure(structure, tmp_path / name, fmt).path
        back = read_structures(path, ReadOptions(timeout_s=0)).blocks[0].structure
        assert back.composition.reduced_formula == "SrTiO3", fmt
    assert "Pm-3m" in (tmp_path / "s.cif").read_text()
    assert "_symmetry_space_group_name_H-M   'P 1'" in (tmp_path / "p1.cif").read_text()
    assert 'Lattice="3.90500000' in (tmp_path / "s.xyz").read_text()
    alloy = block("CuAu_disordered.cif").structure
    with pytest.raises(MatLensError, match="partial occupancies"):
        export_structure(alloy, tmp_path / "a.vasp", "poscar")
    path = export_structure(alloy, tmp_path / "a.cif", "cif-symmetrized").path
    assert "0.75" in path.read_text()
