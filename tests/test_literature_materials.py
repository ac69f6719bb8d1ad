"""Material mentions the linker is given: short real sentences from the SuperMat tuning papers."""

from __future__ import annotations

import pytest

from inference.literature.materials import find_materials


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
    ],
)
def test_a_glued_citation_is_not_part_of_the_formula(sentence, written):
    found = [sentence[m.start : m.end] for m in find_materials(sentence) if m.role == "sample"]
    assert found == [written]
