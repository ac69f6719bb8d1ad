"""The structure fuzz corpus as a table: every broken file through `matlens structure info`.

Prints, per category, how many files were tried and how each ended (ok, clear error, unclear,
traceback, crash, hang), then the cases that were not ok or a clear error. The corpus is
tests/structure_mutants.py, made from the bundled samples and ../shared/data/structures.

Usage: python benchmarks/structure_fuzz.py [--workers 2] [--details] [--memory]
  --memory  also run `structure info` on the valid 20,384-atom CIF with time to finish and print
            its peak RSS (several minutes: pymatgen and spglib are slow on a cell this large).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from cli_harness import run_matlens  # noqa: E402
from structure_mutants import CATEGORIES, OUTCOMES, classify, nacl_supercell_cif, write_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--details", action="store_true", help="print every case")
    parser.add_argument("--memory", action="store_true", help="peak RSS on 20,384 atoms")
    parser.add_argument("--shared", default=str(REPO.parent / "shared" / "data" / "structures"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_corpus(Path(tmp), Path(args.shared))

        def one(item):
            mutant, path = item
            run = run_matlens("structure", "info", path, *mutant.extra_args, timeout=90)
            return mutant, path, run, classify(run, path)

        with ThreadPoolExecutor(args.workers) as pool:
            results = list(pool.map(one, corpus))
        counts: dict[str, Counter] = {c: Counter() for c in CATEGORIES}
        for mutant, _path, _run, (outcome, _why) in results:
            counts[mutant.category][outcome] += 1
        header = ["category", "tried", *OUTCOMES]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        total: Counter = Counter()
        for category, counter in counts.items():
            total.update(counter)
            row = [category, str(sum(counter.values())), *(str(counter[o]) for o in OUTCOMES)]
            print("| " + " | ".join(row) + " |")
        print(
            "| **all** | "
            + " | ".join([str(sum(total.values())), *(str(total[o]) for o in OUTCOMES)])
            + " |"
        )
        print()
        for mutant, _path, run, (outcome, why) in results:
            if args.details or outcome not in ("ok", "clear error"):
                print(f"{outcome:12s} {mutant.name:36s} {run.seconds:5.1f}s  {why[:150]}")
        slowest = max(results, key=lambda r: r[2].seconds)
        print(f"\nslowest case: {slowest[0].name} {slowest[2].seconds:.1f} s")
        if args.memory:
            big = Path(tmp) / "big-20384-atoms-full.cif"
            big.write_bytes(nacl_supercell_cif((14, 14, 13)))
            run = run_matlens("structure", "info", big, "--timeout", "1200", timeout=1500)
            print(
                f"structure info on 20,384 atoms: exit {run.returncode}, "
                f"{run.seconds:.0f} s, peak RSS {run.peak_rss_mb:.0f} MB"
            )
            print((run.stdout or run.stderr).strip()[:600])


if __name__ == "__main__":
    main()
