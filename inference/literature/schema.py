"""The literature records as they cross boundaries: one frozen dataclass per kind of record.

JSON (`matlens extract --json`, the pane's export) and CSV columns are generated from these
fields, so the three can never disagree: a JSON record has exactly the dataclass's fields, and
a CSV file's header is `csv_columns(PropertyRecord)`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MaterialMention:
    """A material as the paper writes it, and the formula it stands for.

    `kind` says what was written: a formula ("La2-xSrxCuO4"), an abbreviation ("LSCO", from the
    field's dictionary or defined in the paper), a name ("niobium"), a doping level
    ("x = 0.15", which stands for the composition of the formula it sets), a sample code
    ("S1", "film A1") or a descriptor phrase ("Zn-doped samples"). `formula` keeps
    placeholders (x, δ, M, RE); `compositions` are the concrete formulas a definition in the
    text expands it into ("M = La, Gd", "x = 0.1, 0.2").
    """

    text: str  # as written, spaces normalised
    formula: str  # what it stands for ("" for a class or when unknown)
    kind: str  # formula | abbreviation | name | doping | code | descriptor
    page: int  # 1-based
    start: int  # offsets in Paper.text
    end: int
    section: str
    role: str = "sample"  # sample | precursor | apparatus | unit | substrate | reference | class
    name: str = ""  # the abbreviation or name itself; "" for a bare formula
    family: str = ""  # cuprate, iron pnictide, ... (abbreviations from the dictionary)
    descriptors: tuple[str, ...] = ()  # "single crystal", "film", "overdoped", ...
    compositions: tuple[str, ...] = ()  # concrete formulas from a definition in the text
    definition: str = ""  # where `formula` comes from: the defining text or the dictionary
    source: str = "rules"  # rules | ner (the learned tagger)


@dataclass(frozen=True)
class PropertyRecord:
    """One property value with its material, unit, conditions and place in the paper."""

    material: str | None  # the material as written ("PCCO", "x = 0.15", "EuFBiS2")
    property: str
    value: float
    unit: str
    value_normalised: float
    unit_normalised: str
    page: int  # 1-based
    sentence: str
    start: int  # span of the value in Paper.text
    end: int
    text: str  # the value as written ("up to 48 K")
    low: float | None = None
    high: float | None = None
    uncertainty: float | None = None
    modifier: str = "="
    conditions: dict[str, str] = field(default_factory=dict)
    qualifier: str = ""  # what kind of value: Tc onset | zero resistance | midpoint | ...
    material_formula: str = ""  # the formula `material` stands for (a doping level expanded)
    material_kind: str = ""  # formula | abbreviation | name | doping | code | descriptor
    material_span: tuple[int, int] | None = None
    # how the material was chosen: bracket | for | subject | sentence | after | respectively
    # (inference.literature.links) | paragraph (the paragraph's current sample) | paper (the
    # sample a paper is about, where the paragraph names none) | learned (the
    # learned Tc linker chose a sample the rules did not, inference.literature.linker) | table |
    # label (the value names a sample itself) | field (a Tc under an applied field of 0.1 T or
    # more: the field's, no sample's) | none (no sample named, or the linker unsure)
    link: str = "sentence"
    section: str = ""
    source: str = "text"  # text | table (read from a table cell: `sentence` names the cell)


_COMPARISONS = {"~": "~", ">": ">", "<": "<", ">=": "≥", "<=": "≤"}


def shown_normalised(record: PropertyRecord) -> str:
    """The record's value in its kind's normal unit (eV for a band gap, K for a temperature,
    quantities.NORMAL_UNITS) as a person should read it: a range as its two ends ("20-35 nm" is
    "2e-08–3.5e-08 m", not its midpoint 2.75e-08 m, which `value_normalised` holds), a bound
    or an estimate with its sign ("up to 450 °C" is "≤ 723.15 K")."""
    normal = f"{record.value_normalised:.6g} {record.unit_normalised}".strip()
    if record.modifier == "range" and record.low is not None and record.high is not None:
        from inference.literature.quantities import to_normalised

        try:
            low, high = (to_normalised(v, record.unit)[0] for v in (record.low, record.high))
        except KeyError:  # a unit only a table header writes: no range to show in it
            return normal
        return f"{low:.6g}–{high:.6g} {record.unit_normalised}".strip()
    sign = _COMPARISONS.get(record.modifier)
    return f"{sign} {normal}" if sign else normal


def shown_value(record: PropertyRecord) -> str:
    """The record's value as the paper writes it, so its significant figures survive ("1.0",
    "20.50 ± 0.03", "0.65(3)"; `value` holds 1.0, which prints as "1"). A bound, estimate or
    range is the whole written quantity ("up to 48 K"). Where the written number cannot be
    found again (a cell the value was read from in another form), the value itself."""
    if record.modifier != "=":
        return record.text
    from inference.literature.quantities import NUMBER, normalise, parse_number

    plain = normalise(record.text)
    numbers = [(m.start(), m.end(), parse_number(m.group())) for m in NUMBER.finditer(plain)]
    value, rest = f"{record.value:.6g}", 0  # rest: where the numbers after the value begin
    for i, (start, end, number) in enumerate(numbers):
        signed = start > 0 and plain[start - 1] == "-"  # "−0.5 V"
        if _same(-number if signed else number, record.value):
            value, rest = record.text[start - signed : end], i + 1
            break
    if record.uncertainty is None:
        return value
    esd = re.match(r"\(\d{1,2}\)", plain[numbers[rest - 1][1] :]) if rest else None
    if esd:  # "0.65(3)": the uncertainty in the last digits, as crystallographers write it
        return value + esd.group()
    # the digits alone: the "-" of "+/- 0.03" is no sign
    spread = next(
        (record.text[s:e] for s, e, n in numbers[rest:] if _same(n, record.uncertainty)),
        f"{record.uncertainty:.6g}",
    )
    return f"{value} ± {spread}"


def shown_quantity(record: PropertyRecord) -> str:
    """The value as written with its unit ("1.0 eV"); a table cell writes its number alone (the
    unit is in the column's header), so the unit is added where the written text lacks it."""
    value = shown_value(record)
    if record.unit and not value.rstrip(" )").endswith(record.unit):
        return f"{value} {record.unit}"
    return value


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9)


# What each `PropertyRecord.link` means, in the words the pane shows beside a record.
LINK_REASONS = {
    "bracket": "the sample named in the brackets around the value",
    "for": 'the sample the sentence gives the value "for" or "of"',
    "subject": "the subject of the sentence",
    "sentence": "the only sample the sentence names",
    "after": "the sample named right after the value",
    "respectively": 'the sample in the same place of a "respectively" list',
    "paragraph": "the sample the paragraph is about (the sentence names none)",
    "paper": "the sample the paper is about (neither sentence nor paragraph names one)",
    "learned": "the learned linker, which chose another sample than the rules",
    "table": "the table row's sample",
    "label": 'none: the value is the sample\'s name ("the Tc = 75 K sample")',
    "field": "none: a Tc in an applied magnetic field is not the sample's Tc",
    "none": "none: no sample is named near the value",
}


def link_reason(link: str) -> str:
    """One line saying how a record's material was chosen (the code itself when unknown)."""
    return LINK_REASONS.get(link, link)


@dataclass(frozen=True)
class SynthesisStep:
    method: str
    material: str | None
    temperature: str
    time: str
    atmosphere: str
    pressure: str
    page: int
    sentence: str
    start: int
    end: int


def to_json(item: Any) -> dict[str, Any]:
    """A record as a JSON object: every field, tuples as lists, in declaration order."""
    return {f.name: _plain(getattr(item, f.name)) for f in dataclasses.fields(item)}


def from_json(kind: type, data: dict[str, Any]) -> Any:
    """A record of `kind` back from its JSON object (lists become tuples again); keys that are
    not fields are left out."""
    names = {f.name for f in dataclasses.fields(kind)}
    return kind(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names}
    )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def csv_columns(kind: type) -> tuple[str, ...]:
    """The CSV header of a record kind: its field names."""
    return tuple(f.name for f in dataclasses.fields(kind))


def csv_row(item: Any) -> dict[str, str | float | int]:
    """A record as one CSV row: dicts as "k=v; k=v", tuples as "a; b", None as empty."""
    row: dict[str, str | float | int] = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if value is None:
            row[f.name] = ""
        elif isinstance(value, dict):
            row[f.name] = "; ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, tuple):
            row[f.name] = "; ".join(str(v) for v in value)
        else:
            row[f.name] = value
    return row
