"""The metal / non-metal classifier: boosted trees on the band-gap model's inputs, one ONNX graph.

    OMP_NUM_THREADS=1 nice python -m training.prediction.metal_model [--out DIR] [--val]

The inputs are the band-gap model's (gap_model.py): element descriptors with Oliynyk statistics,
and side features from models that never saw an experimental label (boosted trees of the
Materials Project PBE gap and of P(PBE gap > 0) on all 106k mp_gap rows; the shipped
formation-energy and moduli models). Per crabnet matbench_cv fold k, a classifier P(metal) is
trained on train{k}+val{k} and scored on test{k}; the five are the ensemble.
`--val` trains on train{k} and scores val{k} (the design check: nothing is written).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from inference.prediction.featurize import TREE_BLOCKS
from training.prediction.features_cache import features_for
from training.prediction.gap_model import SIDE_ONNX, _width, side_features, side_gap_models
from training.prediction.train import (
    TASKS,
    classification_scores,
    dummy_scores,
    read_split,
    write_card,
)
from training.prediction.trees import TreeParams, export_classifier, fit_classifier

PARAMS = TreeParams(max_iter=300, max_features=0.5)  # the band-gap classifier's


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="resources/models")
    parser.add_argument("--val", action="store_true", help="train{k} -> val{k}; write nothing")
    args = parser.parse_args(argv)
    out = Path(args.out)
    task = TASKS["expt_is_metal"]
    start = time.perf_counter()
    sides = side_gap_models()
    folds, scores, dummies = [], [], []
    for fold in range(5):
        f_tr, y_tr = read_split(task, "train", fold)
        f_va, y_va = read_split(task, "val", fold)
        if args.val:
            f_te, y_te = f_va, y_va
        else:
            f_te, y_te = read_split(task, "test", fold)
            f_tr, y_tr = f_tr + f_va, np.concatenate([y_tr, y_va])
        x_tr, x_te = features_for(f_tr, TREE_BLOCKS), features_for(f_te, TREE_BLOCKS)
        a_tr = np.hstack([x_tr, side_features(x_tr, sides, out)])
        a_te = np.hstack([x_te, side_features(x_te, sides, out)])
        classifier = fit_classifier(a_tr, y_tr > 0.5, PARAMS, fold)
        folds.append(classifier)
        p = classifier.predict_proba(a_te)[:, 1]
        scores.append(classification_scores(y_te, p))
        dummies.append(dummy_scores(y_tr, y_te))
        line = " ".join(f"{k}={v:.4f}" for k, v in scores[-1].items())
        split = "val" if args.val else "test"
        print(f"fold {fold} {split}: {line} ({time.perf_counter() - start:.0f} s)", flush=True)
    mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    print(json.dumps({"split": "val" if args.val else "test", **mean}), flush=True)
    if args.val:
        return 0
    onnx_path = out / f"{task.model_id}.onnx"
    export_classifier(
        onnx_path, _width(TREE_BLOCKS), folds, sides, [name for name, _, _ in SIDE_ONNX]
    )
    _check_export(onnx_path, folds[4], sides, out)
    metrics: dict = {
        "task": task.name,
        "fold_mae": [0.0] * 5,
        "mae": 0.0,
        "mae_std": 0.0,
        "train_seconds": round(time.perf_counter() - start, 1),
        "onnx": onnx_path.name,
    }
    for key in scores[0]:
        metrics[f"fold_{key}"] = [s[key] for s in scores]
        metrics[key] = mean[key]
        metrics[f"dummy_{key}"] = float(np.mean([d[key] for d in dummies]))
    card_path = write_card(metrics, out)
    card = json.loads(card_path.read_text())
    extra = card["extra"]
    for key in ("fold_mae", "mae", "epochs", "hidden", "hurdle"):
        extra.pop(key, None)
    extra["features"] = list(TREE_BLOCKS)
    extra["side_inputs"] = {name: model_id for name, model_id, _ in SIDE_ONNX}
    extra["side_models"] = "PBE gap and P(PBE gap > 0), crabnet mp_gap, all 106,113 rows"
    extra["architecture"] = "boosted trees"
    ref = "; ".join(f"{k} {v}" for k, v in task.reference.items())
    card["description"] = (
        "Five boosted-tree classifiers P(metal), one per crabnet matbench_cv/expt_is_metal fold "
        "(trained on train+val, scored on its test fold), on fraction-weighted mat2vec + Magpie + "
        "element fractions + Oliynyk statistics, plus side features from models that never saw "
        "an experimental label: boosted-tree models of the Materials Project PBE gap and of "
        "P(PBE gap > 0) on all 106k rows of crabnet's mp_gap table, and the shipped "
        "formation-energy and moduli models. Prediction = mean probability across members. "
        f"5-fold ROC-AUC {mean['rocauc']:.4f}, accuracy {mean['accuracy']:.4f}, F1 "
        f"{mean['f1']:.4f}. {ref}"
    )
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return 0


def _check_export(onnx_path: Path, classifier, sides: list, out: Path) -> None:
    """The ONNX graph gives scikit-learn's probabilities (member 4 on test fold 4)."""
    import onnxruntime as ort

    task = TASKS["expt_is_metal"]
    formulas, _ = read_split(task, "test", 4)
    x = features_for(formulas, TREE_BLOCKS)
    side = side_features(x, sides, out)
    feeds = {"features": x.astype(np.float32)}
    for i, (name, _, _) in enumerate(SIDE_ONNX):
        feeds[name] = side[:, len(sides) + i : len(sides) + i + 1].astype(np.float32)
    got = np.asarray(ort.InferenceSession(str(onnx_path)).run(None, feeds)[0])[:, 4]
    want = classifier.predict_proba(np.hstack([x, side]))[:, 1]
    assert np.abs(got - want).max() < 1e-3, "export mismatch"


if __name__ == "__main__":
    raise SystemExit(main())
