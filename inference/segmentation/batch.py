"""Apply a recipe to every micrograph of a folder: per-image CSV, overlay and label image, plus
one summary CSV; resumable, and one bad file never stops the batch.

Output folder layout::

    OUT/<name>.csv            one row per object (as the GUI's CSV export)
    OUT/<name>.overlay.png    the image with the objects in their class colours
    OUT/<name>.labels.tif     uint16 label image (each object's id, 1..N, as the exports), an
                              ImageJ TIFF with the image's pixel size and unit when calibrated
    OUT/summary.csv           one row per image done with this recipe (`summary.summary_row`)
    OUT/failures.csv          file, reason: the images of the last run that failed
    OUT/recipe.json           the recipe used
    OUT/.matlens-batch/<name>.json   done marker: recipe digest, file size and mtime, summary row

`<name>` is the file's stem (or stem_ext when two inputs share a stem). Resuming: an image
is skipped when its marker has the recipe's digest and the file's size and mtime, and its
outputs exist; the marker is written last, so an image cut short is done again. Changing the
recipe redoes every image. Failed images have no marker and are retried on the next run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.errors import JobCancelled, MatLensError, ModelUnavailable, describe
from inference.imaging.calibration import CALIBRATION_NOTE, DATA_BAR_NOTE, SCALE_REFUSED
from inference.imaging.io import is_supported
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, ImageIdentity
from inference.segmentation.automatic import AutoParams
from inference.segmentation.export import write_csv, write_label_image, write_table
from inference.segmentation.labels import classes_for
from inference.segmentation.microstructure import MapParams
from inference.segmentation.phase_objects import phase_objects
from inference.segmentation.phases import PhaseExample, PhaseParams
from inference.segmentation.recipe import Recipe, save_recipe
from inference.segmentation.sam import SamModel
from inference.segmentation.summary import (
    CRACK_CLASS,
    GRAIN_CLASS,
    summary_row,
    write_summary_rows,
)
from inference.segmentation.tiling import progress_part
from inference.segmentation.workflows import (
    LoadedImage,
    everything_into,
    load_image,
    measure_image,
    microstructure_map,
    segment_phases,
)

MARKERS = ".matlens-batch"
SUMMARY = "summary.csv"
FAILURES = "failures.csv"

OUTPUT_SUFFIXES = (".csv", ".labels.tif", ".overlay.png")  # written per image


@dataclass(frozen=True)
class BatchFailure:
    file: str
    reason: str  # one line


@dataclass(frozen=True)
class BatchReport:
    input_dir: str
    out_dir: str
    images: int  # micrographs found in the folder
    done: tuple[str, ...]  # processed in this run
    skipped: tuple[str, ...]  # already done with this recipe
    failures: tuple[BatchFailure, ...]
    cancelled: bool
    summary_csv: str
    seconds: float

    @property
    def message(self) -> str:
        """One line for the status bar and the terminal."""
        parts = [f"{len(self.done)} done"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} already done")
        if self.failures:
            parts.append(f"{len(self.failures)} failed (see {FAILURES})")
        left = self.images - len(self.done) - len(self.skipped) - len(self.failures)
        if self.cancelled:
            parts.append(f"cancelled with {left} left; run again to resume")
        return f"{self.images} images: {', '.join(parts)}; summary in {self.summary_csv}"

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "message": self.message}


# --- segmentation by mode -----------------------------------------------------------------------
@dataclass(frozen=True)
class Segmented:
    """One image's objects by a recipe's mode, and a line for each thing it left out (examples
    in the image's data bar, which phases by example does not train on)."""

    objects: tuple[AnnotatedObject, ...]
    notes: tuple[str, ...] = ()


Segmenter = Callable[[LoadedImage, ProgressCallback, CancelToken | None], Segmented]


def _params(cls, values: dict, component: str):
    """A parameter dataclass from the recipe's saved fields (JSON lists become tuples)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise MatLensError(
            f"recipe parameter {', '.join(unknown)} is not a '{component}' setting "
            f"({', '.join(sorted(names))})"
        )
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def segmenter(recipe: Recipe, model: Callable[[], SamModel]) -> Segmenter:
    """fn(image, progress, cancel) -> objects, for the recipe's mode: the pane's automatic
    tools (`workflows`), the first class of the recipe as the pane's current class.

    Built before the first image, so a recipe error stops the batch at once instead of failing
    every image; `model()` is called only when an image is segmented (an all-bad folder does not
    load it).
    """
    if recipe.mode == "phases":
        return _phase_segmenter(recipe, model)
    auto = _params(AutoParams, recipe.params("auto"), "auto")
    first_class = recipe.classes[0].name
    if recipe.mode == "auto":

        def run_auto(image: LoadedImage, progress: ProgressCallback, cancel: CancelToken | None):
            # The pane's Segment everything: its masks merged into the (empty) annotations, so
            # a duplicate is left out and an overlap trimmed (the raw masks gave 102 objects,
            # overlapping, where the pane gave 88)
            found = everything_into(
                image.annotations,
                first_class,
                model(),
                image.rgb,
                auto,
                progress=progress,
                cancel=cancel,
            )
            return Segmented(found.merged.merge.added)

        return run_auto
    if recipe.mode == "map":
        map_params = _params(MapParams, recipe.params("map"), "map")
        map_params.check()

        def run_map(image: LoadedImage, progress: ProgressCallback, cancel: CancelToken | None):
            built = microstructure_map(
                model(),
                image.rgb,
                image.display,
                auto,
                map_params,
                progress=progress,
                cancel=cancel,
                data_bar_rows=image.micrograph.data_bar_rows,
            )
            return Segmented(tuple(built.objects(first_class)))

        return run_map
    raise MatLensError(f"unknown mode '{recipe.mode}'")


def _phase_segmenter(recipe: Recipe, model: Callable[[], SamModel]) -> Segmenter:
    """Each 8-connected region of a phase is an object (counts and sizes per phase); specks
    under `measure.min_area` pixels are dropped."""
    params = _params(PhaseParams, recipe.params("phases"), "phases")
    min_area = recipe.min_region_px
    try:
        examples = [
            PhaseExample(str(e["class"]), tuple((float(p[0]), float(p[1])) for p in e["points"]))
            for e in recipe.examples
        ]
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise MatLensError(
            f'recipe examples must be [{{"class": name, "points": [[x, y]]}}] ({exc})'
        ) from None

    def run_phases(image: LoadedImage, progress: ProgressCallback, cancel: CancelToken | None):
        bar = image.micrograph.data_bar_rows
        result = segment_phases(
            model(), image.rgb, examples, params, progress, cancel, data_bar_rows=bar
        )
        objects = phase_objects(result.labels, result.classes, min_area).objects
        notes = (result.examples_note,) if result.examples_note else ()
        return Segmented(tuple(objects), notes)

    return run_phases


# --- the batch ----------------------------------------------------------------------------------
def list_images(folder: Path) -> list[Path]:
    """Micrographs directly in `folder` (not in subfolders), by name; hidden files left out."""
    if folder.is_file():
        raise MatLensError(f"{folder} is a file: the batch takes the folder that holds the images")
    if not folder.is_dir():
        raise MatLensError(f"input folder not found: {folder}")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and is_supported(p)
    )


def output_names(images: list[Path]) -> dict[Path, str]:
    """The stem of each file, or stem_ext where two files share a stem."""
    stems: dict[str, int] = {}
    for p in images:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    return {p: p.stem if stems[p.stem] == 1 else f"{p.stem}_{p.suffix[1:]}" for p in images}


def run_batch(
    recipe: Recipe,
    input_dir: str | Path,
    out_dir: str | Path,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    model: SamModel | None = None,
) -> BatchReport:
    """Process every image not yet done; returns what happened (`cancelled` when stopped).

    `model` is an already loaded SamModel (the GUI's); by default `recipe.model` is loaded
    when the first image needs it.
    """
    started = time.perf_counter()
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    images = list_images(input_dir)
    if out_dir.resolve() == input_dir.resolve():
        raise MatLensError("choose an output folder other than the input folder")
    try:
        (out_dir / MARKERS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MatLensError(f"cannot write to {out_dir}: {exc.strerror}") from exc
    save_recipe(recipe, out_dir / "recipe.json")
    names = output_names(images)
    digest = recipe.digest
    done: list[str] = []
    skipped: list[str] = []
    failures: list[BatchFailure] = []
    cancelled = False
    loaded = [model] if model is not None else []

    def get_model() -> SamModel:
        if not loaded:
            loaded.append(_load_model(recipe))
        return loaded[0]

    segment = segmenter(recipe, get_model)
    try:
        for i, path in enumerate(images):
            if cancel is not None and cancel.cancelled:
                cancelled = True
                break
            name = names[path]
            step = _scaled(progress, i / len(images), 1 / len(images), f"{path.name}: ")
            if _is_done(out_dir, name, path, digest):
                skipped.append(path.name)
                continue
            step(0.0, "reading")
            try:
                _process(recipe, path, out_dir, name, digest, segment, step, cancel)
            except JobCancelled:
                cancelled = True
                break
            except ModelUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - a bad file is reported and skipped
                failures.append(BatchFailure(path.name, describe(exc).message))
                continue
            done.append(path.name)
    finally:
        summary = _write_summary(out_dir, images, names, digest)
        write_table(
            [["file", "reason"], *([f.file, f.reason] for f in failures)], out_dir / FAILURES
        )
    progress(1.0, "batch cancelled" if cancelled else "batch finished")
    return BatchReport(
        input_dir=str(input_dir),
        out_dir=str(out_dir),
        images=len(images),
        done=tuple(done),
        skipped=tuple(skipped),
        failures=tuple(failures),
        cancelled=cancelled,
        summary_csv=str(summary),
        seconds=time.perf_counter() - started,
    )


def _load_model(recipe: Recipe) -> SamModel:
    model = SamModel(recipe.model)
    model.card  # noqa: B018 - raises ModelUnavailable now, not on the first image
    return model


def _scaled(progress: ProgressCallback, start: float, span: float, prefix: str):
    def report(fraction: float, message: str = "") -> None:
        progress(start + span * max(0.0, min(1.0, fraction)), prefix + message)

    return report


def _process(
    recipe: Recipe,
    path: Path,
    out_dir: Path,
    name: str,
    digest: str,
    run: Segmenter,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> None:
    """Segment, measure and write one image; the marker goes last."""
    row = process_image(recipe, path, out_dir, name, run, progress, cancel).row
    stat = path.stat()
    marker = {
        "recipe": digest,
        "file": path.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "row": row,
    }
    _write_json(out_dir / MARKERS / f"{name}.json", marker)


@dataclass(frozen=True)
class ProcessedImage:
    row: dict[str, object]  # its summary.csv row
    notes: tuple[str, ...] = ()  # lines for the batch report (why it was left in pixels)


def process_image(
    recipe: Recipe,
    path: Path,
    out_dir: Path,
    name: str,
    run: Segmenter,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ProcessedImage:
    """Segment, measure and write one image's `<name>.csv`, `.labels.tif` and `.overlay.png`
    into `out_dir`; returns its summary.csv row and report notes. `run` is
    `segmenter(recipe, model)`."""
    from inference.segmentation.report import overlay_image, png_bytes

    image = load_image(path, cancel=cancel, saved=False)
    refused = image.micrograph.metadata.get(SCALE_REFUSED, "")
    rule = recipe.calibration
    calibration = rule.resolve(image.micrograph.calibration, scale_refused=bool(refused))
    notes: list[str] = []
    if refused and not calibration.calibrated:
        note = image.micrograph.metadata.get(CALIBRATION_NOTE, refused)
        fallback = rule.fixed if rule.rule == "metadata" else None
        if fallback is not None:
            size = f"{fallback.pixel_size:g} {fallback.unit}"
            note += f"; the recipe's fallback ({size}) is for files without a scale: not used"
        notes.append(f"{path.name}: {note}")
    if calibration.calibrated:
        calibration = calibration.to(recipe.unit)
    data_bar = (
        image.micrograph.metadata.get(DATA_BAR_NOTE) if image.micrograph.data_bar_rows else ""
    )
    if data_bar:
        notes.append(f"{path.name}: {data_bar}")
    segmented = run(image, progress_part(progress, 0.05, 0.8), cancel)
    objects = list(segmented.objects)
    notes.extend(f"{path.name}: {note}" for note in segmented.notes)
    known = {c.name for c in recipe.classes}
    extra = [o.class_name for o in objects if o.class_name not in known]
    classes = [*recipe.classes, *classes_for(extra)]
    annotations = AnnotationSet(
        image.shape,
        ImageIdentity(path.name, ""),
        calibration,
        classes,
        objects,
        data_bar_rows=image.micrograph.data_bar_rows,
    )
    progress(0.87, "measuring")
    measure_params = recipe.params("measure")
    measured = measure_image(
        annotations,
        str(measure_params.get("grain_class", GRAIN_CLASS)),
        str(measure_params.get("crack_class", CRACK_CLASS)),
    )
    progress(0.95, "writing")
    write_csv(annotations, out_dir / f"{name}.csv", measurements=measured.measurements)
    # a TIFF, as the pane's Export and the CLI write it: a PNG would drop the pixel size
    write_label_image(annotations, out_dir / f"{name}.labels.tif")
    (out_dir / f"{name}.overlay.png").write_bytes(
        png_bytes(
            overlay_image(image.rgb, annotations, data_bar_rows=image.micrograph.data_bar_rows),
            max_side=None,
        )
    )
    row = summary_row(measured.summary)
    if refused and not calibration.calibrated:
        row["calibration"] = f"none ({refused})"  # why this row is in px, in summary.csv too
    return ProcessedImage(row, tuple(notes))


def _outputs(out_dir: Path, name: str) -> list[Path]:
    return [out_dir / f"{name}{s}" for s in OUTPUT_SUFFIXES]


def _marker(out_dir: Path, name: str) -> dict | None:
    try:
        return json.loads((out_dir / MARKERS / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_done(out_dir: Path, name: str, path: Path, digest: str) -> bool:
    marker = _marker(out_dir, name)
    if not marker or marker.get("recipe") != digest or marker.get("file") != path.name:
        return False
    stat = path.stat()
    same_file = marker.get("size") == stat.st_size and marker.get("mtime_ns") == stat.st_mtime_ns
    return same_file and all(p.is_file() for p in _outputs(out_dir, name))


def _write_summary(out_dir: Path, images: list[Path], names: dict[Path, str], digest: str) -> Path:
    """summary.csv from the markers of every image done with this recipe, in file order."""
    rows = []
    for path in images:
        marker = _marker(out_dir, names[path])
        if marker and marker.get("recipe") == digest and marker.get("file") == path.name:
            rows.append(marker["row"])
    if not rows:  # a header only, so scripts always find the file
        return write_table([["image"]], out_dir / SUMMARY)
    return write_summary_rows(rows, out_dir / SUMMARY)


def _write_json(path: Path, data: dict) -> None:
    """Write to a temp file, then rename: a marker is complete or absent."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
