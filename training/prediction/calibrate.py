"""Conformal 90 % intervals and the applicability domain, from held-out folds.

    python -m training.prediction.calibrate [--models DIR] [--cards comp_mp_e_form,...]

Member k of each shipped ensemble was trained on crabnet's train{k}+val{k} and never saw
test{k}, so its predictions on test{k} are honest held-out predictions. Their absolute errors
give the interval half-width (split-conformal quantile at ceil((n+1)·0.9)/n). For band gaps the
errors of compounds predicted as metals (< 0.1 eV) and of the rest are calibrated separately
(Mondrian conformal), since a metal call is either right (error 0) or far off. Coverage is
measured honestly too: the half-width from 4 folds is applied to the 5th.
Writes `extra.conformal` and `extra.domain` into each card, and the training compositions into
`composition_domain.npz`. Development time only.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from inference.prediction.domain import (
    DOMAIN_FILE,
    save_training_sets,
    training_set_from_rows,
)
from inference.prediction.featurize import TABLES_FILE, load_tables
from inference.prediction.materials_store import formula_amounts
from training.prediction.display import apply_display
from training.prediction.features_cache import features_for
from training.prediction.train import TASKS, read_split

LEVEL = 0.9
METAL_CUTOFF = 0.1  # eV: a predicted gap under this is a metal call


def conformal_halfwidth(errors: np.ndarray, level: float = LEVEL) -> float:
    n = len(errors)
    if n == 0:
        return float("nan")
    k = min(n, math.ceil((n + 1) * level))
    return float(np.sort(errors)[k - 1])


def _fractions(formula: str) -> dict[str, float]:
    amounts = formula_amounts(formula)
    total = sum(amounts.values())
    return {el: a / total for el, a in amounts.items()}


def _groups(prop: str, pred: np.ndarray) -> dict[str, np.ndarray]:
    if prop == "band_gap":
        return {"metal": pred < METAL_CUTOFF, "nonmetal": pred >= METAL_CUTOFF}
    return {"all": np.ones(len(pred), dtype=bool)}


def held_out(card: dict, models: Path) -> list[tuple[list[str], np.ndarray, np.ndarray]]:
    """Per fold: (formulas, targets, member-k predictions) on test{k}."""
    import onnxruntime as ort

    task = TASKS[card["extra"]["splits"].split("matbench_cv/")[1].split(" ")[0]]
    session = ort.InferenceSession(str(models / card["files"][0]["name"]))
    blocks = tuple(card["extra"].get("features", ("mat2vec", "magpie")))
    out = []
    for fold in range(5):
        formulas, y = read_split(task, "test", fold)
        x = features_for(formulas, blocks).astype(np.float32)
        feeds = {"features": x}
        for name, model_id in card["extra"].get("side_inputs", {}).items():
            side = json.loads((models / f"{model_id}.json").read_text())
            side_blocks = tuple(side["extra"].get("features", ("mat2vec", "magpie")))
            side_session = ort.InferenceSession(str(models / side["files"][0]["name"]))
            side_x = features_for(formulas, side_blocks).astype(np.float32)
            feeds[name] = np.asarray(side_session.run(None, {"features": side_x})[0]).mean(
                axis=1, keepdims=True
            )
        members = np.asarray(session.run(None, feeds)[0])
        pred = members[:, fold]
        if card["extra"].get("transform") == "clip0":
            pred = np.clip(pred, 0, None)
        out.append((formulas, y, pred))
    return out


def calibrate(card: dict, models: Path, tables) -> tuple[dict, list[dict[str, float]]]:
    extra = card["extra"]
    prop = extra["property"]
    task = TASKS[extra["splits"].split("matbench_cv/")[1].split(" ")[0]]
    folds = held_out(card, models)
    conformal: dict = {"level": LEVEL, "split": "crabnet matbench_cv test folds 0-4"}
    if task.kind != "classification":
        halfwidths, coverage = {}, []
        for name in _groups(prop, folds[0][2]):
            errors = np.concatenate([np.abs(y - p)[_groups(prop, p)[name]] for _, y, p in folds])
            halfwidths[name] = conformal_halfwidth(errors)
        for k in range(5):
            covered = []
            _, y_k, p_k = folds[k]
            for name, mask_k in _groups(prop, p_k).items():
                others = np.concatenate(
                    [
                        np.abs(y - p)[_groups(prop, p)[name]]
                        for j, (_, y, p) in enumerate(folds)
                        if j != k
                    ]
                )
                q = conformal_halfwidth(others)
                covered.append(np.abs(y_k - p_k)[mask_k] <= q)
            coverage.append(float(np.concatenate(covered).mean()))
        conformal.update(
            halfwidth={k: round(v, 5) for k, v in halfwidths.items()},
            fold_coverage=[round(c, 4) for c in coverage],
            coverage=round(float(np.mean(coverage)), 4),
            held_out_mae=round(float(np.mean([np.abs(y - p).mean() for _, y, p in folds])), 5),
        )
        if prop == "band_gap":
            conformal["metal_cutoff"] = METAL_CUTOFF
    # domain: elements, (alloys) fraction ranges, nearest-neighbour distance threshold
    every = []
    for split in ("train", "val", "test"):
        formulas, _ = read_split(task, split, 0)
        every.extend(formulas)
    rows = [_fractions(f) for f in dict.fromkeys(every)]
    elements = sorted({el for r in rows for el in r})
    domain = dict(extra.get("domain", {}))
    domain.update(elements=elements, training_rows=len(rows))
    if "min_fraction" in domain:  # an alloy family: element ranges matter
        domain["fraction_ranges"] = {
            el: [
                round(min(r.get(el, 0.0) for r in rows), 5),
                round(max(r.get(el, 0.0) for r in rows), 5),
            ]
            for el in elements
        }
    distances = []
    rng = np.random.default_rng(0)
    for k in range(5):
        train = []
        for split in ("train", "val"):
            formulas, _ = read_split(task, split, k)
            train.extend(_fractions(f) for f in formulas)
        ts = training_set_from_rows(tables.symbols, train)
        test_formulas = folds[k][0]
        pick = rng.choice(len(test_formulas), min(600, len(test_formulas)), replace=False)
        distances.extend(ts.nearest_distance(_fractions(test_formulas[i])) for i in pick)
    domain["distance_threshold"] = round(float(np.quantile(distances, 0.99)), 4)
    domain["distance_median"] = round(float(np.median(distances)), 4)
    if task.kind != "classification":
        _, ys = read_split(task, "train", 0)
        all_y = np.concatenate([ys] + [y for _, y, _ in folds])
        domain["target_range"] = [round(float(all_y.min()), 4), round(float(all_y.max()), 4)]
    extra["conformal"] = conformal
    extra["domain"] = domain
    return card, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="resources/models")
    parser.add_argument(
        "--cards",
        help="recalibrate only these model ids (comma-separated), e.g. after retraining one "
        "model; the training compositions file is then left as it is (it follows the data)",
    )
    args = parser.parse_args(argv)
    models = Path(args.models)
    tables = load_tables(models / TABLES_FILE)
    sets = {}
    only = set(args.cards.split(",")) if args.cards else None
    for path in sorted(models.glob("comp_*.json")):
        if only is not None and path.stem not in only:
            continue
        card = json.loads(path.read_text())
        card, rows = calibrate(apply_display(card), models, tables)
        sets[card["id"]] = rows
        path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        c = card["extra"]["conformal"]
        print(
            card["id"],
            "coverage",
            c.get("coverage"),
            c.get("fold_coverage"),
            "halfwidth",
            c.get("halfwidth"),
            "distance threshold",
            card["extra"]["domain"]["distance_threshold"],
            flush=True,
        )
    if only is None:
        save_training_sets(models / DOMAIN_FILE, tables.symbols, sets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
