"""`matlens predict ... --json` for a formula, an alloy, a structure, a folder and bad input."""

from __future__ import annotations

import json
import shutil

import pytest

import inference.cli as cli
from inference.runtime.registry import FileStatus, card_status, get_card
from tests.cli_harness import run_matlens
from tests.prediction_helpers import materials_db, materials_db_file  # noqa: F401


@pytest.fixture(autouse=True)
def _predict_registered(monkeypatch):
    monkeypatch.setitem(cli.SUBCOMMANDS, "predict", "predict")


def _json(capsys, *argv):
    rc = cli.main(["predict", *argv, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def _need_chgnet():
    if card_status(get_card("chgnet")) is not FileStatus.OK:
        pytest.skip("CHGNet ONNX not exported: run `make models`")


def _need_composition_models():
    from inference.prediction.composition import composition_cards

    if not composition_cards():
        pytest.skip("composition models not trained")


@pytest.mark.usefixtures("materials_db")
def test_known_experimental_value_comes_before_the_prediction(capsys):
    _need_composition_models()
    data = _json(capsys, "Ti1O2")
    keys = list(data)
    assert data["reduced_formula"] == "TiO2"
    assert keys.index("known") < keys.index("predictions")
    expt = [k for k in data["known"] if k["dataset"] == "expt_gap"]
    assert expt and 3.0 <= expt[0]["value"] <= 3.5 and expt[0]["unit"] == "eV"
    assert expt[0]["method"] == "experiment" and "Zhuo" in expt[0]["source"]
    dft = [k for k in data["known"] if k["dataset"] == "mp_gap"][0]
    assert dft["method"].startswith("DFT, PBE") and dft["min"] <= dft["value"] <= dft["max"]
    gap = next(p for p in data["predictions"] if p["property"] == "band_gap")
    low, high = gap["interval_90"]
    assert low <= gap["value"] <= high and gap["unit"] == "eV"
    assert "comp_" not in gap["model"] and gap["label"] == "band gap"
    assert data["nearest_known"] and data["nearest_known"][0]["distance"] > 0


@pytest.mark.usefixtures("materials_db")
def test_a_table_row_known_to_be_wrong_is_shown_corrected_with_what_the_table_said(capsys):
    """matbench's experimental tables list AlAs as a 0 eV metal; it is a 2.16 eV semiconductor."""
    _need_composition_models()
    data = _json(capsys, "AlAs")
    known = {k["dataset"]: k for k in data["known"]}
    gap, metal = known["expt_gap"], known["expt_is_metal"]
    assert gap["value"] == pytest.approx(2.16) and "Madelung" in gap["source"]
    assert "lists 0 eV, a known error" in gap["note"]
    assert metal["value"] == 0.0 and "lists a metal" in metal["note"]
    # a row that is right is shown as the table has it, without a note
    assert "note" not in next(
        k for k in _json(capsys, "TiO2")["known"] if k["dataset"] == "expt_gap"
    )


@pytest.mark.usefixtures("materials_db")
def test_an_experimental_metal_that_dft_calls_a_wide_gap_insulator_is_not_shown_as_known(capsys):
    """matbench's experimental tables list Na2SO4 as a 0 eV metal while PBE, which underestimates
    gaps, finds ~5 eV for its polymorphs: the row is marked doubtful, its number withheld."""
    _need_composition_models()
    data = _json(capsys, "Na2SO4")
    known = {k["dataset"]: k for k in data["known"]}
    for dataset in ("expt_gap", "expt_is_metal"):
        row = known[dataset]
        assert row["doubtful"] is True and row["value"] is None, row
        assert "0 most likely stands for a gap that was not measured" in row["note"]
    assert known["expt_gap"]["table_value"] == 0.0 and known["expt_is_metal"]["table_value"] == 1
    assert known["mp_gap"]["value"] > 4 and "doubtful" not in known["mp_gap"]
    rc = cli.main(["predict", "Na2SO4"])
    lines = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert not any(line.startswith("known: experiment") for line in lines)
    assert (
        sum(line.startswith("doubtful: experiment") and "not shown" in line for line in lines) == 2
    )
    # a metal that is one (Cu) and an insulator the table has right (TiO2) stay known values
    for formula in ("Cu", "TiO2"):
        rows = _json(capsys, formula)["known"]
        assert not any(k.get("doubtful") for k in rows), formula


def test_only_a_pbe_gap_above_a_volt_on_every_polymorph_overrules_an_experimental_zero():
    from inference.prediction.table_errors import PBE_GAP_FLOOR, contradicted_by_dft

    assert PBE_GAP_FLOOR == 1.0
    assert contradicted_by_dft("expt_gap", [0.0], [1.4, 2.0]) is not None
    assert contradicted_by_dft("expt_gap", [0.0], [0.8, 2.0]) is None  # +U can open a gap
    assert contradicted_by_dft("expt_gap", [0.0, 1.1], [3.0]) is None  # not a metal row
    assert contradicted_by_dft("expt_is_metal", [1.0], [3.0]) is not None
    assert contradicted_by_dft("expt_is_metal", [0.0], [3.0]) is None
    assert contradicted_by_dft("mp_gap", [0.0], [3.0]) is None  # only experimental tables
    assert contradicted_by_dft("expt_gap", [0.0], []) is None  # nothing to compare with


@pytest.mark.usefixtures("materials_db")
def test_gap_and_metal_models_that_disagree_say_so(capsys):
    """LiFePO4: the band-gap model calls it an insulator, the metal classifier a metal; both
    predictions carry the same one-line note, and agreeing ones (NaCl) carry none."""
    _need_composition_models()
    for formula in ("LiFePO4", "NaCl"):
        data = _json(capsys, formula)
        by_prop = {p["property"]: p for p in data["predictions"]}
        gap, metal = by_prop["band_gap"], by_prop["is_metal"]
        disagree = (gap["value"] < 0.1) != (metal["value"] > 0.5)
        assert disagree == (formula == "LiFePO4"), (formula, gap["value"], metal["value"])
        for p in (gap, metal):
            assert ("disagree" in p.get("note", "")) == disagree, (formula, p)


@pytest.mark.usefixtures("materials_db")
def test_alloy_in_weight_percent_shows_the_conversion(capsys):
    _need_composition_models()
    data = _json(capsys, "Ti-6Al-4V")
    fractions = data["atomic_fractions"]
    # 90 g Ti, 6 g Al, 4 g V: Ti 86.2, Al 10.2, V 3.6 at%
    assert fractions["Ti"] == pytest.approx(0.862, abs=0.001)
    assert fractions["Al"] == pytest.approx(0.102, abs=0.001)
    assert fractions["V"] == pytest.approx(0.036, abs=0.001)
    assert data["notation"] == "wt%" and "Ti 86.2, Al 10.2, V 3.6 at%" in data["conversion"]
    moduli = {p["property"]: p for p in data["predictions"]}
    assert moduli["bulk_modulus"]["unit"] == "GPa" and 50 < moduli["bulk_modulus"]["value"] < 300


@pytest.mark.usefixtures("materials_db")
def test_stainless_steel_yield_is_flagged_out_of_range(capsys):
    _need_composition_models()
    data = _json(capsys, "AISI 304")
    assert "ASTM A240" in data["composition_source"]
    yield_strength = next(p for p in data["predictions"] if p["property"] == "yield_strength")
    domain = yield_strength["domain"]
    assert not domain["in_domain"]
    assert any("Cr" in r and "outside the training range" in r for r in domain["reasons"])


def test_structure_json(capsys, shared_data):
    _need_chgnet()
    path = shared_data("structures", "alignn_poscar", "POSCAR-JVASP-1996.vasp")
    data = _json(capsys, str(path))
    assert set(data) >= {"energy_per_atom", "forces", "stress", "magmoms", "device"}
    assert len(data["forces"]) == data["n_atoms"] and len(data["stress"]) == 3


@pytest.mark.parametrize(
    "name",
    # The Structures pane opens these; predict used to refuse them with pymatgen's text
    # ("Invalid CIF file with no structures!", "'_atom_site_label'").
    ["2009397-no-data-block-heading.cif", "1101113-no-atom-site-label.cif"],
)
def test_predict_reads_cifs_the_structures_pane_reads(capsys, shared_data, name):
    _need_chgnet()
    from inference.structures.io import load_structures

    path = shared_data("structures", "cod_tools_cifs", name)
    assert load_structures(path).blocks  # the Structures pane's reader opens it
    rc = cli.main(["predict", str(path), "--json"])
    out = capsys.readouterr()
    assert "Invalid CIF" not in out.err and "_atom_site_label" not in out.err
    if rc == 0:
        assert "energy_per_atom" in json.loads(out.out)
    else:  # what CHGNet cannot take (e.g. partial occupancies) is said in one line
        assert rc == 2 and out.err.startswith(f"matlens: {name}") and out.err.count("\n") == 1


def test_unknown_element_in_a_cif_is_refused_before_the_model(capsys, tmp_path):
    cif = tmp_path / "xx.cif"
    cif.write_text(
        "data_xx\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
        "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
        "_symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n"
        "_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
        "Xx1 Xx 0 0 0\nO1 O 0.5 0.5 0.5\n"
    )
    rc = cli.main(["predict", str(cif), "--json"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err and "Gather" not in err and "index" not in err
    assert "xx.cif" in err


def test_huge_cell_is_refused_up_front_within_4_gb(tmp_path):
    _need_chgnet()
    import numpy as np

    # NaCl, 14 x 14 x 13 conventional cells: 20,384 atoms, written directly (pymatgen is slow
    # at building and writing a cell this size).
    a, reps = 5.64, np.array([14, 14, 13])
    basis = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    grid = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
    na = ((grid[:, None, :] + basis[None]) / reps).reshape(-1, 3)
    cl = ((grid[:, None, :] + basis[None] + 0.5) / reps % 1).reshape(-1, 3)
    lines = ["NaCl supercell", "1.0"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in np.diag(a * reps)]
    lines += ["Na Cl", f"{len(na)} {len(cl)}", "Direct"]
    lines += [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in np.vstack([na, cl])]
    path = tmp_path / "POSCAR_big.vasp"
    path.write_text("\n".join(lines) + "\n")
    run = run_matlens("predict", path, timeout=300)
    assert run.returncode == 2 and not run.timed_out, run.stderr
    err = run.stderr.strip()
    assert "\n" not in err and "20384 atoms" in err and "at most about" in err
    assert run.peak_rss_mb < 4096


def test_folder_batch_reports_bad_files(capsys, shared_data, tmp_path):
    _need_chgnet()
    for name in ("POSCAR-JVASP-1996.vasp", "POSCAR-JVASP-10.vasp"):
        shutil.copy(shared_data("structures", "alignn_poscar", name), tmp_path / name)
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a oops\n")
    rc = cli.main(["predict", str(tmp_path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 3
    errors = [d for d in data if "error" in d]
    assert len(errors) == 1 and errors[0]["file"] == "broken.cif"
    # A file that could not be predicted is exit 1, as in `batch` and `predict FOLDER --out`
    # (it was 0, so a script went on as if all were done), with or without --json.
    assert rc == 1
    assert cli.main(["predict", str(tmp_path)]) == 1
    assert "broken.cif: error:" in capsys.readouterr().out


def test_relax_or_eos_asked_for_a_formula_says_a_formula_gets_composition_models_only(capsys):
    """`predict NaCl --eos` printed the composition models' rows, exit 0, without a word that
    no E(V) was run."""
    assert cli.main(["predict", "NaCl", "--eos", "--relax"]) == 0
    out = capsys.readouterr()
    said = (
        "matlens: warning: a relaxation and E(V) need a structure (a CIF or POSCAR file): "
        "a formula gets the composition models only"
    )
    assert said in out.err
    assert "formation energy" in out.out


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("Xx2O3", "Xx is not a chemical element"),
        ("missing/file.cif", "File not found"),
        ("Fe2((O3", "not a valid formula"),
        ("Fe1e400O", "scientific notation"),
        ("Fe" * 150, "at most 200 characters"),
        ("Ti-6Al-4Q", "Q is not a chemical element"),
        ("Fe-60Cr-50Ni", "leaving nothing for the balance"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, arg, words):
    rc = cli.main(["predict", arg, "--json"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.startswith("matlens: ") and "\n" not in err and words in err


def test_a_disordered_structure_gets_its_compositions_rows(shared_data):
    """MgAl2O4 spinel with Mg/Al mixed sites (AMCSD 9002107): CHGNet cannot take it. It used to
    be refused in one line that sent the person to type the formula; now the file gives what the
    formula gives (known values, then the composition models' predictions, each saying it is the
    composition's), and one line says why there is no CHGNet row."""
    _need_composition_models()
    path = shared_data("structures", "cod_tools_cifs", "AMCSD", "duplicate_atom_labels")
    run = run_matlens("predict", path / "9002107.cif", "--json", timeout=180)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()  # the reader's notice (duplicate labels), then why
    assert all(line.startswith("matlens: warning: 9002107.cif: ") for line in lines)
    assert sum("CHGNet needs an ordered structure" in line for line in lines) == 1
    record = json.loads(run.stdout)
    assert "energy_per_atom" not in record
    composition = record["composition"]
    assert composition["reduced_formula"] == "MgAl2O4" and composition["known"]
    assert {p["property"] for p in composition["predictions"]} >= {"band_gap"}
    typed = json.loads(run_matlens("predict", "MgAl2O4", "--json", timeout=180).stdout)
    assert composition["known"] == typed["known"]
    assert composition["predictions"] == typed["predictions"]


@pytest.mark.usefixtures("materials_db")
def test_a_contradicted_metal_call_has_no_number_in_json(capsys):
    """CoF2 (PBE 3.07 eV): the JSON keeps the model's number apart and says why it is doubtful."""
    _need_composition_models()
    data = _json(capsys, "CoF2")
    gap = next(p for p in data["predictions"] if p["property"] == "band_gap")
    assert gap["value"] is None and gap["model_value"] < 0.1 and "interval_90" not in gap
    assert "DFT (PBE), which underestimates band gaps, finds 3.07 eV" in gap["doubtful"]
    salt = _json(capsys, "NaCl")
    assert all("doubtful" not in p for p in salt["predictions"])


def test_block_picks_the_structure_of_a_multi_block_cif(tmp_path, shared_data):
    _need_chgnet()
    cifs = shared_data("structures", "cod_tools_cifs")
    both = tmp_path / "two.cif"
    both.write_text(
        (cifs / "1000125-cell-diff.cif").read_text()
        + "\n"
        + (cifs / "1011060-graphite-atom-label.cif").read_text()
    )
    first = run_matlens("predict", both, "--json", timeout=180)
    assert first.returncode == 0 and json.loads(first.stdout)["formula"] == "KAlF4"
    assert "the first ('1000125') was used" in first.stderr
    second = run_matlens("predict", both, "--block", "2", "--json", timeout=180)
    assert second.returncode == 0, second.stderr
    record = json.loads(second.stdout)
    assert record["formula"] == "C" and record["file"] == "two.cif [1011060]"
    bad = run_matlens("predict", both, "--block", "graphene", timeout=180)
    assert bad.returncode == 2 and "no block 'graphene'" in bad.stderr
    assert bad.stderr.count("\n") == 1


@pytest.mark.usefixtures("materials_db")
def test_the_known_formation_energy_of_a_composition_is_its_most_stable_polymorphs():
    """Si, an element, has formation energy 0 by definition; Materials Project lists 33 Si
    structures from 0 to +0.54 eV/atom, and their median (+0.18) was shown as Si's. The known
    value is the lowest row, said to be the most stable of the polymorphs, with the range; the
    model's +0.29 (interval 0.13 to 0.45), which misses 0, is withheld. The band gap of several
    rows stays their median, said so."""
    _need_composition_models()
    run = run_matlens("predict", "Si", timeout=180)
    assert run.returncode == 0, run.stderr
    known = next(
        line for line in run.stdout.splitlines() if line.startswith("known") and "formation" in line
    )
    assert " 0 [0 to 0.541] eV/atom" in known, known
    assert known.endswith("(lowest of 33 polymorphs: the most stable)"), known
    gap = next(
        line
        for line in run.stdout.splitlines()
        if line.startswith("known: DFT") and "band gap" in line
    )
    assert gap.endswith("(median of 14 polymorphs; PBE underestimates band gaps)"), gap
    record = json.loads(run_matlens("predict", "Si", "--json", timeout=180).stdout)
    energy = next(k for k in record["known"] if k["dataset"] == "mp_e_form")
    assert (
        energy["value"] == 0 and energy["value_of_entries"] == "lowest" and energy["entries"] == 33
    )
    predicted = next(p for p in record["predictions"] if p["property"] == "formation_energy")
    assert (
        predicted["value"] is None
        and "the known formation energy, 0 eV/atom" in predicted["doubtful"]
    )


@pytest.mark.usefixtures("materials_db")
def test_textbook_semiconductors_the_experimental_table_lacks_show_their_measured_gap():
    """The experimental gap table has no row for MgO, ZnO, Si, GaAs or SiC, so their known
    values were PBE gaps only (ZnO 0.73 eV; 3.37 measured) and MgO's gap prediction (5.8 eV,
    interval 4.66 to 6.95; 7.8 measured) went unchecked. A handbook gap with its source comes
    first; the PBE row says PBE underestimates gaps; a prediction whose interval misses the
    measured gap is withheld; SiC's polytypes are each listed and a prediction inside any of
    them stands."""
    from inference.prediction.handbook_gaps import HANDBOOK_GAPS
    from inference.prediction.known_values import known_values
    from inference.prediction.materials_store import formula_amounts

    for formula in HANDBOOK_GAPS:  # the handbook fills the table's hole, never doubles a row
        values = known_values(formula_amounts(formula), n_nearest=0).values
        assert "expt_gap" not in {v.dataset for v in values}, formula
        assert values[0].dataset == "handbook_gaps" and values[0].source, formula

    _need_composition_models()
    zinc = run_matlens("predict", "ZnO", timeout=180)
    assert zinc.returncode == 0, zinc.stderr
    lines = zinc.stdout.splitlines()
    known = [line for line in lines if line.startswith("known")]
    assert known[0].startswith("known: experiment (handbook)") and "band gap (wurtzite)" in known[0]
    assert " 3.37 eV " in known[0] and "Madelung" in known[0], known[0]
    pbe = next(line for line in known if "PBE" in line and "band gap" in line)
    assert pbe.endswith("PBE underestimates band gaps)"), pbe
    gap = next(line for line in lines if line.startswith("prediction") and "band gap " in line)
    assert "[1.68 to 3.97] eV" in gap  # 3.37 lies inside: the prediction stands

    record = json.loads(run_matlens("predict", "MgO", "--json", timeout=180).stdout)
    measured = record["known"][0]
    assert measured["value"] == 7.8 and measured["dataset"] == "handbook_gaps"
    assert measured["method"] == "experiment (handbook)" and "Whited" in measured["source"]
    predicted = next(p for p in record["predictions"] if p["property"] == "band_gap")
    assert predicted["value"] is None and "the known band gap, 7.8 eV" in predicted["doubtful"]

    carbide = run_matlens("predict", "SiC", timeout=180).stdout.splitlines()
    polytypes = [line.split()[5] for line in carbide if line.startswith("known: experiment")]
    assert polytypes == ["(4H)", "(6H)", "(3C)"], carbide
    gap = next(line for line in carbide if line.startswith("prediction") and "band gap " in line)
    assert "[1.42 to 3.71] eV" in gap, gap


@pytest.mark.usefixtures("materials_db")
def test_a_prediction_whose_interval_misses_the_known_value_says_trust_the_known_value():
    """SiC: the formation-energy model gives +0.44 eV/atom (90 % interval 0.28 to 0.61) under
    the table's -0.20 (the lowest of 28 polymorphs). `matlens predict` shows the known value, marks
    the prediction doubtful without its number and says in one line to trust the known value;
    NaCl, whose known -2.05 lies inside the interval, keeps its number and says nothing."""
    _need_composition_models()
    run = run_matlens("predict", "SiC", timeout=180)
    assert run.returncode == 0, run.stderr
    row = next(line for line in run.stdout.splitlines() if "formation energy (DFT" in line)
    assert row.startswith("doubtful: prediction") and "not shown" in row, row
    assert "the known formation energy, -0.205 eV/atom, lies outside this model's 90 % " in row
    assert row.endswith("trust the known value)"), row
    assert "0.444" not in run.stdout
    known = next(
        line for line in run.stdout.splitlines() if "known" in line and "formation" in line
    )
    assert run.stdout.index(known) < run.stdout.index(row)  # the known value comes first

    data = json.loads(run_matlens("predict", "SiC", "--json", timeout=180).stdout)
    energy = next(p for p in data["predictions"] if p["property"] == "formation_energy")
    assert energy["value"] is None and "interval_90" not in energy
    assert energy["model_value"] == pytest.approx(0.44, abs=0.05)
    assert energy["doubtful"].endswith("trust the known value")
    others = [p for p in data["predictions"] if p["property"] != "formation_energy"]
    assert others and not any("doubtful" in p for p in others)  # moduli agree with the table

    salt = run_matlens("predict", "NaCl", "--json", timeout=180)
    record = json.loads(salt.stdout)
    known_energy = next(k for k in record["known"] if k["dataset"] == "mp_e_form")
    energy = next(p for p in record["predictions"] if p["property"] == "formation_energy")
    low, high = energy["interval_90"]
    assert low <= known_energy["value"] <= high and "doubtful" not in energy
    assert "trust the known value" not in salt.stdout + salt.stderr


def test_known_disagreement_compares_with_the_table_the_model_learnt():
    from inference.prediction.known_disagreement import outside_interval, trained_on

    assert trained_on("crabnet 2.0.8 data/matbench_cv/mp_e_form folds 0-4") == "mp_e_form"
    assert trained_on("crabnet 2.0.8 data/matbench_cv/elasticity_log10(K_VRH) folds 0-4") == (
        "elasticity_log10(K_VRH)"
    )
    assert trained_on("") is None
    assert outside_interval(-0.2, 0.28, 0.61) and not outside_interval(0.28, 0.28, 0.61)
    assert not outside_interval(5.0, None, None)  # no interval (P(metal)): nothing to miss


def test_chgnets_moments_are_called_what_they_are(tmp_path):
    """CHGNet gives each atom's moment size: their sum was shown as "total magmom" (7.5 μB for
    a NiO cell, an antiferromagnet whose net moment is 0)."""
    _need_chgnet()
    from pymatgen.core import Lattice, Structure

    nio = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.17), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    path = tmp_path / "NiO.cif"
    nio.to(filename=str(path))
    run = run_matlens("predict", path, timeout=180)
    assert run.returncode == 0, run.stderr
    assert "total magmom" not in run.stdout
    line = next(x for x in run.stdout.splitlines() if "magnetic moments, summed sizes" in x)
    assert "not the net moment" in line


def test_a_folders_rows_name_their_file(tmp_path):
    """`matlens predict FOLDER` printed every structure's rows without its name."""
    _need_chgnet()
    from inference.runtime.paths import samples_dir

    for name in ("NaCl.cif", "SrTiO3.cif"):
        (tmp_path / name).write_bytes((samples_dir() / name).read_bytes())
    run = run_matlens("predict", tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    energies = [x for x in run.stdout.splitlines() if "total energy" in x]
    assert [x.split(":")[0] for x in energies] == ["NaCl.cif", "SrTiO3.cif"]
