"""Numbers with units in sentences → values normalised with pint (ranges, ±, comparisons, lists,
pairs such as "(26.5, 6.4) and (39.5, 12.6) K").

Text is matched after a same-length normalisation (Unicode minus → "-", the "¼" that some
publisher fonts emit for "=" → "="), so spans still index the original sentence.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# surface form → (pint expression, dimension name)
_UNITS: dict[str, tuple[str, str]] = {
    "K": ("kelvin", "temperature"),
    "mK": ("millikelvin", "temperature"),
    "°C": ("degC", "temperature"),
    "° C": ("degC", "temperature"),
    "℃": ("degC", "temperature"),
    "oC": ("degC", "temperature"),
    "eV": ("eV", "energy"),
    "meV": ("meV", "energy"),
    "keV": ("keV", "energy"),
    "kJ/mol": ("kJ/mol", "molar_energy"),
    "kJ mol-1": ("kJ/mol", "molar_energy"),
    "Pa": ("Pa", "pressure"),
    "kPa": ("kPa", "pressure"),
    "MPa": ("MPa", "pressure"),
    "GPa": ("GPa", "pressure"),
    "bar": ("bar", "pressure"),
    "mbar": ("mbar", "pressure"),
    "atm": ("atm", "pressure"),
    "Torr": ("torr", "pressure"),
    "mTorr": ("millitorr", "pressure"),
    "psi": ("psi", "pressure"),
    "ksi": ("kpsi", "pressure"),
    "HV": ("vickers", "pressure"),
    "S/cm": ("S/cm", "conductivity"),
    "S cm-1": ("S/cm", "conductivity"),
    "mS/cm": ("mS/cm", "conductivity"),
    "mS cm-1": ("mS/cm", "conductivity"),
    "S/m": ("S/m", "conductivity"),
    "S m-1": ("S/m", "conductivity"),
    "mAh/g": ("mA*h/g", "capacity"),
    "mAh g-1": ("mA*h/g", "capacity"),
    "mA h g-1": ("mA*h/g", "capacity"),
    "g/cm3": ("g/cm**3", "density"),
    "g cm-3": ("g/cm**3", "density"),
    "g/cc": ("g/cm**3", "density"),
    "kg/m3": ("kg/m**3", "density"),
    "Å": ("angstrom", "length"),
    "pm": ("pm", "length"),
    "nm": ("nm", "length"),
    "µm": ("um", "length"),
    "μm": ("um", "length"),
    "um": ("um", "length"),
    "mm": ("mm", "length"),
    "h": ("hour", "time"),
    "hr": ("hour", "time"),
    "hrs": ("hour", "time"),
    "hours": ("hour", "time"),
    "min": ("minute", "time"),
    "minutes": ("minute", "time"),
    "s": ("second", "time"),
    "days": ("day", "time"),
    "T": ("tesla", "field"),
    "Oe": ("oe_field", "field"),
    "kOe": ("koe_field", "field"),
    "V": ("volt", "voltage"),
    "mV": ("millivolt", "voltage"),
    "W/cm2": ("W/cm**2", "power_density"),
    "W cm-2": ("W/cm**2", "power_density"),
    "mW/cm2": ("mW/cm**2", "power_density"),
    "mW cm-2": ("mW/cm**2", "power_density"),
    "A/cm2": ("A/cm**2", "current_density"),
    "A cm-2": ("A/cm**2", "current_density"),
    "mA/cm2": ("mA/cm**2", "current_density"),
    "mA cm-2": ("mA/cm**2", "current_density"),
    "Ω cm2": ("ohm*cm**2", "area_resistance"),
    "Ω·cm2": ("ohm*cm**2", "area_resistance"),
    "Ωcm2": ("ohm*cm**2", "area_resistance"),
    "Ω": ("ohm", "resistance"),
    "%": ("percent", "fraction"),
    "wt%": ("percent", "fraction"),
    "wt.%": ("percent", "fraction"),
    "at%": ("percent", "fraction"),
    "at.%": ("percent", "fraction"),
    "mol%": ("percent", "fraction"),
}
# The one unit each kind of quantity is normalised to, so values from different papers compare:
# the unit the field writes where that is not SI (a band gap in eV, not 7.2e-20 J; an activation
# energy in kJ/mol; a capacity in mAh/g; SOFC conductivity, power and current density and area
# specific resistance per cm and cm2), SI otherwise (K, Pa, m, s, T, V, Ω). What the paper
# wrote stays in `value`/`unit`/`text`.
NORMAL_UNITS = {
    "temperature": "kelvin",
    "energy": "eV",
    "molar_energy": "kJ/mol",
    "pressure": "pascal",
    "conductivity": "S/cm",
    "capacity": "mA*h/g",
    "density": "g/cm**3",
    "length": "meter",
    "time": "second",
    "field": "tesla",
    "fraction": "dimensionless",
    "voltage": "volt",
    "power_density": "W/cm**2",
    "current_density": "A/cm**2",
    "area_resistance": "ohm*cm**2",
    "resistance": "ohm",
}
NORMAL_SYMBOLS = {
    "temperature": "K",
    "energy": "eV",
    "molar_energy": "kJ/mol",
    "pressure": "Pa",
    "conductivity": "S/cm",
    "capacity": "mAh/g",
    "density": "g/cm3",
    "length": "m",
    "time": "s",
    "field": "T",
    "fraction": "",
    "voltage": "V",
    "power_density": "W/cm2",
    "current_density": "A/cm2",
    "area_resistance": "Ω·cm2",
    "resistance": "Ω",
}

_NUM = r"\d+(?:\.\d+)?(?:\s?[×x]\s?10\s?-?\d+)?"
_UNIT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_MOD = (
    r"~|∼|≈|≃|>|<|≥|≤|⩾|⩽|up to|above|below|over|exceeds|exceeding|exceed|almost|about|"
    r"around|approximately|nearly|as high as|as low as|at least|at most|higher than|lower than"
)
_QUANTITY = re.compile(
    rf"(?:(?P<from>from|between)\s+)?(?:(?P<mod>{_MOD})\s*)?"
    rf"(?:(?P<open>\(\s*)(?=-?{_NUM}\s*(?:±|\+/-|\+-)))?"  # "(6.37 ± 0.03) K"
    rf"(?<![A-Za-z0-9.])(?<![A-Za-z]-)(?P<n1>-?{_NUM})(?P<esd>\(\d{{1,2}}\))?"  # "0.65(3) K"
    rf"(?:\s*(?P<u1>{_UNIT})(?![A-Za-z0-9]))?"
    rf"(?:\s*(?:±|\+/-|\+-)\s*(?P<err>{_NUM}))?(?(open)\s*\))"
    # "1 ∼ 2 K": a tilde between two bare numbers is a range, as in Japanese usage "1~2 K"
    rf"(?:\s*(?P<sep>-|–|to|and|(?<=\d)\s?[∼~](?=\s?\d))\s*(?P<n2>{_NUM}))?"
    rf"\s*(?P<unit>{_UNIT})(?![A-Za-z0-9])(?!-[1-4](?![\d.]))"  # "K-1" is per kelvin
    r"(?!\s?/\s?[A-Za-z%(])"  # "0.9 K/GPa", "10 K/%": a rate, not a value of the unit
)
_LIST = re.compile(
    rf"(?<![A-Za-z0-9.])((?:{_NUM}\s*,\s*)+(?:and\s+)?{_NUM}\s*,?\s*(?:and\s+)?{_NUM})"
    rf"\s*(?P<unit>{_UNIT})(?![A-Za-z0-9])"
)
# pairs of values under one unit: "(26.5, 6.4), (39.5, 12.6) and (40.0, 16.8)K"
_PAIRS = re.compile(
    rf"(?<![A-Za-z0-9.])(\(\s*{_NUM}\s*,\s*{_NUM}\s*\)(?:\s*(?:,\s*(?:and\s+)?|and\s+)"
    rf"\(\s*{_NUM}\s*,\s*{_NUM}\s*\))+)\s*(?P<unit>{_UNIT})(?![A-Za-z0-9])"
)
_MODIFIERS = {
    "~": "~", "∼": "~", "≈": "~", "≃": "~", "about": "~", "around": "~", "approximately": "~",
    "nearly": "~", "almost": "~", ">": ">", "above": ">", "over": ">", "exceeds": ">",
    "exceeding": ">", "exceed": ">", "higher than": ">", "at least": ">=", "≥": ">=",
    "⩾": ">=", "<": "<", "below": "<", "lower than": "<", "≤": "<=", "⩽": "<=",
    "at most": "<=", "up to": "<=", "as high as": "~", "as low as": "~",
}  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    """A measured value as written (value/low/high in `unit`) and in its kind's normal unit
    (`value_normalised` in `unit_normalised`, NORMAL_UNITS)."""

    value: float
    unit: str
    dimension: str
    value_normalised: float
    unit_normalised: str
    low: float | None = None
    high: float | None = None
    uncertainty: float | None = None
    modifier: str = "="  # =, ~, >, <, >=, <=, range
    start: int = 0  # span inside the sentence
    end: int = 0
    text: str = ""


_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
# PDFs set in the Adobe Symbol font may keep its glyphs at U+F020-U+F0FF (the font's own code
# plus 0xF000): "\uf044Tc" is ΔTc, a transition width, and "\uf06dB" is µB
_SYMBOL_LETTERS = (
    "ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ",  # A..Z
    "αβχδεφγηιϕκλμνοπθρστυϖωξψζ",  # a..z
)
_SYMBOL_FONT = str.maketrans(
    {
        **{0xF041 + i: c for i, c in enumerate(_SYMBOL_LETTERS[0])},
        **{0xF061 + i: c for i, c in enumerate(_SYMBOL_LETTERS[1])},
        **{0xF020 + i: chr(0x20 + i) for i in range(0x20)},  # space, digits, brackets, signs
        0xF022: "∀",
        0xF024: "∃",
        0xF027: "∋",
        0xF02D: "-",
        0xF07E: "∼",
        0xF0A3: "≤",
        0xF0B0: "°",
        0xF0B1: "±",
        0xF0B3: "≥",
        0xF0B4: "×",
        0xF0BB: "≈",
    }
)


SYMBOL_FONT = _SYMBOL_FONT  # str.translate table: Symbol-font private glyphs → Unicode


def normalise(text: str) -> str:
    """Same-length clean-up so regexes see "-", "=" and formula counts ("BaFe₂As₂" reads as
    BaFe2As2); offsets stay valid."""
    return (
        text.translate(_SYMBOL_FONT)
        .translate(_SUBSCRIPT_DIGITS)
        .replace("−", "-")
        .replace("–", "-")
        .replace("‐", "-")
        .replace(" ¼ ", " = ")
        .replace("\u2009", " ")
        .replace("\u00a0", " ")
    )


@functools.lru_cache(maxsize=1)
def registry():
    import pint

    ureg = pint.UnitRegistry()
    ureg.define("vickers = 9.80665 * megapascal = HV_")
    ureg.define("oe_field = 1e-4 * tesla")  # µ0·H in a paper's "Oe" field: B in tesla
    ureg.define("koe_field = 0.1 * tesla")
    return ureg


def _number(text: str) -> float:
    text = text.replace(" ", "")
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)(?:[×x]10(-?\d+))?", text)
    if not m:
        return float("nan")
    value = float(m.group(1))
    return value * 10 ** int(m.group(2)) if m.group(2) else value


# A number as written ("1.0", "2.5 × 10-3", after `normalise`) and its value, for showing a
# record's value with the paper's own digits (`schema.shown_value`).
NUMBER = re.compile(rf"(?<![A-Za-z0-9.]){_NUM}")
parse_number = _number


def unit_dimension(unit: str) -> str | None:
    """The dimension of a unit as written in a table header ("S cm−1" → "conductivity")."""
    key = " ".join(normalise(unit).replace("·", " ").replace("⋅", " ").split())
    found = _UNITS.get(key) or _UNITS.get(key.replace(" ", ""))
    return found[1] if found else None


def to_normalised(value: float, unit: str) -> tuple[float, str, str]:
    """(value in the dimension's normal unit, its symbol, dimension) for a unit surface form."""
    expr, dim = _UNITS[unit]
    if dim == "fraction":
        return value / 100.0, "", dim
    ureg = registry()
    q = ureg.Quantity(value, expr).to(NORMAL_UNITS[dim])
    return float(q.magnitude), NORMAL_SYMBOLS[dim], dim


_SET_BEFORE = re.compile(r"(?<![A-Za-z])[xyzδ]\s*=\s*$")


def find_quantities(sentence: str) -> list[Quantity]:
    """Every number-with-unit in a sentence, with ranges, ± and comparisons resolved."""
    text = normalise(sentence)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in [*_PAIRS.finditer(text), *_LIST.finditer(text)]:
        if any(a <= m.start() < b for a, b in taken):
            continue
        unit = m.group("unit")
        for n in re.finditer(_NUM, m.group(1)):
            v = _number(n.group())
            normal, sym, dim = to_normalised(v, unit)
            s, e = m.start(1) + n.start(), m.start(1) + n.end()
            found.append(Quantity(v, unit, dim, normal, sym, start=s, end=e, text=sentence[s:e]))
        taken.append((m.start(), m.end()))
    for m in _QUANTITY.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        unit = m.group("unit")
        if m.group("u1") and m.group("u1") != unit and not m.group("n2"):
            continue
        v1 = _number(m.group("n1"))
        mod = _MODIFIERS.get((m.group("mod") or "").lower(), "=")
        low = high = err = None
        value = v1
        if m.group("n2") and not m.group("u1") and _SET_BEFORE.search(text[: m.start("n1")]):
            v1 = _number(m.group("n2"))  # "x = 0 to 48 K": the 0 sets x, only 48 K is a value
            normal, sym, dim = to_normalised(v1, unit)
            s, e = m.start("n2"), m.end()
            found.append(Quantity(v1, unit, dim, normal, sym, start=s, end=e, text=sentence[s:e]))
            continue
        if m.group("n2") and (m.group("sep") != "and" or m.group("from")):
            v2 = _number(m.group("n2"))
            low, high = min(v1, v2), max(v1, v2)
            value, mod = (low + high) / 2, "range"
        elif m.group("n2"):  # "5 and 6 K" without "between": a list of two
            v2 = _number(m.group("n2"))
            for v, grp in ((v1, "n1"), (v2, "n2")):
                normal, sym, dim = to_normalised(v, unit)
                s, e = m.start(grp), m.end(grp)
                found.append(
                    Quantity(v, unit, dim, normal, sym, start=s, end=e, text=sentence[s:e])
                )
            continue
        if m.group("err"):
            err = _number(m.group("err"))
        elif m.group("esd"):  # "0.65(3)": 3 in the last digit shown
            decimals = len(m.group("n1").partition(".")[2])
            err = int(m.group("esd")[1:-1]) * 10.0**-decimals
        normal, sym, dim = to_normalised(value, unit)
        s = m.start("mod") if m.group("mod") else m.start("open" if m.group("open") else "n1")
        e = m.end()
        found.append(
            Quantity(
                value, unit, dim, normal, sym, low, high, err, mod, s, e, sentence[s:e].strip()
            )
        )
    found.sort(key=lambda q: q.start)
    return found
