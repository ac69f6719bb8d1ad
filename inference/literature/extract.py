"""Rules that turn a `Paper` into records: material, property, value with unit, conditions, where.

Each property value is linked to the sample named nearest to it in its sentence, or else to
the last sample named earlier in the paragraph (precursors, apparatus and structural units are
kept as mentions but never carry values). Table cells give records too (source="table"), with
the row label as their material. References and acknowledgements are skipped.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature.materials import MaterialSpan, find_materials
from inference.literature.model import Box, Paper
from inference.literature.properties import ATMOSPHERE, METHODS, PROPERTIES, method_name
from inference.literature.quantities import Quantity, find_quantities, normalise
from inference.literature.sections import EXCLUDED
from inference.literature.sentences import split_sentences
from inference.literature.tables import table_values


@dataclass(frozen=True)
class MaterialMention:
    formula: str
    name: str
    page: int  # 1-based
    start: int  # offsets in Paper.text
    end: int
    section: str
    source: str = "rules"  # rules | ner (the learned tagger)
    role: str = "sample"  # sample | precursor | apparatus | unit (materials.material_role)


@dataclass(frozen=True)
class PropertyRecord:
    material: str | None
    property: str
    value: float
    unit: str
    value_si: float
    unit_si: str
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
    material_span: tuple[int, int] | None = None
    link: str = "sentence"  # sentence | paragraph | table | paper (the main material) | none
    section: str = ""
    source: str = "text"  # text | table (read from a table cell: `sentence` names the cell)


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


@dataclass
class Extraction:
    path: Path
    title: str
    n_pages: int
    records: list[PropertyRecord]
    materials: list[MaterialMention]
    synthesis: list[SynthesisStep]

    def to_json(self) -> dict:
        """The stable CLI/JSON shape (see README: `matlens extract --json`)."""
        records = []
        for r in self.records:
            item = {
                "material": r.material,
                "property": r.property,
                "value": r.value,
                "unit": r.unit,
                "value_si": r.value_si,
                "unit_si": r.unit_si,
                "page": r.page,
                "sentence": r.sentence,
                "text": r.text,
                "modifier": r.modifier,
                "low": r.low,
                "high": r.high,
                "uncertainty": r.uncertainty,
                "conditions": r.conditions,
                "link": r.link,
                "source": r.source,
                "span": [r.start, r.end],
            }
            records.append(item)
        by_key: dict[tuple[str, int], dict] = {}  # one entry per formula and page
        for m in self.materials:
            item = by_key.get((m.formula, m.page))
            if item is None:
                item = by_key[m.formula, m.page] = {
                    "formula": m.formula,
                    "name": m.name,
                    "page": m.page,
                }
                if m.source != "rules":
                    item["source"] = m.source
                if m.role != "sample":
                    item["role"] = m.role
            elif m.role == "sample":
                item.pop("role", None)  # a sample somewhere on the page is a sample
        materials = list(by_key.values())
        return {
            "paper": str(self.path),
            "title": self.title,
            "pages": self.n_pages,
            "records": records,
            "materials": materials,
            "synthesis": [asdict(s) for s in self.synthesis],
        }


_NOT_MATERIALS = frozenset({"sample", "samples", "the", "film", "films", "powder", "powders"})
_AFFILIATION = re.compile(r"Universit|Institut|Laborator|[Aa]ddress|E-mail|@|Department")
_AT_BEFORE = re.compile(r"(?:\bat|\bto|\bdown to|T ?=|\bfrom|\bbetween|\bwith)\s*$", re.I)


def _property_for(q: Quantity, sentence: str, kinds) -> tuple[str, int] | None:
    """The property a value belongs to: the nearest announcing word before it (or just after)."""
    best: tuple[int, str, int] | None = None
    for kind, spans in kinds:
        if q.dimension not in kind.dimensions:
            continue
        for s, e in spans:
            if e <= q.start:
                distance = q.start - e
                if distance > 150:
                    continue
                if kind.name == "Tc" and distance > 25 and _AT_BEFORE.search(sentence[: q.start]):
                    continue  # "Tc ... measured at 2 K": a measurement temperature
            elif s >= q.end and s - q.end <= 12:
                distance = s - q.end + 40
            else:
                continue
            if best is None or distance < best[0]:
                best = (distance, kind.name, s)
    return (best[1], best[2]) if best else None


def _nearest_material(mats: list[MaterialSpan], anchor: int) -> MaterialSpan | None:
    before = [m for m in mats if m.end <= anchor]
    if before:
        return before[-1]
    return mats[0] if mats else None


def _conditions(qs: list[Quantity], used: set[int], q: Quantity, prop: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, other in enumerate(qs):
        if other is q or i in used:
            continue
        if other.dimension == "pressure" and prop not in (
            "yield_strength",
            "tensile_strength",
            "hardness",
        ):
            out.setdefault("pressure", other.text)
        elif other.dimension == "temperature" and prop != "Tc":
            out.setdefault("temperature", other.text)
        elif other.dimension == "field" and prop != "critical_field":
            out.setdefault("field", other.text)
    return out


def extract(
    paper: Paper,
    *,
    ner: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Extraction:
    """Materials, property records and synthesis steps of a parsed paper.

    With `ner`, material names found by the learned tagger (see `inference.literature.ner`)
    are added where the formula rules found nothing.
    """
    records: list[PropertyRecord] = []
    mentions: list[MaterialMention] = []
    steps: list[SynthesisStep] = []
    text = paper.text
    units = []  # (block, [(s0, s1, sentence)])
    for block in paper.blocks:
        if block.section in EXCLUDED or block.heading:
            continue
        if block.page == 0 and _AFFILIATION.search(text[block.start : block.end]):
            continue
        spans = split_sentences(text[block.start : block.end], block.start)
        units.append((block, [(s0, s1, text[s0:s1].replace("\n", " ")) for s0, s1 in spans]))
    tagged: dict[int, list] = {}
    if ner:
        from inference.literature.ner import tagger

        flat = [(s0, sentence) for _, sents in units for s0, _, sentence in sents]
        results = tagger().tag(
            [sentence for _, sentence in flat],
            progress=lambda f, m="": progress(0.8 * f, m),
            cancel=cancel,
        )
        tagged = {s0: spans for (s0, _), spans in zip(flat, results, strict=True)}
    start = 0.8 if ner else 0.0  # the tagger is most of the work when it runs
    n = max(1, len(units))
    for bi, (block, sents) in enumerate(units):
        if bi % 50 == 0:
            if cancel:
                cancel.raise_if_cancelled()
            progress(start + (1 - start) * bi / n, "extracting")
        last_material: MaterialSpan | None = None
        last_offset = 0
        for s0, _s1, sentence in sents:
            mats = find_materials(sentence)
            learned = _learned(tagged.get(s0, ()), mats)
            for m in mats + learned:
                page = paper.page_of(s0 + m.start) + 1
                source = "ner" if m in learned else "rules"
                mentions.append(
                    MaterialMention(
                        m.formula,
                        m.name,
                        page,
                        s0 + m.start,
                        s0 + m.end,
                        block.section,
                        source,
                        m.role,
                    )
                )
            # precursors, apparatus and structural units never carry the paper's values; a
            # learned name carries them only where no formula is at hand (it may be a symbol)
            mats = [m for m in mats if m.role == "sample"]
            if not mats and last_material is None:
                mats = learned
            qs = find_quantities(sentence)
            if qs:
                records.extend(
                    _sentence_records(
                        paper, sentence, s0, mats, qs, last_material, last_offset, block.section
                    )
                )
                steps.extend(_synthesis(paper, sentence, s0, mats, qs, last_material))
            if mats:
                last_material, last_offset = mats[-1], s0
    if paper.tables:
        records = [r for r in records if not _in_table(paper, r.start)] + _table_records(paper)
    records = _link_to_main_material(records, mentions)
    progress(1.0, "")
    return Extraction(paper.path, paper.title, paper.n_pages, records, mentions, steps)


def _cell_span(paper: Paper, page: int, box: Box | None) -> tuple[int, int] | None:
    """The stretch of `Paper.text` whose characters sit inside a table cell's box."""
    if box is None or not len(paper.char_box):
        return None
    cx = (paper.char_box[:, 0] + paper.char_box[:, 2]) / 2
    cy = (paper.char_box[:, 1] + paper.char_box[:, 3]) / 2
    inside = (
        (paper.char_page == page)
        & (cx >= box.x0)
        & (cx <= box.x1)
        & (cy >= box.top)
        & (cy <= box.bottom)
    )
    hits = np.flatnonzero(inside)
    return (int(hits[0]), int(hits[-1]) + 1) if len(hits) else None


def _in_table(paper: Paper, offset: int) -> bool:
    """A text value inside a table: the table reader gives it with its row and column."""
    if not 0 <= offset < len(paper.char_box):
        return False
    x0, top, x1, bottom = paper.char_box[offset].tolist()
    page = int(paper.char_page[offset])
    return any(
        t.page == page and t.box.x0 <= x0 and x1 <= t.box.x1 and t.box.top <= top <= t.box.bottom
        for t in paper.tables
    )


def _table_records(paper: Paper) -> list[PropertyRecord]:
    """Records from table cells: header → property and unit, row label → material."""
    out = []
    for table in paper.tables:
        for v in table_values(table):
            q = v.quantity
            span = _cell_span(paper, v.page, v.cell_box) or (0, 0)
            label_span = _cell_span(paper, v.page, v.label_box) if v.material else None
            out.append(
                PropertyRecord(
                    material=v.material,
                    property=v.property,
                    value=q.value,
                    unit=q.unit,
                    value_si=q.value_si,
                    unit_si=q.unit_si,
                    page=v.page + 1,
                    sentence=f"{v.label} | {v.header}: {v.cell}",
                    start=span[0],
                    end=span[1],
                    text=v.cell,
                    low=q.low,
                    high=q.high,
                    uncertainty=q.uncertainty,
                    modifier=q.modifier,
                    conditions={} if v.material else {"row": v.label},
                    material_span=label_span,
                    link="table" if v.material else "none",
                    section="table",
                    source="table",
                )
            )
    return out


def _learned(spans, mats: list[MaterialSpan]) -> list[MaterialSpan]:
    """Tagger material spans that the rules missed (named materials, not formulas)."""
    out = []
    for s in spans:
        if s.label != "MAT" or any(m.start < s.end and s.start < m.end for m in mats):
            continue
        name = s.text.strip(" ,.;:()")
        if len(name) < 3 or not re.search(r"[A-Za-z]{2}", name) or name.lower() in _NOT_MATERIALS:
            continue
        if any(kind.pattern.fullmatch(name) for kind in PROPERTIES):
            continue  # "Tconset", "Hc2": a property's symbol, not a material
        out.append(MaterialSpan("", name, s.start, s.end))
    return out


def _link_to_main_material(records, mentions):
    """Values with no material in their paragraph go to the paper's most-named material."""
    if not mentions:
        return records
    counts = Counter(m.name or m.formula for m in mentions if m.role == "sample")
    if not counts:
        return records
    main = counts.most_common(1)[0][0]
    return [
        dataclasses.replace(r, material=main, link="paper") if r.link == "none" else r
        for r in records
    ]


def _sentence_records(paper, sentence, s0, mats, qs, last_material, last_offset, section):
    norm = normalise(sentence)
    kinds = [(k, [(m.start(), m.end()) for m in k.pattern.finditer(norm)]) for k in PROPERTIES]
    kinds = [(k, spans) for k, spans in kinds if spans]
    if not kinds:
        return []
    out = []
    assigned: list[tuple[Quantity, str, int]] = []
    for q in qs:
        found = _property_for(q, norm, kinds)
        if found:
            assigned.append((q, *found))
    used = {i for i, q in enumerate(qs) if any(q is a[0] for a in assigned)}
    for q, prop, kw_start in assigned:
        mat = _nearest_material(mats, kw_start) if mats else None
        link = "sentence"
        mat_span = None
        if mat is not None:
            mat_span = (s0 + mat.start, s0 + mat.end)
        elif last_material is not None:
            mat, link = last_material, "paragraph"
            mat_span = (last_offset + mat.start, last_offset + mat.end)
        else:
            link = "none"
        out.append(
            PropertyRecord(
                material=(mat.name or mat.formula) if mat else None,
                property=prop,
                value=q.value,
                unit=q.unit,
                value_si=q.value_si,
                unit_si=q.unit_si,
                page=paper.page_of(s0 + q.start) + 1,
                sentence=sentence,
                start=s0 + q.start,
                end=s0 + q.end,
                text=q.text,
                low=q.low,
                high=q.high,
                uncertainty=q.uncertainty,
                modifier=q.modifier,
                conditions=_conditions(qs, used, q, prop),
                material_span=mat_span,
                link=link,
                section=section,
            )
        )
    return out


def _synthesis(paper, sentence, s0, mats, qs, last_material) -> list[SynthesisStep]:
    method = METHODS.search(sentence)
    if not method:
        return []
    temps = [q for q in qs if q.dimension == "temperature" and q.value_si > 320]
    times = [q for q in qs if q.dimension == "time"]
    if not temps and not times:
        return []
    atm = ATMOSPHERE.search(sentence)
    pressure = next((q.text for q in qs if q.dimension == "pressure"), "")
    mat = mats[0] if mats else last_material
    return [
        SynthesisStep(
            method=method_name(method.group(1)),
            material=(mat.name or mat.formula) if mat else None,
            temperature=temps[0].text if temps else "",
            time=times[0].text if times else "",
            atmosphere=atm.group(1) if atm else "",
            pressure=pressure,
            page=paper.page_of(s0 + method.start()) + 1,
            sentence=sentence,
            start=s0 + method.start(),
            end=s0 + method.end(),
        )
    ]


def extract_pdf(
    path: Path,
    *,
    ner: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> tuple[Paper, Extraction]:
    """Parse then extract, with one progress bar (the tagger, when on, takes most of the time)."""
    from inference.literature.pdf import parse_pdf

    split = 0.3 if ner else 0.8  # share of the bar for parsing
    paper = parse_pdf(path, progress=lambda f, m="": progress(split * f, m), cancel=cancel)
    result = extract(
        paper,
        ner=ner,
        progress=lambda f, m="": progress(split + (1 - split) * f, m),
        cancel=cancel,
    )
    return paper, result
