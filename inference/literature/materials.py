"""Material mentions: chemical formulas checked with pymatgen, plus a short list of names.

Doped and variable formulas (Ba1-xKxFe2As2, LaFeAsO1-xHx, O3-δ) are validated after putting a
small number in place of each variable; the formula is reported as written. Molecular
superconductors, which no element count spells, are read by name: the organic salts of the
field's donor molecules ("(TMTSF)2PF6", "κ-(BEDT-TTF)2Cu(NCS)2") and the fullerenes ("C60").
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass

from inference.literature.quantities import normalise

# name (as written, case-sensitive) → formula or "" (for classes of materials)
NAMED: dict[str, str] = {
    "YBCO": "YBa2Cu3O7",
    "BSCCO": "Bi2Sr2CaCu2O8",
    "LLZO": "Li7La3Zr2O12",
    "LSCF": "La0.6Sr0.4Co0.2Fe0.8O3",
    "BSCF": "Ba0.5Sr0.5Co0.8Fe0.2O3",
    "LSM": "La0.8Sr0.2MnO3",
    "YSZ": "(ZrO2)0.92(Y2O3)0.08",
    "ScSZ": "(ZrO2)0.9(Sc2O3)0.1",
    "GDC": "Ce0.9Gd0.1O1.95",
    "SDC": "Ce0.8Sm0.2O1.9",
    "LFP": "LiFePO4",
    "LCO": "LiCoO2",
    "NMC811": "LiNi0.8Mn0.1Co0.1O2",
    "NMC532": "LiNi0.5Mn0.3Co0.2O2",
    "NMC622": "LiNi0.6Mn0.2Co0.2O2",
    "NMC111": "LiNi0.33Mn0.33Co0.33O2",
    "PZT": "PbZr0.52Ti0.48O3",
    "Ti-6Al-4V": "",
    "Ti6Al4V": "",
    "Inconel 718": "",
    "Inconel 625": "",
    "316L": "",
    "304L": "",
    "stainless steel": "",
    "AA6061": "",
    "AA7075": "",
    "Al 6061": "",
    "Al 7075": "",
    "graphene": "C",
    "graphite": "C",
    "diamond": "C",
    "alumina": "Al2O3",
    "zirconia": "ZrO2",
    "silica": "SiO2",
    "titania": "TiO2",
    "ceria": "CeO2",
    "magnetite": "Fe3O4",
    "hematite": "Fe2O3",
    "perovskite": "",
    "MXene": "",
}
_NAMED = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(re.escape(n) for n in sorted(NAMED, key=len, reverse=True))
    + r")(?![A-Za-z0-9])"
)
_VARIABLE = re.compile(
    r"(?<=[A-Za-z0-9)\]])(\d*\.?\d+)?([-+])(\d*\.?\d*)([xyzδ])|(?<=[A-Za-z)\]])([xyzδ])"
)
# Site placeholders of a family's formula ("REBa2Cu3O7", "AOs2O6 (A = K, Rb, Cs)",
# "Sr0.9M0.1CuO2 (M = La, Gd)"); none is an element symbol.
PLACEHOLDERS = frozenset({"RE", "Ln", "AE", "Ch", "Pn", "TM", "M", "R", "A", "T", "X"})
_SYMBOL = re.compile(r"RE|Ln|AE|Ch|Pn|TM|[A-Z][a-z]?")
# "(La,Sr)", "(O,F)": one site shared by two elements; validated as the first of them
_MIXED_SITE = re.compile(r"\(([A-Z][a-z]?)(?:,\s?[A-Z][a-z]?)+\)")
_HYDRATE = re.compile(r"[•·⋅∙]\s?(?:\d*\.?\d+|[xyzn])?\s?(?=[A-Z])")
_CANDIDATE_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789().[]-+δ"
)
# never a compound in these papers: the X-ray line "Cu Kα", "Tc(P)" (technetium reads as Tc)
_NOT_COMPOUND = re.compile(r"^(?:Tc|[A-Z][a-z]?K$)|^[A-Z][a-z]?\d{3}K$|T[cC]\(")
# elements past fermium never make a compound of these papers: "Ds0FT" is a symbol soup
_TOO_HEAVY = frozenset({"Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds",
                        "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"})  # fmt: skip


@dataclass(frozen=True)
class MaterialSpan:
    formula: str  # as written, minus signs normalised, e.g. "Ba1-xKxFe2As2"
    name: str  # a named material ("LLZO"), else ""
    start: int  # inside the sentence
    end: int
    role: str = "sample"  # sample | precursor | apparatus | unit | substrate | ... (roles.py)
    kind: str = "formula"  # formula | abbreviation | name | doping | code | descriptor
    family: str = ""
    definition: str = ""  # where `formula` comes from (a definition in the text, a dictionary)
    descriptors: tuple[str, ...] = ()
    compositions: tuple[str, ...] = ()


@functools.lru_cache(maxsize=1)
def _elements() -> frozenset[str]:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element.__members__.values())  # D and T alias H


def _substitute(formula: str) -> str:
    """Put numbers in place of variables so pymatgen can parse the formula."""

    def repl(m: re.Match) -> str:
        if m.group(5):
            return "0.1"
        coeff = float(m.group(3)) if m.group(3) else 1.0
        if not m.group(1):
            return ""
        sign = -1 if m.group(2) == "-" else 1
        value = float(m.group(1)) + sign * coeff * 0.1
        return f"{value:g}" if value > 0 else ""

    return _VARIABLE.sub(repl, formula)


@functools.lru_cache(maxsize=20000)
def is_formula(token: str) -> bool:
    """A chemical formula with at least two elements (pymatgen Composition parses it).

    Site placeholders (RE, Ln, M, A, ...) count when two real elements remain; a shared site
    "(La,Sr)" and a hydrate "·1.3H2O" are read as written.
    """
    if len(token) < 2 or not any(ch.islower() or ch.isdigit() for ch in token):
        return False  # "SC", "NMR": all capitals and no digits are acronyms
    if re.fullmatch(r"[A-Z]{3,}s", token):
        return False  # and so are their plurals: "SOFCs" is no S-O-F-Cs ("BAs" stays)
    if _NOT_COMPOUND.search(token) or _OXIDATION_STATE.search(token):
        return False
    hydrate = _HYDRATE.search(token)
    if hydrate:
        water = token[hydrate.end() :]
        return is_formula(token[: hydrate.start()]) and is_formula(water)
    elements = _elements()
    parts = [p for p in token.split("-") if p]
    if len(parts) > 1 and "-" in token and not _VARIABLE.search(token):
        # "Cu-PdTe2": an element and a compound joined by a hyphen
        return all(is_formula(p) or p in elements for p in parts) and any(
            is_formula(p) for p in parts
        )
    plain = _MIXED_SITE.sub(r"(\1)", _substitute(token))
    if (
        re.search(r"[^A-Za-z0-9().\[\]]", plain)
        or not plain[:1].isupper()
        and plain[:1] not in "(["
    ):
        return False
    symbols = _SYMBOL.findall(plain)
    if not any(c.islower() for c in token) and (
        any(s in PLACEHOLDERS for s in symbols) or _PRODUCT_CODE.match(token)
    ):
        return False  # "MPMS2", "FC77", "BP166": instrument and product codes
    if any(s in _TOO_HEAVY for s in symbols) or re.search(r"[A-Z][a-z]?1$", token):
        return False  # "CuO1", "YO2"... site labels of a structure end in a bare count
    real = {s for s in symbols if s in elements}
    if len(real) < 2 or any(s not in elements and s not in PLACEHOLDERS for s in symbols):
        return False
    # every letter run must be symbols: "Fig" would read F + "ig"
    if _SYMBOL.sub("", re.sub(r"[\d.()\[\]]", "", plain)):
        return False
    if any(s in PLACEHOLDERS for s in symbols):
        plain = _SYMBOL.sub(lambda m: "La" if m.group() in PLACEHOLDERS else m.group(), plain)
    try:
        from pymatgen.core import Composition

        comp = Composition(plain.replace("[", "(").replace("]", ")"))
    except Exception:  # noqa: BLE001 - pymatgen raises several types for bad formulas
        return False
    return len(comp.elements) >= 2


def placeholders(formula: str) -> set[str]:
    """The site placeholders a formula keeps ("REBa2Cu3O7" → {"RE"})."""
    return {s for s in _SYMBOL.findall(formula) if s in PLACEHOLDERS}


_OXIDATION_STATE = re.compile(r"\((?:I{1,3}|IV|V|VI{1,3})\)")  # "Ce(IV)" is no Ce-I-V compound
# a formula a line break left with a space before its next bracket: "Y1-xCaxBa2 (Cu1-yZny)3O7-δ"
_SPACED_GROUP = re.compile(
    r" (\([A-Z][A-Za-z0-9.\-+δ]*\d[A-Za-z0-9.\-+δ]*\)[\dxyzδ][\dxyzδ.\-+]*(?:[A-Z][A-Za-z0-9.\-+δ]*)?)"
)
# the last element of a formula a line break cut off: "RuSr2GdCu2 O8"
_SPACED_TAIL = re.compile(
    r" ([A-Z][a-z]?(?:\d+(?:\.\d+)?|\d*[xyzδ])(?:[-+][\dxyzδ.]+)?)(?![A-Za-z0-9(])"
)


def _joins(token: str, tail: str) -> bool:
    """Whether `tail` ends the formula `token` (a count last, the tail's element new to it)."""
    element = re.match(r"[A-Z][a-z]?", tail)
    return (
        bool(re.search(r"[\dxyzδ]$", token))
        and element is not None
        and element.group() not in re.findall(r"[A-Z][a-z]?", token)
        and is_formula(token)
        and is_formula(token + tail)
    )


_PRODUCT_CODE = re.compile(r"^[A-Z]{2,}\d{2,}[A-Z]*$")  # "FC77", "CS1000"; not "C6H12N4"
_MILLER = re.compile(r"\(\d{3}\)$")
_PIECES = re.compile(r"[^-]+")


# a citation glued to the formula by the PDF's text layer: "La3Ni2B2N3[304]", "MgB2[1" (of
# "[1,2]": the run stops at the comma)
_CITATION = re.compile(r"\[\d{1,3}(?:[-–]\d{1,3})?\]?$")
# a citation in round brackets glued the same way: "Pr1-xLaCexCuO4-δ(18)"; a group of a
# formula always holds an element, never a bare number ("(0)" is a value at zero: "Hc2(0)")
_ROUND_CITATION = re.compile(r"(?<=[A-Za-z0-9δ])\([1-9]\d{0,2}(?:[,–-][1-9]\d{0,2})*\)$")


def _trim(token: str) -> str:
    token = _CITATION.sub("", token.rstrip(".,-+")).rstrip(".,-+")
    token = _ROUND_CITATION.sub("", token)
    if token.endswith(")"):
        token = _MILLER.sub("", token)  # "SrTiO3(001)": a crystal face
    while token and token.count("(") < token.count(")") and token.endswith(")"):
        token = token[:-1]
    while token.startswith("(") and token.count("(") > token.count(")"):
        token = token[1:]
    if token.count("(") > token.count(")"):  # "NpPd5Al2(Tc": a bracket the formula never closes
        token = token[: token.rindex("(")]
    if token.startswith("(") and token.endswith(")") and _closes_at_end(token):
        token = token[1:-1]  # "(Sr2RuO4)": the formula inside brackets
    return token.rstrip(".,-+")


def _closes_at_end(token: str) -> bool:
    """Whether the bracket opening `token` is the one closing it."""
    depth = 0
    for i, ch in enumerate(token):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(token) - 1
    return False


_START = re.compile(r"(?<![A-Za-z0-9])[A-Z(\[]")
_VARIABLE_NEXT = re.compile(r" [xyzδ](?:[A-Z(\[]|\))")


def _open(piece: str) -> bool:
    """Whether a bracket is still open at the end of `piece`."""
    return piece.count("(") + piece.count("[") > piece.count(")") + piece.count("]")


_RUN = re.compile(r"[A-Za-z0-9().\[\]\-+δ]+")


def _candidates(text: str):
    """(start, token) of runs that may be formulas: a capital or bracket, then formula
    characters; a comma inside brackets ("(La,Sr)2CuO4") and a hydrate dot ("·1.3H2O") too."""
    n = len(text)
    end = 0
    for start_match in _START.finditer(text):
        i = start_match.start()
        if i < end:
            continue
        run = _RUN.match(text, i)
        j = run.end() if run else i + 1
        while j < n:
            c = text[j]
            if c == "," and j + 1 < n and text[j + 1].isupper():
                piece = text[i:j]
                if piece.count("(") + piece.count("[") <= piece.count(")") + piece.count("]"):
                    break
                j += 1
            elif c in "•·⋅∙" and (hydrate := _HYDRATE.match(text, j)):
                j = hydrate.end()
            elif (
                c == " "
                and text[j - 1] == "-"
                and _open(text[i:j])
                and _VARIABLE_NEXT.match(text, j)
            ):
                j += 1  # "(Cu1- yZny)3": a line break after the minus of a variable count
            else:
                break
            run = _RUN.match(text, j)
            if run:
                j = run.end()
        end = j
        yield i, text[i:j]


# molecular superconductors, which no element count spells: the organic charge-transfer salts
# of the field's donor molecules ("(TMTSF)2PF6", "κ-(BEDT-TTF)2Cu[N(CN)2]Br") and the
# fullerenes ("C60"; alkali fullerides such as "Rb3C60" are formulas)
_DONORS = r"BEDT-TTF|BEDO-TTF|BETS|TMTSF|TMTTF|DMET|MDT-TTF|ET"
_MOLECULAR = re.compile(
    rf"(?<![A-Za-z0-9])(?:[αβγδθκλ][′']?-)?\((?:{_DONORS})\)"
    r"(?:\d+(?:[A-Z][A-Za-z0-9()\[\]]*)?|[A-Z][A-Za-z0-9()\[\]]*)"
    r"|(?<![A-Za-z0-9])C(?:60|70)(?![0-9])"
)


def _balanced(token: str) -> str:
    """`token` without a closing bracket it never opened: "(TMTSF)2PF6)" → "(TMTSF)2PF6"."""
    depth = 0
    for i, ch in enumerate(token):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth < 0:
            return token[:i]
    return token


def find_materials(sentence: str) -> list[MaterialSpan]:
    """Formulas and named materials in a sentence, left to right, without overlaps."""
    text = normalise(sentence)
    out: list[MaterialSpan] = []
    for begin, raw in _candidates(text):
        token = _trim(raw)
        if not token or (out and begin < out[-1].end):
            continue
        start = text.find(token, begin)
        if " " in token:  # joined across a line break: the formula is written without it
            if is_formula(token.replace(" ", "")):
                out.append(MaterialSpan(token.replace(" ", ""), "", start, start + len(token)))
            continue
        tail = _SPACED_TAIL.match(text, start + len(token))
        if tail and _joins(token, tail.group(1)):
            whole = token + tail.group(1)
            out.append(MaterialSpan(whole, "", start, tail.end()))
            continue
        joined = _SPACED_GROUP.match(text, start + len(token))
        if joined and not token.endswith(")") and is_formula(token + joined.group(1)):
            whole = token + joined.group(1)
            out.append(MaterialSpan(whole, "", start, joined.end()))
            continue
        if is_formula(token):
            out.append(MaterialSpan(token, "", start, start + len(token)))
            continue
        if "-" not in token:
            continue
        for piece in _PIECES.finditer(token):  # "PdTe2-doped" → PdTe2
            if text.startswith(("-based", "-type", "-family", "-like"), start + piece.end()):
                continue  # "BiS2-based": a family of compounds, not a sample
            word = _trim(piece.group())
            if word and is_formula(word):
                s = start + piece.start() + piece.group().find(word)
                out.append(MaterialSpan(word, "", s, s + len(word)))
    for m in _NAMED.finditer(text):
        if any(o.start <= m.start() < o.end for o in out):
            continue
        name = m.group(1)
        out.append(MaterialSpan(NAMED[name] or name, name, m.start(), m.end(), kind="name"))
    for m in _MOLECULAR.finditer(text):
        written = _balanced(m.group())
        end = m.start() + len(written)
        if any(o.start < end and m.start() < o.end for o in out):
            continue
        out.append(MaterialSpan(written, written, m.start(), end, kind="name", family="molecular"))
    out.sort(key=lambda s: s.start)
    from inference.literature.roles import material_role

    return [dataclasses.replace(s, role=material_role(text, s)) for s in out]
