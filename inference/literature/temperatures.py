"""What a temperature in a sentence is: a Tc (onset, zero resistance, midpoint), another
transition (Néel, Curie, structural), a transition width, a rate, or the temperature of a
measurement or of a synthesis step.

The nearest temperature-naming word before a value decides ("Tm ∼ 132 K" is a magnetic
transition even in a sentence about Tc), unless a measurement preposition sits right before
the value and the Tc word is further away ("Tc ... measured at 2 K"). A cue after the value
also names a Tc ("a sharp drop below 3.4 K due to superconductivity"). The ends of a Tc's
change are both Tc values ("Tc increases from 21 K (y = 0) to 60 K", "a maximum of 10.0 K at
0.56 GPa, and then decreases to 9.5 K").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inference.literature.quantities import Quantity

_QUALIFIED = (
    r"(?:\s?,?\s?(?:onset|on|zero|mid(?:point)?|max|0|[RρS]\s?[=~∼]\s?0|"
    r"\(\s?(?:zero|onset|mid(?:point)?|R\s?=\s?0|ρ\s?=\s?0|0)\s?\)))?"
)
TC_SYMBOL = re.compile(
    r"(?<![A-Za-z∆Δ/])T\s?(?:(?:onset|zero|mid|max|on|0)\s?)?(?P<c>[cC])"
    + _QUALIFIED
    + r"(?![A-Za-z/])"
    r"|(?<![A-Za-z∆Δ/])T\s?(?:SC|sc)(?![A-Za-z])"
)
TC_WORDS = re.compile(
    r"critical temperatures?|(?:superconducting\s+)?transition temperatures?|"
    r"onset(?: temperatures?)?(?: of (?:the )?(?:bulk )?superconductivity)?|"
    r"(?:superconduct\w*|\bSC)(?:\s+(?:transition|phase|state|signal))?"
    r"(?:\s+(?:in|of)\s+(?:(?!\band\b)[^,.;()]){1,60}?)?\s+(?:at|below|around|above|of|with|near|up to|"
    r"appears? at|sets? in at|occurs? at)|zero[- ]resistan\w*(?:\s+(?:at|below|of))?|"
    r"zero[- ]resistivity(?:\s+(?:at|below|of))?|"
    r"diamagnetic\w*(?:\s+\w+){0,5}?\s+(?:at|below|around)|"
    r"Meissner\w*(?:\s+\w+){0,3}?\s+(?:at|below)",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"(?:\bnot|\bno|absence of|without|non)\s*(?:bulk\s+)?$", re.IGNORECASE)
# "the difference between the values of Tc-onset ... is 4.5 K": a change of Tc, not a Tc
_CHANGE_OF = re.compile(
    r"\b(?:difference|change|shift|suppression|reduction|width|rate)s?\b[^.;]{0,40}$", re.IGNORECASE
)
_FIELD_TC = re.compile(r"\s?\(\s?[\d.]+\s?(?:T|Oe|kOe|G|kG|GPa)\s?\)")
# a symbol the sentence names a Curie point: "a Curie temperature Tc = 370 K", "(Curie point, Tc)"
_CURIE_NAMED = re.compile(r"\bCurie\s+(?:temperature|point)s?\s*[,(]?\s*(?:of\s+)?$", re.IGNORECASE)
# the verbs of a Tc that moves, shared by "Tc increases from 36 K" and "... then decreases to 9.5 K"
_MOVES = (
    r"increase[sd]?|decrease[sd]?|rises?|rose|drop(?:s|ped)?|falls?|fell|reach(?:es|ed)?|goes|went"
)
# a Tc word, then a verb, then the value: "Tc increases from 36 K", "was enhanced up to 3.8 K",
# "is too low as compared with 93 K"
_TC_VERB = re.compile(
    rf"^[^;]{{0,60}}?\b(?:{_MOVES}|changes?|changed|varies|varied|reduced|enhanced|suppressed|"
    r"raised|lowered|shift(?:s|ed)?|compared\s+(?:with|to)|than)\b[^;]{0,40}$",
    re.IGNORECASE,
)
# "suppressed by 30 K", and the list it opens: "by ~ 30K, ~ 40K, and ~ 46K"
_CHANGE_BEFORE = re.compile(
    r"(?:\bby|[+±]|\bchange in \w+ (?:was|is)?[^.;]{0,20})"
    r"(?:\s*[~∼≈]?\s*\d+(?:\.\d+)?\s?K\s*,\s*(?:and\s+)?)*\s*$",
    re.IGNORECASE,
)
_RANGE_AFTER = re.compile(r"^\s*(?:temperature\s+)?(?:range|region|regime|interval|window)\b")
_COMPARE_AFTER = re.compile(r"^\s*(?:below|above|higher|lower|less|more)\b(?!\s*(?:T\s?c\b|\d))")

# words naming another temperature: nearer to a value than a Tc word, they win
OTHER_SYMBOL = re.compile(
    r"(?<![A-Za-z])(?:T\s?(?:N|m|\*|F|K|LO|LT|irr|min|max|coh|CDW|SDW|MI|s|ρ)(?![A-Za-z])|"
    r"Θ\s?D|θ\s?D|θ\s?CW|θ\s?W)|[∆Δ△]\s?T(?:\s?c)?"
)
OTHER_WORDS = re.compile(
    r"transition width|\bwidths?\b|differences?|N[ée]el|Curie|Debye|Weiss|Fermi temperature|pseudogap|\bkink|"
    r"crossover|upturn|minimum|melting|(?:anti)?ferromagnet\w*|magnetic (?:order\w*|transition)|"
    r"structural|spin[- ]glass|charge[- ]density[- ]wave|CDW|SDW|metal[- ]insulator",
    re.IGNORECASE,
)
_OTHER_ADJECTIVE = re.compile(
    r"(?:magnetic|structural|Néel|Neel|Curie|CDW|SDW|ordering|glass|metal-insulator)\s*$",
    re.IGNORECASE,
)
_MEASURE_BEFORE = re.compile(
    r"(?:\bat|\bto|\bdown to|\bfrom|\bbetween|\bwith|\babove|\bbelow|\bwithin|"
    r"\bmeasured\b[^.;]{0,25})\s*\(?\s*$",
    re.IGNORECASE,
)
# always a measurement, however near a Tc word: "T = 1.5 K (above Tc)", "cooled to 100 mK"
_MEASURE_STRONG = re.compile(
    r"(?:(?<![A-Za-z])T\s?[=∼~≈]|\bdown to|\bcooled (?:down )?to|\bheated to|\bwithin|"
    r"\b(?:at|measuring|measurement) temperatures? (?:of|from|between)|"
    r"\btemperature range (?:of|from|between))\s*\(?\s*$",
    re.IGNORECASE,
)
_AFTER_CUE = re.compile(
    r"^[^.;]{0,40}?\b(?:due to|indicating|indicates|signall?ing|signals|owing to|because of|"
    r"showing|marks?|marking|reflecting|suggest(?:s|ing)|evidencing)\s+(?:the\s+|a\s+)?"
    r"(?:(?:onset|existence|presence|appearance|emergence) of\s+(?:the\s+|a\s+)?)?(?:bulk\s+)?"
    r"superconduct",
    re.IGNORECASE,
)
_SYNTHESIS = re.compile(
    r"\b(?:anneal\w*|sinter\w*|calcin\w*|heat(?:ed|ing)|fired|melt\w*|grown|growth|synthesi\w*|"
    r"quench\w*|sealed|reacted|furnace|deposit\w*|substrate temperature)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TemperatureRole:
    role: str  # Tc | transition | width | rate | measurement | synthesis | other
    qualifier: str = ""  # for a Tc: onset | zero resistance | midpoint | maximum | magnetic
    keyword: tuple[int, int] | None = None  # the words that named it, inside the sentence


def qualifiers_in_order(text: str, tc_spans, first_value: int, n: int) -> list[str] | None:
    """ "T c onset and T c zero ... are 5.2 and 2.1 K": one qualifier per value, in the order
    the Tc words name them; None unless exactly `n` qualified Tc words precede the values."""
    named = [
        _qualifier(text[a:b]) for a, b in tc_spans if b <= first_value and first_value - b < 120
    ]
    named = [q for q in named if q]
    named = [q for k, q in enumerate(named) if k == 0 or q != named[k - 1]]
    return named if len(named) == n and len(set(named)) == n else None


def _qualifier(words: str) -> str:
    low = words.lower()
    if "onset" in low or re.search(r"T\s?c\s?,?\s?on\b", words):
        return "onset"
    if "zero" in low or re.search(r"[Rρ]\s?=\s?0|T\s?c\s?0\b|T\s?0\s?c", words):
        return "zero resistance"
    if "mid" in low:
        return "midpoint"
    if "max" in low:
        return "maximum"
    if "diamagnetic" in low or "meissner" in low:
        return "magnetic"
    return ""


def curie_named(text: str, start: int) -> bool:
    """Is the Tc symbol at `start` named a Curie point right before it?"""
    return bool(_CURIE_NAMED.search(text[max(0, start - 30) : start]))


def tc_keywords(text: str, curie: bool) -> list[tuple[int, int]]:
    """Spans naming a Tc; "TC" counts only in a paper that never speaks of a Curie point; a
    Tc under a field ("Tc(0.1 T)") and a negated one ("not superconducting above") do not."""
    spans = []
    for m in TC_SYMBOL.finditer(text):
        if m.group("c") == "C" and curie:
            continue
        if curie_named(text, m.start()):
            continue
        if _FIELD_TC.match(text, m.end()) or _CHANGE_OF.search(
            text[max(0, m.start() - 60) : m.start()]
        ):
            continue
        spans.append((m.start(), m.end()))
    for m in TC_WORDS.finditer(text):
        before = text[max(0, m.start() - 25) : m.start()]
        if _OTHER_ADJECTIVE.search(before) or _NEGATED.search(before):
            continue
        if _CHANGE_OF.search(text[max(0, m.start() - 60) : m.start()]):
            continue
        spans.append((m.start(), m.end()))
    return sorted(spans)


def temperature_role(
    text: str,
    q: Quantity,
    tc_spans: list[tuple[int, int]],
    previous_tc: Quantity | None = None,
) -> TemperatureRole:
    """The role of temperature `q` in (normalised) sentence `text` with its Tc words;
    `previous_tc` is the sentence's last value already read as a Tc (lists continue it)."""
    if q.dimension != "temperature":
        return TemperatureRole("other")
    if q.value_normalised < 0:  # below absolute zero: a change ("ΔTc = −2 K") or a misprint
        return TemperatureRole("other")
    if re.match(r"\s?/", text[q.end : q.end + 3]):
        return TemperatureRole("rate")
    before = text[: q.start]
    if _MEASURE_STRONG.search(before):
        return TemperatureRole("measurement")
    if _where_measured(text, q):
        return TemperatureRole("measurement")
    if _SQUARED_BEFORE.search(before):
        return TemperatureRole("other")  # "T 2 = 16.8 K 2": a squared temperature
    if _CHANGE_BEFORE.search(before) or _COMPARE_AFTER.match(text[q.end : q.end + 20]):
        return TemperatureRole("other")  # "suppressed by 30 K", "7 K below the wire"
    if _RANGE_AFTER.match(text[q.end : q.end + 20]):
        return TemperatureRole("measurement")  # "applications in the 20-30 K range"
    window = max(0, q.start - 150)
    # a Tc phrase may end in the value's own modifier: "superconducting below | below 5 K"
    digit = re.search(r"\d", text[q.start : q.end])
    number_at = q.start + (digit.start() if digit else 0)
    last_tc = max(
        (s for s in tc_spans if window <= s[0] < q.start and s[1] <= number_at + 1), default=None
    )
    # "The transition temperature, Tc, defined as the cross point ... , is 10.2 K": the verb
    # joins a Tc subject to its value over a long apposition that holds no other number
    if last_tc is None and _COPULA_BEFORE.search(before):
        far = [s for s in tc_spans if q.start - 300 <= s[0] and s[1] <= q.start]
        if far and not re.search(r"\d", text[far[-1][1] : q.start]):
            last_tc = far[-1]
            window = min(window, last_tc[0])
    others = sorted(
        [
            *OTHER_SYMBOL.finditer(text, window, q.start),
            *OTHER_WORDS.finditer(text, window, q.start),
        ],
        key=lambda m: m.end(),
    )
    last_other = others[-1] if others else None
    if last_other is not None and (last_tc is None or last_other.end() > last_tc[1]):
        if re.match(r"[∆Δ△]|transition width|width|difference", last_other.group(), re.I):
            return TemperatureRole("width")
        return TemperatureRole("transition")
    if previous_tc is not None and (
        _continues(text[previous_tc.end : q.start]) or _goes_on(text, previous_tc, q)
    ):
        return TemperatureRole("Tc", "", last_tc)
    if last_tc is not None:
        distance = q.start - last_tc[1]
        between = text[last_tc[1] : q.start]
        near = (
            distance <= 25
            or not _MEASURE_BEFORE.search(before)
            or _TC_VERB.match(between)
            or _from_to(text, q)  # "increases Tc with the Sr content from 21 K (y = 0) to 60 K"
        )
        crowded = len(_TEMPERATURE.findall(between)) >= 2  # other values sit in between
        if (
            ";" not in between
            and near
            and not crowded
            and (q.value_normalised <= 160 or distance <= 30)
        ):
            qualifier = _qualifier(text[max(0, last_tc[0] - 20) : q.start])
            return TemperatureRole("Tc", qualifier, last_tc)
    if _AFTER_CUE.match(text[q.end : q.end + 90]):
        return TemperatureRole("Tc", _qualifier(text[q.end : q.end + 90]))
    if _SYNTHESIS.search(text) and (q.unit != "K" or q.value_normalised > 350):
        return TemperatureRole("synthesis")
    if _MEASURE_BEFORE.search(before):
        return TemperatureRole("measurement")
    return TemperatureRole("other")


# quantities measured as a function of temperature: "the resistivity at 300 K" is where the
# resistivity was measured, not a transition of the sample
_MEASURED = (
    r"(?:resistivit(?:y|ies)|resistances?|susceptibilit(?:y|ies)|magneti[sz]ations?|"
    r"specific heats?|heat capacit(?:y|ies)|thermopower|Seebeck coefficients?|"
    r"Hall (?:coefficients?|constants?)|penetration depths?|Knight shifts?|relaxation rates?|"
    r"line ?widths?|spectr(?:um|a)|patterns?|data|curves?|loops?|isotherms?|signals?)"
)
_QUANTITY_AT = re.compile(
    rf"\b{_MEASURED}\s+(?:\([^()]{{0,12}}\)\s*)?(?:(?:was|were|is|are)\s+)?"
    r"(?:(?:measured|taken|recorded|collected|obtained)\s+)?(?:at|up to|down to|between|from)\s*$",
    re.IGNORECASE,
)
# ... unless the quantity shows a feature there, which is a transition: "a drop in the
# resistivity at 3.4 K", "zero resistivity at 38 K", "the onset of the diamagnetic signal at"
_FEATURE_BEFORE = re.compile(
    r"\b(?:drop|jump|anomal|kink|peak|onset|transition|decrease|fall|zero|upturn|change|"
    r"deviation|step|hump|minimum|maximum|disappear|vanish|sign|appear|bifurcat|split)",
    re.IGNORECASE,
)
# a value of another quantity, then the temperature it holds at: "Hc1≈750 Oe at 5 K",
# "Jc = 1.5×10^5 A/cm2 at 5 K" (not a temperature: "Tc = 38 K at 1 GPa" has its value first)
_VALUE_AT = re.compile(
    r"[=≈∼~]\s*[-]?\d[\d.]*\s*(?:\(\d+\)\s*)?(?:[×x]\s*10\s*[-]?\d+\s*)?"
    r"(?!K\b|mK\b)[A-Za-zµΩ%][^\s,;=()]{0,6}(?:\s?[A-Za-zµΩ/][^\s,;=()]{0,6}){0,2}\s+at\s*$"
)


def _where_measured(text: str, q: Quantity) -> bool:
    """The temperature at which another quantity was measured: "the resistivity up to 240 K",
    "Hc1≈750 Oe at 5 K", "measured above Tc, at T ∼ 30 K"."""
    before = text[: q.start]
    if _VALUE_AT.search(before[-40:]):
        return True
    # the quantity's own relation sign belongs to the words before it: "at T ∼ 30 K", unless
    # what happens there is said to be superconductivity ("starts to decrease at T∼38K
    # indicating the onset of superconductivity")
    sign = re.match(r"[=∼~≈]\s*", q.text)
    if (
        sign
        and re.search(r"\bat\s+T\s?$", before)
        and not _AFTER_CUE.match(text[q.end : q.end + 90])
    ):
        return True
    digit = re.search(r"\d", q.text)
    m = _QUANTITY_AT.search(before + (q.text[: digit.start()] if digit else ""))
    return bool(m) and not _FEATURE_BEFORE.search(before[max(0, m.start() - 30) : m.start()])


_SQUARED_BEFORE = re.compile(r"(?<![A-Za-z])T\s?(?:\^\s?)?[2²]\s*[=≈∼~]\s*$")
_TEMPERATURE = re.compile(r"\d\s?m?K\b")
_COPULA_BEFORE = re.compile(r"\b(?:is|was|are|were)\s*$")
_FROM_BEFORE = re.compile(r"\bfrom\s*$")
# "from 21 K (y = 0) to 60 K"
_FROM_TO = re.compile(r"^\s*(?:\([^()]{0,30}\)\s*)?,?\s*to\s*$")
_TO_AFTER = re.compile(r"^\s*(?:\([^()]{0,30}\)\s*)?,?\s*to\s*(?:about\s*|[∼~≈]\s*)?\d")
# "a maximum value of 10.0 K at 0.56 GPa, and then decreases to 9.5 K"
_TREND = re.compile(
    r"^\s*(?:(?:at|under)\s+[\d.]+\s*(?:GPa|kbar|T|Oe)\s*)?(?:\([^()]{0,30}\)\s*)?,?\s*"
    rf"(?:and\s+)?(?:then\s+)?(?:\w+ly\s+)?(?:{_MOVES})\s+(?:down\s+|up\s+|back\s+)?to\s*$",
    re.IGNORECASE,
)
_LIST_GAP = re.compile(
    r"^[^;.]{0,70}?(?:,|\band\b|\bor\b)[^;.]{0,50}?(?:\bat|\bof|:|=|≈|∼|~|\()?\s*$"
)


def _continues(between: str) -> bool:
    """A list of Tc values: "X becomes SC at 11.2 K, Y at 10.4 K", "tin (3.7 K) and lead
    (7.2 K)" — short, no other temperature word, no measurement verb in between."""
    if len(between) > 80 or OTHER_WORDS.search(between) or OTHER_SYMBOL.search(between):
        return False
    if re.search(r"measur|field|pressure|GPa|kG|Oe\b|Tesla|\d\s?-?T\b|\bT\s?=", between, re.I):
        return False
    return bool(_LIST_GAP.match(between))


def _goes_on(text: str, previous_tc: Quantity, q: Quantity) -> bool:
    """The second end of a Tc's change: "Tc increases from 21 K (y = 0) to 60 K", "a
    maximum of 10.0 K at 0.56 GPa, and then decreases to 9.5 K"."""
    between = text[previous_tc.end : q.start]
    if _FROM_TO.match(between):
        return bool(_FROM_BEFORE.search(text[: previous_tc.start]))
    return bool(_TREND.match(between))


def _from_to(text: str, q: Quantity) -> bool:
    """The first end of a change "from 21 K (y = 0) to 60 K"."""
    return bool(_FROM_BEFORE.search(text[: q.start]) and _TO_AFTER.match(text[q.end : q.end + 50]))
