"""Reading structure files: formats, CIF blocks, tolerant parsing, the time limit, and every odd
or malformed file in ../shared/data/structures (a structure or a one-line reason, never a crash,
a traceback or a hang)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
from conftest import shared
from pymatgen.core import Lattice, Structure

from inference.errors import JobCancelled, UnreadableFile
from inference.jobs import CancelToken
from inference.runtime.paths import samples_dir
from inference.structures.io import ReadOptions, is_structure_file, load_structures
from inference.structures.reader import read_structures
from inference.structures.timelimit import ChildRunner, ParseTimeout

if TYPE_CHECKING:
    from pathlib import Path

SAMPLES = samples_dir()
NO_LIMIT = ReadOptions(timeout_s=0)  # in-process: fast for the many small cases


def test_samples_open():
    nacl = load_structures(SAMPLES / "NaCl.cif")
    assert nacl.format == "CIF" and len(nacl.blocks) == 1
    assert nacl.blocks[0].structure.composition.reduced_formula == "NaCl"
    two = load_structures(SAMPLES / "NaCl_KCl_two_blocks.cif")
    assert two.block_names == ["NaCl_rocksalt", "KCl_sylvite"]
    alloy = read_structures(SAMPLES / "CuAu_disordered.cif", NO_LIMIT).blocks[0].structure
    assert not alloy.is_ordered  # partial occupancy kept, not dropped
    assert alloy[0].species.get_atomic_fraction("Au") == pytest.approx(0.25)


def test_other_formats(tmp_path):
    structure = Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.905), ["Sr", "Ti", "O"], [[0, 0, 0], [0.5] * 3, [0.5, 0.5, 0]]
    )
    structure.to(filename=str(tmp_path / "POSCAR"))
    structure.to(filename=str(tmp_path / "sto.xsf"))
    structure.to(filename=str(tmp_path / "sto.cssr"))
    structure.to(filename=str(tmp_path / "sto.json"))
    for name, fmt in (
        ("POSCAR", "POSCAR"),
        ("sto.xsf", "XSF"),
        ("sto.cssr", "CSSR"),
        ("sto.json", "pymatgen JSON"),
    ):
        loaded = read_structures(tmp_path / name, NO_LIMIT)
        assert loaded.format == fmt
        assert loaded.blocks[0].structure.composition.reduced_formula == "SrTiO3"
    (tmp_path / "w.xyz").write_text(
        "3\nwater\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n"
        "3\nwater 2\nO 0 0 0\nH 0.76 0.59 0\nH -0.76 0.59 0\n"
    )
    xyz = read_structures(tmp_path / "w.xyz", NO_LIMIT)
    assert xyz.block_names == ["frame 1", "frame 2"]
    assert not xyz.blocks[0].periodic
    assert is_structure_file("CONTCAR") and is_structure_file("x.cif")
    assert not is_structure_file("image.tif")


def test_xyz_frames_read_without_pandas(tmp_path):
    """Plain XYZ frames are boxed molecules, an extended XYZ with a cell stays a crystal, and
    reading either (or a CIF) imports no pandas: the installed app leaves pandas out."""
    water = tmp_path / "water.xyz.gz"
    with gzip.open(water, "wt") as fh:
        fh.write("3\nwater\nO 0 0 0\nH 0.757 0.586 0\nH -0.757 0.586 0\n")
    salt = tmp_path / "salt.xyz"
    salt.write_text(
        '2\nLattice="5.64 0 0 0 5.64 0 0 0 5.64" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
        "Na 0 0 0\nCl 2.82 2.82 2.82\n"
    )
    (tmp_path / "broken.xyz").write_text("3\nshort\nO 0 0 0\nH 0.757 0.586 0\n")
    script = f"""
import sys
from inference.errors import UnreadableFile
from inference.structures.model import ReadOptions
from inference.structures.reader import read_structures
options = ReadOptions(timeout_s=0)
water = read_structures({str(water)!r}, options).blocks[0]
salt = read_structures({str(salt)!r}, options).blocks[0]
read_structures({str(SAMPLES / "NaCl.cif")!r}, options)
try:
    read_structures({str(tmp_path / "broken.xyz")!r}, options)
except UnreadableFile as exc:
    broken = str(exc)
print(water.periodic, water.structure.composition.reduced_formula)
print(salt.periodic, salt.structure.composition.reduced_formula, salt.structure.lattice.a)
print(broken)
print("pandas" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "False H2O"
    assert lines[1] == "True NaCl 5.64"
    assert lines[2].startswith("broken.xyz: not a readable XYZ file (") and "2 atoms" in lines[2]
    assert lines[3] == "False", "reading structures imported pandas"


def _iron_mcif(tmp_path):
    """A magnetic CIF of bcc iron, its two moments opposite."""
    from pymatgen.io.cif import CifWriter

    iron = Structure(
        Lattice.cubic(2.87),
        ["Fe", "Fe"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        site_properties={"magmom": [[0, 0, 2.2], [0, 0, -2.2]]},
    )
    CifWriter(iron, write_magmoms=True).write_file(tmp_path / "fe.mcif")
    return tmp_path / "fe.mcif"


def test_magnetic_cif_keeps_moments(tmp_path):
    block = read_structures(_iron_mcif(tmp_path), NO_LIMIT).blocks[0]
    moments = [list(m) for m in block.structure.site_properties["magmom"]]
    assert moments == [[0, 0, 2.2], [0, 0, -2.2]]


def test_poscar_files_from_jarvis():
    folder = shared("structures", "alignn_poscar")
    files = sorted(folder.glob("POSCAR-*.vasp"))
    assert len(files) >= 70
    for path in files:
        loaded = read_structures(path, NO_LIMIT)
        assert len(loaded.blocks[0].structure) > 0, path.name


def test_one_line_reasons(tmp_path):
    cases = {
        "empty.cif": ("", "is empty"),
        "nocell.cif": ("data_x\nloop_\n_atom_site_label\n_atom_site_fract_x\nC 0\n", "unit cell"),
        "text.cif": ("hello world\n", "not a CIF"),
        "weird.abc": ("1 2 3\n", "cannot tell the structure format"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(UnreadableFile) as error:
            read_structures(path, NO_LIMIT)
        message = str(error.value)
        assert expected in message and "\n" not in message and name in message


def test_time_limit_stops_a_hung_parser():
    runner = ChildRunner()
    try:
        assert runner.call(pow, 2, 10, timeout=30) == 1024
        pid = runner.pid
        start = time.monotonic()
        with pytest.raises(ParseTimeout, match="longer than 1 s"):
            runner.call(time.sleep, 60, timeout=1, what="slow.cif")
        assert time.monotonic() - start < 10
        assert runner.pid is None  # the hung child was killed ...
        assert runner.call(pow, 3, 3, timeout=30) == 27  # ... and a fresh one started
        assert runner.pid != pid
        token = CancelToken()
        token.cancel()
        with pytest.raises(JobCancelled):
            runner.call(time.sleep, 60, timeout=30, cancel=token)
    finally:
        runner.close()


# Every file of the shared collection: loaded, or refused with a one-line reason. -------------
EXPECTED_REFUSALS = {
    "1011060-graphite-err.cif": "no element",
    "2000127-unknown-coordinates.cif": "no atoms with usable coordinates",
    "2100852-no-fract-coordinates.cif": "Cartesian",
    "CIF2-Unicode.cif": "no crystal structure",
    "Hopelesly-broken.cif": "incomplete unit cell",
    "missing-cell-constants.cif": "incomplete unit cell",
    "missing_atom_fract_x.cif": "_atom_site_fract_x",
    "cell-sigma.cif": "no atom sites",
    "dummy_CIF_Core_2.4.4.cif": "unknown ('?')",
}
EXPECTED_LOADS = {
    "Burford_2000_p152.cif": 4,  # blocks
    "2000000-no-spacegroup.cif": 1,  # symmetry copies listed twice: scaled, with a notice
    "1000002-occupancy-questionmarks.cif": 1,  # occupancy '?' read as 1
    "1101113-no-atom-site-label.cif": 1,
    "2009397-no-data-block-heading.cif": 1,
    "se0086-no-first-header.cif": 2,  # '?' cell angles fixed by the crystal system
    "9002107.cif": 1,  # duplicate labels, partial occupancy
}


def _all_shared_files() -> list[Path]:
    root = shared("structures")
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".cif", ".vasp")
    )


def test_every_shared_structure_file_loads_or_says_why():
    files = _all_shared_files()
    assert len(files) > 130
    loaded, refused = {}, {}
    start = time.monotonic()
    for path in files:
        t = time.monotonic()
        try:
            result = load_structures(path, ReadOptions(timeout_s=20))
        except UnreadableFile as exc:
            message = str(exc)
            assert message and "\n" not in message and len(message) < 400, message
            assert "Traceback" not in message
            refused[path.name] = message
        else:
            assert result.blocks, path.name
            for block in result.blocks:
                assert len(block.structure) > 0
                assert all("\n" not in n for n in block.notices)
            loaded[path.name] = result
        assert time.monotonic() - t < 20, f"{path.name} took too long"
    assert time.monotonic() - start < 120
    for name, expected in EXPECTED_REFUSALS.items():
        assert expected in refused.get(name, ""), (name, refused.get(name), name in loaded)
    for name, blocks in EXPECTED_LOADS.items():
        assert name in loaded, (name, refused.get(name))
        assert len(loaded[name].blocks) == blocks, name
    overlap = loaded["2000000-no-spacegroup.cif"].blocks[0].notices
    assert any("overlap" in n for n in overlap)
    assert not loaded["9002107.cif"].blocks[0].structure.is_ordered
    assert len(loaded) >= 110 and len(refused) <= 30


def test_a_crash_in_the_child_is_one_line_and_the_next_call_works():
    """Native code that segfaults (as spglib did on a NaN cell) kills only the child."""
    from inference.structures.timelimit import ChildCrashed

    runner = ChildRunner()
    try:
        with pytest.raises(ChildCrashed) as crash:
            runner.call("ctypes:string_at", 0, timeout=60, what="bad.cif", action="analysing")
        message = str(crash.value)
        assert message.startswith("bad.cif: analysing it crashed a library (signal 11)")
        assert "\n" not in message
        assert runner.call(pow, 2, 5, timeout=60) == 32
    finally:
        runner.close()


def test_a_magnetic_cifs_moments_are_kept_or_said_to_be_left_out(tmp_path):
    """Every export dropped the moments of a magnetic CIF without a word."""
    from inference.structures.export import ExportFormat, export_structure

    structure = read_structures(_iron_mcif(tmp_path), NO_LIMIT).blocks[0].structure
    saved = export_structure(structure, tmp_path / "p1.cif", "cif-p1")
    assert saved.notice is None
    again = read_structures(tmp_path / "p1.cif", NO_LIMIT).blocks[0].structure
    assert [list(m) for m in again.site_properties["magmom"]] == [[0, 0, 2.2], [0, 0, -2.2]]
    formats: tuple[tuple[str, ExportFormat], ...] = (
        ("s.cif", "cif-symmetrized"),
        ("POSCAR", "poscar"),
        ("f.xyz", "xyz"),
    )
    for name, fmt in formats:
        notice = export_structure(structure, tmp_path / name, fmt).notice or ""
        assert "the magnetic moments are not written: export CIF in P1 to keep them" in notice


def test_a_cif_saved_with_a_byte_order_mark_keeps_its_block_name(tmp_path):
    """Notepad's UTF-8 BOM gave "the file has no data_ heading" and lost the block name."""
    from inference.runtime.paths import samples_dir

    text = (samples_dir() / "NaCl.cif").read_text(encoding="utf-8")
    text = text[text.index("data_") :]  # the heading first, as most programs write it
    cif = tmp_path / "bom.cif"
    cif.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    read = read_structures(cif, NO_LIMIT)
    assert read.blocks[0].name == "NaCl" and not read.notices
