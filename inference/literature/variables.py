"""Variable formulas and the definitions that fix them.

A paper writes "La2-xSrxCuO4" and then "x = 0.10, 0.16 and 0.22", or "Sr0.9M0.1CuO2
(M = La, Gd)". The formula keeps its placeholders; a definition in the text expands it into
the concrete compositions it names ("La1.9Sr0.1CuO4", ...). SuperMat annotates the doping
level itself ("x = 0.15") as the material a Tc belongs to, so a definition is also a mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"(?:\d+/\d+|\d+(?:\.\d+)?|\.\d+)(?:\s?%)?"
_REL = r"(?:=|∼|~|≈|≃|≅|<|>|≤|≥|⩽|⩾|>\s?∼|<\s?∼)"
_JOIN = r"\s*(?:,\s*(?:and|or)?|and|or|to|-|–)\s*"
# "x = 0.10, 0.16 and 0.22", "x ∼ 0.12", "y=0.93", "x i2 =0.069", "δ = 0.175 and 0.18",
# "0.124 ≤ x ≤ 0.144"; the letter is a composition variable of a formula of the paper
DOPING = re.compile(
    rf"(?<![A-Za-z0-9.])(?:(?P<lo>{_NUM})\s*{_REL}\s*)?(?P<var>[xyzδ])(?:\s?(?:i|n|c|opd|nom)\d?(?![a-z]))?"
    rf"\s*(?P<rel>{_REL})\s*(?:[xyzp]\s*=\s*)?(?P<values>{_NUM}(?:{_JOIN}{_NUM}(?!\s*{_REL}))*)"
    r"(?!\d|\.\d|\s?(?:K|GPa|T|Oe|mK|eV|meV|nm|Å|°C|mm|µm|μm|h|min|s)\b)"
)
# "(M = Ir and Ga)", "R = Y, Tb and Dy", "A = K, Rb, Cs", "RE: La, Ce"
SITE = re.compile(
    r"(?<![A-Za-z])(?P<site>RE|Ln|AE|Ch|Pn|TM|M|R|A|T|X)\s*(?:=|:)\s*"
    r"(?P<elements>[A-Z][a-z]?(?:\s*(?:,\s*(?:and|or)?|and|or)\s*[A-Z][a-z]?(?![a-z]|\s*[=:]))*)"
    r"(?![a-z])"
)
_COEFF = re.compile(
    r"(?P<sym>RE|Ln|AE|Ch|Pn|TM|Dy|[A-Z][a-wz]?|[()\[\]])"
    r"(?P<amount>\d*\.?\d*[xyzδ]|\d*\.?\d+(?:[-+]\d*\.?\d*[xyzδ])*)?"
)


_RELATION_HINT = re.compile(_REL)
_VALUE = re.compile(_NUM)
# values joined as a list, not as a range ("0.1, 0.2 and 0.3", not "0.1 to 0.3", "0.1-0.3")
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and|or)?|and|or)\s*")


_LONE_ELEMENT = re.compile(r"\(([A-Z][a-z]?)\)(\d*\.?\d*)")


@dataclass(frozen=True)
class Doping:
    """A doping level as written: its variable and values; `start:end` inside the sentence."""

    variable: str
    values: tuple[float, ...]  # the listed values; empty for a bound ("x ≤ 0.12")
    text: str
    start: int
    end: int
    # one (start, end) per value of a list ("x = 0.80 and 1.00": "x = 0.80", "1.00"), the
    # first from the variable on; empty for a single value, a range or a bound
    pieces: tuple[tuple[int, int], ...] = ()


def _number(text: str) -> float | None:
    text = text.strip().rstrip("%").strip()
    if "/" in text:
        a, b = text.split("/")
        return float(a) / float(b) if float(b) else None
    try:
        return float(text)
    except ValueError:
        return None


def find_dopings(sentence: str, variables: set[str]) -> list[Doping]:
    """Doping levels of the given variables ("x = 0.1, 0.2") in a sentence."""
    out: list[Doping] = []
    if not variables or not _RELATION_HINT.search(sentence):
        return out
    for m in DOPING.finditer(sentence):
        var = m.group("var")
        if var not in variables:
            continue
        exact = m.group("rel") in ("=", "∼", "~", "≈", "≃", "≅") and not m.group("lo")
        values = tuple(
            v
            for piece in re.split(_JOIN, m.group("values"))
            if piece and (v := _number(piece)) is not None
        )
        text = m.group().rstrip(" ,")
        numbers = list(_VALUE.finditer(sentence, m.start("values"), m.end("values")))
        listed = (
            exact
            and len(numbers) == len(values) >= 2
            and all(
                _LIST_JOIN.fullmatch(sentence[a.end() : b.start()])
                for a, b in zip(numbers, numbers[1:], strict=False)
            )
        )
        pieces = (
            ((m.start(), numbers[0].end()), *((n.start(), n.end()) for n in numbers[1:]))
            if listed
            else ()
        )
        out.append(
            Doping(var, values if exact else (), text, m.start(), m.start() + len(text), pieces)
        )
    return out


def find_sites(sentence: str) -> dict[str, tuple[str, ...]]:
    """Site definitions in a sentence: {"M": ("Ir", "Ga")}."""
    from inference.literature.materials import _elements

    out: dict[str, tuple[str, ...]] = {}
    if "=" not in sentence and ":" not in sentence:
        return out
    for m in SITE.finditer(sentence):
        elements = tuple(e for e in re.findall(r"[A-Z][a-z]?", m.group("elements")))
        if elements and all(e in _elements() for e in elements):
            out.setdefault(m.group("site"), elements)
    return out


def variables_of(formula: str) -> set[str]:
    """The composition variables a formula keeps ("La2-xSrxCuO4-δ" → {"x", "δ"})."""
    return {
        v for m in _COEFF.finditer(formula) for v in re.findall(r"[xyzδ]", m.group("amount") or "")
    }


def _evaluate(amount: str, values: dict[str, float]) -> str | None:
    """A stoichiometric amount with variables set ("2-x" with x=0.15 → "1.85"); None when a
    variable stays unknown (the amount is kept as written then)."""
    if not amount:
        return ""
    if not re.search(r"[xyzδ]", amount):
        return amount
    total = 0.0
    for sign, number, var in re.findall(r"([-+]?)(\d*\.?\d*)([xyzδ]?)", amount):
        if not number and not var:
            continue
        factor = -1.0 if sign == "-" else 1.0
        if var:
            if var not in values:
                return None
            total += factor * (float(number) if number else 1.0) * values[var]
        else:
            total += factor * float(number)
    if total < -1e-9:
        return None
    text = f"{total:.4f}".rstrip("0").rstrip(".")
    return "" if text == "1" else ("0" if text == "" else text)


def instantiate(formula: str, values: dict[str, float], sites: dict[str, str]) -> str | None:
    """The formula with variables and site placeholders set; None when nothing changes or an
    amount comes out negative. Elements with a zero amount drop out ("La2-xSrxCuO4", x=0 →
    "La2CuO4")."""
    out: list[str] = []
    changed = False
    for m in _COEFF.finditer(formula):
        sym, amount = m.group("sym"), m.group("amount") or ""
        if sym in sites:
            sym, changed = sites[sym], True
        value = _evaluate(amount, values)
        if value is None:
            value = amount
        elif value != amount:
            changed = True
        if value == "0" and sym not in "()[]":
            continue
        out.append(sym + value)
    # a bracket left around one element keeps no meaning: "Hg2(Ba)2YCu2O8" → "Hg2Ba2YCu2O8"
    result = _LONE_ELEMENT.sub(r"\1\2", "".join(out))
    return result if changed and result else None
