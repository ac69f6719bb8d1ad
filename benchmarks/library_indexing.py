"""Indexing a library of PDFs for search (the Literature pane's Open folder…): serial against
parallel, in one run.

The library: the 6 PDFs of the shared papers set (supermat/pdf and grobid_quantities/pdf),
indexed from scratch (empty index) in each mode, one mode after the other in this process:

- before: the indexing loop as it was (paper after paper, MiniLM batches in file order);
- serial: `Library.update(workers=1)` (paper after paper here; batches of similar length);
- parallel: `Library.update(workers=N)` (N worker processes of this computer, one paper
  each; the time includes starting them and loading MiniLM in each).

MiniLM is loaded in this process before the clock starts (the window has it by then). The
issue's reference: 14.8 s for the 6 papers on the 2-core machine. Timings move with the load
of the machine: read the ratios.

    python benchmarks/library_indexing.py [--workers N] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAPERS = REPO.parent / "shared" / "data" / "papers"


def _library(folder: Path) -> list[Path]:
    pdfs = sorted((PAPERS / "supermat" / "pdf").glob("*.pdf"))
    pdfs += sorted((PAPERS / "grobid_quantities" / "pdf").glob("*.pdf"))
    if len(pdfs) != 6:
        raise SystemExit(f"expected the 6 shared PDFs under {PAPERS}, found {len(pdfs)}")
    for pdf in pdfs:
        (folder / pdf.name).symlink_to(pdf)
    return pdfs


def _before(root: Path) -> int:
    """The loop `Library.update` ran before: parse, passages, embed in file order."""
    from inference.literature.embed import embedder
    from inference.literature.pdf import parse_pdf
    from inference.literature.search import passages_of

    model = embedder()
    passages = 0
    for path in sorted(root.glob("*.pdf")):
        paper = parse_pdf(path, tables=False)
        texts = [p.text for p in passages_of(paper, path.name)]
        model.embed(texts, by_length=False)
        passages += len(texts)
    return passages


def _update(root: Path, index: Path, workers: int) -> int:
    from inference.batch import papers_on_workers
    from inference.literature.search import Library

    library = Library(root, index_dir=index)
    report = library.update(workers=workers, on_workers=papers_on_workers)
    if report.failed or len(report.added) != 6:
        raise SystemExit(f"indexing failed: {report.failed}")
    return sum(len(e["passages"]) for e in library._entries.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    import inference  # noqa: F401 - the offline environment first
    from inference.literature.embed import embedder

    embedder()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "library"
        root.mkdir()
        _library(root)
        times: dict[str, list[float]] = {"before": [], "serial": [], "parallel": []}
        for round_ in range(args.rounds):
            for mode in times:
                index = Path(tmp) / f"index-{mode}-{round_}"
                began = time.perf_counter()
                if mode == "before":
                    passages = _before(root)
                else:
                    passages = _update(root, index, 1 if mode == "serial" else args.workers)
                seconds = time.perf_counter() - began
                times[mode].append(seconds)
                print(f"round {round_ + 1} {mode:8s} {seconds:6.2f} s  ({passages} passages)")
    best = {mode: min(values) for mode, values in times.items()}
    print(f"index_6_papers_before_s {best['before']:.2f}   (issue: 14.8 s serial)")
    print(f"index_6_papers_serial_s {best['serial']:.2f}")
    print(f"index_6_papers_parallel_s {best['parallel']:.2f}  ({args.workers} worker processes)")
    print(f"serial_vs_before {best['before'] / best['serial']:.2f}x")
    print(f"parallel_vs_serial {best['serial'] / best['parallel']:.2f}x")
    print(
        f"parallel_vs_before {best['before'] / best['parallel']:.2f}x  (load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
