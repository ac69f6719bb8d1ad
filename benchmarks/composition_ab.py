"""Two sets of composition models scored on the same fixed test folds, in one run.

    .venv/bin/python benchmarks/composition_ab.py BASELINE_DIR CANDIDATE_DIR [--tasks a,b]

Each folder holds the comp_*.onnx ensembles, their cards and composition_elements.npz (e.g. main's
resources/models, from `git archive main resources/models`, next to this branch's). Member k of
an ensemble was trained on crabnet 2.0.8's matbench_cv fold k (train + val); it is scored here on
test fold k, which it never saw, so each composition is scored once. A model whose card names
side inputs (the band-gap model reads the formation-energy and moduli models) gets the ensemble
means of the same folder's models, as at run time. Printed per task and fold: MAE (ROC-AUC for
the metal classifier); for the band gap and the metal classifier also split by whether the
test composition is in crabnet's mp_gap table (the Materials Project PBE gaps their side models
learned from).
Set-up-time script: it reads crabnet's CSVs through training.prediction.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from inference.prediction.featurize import BASE_BLOCKS, TABLES_FILE, featurize_many, load_tables
from training.prediction.train import TASKS, read_split, roc_auc


class Folder:
    """One folder of composition models, run as the app runs them (ONNX on features)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tables = load_tables(path / TABLES_FILE)
        self.cards = {p.stem: json.loads(p.read_text()) for p in sorted(path.glob("comp_*.json"))}
        self._sessions: dict[str, ort.InferenceSession] = {}

    def members(self, model_id: str, formulas: list[str]) -> np.ndarray:
        """[N, folds] member outputs for `formulas`."""
        extra = self.cards[model_id]["extra"]
        blocks = tuple(extra.get("features", BASE_BLOCKS))
        feeds = {"features": featurize_many(formulas, self.tables, blocks).astype(np.float32)}
        for name, feeder in extra.get("side_inputs", {}).items():
            feeds[name] = self.members(feeder, formulas).mean(axis=1)[:, None].astype(np.float32)
        if model_id not in self._sessions:
            self._sessions[model_id] = ort.InferenceSession(str(self.path / f"{model_id}.onnx"))
        out = np.asarray(self._sessions[model_id].run(None, feeds)[0])
        return np.clip(out, 0, None) if extra.get("transform") == "clip0" else out


def _mp_gap_keys() -> set[str]:
    import csv

    from inference.prediction.materials_store import composition_key, formula_amounts
    from training.prediction.train import crabnet_data

    with open(crabnet_data() / "matbench" / "mp_gap.csv") as fh:
        return {composition_key(formula_amounts(r["formula"])) for r in csv.DictReader(fh)}


def score(folder: Folder, task_name: str, in_mp: set[str]) -> list[dict]:
    from inference.prediction.materials_store import composition_key, formula_amounts

    task = TASKS[task_name]
    rows = []
    for fold in range(5):
        formulas, y = read_split(task, "test", fold)
        pred = folder.members(task.model_id, formulas)[:, fold]
        row: dict = {"fold": fold, "n": len(y)}
        known = np.array([composition_key(formula_amounts(f)) in in_mp for f in formulas])
        split = task_name in ("expt_gap", "expt_is_metal")  # the side models' PBE data
        if task.kind == "classification":
            row["rocauc"] = roc_auc(y, pred)
            if split:
                row["rocauc_in_mp_gap"] = roc_auc(y[known], pred[known])
                row["rocauc_not_in_mp_gap"] = roc_auc(y[~known], pred[~known])
        else:
            errors = np.abs(pred - y)
            row["mae"] = float(errors.mean())
            if split:
                row["mae_in_mp_gap"] = float(errors[known].mean())
                row["mae_not_in_mp_gap"] = float(errors[~known].mean())
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument(
        "--tasks",
        default="expt_gap,mp_e_form,steels_yield,expt_is_metal,"
        "elasticity_log10(K_VRH),elasticity_log10(G_VRH)",
    )
    args = parser.parse_args(argv)
    folders = {"baseline": Folder(args.baseline), "candidate": Folder(args.candidate)}
    in_mp = _mp_gap_keys()
    print(f"baseline: {args.baseline}\ncandidate: {args.candidate}")
    print("test fold k scored by member k (trained on train_k + val_k only)\n")
    for task_name in args.tasks.split(","):
        results = {name: score(f, task_name, in_mp) for name, f in folders.items()}
        keys = [k for k in results["baseline"][0] if k not in ("fold", "n")]
        print(f"{task_name} ({TASKS[task_name].unit})")
        print(
            f"  {'fold':>4s} {'n':>6s} "
            + " ".join(f"{n + ' ' + k:>30s}" for k in keys for n in folders)
        )
        for fold in range(5):
            cells = [results[n][fold][k] for k in keys for n in folders]
            n = results["baseline"][fold]["n"]
            print(f"  {fold:4d} {n:6d} " + " ".join(f"{v:30.4f}" for v in cells))
        means = [np.mean([r[k] for r in results[n]]) for k in keys for n in folders]
        print(f"  {'mean':>4s} {'':6s} " + " ".join(f"{v:30.4f}" for v in means) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
