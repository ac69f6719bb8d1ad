"""Composition models: predictions with calibrated intervals, units, domain checks, one-line errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from inference.errors import MatLensError
from inference.prediction.composition import composition_cards, predict_formulas
from inference.prediction.featurize import (
    BLOCKS,
    TREE_BLOCKS,
    default_tables,
    featurize,
    featurize_many,
    parse_formula,
)
from tests.prediction_helpers import materials_db, materials_db_file  # noqa: F401


@pytest.fixture(scope="module", autouse=True)
def _models_present():
    if not any(c.extra.get("property") == "band_gap" for c in composition_cards()):
        pytest.skip("composition models not trained (python -m training.prediction.train)")


def _by_prop(result):
    return {p.prop: p for p in result.predictions}


def _need(prop: str) -> None:
    if not any(c.extra.get("property") == prop for c in composition_cards()):
        pytest.skip(f"{prop} model not trained")


def test_gap_interval_and_formation_energy():
    salt, copper = (_by_prop(r) for r in predict_formulas(["NaCl", "Cu"]))
    assert copper["band_gap"].value < 0.5  # a metal
    gap = salt["band_gap"]
    assert gap.low is not None and gap.high is not None  # an interval is shown
    assert gap.value > 2 and gap.low <= gap.value <= gap.high and gap.unit == "eV"
    assert gap.low >= 0  # gaps are not negative, nor their interval
    e = salt["formation_energy"]
    assert e.low is not None and e.high is not None
    assert e.value < -1.5 and e.unit == "eV/atom" and e.low < e.value < e.high


def test_moduli_are_shown_in_gpa():
    _need("log10_bulk_modulus")
    iron = _by_prop(predict_formulas(["Fe"])[0])
    k = iron["bulk_modulus"]
    assert k.low is not None and k.high is not None
    assert k.unit == "GPa" and 80 < k.value < 350  # Fe: about 170 GPa
    assert k.low < k.value < k.high and "log10" not in k.label


def test_every_card_has_a_human_name_and_calibrated_coverage():
    for card in composition_cards():
        extra = card.extra
        assert "comp_" not in extra["model_name"] and "(" in extra["model_name"]
        if extra["property"] == "is_metal":
            continue
        coverage = extra["conformal"]["coverage"]
        assert 0.88 <= coverage <= 0.92, (card.id, coverage)  # held-out folds, 90 % intervals


def test_formation_energy_model_keeps_its_held_out_accuracy():
    """Member k never saw crabnet's test fold k: on every 16th composition of each test fold
    (5054 in all) the shipped ensemble keeps its accuracy. On these rows the blend with two
    attention nets scores 0.0833 eV/atom, with one 0.0840, the 3-MLP model 0.0867 (5-fold:
    0.0855, 0.0864, 0.0898)."""
    import csv

    from inference.prediction.composition import CompositionModel
    from inference.prediction.materials_store import source_folder

    folder = source_folder()
    if folder is None:
        message = "crabnet's matbench tables are not installed (make run installs crabnet)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    card = next(c for c in composition_cards() if c.id == "comp_mp_e_form")
    model = CompositionModel(card)
    errors = []
    for fold in range(5):
        with open(folder.parent / "matbench_cv" / "mp_e_form" / f"test{fold}.csv") as fh:
            rows = list(csv.DictReader(fh))[::16]
        x = featurize_many([r["formula"] for r in rows], default_tables(), model.features)
        predicted = model.members(x)[:, fold]
        errors.append(np.abs(predicted - np.array([float(r["target"]) for r in rows])))
    mae = float(np.concatenate(errors).mean())
    assert mae < 0.0850, mae


def test_metal_probability_separates_metals_from_insulators():
    _need("is_metal")
    metals = ["Cu", "Fe", "Al"]
    insulators = ["NaCl", "SiO2", "MgO"]
    results = {
        r.formula: _by_prop(r)["is_metal"].value for r in predict_formulas(metals + insulators)
    }
    assert min(results[f] for f in metals) > max(results[f] for f in insulators)
    for f in metals:
        assert results[f] > 0.6, (f, results[f])


@pytest.mark.usefixtures("materials_db")
def test_panel_goals_wide_gaps_and_metals():
    """No wide-gap insulator (> 2 eV) predicted under 1 eV; no metal over 0.5 eV."""
    from inference.prediction.panel import PANEL, run_panel

    rows = run_panel()
    assert len(rows) == len(PANEL) >= 40
    failures = {r.entry.formula: r.failure for r in rows if r.failure}
    # The one miss excused: AlAs is in the model's training table with a wrong label (matbench's
    # expt_gap lists it at 0 eV and expt_is_metal as a metal; Madelung: 2.16 eV, indirect), so
    # it is left out of the score as the issue asks. Any other miss fails, in training or not.
    assert set(failures) <= {"AlAs"}, failures
    assert all(r.in_training for r in rows if r.entry.formula in failures)
    by_formula = {r.entry.formula: r for r in rows}
    # ZrN, a metallic nitride, is called a metal by every member (round 1: 0.58 eV, two members
    # called it a non-metal); its Materials Project PBE gap, 0 eV, is in the side models' data.
    assert by_formula["ZrN"].predicted <= 0.5 and by_formula["ZrN"].in_side_data
    # Carbon: diamond and graphite listed as known values with sources, the prediction says it
    # cannot tell them apart, and its interval spans both (panel.py states the rule). The
    # prediction meets diamond's goal by itself, so the polymorph rule excuses nothing here.
    carbon = by_formula["C"]
    assert set(carbon.known_polymorphs) == {"diamond", "graphite"}
    assert "cannot tell" in carbon.note and carbon.covered
    assert carbon.verdict == "ok", carbon.verdict
    ambiguous = [r for r in rows if r.polymorphs]
    assert [r.entry.formula for r in ambiguous] == ["C"]


def test_polymorph_rule_still_catches_a_real_miss():
    """The rule for diamond/graphite excuses no prediction that is wrong for both."""
    from dataclasses import replace

    from inference.prediction.panel import PANEL, PanelRow
    from inference.prediction.polymorphs import POLYMORPHS

    entry = next(e for e in PANEL if e.formula == "C")
    both = ("diamond", "graphite")
    note = "cannot tell them apart"
    graphite_like = PanelRow(entry, 0.0, 0.0, 5.47, False, True, POLYMORPHS["C"], both, note)
    assert graphite_like.failure == "" and "right for graphite" in graphite_like.verdict
    assert PanelRow(entry, 5.1, 3.6, 6.6, False, True, POLYMORPHS["C"], both, note).failure == ""
    wrong_for_both = replace(graphite_like, predicted=0.8)
    assert "wrong for every polymorph" in wrong_for_both.failure
    assert "does not say" in replace(graphite_like, note="").failure
    assert "do not list graphite" in replace(graphite_like, known_polymorphs=("diamond",)).failure
    metal = next(e for e in PANEL if e.formula == "ZrN")
    assert PanelRow(metal, 0.58, 0.0, 2.1, False, True).failure  # no polymorphs: no excuse


def test_disagreement_note_in_both_directions():
    """A metal call by the gap model against P(metal) < 0.5 is flagged as much as the reverse;
    an existing note (polymorphs) is kept."""
    from dataclasses import replace

    from inference.prediction.composition import PropertyPrediction, _flag_disagreement

    gap = PropertyPrediction("band_gap", "band gap", 0.0, 0.0, 0.0, "eV", "gap", "g", 0.0)
    metal = PropertyPrediction("is_metal", "P(metal)", 0.2, None, None, "", "metal", "m", 0.1)
    flagged = _flag_disagreement([gap, metal], 0.1)
    assert all("disagree" in p.note and "0 eV: a metal" in p.note for p in flagged)
    agreeing = _flag_disagreement([gap, replace(metal, value=0.9)], 0.1)
    assert all(p.note == "" for p in agreeing)
    kept = _flag_disagreement([replace(gap, value=3.0, note="polymorphs"), metal], 0.1)
    assert kept[0].note == "polymorphs" and kept[1].note == ""  # 3 eV and P 0.2 agree
    reverse = _flag_disagreement(
        [replace(gap, value=3.0, note="polymorphs"), replace(metal, value=0.8)], 0.1
    )
    assert reverse[0].note.startswith("polymorphs; ") and "not a metal" in reverse[1].note


def test_out_of_domain_composition_is_flagged():
    _need("yield_strength")
    steel = _by_prop(predict_formulas(["AISI 304"])[0])["yield_strength"]
    assert not steel.domain.in_domain
    assert any("Cr" in r for r in steel.domain.reasons)
    maraging = _by_prop(predict_formulas(["18Ni(300) maraging steel"])[0])["yield_strength"]
    assert maraging.domain.in_domain, maraging.domain.reasons
    noble = _by_prop(predict_formulas(["XeF2"])[0])["band_gap"]
    assert noble.domain.in_domain or noble.domain.reasons  # a reason whenever flagged


def test_features_are_fraction_weighted():
    tables = default_tables()
    a = featurize(parse_formula("Fe2O3"), tables)
    b = featurize(parse_formula("Fe4O6"), tables)
    assert a.shape == (tables.n_features,)
    assert (a == b).all()
    full = featurize(parse_formula("Fe2O3"), tables, BLOCKS)
    assert (full[: len(a)] == a).all()  # old models keep their input; fractions come last
    fractions = dict(zip(tables.symbols, full[len(a) :], strict=True))
    assert fractions["Fe"] == pytest.approx(0.4) and fractions["O"] == pytest.approx(0.6)


def test_tree_features_extend_the_network_features_and_skip_missing_properties():
    """The band-gap trees read Oliynyk statistics after the networks' blocks; a property an
    element lacks is left out of that column's statistics, and is NaN where no element has it."""
    tables = default_tables()
    assert tables.oliynyk is not None
    width = tables.oliynyk.shape[1]
    base = featurize(parse_formula("XeF2"), tables, BLOCKS)
    wide = featurize(parse_formula("XeF2"), tables, TREE_BLOCKS)
    assert (wide[: len(base)] == base).all()
    mean, dev, low, high = wide[len(base) :].reshape(4, width)
    xe, f = tables.oliynyk[tables.index["Xe"]], tables.oliynyk[tables.index["F"]]
    only_f = np.isnan(xe) & ~np.isnan(f)
    neither = np.isnan(xe) & np.isnan(f)
    assert only_f.any() and neither.any()
    assert np.allclose(mean[only_f], f[only_f]) and np.allclose(low[only_f], high[only_f])
    assert (dev[only_f] == 0).all()
    assert np.isnan(mean[neither]).all() and np.isnan(high[neither]).all()
    both = ~np.isnan(xe) & ~np.isnan(f)
    assert np.allclose(mean[both], (xe[both] + 2 * f[both]) / 3, rtol=1e-5)


@pytest.mark.parametrize(
    "text, words",
    [
        ("Xx2O3", "Xx is not a chemical element"),
        ("Fe2O3)", "formula"),
        ("", "formula"),
        ("Og", "Og"),
        ("Fe1e400O", "scientific notation"),
        ("Fe-2", "not an amount and an element"),
        # a doping variable was read as an alloy's parts ("'La2' is not an amount and an element")
        ("La2-xSrxCuO4", "holds a variable amount (x)"),
        ("YBa2Cu3O7-δ", "holds a variable amount (δ)"),
        ("NaxCoO2", "holds a variable amount (x)"),
        ("TiO2 (rutile)", "write the formula alone (TiO2)"),
        # an alloy's name the table lacks says so ("Waspaloy" was "not a valid formula",
        # "AISI 9999" "A is not a chemical element"), naming the alloys it knows
        ("Waspaloy", "'Waspaloy' is not an alloy MatLens knows (it knows AISI 304, AISI 316"),
        ("AISI 9999", "'AISI 9999' is not an alloy MatLens knows"),
        ("Inconel 999", "type the composition in weight percent, e.g. Fe-18Cr-8Ni"),
        # pure O was predicted under the name "Fe0O" (pymatgen drops a zero amount)
        ("Fe0O", "gives Fe an amount of 0"),
        (
            "tio2",
            "element symbols begin with a capital letter",
        ),  # was pymatgen's "invalid formula!"
    ],
)
def test_bad_formulas_one_line(text, words):
    with pytest.raises(MatLensError) as err:
        predict_formulas([text])
    assert words in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("text", "fractions"),
    [
        ("Ti-6Al-4V", {"Ti": 0.862, "Al": 0.102, "V": 0.036}),
        ("Fe-18Cr-8Ni", {"Fe": 0.733, "Cr": 0.192, "Ni": 0.075}),
        ("Ni-50Ti at%", {"Ni": 0.5, "Ti": 0.5}),
        ("Al 6061", {"Al": 0.978, "Mg": 0.011}),
        ("Ti1O2", {"Ti": 1 / 3, "O": 2 / 3}),
        # hydrates and adducts written with a dot (pymatgen refused "·")
        ("CuSO4·5H2O", {"Cu": 1 / 21, "H": 10 / 21, "O": 9 / 21}),
        ("NiO·ZrO2", {"Ni": 0.2, "Zr": 0.2, "O": 0.6}),
        # a hydrate typed with a full stop was Cu1H2S1O5.5 ("4.5" one amount), called a metal
        ("CuSO4.5H2O", {"Cu": 1 / 21, "H": 10 / 21, "O": 9 / 21}),
        ("Na0.3CoO2.1.3H2O", {"Na": 0.3 / 7.2, "H": 2.6 / 7.2, "O": 3.3 / 7.2}),
        ("TiO₂", {"Ti": 1 / 3, "O": 2 / 3}),  # subscripts pasted from a paper were refused
        ("Dy2O3", {"Dy": 0.4, "O": 0.6}),  # Dy's y is an element's letter, not a variable
    ],
)
def test_alloy_notation_to_atomic_fractions(text, fractions):
    from inference.prediction.notation import parse_composition

    parsed = parse_composition(text)
    for el, f in fractions.items():
        assert parsed.fractions[el] == pytest.approx(f, abs=0.0015)
    assert sum(parsed.fractions.values()) == pytest.approx(1.0)


def test_an_alloy_written_as_a_formula_says_how_to_type_the_alloy():
    """ "Ti6Al4V" is read as atoms 6:4:1 (Ti 55 at%, where the alloy has 86): a formation energy
    of -0.26 eV/atom against 0.013 for Ti-6Al-4V, without a word."""
    from inference.prediction.notation import parse_composition

    said = parse_composition("Ti6Al4V").conversion
    assert said.startswith("Ti6Al4V read as a formula") and said.endswith("type Ti-6Al-4V")
    for compound in ("Ni3Al", "Ba2Cu3O", "Nb3Sn"):  # compounds' formulas: nothing to say
        assert parse_composition(compound).conversion == ""


def test_steels_model_only_for_steels():
    _need("yield_strength")
    steel, carbide = (_by_prop(r) for r in predict_formulas(["Fe0.7Cr0.18Ni0.1C0.02", "SiC"]))
    assert 200 < steel["yield_strength"].value < 3000  # MPa
    assert "yield_strength" not in carbide
    # a stainless composition got 1230 MPa "in domain" without a word on processing
    assert "the same composition annealed yields far less" in steel["yield_strength"].note


def test_capital_letters_read_as_elements_say_so():
    """ "YBCO" parses as one atom each of Y, B, C and O: a prediction for that, not for
    YBa2Cu3O7, unless the person is told how it was read."""
    from inference.prediction.notation import parse_composition

    parsed = parse_composition("YBCO")
    assert parsed.fractions == {"Y": 0.25, "B": 0.25, "C": 0.25, "O": 0.25}
    assert "YBCO read as the formula Y1 B1 C1 O1" in parsed.conversion
    assert "BSCCO read as the formula B1 C2 S1 O1" in parse_composition("BSCCO").conversion
    assert parse_composition("Fe2O3").conversion == ""
