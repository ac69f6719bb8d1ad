"""`matlens predict FILE_OR_FOLDER_OR_FORMULA [--relax] [--eos] [--json]`.

A structure gives CHGNet's energy_per_atom, forces, stress and magmoms; a formula gives the
composition models' properties with an "uncertainty" object; a folder gives a JSON list.

`matlens predict FOLDER_OR_CSV --out OUT [--workers N | --scheduler URL]`: a folder of
structures or a CSV of compositions as a batch (`inference.batch`): OUT/predictions.json,
predictions.csv and failures.csv; it resumes.
"""

from __future__ import annotations

import sys

from inference.batch.cli import add_where_options


def register(sub) -> None:
    p = sub.add_parser("predict", help="properties from a structure, a folder or a formula")
    p.add_argument("target", help="structure file, folder of structures, or formula (Fe2O3)")
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
    report = run_prediction(args.target, relax=args.relax, eos=args.eos)
    for w in report.warnings:
        print(f"matlens: warning: {w}", file=sys.stderr)
    batch = what.kind == "structures" and len(what.paths) > 1
    if args.json:
        print_json(report.records if batch else report.records[0])
        return 0
    print(f"device: {report.device}")
    for record in report.records:
        if "error" in record:
            print(f"{record['file']}: error: {record['error']}")
    for r in report.rows:
        unc = f" {r.uncertainty}" if r.uncertainty else ""
        print(f"{r.item:28s} {r.quantity:16s} {r.value}{unc} {r.unit}")
    return 0
