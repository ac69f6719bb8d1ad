"""Rules that turn a `Paper` into records: material, property, value with unit, conditions, where.

Materials are read with the whole paper in view (`mentions.MentionReader`): formulas,
abbreviations (the field's and those the paper defines), doping levels, sample codes and
descriptor phrases, each with the formula it stands for. A temperature becomes a Tc only when
it is named as one (`temperatures.temperature_role`), and each value goes to the sample its
sentence says it belongs to (`links.choose`; a value for a list of samples, "48.0-48.7 K for
A, B and C", to each), else to the paragraph's current sample (not in a sentence about several
samples), else to the paper's main sample when it has one; precursors, apparatus, substrates, reference materials and structural units are kept as
mentions but never carry values. Table cells give records too (source="table"), with the row
label as their material. References and acknowledgements are skipped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature import links
from inference.literature.linker import (
    Candidate,
    LinearLinker,
    LinkQuery,
    PaperCounts,
    RuleLinker,
    SoftmaxLinker,
    default_linker,
)
from inference.literature.materials import MaterialSpan
from inference.literature.mentions import MentionReader
from inference.literature.properties import ATMOSPHERE, METHODS, PROPERTIES, method_name
from inference.literature.quantities import Quantity, find_quantities, normalise
from inference.literature.schema import MaterialMention, PropertyRecord, SynthesisStep, to_json
from inference.literature.sections import EXCLUDED
from inference.literature.sentences import split_sentences
from inference.literature.tables import table_values
from inference.literature.temperatures import (
    TC_SYMBOL,
    curie_named,
    qualifiers_in_order,
    tc_keywords,
    temperature_role,
)

if TYPE_CHECKING:
    from pathlib import Path

    from inference.literature.model import Box, Paper

__all__ = ["Extraction", "MaterialMention", "PropertyRecord", "SynthesisStep", "extract"]


@dataclass
class Extraction:
    path: Path
    title: str
    n_pages: int
    records: list[PropertyRecord]
    materials: list[MaterialMention]
    synthesis: list[SynthesisStep]

    def to_json(self) -> dict:
        """The CLI/JSON document; every record and material has its schema's fields."""
        by_key: dict[tuple[str, int], dict] = {}  # one entry per material as written and page
        for m in self.materials:
            item = by_key.get((m.text, m.page))
            if item is None:
                by_key[m.text, m.page] = to_json(m)
            elif m.role == "sample":
                item["role"] = "sample"  # a sample somewhere on the page is a sample
        return {
            "paper": str(self.path),
            "title": self.title,
            "pages": self.n_pages,
            "records": [to_json(r) for r in self.records],
            "materials": list(by_key.values()),
            "synthesis": [to_json(s) for s in self.synthesis],
        }


_NOT_MATERIALS = frozenset({"sample", "samples", "the", "film", "films", "powder", "powders"})
# a family the tagger marks as a material ("BiS2-based", "A2B2O7-type") is no sample
_CLASS_SUFFIX = re.compile(r"-(?:based|type|like)$", re.IGNORECASE)
_AFFILIATION = re.compile(r"Universit|Institut|Laborator|[Aa]ddress|E-mail|@|Department")
_AT_BEFORE = re.compile(r"(?:\bat|\bto|\bdown to|T ?=|\bfrom|\bbetween|\bwith)\s*$", re.I)
_ABOUT_SC = re.compile(r"superconduct|\bSC\b", re.IGNORECASE)
_SUPERCONDUCTIVITY = re.compile(r"superconduct|zero[- ]resist", re.IGNORECASE)
# a sentence on several samples or compounds at once ("the SC samples present the onset of Tc
# varying from 2.5 to 4.2 K", "underdoped compounds (Tc ∼ 30-45 K)"): its values are not the
# paragraph's one current sample's ("crystals", "films" are pieces of one sample and stay)
_SEVERAL_SAMPLES = re.compile(
    r"\b(?:samples|compounds|dopings|substitutions|doping levels)\b", re.I
)
_NOT_TC = tuple(k for k in PROPERTIES if k.name != "Tc")  # Tc is named by `temperatures`


@dataclass(frozen=True)
class _Sample:
    """The sample a paragraph is about: a mention, the sentence offset it sits in and the
    sentence's index in the paper."""

    mention: MaterialSpan
    offset: int
    sentence: int = 0


# A length written as a wavelength ("Cu-Kα radiation (λ = 0.15405 nm)", "a neutron wavelength of
# 1.594 Å") is the instrument's, not a property of the sample that a nearby word announces.
_WAVELENGTH_BEFORE = re.compile(r"(?:λ|wavelength)(?:\s+(?:of|is|was))?\s*[=:≈~]?\s*$")


def _property_for(q: Quantity, sentence: str, kinds) -> tuple[str, tuple[int, int]] | None:
    """The property a value belongs to: the nearest announcing word before it (or just after)."""
    if q.dimension == "length" and _WAVELENGTH_BEFORE.search(
        sentence[max(0, q.start - 40) : q.start]
    ):
        return None
    best: tuple[int, str, tuple[int, int]] | None = None
    for kind, spans in kinds:
        if q.dimension not in kind.dimensions:
            continue
        for s, e in spans:
            if e <= q.start:
                distance = q.start - e
                if distance > 150:
                    continue
            elif s >= q.end and s - q.end <= 12:
                distance = s - q.end + 40
            else:
                continue
            if best is None or distance < best[0]:
                best = (distance, kind.name, (s, e))
    return (best[1], best[2]) if best else None


def _condition_dimensions(prop: str) -> tuple[str, ...]:
    """The dimensions of a sentence's other values that can be conditions of a `prop` value
    (a strength is itself a pressure, a Tc a temperature, a critical field a field)."""
    dims = []
    if prop not in ("yield_strength", "tensile_strength", "hardness"):
        dims.append("pressure")
    if prop != "Tc":
        dims.append("temperature")
    if prop != "critical_field":
        dims.append("field")
    return tuple(dims)


def _condition_text(q: Quantity) -> str:
    """A condition as written, with its unit: in "at 600 and 700 °C" the 600 is written bare."""
    if q.unit in normalise(q.text):
        return q.text
    return f"{q.text} {q.unit}"


def _alternate(values: list[Quantity], conditions: list[Quantity]) -> bool:
    """Values and conditions take turns in the sentence ("5.3 K at 50 GPa, and 7.9 K at
    70.8 GPa"; "at 600 °C ... 0.2 S/cm, at 700 °C ... 0.3 S/cm")."""
    kinds = [
        kind
        for _, kind in sorted([(q.start, 0) for q in values] + [(q.start, 1) for q in conditions])
    ]
    return all(a != b for a, b in zip(kinds, kinds[1:], strict=False))


def _conditions(
    qs: list[Quantity], used: set[int], values: list[tuple[Quantity, str]], sentence: str
) -> dict[int, dict[str, str]]:
    """The conditions of each value of a sentence (keyed by the value's index in `values`):
    the sentence's other temperatures, pressures and fields. When it gives as many of one kind
    as it gives values that take it, and pairs them ("respectively", or each value next to its
    own), the i-th value gets the i-th condition ("9.6 T and 10.8 T at 43.5 GPa and 52.0 GPa,
    respectively"); otherwise every value gets the first one written."""
    out: dict[int, list[tuple[int, str, str]]] = {i: [] for i in range(len(values))}
    for dim in ("pressure", "temperature", "field"):
        conditions = [o for i, o in enumerate(qs) if i not in used and o.dimension == dim]
        if not conditions:
            continue
        takers = [i for i, (_, prop) in enumerate(values) if dim in _condition_dimensions(prop)]
        paired = len(takers) == len(conditions) >= 2 and (
            "respectively" in sentence or _alternate([values[i][0] for i in takers], conditions)
        )
        for k, i in enumerate(takers):
            chosen = conditions[k] if paired else conditions[0]
            out[i].append((chosen.start, dim, _condition_text(chosen)))
    return {i: {dim: text for _, dim, text in sorted(found)} for i, found in out.items()}


_NUMERIC = re.compile(r"^[-−+*()\[\].,\d]+$")
# a word: three lower-case letters in a row, or capitals text ("RESISTIVITY OF EUBA2...")
_WORD = re.compile(r"[a-z]{3}|(?:\b[A-Z]{2,}\b\W+){2}\b[A-Z]{2,}\b")


def _plot_text(block: str) -> bool:
    """Text drawn inside a figure (axis ticks, legends: "(a) 2000 1000 * 0 x=0.05 40 50"):
    mostly bare numbers, or no word at all ("RbOs", "6.2T Tc=2.8K"). Its labels repeat what
    the text says, out of any sentence (on the SuperMat tuning papers the wordless blocks held
    80 of our material texts, 68 of them named nowhere in the gold; 3 gold spans were found
    only there)."""
    tokens = block.split()
    if not _WORD.search(block):
        return True  # no word at all: a plot's legend ("RbOs", "~ T -0.8 RuSr", "6.2T Tc=2.8K")
    if len(tokens) < 6:
        return False
    return sum(1 for t in tokens if _NUMERIC.match(t)) >= PLOT_SHARE * len(tokens)


PLOT_SHARE = 0.25


def _written(paper: Paper, start: int, end: int) -> str:
    """A span of the paper as written, with spaces and dashes normalised ("La2−x" → "La2-x")."""
    return " ".join(normalise(paper.text[start:end]).split())


def _mention(paper: Paper, m: MaterialSpan, s0: int, section: str, source: str) -> MaterialMention:
    return MaterialMention(
        text=_written(paper, s0 + m.start, s0 + m.end),
        formula=m.formula,
        kind=m.kind,
        page=paper.page_of(s0 + m.start) + 1,
        start=s0 + m.start,
        end=s0 + m.end,
        section=section,
        role=m.role,
        name=m.name,
        family=m.family,
        descriptors=m.descriptors,
        compositions=m.compositions,
        definition=m.definition,
        source=source,
    )


def extract(
    paper: Paper,
    *,
    ner: bool = False,
    linker=None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Extraction:
    """Materials, property records and synthesis steps of a parsed paper.

    With `ner`, material names found by the learned tagger (see `inference.literature.ner`)
    are added where the rules found nothing. `linker` chooses each Tc value's sample
    (`inference.literature.linker`): None or "rules" is the rules; "learned" is the shipped
    learned linker (the rules when its card is missing). The rules are the default because
    the learned linker only ties them in cross-validation on the tuning papers and scores a
    point below them on the report papers.
    """
    if linker is None or linker == "rules":
        linker = RuleLinker()
    elif linker == "learned":
        linker = default_linker()
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
        if _plot_text(text[block.start : block.end]):
            continue
        spans = split_sentences(text[block.start : block.end], block.start)
        if spans and units and _continues(text, units[-1][1], spans[0]):
            # a sentence the layout cut at a column or page end ("the observed Tc of 56 K is
            # too low as compared | with 93 K for YBa2Cu3O7"): read as one, and the block goes
            # on with the paragraph it started in
            p0, _, _ = units[-1][1][-1]
            end = spans.pop(0)[1]
            units[-1][1][-1] = (p0, end, text[p0:end].replace("\n", " "))
            units[-1][1].extend((s0, s1, text[s0:s1].replace("\n", " ")) for s0, s1 in spans)
            continue
        units.append((block, [(s0, s1, text[s0:s1].replace("\n", " ")) for s0, s1 in spans]))
    flat = [(s0, sentence) for _, sents in units for s0, _, sentence in sents]
    tagged: dict[int, list] = {}
    if ner:
        from inference.literature.ner import tagger

        results = tagger().tag(
            [sentence for _, sentence in flat],
            progress=lambda fraction, message="": progress(0.8 * fraction, message),
            cancel=cancel,
        )
        tagged = {s0: spans for (s0, _), spans in zip(flat, results, strict=True)}
    reader = MentionReader([sentence for _, sentence in flat])
    curie = bool(re.search(r"Curie", text))  # then "TC" is a Curie point, not a Tc
    superconducting = _about_superconductivity([sentence for _, sentence in flat])
    start = 0.8 if ner else 0.0  # the tagger is most of the work when it runs
    n = max(1, len(units))
    index = 0
    queries: list[tuple[int, LinkQuery]] = []  # (index in records, query) of each Tc value
    occurrences: list[Candidate] = []  # every sample mention of the paper, in order
    last_block: list[Candidate] = []
    for bi, (block, sents) in enumerate(units):
        if bi % 50 == 0:
            if cancel:
                cancel.raise_if_cancelled()
            progress(start + (1 - start) * bi / n, "extracting")
        current: _Sample | None = None
        # the samples of the paragraph's earlier sentences, after the previous paragraph's
        # (a paragraph the layout cut at a column or page end goes on in the next block)
        history = [dataclasses.replace(c, scope="previous") for c in last_block]
        last_block = []
        for s0, _s1, sentence in sents:
            mats = reader.read(index)
            here = index
            index += 1
            learned = _learned(tagged.get(s0, ()), mats)
            mentions += [_mention(paper, m, s0, block.section, "rules") for m in mats]
            mentions += [_mention(paper, m, s0, block.section, "ner") for m in learned]
            # precursors, apparatus, substrates and structural units never carry the paper's
            # values; a learned name carries them only where no rule found a sample
            samples = [m for m in mats if m.role == "sample"]
            if not samples and current is None:
                samples = learned
            mine = [_candidate(paper, m, s0, here, "sentence") for m in samples]
            qs = find_quantities(sentence)
            if qs:
                context = _Context(here, mine, history, current, block.section)
                for record, query in _sentence_records(
                    paper, sentence, s0, samples, qs, context, curie, superconducting
                ):
                    if query is not None:
                        queries.append((len(records), query))
                    records.append(record)
                last = current.mention if current is not None else None
                steps.extend(_synthesis(paper, sentence, s0, samples, qs, last))
            occurrences += mine
            history += [dataclasses.replace(c, scope="paragraph") for c in mine]
            last_block += mine
            carriers = [m for m in samples if m.kind != "descriptor"] or samples
            # a material the sentence only compares its sample with ("in sharp contrast to
            # KOs2O6, where ...") does not become the paragraph's sample
            carriers = links.without_compared(sentence, carriers)
            if carriers:
                current = _Sample(carriers[-1], s0, here)
    if isinstance(linker, RuleLinker):
        records = _paper_sample(records, queries, occurrences)
    else:  # the learned linker weighs the paper's samples itself
        records = _link(paper, records, queries, occurrences, linker)
    if paper.tables:
        records = [r for r in records if not _in_table(paper, r.start)] + _table_records(paper)
    progress(1.0, "")
    return Extraction(paper.path, paper.title, paper.n_pages, records, mentions, steps)


# links that say the value is no sample's to carry: it names its sample itself ("the Tc = 75 K
# sample") or is read under an applied field; neither falls back to the paragraph's sample
_NO_SAMPLE_LINKS = ("label", "field")
_SENTENCE_GOES_ON = re.compile(r"[A-Za-z0-9,]$")


def _continues(text: str, previous: list[tuple[int, int, str]], first: tuple[int, int]) -> bool:
    """Whether a block's first sentence goes on from the previous block's last one: that one
    stops without a full stop, this one starts in lower case, and only white space is between
    (a paragraph longer than a few words on both sides: figure labels are left alone)."""
    if not previous:
        return False
    _, p1, last = previous[-1]
    return (
        bool(_SENTENCE_GOES_ON.search(last.rstrip()))
        and text[first[0] : first[0] + 1].islower()
        and not text[p1 : first[0]].strip()
        and p1 - previous[0][0] > 150
        and first[1] - first[0] > 40
    )


@dataclass(frozen=True)
class _Context:
    """What a sentence's values may link to beyond the sentence itself."""

    sentence: int  # index of the sentence in the paper
    samples: list[Candidate]  # the sentence's samples
    history: list[Candidate]  # samples of the paragraph's earlier sentences
    current: _Sample | None  # the paragraph's current sample
    section: str


def _candidate(paper: Paper, m: MaterialSpan, s0: int, sentence: int, scope: str) -> Candidate:
    return Candidate(m, s0, sentence, _written(paper, s0 + m.start, s0 + m.end), scope)


def _link(
    paper: Paper,
    records: list[PropertyRecord],
    queries: list[tuple[int, LinkQuery]],
    occurrences: list[Candidate],
    linker: LinearLinker | SoftmaxLinker | RuleLinker,
) -> list[PropertyRecord]:
    """Each Tc record's material as the linker chooses it among its query's candidates."""
    if not queries or isinstance(linker, RuleLinker):
        return records
    counts = PaperCounts.of([c.key for c in occurrences], [c.sentence for c in occurrences])
    # the samples a paper names most are candidates for every value (the paper's subject)
    top = sorted(counts.rank, key=counts.rank.__getitem__)[: linker.paper_candidates]
    by_key: dict[str, list[Candidate]] = {}
    for c in occurrences:
        by_key.setdefault(c.key, []).append(c)
    out = list(records)
    for i, query in queries:
        seen = {c.key for c in query.candidates}
        extra = []
        for key in top:
            if key in seen:
                continue
            prior = [c for c in by_key[key] if c.end <= query.value[0]]
            pick = prior[-1] if prior else by_key[key][0]
            extra.append(dataclasses.replace(pick, scope="paper"))
        if extra:
            query = dataclasses.replace(query, candidates=query.candidates + tuple(extra))
        choice = linker.choose(query, counts)
        c = choice.candidate
        out[i] = dataclasses.replace(
            out[i],
            material=c.written if c is not None else None,
            material_formula=_material_formula(c.mention) if c is not None else "",
            material_kind=c.mention.kind if c is not None else "",
            material_span=(c.start, c.end) if c is not None else None,
            link=choice.link,
        )
    return out


def _paper_sample(
    records: list[PropertyRecord],
    queries: list[tuple[int, LinkQuery]],
    occurrences: list[Candidate],
) -> list[PropertyRecord]:
    """Tc values that neither their sentence nor their paragraph gives a sample go to the
    paper's main sample, when the paper names one sample far more than all others (its
    latest mention before the value)."""
    if not occurrences:
        return records
    counts = PaperCounts.of([c.key for c in occurrences], [c.sentence for c in occurrences])
    top = counts.main
    if top is None:
        return records
    mine = [c for c in occurrences if c.key == top]
    out = list(records)
    for i, query in queries:
        if out[i].link != "none":
            continue
        prior = [c for c in mine if c.end <= query.value[0]]
        c = prior[-1] if prior else mine[0]
        out[i] = dataclasses.replace(
            out[i],
            material=c.written,
            material_formula=_material_formula(c.mention),
            material_kind=c.mention.kind,
            material_span=(c.start, c.end),
            link="paper",
        )
    return out


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
                    value_normalised=q.value_normalised,
                    unit_normalised=q.unit_normalised,
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
        if _CLASS_SUFFIX.search(name):
            continue
        start = s.start + s.text.index(name)  # the span holds the name, not its comma
        out.append(MaterialSpan("", name, start, start + len(name), kind="name"))
    return out


def _material_formula(m: MaterialSpan) -> str:
    """The formula a mention stands for: a doping level's one composition, else its formula."""
    return m.compositions[0] if len(m.compositions) == 1 else m.formula


def _about_superconductivity(sentences: list[str]) -> bool:
    """A Tc is a superconductor's: a paper that speaks neither of superconductivity nor of zero
    resistance and never writes "Tc" has none (a fuel cell's "onset temperature of reduction",
    a phase's "transition temperature" are not). "TC" does not count: a thermocouple, a Curie
    point; nor does "Tc" in a paper that names it a Curie point and never speaks of
    superconductivity (a magnet's "Curie temperature Tc = 370 K", then "Tc = 858 K")."""
    if any(_SUPERCONDUCTIVITY.search(sentence) for sentence in sentences):
        return True
    symbols = [
        (text, m)
        for text in map(normalise, sentences)
        for m in TC_SYMBOL.finditer(text)
        if m.group("c") != "C"
    ]
    return bool(symbols) and not any(curie_named(text, m.start()) for text, m in symbols)


_RESTATED_BETWEEN = re.compile(r"\s*[(\[]\s*(?:i\.e\.,?\s*|≈\s*|~\s*|about\s+)?")


def _not_restated(qs: list[Quantity], sentence: str) -> list[Quantity]:
    """The values, less one that restates the value before it in brackets in another unit:
    "250 K (−23 °C)" is one Tc, not two."""
    kept: list[Quantity] = []
    for q in qs:
        last = kept[-1] if kept else None
        if (
            last is not None
            and last.unit_normalised == q.unit_normalised
            and last.unit != q.unit
            and _RESTATED_BETWEEN.fullmatch(sentence[last.end : q.start])
            and abs(last.value_normalised - q.value_normalised)
            <= 0.01 * abs(last.value_normalised) + 0.6  # "−23 °C" for 250 K is 250.15 K
        ):
            continue
        kept.append(q)
    return kept


def _sentence_records(
    paper, sentence, s0, samples, qs, context: _Context, curie, superconducting=True
):
    """The sentence's records, each with its link query when it is a Tc value (a paper that
    is not `superconducting` has no Tc values)."""
    current, section = context.current, context.section
    norm = normalise(sentence)
    kinds = [(k, [(m.start(), m.end()) for m in k.pattern.finditer(norm)]) for k in _NOT_TC]
    kinds = [(k, spans) for k, spans in kinds if spans]
    tc_spans = tc_keywords(norm, curie)
    out = []
    assigned: list[tuple[Quantity, str, tuple[int, int] | None, str]] = []
    previous_tc: Quantity | None = None
    about_sc = bool(tc_spans) or bool(_ABOUT_SC.search(norm))
    for q in _not_restated(qs, sentence):
        if q.dimension == "temperature":
            if not superconducting:
                continue  # no Tc, and a temperature is no other property's value
            role = temperature_role(norm, q, tc_spans, previous_tc)
            if (
                role.role in ("other", "measurement")
                and about_sc
                and links.in_brackets_after(norm, (q.start, q.end), samples)
            ):  # "thallium (2.4 K) and indium (3.4 K)" in a sentence on superconductivity
                role = dataclasses.replace(role, role="Tc")
            if role.role == "Tc":
                assigned.append((q, "Tc", role.keyword, role.qualifier))
                previous_tc = q
            continue
        found = _property_for(q, norm, kinds)
        if found:
            assigned.append((q, found[0], found[1], ""))
    used = {i for i, q in enumerate(qs) if any(q is a[0] for a in assigned)}
    conditions = _conditions(qs, used, [(q, prop) for q, prop, _, _ in assigned], norm)
    tcs = [(q.start, q.end) for q, prop, _, _ in assigned if prop == "Tc"]
    paired = links.respectively(norm, tcs, samples) if tcs else None
    if len(tcs) >= 2:
        ordered = qualifiers_in_order(norm, tc_spans, tcs[0][0], len(tcs))
        if ordered is not None:
            it = iter(ordered)
            assigned = [(q, p, k, next(it) if p == "Tc" else ql) for q, p, k, ql in assigned]
    for index, (q, prop, keyword, qualifier) in enumerate(assigned):
        value = (q.start, q.end)
        if paired is not None and value in tcs:
            mat, link = paired[tcs.index(value)], "respectively"
        elif prop == "Tc" and links.labels_a_sample(norm, value):
            mat, link = None, "label"  # "the Tc = 75 K sample": no other name is meant
        elif prop == "Tc" and links.under_field(norm, value, keyword):
            mat, link = None, "field"  # "53 K in 7-T field": not the sample's own Tc
        else:
            mat, link = links.choose(norm, value, keyword, samples)
        mat_span = None
        how = link
        if mat is not None:
            mat_span = (s0 + mat.start, s0 + mat.end)
            link = "sentence" if link == "after" else link
        elif link in _NO_SAMPLE_LINKS:
            pass
        elif current is not None and not (prop == "Tc" and _SEVERAL_SAMPLES.search(norm)):
            mat, link = current.mention, "paragraph"
            how = link
            mat_span = (current.offset + mat.start, current.offset + mat.end)
        else:
            link = "none"
        written = _written(paper, *mat_span) if mat_span else None
        query = None
        if prop == "Tc" and link not in _NO_SAMPLE_LINKS:
            query = _query(paper, norm, s0, q, keyword, qualifier, len(tcs), context)
            if mat is not None:
                rule = _candidate(paper, mat, s0, context.sentence, "sentence")
                if link == "paragraph" and current is not None:
                    rule = _candidate(paper, mat, current.offset, current.sentence, "paragraph")
                query = dataclasses.replace(query, rule=rule, rule_link=how)
        record = PropertyRecord(
            material=written,
            property=prop,
            value=q.value,
            unit=q.unit,
            value_normalised=q.value_normalised,
            unit_normalised=q.unit_normalised,
            page=paper.page_of(s0 + q.start) + 1,
            sentence=sentence,
            start=s0 + q.start,
            end=s0 + q.end,
            text=q.text,
            low=q.low,
            high=q.high,
            uncertainty=q.uncertainty,
            modifier=q.modifier,
            conditions=conditions[index],
            qualifier=qualifier,
            material_formula=_material_formula(mat) if mat is not None else "",
            material_kind=mat.kind if mat is not None else "",
            material_span=mat_span,
            link=link,
            section=section,
        )
        out.append((record, query))
        if mat is not None and link in ("for", "subject"):
            for other in links.coordinated(norm, mat, value, samples):
                span = (s0 + other.start, s0 + other.end)
                out.append(
                    (
                        dataclasses.replace(
                            record,
                            material=_written(paper, *span),
                            material_formula=_material_formula(other),
                            material_kind=other.kind,
                            material_span=span,
                        ),
                        None,
                    )
                )
    return out


def _query(paper, norm, s0, q, keyword, qualifier, n_values, context: _Context) -> LinkQuery:
    """A Tc value's candidates: its sentence's samples, then the paragraph's earlier ones
    (the latest of each material)."""
    candidates = list(context.samples)
    seen = {c.key for c in candidates}
    for c in reversed(context.history):
        if c.key not in seen:
            seen.add(c.key)
            candidates.append(c)
    cur = context.current
    current = (
        _candidate(paper, cur.mention, cur.offset, cur.sentence, "paragraph")
        if cur is not None
        else None
    )
    return LinkQuery(
        value=(s0 + q.start, s0 + q.end),
        offset=s0,
        sentence=context.sentence,
        text=norm,
        keyword=keyword,
        qualifier=qualifier,
        modifier=q.modifier,
        uncertain=q.uncertainty is not None,
        section=context.section,
        n_values=n_values,
        rule=None,
        rule_link="",
        current=current,
        candidates=tuple(candidates),
    )


def _synthesis(paper, sentence, s0, mats, qs, last_material) -> list[SynthesisStep]:
    method = METHODS.search(sentence)
    if not method:
        return []
    temps = [q for q in qs if q.dimension == "temperature" and q.value_normalised > 320]
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


@dataclass(frozen=True)
class ExtractedPaper:
    """A PDF read and extracted: the parsed text and layout, and what was found in it."""

    paper: Paper
    extraction: Extraction


def extract_pdf(
    path: Path,
    *,
    ner: bool = False,
    linker: str = "rules",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ExtractedPaper:
    """Parse then extract, with one progress bar (the tagger, when on, takes most of the time)."""
    from inference.literature.pdf import parse_pdf

    split = 0.3 if ner else 0.8  # share of the bar for parsing
    paper = parse_pdf(
        path,
        progress=lambda fraction, message="": progress(split * fraction, message),
        cancel=cancel,
    )
    result = extract(
        paper,
        ner=ner,
        linker=linker,
        progress=lambda fraction, message="": progress(split + (1 - split) * fraction, message),
        cancel=cancel,
    )
    return ExtractedPaper(paper, result)
