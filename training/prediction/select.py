"""Choose hyper-parameters on a fold's val split only (the test folds stay unseen).

    python -m training.prediction.select expt_gap hidden=384 features=all hurdle=1

Trains on `train{fold}.csv`, scores `val{fold}.csv`, prints one line: the Task overrides and
the val MAE (ROC-AUC too for classification). Development time only: imports torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from inference.prediction.featurize import BLOCKS, default_tables
from training.prediction.train import (
    TASKS,
    Ensemble,
    FeatureCache,
    Task,
    classification_scores,
    read_split,
    train_member,
)


def parse_overrides(task: Task, pairs: list[str]) -> Task:
    """`key=value` strings → a Task copy (features=all means every feature block)."""
    changes: dict = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        current = getattr(task, key)
        if key == "features":
            changes[key] = BLOCKS if value == "all" else tuple(value.split("+"))
        elif isinstance(current, bool):
            changes[key] = value not in ("0", "false", "")
        else:
            changes[key] = type(current)(value)
    return dataclasses.replace(task, **changes)


def val_score(
    task: Task, fold: int = 0, seed: int = 0, cache: FeatureCache | None = None
) -> dict[str, float]:
    """Train on train{fold}, score val{fold}; pass a cache to featurise a big task once."""
    cache = cache or FeatureCache(default_tables(), task.features)
    f_tr, y_tr = read_split(task, "train", fold)
    f_va, y_va = read_split(task, "val", fold)
    if task.subsample and len(f_tr) > task.subsample:
        keep = np.random.default_rng(0).choice(len(f_tr), task.subsample, replace=False)
        f_tr, y_tr = [f_tr[i] for i in keep], y_tr[keep]
    member = train_member(task, cache(f_tr), y_tr, seed)
    pred = Ensemble([member]).predict(cache(f_va))[:, 0]
    if task.prop == "band_gap":
        pred = np.clip(pred, 0, None)
    scores = {"val_mae": float(np.abs(pred - y_va).mean())}
    if task.kind == "classification":
        scores.update(classification_scores(y_va, pred))
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("overrides", nargs="*", help="Task field=value")
    parser.add_argument("--fold", type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    task = parse_overrides(TASKS[args.task], args.overrides)
    start = time.perf_counter()
    scores = val_score(task, args.fold)
    line = " ".join(f"{k}={v:.4f}" for k, v in scores.items())
    print(
        f"{args.task} {' '.join(args.overrides)} fold={args.fold}: {line} "
        f"({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
