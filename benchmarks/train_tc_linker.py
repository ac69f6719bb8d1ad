"""Train the learned Tc linker on the tuning part of supermat_dev; write its model card.

    .venv/bin/python benchmarks/train_tc_linker.py [--shared ../shared/data/papers]
        [--out resources/models/tc_linker.json] [--cache FILE]

Data: every Tc value MatLens reads in the 46 papers of the tuning part (the fixed split of
`literature_extraction.split_supermat_dev`), with its candidate samples
(`inference.literature.linker`). A (value, candidate) pair is positive when the paper's gold
TEI links a tcValue with that number to a material span the candidate occurs in (the
benchmark's matching rule: `literature_extraction.link_found`). Model and threshold are chosen by 5-fold cross-validation grouped
by paper inside the tuning part, scored with the benchmark's link P/R/F1 (distinct
(material, Tc) pairs per paper); the report part and the old 4 papers are never read here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from literature_extraction import (
    REPO,
    GoldLink,
    gold_supermat,
    link_found,
    predicted_links,
    supermat_papers,
)

from inference.literature.extract import extract
from inference.literature.linker import (
    Candidate,
    LinkChoice,
    LinkQuery,
    PaperCounts,
    features,
)
from inference.literature.pdf import parse_pdf

FOLDS = 5


class _Recorder:
    """A linker that keeps every query and answers as the rules do."""

    def __init__(self) -> None:
        self.queries: list[tuple[LinkQuery, PaperCounts]] = []

    def choose(self, query: LinkQuery, paper: PaperCounts) -> LinkChoice:
        self.queries.append((query, paper))
        if query.rule is None:
            return LinkChoice(None, "none", 0.0)
        return LinkChoice(query.rule, query.rule_link, 1.0)


@dataclasses.dataclass
class PaperData:
    stem: str
    gold: set[GoldLink]  # gold links (the benchmark's, each counted once)
    fixed: set[tuple[str, float, str]]  # our links that no query decides (table cells)
    queries: list[tuple[LinkQuery, PaperCounts, set[float]]]  # with the value's numbers


def _record_numbers(r) -> set[float]:
    if r.low is not None:
        return {round(r.low, 2), round(r.high, 2)}
    return {round(r.value, 2)}


def collect(root: Path, part: str = "tune") -> list[PaperData]:
    out = []
    for p, pdf, tei in supermat_papers(root):
        if p != part:
            continue
        paper = parse_pdf(pdf)
        recorder = _Recorder()
        result = extract(paper, linker=recorder)
        by_start = {r.start: r for r in result.records if r.property == "Tc"}
        decided = {q.value[0] for q, _ in recorder.queries}
        fixed = set()
        for r in result.records:
            if r.property != "Tc" or r.start in decided or not r.material_span:
                continue
            a, b = r.material_span
            if b > a:
                written = " ".join(paper.text[a:b].split())
                formula = r.material_formula if r.material_kind in _ALIASED else ""
                fixed |= {(written, n, formula) for n in _record_numbers(r)}
        queries = [(q, c, _record_numbers(by_start[q.value[0]])) for q, c in recorder.queries]
        gold = gold_supermat(tei)["link_groups"]
        out.append(PaperData(pdf.stem, gold, fixed, queries))
        print(f"  {pdf.stem}: {len(queries)} Tc values", file=sys.stderr)
    return out


_ALIASED = ("abbreviation", "name")  # kinds whose formula also names them (the benchmark's rule)


def _formula(c: Candidate) -> str:
    """The formula an abbreviation or name candidate stands for, as its record gives it."""
    m = c.mention
    if m.kind not in _ALIASED:
        return ""
    return m.compositions[0] if len(m.compositions) == 1 else m.formula


def label(c: Candidate, numbers: set[float], gold: set[GoldLink]) -> int:
    names = {c.written, _formula(c)} - {""}
    return int(any(link_found(names, n, g) for n in numbers for g in gold))


def table(papers: list[PaperData]):
    """Feature rows: X (dicts), y, paper index, query index (global)."""
    rows, y, groups, qids = [], [], [], []
    qid = 0
    for pi, p in enumerate(papers):
        for query, counts, numbers in p.queries:
            for c in query.candidates:
                rows.append(features(query, c, counts))
                y.append(label(c, numbers, p.gold))
                groups.append(pi)
                qids.append(qid)
            qid += 1
    return rows, np.array(y), np.array(groups), np.array(qids)


def link_scores(papers: list[PaperData], choices: list[list[Candidate | None]]):
    """The benchmark's link counts for the given choice per query: (tp_p, pred, tp_r, gold)."""
    tp_p = n_pred = tp_r = n_gold = 0
    for p, chosen in zip(papers, choices, strict=True):
        raw = set(p.fixed)
        for (_, _, numbers), c in zip(p.queries, chosen, strict=True):
            if c is not None:
                raw |= {(c.written, n, _formula(c)) for n in numbers}
        pred = predicted_links(sorted(raw))
        tp_p += sum(
            1 for k, names in pred.items() if any(link_found(names, k[1], g) for g in p.gold)
        )
        n_pred += len(pred)
        tp_r += sum(
            1 for g in p.gold if any(link_found(names, k[1], g) for k, names in pred.items())
        )
        n_gold += len(p.gold)
    return tp_p, n_pred, tp_r, n_gold


def prf(counts) -> tuple[float, float, float]:
    tp_p, n_pred, tp_r, n_gold = counts
    p = tp_p / n_pred if n_pred else 0.0
    r = tp_r / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def decide(papers, probabilities: np.ndarray, threshold: float) -> list[list[Candidate | None]]:
    """Per query the best candidate when its probability reaches the threshold."""
    out, k = [], 0
    for p in papers:
        chosen = []
        for query, _, _ in p.queries:
            n = len(query.candidates)
            if n == 0:
                chosen.append(None)
                continue
            probs = probabilities[k : k + n]
            k += n
            best = int(np.argmax(probs))
            chosen.append(query.candidates[best] if probs[best] >= threshold else None)
        out.append(chosen)
    return out


def rule_choices(papers) -> list[list[Candidate | None]]:
    return [[q.rule for q, _, _ in p.queries] for p in papers]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--out", default=str(REPO / "resources" / "models" / "tc_linker.json"))
    parser.add_argument("--cache", help="pickle of the collected tuning data (reused if present)")
    args = parser.parse_args()
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        papers = pickle.loads(cache.read_bytes())
    else:
        papers = collect(Path(args.shared))
        if cache is not None:
            cache.write_bytes(pickle.dumps(papers))
    rows, y, groups, _ = table(papers)
    vec = DictVectorizer(sparse=False)
    features = vec.fit_transform(rows)
    print(f"tuning part: {len(papers)} papers, {len(y)} pairs, {int(y.sum())} positive")
    base = prf(link_scores(papers, rule_choices(papers)))
    print(f"rules: links P {base[0]:.2f} R {base[1]:.2f} F1 {base[2]:.2f}")
    folds = list(GroupKFold(n_splits=FOLDS).split(features, y, groups))
    thresholds = [round(t, 2) for t in np.arange(0.05, 0.8, 0.05)]
    best = None
    for strength in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        oof = np.zeros(len(y))
        for train, test in folds:
            model = LogisticRegression(C=strength, max_iter=2000).fit(features[train], y[train])
            oof[test] = model.predict_proba(features[test])[:, 1]
        for t in thresholds:
            p, r, f = prf(link_scores(papers, decide(papers, oof, t)))
            if best is None or f > best[0]:
                best = (f, p, r, strength, t)
        print(
            f"C {strength:<5}: best threshold F1 "
            + " ".join(
                f"{t}:{prf(link_scores(papers, decide(papers, oof, t)))[2]:.3f}"
                for t in thresholds[::2]
            )
        )
    assert best is not None
    f, p, r, strength, t = best
    print(
        f"chosen: C {strength}, threshold {t}: cross-validated links P {p:.2f} R {r:.2f} F1 {f:.2f}"
    )
    model = LogisticRegression(C=strength, max_iter=2000).fit(features, y)
    weights = {
        name: round(float(w), 4)
        for name, w in zip(vec.get_feature_names_out(), model.coef_[0], strict=True)
    }
    for name, w in sorted(weights.items(), key=lambda kv: -abs(kv[1])):
        print(f"  {name:20s} {w:+.3f}")
    card = _card(weights, float(model.intercept_[0]), t, strength, base, (p, r, f), papers, len(y))
    Path(args.out).write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")
    return 0


def _card(weights, intercept, threshold, strength, rules, learned, papers, n_pairs) -> dict:
    return {
        "id": "tc_linker",
        "name": "Tc linker (logistic regression over syntax and context cues)",
        "task": "text/relation",
        "licence": (
            "trained by MatLens on the tuning part of SuperMat (annotations CC-BY-4.0, "
            "github:lfoppiano/SuperMat; articles CC BY 4.0)"
        ),
        "source_package": "matlens",
        "source_version": "0.1.0",
        "files": [],
        "description": (
            "Chooses the sample each Tc value belongs to among the sample mentions of its "
            "sentence, of the earlier sentences of its paragraph and of the paragraph before, and "
            "the three samples the paper names most (inference/literature/linker.py); the best "
            f"candidate gets the value when its probability is at least {threshold}, else the "
            "value keeps no material. "
            f"Trained on {len(papers)} papers of the tuning part of supermat_dev "
            f"({n_pairs} value-candidate pairs; labels from the gold TEI links). Model "
            f"(L2 logistic regression, C={strength}) and threshold chosen by 5-fold cross-validation "
            "grouped by paper within the tuning part; cross-validated link scores there "
            f"(distinct material-Tc pairs per paper): rules P {rules[0]:.2f} R {rules[1]:.2f} "
            f"F1 {rules[2]:.2f}, learned P {learned[0]:.2f} R {learned[1]:.2f} "
            f"F1 {learned[2]:.2f}. Report-part scores: `python benchmarks/literature_extraction.py`."
        ),
        "exporter": "",
        "extra": {
            "threshold": threshold,
            "intercept": round(intercept, 4),
            "weights": weights,
            "trained_with": "python benchmarks/train_tc_linker.py",
            "training_papers": [p.stem for p in papers],
            "cross_validated": {
                "rules": [round(x, 3) for x in rules],
                "learned": [round(x, 3) for x in learned],
            },
        },
    }


if __name__ == "__main__":
    sys.exit(main())
