"""Composition models: predictions with calibrated intervals, units, domain checks, one-line errors."""

from __future__ import annotations

import pytest

from inference.errors import MatLensError
from inference.prediction.composition import composition_cards, predict_formulas
from inference.prediction.featurize import BLOCKS, default_tables, featurize, parse_formula
from tests.prediction_helpers import materials_db, materials_db_file  # noqa: F401


@pytest.fixture(scope="module", autouse=True)
def _models_present():
    if not any(c.extra.get("property") == "band_gap" for c in composition_cards()):
        pytest.skip(
            "composition models not trained (python -m inference.prediction.training.train)"
        )


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
    failures = {r.entry.formula: r.failure for r in rows if r.failure and not r.in_training}
    # The goal is not met for these two yet: diamond called a metal (0 eV), ZrN at 0.58 eV.
    # Any other failure is a regression.
    assert set(failures) <= {"C", "ZrN"}, failures
    wide = [r for r in rows if r.entry.gap > 2 and not r.in_training]
    assert sum(r.predicted >= 1.0 for r in wide) >= len(wide) - 1


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


@pytest.mark.parametrize(
    "text, words",
    [
        ("Xx2O3", "Xx is not a chemical element"),
        ("Fe2O3)", "formula"),
        ("", "formula"),
        ("Og", "Og"),
        ("Fe1e400O", "scientific notation"),
        ("Fe-2", "not an amount and an element"),
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
    ],
)
def test_alloy_notation_to_atomic_fractions(text, fractions):
    from inference.prediction.notation import parse_composition

    parsed = parse_composition(text)
    for el, f in fractions.items():
        assert parsed.fractions[el] == pytest.approx(f, abs=0.0015)
    assert sum(parsed.fractions.values()) == pytest.approx(1.0)


def test_steels_model_only_for_steels():
    _need("yield_strength")
    steel, carbide = (_by_prop(r) for r in predict_formulas(["Fe0.7Cr0.18Ni0.1C0.02", "SiC"]))
    assert 200 < steel["yield_strength"].value < 3000  # MPa
    assert "yield_strength" not in carbide
