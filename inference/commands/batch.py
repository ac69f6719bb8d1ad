"""`matlens batch RECIPE.json INPUT_DIR OUT_DIR [--workers N | --scheduler URL] [--json]`:
apply a saved recipe to a folder.

Writes, per image, `<name>.csv` (one row per object) and `<name>.overlay.png`, plus
`summary.csv` (one row per image) and `failures.csv`. Run it again to resume: images already
done with the same recipe are skipped. A file that cannot be processed is reported and
skipped; the exit code is 0 when every image was done, 1 when some failed. The images run in
this process, on N local worker processes, or on a dask cluster (`inference.batch`).
"""

from __future__ import annotations

from pathlib import Path

from inference.batch.cli import add_where_options


def register(sub) -> None:
    p = sub.add_parser("batch", help="apply a recipe to every image of a folder")
    p.add_argument("recipe", help="RECIPE.json saved from the Micrographs pane")
    p.add_argument("input_dir", help="folder of micrographs (not recursive)")
    p.add_argument("out_dir", help="folder for the CSVs, overlays and summary")
    p.add_argument("--json", action="store_true", help="print the batch report as JSON")
    add_where_options(p)
    p.set_defaults(handler=run)


def run(args) -> int:
    from inference.batch import micrographs
    from inference.batch.cli import run_from_cli
    from inference.segmentation.recipe import load_recipe

    recipe = load_recipe(Path(args.recipe))
    return run_from_cli(micrographs(recipe, args.input_dir), args.out_dir, args, "batch")
