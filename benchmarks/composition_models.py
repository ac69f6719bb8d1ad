"""The composition models' 5-fold table, read from their model cards (no training, no data).

    .venv/bin/python benchmarks/composition_models.py

Regression: our mean MAE over crabnet's 5 matbench_cv folds next to matbench v0.1's published
CrabNet, RF-SCM/Magpie and Dummy MAEs (official folds: close, not identical splits).
Classification: ROC-AUC / accuracy / F1 next to a majority-class Dummy on the same folds.
Re-train with `python -m inference.prediction.training.train --tasks ...`.
"""

from __future__ import annotations

from inference.prediction.composition import composition_cards


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.4g}"


def main() -> None:
    cards = sorted(composition_cards(), key=lambda c: c.id)
    print("Regression (MAE, 5 folds)")
    print(
        f"{'task':34s} {'ours':>8s} {'± sd':>7s} {'CrabNet':>8s} {'RF':>8s} {'Dummy':>8s}  verdict"
    )
    for c in cards:
        e = c.extra
        if "rocauc" in e:
            continue
        folds = e["fold_mae"]
        mean = sum(folds) / len(folds)
        sd = (sum((v - mean) ** 2 for v in folds) / len(folds)) ** 0.5
        ref = e.get("crabnet_mae_matbench")
        verdict = "" if ref is None else ("meets CrabNet" if mean <= ref else "above CrabNet")
        print(
            f"{e['splits'].split('/')[-1].split()[0]:34s} {mean:8.4g} {sd:7.2g} "
            f"{_fmt(ref):>8s} {_fmt(e.get('rf_magpie_mae_matbench')):>8s} "
            f"{_fmt(e.get('dummy_mae_matbench')):>8s}  {verdict} [{e['unit']}]"
        )
    print("\nClassification (5 folds; Dummy = majority class on the same folds)")
    for c in cards:
        e = c.extra
        if "rocauc" not in e:
            continue
        print(
            f"{c.id}: ROC-AUC {e['rocauc']:.4f} (folds {', '.join(f'{v:.3f}' for v in e['fold_rocauc'])}), "
            f"accuracy {e['accuracy']:.4f}, F1 {e['f1']:.4f}; Dummy ROC-AUC "
            f"{e['dummy_rocauc_same_folds']:.2f}, accuracy {e['dummy_accuracy_same_folds']:.4f}, "
            f"F1 {e['dummy_f1_same_folds']:.4f}"
        )
        for name, value in e.get("reference_matbench", {}).items():
            print(f"  matbench v0.1: {name} {value}")


if __name__ == "__main__":
    main()
