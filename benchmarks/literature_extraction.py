"""Literature extraction: precision/recall against gold data and pages per second.

    .venv/bin/python benchmarks/literature_extraction.py [--shared ../shared/data/papers]

Matching rules (stated with the numbers):
- SuperMat materials: per paper, the set of formulas our finder reads in the gold <rs
  type="material"> strings (spaces inside formulas removed: "Cu x Bi 2 Se 3" → CuxBi2Se3;
  a bracketed number after a formula, "LaFeAsO1−xHx (0.05 ≤ x ≤ 0.5)", is not glued to it —
  the old scorer did, inventing a gold "LaFeAsO1"; its figure is printed too) against the set
  of formulas we extract from the PDF as samples (references excluded; precursors, apparatus
  and structural units such as "BiS2 layers" are not samples — SuperMat does not annotate
  them). Gold strings with no compound formula (e.g. "x = 0.20", "F", "H") are counted and
  reported separately. Papers are split in two halves: the rules were tuned on the dev half.
- SuperMat Tc: per paper, the set of numbers in gold <rs type="tcValue"> strings against the
  numbers of our Tc records (both ends of a range).
- grobid-quantities: numbers inside gold <measure> elements that carry a unit, against our
  quantities found in the same paragraphs (number match within 1e-6).
- MSPT (an independent check of the sample/precursor roles): formulas we find inside gold
  Recipe_Target and Recipe_Precursor materials, and the role we give them.
- SOFC-Exp (test split, rules, and with --ner the learned tagger and rules + tagger; sentences flagged as describing an experiment, the only annotated
  ones): gold MATERIAL and VALUE spans against ours, per sentence, counted as a
  match when the spans overlap.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.literature.extract import extract  # noqa: E402
from inference.literature.materials import find_materials  # noqa: E402
from inference.literature.pdf import parse_pdf  # noqa: E402
from inference.literature.quantities import find_quantities  # noqa: E402
from inference.literature.sentences import split_sentences  # noqa: E402

TEI = "{http://www.tei-c.org/ns/1.0}"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


_PIECE = re.compile(r"^(?:[A-Z][a-z]?|\d+(?:\.\d+)?|[xyzδ]|[−\-+]|[()])+$")


def collapse(text: str, old: bool = False) -> str:
    """Join formula pieces split by spaces in TEI text ("LaFeAsO 1−x H x" → LaFeAsO1−xHx).

    A token opening a bracket with a number or variable ("(0.05", "(x =") is a condition, not a formula group
    (groups open with an element: "(SO 4 )"); `old` keeps the previous scorer's behaviour.
    """
    out: list[str] = []
    for token in text.split():
        if not old and re.match(r"\([\dxyzδ]", token):
            out.append(token)
            continue
        if out and _PIECE.match(out[-1]) and _PIECE.match(token):
            joins = token[0] in "0123456789xyzδ−-+)" or out[-1][-1] in "0123456789xyzδ)−-"
            if joins:
                out[-1] += token
                continue
        out.append(token)
    return " ".join(out)


# The rules were tuned looking at the dev half only; the test half is reported apart.
DEV = ("1609.04957-CC", "Suzuki_etal_2015-CC")

# supermat_dev (69 papers) is split ONCE, before any result on it was looked at: the sorted
# file stems are shuffled with random.Random(20) and the first 46 (2/3) form the tuning part,
# the other 23 the report part. Rules and the tagger are tuned on the tuning part only; errors
# are only ever listed for the tuning part.
SPLIT_SEED = 20
N_TUNE = 46


def split_supermat_dev(stems: list[str]) -> tuple[list[str], list[str]]:
    """(tune, report) stems of supermat_dev by the fixed rule above."""
    import random

    order = sorted(stems)
    random.Random(SPLIT_SEED).shuffle(order)
    return sorted(order[:N_TUNE]), sorted(order[N_TUNE:])


def gold_supermat(tei: Path, old: bool = False) -> tuple[set[str], int, set[float]]:
    root = ET.parse(tei).getroot()
    formulas: set[str] = set()
    without = 0
    tcs: set[float] = set()
    for rs in root.iter(f"{TEI}rs"):
        text = "".join(rs.itertext())
        if rs.get("type") == "material":
            found = {m.formula for m in find_materials(collapse(text, old)) if not m.name}
            formulas |= found
            without += not found
        elif rs.get("type") == "tcValue":
            tcs |= {round(float(n), 2) for n in _NUMBER.findall(text)}
    return formulas, without, tcs


def _tc_numbers(records) -> set[float]:
    out: set[float] = set()
    for r in records:
        if r.property == "Tc":
            if r.low is not None:
                out |= {round(r.low, 2), round(r.high, 2)}
            else:
                out.add(round(r.value, 2))
    return out


def supermat(root: Path, ner: bool = False) -> dict:
    """Counts [tp, predicted, gold] per half ("dev", "test", "all") and per score."""
    scores = ("materials", "materials_old", "tc")
    counts = {h: {k: [0, 0, 0] for k in scores} for h in ("dev", "test", "all")}
    skipped = 0
    pages = 0
    seconds = 0.0
    rows = []
    for pdf in sorted((root / "supermat" / "pdf").glob("*.pdf")):
        tei = root / "supermat" / "gold_tei" / f"{pdf.stem}.superconductors.tei.xml"
        gold_m, without, gold_tc = gold_supermat(tei)
        gold_old = gold_supermat(tei, old=True)[0]
        skipped += without
        start = time.perf_counter()
        paper = parse_pdf(pdf)
        result = extract(paper, ner=ner)
        seconds += time.perf_counter() - start
        pages += paper.n_pages
        formulas = [m for m in result.materials if not m.name]
        pred_m = {m.formula for m in formulas if m.role == "sample"}
        pred_old = {m.formula for m in formulas}
        pred_tc = _tc_numbers(result.records)
        half = "dev" if pdf.stem in DEV else "test"
        for key, pred, gold in (
            ("materials", pred_m, gold_m),
            ("materials_old", pred_old, gold_old),
            ("tc", pred_tc, gold_tc),
        ):
            for h in (half, "all"):
                acc = counts[h][key]
                acc[0] += len(pred & gold)
                acc[1] += len(pred)
                acc[2] += len(gold)
        others: dict[str, set[str]] = {}
        for m in formulas:
            if m.role != "sample" and m.formula not in pred_m:
                others.setdefault(m.role, set()).add(m.formula)
        rows.append(
            (
                f"{pdf.stem} ({half})",
                sorted(gold_m - pred_m),
                sorted(pred_m - gold_m),
                sorted(gold_tc - pred_tc),
                sorted(pred_tc - gold_tc),
                {k: sorted(v) for k, v in sorted(others.items())},
            )
        )
    return {
        "counts": counts,
        "gold_without_formula": skipped,
        "pages": pages,
        "seconds": seconds,
        "rows": rows,
    }


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
    spans: dict[int, list[tuple[int, int]]] = {}
    current = None
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
    return {k: [tuple(s) for s in v] for k, v in spans.items()}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "papers")
    )
    parser.add_argument("--details", action="store_true", help="list misses per paper")
    parser.add_argument("--ner", action="store_true", help="also score the learned tagger")
    args = parser.parse_args()
    root = Path(args.shared)
    if not root.is_dir():
        print(f"shared papers not found: {root}", file=sys.stderr)
        return 2
    find_materials("warm up LaFeAsO1-xHx")  # pymatgen import outside the timing
    sm = supermat(root)
    labels = {
        "materials": "materials",
        "materials_old": "materials (old scorer: every formula, old gold normalisation)",
        "tc": "Tc",
    }
    for key, label in labels.items():
        for half in ("all", "dev", "test"):
            p, r, f = _prf(*sm["counts"][half][key])
            tp, n_pred, n_gold = sm["counts"][half][key]
            print(
                f"SuperMat {half:4s} {label}: precision {p:.2f}  recall {r:.2f}  F1 {f:.2f}  "
                f"(tp {tp}, predicted {n_pred}, gold {n_gold})"
            )
    print(
        f"SuperMat gold material strings without a compound formula (not scored): {sm['gold_without_formula']}"
    )
    print(
        f"pipeline speed (parse + extract, {sm['pages']} pages): {sm['pages'] / sm['seconds']:.1f} pages/s"
    )
    if args.details:
        for stem, miss_m, extra_m, miss_t, extra_t, others in sm["rows"]:
            print(
                f"  {stem}: missed materials {miss_m}; extra {extra_m}; missed Tc {miss_t}; "
                f"extra Tc {extra_t}; not samples {others}"
            )
    if args.ner:
        with_ner = supermat(root, ner=True)
        print(
            "pipeline speed with the learned tagger: "
            f"{with_ner['pages'] / with_ner['seconds']:.1f} pages/s"
        )
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
