"""Every micrograph workflow of MatLens, once: open, embed or tile, click, segment everything,
map, phases by example, measure, save. The Micrographs pane runs these functions in workers, and
the CLI (`segment`, `auto`, `phases`, `measure`) and `batch` call them directly, so the three
give the same answer for the same input.

Each function takes its inputs explicitly (never a live, changing state), long ones also
`progress(fraction, message)` and `cancel`, and returns a frozen result. `workbench` holds the
state they work on for one image.

Modules that take seconds to import (scikit-image measurements, the exports, the report) are
imported inside the functions that need them, so opening the window does not wait for them.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

import numpy as np

from inference.errors import MatLensError, UnsupportedFormat
from inference.imaging.display import to_display, to_rgb
from inference.imaging.io import read_micrograph
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.segmentation import sidecar
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
)
from inference.segmentation.automatic import AutoParams, segment_everything, to_objects
from inference.segmentation.clicks import ClickSession, click_session
from inference.segmentation.data_bar import (
    clear_data_bar,
    specimen,
    specimen_rows,
    to_image_height,
)
from inference.segmentation.domain import check_automatic_domain
from inference.segmentation.everything import segment_everything_tiled, segment_image
from inference.segmentation.merging import MergeResult, Policy, merge_objects
from inference.segmentation.microstructure import (
    MapParams,
    MicrostructureMap,
    build_map,
    map_objects,
)
from inference.segmentation.phase_examples import TrainingExamples, above_data_bar
from inference.segmentation.phase_objects import MIN_REGION_PX, PhaseObjects, phase_objects
from inference.segmentation.phases import PhaseExample, PhaseParams, PhaseResult, classify
from inference.segmentation.phases import segment_phases as _segment_phases
from inference.segmentation.sam import SamModel
from inference.segmentation.tiling import progress_part

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from inference.imaging.calibration import Calibration
    from inference.imaging.micrograph import Micrograph
    from inference.segmentation.features import PhaseFeatures
    from inference.segmentation.masks import AutoMask
    from inference.segmentation.measure import ObjectMeasurement
    from inference.segmentation.summary import MeasurementSummary

ExportKind = Literal["labels", "masks", "coco", "rois", "csv"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("labels", "masks", "coco", "rois", "csv")


# --- opening ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """One frame of a micrograph, ready for the screen and the model, with its annotations."""

    micrograph: Micrograph
    display: np.ndarray  # uint8 for the screen
    rgb: np.ndarray  # uint8 HxWx3 for the model
    annotations: AnnotationSet
    notice: str | None  # one line about the saved annotations, when something needs saying
    path: Path
    sidecar_key: Path  # the image path whose sidecar holds these annotations

    @property
    def shape(self) -> tuple[int, int]:
        return self.micrograph.shape


def load_image(
    path: Path,
    frame: int = 0,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    saved: bool = True,
    refusal: str = "",
) -> LoadedImage:
    """Read a frame and make its screen and model images. `saved` also opens its sidecar (the
    pane); without it (CLI, batch) the annotations start empty and no sidecar is touched.
    The annotations know the image's data bar (`Micrograph.data_bar_rows`), which measuring
    leaves out of the image area.
    `refusal`, when given, is the line raised instead of the reader's when neither the file's
    first bytes nor its name are an image format (the window's, naming every format it opens)."""
    path = Path(path)
    progress(0.05, f"reading {path.name}")
    try:
        micrograph = read_micrograph(path, frame=frame, cancel=cancel)
    except UnsupportedFormat as exc:
        if not refusal:
            raise
        raise UnsupportedFormat(refusal) from exc
    if cancel is not None:
        cancel.raise_if_cancelled()
    progress(0.5, "adjusting contrast")
    display = to_display(micrograph)
    rgb = to_rgb(display)
    progress(0.7, "loading annotations")
    name = path.name if micrograph.n_frames == 1 else f"{path.name}[{frame}]"
    key = sidecar_key(path, frame, micrograph.n_frames)
    if saved:
        identity = ImageIdentity.of_pixels(name, micrograph.data)
        opened = sidecar.open_for_image(key, identity, micrograph.shape, micrograph.calibration)
        annotations, notice = opened.annotations, opened.notice
        if micrograph.n_frames > 1:
            notice = _stack_scale(annotations, path, frame, micrograph.n_frames, notice)
    else:
        identity = ImageIdentity(name, "")
        annotations = AnnotationSet(micrograph.shape, identity, micrograph.calibration)
        notice = None
    annotations.data_bar_rows = micrograph.data_bar_rows
    progress(1.0, "")
    return LoadedImage(micrograph, display, rgb, annotations, notice, path, key)


def _stack_scale(
    annotations: AnnotationSet, path: Path, frame: int, n_frames: int, notice: str | None
) -> str | None:
    """A frame with no scale of its own chosen takes the one last set by hand on another frame
    of the stack: frames share a magnification, as Fiji keeps one scale per stack (frame 2 read
    px after frame 1 was calibrated). Returns the notice, with a line saying so."""
    if annotations.calibration.source in sidecar.USER_CALIBRATION_SOURCES:
        return notice
    shared = scale_of_other_frames(path, frame, n_frames)
    if shared is None:
        return notice
    annotations.calibration, said = shared
    return f"{notice}; {said}" if notice else said


def scale_chosen_in_pane(path: Path, frame: int, n_frames: int) -> tuple[Calibration, str] | None:
    """The scale the Micrographs pane measures a frame with when a person chose it (drawn,
    typed, a recipe's): the frame's own, else, in a stack, another frame's; with where it came
    from in words. `matlens measure` reads it so (only the scale, no mask decoded)."""
    own = sidecar.chosen_scale(sidecar_key(path, frame, n_frames))
    if own is not None:
        calibration = own[0]
        return calibration, f"{calibration.pixel_size:g} {calibration.unit}/px"
    return scale_of_other_frames(path, frame, n_frames) if n_frames > 1 else None


def scale_of_other_frames(path: Path, frame: int, n_frames: int) -> tuple[Calibration, str] | None:
    """The scale last set by hand on another frame of a stack, with the line that says so; the
    pane and `matlens measure --frame` use it for a frame with no scale chosen of its own."""
    chosen = [
        (found[1], other, found[0])
        for other in range(n_frames)
        if other != frame
        and (found := sidecar.chosen_scale(sidecar_key(path, other, n_frames))) is not None
    ]
    if not chosen:
        return None
    _, other, calibration = max(chosen, key=lambda c: c[0])
    said = (
        f"the scale set on frame {other + 1} of this stack is used "
        f"({calibration.pixel_size:.4g} {calibration.unit}/px): its frames share one"
    )
    return calibration, said


def sidecar_key(path: Path, frame: int, n_frames: int) -> Path:
    """The path whose sidecar holds a frame's annotations: each frame of a stack has its own."""
    return path if n_frames == 1 else path.with_name(f"{path.name}.frame{frame}")


def save_annotations(annotations: AnnotationSet, key: Path) -> Path:
    """Write a snapshot (`AnnotationSet.copy()`) to the image's sidecar; returns where."""
    path = sidecar.sidecar_path(key)
    sidecar.save(annotations, path)
    return path


class SidecarSaver:
    """Saves one image's annotations to its sidecar from a worker; the newest snapshot wins.

    The editing thread takes a snapshot after every edit; `save_latest` (any thread, any number
    of times, in any order) writes the newest snapshot not yet on disk, so no edit is lost and
    an older snapshot never overwrites a newer one."""

    def __init__(self, key: Path) -> None:
        self.key = key
        self._lock = threading.Lock()
        self._latest: tuple[AnnotationSet, int] | None = None
        self._written = 0

    def snapshot(self, annotations: AnnotationSet) -> None:
        """Keep a copy of the annotations as they are now (cheap: objects are immutable)."""
        number = self._latest[1] + 1 if self._latest is not None else 1
        self._latest = (annotations.copy(), number)

    @property
    def saved(self) -> bool:
        """The newest snapshot is on disk (or none was taken)."""
        latest = self._latest
        return latest is None or latest[1] <= self._written

    def save_latest(self) -> Path | None:
        """Write the newest snapshot unless it is on disk already; returns where."""
        with self._lock:
            latest = self._latest
            if latest is None or latest[1] <= self._written:
                return None
            path = save_annotations(latest[0], self.key)
            self._written = latest[1]
            return path


class SamModels:
    """The SAM models of a session by id, loaded once; any thread may ask."""

    def __init__(self) -> None:
        self._models: dict[str, SamModel] = {}
        self._lock = threading.Lock()

    def get(self, model_id: str) -> SamModel:
        with self._lock:
            model = self._models.get(model_id)
            if model is None:
                model = self._models[model_id] = SamModel(model_id)
            return model


# One per process: every workbench (each pane, the CLI, a batch worker) shares the loaded
# sessions, so a model's weights and onnxruntime's buffers are in memory once.
PROCESS_SAM_MODELS = SamModels()


# --- clicks -----------------------------------------------------------------------------------


def embed_for_clicks(
    model: SamModel,
    rgb: np.ndarray,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    tiles_on_demand: bool = False,
    data_bar_rows: int = 0,
) -> ClickSession:
    """The click session of an image: one embedding, or native-resolution tiles above
    `tiling.TILE_ABOVE` px. Zoom windows are left out so every click stays live (~20 ms).
    `tiles_on_demand` embeds a tile when a prompt first needs it (the CLI's few prompts);
    the pane embeds them all up front so that no click waits. The masks of prompts above a
    data bar of `data_bar_rows` leave its rows out (SAM runs objects near it into it)."""
    return click_session(
        model,
        rgb,
        progress=progress,
        cancel=cancel,
        lazy=tiles_on_demand,
        data_bar_rows=data_bar_rows,
    )


# --- segment everything and the microstructure map --------------------------------------------


@dataclass(frozen=True, eq=False)
class AutoMasks:
    """Segment-everything's masks of one image with the settings that made them."""

    params: AutoParams
    masks: tuple[AutoMask, ...]

    def objects(self, class_name: str, first_id: int = 1) -> list[AnnotatedObject]:
        return to_objects(self.masks, class_name, first_id)


def _clicks_for(clicks: ClickSession | None, model: SamModel, rgb: np.ndarray):
    """The click session when it holds this image's embedding (or tiles) for this model, so the
    automatic tools reuse it instead of embedding again; else None."""
    if clicks is None or clicks.model is not model or clicks.shape != tuple(rgb.shape[:2]):
        return None
    return clicks


def auto_masks(
    model: SamModel,
    rgb: np.ndarray,
    params: AutoParams | None = None,
    clicks: ClickSession | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    data_bar_rows: int = 0,
) -> AutoMasks:
    """Segment everything: every object SAM finds from a grid of points, tiled above
    `tiling.TILE_ABOVE` px, reusing the click session's embedding or tiles when given.
    The bottom `data_bar_rows` (a microscope's data bar) are left out: SAM segments the rows
    above them (`data_bar.specimen`; the click session, made for the whole image, is then not
    reused), so every mask lies in the specimen, in image coordinates.
    An image (a specimen, above its data bar) under `domain.MIN_SIDE` px on its short side is
    refused (`OutsideModelDomain`), in a line that names the data bar when one was left out."""
    above = specimen(rgb, data_bar_rows)
    check_automatic_domain(above.shape, rgb.shape[0] - above.shape[0])
    rgb = above
    params = params or AutoParams()
    params.check()
    clicks = _clicks_for(clicks, model, rgb)
    if clicks is not None and clicks.tiles is not None:
        masks = segment_everything_tiled(model, rgb, params, progress, cancel, tiles=clicks.tiles)
    elif clicks is not None:
        masks = segment_everything(model, clicks.embedding, params, progress, cancel, rgb)
    else:
        masks = segment_image(model, rgb, params, progress, cancel)
    return AutoMasks(params, tuple(masks))


def map_class(kind: str, first_class: str) -> str:
    """The class a map's objects get: grains and cracks by name, a phase the class chosen."""
    from inference.segmentation.summary import CRACK_CLASS, GRAIN_CLASS

    return {"grains": GRAIN_CLASS, "cracks": CRACK_CLASS}.get(kind, first_class)


@dataclass(frozen=True, eq=False)
class MapResult:
    """A microstructure map and the automatic masks it was built from."""

    masks: AutoMasks
    map: MicrostructureMap

    def objects(self, first_class: str, first_id: int = 1) -> list[AnnotatedObject]:
        """One object per particle, grain or crack, of `map_class(kind, first_class)`."""
        return map_objects(self.map, map_class(self.map.kind, first_class), first_id)


def microstructure_map(
    model: SamModel,
    rgb: np.ndarray,
    display: np.ndarray,
    auto: AutoParams | None = None,
    params: MapParams | None = None,
    reuse: AutoMasks | None = None,
    clicks: ClickSession | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    data_bar_rows: int = 0,
) -> MapResult:
    """The microstructure map of an image: segment everything (or `reuse` masks made with the
    same settings), then close, merge and classify the regions (`microstructure.build_map`).
    The map is built on the rows above a data bar of `data_bar_rows` and padded back to the
    image's height (no region in the bar)."""
    auto, params = auto or AutoParams(), params or MapParams()
    params.check()
    if reuse is None or reuse.params != auto:
        part = progress_part(progress, 0.0, 0.9)
        reuse = auto_masks(model, rgb, auto, clicks, part, cancel, data_bar_rows=data_bar_rows)
    progress(0.9, "merging regions into the map")
    above = specimen(display, data_bar_rows)
    built = build_map(above, reuse.masks, params, progress_part(progress, 0.9, 0.1), cancel)
    height = display.shape[0]
    built = dataclasses.replace(
        built,
        labels=to_image_height(built.labels, height),
        binary=to_image_height(built.binary, height),
    )
    return MapResult(reuse, built)


# --- phases by example ------------------------------------------------------------------------


def phase_features(
    model: SamModel,
    rgb: np.ndarray,
    clicks: ClickSession | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PhaseFeatures:
    """The once-per-image features of phases by example (the click session's whole-image
    embedding reused when given)."""
    from inference.segmentation.features import compute_features

    clicks = _clicks_for(clicks, model, rgb)
    embedding = clicks.embedding if clicks is not None else None
    return compute_features(model, rgb, embedding, progress=progress, cancel=cancel)


@dataclass(frozen=True, eq=False)
class PhasePreview:
    """A phase map and its RGBA picture in the classes' colours."""

    result: PhaseResult
    rgba: np.ndarray

    def fractions_text(self) -> str:
        return ", ".join(f"{n} {share:.1%}" for n, share in self.result.fractions().items())


def preview_phases(
    features: PhaseFeatures,
    examples: Sequence[PhaseExample],
    colours: Mapping[str, tuple[int, int, int]],
    params: PhaseParams | None = None,
    cancel: CancelToken | None = None,
    *,
    data_bar_rows: int = 0,
) -> PhasePreview:
    """The live step after each new example: classify every pixel and colour the map (built
    here, not on the GUI thread: an image-sized look-up). A data bar of `data_bar_rows` gets
    no phase (`without_data_bar`), and examples in it are not trained on (`training_examples`;
    `PhaseResult.examples_note` says so)."""
    training = training_examples(examples, features.image_shape[0], data_bar_rows)
    result = classify(features, training.examples, params or PhaseParams(), cancel=cancel)
    result = dataclasses.replace(
        without_data_bar(result, data_bar_rows), examples_note=training.note
    )
    lut = np.zeros((len(result.classes) + 1, 4), np.uint8)
    for k, name in enumerate(result.classes, start=1):
        lut[k] = (*colours.get(name, (255, 255, 255)), 255)
    return PhasePreview(result, lut[result.labels])


def segment_phases(
    model: SamModel,
    rgb: np.ndarray,
    examples: Sequence[PhaseExample],
    params: PhaseParams | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    data_bar_rows: int = 0,
) -> PhaseResult:
    """Features and classification at once, for the CLI and batch; a data bar of
    `data_bar_rows` gets no phase (`without_data_bar`) and its examples are not trained on."""
    training = training_examples(examples, rgb.shape[0], data_bar_rows)
    params = params or PhaseParams()
    result = _segment_phases(model, rgb, training.examples, params, progress, cancel)
    return dataclasses.replace(without_data_bar(result, data_bar_rows), examples_note=training.note)


def training_examples(
    examples: Sequence[PhaseExample], height: int, data_bar_rows: int
) -> TrainingExamples:
    """The examples phases by example trains on: those above a data bar of `data_bar_rows` (a
    bar is not specimen, so its pixels teach no phase), with one line when any were left out."""
    return above_data_bar(examples, specimen_rows(height, data_bar_rows), int(height))


def without_data_bar(result: PhaseResult, data_bar_rows: int) -> PhaseResult:
    """The phase map with label 0 (no phase) in a microscope's data bar of `data_bar_rows`, so
    its fractions and objects are the specimen's. The whole image is classified first (the
    pane reuses its embedding); the bar's pixels are then left out."""
    if not data_bar_rows:
        return result
    probability = result.probability
    return dataclasses.replace(
        result,
        labels=clear_data_bar(result.labels, data_bar_rows),
        probability=None if probability is None else clear_data_bar(probability, data_bar_rows),
    )


# --- automatic results joining the annotations ------------------------------------------------

Made = TypeVar("Made")


@dataclass(frozen=True, eq=False)
class Merged:
    """How objects an automatic tool found join the annotations (`merging.merge_objects`),
    computed in a worker against a snapshot: it holds while the annotations still have the
    snapshot's objects and next id (else merge again: the user edited meanwhile)."""

    merge: MergeResult
    found: tuple[AnnotatedObject, ...]  # what the tool found, before merging
    across_classes: bool
    basis: tuple[AnnotatedObject, ...]  # the snapshot's objects
    basis_next_id: int
    supersedes: str = ""  # the source whose objects the found ones replace

    def holds_for(self, annotations: AnnotationSet) -> bool:
        objects = annotations.objects
        return (
            annotations.next_id() == self.basis_next_id
            and len(objects) == len(self.basis)
            and all(a is b for a, b in zip(objects, self.basis, strict=True))
        )


def merge_found(
    annotations: AnnotationSet,
    found: Sequence[AnnotatedObject],
    policy: Policy = "keep",
    across_classes: bool = False,
    supersedes: str = "",
) -> Merged:
    """Merge `found` into a snapshot (`AnnotationSet.copy()`) under the one rule of
    `merging`: each pixel in at most one object of a class (of any class: `across_classes`);
    the objects of source `supersedes` are replaced (`merging.merge_objects`)."""
    merge = merge_objects(
        annotations, found, policy, across_classes=across_classes, supersedes=supersedes
    )
    return Merged(
        merge, tuple(found), across_classes, annotations.objects, annotations.next_id(), supersedes
    )


@dataclass(frozen=True, eq=False)
class FoundObjects(Generic[Made]):
    """An automatic tool's result (`made`: AutoMasks, MapResult or PhaseObjects) and how its
    objects join the annotations."""

    made: Made
    merged: Merged

    def merged_again(self, annotations: AnnotationSet) -> FoundObjects[Made]:
        """The same objects merged into a newer snapshot (the user edited meanwhile)."""
        m = self.merged
        again = merge_found(annotations, m.found, m.merge.policy, m.across_classes, m.supersedes)
        return FoundObjects(self.made, again)


def everything_into(
    annotations: AnnotationSet,
    class_name: str,
    model: SamModel,
    rgb: np.ndarray,
    params: AutoParams | None = None,
    clicks: ClickSession | None = None,
    policy: Policy = "keep",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> FoundObjects[AutoMasks]:
    """Segment everything (`auto_masks`) above the annotations' data bar, its masks as objects of
    `class_name` merged into a snapshot of the annotations."""
    part = progress_part(progress, 0.0, 0.95)
    rows = annotations.data_bar_rows
    masks = auto_masks(model, rgb, params, clicks, part, cancel, data_bar_rows=rows)
    progress(0.95, "leaving out objects already there")
    return FoundObjects(masks, merge_found(annotations, masks.objects(class_name), policy))


def map_into(
    annotations: AnnotationSet,
    first_class: str,
    model: SamModel,
    rgb: np.ndarray,
    display: np.ndarray,
    auto: AutoParams | None = None,
    params: MapParams | None = None,
    reuse: AutoMasks | None = None,
    clicks: ClickSession | None = None,
    policy: Policy = "keep",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> FoundObjects[MapResult]:
    """The microstructure map (`microstructure_map`) above the annotations' data bar, its
    particles, grains or cracks merged into a snapshot of the annotations."""
    result = microstructure_map(
        model,
        rgb,
        display,
        auto,
        params,
        reuse,
        clicks,
        progress_part(progress, 0.0, 0.95),
        cancel,
        data_bar_rows=annotations.data_bar_rows,
    )
    progress(0.95, "leaving out objects already there")
    return FoundObjects(result, merge_found(annotations, result.objects(first_class), policy))


def phases_into(
    annotations: AnnotationSet,
    result: PhaseResult,
    min_area_px: int = MIN_REGION_PX,
    policy: Policy = "keep",
    cancel: CancelToken | None = None,
) -> FoundObjects[PhaseObjects]:
    """A phase map as objects, one per connected region (`phase_objects`), merged into a
    snapshot of the annotations across classes: every pixel has one phase, and an object
    the user made keeps its pixels. The annotations' data bar gets no phase."""
    result = without_data_bar(result, annotations.data_bar_rows)
    rows = annotations.specimen_rows
    made = phase_objects(result.labels, result.classes, min_area_px, field_rows=rows)
    if cancel is not None:
        cancel.raise_if_cancelled()
    # Phases applied again after the examples were corrected are the map's update: they
    # replace the phase objects applied before (kept, every new region overlapped them, and
    # "Applied as 78 objects" changed nothing); objects made otherwise keep their pixels.
    merged = merge_found(
        annotations, made.objects, policy, across_classes=True, supersedes="phases"
    )
    return FoundObjects(made, merged)


# --- measuring and files ----------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredImage:
    """Every object's measurements and the image's summary, for one state of the edits."""

    measurements: tuple[ObjectMeasurement, ...]
    summary: MeasurementSummary


def measure_image(
    annotations: AnnotationSet,
    grain_class: str | None = None,
    crack_class: str | None = None,
    cancel: CancelToken | None = None,
) -> MeasuredImage:
    """Measure a snapshot (`AnnotationSet.copy()`), never the set the GUI is editing; cracks
    get a length, grains the ASTM E112 grain size."""
    from inference.segmentation.measure import measure
    from inference.segmentation.summary import CRACK_CLASS, GRAIN_CLASS, summarise_image

    grain_class, crack_class = grain_class or GRAIN_CLASS, crack_class or CRACK_CLASS
    measurements = tuple(measure(annotations, length_classes=(crack_class,)))
    if cancel is not None:
        cancel.raise_if_cancelled()
    summary = summarise_image(annotations, measurements, grain_class, crack_class)
    return MeasuredImage(measurements, summary)


def export_annotations(
    annotations: AnnotationSet,
    kind: ExportKind,
    path: Path,
    image_name: str,
    read_from: Path | None = None,
) -> Path:
    """Write a snapshot in one of `EXPORT_KINDS` (for "masks", `path` is a folder); never over
    `read_from`, the micrograph annotated (a label export replaced it, 786 kB by 956 bytes)."""
    from inference.runtime.write_guard import refuse_writing_over
    from inference.segmentation import export

    refuse_writing_over(path, [read_from])

    if kind == "labels":
        return export.write_label_image(annotations, path)
    if kind == "masks":
        export.write_class_masks(annotations, path)
        return path
    if kind == "coco":
        return export.write_coco(annotations, path, image_name)
    if kind == "rois":
        return export.write_imagej_rois(annotations, path)
    if kind == "csv":
        return export.write_csv(annotations, path)
    raise MatLensError(f"unknown export '{kind}' (use {', '.join(EXPORT_KINDS)})")
