"""`matlens extract PAPER.pdf [--json] [--csv OUT.csv] [--property Tc]`: materials and properties.

JSON: {"records": [...], "materials": [...], "synthesis": [...]}; each record and material has
exactly the fields of `inference.literature.schema.PropertyRecord` / `MaterialMention` (pages
are 1-based); the CSV has one column per `PropertyRecord` field.

`matlens extract FOLDER --out OUT [--workers N | --scheduler URL]`: every PDF of a folder,
one task each (`inference.batch`): OUT/records.json, records.csv, failures.csv, and the
library's search index.
"""

from __future__ import annotations

import sys
from pathlib import Path

from inference.batch.cli import add_where_options


def register(sub) -> None:
    p = sub.add_parser("extract", help="materials and properties (with units) from a PDF paper")
    p.add_argument("paper", help="a PDF file, or a folder of them (with --out)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--csv", metavar="OUT.csv", help="also write the records as CSV")
    p.add_argument("--property", action="append", default=[], help="keep only this property")
    p.add_argument(
        "--material", help="keep only records about this material (as written, or its formula)"
    )
    p.add_argument(
        "--ner", action="store_true", help="add material names found by the learned tagger"
    )
    p.add_argument(
        "--linker",
        choices=("rules", "learned"),
        default="rules",
        help="how each Tc value finds its material: the rules (default) or the learned linker, "
        "which ties them in cross-validation and scores a point below them on unseen papers",
    )
    p.add_argument("--out", metavar="OUT_DIR", help="for a folder: where the results go")
    add_where_options(p)
    p.set_defaults(handler=run, reads=("paper",), writes=("csv",))


def run(args) -> int:
    if Path(args.paper).is_dir():
        from inference.batch.cli import extract_folder

        return extract_folder(args)
    if args.out or args.workers or args.scheduler:  # they were ignored, and nothing written
        from inference.errors import MatLensError

        raise MatLensError(
            "--out, --workers and --scheduler are for a folder of papers; for one paper "
            "use --json or --csv OUT.csv"
        )
    from inference.cli import print_json
    from inference.literature.export import write_csv
    from inference.literature.extract import extract_pdf
    from inference.literature.schema import shown_quantity
    from inference.wording import counted

    result = extract_pdf(Path(args.paper), ner=args.ner, linker=args.linker).extraction
    if args.property:
        result.records = [r for r in result.records if r.property in args.property]
    if args.material:
        wanted = args.material
        result.records = [r for r in result.records if wanted in (r.material, r.material_formula)]
    if args.csv:
        write_csv(result.records, Path(args.csv))
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"{result.title or Path(args.paper).name} ({counted(result.n_pages, 'page')})")
    names = sorted(
        {_shown(m.text, m.formula, m.kind) for m in result.materials if m.role == "sample"}
    )
    print(f"materials: {', '.join(names) if names else '(none)'}")
    for r in result.records:
        cond = ", ".join(f"{k} {v}" for k, v in r.conditions.items())
        material = _shown(r.material or "?", r.material_formula, r.material_kind)
        prop = f"{r.property} ({r.qualifier})" if r.qualifier else r.property
        print(
            f"p{r.page:<3} {material:24s} {prop:18s} {shown_quantity(r)}"
            + (f"  [{cond}]" if cond else ""),
            file=sys.stdout,
        )
    return 0


def _shown(written: str, formula: str, kind: str) -> str:
    """ "PCCO (= Pr2-xCexCuO4)": an abbreviation, doping level or code with what it stands for."""
    if kind in ("abbreviation", "doping", "code") and formula and formula != written:
        return f"{written} (= {formula})"
    return written
