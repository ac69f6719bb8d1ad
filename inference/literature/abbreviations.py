"""Material abbreviations: the field's standard ones, and those a paper defines for itself.

A paper that writes "Pr1.85Ce0.15CuO4-δ (PCCO) films" means that formula by every later
"PCCO"; `definitions` finds such pairs with the Schwartz–Hearst test (the short form's letters
appear in order in the long form, the first at the start of a word or element symbol; A. S.
Schwartz & M. A. Hearst, Pac. Symp. Biocomput. 8, 451 (2003)), also the other way round,
"LSCO (La2-xSrxCuO4)". Cation-ratio codes ("Bi-2212", "Y123", "(Hg,Pb)-2212") bind to the
formula they follow when the formula holds their first element.

`DICTIONARY` holds the field's standard abbreviations, each with its formula, family and the
paper that introduced the compound (or family) it names; a paper's own definition wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Abbreviation:
    short: str  # as usually written ("Bi2212"; "Bi-2212" and "Bi 2212" match it too)
    formula: str  # placeholders and variables kept ("La2-xSrxCuO4")
    family: str
    source: str  # where the compound or family was introduced
    sample: bool = True  # False: a family name ("1111-type"), never a sample itself


_BEDNORZ = "J. G. Bednorz & K. A. Müller, Z. Phys. B 64, 189 (1986)"
_CAVA_LSCO = "R. J. Cava et al., Phys. Rev. Lett. 58, 408 (1987)"
_WU = "M. K. Wu et al., Phys. Rev. Lett. 58, 908 (1987)"
_HOR = "P. H. Hor et al., Phys. Rev. Lett. 58, 1891 (1987)"
_KARPINSKI = "J. Karpinski et al., Nature 336, 660 (1988)"
_MICHEL = "C. Michel et al., Z. Phys. B 68, 421 (1987)"
_MAEDA = "H. Maeda et al., Jpn. J. Appl. Phys. 27, L209 (1988)"
_SHENG = "Z. Z. Sheng & A. M. Hermann, Nature 332, 138 (1988)"
_PUTILIN = "S. N. Putilin et al., Nature 362, 226 (1993)"
_SCHILLING = "A. Schilling et al., Nature 363, 56 (1993)"
_TOKURA = "Y. Tokura, H. Takagi & S. Uchida, Nature 337, 345 (1989)"
_NAITO = "M. Naito & M. Hepp, Jpn. J. Appl. Phys. 39, L485 (2000)"
_BAUERNFEIND = "L. Bauernfeind, W. Widder & H. F. Braun, Physica C 254, 151 (1995)"
_CAVA_BKBO = "R. J. Cava et al., Nature 332, 814 (1988)"
_SLEIGHT = "A. W. Sleight, J. L. Gillson & P. E. Bierstedt, Solid State Commun. 17, 27 (1975)"
_KAMIHARA = "Y. Kamihara et al., J. Am. Chem. Soc. 130, 3296 (2008)"
_ROTTER = "M. Rotter, M. Tegel & D. Johrendt, Phys. Rev. Lett. 101, 107006 (2008)"
_WANG = "X. C. Wang et al., Solid State Commun. 148, 538 (2008)"
_HSU = "F.-C. Hsu et al., Proc. Natl. Acad. Sci. USA 105, 14262 (2008)"
_GUO = "J. Guo et al., Phys. Rev. B 82, 180520(R) (2010)"
_NAGAMATSU = "J. Nagamatsu et al., Nature 410, 63 (2001)"

_CUPRATE = "cuprate"
_RARE_EARTHS = ("Y", "La", "Nd", "Sm", "Eu", "Gd", "Dy", "Ho", "Er", "Yb", "Lu")


def _rare_earth_123() -> list[Abbreviation]:
    out = []
    for re_ in _RARE_EARTHS:
        formula = f"{re_}Ba2Cu3O7-δ"
        source = _WU if re_ == "Y" else _HOR
        out += [
            Abbreviation(f"{re_}BCO", formula, f"{_CUPRATE} (RE-123)", source),
            Abbreviation(f"{re_}123", formula, f"{_CUPRATE} (RE-123)", source),
        ]
    return out


DICTIONARY: tuple[Abbreviation, ...] = (
    Abbreviation("LBCO", "La2-xBaxCuO4", f"{_CUPRATE} (214)", _BEDNORZ),
    Abbreviation("LSCO", "La2-xSrxCuO4", f"{_CUPRATE} (214)", _CAVA_LSCO),
    Abbreviation("La214", "La2-xSrxCuO4", f"{_CUPRATE} (214)", _CAVA_LSCO),
    *_rare_earth_123(),
    Abbreviation("REBCO", "REBa2Cu3O7-δ", f"{_CUPRATE} (RE-123)", _HOR),
    Abbreviation("ReBCO", "REBa2Cu3O7-δ", f"{_CUPRATE} (RE-123)", _HOR),
    Abbreviation("RE123", "REBa2Cu3O7-δ", f"{_CUPRATE} (RE-123)", _HOR),
    Abbreviation("Y124", "YBa2Cu4O8", f"{_CUPRATE} (RE-124)", _KARPINSKI),
    Abbreviation("BSCCO", "Bi2Sr2CaCu2O8+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _MAEDA),
    Abbreviation("Bi2201", "Bi2Sr2CuO6+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _MICHEL),
    Abbreviation("Bi2212", "Bi2Sr2CaCu2O8+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _MAEDA),
    Abbreviation("Bi2223", "Bi2Sr2Ca2Cu3O10+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _MAEDA),
    Abbreviation("Tl2201", "Tl2Ba2CuO6+δ", f"{_CUPRATE} (Tl-22(n-1)n)", _SHENG),
    Abbreviation("Tl2212", "Tl2Ba2CaCu2O8+δ", f"{_CUPRATE} (Tl-22(n-1)n)", _SHENG),
    Abbreviation("Tl2223", "Tl2Ba2Ca2Cu3O10+δ", f"{_CUPRATE} (Tl-22(n-1)n)", _SHENG),
    Abbreviation("Tl1212", "TlBa2CaCu2O7+δ", f"{_CUPRATE} (Tl-12(n-1)n)", _SHENG),
    Abbreviation("Tl1223", "TlBa2Ca2Cu3O9+δ", f"{_CUPRATE} (Tl-12(n-1)n)", _SHENG),
    Abbreviation("Hg1201", "HgBa2CuO4+δ", f"{_CUPRATE} (Hg-12(n-1)n)", _PUTILIN),
    Abbreviation("Hg1212", "HgBa2CaCu2O6+δ", f"{_CUPRATE} (Hg-12(n-1)n)", _SCHILLING),
    Abbreviation("Hg1223", "HgBa2Ca2Cu3O8+δ", f"{_CUPRATE} (Hg-12(n-1)n)", _SCHILLING),
    Abbreviation("NCCO", "Nd2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _TOKURA),
    Abbreviation("PCCO", "Pr2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _TOKURA),
    Abbreviation("SCCO", "Sm2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _TOKURA),
    Abbreviation("LCCO", "La2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _NAITO),
    Abbreviation("Ru1212", "RuSr2GdCu2O8", f"{_CUPRATE} (ruthenocuprate)", _BAUERNFEIND),
    Abbreviation("BKBO", "Ba1-xKxBiO3", "bismuthate", _CAVA_BKBO),
    Abbreviation("BPBO", "BaPb1-xBixO3", "bismuthate", _SLEIGHT),
    *(
        Abbreviation(f"{re_}1111", f"{re_}FeAsO", "iron pnictide (1111)", _KAMIHARA)
        for re_ in ("La", "Ce", "Pr", "Nd", "Sm", "Gd")
    ),
    *(
        Abbreviation(f"{ae}122", f"{ae}Fe2As2", "iron pnictide (122)", _ROTTER)
        for ae in ("Ba", "Sr", "Ca", "Eu", "K")
    ),
    Abbreviation("Li111", "LiFeAs", "iron pnictide (111)", _WANG),
    Abbreviation("Na111", "NaFeAs", "iron pnictide (111)", _WANG),
    Abbreviation("1111", "REFeAsO", "iron pnictide (1111)", _KAMIHARA, sample=False),
    Abbreviation("122", "AEFe2As2", "iron pnictide (122)", _ROTTER, sample=False),
    Abbreviation("111", "AFeAs", "iron pnictide (111)", _WANG, sample=False),
    Abbreviation("11", "FeCh", "iron chalcogenide (11)", _HSU, sample=False),
    Abbreviation("245", "A0.8Fe1.6Se2", "iron chalcogenide (245)", _GUO, sample=False),
    Abbreviation("MgB2", "MgB2", "diboride", _NAGAMATSU),
)
_FAMILY_WORDS = (
    r"[- ](?:type|family|families|system|systems|compounds?|phases?|materials?|structure)"
)
_LETTER_CODE = re.compile(r"^(\(?[A-Z][A-Za-z,]*\)?)(\d+)$")


def _pattern(short: str) -> str:
    """A regex for an abbreviation as written in papers: "Bi2212", "Bi-2212", "Bi 2212"."""
    m = _LETTER_CODE.match(short)
    if m and not short.isdigit():
        return re.escape(m.group(1)) + r"(?:[- :]?)" + re.escape(m.group(2))
    return re.escape(short)


def _compile(entries) -> re.Pattern:
    samples = [a.short for a in entries if a.sample]
    families = [a.short for a in entries if not a.sample]
    alternatives = [_pattern(s) for s in sorted(samples, key=len, reverse=True)]
    alternatives += [rf"{re.escape(f)}(?={_FAMILY_WORDS})" for f in families]
    return re.compile(r"(?<![A-Za-z0-9-])(" + "|".join(alternatives) + r")(?![A-Za-z0-9])")


_DICTIONARY_RE = _compile(DICTIONARY)
_BY_KEY = {re.sub(r"[- :]", "", a.short): a for a in DICTIONARY}

# A cation-ratio code the dictionary may not list: "Cu-1212", "La-2125", "(Hg,Pb)-2212",
# "Pr:123", "Nd-1111". The digits are the counts of the cation sites, all 0-4.
CODE = re.compile(
    r"(?<![A-Za-z0-9-])((?:\((?:[A-Z][a-z]?,\s?)+[A-Z][a-z]?\)|RE|R|Ln|[A-Z][a-z]?)"
    r"(?:[-:]\s?|\s?-\s?|)(?:[0-4]{3,4}|12\(n-1\)n|22\(n-1\)n))(?![A-Za-z0-9])"
)


@dataclass(frozen=True)
class Definition:
    """A short form the paper binds to a formula (or a dictionary entry it uses)."""

    short: str
    formula: str
    family: str
    source: str  # "defined in the paper: <long form> (<short>)" or the dictionary's source
    sample: bool = True


def family_of(short: str, formula: str) -> str:
    """The family of a compound a paper abbreviates: the dictionary's for a standard short form,
    else read from the formula's elements (cuprate, iron pnictide or chalcogenide), else ""."""
    entry = _BY_KEY.get(re.sub(r"[- :]", "", short))
    if entry is not None:
        return entry.family
    symbols = set(re.findall(r"[A-Z][a-z]?", formula))
    if {"Cu", "O"} <= symbols:
        return _CUPRATE
    if "Fe" in symbols and symbols & {"As", "P"}:
        return "iron pnictide"
    if "Fe" in symbols and symbols & {"Se", "Te", "S"}:
        return "iron chalcogenide"
    return ""


def lookup(short: str) -> Definition | None:
    """The dictionary's entry for a short form as written ("Bi-2212" → Bi2212)."""
    entry = _BY_KEY.get(re.sub(r"[- :]", "", short))
    if entry is None:
        return None
    return Definition(entry.short, entry.formula, entry.family, entry.source, entry.sample)


def dictionary_mentions(text: str):
    """(start, end, written) of dictionary abbreviations in a sentence."""
    for m in _DICTIONARY_RE.finditer(text):
        yield m.start(1), m.end(1), m.group(1)


def code_mentions(text: str):
    """(start, end, written) of cation-ratio codes ("Cu-1212", "La-2125") in a sentence."""
    from inference.literature.materials import PLACEHOLDERS, _elements

    for m in CODE.finditer(text):
        head = re.match(r"\(?([A-Z][a-z]?)", m.group(1))
        symbol = head.group(1) if head else ""
        code = m.group(1)
        if symbol not in _elements() and code.split("-")[0] not in PLACEHOLDERS:
            continue
        if code.replace("-", "").replace(":", "").isdigit():
            continue
        yield m.start(1), m.end(1), code


_SHORT = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9:\-]{1,11}(?:-\s?\d{1,4})?)\s*\)")


def sh_match(short: str, long: str) -> bool:
    """Schwartz–Hearst: the short form's letters and digits in order in the long form, read
    from the end, and its first character at the start of a word or an element symbol."""
    s = [c.lower() for c in short if c.isalnum()]
    if len(s) < 2:
        return False
    i = len(long) - 1
    for k in range(len(s) - 1, -1, -1):
        while i >= 0:
            c = long[i]
            at_start = i == 0 or not long[i - 1].isalnum() or c.isupper()
            if c.lower() == s[k] and (k > 0 or at_start):
                break
            i -= 1
        if i < 0:
            return False
        i -= 1
    return True


def code_fits(code: str, formula: str) -> bool:
    """ "Bi-2212" fits "Bi2Sr2CaCu2O8": the code's element leads the formula's cations."""
    head = re.match(r"\(?([A-Z][a-z]?)", code)
    return bool(head) and head.group(1) in re.findall(r"[A-Z][a-z]?", formula)[:2]


def looks_short(word: str) -> bool:
    """A token that can be an abbreviation: two capitals or a code, not a plain word."""
    return bool(CODE.fullmatch(word)) or (
        sum(c.isupper() for c in word) >= 2 and len(word) <= 12 and " " not in word
    )
