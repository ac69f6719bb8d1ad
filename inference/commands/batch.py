"""`matlens batch RECIPE.json INPUT_DIR OUT_DIR [--json]`: apply a saved recipe to a folder.

Writes, per image, `<name>.csv` (one row per object) and `<name>.overlay.png`, plus
`summary.csv` (one row per image) and `failures.csv`. Run it again to resume: images already
done with the same recipe are skipped. A file that cannot be processed is reported and
skipped; the exit code is 0 when every image was done, 1 when some failed.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("batch", help="apply a recipe to every image of a folder")
    p.add_argument("recipe", help="RECIPE.json saved from the Micrographs pane")
    p.add_argument("input_dir", help="folder of micrographs (not recursive)")
    p.add_argument("out_dir", help="folder for the CSVs, overlays and summary")
    p.add_argument("--json", action="store_true", help="print the batch report as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from inference.cli import print_json
    from inference.segmentation.batch import run_batch
    from inference.segmentation.recipe import load_recipe

    recipe = load_recipe(Path(args.recipe))

    def progress(fraction: float, message: str = "") -> None:
        if not args.json and message:
            print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr)

    report = run_batch(recipe, Path(args.input_dir), Path(args.out_dir), progress)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.message)
        for failure in report.failures:
            print(f"  failed: {failure.file}: {failure.reason}")
    return 1 if report.failures else 0
