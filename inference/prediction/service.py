"""One entry point for the CLI and the pane: predict for a formula, a file or a folder.

`run_prediction` is a plain function with progress and cancel, so the pane runs it in a
worker and the CLI calls it directly. Results are JSON-ready dicts plus rows for a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from inference.errors import MatLensError, describe
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.prediction.inputs import PredictionInput, classify, read_structure

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    item: str  # file name or formula
    quantity: str
    value: str
    uncertainty: str  # the 90 % interval of a prediction, or the range of several known values
    unit: str
    source: str  # a model's name, or a table's citation
    # "known: experiment", "known: DFT, PBE …", "doubtful: experiment" (a table row that DFT
    # contradicts, its number withheld) or "prediction"
    kind: str = "prediction"
    note: str = ""  # out-of-domain reasons, polymorph counts


@dataclass
class PredictionReport:
    records: list[dict] = field(default_factory=list)  # one JSON object per input
    rows: list[Row] = field(default_factory=list)
    device: str = ""
    warnings: list[str] = field(default_factory=list)
    relax_traces: dict[str, list[float]] = field(default_factory=dict)  # item → E/atom per step
    eos_curves: dict[str, dict] = field(default_factory=dict)  # item → EosResult.to_json + fit
    conversion: str = ""  # how an alloy's wt% became atomic fractions
    nearest: list[dict] = field(default_factory=list)  # nearest known compositions (JSON)


def run_prediction(
    text: str,
    *,
    block: str | None = None,
    relax: bool = False,
    eos: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PredictionReport:
    """Predict for whatever `text` names; per-file errors in a batch become error records.
    `block` picks one structure (a CIF data block's name or number) of a single file."""
    what = classify(text)
    if what.kind == "formula":
        report = _formula(what, progress)
        asked = [name for name, on in (("a relaxation", relax), ("E(V)", eos)) if on]
        if asked:  # the composition models ran; the person must not think these did
            report.warnings.insert(
                0,
                f"{' and '.join(asked)} need{'s' if len(asked) == 1 else ''} a structure "
                "(a CIF or POSCAR file): a formula gets the composition models only",
            )
        return report
    if block is not None and len(what.paths) != 1:
        raise MatLensError("a block can be chosen only for one structure file")
    return _structures(what, block=block, relax=relax, eos=eos, progress=progress, cancel=cancel)


def interval_text(low: float | None, high: float | None) -> str:
    """A 90 % interval as the results table and both CSVs show it: "0.52 to 3.54"."""
    if low is None or high is None:
        return ""
    return f"{_num(low)} to {_num(high)}"


def _num(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if abs(x) >= 0.01 or x == 0 else f"{x:.2g}"


def _formula(what: PredictionInput, progress: ProgressCallback = no_progress) -> PredictionReport:
    from inference.prediction.notation import parse_composition

    parsed = parse_composition(what.formula)  # one line for bad text, before any model
    return _composition_reports([parsed], nearest=True, progress=progress)[0]


def predict_compositions(
    texts: list[str],
    *,
    nearest: bool = False,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[PredictionReport]:
    """`run_prediction`'s report for each formula, alloy or alloy name, in order: known values
    first, then the predictions, those a known value contradicts withheld with one line. The
    composition models run once over all of them. A text that is not a composition gives a
    report with no rows whose one record is `{"input", "formula", "error"}`. The nearest known
    compositions (about 0.35 s a formula, against the whole table) only with `nearest`."""
    from inference.prediction.featurize import covered_rows, default_tables
    from inference.prediction.notation import parse_composition

    parsed: list = []
    errors: dict[int, str] = {}
    for i, text in enumerate(texts):
        try:
            if not text.strip():
                raise MatLensError("blank composition")
            composition = parse_composition(text)
            covered_rows(composition.fractions, default_tables())  # else the whole run fails
            parsed.append(composition)
        except Exception as exc:  # noqa: BLE001 - a bad row is one error record
            errors[i] = describe(exc).message
    good = iter(
        _composition_reports(parsed, nearest=nearest, progress=progress, cancel=cancel)
        if parsed
        else []
    )
    return [
        PredictionReport(records=[{"input": text, "formula": text, "error": errors[i]}])
        if i in errors
        else next(good)
        for i, text in enumerate(texts)
    ]


def _composition_reports(
    parsed: list, *, nearest: bool, progress: ProgressCallback, cancel: CancelToken | None = None
) -> list[PredictionReport]:
    from inference.prediction.composition import PbeGaps, predict_fractions
    from inference.prediction.known_values import known_values_of

    reports = [
        PredictionReport(device="CPU (composition models)", conversion=p.conversion) for p in parsed
    ]
    progress(0.1, "looking up known values")
    try:
        knowns = known_values_of(
            [p.fractions for p in parsed], n_nearest=5 if nearest else 0, cancel=cancel
        )
    except MatLensError as exc:  # the tables are built at set-up time; without them, say so
        knowns = [None] * len(parsed)
        for report in reports:
            report.warnings.append(f"known values unavailable: {exc}")
    progress(0.5, "predicting")
    gaps = []
    for known in knowns:
        pbe = next((v for v in known.values if v.dataset == "mp_gap"), None) if known else None
        gaps.append(PbeGaps(pbe.low, pbe.count) if pbe is not None else None)
    results = predict_fractions(
        [(p.text, p.reduced_formula, p.fractions) for p in parsed],
        pbe_gaps=gaps,
        known=[k.values if k is not None else None for k in knowns],
    )
    for report, p, known, result in zip(reports, parsed, knowns, results, strict=True):
        record: dict = p.to_json()
        item = p.text  # what the person typed (the JSON also has the reduced formula)
        if known is not None:
            record.update(known.to_json())
            if nearest:
                report.nearest = record["nearest_known"]
            else:
                del record["nearest_known"]
            report.rows.extend(_known_rows(item, known.values))
        record["predictions"] = [x.to_json() for x in result.predictions]
        if result.skipped:
            record["not_applicable"] = result.skipped
        said = [x.doubtful.replace("doubtful, not shown: ", "") for x in result.predictions]
        for note in dict.fromkeys([*(x.note for x in result.predictions), *said]):
            if note:
                report.warnings.append(note)  # said once, above the table, as well as per row
        report.rows.extend(_prediction_rows(item, result.predictions))
        report.records.append(record)
    progress(1.0, "")
    return reports


def _known_rows(item: str, values) -> list[Row]:
    return [
        Row(
            item,
            v.label if v.prop != "is_metal" else "metal or not",
            v.text if v.count == 1 or v.prop == "is_metal" or v.doubtful else _num(v.value),
            "" if v.count == 1 or v.doubtful else f"{_num(v.low)} to {_num(v.high)}",
            "" if v.doubtful else v.unit,
            v.source,
            kind=f"{'doubtful' if v.doubtful else 'known'}: {v.method}",
            note="; ".join(n for n in (v.note or v.summary_text, _caveat(v)) if n),
        )
        for v in values
    ]


def _caveat(value) -> str:
    """What a person must know to read a known value beside a measured one ('' if nothing)."""
    if value.dataset == "mp_gap":
        return "PBE underestimates band gaps"  # ZnO: 0.73 eV against 3.37 measured
    return ""


def _prediction_rows(item: str, predictions) -> list[Row]:
    rows = []
    for p in predictions:
        value = f"{p.value:.3f}" if p.unit == "probability" else _num(p.value)
        rows.append(
            Row(
                item,
                p.label,
                "not shown" if p.doubtful else value,
                "" if p.doubtful else interval_text(p.low, p.high),
                "" if p.doubtful else p.unit,
                p.model,
                kind="doubtful: prediction" if p.doubtful else "prediction",
                note="; ".join(
                    ([f"out of domain: {'; '.join(p.domain.reasons)}"] if p.domain.reasons else [])
                    + ([p.doubtful] if p.doubtful else [])
                    + ([p.note] if p.note else [])
                ),
            )
        )
    return rows


def _structures(what, *, block=None, relax, eos, progress, cancel) -> PredictionReport:
    from inference.prediction.graph import check_structure
    from inference.prediction.potential import check_memory, get_potential, memory_warning

    structures, names, notices = [], [], {}
    errors = []
    disordered = []  # (name, structure): CHGNet cannot take them; their composition can go
    for k, path in enumerate(what.paths):
        progress(0.2 * k / len(what.paths), f"reading {path.name}")
        name = path.name
        try:
            read = read_structure(path, cancel=cancel, block=block)
            name = f"{path.name} [{read.block}]" if read.block else path.name
            notices[name] = list(read.notices)
            if hasattr(read.structure, "lattice") and not read.structure.is_ordered:
                disordered.append((name, read.structure))
                continue
            check_memory(read.structure)  # a huge cell is refused before its graph is built
            check_structure(read.structure)  # e.g. an "Xx" atom, before any model runs
            structures.append(read.structure)
            names.append(name)
        except Exception as exc:  # a bad file in a batch is one error line
            if type(exc).__name__ == "JobCancelled":
                raise
            if len(what.paths) == 1:
                if isinstance(exc, MatLensError) and not str(exc).startswith(path.name):
                    raise type(exc)(f"{path.name}: {exc}") from None
                raise
            notices.pop(name, None)
            errors.append({"file": path.name, "error": describe(exc).message})
    potential = get_potential() if structures else None
    report = PredictionReport(
        device=potential.device.label if potential else "CPU (composition models)"
    )
    report.records.extend(errors)
    for name, items in notices.items():
        report.warnings.extend(f"{name}: {n}" for n in items)
    for name, s in zip(names, structures, strict=True):
        warning = memory_warning(s)
        if warning:
            report.warnings.append(f"{name}: {warning}")
    good, results = (
        _predict_each(potential, structures, names, report, progress, cancel)
        if potential
        else ([], [])
    )
    by_composition = _compositions_of([*disordered, *good], cancel=cancel)
    only_one = len(good) + len(disordered) == 1
    for name, _ in disordered:
        composition = by_composition[name]
        if isinstance(composition, str):
            if len(what.paths) == 1:
                raise MatLensError(f"{name}: {_DISORDERED}; {composition}")
            report.records.append({"file": name, "error": f"{_DISORDERED}; {composition}"})
            continue
        report.warnings.append(f"{name}: {_DISORDERED}; the rows are its composition's")
        report.records.append(_with_composition(report, {"file": name}, composition, only_one))
        known, predicted = _composition_rows(name, composition)
        report.rows.extend(known + predicted)
    for (name, structure), res in zip(good, results, strict=True):
        assert potential is not None  # only CHGNet's results are in `good`
        record = {"file": name, **res.to_json(), "device": report.device}
        if notices.get(name):
            record["notices"] = notices[name]
        composition = by_composition.get(name)
        if isinstance(composition, str):
            report.warnings.append(f"{name}: no composition-model rows: {composition}")
        elif composition is not None:
            record = _with_composition(report, record, composition, only_one)
        known, predicted = _composition_rows(name, composition)
        report.rows.extend(known)  # known values come before any model's number
        _rows(report, name, res)
        report.rows.extend(predicted)
        if relax:
            from inference.prediction.relax import relax as do_relax

            rel = do_relax(structure, potential, cancel=cancel, progress=progress)
            record["relax"] = rel.to_json()
            report.relax_traces[name] = rel.energies
            # The relaxed cell is what a person compares with a measured lattice constant.
            lattice = rel.structure.lattice  # pyright: ignore[reportAttributeAccessIssue]
            how = f"CHGNet, {rel.steps} FIRE steps"
            report.rows.extend(
                [
                    Row(
                        name,
                        "relaxed energy",
                        f"{rel.final.energy_per_atom:.5f}",
                        "",
                        "eV/atom",
                        how,
                    ),
                    Row(
                        name,
                        "relaxed a, b, c",
                        ", ".join(f"{x:.4f}" for x in lattice.abc),
                        "",
                        "Å",
                        how,
                        note="the file's cell after relaxation",
                    ),
                    Row(
                        name,
                        "relaxed volume",
                        f"{lattice.volume / len(rel.structure):.4f}",  # pyright: ignore[reportArgumentType]
                        "",
                        "Å³/atom",
                        how,
                    ),
                ]
            )
            structure = rel.structure
        if eos:
            from inference.prediction.eos import equation_of_state

            curve = equation_of_state(
                structure,
                potential,
                cancel=cancel,
                progress=lambda done, text="": progress(done, f"E(V): {text}"),
            )
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


# CHGNet's graph needs one element per site; a structure with partly occupied sites still has
# a composition, which the tables and the composition models take.
_DISORDERED = "no CHGNet rows: CHGNet needs an ordered structure (this one has partial occupancies)"


def _with_composition(
    report: PredictionReport, record: dict, composition: PredictionReport, only_one: bool
) -> dict:
    """A structure's record with its composition's, whose notes join the report's (named
    after the file) and whose nearest known compositions are the report's for one file."""
    name = record["file"]
    report.warnings.extend(f"{name}: {w}" for w in composition.warnings)
    if only_one:
        report.nearest = composition.nearest
    return {**record, "composition": composition.records[0]}


def _compositions_of(
    named: list, *, cancel: CancelToken | None
) -> dict[str, PredictionReport | str]:
    """For each (name, structure), the report a person gets by typing its composition: the
    tables' known values and the composition models' predictions; for a composition the
    models cannot featurise (an element past Bk), the reason in one line instead."""
    from inference.prediction.featurize import covered_rows, default_tables
    from inference.prediction.notation import ParsedComposition

    parsed, kept, out = [], [], {}
    for name, structure in named:
        composition = structure.composition  # fractional where sites are partly occupied
        # rounded as a CIF's occupancies are written, so that the fractions are the typed
        # formula's to the last bit (8.000000000000002 Mg moved a band gap by 0.01 eV)
        amounts = {el: round(a, 6) for el, a in composition.get_el_amt_dict().items()}
        total = sum(amounts.values())
        fractions = {el: a / total for el, a in amounts.items()}
        try:
            covered_rows(fractions, default_tables())
        except MatLensError as exc:
            out[name] = str(exc)
            continue
        reduced = composition.reduced_formula
        parsed.append(ParsedComposition(reduced, fractions, reduced, reduced, "structure"))
        kept.append(name)
    if not parsed:
        return out
    try:
        reports = _composition_reports(
            parsed, nearest=len(named) == 1, progress=no_progress, cancel=cancel
        )
    except Exception as exc:  # e.g. a composition model's file missing: CHGNet's rows still go
        if type(exc).__name__ == "JobCancelled":
            raise
        return out | dict.fromkeys(kept, describe(exc).message)
    return out | dict(zip(kept, reports, strict=True))


def _composition_rows(
    name: str, composition: PredictionReport | str | None
) -> tuple[list[Row], list[Row]]:
    """A structure's composition rows, named after its file: (known values, predictions).
    They say they come from the composition: the tables hold no structures, and the
    composition models cannot tell this structure from another polymorph. (A prediction says
    so in its source, since a note on a prediction marks it as out of domain.)"""
    if not isinstance(composition, PredictionReport):
        return [], []
    formula = composition.records[0]["reduced_formula"]
    known, predicted = [], []
    for row in composition.rows:
        if row.kind.endswith("prediction"):
            source = f"{row.source}, from the composition {formula} alone"
            predicted.append(replace(row, item=name, source=source))
        else:
            said = f"the composition's value ({formula}), any polymorph"
            known.append(replace(row, item=name, note=f"{said}; {row.note}" if row.note else said))
    return known, predicted


def _predict_each(potential, structures, names, report, progress, cancel):
    """One batched run; if it fails (e.g. one bad structure), retry one by one to isolate it."""
    try:
        results = potential.predict(structures, progress=progress, cancel=cancel)
        return list(zip(names, structures, strict=True)), results
    except Exception as exc:
        if len(structures) == 1:
            raise
        _ = exc
    good, results = [], []
    for name, s in zip(names, structures, strict=True):
        try:
            results.append(potential.predict([s], cancel=cancel)[0])
            good.append((name, s))
        except Exception as exc:
            if type(exc).__name__ == "JobCancelled":
                raise
            report.records.append({"file": name, "error": describe(exc).message})
    return good, results


def _rows(report: PredictionReport, name: str, res) -> None:
    import numpy as np

    pressure = -float(np.trace(res.stress)) / 3
    report.rows.extend(
        [
            Row(
                name,
                "total energy",
                f"{res.energy_per_atom:.5f}",
                "",
                "eV/atom",
                "CHGNet 0.3.0",
                # about -8.4 eV/atom for SrTiO3: a person reading "energy" beside the composition
                # models' rows could take it for a formation energy (about -3.5 eV/atom there)
                note="the structure's DFT-like (PBE) total energy, not a formation energy",
            ),
            Row(name, "max force", f"{res.max_force:.4f}", "", "eV/Å", "CHGNet 0.3.0"),
            Row(name, "pressure", f"{pressure:.3f}", "", "GPa", "CHGNet 0.3.0"),
            Row(
                name,
                "magnetic moments, summed sizes",
                f"{float(np.sum(np.abs(res.magmoms))):.3f}",
                "",
                "μB",
                "CHGNet 0.3.0",
                # CHGNet predicts each atom's moment size, not its direction: the sum was shown
                # as "total magmom", 7.5 μB for an antiferromagnet whose net moment is 0
                note="CHGNet gives each atom's moment size, not its direction: not the net moment",
            ),
        ]
    )


CSV_COLUMNS = [
    "item",
    "quantity",
    "value",
    "interval_90_or_range",
    "unit",
    "kind",
    "source",
    "note",
]


def csv_cells(r: Row) -> list[str]:
    """One row as both CSVs (the pane's export and a batch's predictions.csv) write it: the
    value cell is empty where the number is withheld (the kind says doubtful, the note why)."""
    value = "" if r.kind.startswith("doubtful") else r.value
    return [r.item, r.quantity, value, r.uncertainty, r.unit, r.kind, r.source, r.note]


def rows_to_csv(rows: list[Row], path: Path) -> None:
    """UTF-8 with BOM (Excel shows μB and Å); units in their own column."""
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_cells(r) for r in rows)
