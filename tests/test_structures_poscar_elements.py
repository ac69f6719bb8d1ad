"""A POSCAR that does not name its elements (VASP 4: no element line) is refused, not made up.

pymatgen fills such a file with "false names" (H, He, Li, Be, ... in order of the counts), so
TiCuSiAs (JARVIS JVASP-90856) was shown as Li2Be2H2He2 at 0.58 g/cm³, and CHGNet predicted its
energy. The file now gets one line saying what to add; the element line, element names after
the coordinates or a POTCAR beside the file name them as before.
"""

from __future__ import annotations

import pytest
from cli_harness import run_matlens
from conftest import shared

from inference.errors import UnreadableFile
from inference.structures.model import ReadOptions
from inference.structures.reader import read_structures

NO_LIMIT = ReadOptions(timeout_s=0)


def _vasp4(tmp_path):
    """JVASP-90856 (Ti2Cu2Si2As2) as VASP 4 writes it: line 6, the element line, left out."""
    lines = shared("structures", "alignn_poscar", "POSCAR-JVASP-90856.vasp").read_text()
    lines = lines.splitlines()
    assert lines[5].split() == ["Ti", "Cu", "Si", "As"]
    path = tmp_path / "POSCAR"
    path.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    return path


def test_a_poscar_without_elements_is_refused_in_one_line(tmp_path):
    path = _vasp4(tmp_path)
    with pytest.raises(UnreadableFile) as refused:
        read_structures(path, NO_LIMIT)
    message = str(refused.value)
    assert message.startswith("POSCAR: the file does not name its elements")
    assert "\n" not in message and "element symbols" in message


def test_names_after_the_coordinates_still_name_them(tmp_path):
    """VASP 4 files often carry each atom's element after its coordinates; pymatgen reads
    those, and so the file opens as before."""
    path = _vasp4(tmp_path)
    lines = path.read_text().splitlines()
    elements = ["Ti", "Ti", "Cu", "Cu", "Si", "Si", "As", "As"]
    lines[7:15] = [f"{line} {el}" for line, el in zip(lines[7:15], elements, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    structure = read_structures(path, NO_LIMIT).blocks[0].structure
    assert structure.composition.reduced_formula == "TiCuSiAs"


def test_cli_info_and_predict_refuse_it_with_exit_2(tmp_path):
    path = _vasp4(tmp_path)
    for command in (("structure", "info"), ("predict",)):
        run = run_matlens(*command, path, timeout=180)
        assert run.returncode == 2, (command, run.stdout, run.stderr)
        assert run.stderr.count("\n") == 1 and "does not name its elements" in run.stderr
        assert "Li" not in run.stdout and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("symbols", "counts", "said"),
    [
        # read as Ti2Cu2 without a word: the last two elements and their atoms dropped
        ("Ti Cu Si As", "2 2", "line 6 names 4 element(s) (Ti Cu Si As) but line 7 gives 2"),
        # called "cut short"
        ("Ti Cu", "2 2 2 2", "line 6 names 2 element(s) (Ti Cu) but line 7 gives 4"),
    ],
)
def test_an_element_line_and_count_line_that_do_not_pair_up_are_one_line(
    tmp_path, symbols, counts, said
):
    lines = shared("structures", "alignn_poscar", "POSCAR-JVASP-90856.vasp").read_text()
    lines = lines.splitlines()
    lines[5], lines[6] = symbols, counts
    path = tmp_path / "POSCAR"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnreadableFile) as refused:
        read_structures(path, NO_LIMIT)
    assert (
        str(refused.value) == f"POSCAR: {said} atom count(s) ({counts}): give one count per element"
    )
