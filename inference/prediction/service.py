"""One entry point for the CLI and the pane: predict for a formula, a file or a folder.

`run_prediction` is a plain function with progress and cancel, so the pane runs it in a
worker and the CLI calls it directly. Results are JSON-ready dicts plus rows for a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inference.errors import describe
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.prediction.inputs import PredictionInput, classify, read_structure


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    item: str  # file name or formula
    quantity: str
    value: str
    uncertainty: str
    unit: str
    source: str  # model


@dataclass
class PredictionReport:
    records: list[dict] = field(default_factory=list)  # one JSON object per input
    rows: list[Row] = field(default_factory=list)
    device: str = ""
    warnings: list[str] = field(default_factory=list)
    relax_traces: dict[str, list[float]] = field(default_factory=dict)  # item → E/atom per step
    eos_curves: dict[str, dict] = field(default_factory=dict)  # item → EosResult.to_json + fit


def run_prediction(
    text: str,
    *,
    relax: bool = False,
    eos: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PredictionReport:
    """Predict for whatever `text` names; per-file errors in a batch become error records."""
    what = classify(text)
    if what.kind == "formula":
        return _formula(what)
    return _structures(what, relax=relax, eos=eos, progress=progress, cancel=cancel)


def _formula(what: PredictionInput) -> PredictionReport:
    from inference.prediction.composition import predict_formulas

    result = predict_formulas([what.formula])[0]
    report = PredictionReport(device="CPU (composition models)")
    report.records.append(result.to_json())
    for p in result.predictions:
        report.rows.append(
            Row(
                result.formula,
                p.label,
                f"{p.value:.3f}",
                f"± {p.uncertainty:.3f}",
                p.unit,
                p.model_id,
            )
        )
    return report


def _structures(what, *, relax, eos, progress, cancel) -> PredictionReport:
    from inference.prediction.potential import get_potential, memory_warning

    potential = get_potential()
    report = PredictionReport(device=potential.device.label)
    structures, names = [], []
    for path in what.paths:
        try:
            structures.append(read_structure(path))
            names.append(path.name)
        except Exception as exc:  # noqa: BLE001 - a bad file in a batch is one error line
            if len(what.paths) == 1:
                raise
            report.records.append({"file": path.name, "error": describe(exc).message})
    for name, s in zip(names, structures, strict=True):
        warning = memory_warning(s)
        if warning:
            report.warnings.append(f"{name}: {warning}")
    good, results = _predict_each(potential, structures, names, report, progress, cancel)
    for (name, structure), res in zip(good, results, strict=True):
        record = {"file": name, **res.to_json(), "device": report.device}
        _rows(report, name, res)
        if relax:
            from inference.prediction.relax import relax as do_relax

            rel = do_relax(structure, potential, cancel=cancel, progress=progress)
            record["relax"] = rel.to_json()
            report.relax_traces[name] = rel.energies
            report.rows.append(
                Row(
                    name,
                    "relaxed energy",
                    f"{rel.final.energy_per_atom:.5f}",
                    "",
                    "eV/atom",
                    f"CHGNet, {rel.steps} FIRE steps",
                )
            )
            structure = rel.structure
        if eos:
            from inference.prediction.eos import equation_of_state

            curve = equation_of_state(structure, potential, cancel=cancel)
            record["eos"] = curve.to_json()
            report.eos_curves[name] = {
                **curve.to_json(),
                "fit_volumes": curve.fit_volumes.tolist(),
                "fit_energies": curve.fit_energies.tolist(),
            }
            report.rows.append(
                Row(
                    name, "bulk modulus", f"{curve.bulk_modulus:.1f}", "", "GPa", "CHGNet E(V), BM3"
                )
            )
        report.records.append(record)
    return report


def _predict_each(potential, structures, names, report, progress, cancel):
    """One batched run; if it fails (e.g. one bad structure), retry one by one to isolate it."""
    try:
        results = potential.predict(structures, progress=progress, cancel=cancel)
        return list(zip(names, structures, strict=True)), results
    except Exception as exc:  # noqa: BLE001
        if len(structures) == 1:
            raise
        _ = exc
    good, results = [], []
    for name, s in zip(names, structures, strict=True):
        try:
            results.append(potential.predict([s], cancel=cancel)[0])
            good.append((name, s))
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == "JobCancelled":
                raise
            report.records.append({"file": name, "error": describe(exc).message})
    return good, results


def _rows(report: PredictionReport, name: str, res) -> None:
    import numpy as np

    pressure = -float(np.trace(res.stress)) / 3
    report.rows.extend(
        [
            Row(name, "energy", f"{res.energy_per_atom:.5f}", "", "eV/atom", "CHGNet 0.3.0"),
            Row(name, "max force", f"{res.max_force:.4f}", "", "eV/Å", "CHGNet 0.3.0"),
            Row(name, "pressure", f"{pressure:.3f}", "", "GPa", "CHGNet 0.3.0"),
            Row(
                name, "total magmom", f"{float(np.sum(res.magmoms)):.3f}", "", "μB", "CHGNet 0.3.0"
            ),
        ]
    )


def rows_to_csv(rows: list[Row], path: Path) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["item", "quantity", "value", "uncertainty", "unit", "model"])
        for r in rows:
            writer.writerow([r.item, r.quantity, r.value, r.uncertainty, r.unit, r.source])
