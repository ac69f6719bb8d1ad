"""The abbreviation dictionary's sources can be checked offline, in the shared corpus."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from conftest import shared

from inference.literature.abbreviations import DICTIONARY, lookup

QUOTED = [a for a in DICTIONARY if a.paper]


def _tei_text(relative: str) -> str:
    """A TEI file's text as the quotes are written: its pieces joined, spaces collapsed."""
    root = ET.parse(shared("papers", *relative.split("/"))).getroot()
    return " ".join(" ".join(root.itertext()).split())


@pytest.mark.parametrize("entry", QUOTED, ids=[a.short for a in QUOTED])
def test_quoted_source_sentence_is_in_that_papers_text(entry):
    text = _tei_text(entry.paper)
    assert entry.quote in text
    # the quote names the abbreviation (as the paper writes it: "Bi-2212", "RE-123", "Y124")
    digits = re.sub(r"\D", "", entry.short)
    letters = re.sub(r"\d", "", entry.short)
    assert (letters and letters.upper() in entry.quote.upper()) or f'" {digits} "' in entry.quote


def test_every_entry_has_a_checkable_source_and_no_bibliographic_claim():
    assert len(QUOTED) >= 20  # most of the dictionary is quoted from the corpus
    for entry in DICTIONARY:
        # a reference the files here cannot confirm is not given: a source is a quote from a
        # corpus file (checked above) or the nominal formula, nothing more
        if entry.paper:
            assert entry.source == f'used with its formula in {entry.paper}: "{entry.quote}"'
        else:
            assert entry.source == f"nominal stoichiometry of the {entry.family} family"


def test_lookup_gives_the_entrys_source_as_the_definition():
    definition = lookup("Bi-2212")
    assert definition is not None and definition.formula == "Bi2Sr2CaCu2O8+δ"
    assert definition.source.startswith("used with its formula in supermat_dev/gold_tei/")
    assert "(Bi-2212)" in definition.source


def test_cation_codes_with_counts_above_four_are_read():
    from inference.literature.abbreviations import code_mentions

    text = (  # PHC3910237
        "The superconducting system La1.5R0.5Ca1Ba2Cu5Oz with R = rare earth (abbreviated as "
        "La-2125) has been extensively studied by our group. La-2125 has a triple perovskite "
        "structure similar to that of the tetragonal La2.5R0.5Ca1Ba3Cu7Oz (La-3137)."
    )
    assert [code for _, _, code in code_mentions(text)] == ["La-2125", "La-2125", "La-3137"]
    # a count of five digits, a code no element leads, a bare number: no cation code
    assert not list(code_mentions("La-21250 and Fig-2125 and 2125 and ref 1234"))
