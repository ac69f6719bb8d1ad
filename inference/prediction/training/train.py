"""Train the composition models on crabnet's matbench copies and export them to ONNX.

    python -m inference.prediction.training.train [--tasks expt_gap,mp_e_form] [--out DIR]

Per task: for each of crabnet's 5 folds, train a small MLP on train+val and score the held-out
test fold. The 5 fold models together are the shipped ensemble (their spread is the
uncertainty), stacked into one ONNX graph whose input is the feature vector (featurize.py).
Set-up/development time only: imports torch.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from inference.prediction.featurize import TABLES_FILE, ElementTables, featurize_many

CLIP = 6.0  # standardised features are clipped: one fold gave MAE 28 eV from a 1e4-sigma input


@dataclass(frozen=True)
class Task:
    name: str  # folder in crabnet/data/matbench_cv
    model_id: str
    prop: str  # JSON key
    unit: str
    kind: str = "regression"  # or "classification"
    subsample: int = 0  # max training rows per fold (0: all)
    epochs: int = 300
    crabnet_mae: float | None = None
    dummy_mae: float | None = None
    rf_mae: float | None = None


TASKS = {
    t.name: t
    for t in (
        Task(
            "expt_gap",
            "comp_expt_gap",
            "band_gap",
            "eV",
            epochs=250,
            crabnet_mae=0.3463,
            dummy_mae=1.1435,
            rf_mae=0.4461,
        ),
        Task(
            "mp_e_form",
            "comp_mp_e_form",
            "formation_energy",
            "eV/atom",
            subsample=0,
            epochs=12,  # 88k rows: 12 epochs took 167 s for 5 folds on one core
            crabnet_mae=0.0862,
            dummy_mae=1.0059,
            rf_mae=0.1165,
        ),
        Task(
            "steels_yield",
            "comp_steels_yield",
            "yield_strength",
            "MPa",
            epochs=600,
            crabnet_mae=107.32,
            dummy_mae=229.74,
            rf_mae=103.51,
        ),
        Task(
            "elasticity_log10(K_VRH)",
            "comp_log10_k",
            "log10_bulk_modulus",
            "log10(GPa)",
            epochs=80,
        ),
        Task(
            "elasticity_log10(G_VRH)",
            "comp_log10_g",
            "log10_shear_modulus",
            "log10(GPa)",
            epochs=80,
        ),
        Task(
            "expt_is_metal",
            "comp_expt_is_metal",
            "is_metal",
            "probability",
            kind="classification",
            epochs=300,
        ),
    )
}


def crabnet_data() -> Path:
    import crabnet

    return Path(crabnet.__file__).parent / "data"


def build_tables(out: Path) -> ElementTables:
    """Read mat2vec and Magpie from crabnet into one npz (rows: H..Og, NaN where missing)."""
    import csv

    from pymatgen.core.periodic_table import Element

    props = crabnet_data() / "element_properties"
    symbols = [Element.from_Z(z).symbol for z in range(1, 119)]

    def read(name: str) -> np.ndarray:
        with open(props / name) as fh:
            rows = list(csv.reader(fh))
        table = {r[0]: [float(v) for v in r[1:]] for r in rows[1:]}
        width = len(rows[0]) - 1
        return np.array([table.get(s, [np.nan] * width) for s in symbols], dtype=np.float32)

    tables = ElementTables(tuple(symbols), read("mat2vec.csv"), read("magpie.csv"))
    np.savez_compressed(
        out / TABLES_FILE,
        symbols=np.array(symbols),
        mat2vec=tables.mat2vec,
        magpie=tables.magpie,
    )
    return tables


def read_split(task: Task, kind: str, fold: int) -> tuple[list[str], np.ndarray]:
    import csv

    path = crabnet_data() / "matbench_cv" / task.name / f"{kind}{fold}.csv"
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    return [r["formula"] for r in rows], np.array([float(r["target"]) for r in rows])


def _mlp(n_in: int, hidden: int = 256):
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(n_in, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, hidden // 2),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden // 2, 1),
    )


def train_one(task: Task, x: np.ndarray, y: np.ndarray, seed: int):
    """One MLP with standardised inputs/targets baked in; L1 loss (we report MAE)."""
    import torch

    torch.manual_seed(seed)
    mu, sd = x.mean(0), x.std(0) + 1e-6
    ym, ys = (0.0, 1.0) if task.kind == "classification" else (y.mean(), y.std() + 1e-9)
    xt = torch.tensor(np.clip((x - mu) / sd, -CLIP, CLIP), dtype=torch.float32)
    yt = torch.tensor((y - ym) / ys, dtype=torch.float32)[:, None]
    net = _mlp(x.shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=2e-3, total_steps=task.epochs * ((len(x) + 127) // 128)
    )
    loss_fn = torch.nn.BCEWithLogitsLoss() if task.kind == "classification" else torch.nn.L1Loss()
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(task.epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 128):
            b = perm[i : i + 128]
            opt.zero_grad()
            loss_fn(net(xt[b]), yt[b]).backward()
            opt.step()
            sched.step()
    net.eval()
    return net, (mu, sd, ym, ys)


class Ensemble:
    """K MLPs with their scalers, as one torch module → [N, K] predictions (for ONNX)."""

    def __init__(self, members, task: Task):
        import torch

        class Stack(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.nets = torch.nn.ModuleList([m for m, _ in members])
                for i, (_, (mu, sd, _, _)) in enumerate(members):
                    self.register_buffer(f"mu{i}", torch.tensor(mu, dtype=torch.float32))
                    self.register_buffer(f"sd{i}", torch.tensor(sd, dtype=torch.float32))
                self.scales = [(float(ym), float(ys)) for _, (_, _, ym, ys) in members]
                self.classify = task.kind == "classification"

            def forward(self, x):
                outs = []
                for i, net in enumerate(self.nets):
                    z = (x - getattr(self, f"mu{i}")) / getattr(self, f"sd{i}")
                    z = torch.clamp(z, -CLIP, CLIP)  # unseen chemistry must not explode
                    y = net(z)
                    y = (
                        torch.sigmoid(y)
                        if self.classify
                        else y * self.scales[i][1] + self.scales[i][0]
                    )
                    outs.append(y)
                return torch.cat(outs, dim=1)

        self.module = Stack().eval()

    def predict(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.module(torch.tensor(x, dtype=torch.float32)).numpy()

    def export(self, path: Path, n_features: int) -> None:
        import torch

        torch.onnx.export(
            self.module,
            (torch.zeros(2, n_features),),
            str(path),
            input_names=["features"],
            output_names=["members"],
            dynamic_axes={"features": {0: "n"}, "members": {0: "n"}},
            dynamo=False,
            opset_version=17,
        )


def run_task(task: Task, tables: ElementTables, out: Path, log) -> dict:
    rng = np.random.default_rng(0)
    members, fold_mae, fold_acc = [], [], []
    start = time.perf_counter()
    for fold in range(5):
        f_tr, y_tr = read_split(task, "train", fold)
        f_va, y_va = read_split(task, "val", fold)
        f_te, y_te = read_split(task, "test", fold)
        f_tr, y_tr = f_tr + f_va, np.concatenate([y_tr, y_va])
        if task.subsample and len(f_tr) > task.subsample:
            keep = rng.choice(len(f_tr), task.subsample, replace=False)
            f_tr, y_tr = [f_tr[i] for i in keep], y_tr[keep]
        x_tr, x_te = featurize_many(f_tr, tables), featurize_many(f_te, tables)
        net, scaler = train_one(task, x_tr, y_tr, seed=fold)
        members.append((net, scaler))
        pred = Ensemble([(net, scaler)], task).predict(x_te)[:, 0]
        if task.kind == "classification":
            fold_acc.append(float(((pred > 0.5) == (y_te > 0.5)).mean()))
        fold_mae.append(float(np.abs(pred - y_te).mean()))
        log(
            f"{task.name} fold {fold}: n_train={len(f_tr)} n_test={len(f_te)} "
            f"MAE={fold_mae[-1]:.4f} ({time.perf_counter() - start:.0f} s)"
        )
    ens = Ensemble(members, task)
    onnx_name = f"{task.model_id}.onnx"
    ens.export(out / onnx_name, tables.n_features)
    result = {
        "task": task.name,
        "fold_mae": fold_mae,
        "mae": float(np.mean(fold_mae)),
        "mae_std": float(np.std(fold_mae)),
        "train_seconds": round(time.perf_counter() - start, 1),
        "onnx": onnx_name,
        **{k: v for k, v in asdict(task).items() if k not in ("name",)},
    }
    if fold_acc:
        result["fold_accuracy"] = fold_acc
        result["accuracy"] = float(np.mean(fold_acc))
    return result


LABELS = {
    "band_gap": "band gap (expt.)",
    "formation_energy": "formation energy",
    "yield_strength": "yield strength",
    "log10_bulk_modulus": "log10 K_VRH",
    "log10_shear_modulus": "log10 G_VRH",
    "is_metal": "P(metal)",
}


def write_card(metrics: dict, out: Path) -> Path:
    """The model card: what it predicts, its 5-fold MAE next to matbench's CrabNet and Dummy."""
    import hashlib

    task = TASKS[metrics["task"]]
    onnx_path = out / metrics["onnx"]
    sub = f"; trained on a random {task.subsample} rows per fold" if task.subsample else ""
    card = {
        "id": task.model_id,
        "name": f"Composition model: {LABELS[task.prop]} ({task.name})",
        "task": "prediction/composition",
        "licence": "MIT (trained here on crabnet 2.0.8's copies of matbench v0.1 data)",
        "source_package": "crabnet",
        "source_version": "2.0.8",
        "files": [
            {
                "role": "model",
                "name": metrics["onnx"],
                "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
                "location": "resources",
            },
            {
                "role": "element_tables",
                "name": TABLES_FILE,
                "sha256": hashlib.sha256((out / TABLES_FILE).read_bytes()).hexdigest(),
                "location": "resources",
            },
        ],
        "input_size": [],
        "description": (
            f"5-member MLP ensemble (one per fold of crabnet's matbench_cv/{task.name} 5-fold "
            f"splits; each trained on train+val, scored on its test fold{sub}). Features: "
            "fraction-weighted mat2vec mean + Magpie mean/deviation/min/max. Prediction = "
            "ensemble mean, uncertainty = ensemble standard deviation. "
            f"5-fold MAE {metrics['mae']:.4g} ± {metrics['mae_std']:.2g} {task.unit}; "
            f"matbench v0.1 leaderboard (official folds, not the same splits): CrabNet "
            f"{task.crabnet_mae}, RF-SCM/Magpie {task.rf_mae}, Dummy {task.dummy_mae}."
        ),
        "exporter": "",
        "extra": {
            "property": task.prop,
            "label": LABELS[task.prop],
            "unit": task.unit,
            "transform": "clip0" if task.prop == "band_gap" else "",
            "splits": f"crabnet 2.0.8 data/matbench_cv/{task.name} folds 0-4",
            "fold_mae": [round(v, 5) for v in metrics["fold_mae"]],
            "mae": round(metrics["mae"], 5),
            "crabnet_mae_matbench": task.crabnet_mae,
            "rf_magpie_mae_matbench": task.rf_mae,
            "dummy_mae_matbench": task.dummy_mae,
            "train_subsample": task.subsample,
            "epochs": task.epochs,
        },
    }
    path = out / f"{task.model_id}.json"
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--tasks",
        default="expt_gap,mp_e_form,steels_yield,elasticity_log10(K_VRH),elasticity_log10(G_VRH)",
    )
    parser.add_argument("--out", default="resources/models")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tables = build_tables(out)
    for name in args.tasks.split(","):
        result = run_task(TASKS[name], tables, out, log=lambda m: print(m, flush=True))
        (out / f"{TASKS[name].model_id}.metrics.json").write_text(json.dumps(result, indent=2))
        write_card(result, out)
        print(json.dumps({k: result[k] for k in ("task", "mae", "mae_std")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
