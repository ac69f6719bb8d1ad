"""`matlens structure ...`: JSON from a real subprocess, one-line errors, offscreen rendering."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from inference.cli import SUBCOMMANDS
from inference.commands import structure as command
from inference.runtime.paths import samples_dir

SAMPLES = samples_dir()
wired = pytest.mark.skipif(
    "structure" not in SUBCOMMANDS,
    reason="add 'structure': 'structure' to inference.cli.SUBCOMMANDS",
)


def matlens(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@wired
def test_info_json():
    run = matlens("structure", "info", SAMPLES / "NaCl.cif", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["formula"] == "Na4Cl4" and data["reduced_formula"] == "NaCl"
    assert data["spacegroup_symbol"] == "Fm-3m" and data["spacegroup_number"] == 225
    assert data["lattice"] == {
        "a": 5.6402,
        "b": 5.6402,
        "c": 5.6402,
        "alpha": 90.0,
        "beta": 90.0,
        "gamma": 90.0,
    }
    assert data["volume"] == pytest.approx(179.425, abs=1e-3)
    assert data["density"] == pytest.approx(2.1635, abs=1e-3)
    assert data["nsites"] == 8


@wired
def test_info_json_lists_blocks_and_errors_are_one_line(tmp_path):
    run = matlens("structure", "info", SAMPLES / "NaCl_KCl_two_blocks.cif", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert isinstance(data, list) and [d["reduced_formula"] for d in data] == ["NaCl", "KCl"]
    bad = tmp_path / "bad.cif"
    bad.write_text("data_bad\n_cell_length_a 4\n")
    run = matlens("structure", "info", bad, "--json")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("matlens: bad.cif:")


def _parse(*argv):
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    return parser.parse_args([str(a) for a in argv])


def test_render_in_process(tmp_path):
    pytest.importorskip("vtkmodules.vtkRenderingOpenGL2")
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        import ctypes.util

        if not ctypes.util.find_library("OSMesa"):
            pytest.skip("no display and no libOSMesa: VTK cannot render offscreen here")
    from desktop.panes.structure.offscreen import register

    register()
    out = tmp_path / "view.png"
    args = _parse(
        "structure",
        "render",
        SAMPLES / "SrTiO3.cif",
        "--out",
        out,
        "--supercell",
        "2,2,2",
        "--style",
        "polyhedral",
        "--size",
        "400x300",
        "--view",
        "110",
    )
    assert args.handler(args) == 0
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (400, 300)
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    assert pixels.std() > 20, "blank render"


@wired
def test_render_subprocess(tmp_path):
    out = tmp_path / "nacl.png"
    run = matlens("structure", "render", SAMPLES / "NaCl.cif", "--out", out, "--size", "320x240")
    if "needs the MatLens desktop" in run.stderr:
        pytest.skip("desktop.launcher does not register the renderer yet (see offscreen.py)")
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 1000


def test_xrd_and_export_actions(tmp_path, capsys):
    args = _parse("structure", "xrd", SAMPLES / "NaCl.cif", "--out", tmp_path / "x.csv")
    assert args.handler(args) == 0
    assert "(2 0 0)" in (tmp_path / "x.csv").read_text()
    args = _parse(
        "structure",
        "export",
        SAMPLES / "NaCl.cif",
        "--out",
        tmp_path / "POSCAR",
        "--cell",
        "primitive",
    )
    assert args.handler(args) == 0
    assert (tmp_path / "POSCAR").read_text().split("\n")[6].split() == ["1", "1"]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--symprec", "-1"),
        ("--symprec", "nan"),
        ("--occupancy-tolerance", "-1"),
        ("--timeout", "-5"),
    ],
)
@pytest.mark.parametrize("action", ["info", "export"])
def test_an_impossible_tolerance_or_time_limit_is_one_line(tmp_path, action, option, value):
    """`export --symprec -1` killed the process (SIGSEGV, exit 139, nothing said); `info
    --symprec nan` blamed the file ("crashed a library … the cell or coordinates in the file
    are probably broken"); a negative time limit meant none, and an occupancy tolerance of -1
    added a false "atoms overlap" note."""
    out = ["--out", str(tmp_path / "out.cif")] if action == "export" else []
    run = matlens("structure", action, samples_dir() / "NaCl.cif", option, value, *out)
    assert run.returncode == 2 and run.stdout == "", run.stderr
    assert run.stderr.startswith(f"matlens: argument {option}: '{value}': expected")
    assert run.stderr.count("\n") == 1 and not (tmp_path / "out.cif").exists()


def test_an_export_never_writes_over_the_file_it_read(tmp_path):
    """`export si.cif --out si.cif` replaced the person's CIF (its comments and uncertainties)
    with the regenerated one."""
    cif = tmp_path / "NaCl.cif"
    cif.write_bytes((samples_dir() / "NaCl.cif").read_bytes())
    before = cif.read_bytes()
    run = matlens("structure", "export", cif, "--out", cif)
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    assert "NaCl.cif is the file the structure was read from" in run.stderr
    assert cif.read_bytes() == before


def test_a_cif_with_its_space_group_says_it_holds_the_conventional_cell(tmp_path):
    """With --cell primitive (2 atoms of NaCl), the CIF with its space group held the 8-atom
    conventional cell without a word; a P1 CIF and a POSCAR hold the cell chosen."""
    from pymatgen.core import Structure

    sample = samples_dir() / "NaCl.cif"
    run = matlens("structure", "export", sample, "--cell", "primitive", "--out", tmp_path / "s.cif")
    assert run.returncode == 0, run.stderr
    assert "written as the conventional cell, 8 atoms" in run.stdout
    assert "the cell chosen has 2" in run.stdout
    assert len(Structure.from_file(tmp_path / "s.cif")) == 8
    for name, fmt in (("p1.cif", "cif-p1"), ("POSCAR", "poscar")):
        out = tmp_path / name
        run = matlens(
            "structure", "export", sample, "--cell", "primitive", "--format", fmt, "--out", out
        )
        assert run.returncode == 0 and "conventional" not in run.stdout, run.stdout
        assert len(Structure.from_file(out)) == 2
    run = matlens("structure", "export", sample, "--out", tmp_path / "c.cif")
    assert run.returncode == 0 and "conventional" not in run.stdout  # the cell as read: 8


def test_a_supercell_is_exported_where_the_format_can_hold_it(tmp_path):
    """`export --supercell 2,2,1`, as the pane writes the supercell it shows: P1 CIF, POSCAR and
    XYZ hold the 2x2x1 supercell (32 atoms of NaCl, twice the a and b lengths); a CIF with its
    space group holds one cell and says so; a molecule has no supercell."""
    from pymatgen.core import Structure

    sample = samples_dir() / "NaCl.cif"
    for name in ("sc_P1.cif", "POSCAR", "sc.xyz"):
        out = tmp_path / name
        fmt = ["--format", "cif-p1"] if name.endswith(".cif") else []
        run = matlens("structure", "export", sample, "--supercell", "2,2,1", "--out", out, *fmt)
        assert run.returncode == 0, run.stderr
        assert "(the 2×2×1 supercell shown, 32 atoms)" in run.stdout, run.stdout
        if name != "sc.xyz":
            written = Structure.from_file(out)
            assert len(written) == 32 and written.composition.reduced_formula == "NaCl"
            assert written.lattice.abc == pytest.approx((2 * 5.64, 2 * 5.64, 5.64), abs=0.02)
    assert (tmp_path / "sc.xyz").read_text().splitlines()[0] == "32"
    run = matlens(
        "structure", "export", sample, "--supercell", "2,2,1", "--out", tmp_path / "s.cif"
    )
    assert run.returncode == 0 and "one cell, not the 2×2×1 supercell shown" in run.stdout
    assert len(Structure.from_file(tmp_path / "s.cif")) == 8
    water = tmp_path / "water.xyz"
    water.write_text("3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n")
    run = matlens("structure", "export", water, "--supercell", "2,1,1", "--out", tmp_path / "w.xyz")
    assert (
        run.returncode == 2
        and "water.xyz is a molecule (no cell): it has no supercell" in run.stderr
    )


def test_a_supercell_too_large_to_draw_is_refused_before_memory_is_taken(tmp_path):
    """`render --supercell 1000,1000,1000` built a 24 GB grid before counting its atoms and
    the kernel killed the process (and others on the machine). Under a 3 GB address-space
    cap it is refused in one line, exit 2."""
    import resource

    def capped():
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    run = subprocess.run(
        [sys.executable, "-m", "desktop.launcher", "structure", "render",
         str(samples_dir() / "NaCl.cif"), "--out", str(tmp_path / "big.png"),
         "--supercell", "1000,1000,1000"],
        capture_output=True, text=True, timeout=120, cwd=REPO, preexec_fn=capped,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )  # fmt: skip
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "a 1000×1000×1000 supercell has 8,000,000,000 atoms; MatLens draws at most" in run.stderr
    assert not (tmp_path / "big.png").exists()


def test_a_picture_too_large_to_open_is_refused_before_it_is_drawn(tmp_path):
    """`render --size 20000x20000` took 4.5 GB and wrote a PNG that PIL refuses to open."""
    run = matlens(
        "structure",
        "render",
        samples_dir() / "NaCl.cif",
        "--out",
        tmp_path / "v.png",
        "--size",
        "20000x20000",
    )
    assert run.returncode == 2 and "at most 8192 pixels a side" in run.stderr
    assert not (tmp_path / "v.png").exists()
