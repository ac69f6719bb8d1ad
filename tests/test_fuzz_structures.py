"""Broken structure files made from real ones: every one ends cleanly, in the CLI and the window.

The corpus (tests/structure_mutants.py) cuts files short, flips header bytes, puts NaN, infinite
and zero numbers in cells, names elements that do not exist, makes huge cells and two-block
files with a bad block. Each goes through `matlens structure info` in a real process: exit 0
with a result, or exit 2 with one line that names the file and says what is wrong; never a
traceback, a signal (spglib used to segfault on a NaN cell) or a hang. A handful are then opened
through the real window, which must survive each and show one line.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from cli_harness import assert_clean_outcome, run_matlens
from conftest import SHARED_DATA
from structure_mutants import build, classify, write_corpus

SHARED_STRUCTURES = SHARED_DATA / "structures"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("structure-fuzz"), SHARED_STRUCTURES)


def test_the_corpus_covers_every_category():
    categories = {m.category for m in build(SHARED_STRUCTURES)}
    assert categories == {
        "truncated",
        "header bytes flipped",
        "NaN / inf cell",
        "zero / flat cell",
        "unknown element",
        "huge cell",
        "two blocks",
    }


def test_every_broken_file_gets_a_result_or_one_clear_line(corpus):
    def one(item):
        mutant, path = item
        return mutant, path, run_matlens("structure", "info", path, *mutant.extra_args, timeout=60)

    with ThreadPoolExecutor(2) as pool:  # two real processes at a time: the machine's cores
        runs = list(pool.map(one, corpus))
    problems = []
    for mutant, path, run in runs:
        try:
            assert_clean_outcome(run, path)
        except AssertionError as exc:
            problems.append(f"{mutant.name}: {str(exc).splitlines()[0]}")
            continue
        outcome, why = classify(run, path)
        if outcome not in ("ok", "clear error"):
            problems.append(f"{mutant.name}: {outcome}: {why}")
    assert not problems, "\n".join(problems)
    by_name = {m.name: run for m, _, run in runs}
    # The cases of the issue, word for word what a person must learn from them
    expected = {
        "nan-a-NaCl.cif": "cell length a is nan",
        "nan-scale-POSCAR.vasp": "scale factor on line 2",
        "zero-scale-POSCAR.vasp": "must not be zero",
        "minus-zero-scale-POSCAR.vasp": "must not be zero",
        "zero-a-NaCl.cif": "cell length a is 0",
        "flat-120-NaCl.cif": "flat",
        "Xx-NaCl.cif": "'Xx' is not an element",
        "overlap-POSCAR.vasp": "lists an atom twice",
        "big-20384-atoms.cif": "is large (20,384 atoms listed), not malformed",
        "symmetry-explosion-NaCl.cif": "more than fit in the memory left",
    }
    for name, words in expected.items():
        assert words in by_name[name].stderr, (name, by_name[name].stderr)
    assert "--timeout" in by_name["big-20384-atoms.cif"].stderr
    # a good block next to a bad one is still shown, with a note about the bad one
    two = by_name["two-blocks-second-nan.cif"]
    assert two.returncode == 0 and "skipped: cell length a is nan" in two.stdout


BAD_IN_THE_WINDOW = (
    "nan-a-NaCl.cif",  # killed the whole app (spglib segfault)
    "nan-scale-POSCAR.vasp",  # killed the whole app
    "Xx-NaCl.cif",
    "zero-scale-POSCAR.vasp",
    "overlap-POSCAR.vasp",
    "cut30-NaCl.cif",
)


def test_bad_files_in_the_window_leave_it_running_with_one_line(qtbot, main_window, corpus):
    from inference.runtime.paths import samples_dir

    paths = {path.name: path for _, path in corpus}
    pane = next(p for p in main_window.panes if p.title == "Structures")
    for name in BAD_IN_THE_WINDOW:
        assert main_window.open_path(paths[name])
        qtbot.waitUntil(lambda n=name: n in main_window.banner.text, timeout=60000)
        qtbot.waitUntil(lambda: not pane.busy, timeout=60000)
        text = main_window.banner.text
        assert "\n" not in text and "Unexpected error" not in text, text
        assert main_window.isVisible() and pane.scene is None
    # a good file afterwards opens, and the error about the last bad one goes away
    with qtbot.waitSignal(pane.file_opened, timeout=60000):
        main_window.open_path(samples_dir() / "NaCl.cif")
    assert main_window.banner.text == ""
    qtbot.waitUntil(lambda: pane.scene is not None and not pane.busy, timeout=60000)
    assert pane.prepared is not None and pane.prepared.info.spacegroup_symbol == "Fm-3m"
