"""The composition models: 5-fold scores, interval coverage and the textbook panel.

    .venv/bin/python benchmarks/composition_models.py [--no-panel]

1. Regression: mean MAE over crabnet 2.0.8's own matbench_cv test folds 0-4 (each composition
   appears once; test compositions never occur in that fold's training rows), read from the
   model cards, next to matbench v0.1's published CrabNet, RF-SCM/Magpie and Dummy MAEs
   (official matbench folds: a different split, so close, not identical comparisons).
2. Coverage of the 90 % conformal intervals on held-out folds (the half-width from 4 folds,
   applied to the 5th), per task and per fold.
3. The panel (inference/prediction/panel.py): textbook band gaps with their sources, the model's
   prediction and interval, and whether the composition is in the model's training table (then
   it is left out of the score) or in the DFT table its side model learned from.
Re-train with `python -m training.prediction.train`, re-calibrate with
`python -m training.prediction.calibrate`.
"""

from __future__ import annotations

import sys

from inference.prediction.composition import composition_cards


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4g}"


def scores() -> None:
    cards = sorted(composition_cards(), key=lambda c: c.id)
    print("Regression: MAE on crabnet's matbench_cv test folds 0-4 (mean ± sd over folds)")
    print(
        f"{'task':26s} {'ours':>8s} {'± sd':>7s} {'CrabNet':>8s} {'RF':>8s} {'Dummy':>8s}  verdict"
    )
    for c in cards:
        e = c.extra
        if "rocauc" in e:
            continue
        folds = e["fold_mae"]
        mean = sum(folds) / len(folds)
        sd = (sum((v - mean) ** 2 for v in folds) / len(folds)) ** 0.5
        ref = e.get("crabnet_mae_matbench")
        verdict = "" if ref is None else ("at or under CrabNet" if mean <= ref else "above CrabNet")
        print(
            f"{e['splits'].split('/')[-1].split()[0]:26s} {mean:8.4g} {sd:7.2g} "
            f"{_fmt(ref):>8s} {_fmt(e.get('rf_magpie_mae_matbench')):>8s} "
            f"{_fmt(e.get('dummy_mae_matbench')):>8s}  {verdict} [{e['unit']}]"
        )
        print(f"{'':26s} folds: {', '.join(f'{v:.4g}' for v in folds)}")
    print("\nClassification (5 folds; Dummy = majority class on the same folds)")
    for c in cards:
        e = c.extra
        if "rocauc" not in e:
            continue
        print(
            f"{c.id}: ROC-AUC {e['rocauc']:.4f} (folds {', '.join(f'{v:.3f}' for v in e['fold_rocauc'])}), "
            f"accuracy {e['accuracy']:.4f}, F1 {e['f1']:.4f}; Dummy ROC-AUC "
            f"{e['dummy_rocauc_same_folds']:.2f}, accuracy {e['dummy_accuracy_same_folds']:.4f}"
        )
        for name, value in e.get("reference_matbench", {}).items():
            print(f"  matbench v0.1: {name} {value}")
    print("\nCoverage of the 90 % intervals on held-out folds (goal 0.88-0.92 per task)")
    for c in cards:
        conf = c.extra.get("conformal", {})
        if "coverage" not in conf:
            continue
        widths = ", ".join(f"{k} ±{v:.3g}" for k, v in conf["halfwidth"].items())
        print(
            f"{c.extra['model_name']:66s} {conf['coverage']:.3f} "
            f"(folds {', '.join(f'{v:.3f}' for v in conf['fold_coverage'])}); half-width {widths} "
            f"{c.extra.get('unit', '')}"
        )


def panel() -> None:
    from inference.prediction.panel import run_panel

    rows = run_panel()
    print("\nPanel: textbook band gaps (eV). T = in the model's training table (not scored),")
    print("D = in the Materials Project PBE table its side model learned from (DFT, not expt.)")
    print(
        f"{'compound':8s} {'category':14s} {'known':>6s} {'predicted':>9s} {'90 % interval':>15s}  flags  result"
    )
    scored = [r for r in rows if not r.in_training]
    for r in rows:
        interval = "" if r.low is None else f"{r.low:.2f} to {r.high:.2f}"
        flags = ("T" if r.in_training else "-") + ("D" if r.in_side_data else "-")
        result = r.verdict
        print(
            f"{r.entry.formula:8s} {r.entry.category:14s} {r.entry.gap:6.2f} {r.predicted:9.2f} "
            f"{interval:>15s}  {flags:5s}  {result}"
        )
    failures = [r for r in scored if r.failure]
    covered = [r.covered for r in scored if r.covered is not None]
    mae = sum(abs(r.predicted - r.entry.gap) for r in scored) / max(len(scored), 1)
    print(
        f"\nscored entries (not in training): {len(scored)} of {len(rows)}; failures of the goal: "
        f"{len(failures)}; MAE {mae:.3f} eV; 90 % interval covers {sum(covered)}/{len(covered)}"
    )
    print("sources:")
    for source in sorted({r.entry.source for r in rows}):
        print(f"  - {source}")


def materials_data() -> None:
    """The classic query (Ca, Ti and O, band gap > 2 eV): indexed store vs a full scan."""
    import json
    import time

    from inference.prediction.materials_query import MaterialsQuery, query_materials
    from inference.prediction.materials_store import open_store

    query = MaterialsQuery(all_of=("Ca", "Ti", "O"), ranges={"band_gap": (2.0, None)})
    query_materials(query)  # the store is built (or opened) outside the timing

    def scan() -> int:
        db = open_store()
        rows = db.execute(
            "SELECT c.fractions, e.property, e.value FROM entries e "
            "JOIN compounds c ON c.id = e.compound_id"
        ).fetchall()
        db.close()
        return sum(
            1
            for fractions, prop, value in rows
            if prop == "band_gap" and value >= 2 and {"Ca", "Ti", "O"} <= set(json.loads(fractions))
        )

    def best(fn, repeats=5) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    indexed = best(lambda: query_materials(query))
    full = best(scan, repeats=2)
    result = query_materials(query)
    print(
        f"\nMaterials data: Ca+Ti+O, band gap > 2 eV: {result.total} values, "
        f"{result.compounds} compositions; indexed query {1000 * indexed:.0f} ms (best of 5), "
        f"full scan of the same store {1000 * full:.0f} ms: {full / indexed:.0f}x"
    )


def main() -> None:
    scores()
    if "--no-panel" not in sys.argv:
        panel()
    materials_data()


if __name__ == "__main__":
    main()
