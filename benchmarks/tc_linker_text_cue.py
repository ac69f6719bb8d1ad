"""Does a text cue from frozen MiniLM help the learned Tc linker? (issue 20, item 5; it does not)

    .venv/bin/python benchmarks/tc_linker_text_cue.py [--shared ../shared/data/papers]
        [--cache FILE]

Only the tuning part of supermat_dev (46 papers, the fixed split of `literature_extraction`)
is read; the report part and the old 4 papers are not.

The text cue: for every Tc value MatLens links (the queries of `train_tc_linker`), MiniLM (the
shipped graphs, frozen) reads a window from its paragraph's earliest candidate (at most 600
characters back) to the end of its sentence, once per value. A (value, candidate) pair is the
mean token state of the candidate's word pieces, of the value's and of the word pieces between
them, [m, v, m*v, |m-v|, between], from the lower graph's output (layer 4) and the upper
graph's `token_states` (layer 6) side by side (layer 4 alone: pair AUC 0.773, layer 6 alone
0.762, both 0.786, out of fold). A logistic regression (standardised, C 0.003) says whether the
candidate is the value's gold material; its probability, whether it is the value's best
candidate by it and its margin over the next become cues of the linker (`text_score`,
`text_best`, `text_margin`).

Nested cross-validation, grouped by paper: in each of the linker's 5 folds the text model that
scores the held-out papers is trained on the other 4 folds' papers, and the text cues of those
training papers come from an inner 4-fold cross-validation among them, so no linker ever
trains or is scored on a text score that saw its paper's labels. L2 strength and cut are
chosen by the cross-validated F1 alike for every row. Link F1 as the benchmark counts it
(distinct material-Tc pairs per paper); intervals: paired bootstrap over papers (2000 draws).

Result at revision of this file (tuning part, 46 papers, 392 Tc values):
    rules (written on these papers)         F1 0.824
    learned linker (today's cues)           F1 0.826   vs rules +0.001 [-0.004, +0.007]
    learned + text cues                     F1 0.819   vs learned -0.007 [-0.020, +0.002]
    no rule cues                            F1 0.745
    no rule cues + text cues                F1 0.760   vs no rule cues +0.015 [-0.042, +0.053]
The text model alone ranks pairs worse than the linker's cues (AUC 0.786 against 0.856 on the
same pairs). Among values with two or more scored candidates, where the two disagree the
linker is right 17 times and the text model 4; a text model that always picked a right window
candidate where the linker links a value would lift F1 only to 0.852. Most of the linker's errors are not a choice
among the candidates: the value has no right candidate at all (the gold links it to a
descriptor MatLens does not read as a sample, or to nothing), and a value-level text model
("does this value have a right candidate") scored AUC 0.55-0.59 against the linker's own top
probability's 0.77. Also tried, no better: entity markers ("@ mention @", "# value #") with
one window per pair (AUC 0.74), 8 or 32 principal components of the pair vector as direct
linker cues (F1 0.820 and 0.821), training the text model on the gold TEI's own value-material
pairs (AUC 0.74; with MatLens's pairs 0.77). Nothing shipped: the linker card is unchanged.
"""

from __future__ import annotations

import argparse
import copy
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_tc_linker as tuning
from literature_extraction import REPO, supermat_papers

from inference.literature.pdf import parse_pdf
from inference.literature.quantities import normalise

WINDOW_BEFORE = 600  # characters before the value's sentence that the window may reach
TEXT_C = 0.003  # the text model's L2 strength (best out-of-fold pair AUC of 0.001-0.03)
LINKER_C = (0.01, 0.03, 0.1, 0.3)
BOOTSTRAP = 2000


@dataclass(frozen=True)
class TokenStates:
    """One window's per-word-piece states (layers 4 and 6 side by side) and character spans."""

    states: np.ndarray
    offsets: np.ndarray  # (word pieces, 2); (0, 0) for [CLS], [SEP]


def encode(texts: list[str], batch: int = 16) -> list[TokenStates]:
    from inference.literature.embed import embedder

    enc = embedder()
    out: dict[int, TokenStates] = {}
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
    for i in range(0, len(order), batch):
        chunk = order[i : i + batch]
        encodings = enc.tokenizer.encode_batch([texts[k] for k in chunk])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (lower,) = enc.lower.run(feeds)
        (upper,) = enc.upper.run({enc.states: lower, "attention_mask": mask}, ["token_states"])
        states = np.concatenate([lower, upper], axis=-1)
        for k, e, s in zip(chunk, encodings, states, strict=True):
            n = int(sum(e.attention_mask))
            offsets = np.array(e.offsets[:n], dtype=np.int64)
            offsets[np.array(e.special_tokens_mask[:n], dtype=bool)] = 0
            out[k] = TokenStates(s[:n].astype(np.float32), offsets)
    return [out[k] for k in range(len(texts))]


def pooled(s: TokenStates, start: int, end: int) -> np.ndarray | None:
    a, b = s.offsets[:, 0], s.offsets[:, 1]
    inside = (b > a) & (a < end) & (b > start)
    return s.states[inside].mean(axis=0) if inside.any() else None


def pair_vector(s: TokenStates, mention: tuple[int, int], value: tuple[int, int]):
    m, v = pooled(s, *mention), pooled(s, *value)
    if m is None or v is None:  # past MiniLM's 256 word pieces
        return None
    lo, hi = (mention[1], value[0]) if mention[1] <= value[0] else (value[1], mention[0])
    between = pooled(s, lo, hi)
    between = np.zeros_like(m) if between is None else between
    return np.concatenate([m, v, m * v, np.abs(m - v), between])


def pair_vectors(papers, texts: dict[str, str]) -> dict[tuple[int, int, int, int], np.ndarray]:
    """(paper, query, candidate start, end) → pair vector, for candidates inside the window."""
    windows = []
    for pi, p in enumerate(papers):
        for qi, (q, _, _) in enumerate(p.queries):
            near = [c.offset for c in q.candidates if c.scope != "paper"]
            start = max(min(near + [q.offset]), q.offset - WINDOW_BEFORE)
            text = normalise(texts[p.stem][start : q.offset + len(q.text)]).replace("\n", " ")
            windows.append((pi, qi, start, text))
    out = {}
    for (pi, qi, start, _), s in zip(windows, encode([w[3] for w in windows]), strict=True):
        q = papers[pi].queries[qi][0]
        value = (q.value[0] - start, q.value[1] - start)
        for c in q.candidates:
            if c.scope == "paper" or c.start < start:
                continue
            x = pair_vector(s, (c.start - start, c.end - start), value)
            if x is not None:
                out[(pi, qi, c.start, c.end)] = x
    return out


class TextCue:
    """The text model's out-of-sample scores for any split of the tuning papers."""

    def __init__(self, t: tuning.Table, papers, vectors) -> None:
        qkeys = [(pi, qi) for pi, p in enumerate(papers) for qi in range(len(p.queries))]
        keys = [(*qkeys[q], c.start, c.end) for q, cands in enumerate(t.candidates) for c in cands]
        self.has = np.array([k in vectors for k in keys])
        self.x = np.zeros((len(keys), len(next(iter(vectors.values())))), np.float32)
        for i, k in enumerate(keys):
            if k in vectors:
                self.x[i] = vectors[k]
        self.y = t.y
        self.paper = t.query_paper[t.pair_query]

    def scores(self, train, target) -> np.ndarray:
        """Pair probabilities for the target papers (NaN elsewhere) from the train papers."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        a = np.isin(self.paper, train) & self.has
        b = np.isin(self.paper, target) & self.has
        scale = StandardScaler().fit(self.x[a])
        model = LogisticRegression(C=TEXT_C, max_iter=3000).fit(
            scale.transform(self.x[a]), self.y[a]
        )
        out = np.full(len(self.y), np.nan)
        out[b] = model.predict_proba(scale.transform(self.x[b]))[:, 1]
        return out

    def out_of_fold(self, papers_in) -> np.ndarray:
        from sklearn.model_selection import GroupKFold

        ids = np.asarray(papers_in)
        out = np.full(len(self.y), np.nan)
        for a, b in GroupKFold(n_splits=tuning.FOLDS - 1).split(ids, ids, ids):
            s = self.scores(ids[a], ids[b])
            out[~np.isnan(s)] = s[~np.isnan(s)]
        return out


def with_text(t: tuning.Table, scores: np.ndarray) -> tuning.Table:
    """The table with the text cues added to every pair that has a text score."""
    rows = [dict(r) for r in t.rows]
    for q in range(len(t.query_rows)):
        idx = np.flatnonzero(t.pair_query == q)
        s = scores[idx]
        for j, i in enumerate(idx):
            if np.isnan(s[j]):
                continue
            others = np.delete(s, j)
            others = others[~np.isnan(others)]
            rows[i]["text_score"] = float(s[j])
            top = float(others.max()) if len(others) else 0.0
            rows[i]["text_margin"] = float(s[j]) - top
            if s[j] >= top:
                rows[i]["text_best"] = 1.0
    out = copy.copy(t)
    out.rows = rows
    return out


def linker_scores(papers, t: tuning.Table, strength: float, folds, cue: TextCue | None):
    """Out-of-fold linker probabilities; with `cue`, the text cues are nested (see above)."""
    if cue is None:
        return tuning.cross_validate(papers, t, "logistic", strength, folds)[0]
    out = np.zeros(len(t.rows))
    for train, test in folds:
        held_out = np.isin(cue.paper, test)
        text = np.where(held_out, cue.scores(train, test), cue.out_of_fold(train))
        s, _ = tuning.cross_validate(
            papers, with_text(t, text), "logistic", strength, [(train, test)]
        )
        out[held_out] = s[held_out]
    return out


def best_per_paper(papers, t: tuning.Table, folds, cue: TextCue | None):
    """Per-paper link counts of the best (L2 strength, cut) by cross-validated F1."""
    best: tuple[float, list] | None = None
    none = np.zeros(len(t.query_rows))
    for strength in LINKER_C:
        s = linker_scores(papers, t, strength, folds, cue)
        for cut in tuning.CUTS["logistic"]:
            choices = tuning.decide(papers, t, s, none, cut)
            counts = [tuning.link_scores([p], [c]) for p, c in zip(papers, choices, strict=True)]
            f = f1(counts)
            if best is None or f > best[0]:
                best = (f, counts)
    assert best is not None
    return best[1]


def f1(per_paper) -> float:
    return tuning.prf(tuple(np.sum(per_paper, axis=0)))[2]


def bootstrap(a, b) -> tuple[float, float, float]:
    """F1(a) - F1(b) and its 95% interval over papers drawn with replacement."""
    a, b = np.asarray(a), np.asarray(b)
    rng = np.random.default_rng(0)
    draws = [f1(a[i]) - f1(b[i]) for i in rng.integers(0, len(a), (BOOTSTRAP, len(a)))]
    return f1(a) - f1(b), float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--cache", help="pickle of the collected tuning data (reused if present)")
    args = parser.parse_args()
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.is_file():
        papers, texts = pickle.loads(cache.read_bytes())
    else:
        papers = tuning.collect(Path(args.shared))
        texts = {
            pdf.stem: parse_pdf(pdf).text
            for part, pdf, _ in supermat_papers(Path(args.shared))
            if part == "tune"
        }
        if cache is not None:
            cache.write_bytes(pickle.dumps((papers, texts)))
    folds = tuning.paper_folds(len(papers))
    vectors = pair_vectors(papers, texts)
    rules = [tuning.count_links([p], [p.rules]) for p in papers]
    rows = {}
    for feature_set, name in (("new", "learned linker"), ("no rules", "no rule cues")):
        t = tuning.table(papers, 1, feature_set)
        rows[name] = best_per_paper(papers, t, folds, None)
        rows[name + " + text"] = best_per_paper(papers, t, folds, TextCue(t, papers, vectors))
    print(f"tuning part: {len(papers)} papers; link F1, 5-fold cross-validated by paper")
    print(f"  {'rules (written on these papers)':34s} {f1(rules):.3f}")
    against = {
        "learned linker": ("rules", rules),
        "learned linker + text": ("learned linker", rows["learned linker"]),
        "no rule cues": ("rules", rules),
        "no rule cues + text": ("no rule cues", rows["no rule cues"]),
    }
    for name, counts in rows.items():
        other, base = against[name]
        d, lo, hi = bootstrap(counts, base)
        print(f"  {name:34s} {f1(counts):.3f}  vs {other}: {d:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
