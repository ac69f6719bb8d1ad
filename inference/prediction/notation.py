"""What a person types → atomic fractions, with the conversion spelled out.

Three notations are accepted:
- a chemical formula: Fe2O3, Ti1O2, Al0.5CoCrFeNi, Mg4Sc3(SiO3)8 (atomic amounts);
- metallurgists' alloy notation: "Ti-6Al-4V", "Fe-18Cr-8Ni", "Al-4.4Cu-1.5Mg": the first
  element is the balance and the numbers are weight percent, unless "at%" follows
  ("Ni-50Ti at%"); "wt%" may be written too;
- a named alloy from a small cited table of nominal compositions ("AISI 304", "Al 6061").

Every failure is one `MatLensError` line that says what is wrong with the text.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from inference.errors import MatLensError
from inference.prediction.alloy_table import find_alloy, unknown_designation

MAX_LENGTH = 200  # the longest steel in the training data is 123 characters
_FORMULA_OK = re.compile(r"^[A-Za-z0-9().\[\]{}\s·*]+$")
_SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")
_UNIT = re.compile(
    r"\s*[(\[]?\s*(wt|at|mass|mol|atomic|weight)\s*\.?\s*(%|pct|percent)\s*[)\]]?\s*$", re.I
)
_ALLOY_PART = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)?\s*([A-Z][a-z]?)\s*$")
# a doping variable as an amount: "La2-xSrxCuO4", "YBa2Cu3O7-δ", "Bi2Sr2CaCu2O8+y" (never an
# element: those are capitalised)
_VARIABLE = re.compile(r"(?:[\d)]\s*[-+]\s*|(?<=[a-z\d)]))([xyzδ])(?![a-z])")
# a formula followed by a phase name in brackets: "TiO2 (rutile)", "C (diamond)"
_PHASE_NAME = re.compile(r"^(\S+)\s*[(\[]\s*([a-zα-ω][a-zα-ω' -]*)\s*[)\]]$")


@dataclass(frozen=True)
class ParsedComposition:
    text: str  # what the person typed, trimmed
    fractions: dict[str, float]  # element → atomic fraction (sums to 1)
    formula: str  # a formula pymatgen reads for these fractions
    reduced_formula: str  # "TiO2" for "Ti1O2"; fractional alloys keep 3-4 significant digits
    notation: str  # "formula", "wt%", "at%" or "named alloy"
    conversion: str = ""  # "Ti-6Al-4V (wt%) → Ti 86.2, Al 10.2, V 3.6 at%"
    source: str = ""  # citation of a named alloy's nominal composition

    def to_json(self) -> dict:
        out = {
            "input": self.text,
            "notation": self.notation,
            "formula": self.formula,
            "reduced_formula": self.reduced_formula,
            "atomic_fractions": {el: round(f, 6) for el, f in self.fractions.items()},
        }
        if self.conversion:
            out["conversion"] = self.conversion
        if self.source:
            out["composition_source"] = self.source
        return out


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")  # "TiO₂" pasted from a paper


def parse_composition(text: str) -> ParsedComposition:
    """A formula, an alloy in wt%/at% notation or an alloy name → atomic fractions."""
    text = " ".join(str(text).translate(_SUBSCRIPTS).split())
    if not text:
        raise MatLensError("type a formula (e.g. Fe2O3), an alloy (Ti-6Al-4V) or an alloy name")
    if len(text) > MAX_LENGTH:
        raise MatLensError(
            f"the formula is {len(text)} characters long; MatLens reads formulas of at most "
            f"{MAX_LENGTH} characters"
        )
    alloy = find_alloy(text)
    if alloy is not None:
        parts = {alloy.balance: 100.0 - sum(alloy.weight_percent.values())}
        parts.update(alloy.weight_percent)
        fractions = _weight_to_atomic(parts)
        return _alloy_result(text, fractions, "named alloy", parts, alloy.name, alloy.source)
    # a formula, not a word ("Waspaloy"): no element symbol has three small letters
    variable = None if re.search(r"[a-z]{3,}", text) else _VARIABLE.search(text)
    if variable:
        raise MatLensError(
            f"'{_short(text)}' holds a variable amount ({variable.group(1)}): write the "
            "composition with numbers (La2-xSrxCuO4 with x = 0.15 is La1.85Sr0.15CuO4)"
        )
    named = _PHASE_NAME.match(text)
    if named and _FORMULA_OK.match(named.group(1)):
        raise MatLensError(
            f"'{_short(text)}': write the formula alone ({named.group(1)}); the composition "
            "models cannot tell polymorphs apart (CHGNet compares their energies from structure "
            "files)"
        )
    try:
        if "-" in text.strip("-") or _UNIT.search(text):
            return _alloy_notation(text)
        return _formula(text)
    except MatLensError:
        # not read as a formula: an alloy's designation the table lacks says so ("AISI 9999"
        # was refused as "A is not a chemical element")
        unknown = unknown_designation(text)
        if unknown is None:
            raise
        raise MatLensError(unknown) from None


# the full stop of a hydrate typed without "·": "CuSO4.5H2O" (pymatgen read "4.5" as one amount:
# Cu1H2S1O5.5, a metal), "Na0.3CoO2.1.3H2O"
_HYDRATE_STOP = re.compile(r"(?<=[A-Za-z\d)\]])\.(?=\s*\d*(?:\.\d+)?\s*H2O\b)")


def _adduct(text: str) -> str:
    """An adduct or hydrate written with a dot ("CuSO4·5H2O", "NiO·ZrO2", also * or •, or a
    full stop before water: "CuSO4.5H2O") as one formula pymatgen reads: "CuSO4(H2O)5"."""
    text = _HYDRATE_STOP.sub("·", text, count=1)
    first, *rest = re.split(r"\s*[·•*]\s*", text)
    if not rest:
        return text
    parts = [first]
    for part in rest:
        m = re.match(r"^(\d+(?:\.\d+)?|\.\d+)?\s*(.+)$", part)
        count, body = (m.group(1), m.group(2)) if m else (None, part)
        parts.append(f"({body}){count or ''}")
    return "".join(parts)


# formulas ---------------------------------------------------------------------------------------
def _formula(text: str) -> ParsedComposition:
    from pymatgen.core import Composition

    if _SCIENTIFIC.search(text):
        raise MatLensError(
            f"'{_short(text)}': amounts in scientific notation (1e400) are not read; "
            "write plain numbers such as Fe2O3 or Fe0.4O0.6"
        )
    if not _FORMULA_OK.match(text):
        raise MatLensError(
            f"'{_short(text)}' is not a chemical formula (e.g. Fe2O3, Al0.5CoCrFeNi, Ti-6Al-4V)"
        )
    if not re.search(r"[A-Z]", text):  # "tio2": pymatgen said "tio2 is an invalid formula!"
        raise MatLensError(
            f"'{_short(text)}' is not a chemical formula: element symbols begin with a capital "
            "letter (TiO2, not tio2)"
        )
    zero = _ZERO_AMOUNT.search(text)
    if zero:  # "Fe0O": pymatgen drops the element, and pure O was predicted under that name
        raise MatLensError(
            f"'{_short(text)}' gives {zero.group(1)} an amount of 0: leave the element out, or "
            "give its amount"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen's notes on noble gases' electronegativity
            comp = Composition(_adduct(text))  # what was typed stays the item's name
            _ = comp.reduced_formula
    except (ValueError, KeyError, AttributeError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MatLensError(f"'{_short(text)}' is not a valid formula: {first}") from None
    _check_elements(text, [getattr(el, "symbol", str(el)) for el in comp.elements])
    amounts = comp.get_el_amt_dict()
    if not amounts or any(not (0 < a < 1e6) for a in amounts.values()):
        raise MatLensError(f"'{_short(text)}' has no atoms, or an amount that is not a number")
    total = sum(amounts.values())
    fractions = {el: a / total for el, a in amounts.items()}
    conversion = ""
    if re.fullmatch(r"[A-Z]{3,}", text):  # "YBCO", "BSCCO": elements, not YBa2Cu3O7
        conversion = (
            f"{text} read as the formula {comp.formula}; if it abbreviates a material, "
            "type the material's formula instead"
        )
    elif alloy := _alloy_written_as_formula(text):
        conversion = (
            f"{text} read as a formula, atoms in the ratio {comp.formula}; for the alloy in "
            f"wt%, type {alloy}"
        )
    return ParsedComposition(
        text, fractions, comp.formula.replace(" ", ""), _reduced(comp), "formula", conversion
    )


_ZERO_AMOUNT = re.compile(r"([A-Z][a-z]?)0(?![.\d])")
# "Ti6Al4V", "Fe18Cr8Ni": a base element, then two or more amounts each before an element
_ALLOY_AS_FORMULA = re.compile(r"([A-Z][a-z]?)((?:\d+(?:\.\d+)?[A-Z][a-z]?){2,})")


def _alloy_written_as_formula(text: str) -> str:
    """The alloy notation a formula looks like ("Ti-6Al-4V" for "Ti6Al4V"), or ""."""
    from pymatgen.core import Element

    m = _ALLOY_AS_FORMULA.fullmatch(text)
    if not m:
        return ""
    symbols = re.findall(r"[A-Z][a-z]?", text)
    if not all(Element.is_valid_symbol(e) and Element(e).is_metal for e in symbols):
        return ""  # "Ba2Cu3O" is a compound's formula
    parts = re.findall(r"\d+(?:\.\d+)?[A-Z][a-z]?", m.group(2))
    if sum(float(re.match(r"[\d.]+", p).group()) for p in parts) >= 50:  # type: ignore[union-attr]
        return ""  # not a base metal with a few percent of others
    return "-".join([m.group(1), *parts])


def _reduced(comp) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reduced = comp.reduced_formula
    if len(reduced) <= 40:
        return reduced
    return "".join(f"{el}{amt:.3g}" for el, amt in comp.fractional_composition.items())


def _check_elements(text: str, symbols: list[str]) -> None:
    from pymatgen.core import Element

    unknown = [s for s in symbols if not Element.is_valid_symbol(s)]
    if unknown:
        raise MatLensError(f"'{_short(text)}': {', '.join(unknown)} is not a chemical element")


# alloy notation ---------------------------------------------------------------------------------
def _alloy_notation(text: str) -> ParsedComposition:
    unit_match = _UNIT.search(text)
    body = text[: unit_match.start()] if unit_match else text
    atomic = bool(unit_match) and unit_match.group(1).lower() in ("at", "mol", "atomic")
    parts = [p for p in re.split(r"\s*-\s*", body.strip()) if p]
    if len(parts) < 2 and "-" in body:
        raise MatLensError(f"'{_short(text)}': an alloy is written like Ti-6Al-4V or Fe-18Cr-8Ni")
    amounts: dict[str, float] = {}
    balance = None
    for i, part in enumerate(parts):
        m = _ALLOY_PART.match(part)
        if not m:
            raise MatLensError(
                f"'{_short(text)}': '{part}' is not an amount and an element (write Ti-6Al-4V: "
                "the balance element first, then weight percent and element)"
            )
        number, element = m.groups()
        _check_elements(text, [element])
        if element in amounts or element == balance:
            raise MatLensError(f"'{_short(text)}': {element} is written twice")
        if number is None:
            if i != 0:
                raise MatLensError(
                    f"'{_short(text)}': only the first element may be the balance; "
                    f"give {element} an amount"
                )
            balance = element
        else:
            amounts[element] = float(number)
    if balance is None:
        total = sum(amounts.values())
        if abs(total - 100) > 0.5:
            raise MatLensError(
                f"'{_short(text)}': the amounts add up to {total:g}%, not 100%; "
                "write the balance element first without a number (Ti-6Al-4V)"
            )
    else:
        rest = 100.0 - sum(amounts.values())
        if rest <= 0:
            raise MatLensError(
                f"'{_short(text)}': the alloying elements add up to {100 - rest:g}%, "
                f"leaving nothing for the balance {balance}"
            )
        amounts = {balance: rest, **amounts}
    if atomic:
        total = sum(amounts.values())
        fractions = {el: a / total for el, a in amounts.items()}
        return _alloy_result(text, fractions, "at%", amounts, "", "")
    return _alloy_result(text, _weight_to_atomic(amounts), "wt%", amounts, "", "")


def _weight_to_atomic(weight_percent: dict[str, float]) -> dict[str, float]:
    from pymatgen.core import Element

    moles = {el: w / float(Element(el).atomic_mass) for el, w in weight_percent.items()}
    total = sum(moles.values())
    return {el: n / total for el, n in moles.items()}


def _alloy_result(
    text: str,
    fractions: dict[str, float],
    notation: str,
    given: dict[str, float],
    name: str,
    source: str,
) -> ParsedComposition:
    from pymatgen.core import Composition

    ordered = dict(sorted(fractions.items(), key=lambda kv: -kv[1]))
    formula = "".join(f"{el}{f:.6f}" for el, f in ordered.items())
    reduced = "".join(f"{el}{f:.4g}" for el, f in ordered.items())
    Composition(formula)  # pymatgen must read what the models get
    atomic = ", ".join(f"{el} {100 * f:.3g}" for el, f in ordered.items())
    if notation == "at%":
        conversion = f"{text} → {atomic} at%"
    else:
        weights = "-".join(
            f"{el}" if i == 0 else f"{w:g}{el}" for i, (el, w) in enumerate(given.items())
        )
        label = f"{name}, nominal: {weights} wt%" if name else f"{text} (wt%)"
        conversion = f"{label} → {atomic} at%"
    return ParsedComposition(text, ordered, formula, reduced, notation, conversion, source)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"
