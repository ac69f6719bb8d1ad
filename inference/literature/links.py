"""Which material a value in a sentence belongs to.

The sentence's syntax first: a value inside brackets right after a material ("Al (Tc = 1.18
K)"), a value followed by "for X" ("93 K for YBa2Cu3O7", "36 and 48 K for x = 0 and 0.2"),
a material between the property's name and the value ("the Tc of the x = 0.8 sample is
11 K"), the subject before the property's name ("PLCCO shows Tc = 24 K"). Only when the
sentence names no sample does the paragraph's current sample take the value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.literature.materials import MaterialSpan

_OPEN_BRACKET = re.compile(r"^\s*[(\[][^()\[\]]*$")
_FOR_AFTER = re.compile(
    r"^(?:\s*(?:,|and|or|-|–|to)?\s*\d+(?:\.\d+)?)*\s*(?:m?K)?\s*[)\]]?\s*,?\s*(?:respectively\s+)?"
    r"(?:(?:is\s+|was\s+|were\s+)?(?:observed|reported|found|measured|obtained|achieved)\s+)?"
    r"(?:for|of|in|at|on)\s+(?:(?:the|a|an|our|pure|its|this|these|both)\s+)?"
    r"(?:[a-z-]+\s+){0,2}$"
)
_BRACKET_AFTER = re.compile(r"^\s*(?:m?K)?\s*\(\s*$")  # "42 K (y = 1)"
_CLAUSE_BREAK = re.compile(r";|\bwhile\b|\bwhereas\b|\bbut\b")


def choose(
    text: str,
    value: tuple[int, int],
    keyword: tuple[int, int] | None,
    mentions: list[MaterialSpan],
) -> tuple[MaterialSpan | None, str]:
    """(the sample mention a value belongs to, how it was chosen) inside one sentence.

    `value` and `keyword` (the words naming the property) are offsets in `text`; `mentions`
    are the sentence's samples, left to right. How: "bracket", "for", "subject", "sentence" or
    "after" (the sentence names a sample only after the value, in the value's clause: on the
    tuning papers that sample is right more often than the paragraph's current one);
    (None, "") when the sentence names no sample.
    """
    if not mentions:
        return None, ""
    start, end = value
    before = [m for m in mentions if m.end <= start]
    for m in reversed(before):
        if _OPEN_BRACKET.match(text[m.end : start]) and start - m.end < 60:
            return m, "bracket"
        break
    for m in mentions:
        if m.start >= end and _BRACKET_AFTER.match(text[end : m.start]):
            return m, "bracket"
        if m.start >= end and _FOR_AFTER.match(text[end : m.start]) and m.start - end < 60:
            return m, "for"
    # a sample with a value of its own in brackets before ours ("x=0.15 (Tc = 36.1K, close to
    # optimal doping) and p=0.069 (Tc ≈ 12K") is that value's, not the subject of ours
    before = [m for m in before if not _OWN_VALUE.match(text[m.end : start])]
    if keyword is not None:
        k0, k1 = keyword
        between = [m for m in before if m.start >= k1]
        if between:
            return between[-1], "subject"
        ahead = [m for m in before if m.end <= k0 and not _CLAUSE_BREAK.search(text[m.end : k0])]
        ahead = _not_compared(text, ahead)
        if ahead:
            return ahead[-1], "subject"
    before = _not_compared(text, before)
    if before:
        return before[-1], "sentence"
    after = [m for m in mentions if m.start >= end]
    if not after:
        return None, ""
    first = after[0]  # only a material named after the value: its own clause's, if not
    if _CLAUSE_BREAK.search(text[end : first.start]):  # "Tc = 12K, whereas ... for y = 0.06"
        return None, ""
    return first, "after"


_OWN_VALUE = re.compile(r"\s*\(\s*(?:T\s?c\w*\s*[=≈∼~]\s*)?[\d.]+\s?m?K\b[^()]*\)")

# "of similar interest as UPt3", "similar to that of the tetragonal La-3137", "an identical
# structure as the cuprate LSCO": a material the sentence compares its subject with ("such as",
# "as well as" list examples and are not comparisons)
_COMPARED = re.compile(
    r"(?:(?<!such )(?<!well )\bas|\bthan|\blike|\bunlike|similar to|compared (?:to|with)|"
    r"in (?:sharp |stark )?contrast (?:to|with)|analogous to)\s+(?:(?:that|those) of\s+)?"
    r"(?:[\w-]+\s+){0,3}$",
    re.IGNORECASE,
)


def _not_compared(text: str, mentions: list[MaterialSpan]) -> list[MaterialSpan]:
    """The mentions that are not only a comparison's other side, when some are not."""
    return without_compared(text, mentions) or mentions


def without_compared(text: str, mentions: list[MaterialSpan]) -> list[MaterialSpan]:
    """The mentions that are not only a comparison's other side (maybe none); a name in
    brackets right after a compared formula ("La2-xSrxCuO4 ("LSCO")") is compared too."""
    kept, previous, compared = [], None, False
    for m in mentions:
        named = previous is not None and _NAMES_PREVIOUS.match(text[previous.end : m.start])
        if not named:
            compared = bool(_COMPARED.search(text[max(0, m.start - 50) : m.start]))
        if not compared:
            kept.append(m)
        previous = m
    return kept


_NAMES_PREVIOUS = re.compile(r"^\s*\(\s*[\"“]?$")


_LABEL_AFTER = re.compile(
    r"^\s*\)?\s*(?:-\s*)?(?:samples?|crystals?|films?|superconductors?|phases?|materials?|"
    r"compounds?|specimens?)\b",
    re.IGNORECASE,
)


def labels_a_sample(text: str, value: tuple[int, int]) -> bool:
    """ "the Tc = 75 K sample": the value names a sample instead of describing a named one."""
    return bool(_LABEL_AFTER.match(text[value[1] : value[1] + 20]))


_LIST_JOIN = re.compile(r"^\s*(?:m?K)?\s*(?:,\s*(?:and|or)?|and|or)\s*(?:T\s?c\d?\s*=\s*)?$")


def respectively(
    text: str, values: list[tuple[int, int]], mentions: list[MaterialSpan]
) -> list[MaterialSpan] | None:
    """ "Tc's of 6.3 K and 9.6 K for RbOs2O6 and KOs2O6, respectively": the i-th value goes to
    the i-th material named after the values, or else to the i-th of the last ones before
    them. None when the sentence does not pair them so."""
    run = [values[-1]]  # the list "respectively" pairs: the last values, joined by , or and
    for value in reversed(values[:-1]):
        if not _LIST_JOIN.match(text[value[1] : run[0][0]]):
            break
        run.insert(0, value)
    if len(run) != len(values):
        return None  # other values in the sentence: pairing by position would be a guess
    k = len(values)
    if k < 2:
        return None
    said = "respectively" in text[values[-1][1] : values[-1][1] + 160]
    if not (said or "respectively" in text[: values[0][0]][-200:]):
        return None
    named = [m for m in mentions if m.kind in ("formula", "abbreviation", "element", "code")]
    after = [m for m in named if m.start >= values[-1][1]]
    if len(after) >= k and not _CLAUSE_BREAK.search(text[values[-1][1] : after[k - 1].end]):
        return after[:k]
    before = [m for m in named if m.end <= values[0][0]]
    distinct: list[MaterialSpan] = []
    for m in reversed(before):
        if all(d.formula != m.formula or d.name != m.name for d in distinct):
            distinct.insert(0, m)
        if len(distinct) == k:
            return distinct
    return None


_BRACKET_VALUE = re.compile(r"^\s*\(\s*(?:T\s?c\s*[=≈∼~]\s*)?$")


def in_brackets_after(text: str, value: tuple[int, int], mentions: list[MaterialSpan]) -> bool:
    """ "tin (3.7 K)", "MgB2 (Tc = 39 K)": the value alone in brackets right after a sample."""
    if not re.match(r"\s*[),;]", text[value[1] : value[1] + 3]):
        return False
    return any(m.end <= value[0] and _BRACKET_VALUE.match(text[m.end : value[0]]) for m in mentions)


# an applied magnetic field of at least 0.1 T ("7-T", "1 kG", "14 T", "0.1 T"): the Tc read
# under it is the field's, not the sample's (susceptibility is measured in a few oersted and
# stays the sample's)
_FIELD = re.compile(
    r"(?<![\w.])(?P<n>\d+(?:\.\d+)?)\s?-?\s?(?P<unit>T|Tesla|kOe|kG|Oe|G)(?![\w])(?!\s?c\b)"
)
_FIELD_AFTER = re.compile(
    r"^\s*(?:m?K)?\s*\)?\s*(?:in|at|under)\s+(?:an?\s+|the\s+)?(?:(?:applied|external|"
    r"externally|magnetic)\s+)*(?:fields?\s+of\s+)?$"
)
_TESLA = {"T": 1.0, "Tesla": 1.0, "kOe": 0.1, "kG": 0.1, "Oe": 1e-4, "G": 1e-4}


def _strong(field: re.Match) -> bool:
    return float(field["n"]) * _TESLA[field["unit"]] >= 0.1


def under_field(text: str, value: tuple[int, int], keyword: tuple[int, int] | None) -> bool:
    """ "53 K in 7-T field", "Tc(0.1 T) ∼ 0.7 K", "an onset of superconductivity in a field of
    14 T at 10.2 K": the value is a Tc under an applied field (0.1 T or more), named right after
    the value or between the Tc word and the value."""
    for f in _FIELD.finditer(text, value[1], min(len(text), value[1] + 40)):
        if _FIELD_AFTER.match(text[value[1] : f.start()]):
            return _strong(f)
    if keyword is not None and keyword[1] <= value[0]:
        gap = text[keyword[0] : value[0]]
        if ";" not in gap:
            return any(_strong(f) for f in _FIELD.finditer(gap))
    return False


# what joins the samples of one list: ", ", " and ", ", and ", " or " (after a bracket that
# defines the previous one's placeholders: "RFeAsO (R = La - Gd) and AFe2As2"; not after a
# value of its own, "x=0.22 (Tc = 27.4K), x=0.15")
_COORDINATED = re.compile(
    r"^\s*(?:\(\s*(?!T\s?c\b)(?:[A-Z][a-z]?|RE|Ln)\s*[=:][^()]*\))?\s*(?:,\s*(?:and|or)?|and|or)\s*$"
)


def coordinated(
    text: str, chosen: MaterialSpan, value: tuple[int, int], mentions: list[MaterialSpan]
) -> list[MaterialSpan]:
    """The other samples of the list the chosen one stands in ("reaches 48.0-48.7 K for
    Tl0.6Rb0.4Fe1.67Se2, K0.8Fe1.7Se2 and K0.8Fe1.78Se2", "a Tc of 43 K in both A and B"):
    the value is each one's. Only samples on the chosen one's side of the value."""
    if "respectively" in text:
        return []  # a list paired with as many values, not one value for all
    after = chosen.start >= value[1]
    side = [m for m in mentions if (m.start >= value[1]) == after and m.end <= len(text)]
    side = [m for m in side if after or m.end <= value[0]]
    if chosen not in side:
        return []
    i = side.index(chosen)
    group = [chosen]
    for j in range(i - 1, -1, -1):  # back from the chosen one
        if not _COORDINATED.match(text[side[j].end : group[0].start]):
            break
        group.insert(0, side[j])
    for j in range(i + 1, len(side)):  # and on after it
        if not _COORDINATED.match(text[group[-1].end : side[j].start]):
            break
        group.append(side[j])
    named = {(m.formula, m.name) for m in group}
    if len(named) < 2 or any(m.kind == "descriptor" for m in group):
        return []
    return [m for m in group if m is not chosen]
