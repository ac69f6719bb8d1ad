"""Train the learned Tc linker on the tuning part of supermat_dev; write its model card.

    .venv/bin/python benchmarks/train_tc_linker.py [--shared ../shared/data/papers]
        [--out resources/models/tc_linker.json] [--cache FILE]

Data: every Tc value MatLens reads in the 46 papers of the tuning part (the fixed split of
`literature_extraction.split_supermat_dev`), with its candidate samples
(`inference.literature.linker`). A (value, candidate) pair is positive when the paper's gold
TEI links a tcValue with that number to a material span the candidate occurs in (the
benchmark's matching rule: `literature_extraction.link_found`).

Everything is chosen by 5-fold cross-validation grouped by paper inside the tuning part, scored
with the benchmark's link P/R/F1 (distinct (material, Tc) pairs per paper, the links no query
decides, table cells and the other samples of a list, included): the objective (a logistic
regression per pair, or one softmax over a value's candidates and a "no material" option),
how many of the paper's most named samples join the candidates, the cues, the L2 strength and
the cut. The rules' score printed next to it is `matlens extract --linker rules` on the same
papers (the rules were written looking at them). The report part and the old 4 papers are
never read here: their scores are added to the card's description by hand from
`benchmarks/literature_extraction.py --learned`.
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
    scored_output,
    supermat_papers,
)

from inference.literature.extract import extract
from inference.literature.linker import (
    PAPER_CANDIDATES,
    Candidate,
    LinearLinker,
    LinkChoice,
    LinkQuery,
    PaperCounts,
    features,
    query_features,
)
from inference.literature.pdf import parse_pdf

FOLDS = 5


class _Recorder:
    """A linker that keeps every query and links no value: what is left linked in the
    extraction is what no query decides (table cells, the other samples of a list)."""

    paper_candidates = 6  # more than any card uses: training keeps fewer (`kept`)

    def __init__(self) -> None:
        self.queries: list[tuple[LinkQuery, PaperCounts]] = []

    def choose(self, query: LinkQuery, paper: PaperCounts) -> LinkChoice:
        self.queries.append((query, paper))
        return LinkChoice(None, "none", 0.0)


@dataclasses.dataclass
class PaperData:
    stem: str
    gold: set[GoldLink]  # gold links (the benchmark's, each counted once)
    fixed: set[tuple[str, float, str]]  # our links that no query decides (table cells, lists)
    rules: set[tuple[str, float, str]]  # every link of `matlens extract --linker rules`
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
        rules = {tuple(x) for x in scored_output(paper, extract(paper))["links"]}
        recorder = _Recorder()
        result = extract(paper, linker=recorder)
        fixed = {tuple(x) for x in scored_output(paper, result)["links"]}
        by_start = {r.start: r for r in result.records if r.property == "Tc"}
        queries = [(q, c, _record_numbers(by_start[q.value[0]])) for q, c in recorder.queries]
        gold = gold_supermat(tei)["link_groups"]
        out.append(PaperData(pdf.stem, gold, fixed, rules, queries))  # type: ignore[arg-type]
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


# the cues added after the card of revision 23b5210 (the rules' own choice, the paper's main
# sample, the value's cues for the "no material" option)
NEW_FEATURES = ("in_title", "count_rel", "paper_main", "rule_key", "rules_choice")
NEW_QUERY_FEATURES = ("no_rule", "rule_link_", "no_keyword")


def _old(name: str) -> bool:
    """The cues of the card of revision 23b5210."""
    return not name.startswith(NEW_FEATURES + NEW_QUERY_FEATURES)


def _new(name: str) -> bool:
    """The rules' choice as one cue (whether the candidate is it), not one weight per rule:
    weights per rule fit the idioms of the tuning papers (the two tie in cross-validation)."""
    return name == "rule_key" or not name.startswith(("rule_", "rule_link_"))


def _no_rules(name: str) -> bool:
    """No cue of the rules' choice (the rules were written looking at the tuning papers, so
    cross-validation there trusts them more than unseen papers will)."""
    return not name.startswith(("rule", "no_rule"))


FEATURE_SETS = {"old": _old, "new": _new, "no rules": _no_rules}
FEATURE_SET_NAMES = {
    "old": "those of the card of revision 23b5210",
    "new": "the rules' choice as one cue, not one weight per rule",
    "no rules": "none of the rules' choice",
}


@dataclasses.dataclass
class Table:
    """Every (value, candidate) pair of the tuning part, grouped by value."""

    rows: list[dict[str, float]]  # candidate features per pair
    y: np.ndarray  # 1 when the gold links the value to the candidate's material
    pair_query: np.ndarray  # index of the pair's value
    query_rows: list[dict[str, float]]  # the value's own cues (for "no material")
    query_paper: np.ndarray  # index of the value's paper
    candidates: list[list[Candidate]]  # per value, its candidates in pair order


def kept(query: LinkQuery, counts: PaperCounts, paper_candidates: int) -> list[Candidate]:
    """The value's candidates when the paper's `paper_candidates` most named samples join."""
    return [
        c
        for c in query.candidates
        if c.scope != "paper" or counts.rank.get(c.key, 99) < paper_candidates
    ]


def table(papers: list[PaperData], paper_candidates: int, feature_set: str = "new") -> Table:
    keep = FEATURE_SETS[feature_set]
    rows, y, pair_query, query_rows, query_paper, cands = [], [], [], [], [], []
    for pi, p in enumerate(papers):
        for query, counts, numbers in p.queries:
            mine = kept(query, counts, paper_candidates)
            for c in mine:
                f = features(query, c, counts)
                rows.append({k: v for k, v in f.items() if keep(k)})
                y.append(label(c, numbers, p.gold))
                pair_query.append(len(query_rows))
            q = query_features(query)
            query_rows.append({k: v for k, v in q.items() if keep(k)})
            query_paper.append(pi)
            cands.append(mine)
    return Table(
        rows,
        np.array(y),
        np.array(pair_query, dtype=int),
        query_rows,
        np.array(query_paper, dtype=int),
        cands,
    )


def link_scores(papers: list[PaperData], choices: list[list[Candidate | None]]):
    """The benchmark's link counts for the given choice per query: (tp_p, pred, tp_r, gold)."""
    raws = []
    for p, chosen in zip(papers, choices, strict=True):
        raw = set(p.fixed)
        for (_, _, numbers), c in zip(p.queries, chosen, strict=True):
            if c is not None:
                raw |= {(c.written, n, _formula(c)) for n in numbers}
        raws.append(raw)
    return count_links(papers, raws)


def count_links(papers: list[PaperData], raws: list[set]):
    tp_p = n_pred = tp_r = n_gold = 0
    for p, raw in zip(papers, raws, strict=True):
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


def decide(papers, t: Table, scores: np.ndarray, none: np.ndarray, cut: float):
    """Per value its best candidate when that one's score beats `none` (per value) by `cut`."""
    out: list[list[Candidate | None]] = [[] for _ in papers]
    best = np.full(len(t.query_rows), -np.inf)
    arg = np.full(len(t.query_rows), -1)
    for k, (qi, z) in enumerate(zip(t.pair_query, scores, strict=True)):
        if z > best[qi]:
            best[qi], arg[qi] = z, k
    start = 0
    for qi, pi in enumerate(t.query_paper):
        n = len(t.candidates[qi])
        chosen = None
        if n and best[qi] - none[qi] >= cut:
            chosen = t.candidates[qi][arg[qi] - start]
        start += n
        out[pi].append(chosen)
    return out


def oracle(papers, t: Table):
    """Per value a right candidate when there is one, else none: what the candidates allow."""
    scores = t.y.astype(float)
    return decide(papers, t, scores, np.full(len(t.query_rows), 0.5), 0.0)


def rules_scores(papers: list[PaperData]):
    return count_links(papers, [p.rules for p in papers])


class Softmax:
    """A softmax over each value's candidates and a "no material" option, L2-penalised;
    the likelihood of a value is that of its right candidates (or of the option when none
    is right)."""

    def __init__(self, strength: float) -> None:
        self.strength = strength

    def fit(self, xc: np.ndarray, pair_query: np.ndarray, y: np.ndarray, xq: np.ndarray):
        from scipy.optimize import minimize

        nq, dc, dq = len(xq), xc.shape[1], xq.shape[1]
        order = np.argsort(pair_query, kind="stable")
        # rows: each value's candidates, then its option row; columns: candidate weights,
        # option weights, option bias
        group = np.concatenate([pair_query[order], np.arange(nq)])
        is_none = np.concatenate([np.zeros(len(order), bool), np.ones(nq, bool)])
        rows = np.lexsort((is_none, group))
        group, is_none = group[rows], is_none[rows]
        a = np.zeros((len(group), dc + dq + 1))
        cand_rows = np.flatnonzero(~is_none)
        a[cand_rows, :dc] = xc[order][rows[~is_none]]
        a[is_none, dc : dc + dq] = xq
        a[is_none, -1] = 1.0
        pos = np.zeros(nq, bool)
        np.logical_or.at(pos, pair_query, y == 1)
        target = np.zeros(len(group), bool)
        target[cand_rows] = y[order][rows[~is_none]] == 1
        target |= is_none & ~pos[group]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        penalty = np.ones(a.shape[1])
        penalty[-1] = 0.0
        lam = 1.0 / self.strength

        def objective(theta):
            z = a @ theta
            m = np.maximum.reduceat(z, starts)[group]
            e = np.exp(z - m)
            total = np.add.reduceat(e, starts)[group]
            et = np.where(target, e, 0.0)
            total_t = np.add.reduceat(et, starts)[group]
            loss = np.sum(np.log(total[starts]) - np.log(total_t[starts]))
            grad = a.T @ (e / total - et / total_t)
            loss += 0.5 * lam * np.sum(penalty * theta**2)
            return loss, grad + lam * penalty * theta

        theta = minimize(objective, np.zeros(a.shape[1]), jac=True, method="L-BFGS-B").x
        self.w, self.u, self.b = theta[:dc], theta[dc : dc + dq], theta[-1]
        return self

    def scores(self, xc: np.ndarray, xq: np.ndarray, pair_query: np.ndarray):
        """(candidate scores, the option's score per value)."""
        return xc @ self.w, xq @ self.u + self.b


class Logistic:
    """The card of revision 23b5210: independent logistic regression per pair; the option
    is a probability threshold."""

    def __init__(self, strength: float) -> None:
        self.strength = strength

    def fit(self, xc, pair_query, y, xq):
        from sklearn.linear_model import LogisticRegression

        self.model = LogisticRegression(C=self.strength, max_iter=3000).fit(xc, y)
        return self

    def scores(self, xc, xq, pair_query):
        return self.model.predict_proba(xc)[:, 1], np.zeros(len(xq))


CUTS = {
    "logistic": [round(x, 2) for x in np.arange(0.05, 0.8, 0.05)],
    "softmax": [round(x, 2) for x in np.arange(-2.0, 2.01, 0.25)],
}
MODELS = {"logistic": Logistic, "softmax": Softmax}
STRENGTHS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def cross_validate(papers, t: Table, objective: str, strength: float, folds):
    """Out-of-fold scores of every pair and option."""
    from sklearn.feature_extraction import DictVectorizer

    scores = np.zeros(len(t.rows))
    none = np.zeros(len(t.query_rows))
    for train_papers, test_papers in folds:
        train_q = np.isin(t.query_paper, train_papers)
        train_p = train_q[t.pair_query]
        vc, vq = DictVectorizer(sparse=False), DictVectorizer(sparse=False)
        xc = vc.fit_transform([r for r, k in zip(t.rows, train_p, strict=True) if k])
        xq = vq.fit_transform([r for r, k in zip(t.query_rows, train_q, strict=True) if k])
        remap = -np.ones(len(t.query_rows), dtype=int)
        remap[train_q] = np.arange(int(train_q.sum()))
        model = MODELS[objective](strength).fit(xc, remap[t.pair_query[train_p]], t.y[train_p], xq)
        test_q = np.isin(t.query_paper, test_papers)
        test_p = test_q[t.pair_query]
        tc = vc.transform([r for r, k in zip(t.rows, test_p, strict=True) if k])
        tq = vq.transform([r for r, k in zip(t.query_rows, test_q, strict=True) if k])
        s, n = model.scores(tc, tq, None)
        scores[test_p], none[test_q] = s, n
    return scores, none


def paper_folds(n_papers: int):
    from sklearn.model_selection import GroupKFold

    idx = np.arange(n_papers)
    return [(idx[a], idx[b]) for a, b in GroupKFold(n_splits=FOLDS).split(idx, idx, idx)]


def fit(t: Table, objective: str, strength: float):
    """The model on every tuning paper: (model, candidate vectoriser, option vectoriser)."""
    from sklearn.feature_extraction import DictVectorizer

    vc, vq = DictVectorizer(sparse=False), DictVectorizer(sparse=False)
    xc, xq = vc.fit_transform(t.rows), vq.fit_transform(t.query_rows)
    model = MODELS[objective](strength).fit(xc, t.pair_query, t.y, xq)
    return model, vc, vq


def shipped_card_scores(papers, card: dict):
    """The link counts of a card as `matlens extract --linker learned` would give them."""
    extra = card["extra"]
    k = int(extra.get("paper_candidates", PAPER_CANDIDATES))
    linker = LinearLinker(extra["weights"], extra["intercept"], extra["threshold"], k)
    choices = []
    for p in papers:
        chosen = []
        for query, counts, _ in p.queries:
            q = dataclasses.replace(query, candidates=tuple(kept(query, counts, k)))
            chosen.append(linker.choose(q, counts).candidate)
        choices.append(chosen)
    return link_scores(papers, choices)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--out", default=str(REPO / "resources" / "models" / "tc_linker.json"))
    parser.add_argument("--cache", help="pickle of the collected tuning data (reused if present)")
    args = parser.parse_args()

    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        papers = pickle.loads(cache.read_bytes())
    else:
        papers = collect(Path(args.shared))
        if cache is not None:
            cache.write_bytes(pickle.dumps(papers))
    folds = paper_folds(len(papers))
    rules = rules_scores(papers)
    base = prf(rules)
    print(f"tuning part: {len(papers)} papers, {sum(len(p.queries) for p in papers)} Tc values")
    print(
        f"rules (written on these papers): links P {base[0]:.3f} R {base[1]:.3f} F1 {base[2]:.3f}"
    )
    out = Path(args.out)
    if out.is_file():
        shipped = prf(shipped_card_scores(papers, json.loads(out.read_text(encoding="utf-8"))))
        print(
            f"card in {out.name} (trained on these papers): links "
            f"P {shipped[0]:.3f} R {shipped[1]:.3f} F1 {shipped[2]:.3f}"
        )
    results = []
    for paper_candidates in (1, 3, 6):
        for feature_set in FEATURE_SETS:
            t = table(papers, paper_candidates, feature_set)
            best_possible = prf(link_scores(papers, oracle(papers, t)))
            print(
                f"{paper_candidates} paper candidates, {feature_set} features: {len(t.rows)} "
                f"pairs, {int(t.y.sum())} right; a right candidate whenever there is one: "
                f"F1 {best_possible[2]:.3f}"
            )
            for objective in MODELS:
                for strength in STRENGTHS:
                    s, n = cross_validate(papers, t, objective, strength, folds)
                    line = []
                    for cut in CUTS[objective]:
                        counts = link_scores(papers, decide(papers, t, s, n, cut))
                        config = (objective, paper_candidates, feature_set, strength, cut)
                        results.append((prf(counts)[2], counts, config))
                        line.append(prf(counts)[2])
                    i = int(np.argmax(line))
                    print(
                        f"  {objective:8s} C {strength:<5}: best cut {CUTS[objective][i]} "
                        f"F1 {line[i]:.3f}"
                    )
    # the best cross-validated F1; ties go to the first tried (fewer candidates, fewer cues)
    f, counts, config = max(results, key=lambda r: r[0])
    objective, paper_candidates, feature_set, strength, cut = config
    p, r, _ = prf(counts)
    print(
        f"chosen: {objective}, {paper_candidates} paper candidates, {feature_set} features, "
        f"C {strength}, cut {cut}: cross-validated links P {p:.3f} R {r:.3f} F1 {f:.3f} "
        f"(right {counts[0]}/{counts[1]}, found {counts[2]}/{counts[3]}; rules right "
        f"{rules[0]}/{rules[1]}, found {rules[2]}/{rules[3]})"
    )
    t = table(papers, paper_candidates, feature_set)
    model, vc, vq = fit(t, objective, strength)
    card = _card(model, vc, vq, config, base, (p, r, f), papers, len(t.rows))
    out.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


def _card(model, vc, vq, config, rules, learned, papers, n_pairs) -> dict:
    objective, paper_candidates, feature_set, strength, cut = config
    names = vc.get_feature_names_out()
    if objective == "logistic":
        coefficients = model.model.coef_[0]
        extra: dict = {
            "objective": "logistic",
            "threshold": cut,
            "intercept": round(float(model.model.intercept_[0]), 4),
        }
        rule = f"the best candidate gets the value when its probability is at least {cut}"
    else:
        coefficients = model.w
        extra = {
            "objective": "softmax",
            "margin": cut,
            "none_bias": round(float(model.b), 4),
            "none_weights": {
                n: round(float(w), 4)
                for n, w in zip(vq.get_feature_names_out(), model.u, strict=True)
                if abs(w) >= 1e-4
            },
        }
        rule = (
            'one softmax over the candidates and a "no material" option; the best candidate '
            f"gets the value when it outscores the option by {cut} logits"
        )
    extra["paper_candidates"] = paper_candidates
    extra["weights"] = {
        n: round(float(w), 4) for n, w in zip(names, coefficients, strict=True) if abs(w) >= 1e-4
    }
    extra |= {
        "trained_with": "python benchmarks/train_tc_linker.py",
        "training_papers": [p.stem for p in papers],
        "cross_validated": {
            "rules": [round(x, 3) for x in rules],
            "learned": [round(x, 3) for x in learned],
        },
    }
    return {
        "id": "tc_linker",
        "name": f"Tc linker ({objective} over syntax and context cues)",
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
            + (
                "the sample the paper names most "
                if paper_candidates == 1
                else f"the {paper_candidates} samples the paper names most "
            )
            + f"(inference/literature/linker.py); {rule}, else the value keeps no material. "
            f"Trained on {len(papers)} papers of the tuning part of supermat_dev "
            f"({n_pairs} value-candidate pairs; labels from the gold TEI links). Model "
            f"({objective}, L2 C={strength}; cues: {FEATURE_SET_NAMES[feature_set]}), candidates "
            "and cut chosen by "
            "5-fold cross-validation grouped by paper within the tuning part; cross-validated "
            "link scores there (distinct material-Tc pairs per paper): rules (written on those "
            f"papers) P {rules[0]:.3f} R {rules[1]:.3f} F1 {rules[2]:.3f}, learned "
            f"P {learned[0]:.3f} R {learned[1]:.3f} F1 {learned[2]:.3f}."
        ),
        "exporter": "",
        "extra": extra,
    }


if __name__ == "__main__":
    sys.exit(main())
