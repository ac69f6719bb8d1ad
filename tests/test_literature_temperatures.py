"""Which temperatures are read as a Tc: short real sentences from the SuperMat tuning papers."""

from __future__ import annotations

import pytest
from literature_helpers import text_paper

from inference.literature.extract import extract


def _tcs(text: str | list[str]) -> set[float]:
    return {
        v
        for r in extract(text_paper(text)).records
        if r.property == "Tc"
        for v in ((r.low, r.high) if r.low is not None else (r.value,))
        if v is not None
    }


@pytest.mark.parametrize(
    ("sentence", "tcs"),
    [
        (  # P070184523: the Tc phrase ends in the value's own "below"
            "A very large diamagnetic phase transition signal was found below 45 mK, which "
            "suggests the existence of a superconducting (SC) phase.",
            {45},
        ),
        (  # JPS0732912: the second end of a Tc's change under pressure
            "In remarkable contrast, the Tc of KOs2O6 exhibits a downturn with a maximum value "
            "of 10.0 K at 0.56 GPa, and then decreases to 9.5 K at 1.20 GPa.",
            {10.0, 9.5},
        ),
        (  # PHC4020152: "Tc ... from A (y = 0) to B"
            "As for the previous case (table 2), the Ba replacement by Sr in series II also "
            "increases Tc continuously with the Sr content from 21 K (y = 0) to 60-58 K "
            "(y = 0.7-1.0).",
            {21, 58, 60},
        ),
        (  # P064144524: "Tc, defined as ... , is 10.2 K" over a long apposition
            "The superconducting transition temperature, Tc, defined as the cross point between "
            "the extrapolated line of the steepest part of the ZFC superconducting transition "
            "curve and zero susceptibility, is 10.2 K.",
            {10.2},
        ),
        (  # PHC4170033: Tc with a thermopower subscript, "Tc S~0"
            "Thermo-electric power (S), also exhibits TcS~0 state at around 11 K and 16 K, "
            "respectively for x = 0.8 and 1.00 samples.",
            {11, 16},
        ),
    ],
)
def test_a_tc_is_read(sentence, tcs):
    assert _tcs("Y0.4Pr0.6Ba2-xSrxCu3O7 samples were studied. " + sentence) == tcs


@pytest.mark.parametrize(
    "sentence",
    [
        # L094047001: a second anomaly near Hc2, joined to "superconducting transition" by
        # "in magnetic fields and"
        "The first-order nature of the superconducting transition in magnetic fields and a "
        "second anomaly observed close to Hc2 below 1 K make CeCoIn5 an excellent candidate.",
        # P071184510: a list of changes of Tc
        "We also did not see any anomalous effect in our 3%, 4%, and 5%Zn samples (where Tc was "
        "suppressed by ~ 30K, ~ 40K, and ~ 46K respectively).",
        # sun2012re-emerging: "which is" joins a temperature range, and a value sits between
        "TC starts at the maximum of 33 K at 1.6 GPa, shifts to lower temperatures at "
        "increasing pressures, and vanishes near 9 GPa in our experimental temperature range, "
        "which is 300-4 K for our high-pressure resistance measurements.",
    ],
)
def test_other_temperatures_stay_apart(sentence):
    assert not _tcs(sentence) & {1, 300, 4, 30, 40, 46}


def test_a_temperature_range_is_no_tc():
    sentence = (  # PHC4320193
        "Superconductivity in MgB2 near 40 K [1] has attracted much interest due to its "
        "potential for applications in the 20-30 K range."
    )
    assert _tcs(sentence) == {40}


def test_pairs_of_values_under_one_unit_are_each_read():
    sentence = (  # MCP0750110
        "The onset and zero resistance temperatures are (26.5, 6.4), (39.5, 12.6), (47.2, 28.3) "
        "and (40.0, 16.8)K respectively for x = 0, 0.05, 0.1 and 0.2."
    )
    context = (  # its paragraph: a block of mostly numbers would be read as a plot's labels
        "Figure 2 shows the temperature dependence of resistance for GdSr2Ru1−xCu2+xO8 along "
        "with that of the stoichiometric sample. All of them exhibit superconductivity with zero "
        "resistance. "
    )
    assert _tcs(context + sentence) == {
        26.5, 6.4, 39.5, 12.6, 47.2, 28.3, 40.0, 16.8
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sentence", "tcs"),
    [
        (  # PHC3410729: another quantity's value holds at 5 K
            "For a Ba0.63K0.37BiO3 single crystal with Tc≈31 K, Hc1≈750 Oe at 5 K, and "
            "dimensions 3×3×1 mm3, the temperature and field dependences of magnetic hysteresis "
            "loops have been measured within 5-25 K in magnetic fields up to 6 Tesla.",
            {31},
        ),
        (  # P070184523: a measured quantity right before the value
            "Interestingly, a layered compound MgB2, which shows superconductivity at Tc = 39 K "
            "3, also exhibits T 2 dependence in the resistivity up to 240 K 4,5.",
            {39},
        ),
        (  # L091087001: the running temperature T, however near a Tc word
            "The adjusted data are normalized to the mutual inductance measured above Tc, at "
            "T ∼ 30 K, where the film is utterly transparent to the ac field.",
            set(),
        ),
        (  # counter-case, MCP0750110: what starts at T∼38K is said to be superconductivity
            "The ac χ starts to decrease at T∼38K indicating the onset of superconductivity.",
            {38},
        ),
        (  # counter-case, JPS0731131: a feature of the resistivity (zero) is a Tc
            "It shows zero resistivity at 3.9 K, which is smaller than the present experimental "
            "accuracy, 10−3 of the normal resistivity value at 5 K.",
            {3.9},
        ),
        (  # counter-case, MCP0750110
            "This plot clearly indicates the occurrence of superconductivity in these samples, "
            "with Tc onset of 26.5K and zero resistance at around 6.4K for the stoichiometric "
            "composition GdSr2RuCu2O8.",
            {26.5, 6.4},
        ),
    ],
)
def test_where_another_quantity_is_measured_is_no_tc(sentence, tcs):
    assert _tcs(sentence) == tcs


def test_a_squared_temperature_is_no_tc():
    text = (  # PHC4020027: T² in K², and (counter-case) the paper's Tc
        "As is evident from the plots, we observe a clear onset of superconductivity at "
        "Tc ~ 4.2 K, consistent with results of previous studies. The superconducting "
        "transition is reflected by a sharp peak in the specific heat at the same temperature "
        "as the onset of diamagnetism in M(T) (i.e. T 2 = 16.8 K 2)."
    )
    assert _tcs(text) == {4.2}


def test_a_width_written_in_the_symbol_font_is_no_tc():
    text = (  # JPS081113707: the PDF keeps Δ as the Symbol font's "D" (U+F044)
        "The same onset superconducting transition temperature Tcon of 15.0 K is observed for "
        "65, 100 nm, and the bulk. The transition widths (\uf044Tc) are \uf044Tc = 4.6 K for "
        "65 nm, \uf044Tc = 1.0 K for 100 nm, and \uf044Tc = 6.5 K for the bulk, respectively."
    )
    assert _tcs(text) == {15.0}


def test_a_tilde_between_two_numbers_is_a_range():
    sentence = (  # JPS0710709: "1 ∼ 2 K" is the range 1-2 K, not a Tc of about 2 K
        "[13] It is reported that Cd2Re2O7 falls into the bulk superconducting state below "
        "Tc ≃ 1 ∼ 2 K, as confirmed by a large jump of specific heat ∆Cc as well as large "
        "diamagnetism due to the Meissner effect associated with the occurrence of zero "
        "resistivity."
    )
    assert _tcs(sentence) == {1, 2}
    width = (  # counter-case, L091087001: a range of widths stays a width
        "Films with highest and lowest Ce concentrations (x = 0.115 and 0.152) have broader "
        "transition widths (∆Tc = 2.4 ∼ 3.9 K) than other films, perhaps because Tc is more "
        "sensitive to x."
    )
    assert not _tcs(width)


def test_a_paper_on_magnets_that_names_tc_a_curie_point_has_no_superconducting_tc():
    """A magnet paper (no word of superconductivity) wrote "a Curie temperature Tc = 370 K"
    and later "Tc = 858 K": both were given as a superconductor's Tc."""
    assert not _tcs(
        [
            "La0.7Sr0.3MnO3 is a ferromagnet with a Curie temperature Tc = 370 K.",
            "Fe3O4 shows the Verwey transition at TV = 120 K and Tc = 858 K.",
        ]
    )
    # a superconductor paper that also names a ferromagnet's Curie point keeps its own Tc
    assert _tcs(
        "RuSr2GdCu2O8 orders ferromagnetically at a Curie temperature Tc = 132 K and becomes "
        "superconducting at 45 K."
    ) == {45}


def test_a_temperature_below_absolute_zero_is_no_tc():
    """ "Tc = -5 K" was read as a Tc."""
    assert _tcs("MgB2 becomes superconducting at Tc = 39 K. Tc = -5 K is a misprint.") == {39}


def test_a_tc_restated_in_brackets_in_another_unit_is_one_value():
    """ "250 K (−23 °C)" gave two Tc records for one value."""
    records = [
        r
        for r in extract(
            text_paper("Under 170 GPa, LaH10 is superconducting with Tc = 250 K (−23 °C).")
        ).records
        if r.property == "Tc"
    ]
    assert [(r.value, r.unit) for r in records] == [(250, "K")]
