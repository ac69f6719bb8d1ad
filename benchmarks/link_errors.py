"""Every missed and every extra material–Tc link of the SuperMat TUNING part, classified.

    .venv/bin/python benchmarks/link_errors.py [--shared ../shared/data/papers] [--half 0|1]
        [--list] [--json OUT.json]

Errors are only ever listed for the tuning part (the split is fixed in
`benchmarks/literature_extraction.py`); the report part is never opened here. `--half` keeps
one of the tuning part's two halves (seeded shuffle, seed 7) that a rule must help both of;
without it both halves' scores are printed too.

A missed gold link is put in the first class that fits:
- "Tc not read": no Tc record of ours has the number;
- "material not extracted": no sample mention of ours occurs in the link's spans;
- "value without material": our records with the number keep no material;
- "same material, other form": our record names the gold material in a form the matching rule
  rejects (same chemical elements, or the gold span contains ours as a piece: the parent
  "LaFeAsO" of "LaFeAsO 1−x F x", the formula of an abbreviation the gold links);
- "wrong material (LINK)": our record names another material, by the rule LINK; split by
  where the gold material is (the value's sentence, its paragraph, elsewhere).
An extra link of ours is put in the first class that fits:
- "value the gold does not tag as Tc";
- "gold Tc left unlinked" (the gold tags the number as a Tc value but links it to nothing);
- "same material, other form" (as above, against a gold link of the number);
- "wrong material (LINK)".
It also prints, per link rule (bracket, for, subject, sentence, respectively, paragraph,
paper), how many of our Tc records' (material, number) pairs are right.
`--list` prints every error with its sentence, our material and link rule, and the gold
link's spans and paragraph context.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from literature_extraction import (  # noqa: E402
    TEI,
    _key,
    _norm,
    _numbers,
    gold_supermat,
    link_found,
    occurs,
    predicted_links,
    scored_output,
    supermat_papers,
)
from pymatgen.core.periodic_table import Element  # noqa: E402

from inference.literature.extract import extract  # noqa: E402
from inference.literature.pdf import parse_pdf  # noqa: E402
from inference.literature.sentences import split_sentences  # noqa: E402

HALF_SEED = 7
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_ELEMENT = re.compile(r"[A-Z][a-z]?")
_SYMBOLS = frozenset(e.symbol for e in Element.__members__.values())


def halves(stems: list[str]) -> tuple[list[str], list[str]]:
    """The tuning part's two halves (seeded shuffle, seed 7)."""
    order = sorted(stems)
    random.Random(HALF_SEED).shuffle(order)
    n = len(order) // 2
    return sorted(order[:n]), sorted(order[n:])


def elements(text: str) -> frozenset[str]:
    return frozenset(e for e in _ELEMENT.findall(text) if e in _SYMBOLS)


@dataclass(frozen=True)
class GoldValue:
    """A gold tcValue: its numbers, the material spans it is linked to, where it sits."""

    numbers: frozenset[float]
    materials: tuple[str, ...]
    sentence: str  # the value's sentence, the value marked {{...}}, materials [...]
    where: str  # where its (first) linked material is: sentence | paragraph | elsewhere | -


def _container_text(elem: ET.Element) -> tuple[str, list[tuple[ET.Element, int, int]]]:
    parts: list[str] = []
    spans: list[tuple[ET.Element, int, int]] = []

    def walk(e: ET.Element) -> None:
        parts.append(e.text or "")
        for child in e:
            start = sum(map(len, parts))
            walk(child)
            if child.tag == f"{TEI}rs":
                spans.append((child, start, sum(map(len, parts))))
            parts.append(child.tail or "")

    walk(elem)
    return "".join(parts), spans


def gold_values(tei: Path) -> list[GoldValue]:
    root = ET.parse(tei).getroot()
    parents = {c: p for p in root.iter() for c in p}
    containers = []
    for e in root.iter():
        if e.tag in (f"{TEI}p", f"{TEI}ab", f"{TEI}title"):
            up, nested = parents.get(e), False
            while up is not None:
                nested |= up.tag in (f"{TEI}p", f"{TEI}ab")
                up = parents.get(up)
            if not nested:
                containers.append(e)
    out = []
    for c in containers:
        text, spans = _container_text(c)
        where_of = {rs.get(_XML_ID): (a, b) for rs, a, b in spans if rs.get("type") == "material"}
        sentences = split_sentences(text)
        for rs, a, b in spans:
            if rs.get("type") != "tcValue":
                continue
            refs = [r.strip().lstrip("#") for r in (rs.get("corresp") or "").split(",") if r]
            ids = {e.get(_XML_ID): e for e in root.iter(f"{TEI}rs") if e.get(_XML_ID)}
            mats = tuple(_norm("".join(ids[r].itertext())) for r in refs if r in ids)
            s0, s1 = next(((x, y) for x, y in sentences if x <= a < y), (0, len(text)))
            where = "-"
            if refs:
                pos = where_of.get(refs[0])
                if pos is None:
                    where = "elsewhere"
                elif s0 <= pos[0] < s1:
                    where = "sentence"
                else:
                    where = "paragraph"
            marks = sorted(
                [(a, "{{"), (b, "}}")]
                + [(x, "[") for r, x, y in spans if r.get("type") == "material"]
                + [(y, "]") for r, x, y in spans if r.get("type") == "material"],
                reverse=True,
            )
            marked = text
            for pos, mark in marks:
                marked = marked[:pos] + mark + marked[pos:]
            # the marked sentence: shift its ends by the marks inserted before them
            shift0 = sum(len(m) for p, m in marks if p < s0)
            shift1 = sum(len(m) for p, m in marks if p <= s1)
            sentence = _norm(marked[s0 + shift0 : s1 + shift1])
            if where == "paragraph":
                sentence = _norm(marked)[:600]
            out.append(
                GoldValue(frozenset(_numbers(_norm("".join(rs.itertext())))), mats, sentence, where)
            )
    return out


def _related(ours: set[str], spans) -> bool:
    """Our names and a gold span name one material in different forms."""
    for g in spans:
        squashed = "".join(_norm(g).split())
        for m in ours:
            mm = "".join(_norm(m).split())
            if mm and mm in squashed:
                return True
            e_m, e_g = elements(m), elements(g)
            if len(e_m) >= 2 and e_m == e_g:
                return True
    return False


def classify(stem: str, gold: dict, values: list[GoldValue], records, pred: dict) -> list[dict]:
    """One row per missed or extra link of a paper."""
    p_l = predicted_links(pred["links"])
    g_l = gold["link_groups"]
    samples = set(pred["materials"])
    rows = []
    tc_records = [r for r in records if r.property == "Tc"]

    def numbers(r) -> set[float]:
        if r.low is not None:
            return {round(r.low, 2), round(r.high, 2)}
        return {round(r.value, 2)}

    def ours_with(n: float) -> list:
        return [r for r in tc_records if n in numbers(r)]

    def describe(r) -> dict:
        return {
            "material": r.material,
            "formula": r.material_formula,
            "kind": r.material_kind,
            "link": r.link,
            "source": r.source,
            "sentence": _norm(r.sentence)[:400],
        }

    for g in g_l:
        if any(link_found(names, k[1], g) for k, names in p_l.items()):
            continue
        ours = ours_with(g.number)
        gv = [v for v in values if g.number in v.numbers and set(v.materials) & set(g.spans)]
        where = gv[0].where if gv else "?"
        if not ours:
            cls = "Tc not read"
        elif not any(occurs(m, s) for m in samples for s in g.spans):
            cls = "material not extracted"
        elif all(r.material is None for r in ours):
            cls = f"value without material (gold material in {where})"
        else:
            names = {r.material for r in ours if r.material} | {
                r.material_formula for r in ours if r.material_formula
            }
            if _related(names, g.spans):
                cls = "same material, other form"
            else:
                links = sorted({r.link for r in ours if r.material})
                cls = f"wrong material ({'/'.join(links)}; gold in {where})"
        rows.append(
            {
                "paper": stem,
                "error": "missed",
                "class": cls,
                "number": g.number,
                "gold_spans": sorted(g.spans),
                "gold_context": [v.sentence for v in gv][:2],
                "ours": [describe(r) for r in ours][:3],
            }
        )
    for key, names in p_l.items():
        n = key[1]
        if any(link_found(names, n, g) for g in g_l):
            continue
        ours = [r for r in ours_with(n) if r.material and _key(r.material) == key[0]]
        gv = [v for v in values if n in v.numbers]
        linked = [g for g in g_l if g.number == n]
        if n not in gold["tc"]:
            cls = "value the gold does not tag as Tc"
        elif not linked:
            cls = "gold Tc left unlinked"
        elif any(_related(names, g.spans) for g in linked):
            cls = "same material, other form"
        else:
            links = sorted({r.link for r in ours})
            where = gv[0].where if gv else "?"
            cls = f"wrong material ({'/'.join(links)}; gold in {where})"
        rows.append(
            {
                "paper": stem,
                "error": "extra",
                "class": cls,
                "number": n,
                "ours": [describe(r) for r in ours][:3],
                "names": sorted(names),
                "gold_spans": sorted({s for g in linked for s in g.spans}),
                "gold_context": [v.sentence for v in gv][:2],
            }
        )
    return rows


def by_rule(records, p_l: dict, g_l, rules: dict[str, list[int]]) -> None:
    """Adds each text Tc record's (material, number) pairs to its link rule's [right, all]."""
    for r in records:
        if r.property != "Tc" or r.source != "text":
            continue
        acc = rules.setdefault(r.link if r.material else f"{r.link} (no material)", [0, 0])
        if not r.material:
            acc[1] += 1
            continue
        numbers = {round(r.low, 2), round(r.high, 2)} if r.low is not None else {round(r.value, 2)}
        for n in numbers:
            names = p_l.get((_key(r.material), n))
            if names is not None:
                acc[0] += any(link_found(names, n, g) for g in g_l)
                acc[1] += 1


def _scores(acc: list[int]) -> str:
    p = acc[0] / acc[1] if acc[1] else 0.0
    r = acc[2] / acc[3] if acc[3] else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return (
        f"P {p:.3f} R {r:.3f} F1 {f:.3f} "
        f"(right {acc[0]}/{acc[1]} predicted, found {acc[2]}/{acc[3]} gold)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--half", type=int, choices=(0, 1), help="one half of the tuning part")
    parser.add_argument("--list", action="store_true", help="print every error")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    papers = [(pdf, tei) for part, pdf, tei in supermat_papers(Path(args.shared)) if part == "tune"]
    first_half = set(halves([pdf.stem for pdf, _ in papers])[0])
    if args.half is not None:
        keep = set(halves([pdf.stem for pdf, _ in papers])[args.half])
        papers = [(pdf, tei) for pdf, tei in papers if pdf.stem in keep]
    rows = []
    counts = [0, 0, 0, 0]  # right predicted, predicted, found gold, gold
    per_half = {0: [0, 0, 0, 0], 1: [0, 0, 0, 0]}
    rules: dict[str, list[int]] = {}  # link rule -> [right, predicted] (record, number) pairs
    for pdf, tei in papers:
        paper = parse_pdf(pdf)
        result = extract(paper)
        pred = scored_output(paper, result)
        gold = gold_supermat(tei)
        p_l, g_l = predicted_links(pred["links"]), gold["link_groups"]
        paper_counts = (
            sum(1 for k, v in p_l.items() if any(link_found(v, k[1], g) for g in g_l)),
            len(p_l),
            sum(1 for g in g_l if any(link_found(v, k[1], g) for k, v in p_l.items())),
            len(g_l),
        )
        half = per_half[0 if pdf.stem in first_half else 1]
        for i, v in enumerate(paper_counts):
            counts[i] += v
            half[i] += v
        rows += classify(pdf.stem, gold, gold_values(tei), result.records, pred)
        by_rule(result.records, p_l, g_l, rules)
    label = "tuning part" + (f" half {args.half}" if args.half is not None else "")
    print(f"{label}: {len(papers)} papers, links {_scores(counts)}")
    if args.half is None:  # a rule must help both halves
        for h, acc in per_half.items():
            print(f"  half {h}: links {_scores(acc)}")
    for error in ("missed", "extra"):
        coarse = Counter(row["class"].split(" (")[0] for row in rows if row["error"] == error)
        table = Counter(row["class"] for row in rows if row["error"] == error)
        print(f"{error}: {sum(table.values())}")
        for cls, n in coarse.most_common():
            print(f"  {n:4d}  {cls}")
            for fine, m in table.most_common():
                if fine != cls and fine.split(" (")[0] == cls:
                    print(f"          {m:4d}  {fine}")
    print("our Tc records by link rule (right/predicted, one per record and number):")
    for rule, (right, n) in sorted(rules.items(), key=lambda x: -x[1][1]):
        print(f"  {rule:12s} {right:4d}/{n:<4d} {right / n if n else 0.0:.2f}")
    if args.list:
        for row in sorted(rows, key=lambda x: (x["error"], x["class"], x["paper"])):
            print(json.dumps(row, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
