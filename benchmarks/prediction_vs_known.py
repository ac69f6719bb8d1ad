"""How often a composition model's 90 % interval misses the known value it is shown under.

    .venv/bin/python benchmarks/prediction_vs_known.py

On the 2135 compounds of pymatgen's experimental formation-enthalpy list (a list of formulas
shipped with pymatgen; the tables and models did not choose it), each prediction with an
interval is paired with the known value of the table its model was trained on, as the
Prediction pane and `matlens predict` show them. Prints, per table: the pairs, the pairs whose
shown known value (one row, the lowest formation energy or median of several polymorphs,
or a cited correction) lies outside the
interval, which `predict` now marks doubtful, and for comparison the pairs whose whole range
of polymorph values lies outside it. Takes about two minutes on two cores.
"""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path


def main() -> None:
    import pymatgen.analysis.compatibility as compatibility

    from inference.prediction.composition import composition_cards, predict_fractions
    from inference.prediction.known_disagreement import compared_values, missed_value, trained_on
    from inference.prediction.known_values import known_values
    from inference.prediction.notation import parse_composition

    listed = Path(compatibility.__file__).parent / "exp_compounds.json.gz"
    formulas = [row["formula"] for row in json.loads(gzip.decompress(listed.read_bytes()))]
    dataset_of = {c.id: trained_on(c.extra.get("splits", "")) for c in composition_cards()}
    compositions, known = [], []
    for formula in formulas:
        parsed = parse_composition(formula)
        compositions.append((parsed.text, parsed.reduced_formula, parsed.fractions))
        known.append(known_values(parsed.fractions, n_nearest=0).values)
    results = predict_fractions(compositions, known=known)

    pairs, marked, median_outside, range_outside = (collections.Counter() for _ in range(4))
    examples = []
    for values, result in zip(known, results, strict=True):
        for p in result.predictions:
            shown = compared_values(values, dataset_of.get(p.model_id) or "")
            shown = [v for v in shown if v.unit == p.unit]
            if not shown or p.low is None or p.high is None:
                continue
            table = shown[0].dataset
            pairs[table] += 1
            if missed_value(shown, p.unit, p.low, p.high) is not None:
                median_outside[table] += 1
            if max(v.high for v in shown) < p.low or min(v.low for v in shown) > p.high:
                range_outside[table] += 1
            if p.doubtful.startswith("doubtful, not shown: the known"):
                marked[table] += 1
                if len(examples) < 8:
                    examples.append(f"{result.formula} {p.label}: {p.doubtful}")

    print(f"{len(formulas)} compounds (pymatgen exp_compounds.json.gz)")
    print(f"{'table':26} {'pairs':>6} {'marked':>7} {'value out':>10} {'range out':>10}")
    for name in sorted(pairs, key=lambda d: -pairs[d]):
        print(
            f"{name:26} {pairs[name]:6d} {marked[name]:7d} {median_outside[name]:10d} "
            f"{range_outside[name]:10d}"
        )
    total = sum(pairs.values())
    measured = ("expt_gap", "handbook_gaps")
    dft = total - sum(pairs[d] for d in measured)
    for title, count in (("all tables", total), ("DFT tables only", dft)):
        keep = (lambda d: True) if count == total else (lambda d: d not in measured)
        m = sum(v for d, v in marked.items() if keep(d))
        r = sum(v for d, v in range_outside.items() if keep(d))
        print(
            f"{title}: {m} of {count} marked ({m / count:.1%}); whole range outside: "
            f"{r} ({r / count:.1%})"
        )
    print("examples:")
    for line in examples:
        print(" ", line)


if __name__ == "__main__":
    main()
