"""Material mentions the linker is given: short real sentences from the SuperMat tuning papers."""

from __future__ import annotations

import pytest
from literature_helpers import text_paper

from inference.literature.extract import extract
from inference.literature.materials import find_materials
from inference.literature.mentions import MentionReader


@pytest.mark.parametrize(
    ("sentence", "written"),
    [
        (  # hott2013review: a citation the text layer glued to the formula
            "In continuation of work on superconducting borocarbides, superconductivity at "
            "Tc = 12 - 13 K was observed in the structurally related La3Ni2B2N3[304].",
            "La3Ni2B2N3",
        ),
        (  # P071134526
            "Spin limiting for this orientation, as has been observed in YBa2Cu3O7−δ.[17]",
            "YBa2Cu3O7−δ",
        ),
        (  # P071100502: a citation in round brackets
            "Scans along (0.5,0.5,L) through L = 1, 3 where magnetic peaks are expected also found "
            "no evidence of static AF order (Figs. 3a and 3b), consistent with the phase diagram "
            "of Pr1-xLaCexCuO4-δ(18).",
            "Pr1-xLaCexCuO4-δ",
        ),
    ],
)
def test_a_glued_citation_is_not_part_of_the_formula(sentence, written):
    found = [sentence[m.start : m.end] for m in find_materials(sentence) if m.role == "sample"]
    assert found == [written]


def test_a_bracketed_group_of_a_formula_is_no_citation():
    # a group holds elements; a bare number in brackets after a symbol is a value ("Hc2(0)")
    found = [m.formula for m in find_materials("Ba(Fe1-xCox)2As2 and (Ba1-xKx)Fe2As2 at Hc2(0)")]
    assert found == ["Ba(Fe1-xCox)2As2", "(Ba1-xKx)Fe2As2"]


@pytest.mark.parametrize(
    ("sentence", "written"),
    [
        (  # hott2013review
            "(BEDT-TTF)2Cu[N(CN)2]Br becomes SC at 11.2 K [314], (BEDT-TTF)2Cu(NCS)2 at 10.4 K.",
            ["(BEDT-TTF)2Cu[N(CN)2]Br", "(BEDT-TTF)2Cu(NCS)2"],
        ),
        (  # hott2013review
            "Superconductivity was discovered below 0.9 K in the compound (TMTSF)PF6 under a "
            "hydrostatic pressure of 12 kbar.",
            ["(TMTSF)PF6"],
        ),
        (  # hott2013review: a fulleride is a formula, the fullerene a molecule
            "The superconductivity in C60 introduced by doping and intercalation of alkali-metal "
            "atoms, with Tc values up to 33 K, and Rb3C60.",
            ["C60", "Rb3C60"],
        ),
        (  # hott2013review: "ET" alone names the molecule, not a salt
            'The bis-ethylene-dithia-tetra-thiafulvalene molecule, abbreviated as "BEDT-TTF" '
            "or (ET).",
            [],
        ),
    ],
)
def test_molecular_superconductors_are_materials(sentence, written):
    assert [sentence[m.start : m.end] for m in find_materials(sentence)] == written


def test_an_element_written_out_is_a_sample_where_its_sentence_gives_a_tc():
    sentences = [  # hott2013review
        "Meissner continued the search finding in 1930 vanadium (5.3 K) and niobium, the "
        "element with the highest critical temperature Tc = 9.2 K [6].",
        "The niobium-doped samples and lanthanum cuprate reach Tc = 9 K.",  # no element sample
    ]
    reader = MentionReader(sentences)
    first = [(sentences[0][m.start : m.end], m.formula) for m in reader.read(0)]
    assert first == [("vanadium", "V"), ("niobium", "Nb")]
    assert not [m for m in reader.read(1) if m.kind == "element"]


def test_a_plot_legend_gives_no_material_and_no_tc():
    sentence = "The penetration depth of RbOs2O6 was measured down to 1.6 K."  # L093157004
    legends = ["RbOs", "6.2T Tc=2.8K 5.0T Tc=3.4K", "~ T -0.8 RuSr"]  # bits of figures
    result = extract(text_paper([sentence, *legends]))
    assert [m.text for m in result.materials] == ["RbOs2O6"]
    assert not [r for r in result.records if r.property == "Tc"]


def test_a_sample_code_in_brackets_after_its_formula_or_compound_names_that_sample():
    sentences = [  # P071184510
        "Anomalous T*(p) of (a) sintered Y0.80Ca0.20Ba2(Cu0.94Zn0.06)3O7-δ (S1), (b) sintered "
        "Y0.80Ca0.20Ba2(Cu0.945Zn0.055)3O7-δ (S2), and (c) c-axis oriented thin film of "
        "YBa2(Cu0.93Zn0.07)3O7-δ.",
        "Interestingly, the field broadening for S1 is insignificant.",
        "In Fig.2b we have shown the p-independent T* for another heavily disordered compound "
        "(S3) from the ρ(T) measurements.",
        "Although the nominal composition for S3 from a different batch was also y = 0.06.",
        # P069184513: an equation's label is no sample code
        "which sum to give b + c c a + c c λaeff + λbeff = λa + λb + + λc. (A1) The A1 term.",
    ]
    reader = MentionReader(sentences)
    read = [reader.read(i) for i in range(len(sentences))]
    (s1,) = [m for m in read[1] if m.name == "S1"]
    assert (s1.kind, s1.formula) == ("code", "Y0.80Ca0.20Ba2(Cu0.94Zn0.06)3O7-δ")
    assert [m.name for m in read[3] if m.kind == "code"] == ["S3"]
    assert not [m for m in read[4] if m.kind == "code"]


def test_a_formula_and_the_sample_code_after_it_are_one_sample():
    sentences = [  # EPL0330153
        "The first film (A1) is of poor quality with respect to the above criteria.",
        "We show in Fig. 1 and Fig. 2 the normalized transmission of the A1 and B2 films "
        "respectively.",
        "Temperature dependence of λ(T) for the YBCO A1 film.",
    ]
    reader = MentionReader(sentences)
    read = [reader.read(i) for i in range(len(sentences))]
    (film,) = read[2]
    assert (film.name, film.kind, film.formula) == ("YBCO A1", "code", "YBa2Cu3O7-δ")
    assert [m.name for m in read[1]] == ["A1", "B2"]  # codes alone stay codes
