"""The experimental band-gap model: two-stage boosted trees with DFT side features, exported as
one ONNX graph.

    OMP_NUM_THREADS=1 nice python -m training.prediction.gap_model [--out DIR]

Per crabnet matbench_cv fold k (trained on train{k}+val{k}, scored on test{k}):
- inputs: fraction-weighted mat2vec + Magpie + element fractions + Oliynyk statistics
  (featurize.TREE_BLOCKS), and side features from models that never saw an experimental gap:
  boosted-tree models of the Materials Project PBE gap and of P(PBE gap > 0) on all 106k rows of
  crabnet's mp_gap table, and the shipped formation-energy and moduli models;
- a classifier P(gap > 0) and two regressors (absolute and squared error) on the non-zero gaps;
  the member's gap is their mean where P > 0.5 and 0 elsewhere;
- no metal call where the side PBE-gap model predicts more than DFT_GATE = 3 eV (round 1, on
  val folds 0 and 1: the gate at 1, 1.5, 2, 2.5, 3 eV and none gave MAE 0.474/0.434,
  0.436/0.413, 0.414/0.383, 0.396/0.383, 0.396/0.362 and 0.404/0.380).
Design chosen on the val folds only (train{k} → val{k}, mean of folds 0-4): round 1's design
0.3788; side models on all mp_gap rows 0.2952; + Oliynyk 0.2818; + max_features 0.5 instead of
0.3: 0.2732 (kept); 600 trees at learning rate 0.03 0.2827; 15 leaves 0.2872; a metal call where
the PBE-gap model says < 0.1 eV and P(gap) < 0.8: 0.2749 (dropped). The test folds are scored
once, after the choice. The side models have seen the PBE gap (never the experimental one) of
most test compositions, so the MAE is printed apart for those in mp_gap and the others.
Set OMP_NUM_THREADS=1 on a shared machine: scikit-learn's OpenMP threads spin otherwise.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path

import numpy as np

from inference.prediction.featurize import BASE_BLOCKS, BLOCKS, TREE_BLOCKS, default_tables
from training.prediction.features_cache import cache_folder, features_for
from training.prediction.train import TASKS, crabnet_data, read_split, write_card
from training.prediction.trees import (
    TreeParams,
    export_two_stage,
    fit_classifier,
    fit_regressor,
)

SIDE_PARAMS = TreeParams(
    max_iter=500, max_leaf_nodes=63, min_samples_leaf=20, learning_rate=0.1, max_features=0.3
)
FOLD_PARAMS = TreeParams(max_iter=300, max_features=0.5)
DFT_GATE = 3.0  # eV of predicted PBE gap above which a member never calls a metal
# Other shipped models whose ensemble mean is a side feature (graph input → model, blocks read).
SIDE_ONNX = (
    ("sidem0", "comp_mp_e_form", BLOCKS),
    ("sidem1", "comp_log10_k", BASE_BLOCKS),
    ("sidem2", "comp_log10_g", BASE_BLOCKS),
)


def _width(blocks: tuple[str, ...]) -> int:
    return default_tables().width(blocks)


def side_gap_models() -> list:
    """HistGradientBoosting models of the Materials Project PBE gap on all 106k mp_gap rows:
    the gap (squared error) and P(gap > 0). Cached on disk: about 10-20 min to fit on one core."""
    path = cache_folder() / "side_mp_gap_full.pkl"
    if path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)["models"]
    import csv

    with open(crabnet_data() / "matbench" / "mp_gap.csv") as fh:
        rows = list(csv.DictReader(fh))
    formulas = [r["formula"] for r in rows]
    y = np.array([float(r["target"]) for r in rows])
    x = features_for(formulas)
    models = [
        fit_regressor(x, y, SIDE_PARAMS, 0, loss="squared_error"),
        fit_classifier(x, y > 0, SIDE_PARAMS, 0),
    ]
    with open(path, "wb") as fh:
        pickle.dump({"models": models}, fh)
    return models


def side_features(x: np.ndarray, sides: list, models: Path) -> np.ndarray:
    """The side models' outputs for rows of features (of BLOCKS or a wider set ending in it)."""
    import onnxruntime as ort

    base = x[:, : _width(BLOCKS)]
    cols = [
        m.predict_proba(base)[:, 1] if hasattr(m, "predict_proba") else m.predict(base)
        for m in sides
    ]
    for _, model_id, blocks in SIDE_ONNX:
        session = ort.InferenceSession(str(models / f"{model_id}.onnx"))
        inp = x[:, : _width(blocks)].astype(np.float32)
        cols.append(np.asarray(session.run(None, {"features": inp})[0]).mean(1))
    return np.stack(cols, 1)


def _mp_gap_keys() -> set[str]:
    """Compositions in crabnet's mp_gap table (the side models learned their PBE gaps)."""
    import csv

    from inference.prediction.materials_store import composition_key, formula_amounts

    with open(crabnet_data() / "matbench" / "mp_gap.csv") as fh:
        return {composition_key(formula_amounts(r["formula"])) for r in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="resources/models")
    parser.add_argument("--mlp", help="the MLP ensemble scored for reference (default: round 1's)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    task = TASKS["expt_gap"]
    mlp = Path(args.mlp) if args.mlp else cache_folder() / "comp_expt_gap_mlp.onnx"
    import onnxruntime as ort

    from inference.prediction.materials_store import composition_key, formula_amounts

    mlp_session = ort.InferenceSession(str(mlp)) if mlp.exists() else None
    start = time.perf_counter()
    sides = side_gap_models()
    in_mp = _mp_gap_keys()
    folds, fold_mae, shares, parts = (
        [],
        [],
        [],
        {"trees": [], "mlp": [], "in_mp_gap": [], "not_in_mp_gap": []},
    )
    for fold in range(5):
        f_tr, y_tr = read_split(task, "train", fold)
        f_va, y_va = read_split(task, "val", fold)
        f_te, y_te = read_split(task, "test", fold)
        f_tr, y_tr = f_tr + f_va, np.concatenate([y_tr, y_va])
        x_tr, x_te = features_for(f_tr, TREE_BLOCKS), features_for(f_te, TREE_BLOCKS)
        a_tr = np.hstack([x_tr, side_features(x_tr, sides, out)])
        a_te = np.hstack([x_te, side_features(x_te, sides, out)])
        pos = y_tr > 0
        classifier = fit_classifier(a_tr, pos, FOLD_PARAMS, fold)
        regressors = [
            fit_regressor(a_tr[pos], y_tr[pos], FOLD_PARAMS, fold, loss="absolute_error"),
            fit_regressor(a_tr[pos], y_tr[pos], FOLD_PARAMS, fold, loss="squared_error"),
        ]
        folds.append((classifier, regressors))
        p_gap = classifier.predict_proba(a_te)[:, 1]
        pbe = a_te[:, x_te.shape[1]]
        nonmetal = (p_gap > 0.5) | (pbe > DFT_GATE)
        reg = np.clip(np.mean([r.predict(a_te) for r in regressors], axis=0), 0, None)
        pred = np.where(nonmetal, reg, 0.0)
        errors = np.abs(pred - y_te)
        fold_mae.append(float(errors.mean()))
        parts["trees"].append(fold_mae[-1])
        known = np.array([composition_key(formula_amounts(f)) in in_mp for f in f_te])
        shares.append(float(known.mean()))
        parts["in_mp_gap"].append(float(errors[known].mean()))
        parts["not_in_mp_gap"].append(float(errors[~known].mean()))
        line = f"fold {fold}: test MAE {fold_mae[-1]:.4f} ({known.mean():.0%} in mp_gap: "
        line += f"{parts['in_mp_gap'][-1]:.4f}; others {parts['not_in_mp_gap'][-1]:.4f})"
        if mlp_session is not None:
            mlp_x = x_te[:, : _width(BLOCKS)].astype(np.float32)
            net = np.asarray(mlp_session.run(None, {"features": mlp_x})[0])[:, fold]
            parts["mlp"].append(float(np.abs(np.clip(net, 0, None) - y_te).mean()))
            line += f", round-1 MLP {parts['mlp'][-1]:.4f}"
        print(f"{line} ({time.perf_counter() - start:.0f} s)", flush=True)
    onnx_path = out / "comp_expt_gap.onnx"
    export_two_stage(
        onnx_path,
        _width(TREE_BLOCKS),
        folds,
        sides,
        [name for name, _, _ in SIDE_ONNX],
        dft_gate=DFT_GATE,
    )
    f_te, y_te = read_split(task, "test", 4)
    x_te = features_for(f_te, TREE_BLOCKS)
    side_te = side_features(x_te, sides, out)
    feeds = {"features": x_te.astype(np.float32)}
    first = len(sides)
    feeds.update(
        {
            name: side_te[:, first + i : first + i + 1].astype(np.float32)
            for i, (name, _, _) in enumerate(SIDE_ONNX)
        }
    )
    check = np.asarray(ort.InferenceSession(str(onnx_path)).run(None, feeds)[0])[:, 4]
    assert abs(float(np.abs(check - y_te).mean()) - fold_mae[-1]) < 1e-3, "export mismatch"
    metrics = {
        "task": task.name,
        "fold_mae": fold_mae,
        "mae": float(np.mean(fold_mae)),
        "mae_std": float(np.std(fold_mae)),
        "train_seconds": round(time.perf_counter() - start, 1),
        "onnx": onnx_path.name,
    }
    card_path = write_card(metrics, out)
    card = json.loads(card_path.read_text())
    card["description"] = (
        "Two-stage boosted trees (P(gap > 0) classifier; absolute- and squared-error regressors "
        "on non-zero gaps) on fraction-weighted mat2vec + Magpie + element fractions + Oliynyk "
        "statistics, plus side features from models that never saw an experimental gap: "
        "boosted-tree models of the Materials Project PBE gap and of P(PBE gap > 0) fitted on "
        "all 106k rows of crabnet's mp_gap table (so they have seen the PBE gap, never the "
        f"experimental one, of {np.mean(shares):.0%} of the expt_gap compositions), and the "
        "shipped formation-energy and moduli models. "
        f"No metal call where the PBE-gap model predicts more than {DFT_GATE:g} eV. "
        "One member per crabnet matbench_cv fold (train+val), scored on its test fold: "
        f"5-fold MAE {metrics['mae']:.4f} eV ({np.mean(parts['in_mp_gap']):.4f} on test "
        "compositions in mp_gap, "
        f"{np.mean(parts['not_in_mp_gap']):.4f} on the others). matbench v0.1 leaderboard "
        "(official folds, not the same splits; expt_gap data only): CrabNet 0.3463."
    )
    extra = card["extra"]
    extra["features"] = list(TREE_BLOCKS)
    extra["parts_fold_mae"] = {k: [round(v, 5) for v in vs] for k, vs in parts.items() if vs}
    extra["dft_gate_ev"] = DFT_GATE
    extra["side_inputs"] = {name: model_id for name, model_id, _ in SIDE_ONNX}
    extra["side_models"] = "PBE gap and P(PBE gap > 0), crabnet mp_gap, all 106,113 rows"
    extra["test_share_in_mp_gap"] = round(float(np.mean(shares)), 4)
    extra["architecture"] = "two-stage trees"
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: metrics[k] for k in ("task", "mae", "mae_std")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
