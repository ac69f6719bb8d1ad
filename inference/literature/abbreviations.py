"""Material abbreviations: the field's standard ones, and those a paper defines for itself.

A paper that writes "Pr1.85Ce0.15CuO4-δ (PCCO) films" means that formula by every later
"PCCO"; `definitions` finds such pairs with the Schwartz–Hearst test (the short form's letters
appear in order in the long form, the first at the start of a word or element symbol), also
the other way round, "LSCO (La2-xSrxCuO4)". Cation-ratio codes ("Bi-2212", "Y123",
"(Hg,Pb)-2212") bind to the formula they follow when the formula holds their first element.

`DICTIONARY` holds the field's standard abbreviations, each with its formula, family and a
source that can be checked offline: a sentence of a paper in the shared corpus (data/papers,
SuperMat and grobid-quantities, CC BY 4.0) that uses the abbreviation with its formula, quoted
as that paper's TEI text reads; or, where no paper here does, the words "nominal
stoichiometry of the <family> family", which claim no more than the formula written from the
abbreviation's cation counts. A paper's own definition wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Abbreviation:
    short: str  # as usually written ("Bi2212"; "Bi-2212" and "Bi 2212" match it too)
    formula: str  # placeholders and variables kept ("La2-xSrxCuO4")
    family: str
    paper: str = ""  # TEI file under the shared papers folder whose text holds `quote`
    quote: str = ""  # the sentence (or its part) that uses the abbreviation with its formula
    sample: bool = True  # False: a family name ("1111-type"), never a sample itself

    @property
    def source(self) -> str:
        if self.paper:
            return f'used with its formula in {self.paper}: "{self.quote}"'
        return f"nominal stoichiometry of the {self.family} family"


_CUPRATE = "cuprate"
_RARE_EARTHS = ("Y", "La", "Nd", "Sm", "Eu", "Gd", "Dy", "Ho", "Er", "Yb", "Lu")
_DEV = "supermat_dev/gold_tei/"
_TEI = ".superconductors.tei.xml"
# sentences quoted below, by the paper they are in (CC BY 4.0 articles of SuperMat)
_APL = (
    f"{_DEV}APL0774202-CC{_TEI}",
    "London penetration depth in YBa2Cu3O 7−δ (YBCO) Bi2Sr2CaCu2O 8+δ (BSCCO) and "
    "Pr1.85Ce0.15CuO 4−δ (PCCO)",
)
_LBCO_LSCO = (
    f"{_DEV}P066104528-CC{_TEI}",
    "La 2−x Ba x CuO 4 (LBCO) and La 2−x Sr x CuO 4 (LSCO) show the local minimum of T c",
)
_LCCO_PCCO = (
    f"{_DEV}L091087001-CC{_TEI}",
    "La 2−x Ce x CuO 4−δ (LCCO) and Pr 2−x Ce x CuO 4−δ (PCCO) films",
)
_TUNNELING = (
    f"{_DEV}PHC3200009-CC{_TEI}",
    "Tunneling spectra on Bi 2 Sr 2 CaCu 2 O 8+δ (Bi-2212) , Bi 2 Sr 2 CuO x and HgBa 2 CuO 4 "
    "(Hg-1201)",
)
_HOTT = f"{_DEV}hott2013review-CC{_TEI}"
_HOTT_FE = (
    _HOTT,
    'In " 11 " (e.g., FeSe ) there is nothing between, in " 111 " ( LiFeAs and NaFeAs ) two '
    'alkali metal atom layers fill the "hollows" on each side of Fe(P/As/Se/Te) pyramid layers, '
    'in " 1111 " (e.g., LaFeAsO ) an additional oxygen layer comes between these metal atom '
    "layers",
)
_LA1111 = (
    "supermat/gold_tei/1609.04957-CC.superconductors.tei.xml",
    "LaFeAsO 1−x H x ( H-doped La1111 series )",
)
_BA122 = (
    "supermat/gold_tei/1609.04957-CC.superconductors.tei.xml",
    "Ba122 series such as Ba(Fe1−xCox)2As2",
)
_NA111 = (
    "supermat/gold_tei/1609.04957-CC.superconductors.tei.xml",
    "the Na111 series , such as NaFe 1−x Co x As",
)


def _entry(short: str, formula: str, family: str, source=("", ""), sample=True) -> Abbreviation:
    return Abbreviation(short, formula, family, source[0], source[1], sample)


def _rare_earth_123() -> list[Abbreviation]:
    out = []
    family = f"{_CUPRATE} (RE-123)"
    for re_ in _RARE_EARTHS:
        formula = f"{re_}Ba2Cu3O7-δ"
        bco = _APL if re_ == "Y" else ("", "")
        n123 = (
            (
                f"{_DEV}P071184510-CC{_TEI}",
                "the transport properties of YBa 2 Cu 3 O 7-δ (Y123)",
            )
            if re_ == "Y"
            else ("", "")
        )
        out += [
            _entry(f"{re_}BCO", formula, family, bco),
            _entry(f"{re_}123", formula, family, n123),
        ]
    return out


DICTIONARY: tuple[Abbreviation, ...] = (
    _entry("LBCO", "La2-xBaxCuO4", f"{_CUPRATE} (214)", _LBCO_LSCO),
    _entry("LSCO", "La2-xSrxCuO4", f"{_CUPRATE} (214)", _LBCO_LSCO),
    _entry("La214", "La2-xSrxCuO4", f"{_CUPRATE} (214)"),
    *_rare_earth_123(),
    _entry(
        "REBCO",
        "REBa2Cu3O7-δ",
        f"{_CUPRATE} (RE-123)",
        (_HOTT, "the cuprate HTS YBCO or REBCO (RE-Ba 2 Cu 3 O 7-δ )"),
    ),
    _entry("ReBCO", "REBa2Cu3O7-δ", f"{_CUPRATE} (RE-123)"),
    _entry(
        "RE123",
        "REBa2Cu3O7-δ",
        f"{_CUPRATE} (RE-123)",
        (_HOTT, 'The HTS compounds REBa 2 Cu 3 O 7-δ ("RBCO", "RE-123")'),
    ),
    _entry(
        "Y124",
        "YBa2Cu4O8",
        f"{_CUPRATE} (RE-124)",
        (f"{_DEV}P072094504-CC{_TEI}", "in YBa 2 Cu 4 O 8 (Y124)"),
    ),
    _entry("BSCCO", "Bi2Sr2CaCu2O8+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _APL),
    _entry(
        "Bi2201",
        "Bi2Sr2CuO6+δ",
        f"{_CUPRATE} (Bi-22(n-1)n)",
        (
            f"{_DEV}P066020503-CC{_TEI}",
            "the thermoelectric power on Bi 2 Sr 2 CuO 6+δ (Bi-2201)",
        ),
    ),
    _entry("Bi2212", "Bi2Sr2CaCu2O8+δ", f"{_CUPRATE} (Bi-22(n-1)n)", _TUNNELING),
    _entry(
        "Bi2223",
        "Bi2Sr2Ca2Cu3O10+δ",
        f"{_CUPRATE} (Bi-22(n-1)n)",
        (_HOTT, "(e. g., Bi 2 Sr 2 Ca 2 Cu 3 O 10 : Bi-2223)"),
    ),
    _entry(
        "Tl2201",
        "Tl2Ba2CuO6+δ",
        f"{_CUPRATE} (Tl-22(n-1)n)",
        (f"{_DEV}PHC3200009-CC{_TEI}", "single crystals of Tl2Ba2CuO6 (Tl-2201) junctions"),
    ),
    _entry("Tl2212", "Tl2Ba2CaCu2O8+δ", f"{_CUPRATE} (Tl-22(n-1)n)"),
    _entry("Tl2223", "Tl2Ba2Ca2Cu3O10+δ", f"{_CUPRATE} (Tl-22(n-1)n)"),
    _entry("Tl1212", "TlBa2CaCu2O7+δ", f"{_CUPRATE} (Tl-12(n-1)n)"),
    _entry("Tl1223", "TlBa2Ca2Cu3O9+δ", f"{_CUPRATE} (Tl-12(n-1)n)"),
    _entry("Hg1201", "HgBa2CuO4+δ", f"{_CUPRATE} (Hg-12(n-1)n)", _TUNNELING),
    _entry("Hg1212", "HgBa2CaCu2O6+δ", f"{_CUPRATE} (Hg-12(n-1)n)"),
    _entry("Hg1223", "HgBa2Ca2Cu3O8+δ", f"{_CUPRATE} (Hg-12(n-1)n)"),
    _entry(
        "NCCO",
        "Nd2-xCexCuO4",
        f"{_CUPRATE} (electron-doped T')",
        (_HOTT, 'La 2-x Sr x CuO 4 ("LSCO") or Nd 2-x Ce x CuO 4 ("NCCO")'),
    ),
    _entry("PCCO", "Pr2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _LCCO_PCCO),
    _entry("SCCO", "Sm2-xCexCuO4", f"{_CUPRATE} (electron-doped T')"),
    _entry("LCCO", "La2-xCexCuO4", f"{_CUPRATE} (electron-doped T')", _LCCO_PCCO),
    _entry(
        "Ru1212",
        "RuSr2GdCu2O8",
        f"{_CUPRATE} (ruthenocuprate)",
        (_HOTT, "RuSr 2 GdCu 2 O 8 (Ru-1212) is a ruthenate-cuprate hybrid"),
    ),
    _entry(
        "BKBO",
        "Ba1-xKxBiO3",
        "bismuthate",
        (f"{_DEV}PHC3410729-CC{_TEI}", "It is well known that Ba 1−x K x BiO 3 (BKBO)"),
    ),
    _entry("BPBO", "BaPb1-xBixO3", "bismuthate"),
    _entry("La1111", "LaFeAsO", "iron pnictide (1111)", _LA1111),
    *(
        _entry(f"{re_}1111", f"{re_}FeAsO", "iron pnictide (1111)")
        for re_ in ("Ce", "Pr", "Nd", "Sm", "Gd")
    ),
    _entry("Ba122", "BaFe2As2", "iron pnictide (122)", _BA122),
    *(_entry(f"{ae}122", f"{ae}Fe2As2", "iron pnictide (122)") for ae in ("Sr", "Ca", "Eu", "K")),
    _entry("Li111", "LiFeAs", "iron pnictide (111)"),
    _entry("Na111", "NaFeAs", "iron pnictide (111)", _NA111),
    _entry("1111", "REFeAsO", "iron pnictide (1111)", _HOTT_FE, sample=False),
    _entry(
        "122",
        "AEFe2As2",
        "iron pnictide (122)",
        (_HOTT, 'the BaFe 2 As 2 (" 122 ") superconductor family'),
        sample=False,
    ),
    _entry("111", "AFeAs", "iron pnictide (111)", _HOTT_FE, sample=False),
    _entry("11", "FeCh", "iron chalcogenide (11)", _HOTT_FE, sample=False),
    _entry("245", "A0.8Fe1.6Se2", "iron chalcogenide (245)", sample=False),
    _entry(
        "MgB2",
        "MgB2",
        "diboride",
        (
            f"{_DEV}P070184523-CC{_TEI}",
            "a layered compound MgB 2 , which shows super- conductivity at T c = 39 K",
        ),
    ),
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
# "Pr:123", "Nd-1111". The digits are the counts of the cation sites: 0-4 in a three-digit
# code; a four-digit one may count more ("La-2125", "La-3137": five and seven Cu).
CODE = re.compile(
    r"(?<![A-Za-z0-9-])((?:\((?:[A-Z][a-z]?,\s?)+[A-Z][a-z]?\)|RE|R|Ln|[A-Z][a-z]?)"
    r"(?:[-:]\s?|\s?-\s?|)(?:[0-4]{3}|[1-9][0-9]{3}|12\(n-1\)n|22\(n-1\)n))(?![A-Za-z0-9])"
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
