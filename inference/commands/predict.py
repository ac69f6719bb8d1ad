"""`matlens predict FILE_OR_FOLDER_OR_FORMULA [--relax] [--eos] [--json]`.

A structure gives its composition's known values, CHGNet's energy_per_atom, forces, stress and
magmoms, then the composition models' predictions for its composition (JSON: "composition"); a
structure with partly occupied sites gets the composition's rows alone; a folder gives a JSON
list. A formula ("TiO2"), an alloy in wt% or at% ("Ti-6Al-4V", "Ni-50Ti at%") or an alloy name
("AISI 304") gives, in this order: the conversion to atomic fractions, the known values of that
composition in the shipped tables (with their source), the nearest known compositions, and the
composition models' predictions with a 90 % interval and an out-of-domain check.

`matlens predict FOLDER_OR_CSV --out OUT [--workers N | --scheduler URL]`: a folder of
structures or a CSV of compositions as a batch (`inference.batch`): OUT/predictions.json,
predictions.csv and failures.csv; it resumes.
"""

from __future__ import annotations

import sys

from inference.batch.cli import add_where_options


def register(sub) -> None:
    p = sub.add_parser("predict", help="properties from a structure, a folder or a formula")
    p.add_argument(
        "target",
        help="structure file, folder of structures, formula (Fe2O3), alloy (Ti-6Al-4V, "
        "'Fe-18Cr-8Ni at%%') or alloy name (AISI 304)",
    )
    p.add_argument(
        "--block", help="the structure of a multi-block CIF to use (name or 1-based number)"
    )
    p.add_argument("--relax", action="store_true", help="relax positions and cell first")
    p.add_argument("--eos", action="store_true", help="E(V) curve and bulk modulus")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--out", metavar="OUT_DIR", help="run a folder or a CSV as a batch into here")
    add_where_options(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from inference.batch.cli import is_batch, predict_batch

    if is_batch(args):
        return predict_batch(args)
    from inference.cli import print_json
    from inference.prediction.inputs import classify
    from inference.prediction.service import run_prediction

    what = classify(args.target)
    report = run_prediction(args.target, block=args.block, relax=args.relax, eos=args.eos)
    for w in report.warnings:
        print(f"matlens: warning: {w}", file=sys.stderr)
    batch = what.kind == "structures" and len(what.paths) > 1
    # As `batch` and a folder with --out: a file that could not be predicted is exit 1.
    failed = 1 if any("error" in record for record in report.records) else 0
    if args.json:
        print_json(report.records if batch else report.records[0])
        return failed
    print(f"device: {report.device}")
    if report.conversion:
        print(f"composition: {report.conversion}")
    for record in report.records:
        if "error" in record:
            print(f"{record['file']}: error: {record['error']}")
    items = {r.item for r in report.rows}
    for r in report.rows:
        extra = f" [{r.uncertainty}]" if r.uncertainty else ""
        note = f"  ({r.note})" if r.note else ""
        # a folder's rows name their file (the rows of several structures looked alike)
        item = f"{r.item}: " if len(items) > 1 else ""
        print(f"{item}{r.kind:32s} {r.quantity:30s} {r.value}{extra} {r.unit}  {r.source}{note}")
    if report.nearest:
        near = ", ".join(f"{n['formula']} ({n['distance']:.2f})" for n in report.nearest)
        print(f"nearest known compositions (L1 distance of atomic fractions): {near}")
    return failed
