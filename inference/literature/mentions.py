"""Material mentions of a whole paper, as the field annotates them, each with its formula.

Besides formulas and named materials (`materials.find_materials`) a paper names its samples
by abbreviations ("PCCO", "Bi-2212"), doping levels ("x = 0.15"), sample codes ("S1",
"film A1"), descriptor phrases ("Zn-doped samples") and, for elemental superconductors, by
element ("Al (Tc = 1.18 K)", "niobium"). `MentionReader` reads a paper's sentences in order:
a first pass collects what the paper defines (abbreviations, the variables of its formulas),
then each sentence's mentions are read with the paper's current variable formula in mind.
"""

from __future__ import annotations

import dataclasses
import re

from inference.literature import abbreviations as abbr
from inference.literature.materials import MaterialSpan, find_materials, is_formula, placeholders
from inference.literature.quantities import normalise
from inference.literature.roles import material_role
from inference.literature.variables import (
    find_dopings,
    find_sites,
    instantiate,
    variables_of,
)

_BETWEEN = re.compile(r"^\s*(?:[a-z][a-z-]*\s+){0,3}$")  # "La2CuO4 single crystals (LCO)"
_SAMPLE_CODE = re.compile(r"[A-Z]\d{1,2}|#\s?\d{1,4}")
_CODE_AFTER_WORD = re.compile(
    r"\b(?:films?|samples?|crystals?|specimens?|wafers?)\s+(?P<code>[A-Z]\d{1,2}|#\s?\d{1,4})"
    r"(?![A-Za-z0-9])"
)
_CODE_BEFORE_WORD = re.compile(
    r"(?<![A-Za-z0-9])(?P<code>[A-Z]\d{1,2})\s+(?:films?|samples?|crystals?)\b"
)
_SAMPLE_WORDS = r"(?:\s+(?:(?:single|poly)[- ]?)?(?:crystals?|samples?|(?:thin\s+)?films?))?"
_ELEMENT = r"(?P<el>[A-Z][a-z]?)"
# "Zn-doped samples", "Co-substituted", "Zn-free", "Ca- doped", "5%Zn", "1% Gd samples"
_DOPED = re.compile(
    r"(?<![A-Za-z0-9-])(?:\d+(?:\.\d+)?\s?%\s?-?\s?)?"
    + _ELEMENT
    + r"(?:-\s?|\s)(?:doped|substituted|free|rich|deficient|intercalated)\b"
    + _SAMPLE_WORDS
)
_PERCENT = re.compile(
    r"(?<![\d.])(?:[1-9]\d*(?:\.\d+)?|0\.[1-9]\d*)\s?%\s?-?" + _ELEMENT + r"(?![a-z])"
    r"(?:[- ](?:substituted|doped))?" + _SAMPLE_WORDS
)
_DESCRIPTOR = re.compile(
    r"(?P<d>(?:under|over|optimally|heavily|lightly|slightly|electron|hole)[- ]?doped|"
    r"pristine|undoped|polycrystalline|single[- ]crystal(?:line)?|as[- ]grown|annealed|"
    r"epitaxial|sintered|bulk|thin[- ]film|(?:thin )?films? of|(?:single )?crystals? of|"
    r"samples? of|powders? of)\s+",
    re.IGNORECASE,
)
_DESCRIBE_BEFORE = re.compile(r"(?:" + _DESCRIPTOR.pattern + r")+$", re.IGNORECASE)
_DESCRIBE_AFTER = re.compile(
    r"^\s+(?P<d>(?:(?:thin|thick|epitaxial)\s+)?(?:single[- ]crystals?|crystals?|films?|"
    r"samples?|powders?|ceramics?|whiskers?|wires?|tapes?|nanowires?|polycrystals?|pellets?))\b",
    re.IGNORECASE,
)
ELEMENT_NAMES = {
    "aluminium": "Al", "aluminum": "Al", "niobium": "Nb", "lead": "Pb", "tin": "Sn",
    "indium": "In", "tantalum": "Ta", "vanadium": "V", "titanium": "Ti", "mercury": "Hg",
    "thallium": "Tl", "thorium": "Th", "zinc": "Zn", "cadmium": "Cd", "molybdenum": "Mo",
    "tungsten": "W", "rhenium": "Re", "osmium": "Os", "iridium": "Ir", "ruthenium": "Ru",
    "lanthanum": "La", "gallium": "Ga", "beryllium": "Be", "zirconium": "Zr",
    "hafnium": "Hf", "uranium": "U", "rhodium": "Rh",
}  # fmt: skip


def _spelled(names) -> str:
    """Element names as a regex alternation, lower case or capitalised, longest first."""
    ordered = sorted(names, key=len, reverse=True)
    return "|".join([*ordered, *(n.capitalize() for n in ordered)])


_ELEMENT_WORD = r"(?P<el>" + _spelled(ELEMENT_NAMES) + r"|[A-Z][a-z]?)"
# an element is a sample where it carries a Tc ("Al (Tc = 1.18 K)", "Tc of lead") or is made
# into a film; its wires, foils and plates are mostly tools (spark-cutting electrodes, cold
# plates, shields)
_ELEMENT_WITH_TC = re.compile(
    r"(?<![A-Za-z0-9-])" + _ELEMENT_WORD + r"(?=\s*\([^()]{0,40}?(?:T\s?c|\d\s?m?K\b))"
)
_ELEMENT_MADE_INTO = re.compile(
    r"(?<![A-Za-z0-9-])" + _ELEMENT_WORD + r"(?=\s+(?:thin\s+)?(?:films?|manometers?)\b)"
)
# cheap tests that spare the slow patterns most sentences
_DOPED_HINT = re.compile(
    r"doped|substitut|free|rich|deficient|intercalat|%|pristine|grown|conducting"
)
_ELEMENT_HINT = re.compile(
    r"T\s?c\s+of|T\s?c\s?\(|\([^()]{0,40}?(?:T\s?c|\d\s?m?K\b)|films?\b|wires?\b|foils?\b|"
    r"plates?\b|manometer"
)
_TC_OF_BRACKETED_ELEMENT = re.compile(r"T\s?c\s?\(\s?" + _ELEMENT_WORD + r"\s?\)")  # "Tc(Al)"
_TC_OF_ELEMENT = re.compile(r"T\s?c\s+of\s+(?:the\s+|pure\s+|elemental\s+)?" + _ELEMENT_WORD)

# an element written out in a sentence that gives a Tc value: "Tantalum exhibits a slight
# negative α below Tc = 4.4 K", "niobium, the element with the highest critical temperature
# Tc = 9.2 K" ("lead" and "tin" are everyday words: they count in brackets only, above); not
# a dopant or a part of a compound ("niobium-doped", "lanthanum cuprate")
_SPELLED_ELEMENT = re.compile(
    r"(?<![A-Za-z0-9-])(?P<el>"
    + _spelled(n for n in ELEMENT_NAMES if n not in ("lead", "tin"))
    + r")(?![A-Za-z0-9-])(?!\s+(?:\w+ides?|oxides?|cuprates?|compounds?|alloys?|atoms?|ions?|"
    r"sites?|content|substitut\w*|dop\w*|based|layers?|planes?)\b)"
)
_GIVES_TC = re.compile(
    r"(?:T\s?c\b|critical temperature)[^.;]{0,30}?[=≈∼~]?\s*\d+(?:\.\d+)?\s?m?K\b"
)

# symbols that are units or everyday words far more often than elemental samples
_NOT_SAMPLE_ELEMENTS = frozenset({"K", "S", "Tc", "H", "O", "C", "N", "B", "P", "I", "U", "Y"})


def _element_symbol(word: str) -> str | None:
    from inference.literature.materials import _elements

    symbol = ELEMENT_NAMES.get(word.lower()) if len(word) > 2 else word
    return symbol if symbol in _elements() else None


def _composition(formula: str, variable: str, value: float) -> tuple[str, ...]:
    """The concrete composition a doping level makes of its variable formula, if any."""
    c = instantiate(formula, {variable: value}, {}) if formula else None
    return (c,) if c is not None else ()


def _with_codes(text: str, mentions: list[MaterialSpan]) -> list[MaterialSpan]:
    """A formula or abbreviation and the sample code right after it are one sample: "the
    YBCO A1 film" names film A1 of YBCO."""
    out: list[MaterialSpan] = []
    for m in mentions:
        last = out[-1] if out else None
        if (
            last is not None
            and m.kind == "code"
            and last.kind in ("formula", "abbreviation")
            and last.role == "sample"
            and text[last.end : m.start] == " "
        ):
            out[-1] = dataclasses.replace(
                last, name=text[last.start : m.end], end=m.end, kind="code"
            )
            continue
        out.append(m)
    return out


_AND = re.compile(r"\s*(?:,\s*(?:and\s+)?|and\s+)\s*")


def _jointly(
    text: str, levels: list[MaterialSpan], single: dict[int, tuple[str, float]]
) -> list[MaterialSpan]:
    """Levels of different variables of one formula named together ("y = 0.06 and x = 0.20")
    set one composition: Y0.8Ca0.2Ba2(Cu0.94Zn0.06)3O7-δ, not one per variable."""
    out = list(levels)
    run: list[int] = []
    for i in [*sorted(single), -1]:
        joined = (
            run
            and i >= 0
            and levels[i].formula == levels[run[-1]].formula
            and _AND.fullmatch(text[levels[run[-1]].end : levels[i].start])
        )
        if joined:
            run.append(i)
            continue
        variables = {single[j][0] for j in run}
        if len(run) >= 2 and len(variables) == len(run) and levels[run[0]].formula:
            values = dict(single[j] for j in run)
            c = instantiate(levels[run[0]].formula, values, {})
            for j in run:
                out[j] = dataclasses.replace(levels[j], compositions=(c,) if c else ())
        run = [i] if i >= 0 else []
    return out


def _overlaps(a: int, b: int, spans) -> bool:
    return any(a < s.end and s.start < b for s in spans)


def define(text: str, formulas: list[MaterialSpan]) -> list[abbr.Definition]:
    """Abbreviations and sample codes a sentence defines, in both orders:
    "La2-xSrxCuO4 (LSCO)", "YBa2Cu3O7 (Y123)", "LSCO (La2-xSrxCuO4)", "y = 0.06 sample (S1)"."""
    out: list[abbr.Definition] = []
    for m in abbr._SHORT.finditer(text):
        short = m.group(1)
        before = [
            f for f in formulas if f.end <= m.start() and _BETWEEN.match(text[f.end : m.start()])
        ]
        if before and before[-1].kind == "formula":
            f = before[-1]
            long = text[f.start : m.end()]
            if short == f.formula or (is_formula(short) and not abbr.sh_match(short, f.formula)):
                continue
            fits = abbr.CODE.fullmatch(short) and abbr.code_fits(short, f.formula)
            if fits or (abbr.looks_short(short) and abbr.sh_match(short, f.formula)):
                family = abbr.family_of(short, f.formula)
                out.append(
                    abbr.Definition(short, f.formula, family, f"defined in the paper: {long}")
                )
                continue
        if not _SAMPLE_CODE.fullmatch(short):
            continue
        # "the first y = 0.06 sample (S1)", "another heavily disordered compound (S2)", and
        # right after its formula, "sintered Y0.80Ca0.20Ba2(Cu0.945Zn0.055)3O7-δ (S2)"
        named = before[-1] if before and text[before[-1].end : m.start()].strip() == "" else None
        if named is not None and named.kind == "formula":
            source = f"defined in the paper: {text[named.start : m.end()]}"
            out.append(abbr.Definition(short, named.formula, "sample code", source))
        elif re.search(
            r"\b(?:samples?|films?|crystals?|compounds?)\s*$",
            text[max(0, m.start() - 25) : m.start()],
        ):
            source = f"defined in the paper: {text[max(0, m.start() - 40) : m.end()].strip()}"
            out.append(abbr.Definition(short, "", "sample code", source))
    for f in formulas:
        head = re.search(
            r"([A-Za-z][A-Za-z0-9\-]{1,11})\s*\(\s*$", text[max(0, f.start - 16) : f.start]
        )
        if not head or not re.match(r"^\s*\)", text[f.end : f.end + 3]):
            continue
        short = head.group(1)
        if is_formula(short) or not abbr.looks_short(short):
            continue
        fits = abbr.CODE.fullmatch(short) and abbr.code_fits(short, f.formula)
        if fits or abbr.sh_match(short, f.formula):
            long = text[f.start - len(head.group()) + len(short) : f.end + 1]
            source = f"defined in the paper: {short} {long}"
            out.append(abbr.Definition(short, f.formula, abbr.family_of(short, f.formula), source))
    return out


class MentionReader:
    """Reads the mentions of a paper's sentences, in order, with the paper's definitions."""

    def __init__(self, sentences: list[str]) -> None:
        self.texts = [normalise(s) for s in sentences]
        self.formulas = [find_materials(t) for t in self.texts]
        self.definitions: dict[str, abbr.Definition] = {}
        self.variables: set[str] = set()
        for text, found in zip(self.texts, self.formulas, strict=True):
            for d in define(text, found):
                self.definitions.setdefault(d.short, d)
            for f in found:
                if f.role == "sample":
                    self.variables |= variables_of(f.formula)
        bound = sorted(self.definitions, key=len, reverse=True)
        self._bound = (
            re.compile(
                r"(?<![A-Za-z0-9-])("
                + "|".join(abbr._pattern(s) for s in bound)
                + r")(?![A-Za-z0-9])"
            )
            if bound
            else None
        )
        # per composition variable, the last sample formula that keeps it: a paper on
        # "Hg2(Ba1-ySry)2YCu2O8-δ" defines "y = 0.5" for it even after naming "Hg2Ba2YCu2O8-δ"
        self.keeps: dict[str, MaterialSpan] = {}
        self.sample: MaterialSpan | None = None  # the last sample with a formula

    def _definition(self, written: str) -> abbr.Definition | None:
        key = re.sub(r"[- :]", "", written)
        for short, d in self.definitions.items():
            if re.sub(r"[- :]", "", short) == key:
                return d
        return abbr.lookup(written)

    def read(self, index: int) -> list[MaterialSpan]:
        """Mentions of sentence `index` (offsets inside it), left to right, no overlaps."""
        text = self.texts[index]
        out: list[MaterialSpan] = []
        for f in self.formulas[index]:
            written = f.name or f.formula
            d = self.definitions.get(written) or (abbr.lookup(written) if f.name else None)
            if d is not None and d.formula and d.formula != f.formula:  # "LaPrCaBCO", "YBCO"
                f = dataclasses.replace(
                    f,
                    formula=d.formula,
                    name=written,
                    kind="abbreviation",
                    family=d.family,
                    definition=d.source,
                )
            out.append(f)
        out += self._abbreviations(text, out)
        sites = find_sites(text)
        dopings = self._dopings(text, out)
        out = [self._expand(f, sites, dopings, text) for f in out]
        out += [d for d in dopings if not _overlaps(d.start, d.end, out)]
        out += self._phrases(text, out)
        out.sort(key=lambda s: s.start)
        out = _with_codes(text, out)
        out = [self._describe(text, m) for m in out]
        for m in out:
            if m.role != "sample" or not m.formula:
                continue
            if m.kind in ("formula", "abbreviation"):
                self.sample = m
                self.keeps |= dict.fromkeys(variables_of(m.formula), m)
        return out

    def _abbreviations(self, text: str, taken: list[MaterialSpan]) -> list[MaterialSpan]:
        found: list[MaterialSpan] = []
        hits = list(abbr.dictionary_mentions(text)) + list(abbr.code_mentions(text))
        if self._bound is not None:
            hits += [(m.start(1), m.end(1), m.group(1)) for m in self._bound.finditer(text)]
        for start, end, written in sorted(hits, key=lambda h: (h[0], -h[1])):
            if _overlaps(start, end, taken) or _overlaps(start, end, found):
                continue
            d = self._definition(written)
            kind = "code" if d is not None and d.family == "sample code" else "abbreviation"
            formula = d.formula if d is not None else ""
            if kind == "code" and not formula and self.sample is not None:
                formula = self.sample.formula
            span = MaterialSpan(
                formula,
                written,
                start,
                end,
                kind=kind,
                family=d.family if d is not None else "",
                definition=d.source if d is not None else "",
            )
            role = material_role(text, span) if d is None or d.sample else "class"
            found.append(dataclasses.replace(span, role=role))
        return found

    def _dopings(self, text: str, taken: list[MaterialSpan]) -> list[MaterialSpan]:
        out: list[MaterialSpan] = []
        single: dict[int, tuple[str, float]] = {}  # index in out → (variable, its one value)
        for d in find_dopings(text, self.variables):
            if _overlaps(d.start, d.end, taken):
                continue
            owner = next(
                (
                    f
                    for f in reversed(taken)
                    if f.end <= d.start and d.variable in variables_of(f.formula)
                ),
                None,
            )
            if owner is None:
                owner = self.keeps.get(d.variable)
            formula = owner.formula if owner is not None else ""
            source = owner.name or owner.formula if owner is not None else ""

            if d.pieces:
                # a list of levels defines as many compositions: one mention each, so that
                # each value's sentence links it ("x = 0.80 and 1.00 samples at 5 and 14 K")
                for (start, end), value in zip(d.pieces, d.values, strict=True):
                    out.append(
                        MaterialSpan(
                            formula,
                            text[start:end],
                            start,
                            end,
                            kind="doping",
                            compositions=_composition(formula, d.variable, value),
                            definition=source,
                        )
                    )
                continue
            concrete = tuple(c for v in d.values for c in _composition(formula, d.variable, v))
            out.append(
                MaterialSpan(
                    formula,
                    d.text,
                    d.start,
                    d.end,
                    kind="doping",
                    compositions=concrete,
                    definition=source,
                )
            )
            if len(d.values) == 1:
                single[len(out) - 1] = (d.variable, d.values[0])
        return _jointly(text, out, single)

    def _expand(self, f: MaterialSpan, sites, dopings, text: str) -> MaterialSpan:
        """A variable formula with the compositions its own sentence defines."""
        if f.kind not in ("formula", "abbreviation") or not f.formula:
            return f
        names = placeholders(f.formula)
        site_values = [(s, e) for s in names if s in sites for e in sites[s]]
        out: list[str] = []
        if site_values and len(names) == 1:
            out = [c for s, e in site_values if (c := instantiate(f.formula, {}, {s: e}))]
        for d in dopings:
            if d.formula == f.formula and d.start >= f.end and d.start - f.end < 40:
                out += list(d.compositions)
        return dataclasses.replace(f, compositions=tuple(dict.fromkeys(out))) if out else f

    def _phrases(self, text: str, taken: list[MaterialSpan]) -> list[MaterialSpan]:
        """Sample codes, descriptor phrases and elements named as superconductors."""
        found: list[MaterialSpan] = []
        current = self.sample.formula if self.sample is not None else ""

        def add(start: int, end: int, kind: str, formula: str, name: str = "") -> None:
            if start >= end or _overlaps(start, end, taken) or _overlaps(start, end, found):
                return
            span = MaterialSpan(formula, name or text[start:end], start, end, kind=kind)
            found.append(dataclasses.replace(span, role=material_role(text, span)))

        for pattern in (_CODE_AFTER_WORD, _CODE_BEFORE_WORD):
            for m in pattern.finditer(text):
                add(m.start("code"), m.end("code"), "code", current)
        if _DOPED_HINT.search(text):
            for pattern in (_DOPED, _PERCENT):
                for m in pattern.finditer(text):
                    if _element_symbol(m.group("el")) == m.group("el"):
                        add(m.start(), m.end(), "descriptor", current)
        if _GIVES_TC.search(text):
            for m in _SPELLED_ELEMENT.finditer(text):
                symbol = _element_symbol(m.group("el"))
                if symbol is not None:
                    add(m.start("el"), m.end("el"), "element", symbol, m.group("el"))
        if not _ELEMENT_HINT.search(text):
            return found
        for pattern in (
            _ELEMENT_WITH_TC,
            _ELEMENT_MADE_INTO,
            _TC_OF_ELEMENT,
            _TC_OF_BRACKETED_ELEMENT,
        ):
            for m in pattern.finditer(text):
                el = m.group("el")
                symbol = _element_symbol(el)
                if symbol is not None and symbol not in _NOT_SAMPLE_ELEMENTS:
                    add(m.start("el"), m.end("el"), "element", symbol, el)
        return found

    def _describe(self, text: str, m: MaterialSpan) -> MaterialSpan:
        """The words around a mention that say what form of it the paper means."""
        if m.kind not in ("formula", "abbreviation", "element", "code"):
            return m
        words: list[str] = []
        before = _DESCRIBE_BEFORE.search(text[max(0, m.start - 60) : m.start])
        if before:
            words += [w.group("d").lower() for w in _DESCRIPTOR.finditer(before.group())]
        after = _DESCRIBE_AFTER.match(text[m.end : m.end + 40])
        if after:
            words.append(after.group("d").lower())
        return dataclasses.replace(m, descriptors=tuple(words)) if words else m
