"""Rules alone vs rules + learned tagger (candidate head files) on SuperMat tuning papers.

    .venv/bin/python benchmarks/tagger_holdout.py [--papers held|tune] [--details] HEAD.onnx...

Chooses the tagger's training recipe (`inference/export/ner_finetune.py --supermat half`):
"held" is the second of the tuning part's two seeded halves (`link_errors.halves`), which a
candidate trained with `--supermat half` never saw; "tune" is the whole tuning part (in-sample
for a tagger trained on it). The report part is never read here. Each PDF is parsed once and
extracted with the rules alone, then with each head file swapped into the shipped tagger
(`installed` names the head the card points at). Scores use the benchmark's matching rules.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from link_errors import halves  # noqa: E402
from literature_extraction import (  # noqa: E402
    _scores,
    score_supermat,
    scored_output,
    split_supermat_dev,
)

import inference.literature.ner as ner  # noqa: E402
from inference.literature.extract import extract  # noqa: E402
from inference.literature.pdf import parse_pdf  # noqa: E402


class CachedTagger:
    """The shipped tagger with another head file; tags each paper once."""

    def __init__(self, head: str) -> None:
        from inference.runtime.sessions import OnnxModel

        self.tagger = ner.Tagger()
        if head != "installed":
            self.tagger.head = OnnxModel(Path(head), spin=False)
        self.cache: dict[tuple[str, ...], list] = {}

    def tag(self, sentences: list[str], **kwargs) -> list:
        key = tuple(sentences)
        if key not in self.cache:
            self.cache = {key: self.tagger.tag(sentences, **kwargs)}
        return self.cache[key]


_TAGGERS: dict[str, CachedTagger] = {}


def use_head(head: str) -> None:
    """Make `extract(ner=True)` run the tagger with this head file."""
    tagger = _TAGGERS.setdefault(head, CachedTagger(head))
    ner.tagger = lambda: tagger  # type: ignore[assignment]  # extract imports it per call


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("heads", nargs="+", help="head .onnx files, or 'installed'")
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "papers"))
    parser.add_argument("--papers", choices=("held", "tune"), default="held")
    parser.add_argument("--details", action="store_true", help="materials each tagger adds")
    args = parser.parse_args()
    folder = Path(args.shared) / "supermat_dev"
    stems = [p.stem for p in sorted((folder / "pdf").glob("*.pdf"))]
    tune, _report = split_supermat_dev(stems)
    chosen = halves(tune)[1] if args.papers == "held" else tune
    papers = [
        ("tune", folder / "pdf" / f"{s}.pdf", folder / "gold_tei" / f"{s}.superconductors.tei.xml")
        for s in chosen
    ]
    variants = ["rules", *args.heads]
    predictions: dict[str, dict[str, dict]] = {v: {} for v in variants}
    for _, pdf, _ in papers:
        paper = parse_pdf(pdf)
        for v in variants:
            if v != "rules":
                use_head(v)
            started = time.perf_counter()
            result = extract(paper, ner=v != "rules")
            seconds = time.perf_counter() - started
            predictions[v][str(pdf)] = {
                "pages": paper.n_pages,
                "seconds": seconds,
                **scored_output(paper, result),
            }
    print(f"{len(papers)} papers ({args.papers})")
    scored = {v: score_supermat(papers, predictions[v]) for v in variants}
    for v in variants:
        for key in ("materials", "tc", "links"):
            acc = scored[v]["counts"]["tune"][key]
            p, r, f = _scores(acc)
            name = Path(v).parent.name or v
            print(f"{name:18s} {key:9s} P {p:.3f} R {r:.3f} F1 {f:.3f}  {acc}")
    if args.details:
        rules = {row[1]: row for row in scored["rules"]["rows"]}
        print("== rules")
        for row in scored["rules"]["rows"]:
            print(f"  {row[1]}: wrong {row[3]}\n      missed {row[2]}")
        for v in args.heads:
            print(f"== {v}")
            for row in scored[v]["rows"]:
                base = rules[row[1]]
                wrong = sorted(set(row[3]) - set(base[3]))
                found = sorted(set(base[2]) - set(row[2]))
                if wrong or found:
                    print(f"  {row[1]}: +wrong {wrong}\n      +found {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
