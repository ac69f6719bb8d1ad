"""Micrographs: a recipe over a folder (`matlens batch`). Per image `<name>.csv`,
`<name>.overlay.png` and `<name>.labels.tif` (calibrated as the image); `summary.csv` (one row per image, in file order),
`failures.csv` and `recipe.json`, as `inference.segmentation.batch` writes them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.batch._cache import cached_model
from inference.batch._model import Item, ItemFailure, ItemOutput, MergeResult
from inference.batch._store import replacing
from inference.errors import MatLensError

if TYPE_CHECKING:
    from inference.jobs import CancelToken, ProgressCallback
    from inference.segmentation.recipe import Recipe
    from inference.segmentation.sam import SamModel

# Of what a task writes; a change redoes every image. 2: an image whose file scale was refused
# (pixels not square, reciprocal space) no longer takes the recipe's fallback pixel size.
# 3: a microscope's data bar is left out of the automatic objects and the area fractions.
VERSION = 3


def sam_model_id(recipe: Recipe) -> str:
    return f"sam:{recipe.model}"


def _load_sam(model_id: str):
    from inference.segmentation.sam import SamModel

    model = SamModel(model_id)
    model.card  # noqa: B018 - a missing model is one clear error now, not a failure later
    return model


@dataclass(frozen=True)
class Micrographs:
    recipe: Recipe
    input_dir: str
    kind: str = "micrographs"

    @property
    def source(self) -> str:
        return self.input_dir

    def settings(self) -> dict[str, Any]:
        return {"version": VERSION, "recipe": self.recipe.digest}

    def items(self) -> list[Item]:
        from inference.segmentation.batch import list_images, output_names

        folder = Path(self.input_dir)
        images = list_images(folder)
        if not images:  # as `extract` and `predict` say of a folder with nothing to do
            raise MatLensError(f"no micrographs in {folder}{_subfolders_hint(folder)}")
        names = output_names(images)
        return [Item(names[p], p.name, str(p.resolve()), _file_stamp(p)) for p in images]

    def prepare(self, out_dir: Path) -> None:
        from inference.segmentation.batch import segmenter
        from inference.segmentation.recipe import save_recipe

        if Path(out_dir).resolve() == Path(self.input_dir).resolve():
            raise MatLensError("choose an output folder other than the input folder")
        segmenter(self.recipe, _no_model)  # a recipe error stops the run before any image
        save_recipe(self.recipe, Path(out_dir) / "recipe.json")

    def process(
        self, item: Item, staging: Path, progress: ProgressCallback, cancel: CancelToken | None
    ) -> ItemOutput:
        from inference.segmentation.batch import OUTPUT_SUFFIXES, process_image, segmenter

        recipe = self.recipe
        model_id = sam_model_id(recipe)

        def model():
            return cached_model(model_id, lambda: _load_sam(recipe.model))

        segment = segmenter(recipe, model)
        processed = process_image(
            recipe, Path(item.source), staging, item.name, segment, progress, cancel
        )
        files = tuple(f"{item.name}{s}" for s in OUTPUT_SUFFIXES)
        return ItemOutput(files, {"row": processed.row, "notes": list(processed.notes)})

    def merge(
        self,
        out_dir: Path,
        items: list[Item],
        done: dict[str, dict[str, Any]],
        failed: dict[str, ItemFailure],
    ) -> MergeResult:
        from inference.segmentation.export import write_table
        from inference.segmentation.summary import write_summary_rows

        summary = Path(out_dir) / "summary.csv"
        rows = [done[item.name]["row"] for item in items if item.name in done]
        failures = [failed[item.name] for item in items if item.name in failed]
        with replacing(summary) as tmp:
            if rows:
                write_summary_rows(rows, tmp)
            else:  # a header only, so scripts always find the file
                write_table([["image"]], tmp)
        failures_csv = Path(out_dir) / "failures.csv"
        with replacing(failures_csv) as tmp:
            write_table([["file", "reason"], *([f.file, f.reason] for f in failures)], tmp)
        notes = tuple(
            note for item in items if item.name in done for note in done[item.name].get("notes", [])
        )
        notes += _left_out(Path(self.input_dir), Path(out_dir))
        return MergeResult((str(summary), str(failures_csv)), notes)


def _names(paths: list[Path], suffix: str = "") -> str:
    shown = ", ".join(f"{p.name}{suffix}" for p in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _left_out(folder: Path, out_dir: Path) -> tuple[str, ...]:
    """What the folder holds that was not measured, so that it is not missed silently."""
    from inference.imaging.io import is_supported

    try:
        entries = sorted(p for p in folder.iterdir() if p.name[:1] != ".")
        out = out_dir.resolve()
        subfolders = [p for p in entries if p.is_dir() and p.resolve() != out]
        others = [p for p in entries if p.is_file() and not is_supported(p)]
    except OSError:  # the folder went away during the run: the items say what happened
        return ()
    notes = []
    if subfolders:
        notes.append(f"subfolders not read (the batch reads one folder): {_names(subfolders, '/')}")
    if others:
        notes.append(f"files not in a micrograph format, left out: {_names(others)}")
    return tuple(notes)


def _subfolders_hint(folder: Path) -> str:
    """The batch reads one folder: name the subfolders, where the images may be."""
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and p.name[:1] != ".")
    if not subfolders:
        return ""
    return f" (subfolders are not read: run the batch on {_names(subfolders, '/')})"


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _no_model() -> SamModel:
    """The model of a recipe check: building a segmenter never runs it."""
    raise RuntimeError("a recipe check segments no image")
