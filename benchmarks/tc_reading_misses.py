"""What the linker is not given: gold Tc values no rule reads and gold materials never found.

    .venv/bin/python benchmarks/tc_reading_misses.py [--shared ../shared/data/papers]
        [--list] [--score] [--report-aggregate] [--cache DIR]

Works on the SuperMat dev split of `benchmarks/literature_extraction.py` (46 tuning / 23
report papers, seed 20). The tuning part is cut again in two halves (sorted stems shuffled
with random.Random(7), first 23 / last 23) so that a rule is kept only when it helps both.

- `--list` (tuning part only): each gold Tc number we miss, with the gold sentence and what
  our rules made of the same number in our text (no quantity at all, or the role it got);
  each gold material span no sample mention of ours occurs in, with whether `find_materials`
  reads a formula in it at all.
- `--score`: materials, Tc and links P/R/F1 on the two tuning halves (same matching rules as
  the benchmark). `--report-aggregate` adds the report part, as totals only (its papers are
  never listed one by one).

Parsed papers are cached (pickle) in `--cache` so that rule changes re-run in seconds.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import literature_extraction as bench  # noqa: E402

from inference.literature.extract import extract  # noqa: E402
from inference.literature.materials import find_materials  # noqa: E402
from inference.literature.pdf import parse_pdf  # noqa: E402
from inference.literature.quantities import find_quantities, normalise  # noqa: E402
from inference.literature.sections import EXCLUDED  # noqa: E402
from inference.literature.sentences import split_sentences  # noqa: E402
from inference.literature.temperatures import tc_keywords, temperature_role  # noqa: E402

HALF_SEED = 7


def tuning_halves(stems: list[str]) -> tuple[list[str], list[str]]:
    order = sorted(stems)
    random.Random(HALF_SEED).shuffle(order)
    half = len(order) // 2
    return sorted(order[:half]), sorted(order[half:])


def _paper(pdf: Path, cache: Path):
    cached = cache / f"{pdf.stem}.pkl"
    if cached.exists():
        return pickle.loads(cached.read_bytes())
    paper = parse_pdf(pdf)
    cached.write_bytes(pickle.dumps(paper))
    return paper


def _sentences(paper):
    """The sentences `extract` reads, as (offset, text)."""
    text = paper.text
    for block in paper.blocks:
        if block.section in EXCLUDED or block.heading:
            continue
        for s0, s1 in split_sentences(text[block.start : block.end], block.start):
            yield s0, text[s0:s1].replace("\n", " ")


def _gold_contexts(tei: Path) -> tuple[dict[float, list[str]], dict[str, str]]:
    """Per gold Tc number the paragraph windows holding it; per material span one window."""
    root = ET.parse(tei).getroot()
    tcs: dict[float, list[str]] = {}
    mats: dict[str, str] = {}
    for p in root.iter(f"{bench.TEI}p"):
        text = "".join(p.itertext())
        for node in p.iter(f"{bench.TEI}rs"):
            inner = "".join(node.itertext())
            at = text.find(inner)
            window = " ".join(text[max(0, at - 140) : at + len(inner) + 80].split())
            if node.get("type") == "tcValue":
                for n in bench._numbers(bench._norm(inner)):
                    tcs.setdefault(n, []).append(window)
            elif node.get("type") == "material":
                mats.setdefault(bench._norm(inner), window)
    return tcs, mats


def _our_reading(paper, number: float) -> list[str]:
    curie = bool(re.search(r"Curie", paper.text))
    out = []
    for _, sentence in _sentences(paper):
        norm = normalise(sentence)
        qs = find_quantities(sentence)
        spans = tc_keywords(norm, curie)
        hit = False
        for q in qs:
            values = {round(q.value, 2)}
            if q.low is not None and q.high is not None:
                values |= {round(q.low, 2), round(q.high, 2)}
            if number in values:
                role = temperature_role(norm, q, spans)
                out.append(f"[{q.dimension}/{role.role}] {' '.join(sentence.split())[:260]}")
                hit = True
        written = re.search(rf"(?<![\d.]){re.escape(f'{number:g}')}(?![\d])", norm)
        if not hit and written and len(out) < 4:
            out.append(f"[no quantity] {' '.join(sentence.split())[:260]}")
    return out


def _line(label: str, counts: list[dict]) -> str:
    parts = []
    for key in ("materials", "tc", "links"):
        acc = [0, 0, 0, 0]
        for part_counts in counts:
            for i, v in enumerate(part_counts[key]):
                acc[i] += v
        p, r, f = bench._scores(acc)
        parts.append(f"{key} {p:.2f}/{r:.2f}/{f:.2f} ({acc[0]}/{acc[1]}, {acc[2]}/{acc[3]})")
    return f"{label:8s} " + "  ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--cache", default="/tmp/matlens_tc_reading_cache")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--score", action="store_true")
    parser.add_argument("--report-aggregate", action="store_true")
    parser.add_argument("--dump", help="write the tuning part's predictions here (JSON)")
    args = parser.parse_args()
    root = Path(args.shared)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    papers = bench.supermat_papers(root)
    tune = [p for p in papers if p[0] == "tune"]
    half_a, half_b = tuning_halves([pdf.stem for _, pdf, _ in tune])
    chosen = list(tune)
    if args.report_aggregate:
        chosen += [p for p in papers if p[0] == "report"]
    predictions = {}
    for _, pdf, _ in chosen:
        paper = _paper(pdf, cache)
        predictions[str(pdf)] = {
            "pages": paper.n_pages,
            "seconds": 0.0,
            **bench.scored_output(paper, extract(paper)),
        }
    if args.dump:
        tuned = {k: v for k, v in predictions.items() if Path(k).stem in half_a + half_b}
        Path(args.dump).write_text(json.dumps(tuned, indent=0), encoding="utf-8")
    if args.score:
        for label, stems in (("half A", half_a), ("half B", half_b)):
            subset = [p for p in tune if p[1].stem in stems]
            c = bench.score_supermat(subset, predictions)["counts"]["tune"]
            print(_line(label, [c]))
        c = bench.score_supermat(tune, predictions)["counts"]["tune"]
        print(_line("tune", [c]))
        if args.report_aggregate:
            report = [p for p in papers if p[0] == "report"]
            c = bench.score_supermat(report, predictions)["counts"]["report"]
            print(_line("report", [c]))
    if args.list:
        for _, pdf, tei in tune:
            paper = _paper(pdf, cache)
            gold = bench.gold_supermat(tei)
            pred = predictions[str(pdf)]
            g_tc, g_mat = _gold_contexts(tei)
            missed_tc = sorted(gold["tc"] - set(pred["tc"]))
            found_m = {
                g for g in gold["materials"] if any(bench.occurs(m, g) for m in pred["materials"])
            }
            missed_m = sorted(gold["materials"] - found_m)
            extra_tc = set(pred["tc"]) - gold["tc"]
            if not missed_tc and not missed_m and not extra_tc:
                continue
            print(f"=== {pdf.stem}")
            for n in missed_tc:
                print(f"  MISSED Tc {n:g}")
                for w in g_tc.get(n, [])[:2]:
                    print(f"     gold: {w}")
                for line in _our_reading(paper, n)[:4]:
                    print(f"     ours: {line}")
            for n in sorted(set(pred["tc"]) - gold["tc"]):
                print(f"  EXTRA Tc {n:g}")
                for line in _our_reading(paper, n)[:3]:
                    if not line.startswith("[no quantity]"):
                        print(f"     ours: {line}")
            for (_material, n), names in bench.predicted_links(pred["links"]).items():
                if not any(bench.occurs(m, g) for m in names for g in gold["materials"]):
                    print(f"  LINK TO A MATERIAL NOT IN GOLD {sorted(names)} Tc {n:g}")
            for link in gold["link_groups"]:
                if link.number in pred["tc"] and not any(s in found_m for s in link.spans):
                    print(f"  LINK MATERIAL NEVER FOUND {sorted(link.spans)} Tc {link.number:g}")
            for m in missed_m:
                formula = "formula" if find_materials(bench.collapse(m)) else "no formula"
                print(f"  MISSED material [{formula}] {m!r}: {g_mat.get(m, '')[:220]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
