"""Literature extraction: precision/recall against gold data, and pages per second.

    .venv/bin/python benchmarks/literature_extraction.py [--shared ../shared/data/papers]
        [--baseline REF] [--details] [--ner] [--learned]

Tc values are linked by the syntax rules, as `matlens extract` does by default; `--learned`
scores the opt-in learned linker instead (`resources/models/tc_linker.json`, trained by
`benchmarks/train_tc_linker.py`).

`--baseline REF` runs the code of git revision REF on the same papers in the same run (a copy
of its `inference/` package in a temporary folder, in a second process running at the same
time as ours, one thread each) and prints its scores and speed next to ours; speed is reported
as a ratio because the machine is shared.

SuperMat parts:
- "old 4": supermat/ (4 papers; earlier rules were written looking at them);
- "tune" and "report": supermat_dev/ (69 papers) split ONCE, before any result on it was
  looked at, by `split_supermat_dev` below (seeded shuffle, 46 tune / 23 report). Rules are
  tuned, and errors listed (`--details`), on the tuning part only.

Matching rules (stated with the numbers):
- Materials: per paper, the distinct texts of the gold <rs type="material"> spans against the
  distinct texts of the material mentions we extract as samples (the formula, abbreviation or
  name as written in the PDF; references, precursors, apparatus, substrates and structural
  units excluded). A mention is right, and a gold span found, when the mention occurs in the
  gold span with spaces ignored ("EuFBiS2" occurs in "Polycrystalline samples of EuFBiS 2";
  "PCCO" in "PCCO films") and not as a piece of a longer formula ("CuO4" does not occur in
  "La 2−x Sr x CuO 4", "LaFeAsO" not in "LaFeAsO 1−x F x"); a bracket naming the formula
  is not a piece of it ("YBa2Cu3O7−δ" occurs in "YBa 2 Cu 3 O 7−δ (YBCO)", "(OH) 2" is a
  piece), nor is a formula next to a word ("Cu-substituted" occurs in "Cu-substituted
  BaFe 2 As 2 single crystals"). Gold spans with no formula in
  them ("x = 0.20", "F") count in recall; their number is printed.
- Tc values: per paper, the set of numbers in gold <rs type="tcValue"> strings against the
  numbers of our Tc records (both ends of a range).
- Links: per paper, the gold links (a tcValue whose `corresp` names a material) against our
  (material as written, Tc number) pairs; a pair matches a gold link when the numbers are
  equal and the material occurs in one of the link's spans by the rule for materials above.
  Each gold link is counted once: spans written alike but for spaces are one material
  ("Ag 5 Pb 2 O 6", "Ag5Pb2O6"); a tcValue joined to a formula and to spans with no formula
  (its doping level or descriptor: "BaPb 1-x Bi x O 3" and "x ~ 0.25") is one link, named by
  any of them; and where the gold text defines an abbreviation ("YBa 2 Cu 3 O 7-δ (YBCO)")
  the short and the long form name the same material in that paper. Our pairs are likewise
  one per material as written (spaces ignored) and number, and an abbreviation or name also
  goes by the formula our record gives for it ("Ru-1212" = RuSr2GdCu2O8). The stricter rule
  used before (distinct (gold span, number) pairs, our material only as written) is printed
  too ("links, strict rule"). Each part's links F1 is also given as a 95% interval over its
  papers (the part's papers drawn again with replacement, 2000 times, seed 0), with the gold
  links of its largest paper: a part's links are not independent of one another, and one
  review can hold 40% of them.
- grobid-quantities: numbers inside gold <measure> elements that carry a unit, against our
  quantities found in the same paragraphs (number match within 1e-6).
- MSPT (an independent check of the sample/precursor roles): formulas we find inside gold
  Recipe_Target and Recipe_Precursor materials, and the role we give them.
- SOFC-Exp (test split, rules, and with --ner the learned tagger and rules + tagger; sentences
  flagged as describing an experiment, the only annotated ones): gold MATERIAL and VALUE
  spans against ours, per sentence, counted as a match when the spans overlap.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# MATLENS_BENCH_CODE: another checkout's root whose `inference` is measured (see --baseline)
sys.path.insert(0, os.environ.get("MATLENS_BENCH_CODE") or str(REPO))

from inference.literature.extract import extract  # noqa: E402
from inference.literature.materials import find_materials  # noqa: E402
from inference.literature.pdf import parse_pdf  # noqa: E402
from inference.literature.quantities import find_quantities  # noqa: E402
from inference.literature.sentences import split_sentences  # noqa: E402

TEI = "{http://www.tei-c.org/ns/1.0}"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

# supermat_dev (69 papers) is split ONCE, before any result on it was looked at: the sorted
# file stems are shuffled with random.Random(20) and the first 46 (2/3) form the tuning part,
# the other 23 the report part. Rules and the tagger are tuned on the tuning part only; errors
# are only ever listed for the tuning part.
SPLIT_SEED = 20
N_TUNE = 46
PARTS = ("tune", "report", "old 4")


def split_supermat_dev(stems: list[str]) -> tuple[list[str], list[str]]:
    """(tune, report) stems of supermat_dev by the fixed rule above."""
    order = sorted(stems)
    random.Random(SPLIT_SEED).shuffle(order)
    return sorted(order[:N_TUNE]), sorted(order[N_TUNE:])


def supermat_papers(root: Path) -> list[tuple[str, Path, Path]]:
    """(part, pdf, gold tei) for every SuperMat paper."""
    out = []
    for folder, parts in (("supermat", None), ("supermat_dev", True)):
        pdfs = sorted((root / folder / "pdf").glob("*.pdf"))
        tune, _ = split_supermat_dev([p.stem for p in pdfs]) if parts else ([], [])
        for pdf in pdfs:
            part = "old 4" if not parts else ("tune" if pdf.stem in tune else "report")
            tei = root / folder / "gold_tei" / f"{pdf.stem}.superconductors.tei.xml"
            out.append((part, pdf, tei))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


_PIECE = re.compile(r"^(?:[A-Z][a-z]?|\d+(?:\.\d+)?|[xyzδ]|[−\-+]|[()])+$")
_DASHES = str.maketrans(
    {"−": "-", "–": "-", "‐": "-", "\u2009": " ", "\u00a0": " ", "•": "·", "⋅": "·", "∙": "·"}
    | {chr(0x2080 + d): str(d) for d in range(10)}  # subscript digits: "BaFe₂As₂"
)


def _norm(text: str) -> str:
    return " ".join(text.translate(_DASHES).split())


def _piece(token: str) -> bool:
    """A token that continues a formula split by spaces ("2", "1-x", "Sr"), not "(x" (a
    bracket that sets a variable: "(x = 0.1)") or "of"."""
    return bool(token) and bool(_PIECE.match(token)) and not re.match(r"\([\dxyzδ]", token)


def _named_after(after: str) -> bool:
    """A bracket after a formula that names it, not a group of it: " (YBCO) system",
    " (Bi-2212)" (a group such as "(OH) 2" is followed by its subscript)."""
    tokens = after.split()
    return bool(re.fullmatch(r"\([^()\s]+\)[,.;:]?", tokens[0])) and not (
        len(tokens) > 1 and re.fullmatch(r"[\dxyzδ.−\-+]+", tokens[1])
    )


def _defines(after: str) -> bool:
    """A bracket after a formula that defines its placeholders: " (A = K, Rb, Cs)"."""
    return bool(re.match(r"\s*\(\s*(?:[A-Z][a-z]?|RE|Ln)\s*[=:]", after))


def occurs(mention: str, gold: str) -> bool:
    """Whether a mention occurs in a gold span, spaces ignored, not as part of a longer formula."""
    m = "".join(_norm(mention).split())
    g = _norm(gold)
    if not m:
        return False
    keep = [i for i, ch in enumerate(g) if ch != " "]
    squashed = "".join(g[i] for i in keep)
    pos = squashed.find(m)
    while pos >= 0:
        a, b = keep[pos], keep[pos + len(m) - 1] + 1
        before, after = g[:a], g[b:]
        ok_before = not before or (
            (not _piece(before.split()[-1]) or m[0].islower())
            if before[-1] == " "
            else not (before[-1].isalnum() or before[-1] == ")")
        )
        ok_after = not after or (
            not _piece(after.split()[0])
            or _defines(after)
            or _named_after(after)
            or bool(re.search(r"[a-z]{2}$", m))  # a word ends it: "Cu-substituted BaFe 2 As 2"
            if after[0] == " "
            else not after[0].isalnum()
        )
        if ok_before and ok_after:
            return True
        pos = squashed.find(m, pos + 1)
    return False


def _numbers(text: str) -> set[float]:
    return {round(float(n), 2) for n in _NUMBER.findall(text)}


def gold_supermat(tei: Path) -> dict:
    """Gold material span texts, Tc numbers and (material span, Tc number) links of a paper."""
    root = ET.parse(tei).getroot()
    ids: dict[str, ET.Element] = {}
    spans = list(root.iter(f"{TEI}rs"))
    for rs in spans:
        xml_id = rs.get("{http://www.w3.org/XML/1998/namespace}id")
        if xml_id:
            ids[xml_id] = rs
    materials: set[str] = set()
    tcs: set[float] = set()
    links: set[tuple[str, float]] = set()
    joined: list[tuple[float, list[str]]] = []  # (Tc number, the material spans it is joined to)
    for rs in spans:
        text = _norm("".join(rs.itertext()))
        if rs.get("type") == "material":
            materials.add(text)
        elif rs.get("type") == "tcValue":
            numbers = _numbers(text)
            tcs |= numbers
            mats = []
            for ref in (rs.get("corresp") or "").split(","):
                target = ids.get(ref.strip().lstrip("#"))
                if target is not None and target.get("type") == "material":
                    mats.append(_norm("".join(target.itertext())))
            links |= {(mat, n) for mat in mats for n in numbers}
            joined += [(n, mats) for n in numbers if mats]
    without = sum(1 for m in materials if not find_materials(collapse(m)))
    return {
        "materials": materials,
        "tc": tcs,
        "links": links,
        "link_groups": link_groups(joined, materials),
        "without_formula": without,
    }


def _key(text: str) -> str:
    return "".join(_norm(text).split())


# "YBa 2 Cu 3 O 7−δ (YBCO)", 'La 2-x Sr x CuO 4 ("LSCO")', "y = 0.06 sample (S1)"
_DEFINES_SHORT = re.compile(
    r"^(?P<long>.*\S)\s*\(\s*[\"“]?(?P<short>[^()\s\"“”]{2,15})[\"”]?\s*\)$"
)


@dataclass(frozen=True)
class GoldLink:
    """One gold material–Tc link: a Tc number and the spans naming its one material."""

    number: float
    spans: frozenset[str]


def link_groups(joined: list[tuple[float, list[str]]], materials: set[str]) -> set[GoldLink]:
    """The paper's gold links, each counted once.

    - Spans written alike but for spaces are one material ("Ag 5 Pb 2 O 6", "Ag5Pb2O6").
    - A tcValue joined to a formula and to spans with no formula in them (its doping level or
      descriptor: "BaPb 1-x Bi x O 3" and "x ~ 0.25") is one link, named by any of them; one
      joined to several formulas is one link per formula.
    - Where the gold text defines an abbreviation, "YBa 2 Cu 3 O 7-δ (YBCO)", the short and
      the long form name the same material in that paper.
    """
    aliases: dict[str, set[str]] = {}
    for m in materials:
        d = _DEFINES_SHORT.match(m)
        if d and re.search(r"[A-Z]", d["short"]):
            long, short = d["long"], d["short"]
            aliases.setdefault(_key(short), set()).add(long)
            aliases.setdefault(_key(long), set()).add(short)
    out: dict[tuple[float, frozenset[str]], GoldLink] = {}
    for n, mats in joined:
        unique = list({_key(m): m for m in mats}.values())
        with_formula = [m for m in unique if find_materials(collapse(m))]
        others = [m for m in unique if m not in with_formula]
        groups = [[m, *others] for m in with_formula] if with_formula else [others]
        for group in groups:
            names = {_key(m): m for m in group}
            for m in group:
                names |= {_key(a): a for a in aliases.get(_key(m), ())}
            out.setdefault((n, frozenset(names)), GoldLink(n, frozenset(names.values())))
    return set(out.values())


def link_found(names: set[str], number: float, link: GoldLink) -> bool:
    """Whether an extracted link (the names of its material, a Tc number) is this gold link."""
    return number == link.number and any(occurs(m, g) for m in names for g in link.spans)


def collapse(text: str) -> str:
    """Join formula pieces split by spaces in TEI text ("LaFeAsO 1−x H x" → LaFeAsO1−xHx)."""
    out: list[str] = []
    for token in text.split():
        if re.match(r"\([\dxyzδ]", token):
            out.append(token)
            continue
        if out and _PIECE.match(out[-1]) and _PIECE.match(token):
            joins = token[0] in "0123456789xyzδ−-+)" or out[-1][-1] in "0123456789xyzδ)−-"
            if joins:
                out[-1] += token
                continue
        out.append(token)
    return " ".join(out)


def predict_paper(pdf: Path, ner: bool = False, learned: bool = False) -> dict:
    """What the code on sys.path extracts from a paper, reduced to what is scored.

    Uses only what every version of `extract` gives (mention spans and roles; Tc records with
    their numbers and the span of their material), so an older revision is scored alike.
    """
    started = time.perf_counter()
    paper = parse_pdf(pdf)
    # `linker` exists since the learned linker; older revisions are run without it
    result = extract(paper, ner=ner, linker="learned") if learned else extract(paper, ner=ner)
    seconds = time.perf_counter() - started
    return {"pages": paper.n_pages, "seconds": seconds, **scored_output(paper, result)}


def scored_output(paper, result) -> dict:
    """The parts of an extraction that are scored: sample mentions, Tc numbers, links."""
    text = paper.text

    def written(start: int, end: int) -> str:
        return " ".join(text[start:end].split())

    materials = {written(m.start, m.end) for m in result.materials if m.role == "sample"}
    tc: set[float] = set()
    links: set[tuple[str, float, str]] = set()
    for r in result.records:
        if r.property != "Tc":
            continue
        numbers = {round(r.low, 2), round(r.high, 2)} if r.low is not None else {round(r.value, 2)}
        tc |= numbers
        span = r.material_span
        material = written(*span) if span and span[1] > span[0] else (r.material or "")
        # an abbreviation or a name also stands for the formula the record gives for it
        kind = getattr(r, "material_kind", "")
        formula = getattr(r, "material_formula", "") if kind in ("abbreviation", "name") else ""
        if material:
            links |= {(material, n, formula) for n in numbers}
    return {
        "materials": sorted(materials - {""}),
        "tc": sorted(tc),
        "links": sorted(links),
    }


def predicted_links(links: list) -> dict[tuple[str, float], set[str]]:
    """Our links per paper, one per (material as written, spaces ignored; Tc number), each
    with the names its material goes by (as written, and the formula of an abbreviation)."""
    out: dict[tuple[str, float], set[str]] = {}
    for material, n, *formula in links:
        names = out.setdefault((_key(material), n), set())
        names |= {material, *(f for f in formula if f)}
    return out


def _predict_command(pdfs: list[Path], code: Path | None, out: Path, ner: bool, learned: bool):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if code is not None:
        env["MATLENS_BENCH_CODE"] = str(code)
    argv = [sys.executable, __file__, "--predict", str(out), *map(str, pdfs)]
    if ner:
        argv.append("--ner")
    if learned:
        argv.append("--learned")
    return subprocess.Popen(argv, env=env)


def predict_all(
    pdfs: list[Path], codes: list[Path | None], ner: bool = False, learned: bool = False
) -> list[dict[str, dict]]:
    """`predict_paper` for every PDF, one child process per code tree (None: this checkout),
    all running at the same time so that a shared machine's load falls on each alike."""
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"predictions{i}.json" for i in range(len(codes))]
        children = [
            _predict_command(pdfs, c, o, ner, learned and c is None)
            for c, o in zip(codes, outs, strict=True)
        ]
        for child in children:
            if child.wait() != 0:
                raise RuntimeError("a prediction child failed")
        return [json.loads(o.read_text(encoding="utf-8")) for o in outs]


def score_supermat(papers, predictions: dict[str, dict]) -> dict:
    """Counts per part: materials/tc/links → [tp (precision side), predicted, tp (recall side), gold]."""
    keys = ("materials", "tc", "links", "links_strict")
    counts = {part: {k: [0, 0, 0, 0] for k in keys} for part in PARTS}
    extra = {part: {"without_formula": 0, "pages": 0, "seconds": 0.0} for part in PARTS}
    paper_links: dict[str, list[tuple[int, int, int, int]]] = {part: [] for part in PARTS}
    rows = []
    for part, pdf, tei in papers:
        gold = gold_supermat(tei)
        pred = predictions[str(pdf)]
        p_m, g_m = set(pred["materials"]), gold["materials"]
        right_m = {m for m in p_m if any(occurs(m, g) for g in g_m)}
        found_m = {g for g in g_m if any(occurs(m, g) for m in p_m)}
        p_t, g_t = set(pred["tc"]), gold["tc"]
        p_l = predicted_links(pred["links"])
        g_l = gold["link_groups"]
        right_l = {k for k, names in p_l.items() if any(link_found(names, k[1], g) for g in g_l)}
        found_l = {g for g in g_l if any(link_found(names, k[1], g) for k, names in p_l.items())}
        # the stricter rule used before: distinct (gold span, number) pairs, text as written
        s_l = {(m, n) for m, n, *_ in pred["links"]}
        s_g = gold["links"]
        strict = (
            sum(1 for m, n in s_l if any(n == gn and occurs(m, g) for g, gn in s_g)),
            len(s_l),
            sum(1 for g, gn in s_g if any(n == gn and occurs(m, g) for m, n in s_l)),
            len(s_g),
        )
        for key, values in (
            ("materials", (len(right_m), len(p_m), len(found_m), len(g_m))),
            ("tc", (len(p_t & g_t), len(p_t), len(p_t & g_t), len(g_t))),
            ("links", (len(right_l), len(p_l), len(found_l), len(g_l))),
            ("links_strict", strict),
        ):
            acc = counts[part][key]
            for i, v in enumerate(values):
                acc[i] += v
        paper_links[part].append((len(right_l), len(p_l), len(found_l), len(g_l)))
        extra[part]["without_formula"] += gold["without_formula"]
        extra[part]["pages"] += pred["pages"]
        extra[part]["seconds"] += pred["seconds"]
        rows.append(
            (
                part,
                pdf.stem,
                sorted(g_m - found_m),
                sorted(p_m - right_m),
                sorted(g_t - p_t),
                sorted(p_t - g_t),
                sorted((sorted(g.spans), g.number) for g in g_l - found_l),
                sorted(k for k in p_l if k not in right_l),
            )
        )
    return {"counts": counts, "extra": extra, "rows": rows, "paper_links": paper_links}


def paper_interval(
    papers: list[tuple[int, int, int, int]], draws: int = 2000
) -> tuple[float, float]:
    """95% interval of a part's link F1 when its papers are drawn again with replacement: the
    papers, not the links, are the independent units (one review can hold 40% of a part's links)."""
    rng = random.Random(0)
    scores = sorted(
        _scores([sum(c) for c in zip(*(rng.choice(papers) for _ in papers), strict=True)])[2]
        for _ in range(draws)
    )
    return scores[int(0.025 * draws)], scores[int(0.975 * draws) - 1]


def _scores(acc: list) -> tuple[float, float, float]:
    tp_p, n_pred, tp_r, n_gold = acc
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_r / n_gold if n_gold else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def grobid_quantities(root: Path) -> tuple[int, int, int]:
    tp = n_pred = n_gold = 0
    for tei in sorted((root / "grobid_quantities" / "gold_tei").glob("*.xml")):
        for p in ET.parse(tei).getroot().iter(f"{TEI}p"):
            gold: list[float] = []
            for measure in p.iter(f"{TEI}measure"):
                if measure.get("type") not in ("value", "interval", "range", "list"):
                    continue
                if not any(
                    m.get("unit") for m in measure.iter(f"{TEI}measure") if m is not measure
                ):
                    continue
                for num in measure.iter(f"{TEI}num"):
                    text = "".join(num.itertext()).strip().lstrip("~")
                    try:
                        gold.append(float(text))
                    except ValueError:
                        continue
            text = " ".join("".join(p.itertext()).split())
            pred: list[float] = []
            for q in find_quantities(text):
                if q.low is not None:
                    pred += [q.low, q.high]
                else:
                    pred.append(q.value)
            n_gold += len(gold)
            n_pred += len(pred)
            remaining = list(pred)
            for g in gold:
                hit = next((x for x in remaining if abs(x - g) < 1e-6), None)
                if hit is not None:
                    remaining.remove(hit)
                    tp += 1
    return tp, n_pred, n_gold


def _gold_spans(path: Path, label: str) -> dict[int, list[tuple[int, int]]]:
    spans: dict[int, list[list[int]]] = {}
    current: list[int] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) < 5:
            continue
        sid, begin, end, tag = int(cols[0]), int(cols[2]), int(cols[3]), cols[4]
        if tag == f"B-{label}":
            current = [begin, end]
            spans.setdefault(sid, []).append(current)
        elif tag == f"I-{label}" and current is not None:
            current[1] = end
        else:
            current = None
    return {k: [(a, b) for a, b in v] for k, v in spans.items()}


def sofc(root: Path, tagger=None) -> dict[str, list[int]]:
    """Span overlap scores on SOFC-Exp test; with a tagger also NER alone and rules + NER."""
    meta = (root / "sofc_exp" / "SOFC-Exp-Metadata.csv").read_text(encoding="utf-8").splitlines()
    header = meta[0].split("\t")
    rows = [row.split("\t") for row in meta[1:]]
    test = [
        r[header.index("name")]
        for r in rows
        if len(r) == len(header) and r[header.index("set")] == "test"
    ]
    variants = ["rules"] + (["ner", "rules+ner"] if tagger else [])
    out = {f"{v} {label}": [0, 0, 0, 0] for v in variants for label in ("MATERIAL", "VALUE")}
    for name in test:
        text = root / "sofc_exp" / "texts" / f"{name}.txt"
        ann = root / "sofc_exp" / "annotations" / "entity_types_and_slots" / f"{name}.csv"
        if not text.exists() or not ann.exists():
            continue
        sentences = text.read_text(encoding="utf-8").split("\n")
        gold = {label: _gold_spans(ann, label) for label in ("MATERIAL", "VALUE")}
        flags = root / "sofc_exp" / "annotations" / "sentences" / f"{name}.csv"
        annotated = {
            int(row.split("\t")[0])
            for row in flags.read_text(encoding="utf-8").splitlines()
            if row.count("\t") >= 1 and row.split("\t")[1] == "1"
        }
        ids = [sid for sid in range(1, len(sentences) + 1) if sid in annotated]
        tagged = tagger.tag([sentences[sid - 1] for sid in ids]) if tagger else [[]] * len(ids)
        for sid, spans in zip(ids, tagged, strict=True):
            sentence = sentences[sid - 1]
            rules = {
                "MATERIAL": [(m.start, m.end) for m in find_materials(sentence)],
                "VALUE": [(q.start, q.end) for q in find_quantities(sentence)],
            }
            ner = {
                "MATERIAL": [(s.start, s.end) for s in spans if s.label == "MAT"],
                "VALUE": [(s.start, s.end) for s in spans if s.label == "VAL"],
            }
            for label in ("MATERIAL", "VALUE"):
                union = rules[label] + [
                    a
                    for a in ner[label]
                    if not any(a[0] < b[1] and b[0] < a[1] for b in rules[label])
                ]
                preds = {"rules": rules[label], "ner": ner[label], "rules+ner": union}
                g = gold[label].get(sid, [])
                for v in variants:
                    acc, p = out[f"{v} {label}"], preds[v]
                    acc[0] += sum(1 for a in p if any(a[0] < b[1] and b[0] < a[1] for b in g))
                    acc[1] += len(p)
                    acc[2] += sum(1 for b in g if any(a[0] < b[1] and b[0] < a[1] for a in p))
                    acc[3] += len(g)
    return out


def mspt_roles(root: Path, split: str = "test") -> dict[str, list[int]]:
    """How our formula roles meet MSPT's: gold recipe targets and precursors → our role counts.

    `split` is one of the corpus's NER split files ("test") or "all" (the precursor cues were
    written looking at errors over all files). A formula counts for the gold entity it overlaps.
    """
    base = root / "mspt_synthesis_brat"
    if split == "all":
        names = sorted(p.stem for p in (base / "data").glob("*.ann"))
    else:
        names = (base / f"ner-{split}-fnames.txt").read_text(encoding="utf-8").split()
    out = {g: [0, 0] for g in ("Recipe_Target", "Recipe_Precursor")}  # [as sample, as precursor]
    for name in names:
        text = (base / "data" / f"{name}.txt").read_text(encoding="utf-8")
        spans: dict[str, tuple[int, int]] = {}
        roles: dict[str, str] = {}
        for line in (base / "data" / f"{name}.ann").read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if cols[0].startswith("T") and cols[1].startswith("Material "):
                pieces = cols[1].replace(";", " ").split()
                spans[cols[0]] = (int(pieces[1]), int(pieces[-1]))
            elif cols[0].startswith("E"):
                for arg in cols[1].split()[1:]:
                    role, _, tid = arg.partition(":")
                    roles.setdefault(tid, role)
        for s0, s1 in split_sentences(text):
            for m in find_materials(text[s0:s1]):
                a, b = s0 + m.start, s0 + m.end
                for tid, (g0, g1) in spans.items():
                    if g0 < b and a < g1 and roles.get(tid) in out and m.role != "unit":
                        out[roles[tid]][m.role == "precursor"] += 1
                        break
    return out


def _print_supermat(label: str, scored: dict, reference: dict | None) -> None:
    names = {
        "materials": "materials",
        "tc": "Tc values",
        "links": "material-Tc links",
        "links_strict": "links, strict rule",
    }
    for part in PARTS:
        for key, name in names.items():
            acc = scored["counts"][part][key]
            p, r, f = _scores(acc)
            line = (
                f"SuperMat {part:6s} {name:17s} P {p:.2f}  R {r:.2f}  F1 {f:.2f}  "
                f"(right {acc[0]}/{acc[1]} predicted, found {acc[2]}/{acc[3]} gold)"
            )
            if reference is not None:
                bp, br, bf = _scores(reference["counts"][part][key])
                line += f"   | baseline P {bp:.2f}  R {br:.2f}  F1 {bf:.2f}"
            print(f"{label}{line}")
        papers = scored["paper_links"][part]
        if papers:
            low, high = paper_interval(papers)
            print(
                f"{label}SuperMat {part:6s} links F1 95% interval over papers (2000 redraws of the "
                f"part's {len(papers)} papers): {low:.2f}-{high:.2f}; the paper with the most gold "
                f"links holds {max(c[3] for c in papers)} of {sum(c[3] for c in papers)}"
            )
        print(
            f"{label}SuperMat {part:6s} gold material spans with no formula in them (in recall): "
            f"{scored['extra'][part]['without_formula']}"
        )


def _speed(scored: dict) -> tuple[int, float]:
    pages = sum(scored["extra"][p]["pages"] for p in PARTS)
    seconds = sum(scored["extra"][p]["seconds"] for p in PARTS)
    return pages, seconds


def _baseline_tree(ref: str, tmp: Path) -> Path:
    """A copy of `inference/` as it was at git revision `ref`."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "inference"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    return tmp


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--details", action="store_true", help="list errors (tuning part only)")
    parser.add_argument("--ner", action="store_true", help="also score the learned tagger")
    parser.add_argument("--baseline", metavar="REF", help="also run the code of git revision REF")
    parser.add_argument(
        "--learned", action="store_true", help="link Tc values with the opt-in learned linker"
    )
    parser.add_argument("--predict", nargs="+", help=argparse.SUPPRESS)  # OUT.json PDF...
    args = parser.parse_args()
    if args.predict:  # child process of `predict_all`
        out, *pdfs = args.predict
        find_materials("warm up LaFeAsO1-xHx")  # pymatgen import outside the timing
        result = {pdf: predict_paper(Path(pdf), args.ner, args.learned) for pdf in pdfs}
        Path(out).write_text(json.dumps(result), encoding="utf-8")
        return 0
    root = Path(args.shared)
    if not root.is_dir():
        print(f"shared papers not found: {root}", file=sys.stderr)
        return 2
    papers = supermat_papers(root)
    pdfs = [pdf for _, pdf, _ in papers]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    reference = None
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            trees = [None, _baseline_tree(args.baseline, Path(tmp))]
            mine, theirs = predict_all(pdfs, trees, learned=args.learned)
        reference = score_supermat(papers, theirs)
    else:
        (mine,) = predict_all(pdfs, [None], learned=args.learned)
    ours = score_supermat(papers, mine)
    _print_supermat("", ours, reference)
    pages, seconds = _speed(ours)
    line = f"pipeline speed (parse + extract, {pages} SuperMat pages, 1 process): {pages / seconds:.1f} pages/s"
    if reference is not None:
        b_pages, b_seconds = _speed(reference)
        line += (
            f"; baseline {args.baseline}: {b_pages / b_seconds:.1f} pages/s in the same run; "
            f"ratio ours/baseline {(pages / seconds) / (b_pages / b_seconds):.2f}"
        )
    print(line)
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.details:
        for part, stem, miss_m, extra_m, miss_t, extra_t, miss_l, extra_l in ours["rows"]:
            if part != "tune":
                continue  # errors are looked at on the tuning part only
            print(
                f"  {stem}: missed materials {miss_m}\n      extra materials {extra_m}\n"
                f"      missed Tc {miss_t}; extra Tc {extra_t}\n      missed links {miss_l}\n"
                f"      extra links {extra_l}"
            )
    if args.ner:
        with_ner = score_supermat(papers, predict_all(pdfs, [None], ner=True)[0])
        _print_supermat("with tagger: ", with_ner, None)
        pages, seconds = _speed(with_ner)
        print(f"pipeline speed with the learned tagger: {pages / seconds:.1f} pages/s")
    for split in ("test", "all"):
        for gold, (as_sample, as_precursor) in mspt_roles(root, split).items():
            print(
                f"MSPT {split:4s} {gold:16s}: {as_sample} formulas read as samples, "
                f"{as_precursor} as precursors"
            )
    tp, n_pred, n_gold = grobid_quantities(root)
    p, r, f = _prf(tp, n_pred, n_gold)
    print(
        f"grobid-quantities values   precision {p:.2f}  recall {r:.2f}  F1 {f:.2f}  (tp {tp}, predicted {n_pred}, gold {n_gold})"
    )
    tagger = None
    if args.ner:
        from inference.literature.ner import tagger as load_tagger

        tagger = load_tagger()
    for label, (tp, n_pred, hit, n_gold) in sofc(root, tagger).items():
        p = tp / n_pred if n_pred else 0.0
        r = hit / n_gold if n_gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        print(
            f"SOFC-Exp test {label:18s} precision {p:.2f}  recall {r:.2f}  F1 {f:.2f}  "
            f"(predicted {n_pred}, gold {n_gold})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
