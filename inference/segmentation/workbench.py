"""The micrograph workbench: micro-sam's annotator state, without Qt.

One object holds what is known about the image being worked on: the image, its SAM click
session (an embedding, or tiles), the prompts of the object being made and SAM's candidates for
them, the annotations (objects, classes, calibration), the examples of phases by example, and
what the automatic tools made that can be reused. Views follow it through `events`, as napari's
controls follow a layer: the model holds no Qt, and the pane's `MicrographState` re-emits the
events as Qt signals.

Edit it from one thread (the GUI's). The work itself is done by the `workflows` functions in
workers: they take what they need from here as arguments, and their frozen results come back
through the setters below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from inference.errors import MatLensError
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    ObjectClass,
    paint_stroke,
)
from inference.segmentation.automatic import AutoParams
from inference.segmentation.microstructure import MapParams
from inference.segmentation.phase_objects import MIN_REGION_PX
from inference.segmentation.phases import PhaseExample
from inference.segmentation.prompts import PromptState
from inference.segmentation.recipe import Recipe, default_rule, table_unit
from inference.segmentation.saved_examples import (
    SavedExample,
    examples_by_class,
    examples_to_json,
)
from inference.segmentation.workflows import (
    PROCESS_SAM_MODELS,
    AutoMasks,
    LoadedImage,
    PhasePreview,
    SamModels,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from inference.imaging.calibration import Calibration
    from inference.segmentation.clicks import ClickSession, RefinedCandidate
    from inference.segmentation.geometry import Box
    from inference.segmentation.merging import Policy
    from inference.segmentation.sam import SamModel

Mode = Literal["auto", "map", "phases"]
# the parameters the pane's Automatic tools show: a recipe saves exactly these
AUTO_FIELDS = ("points_per_side", "pred_iou_thresh", "stability_thresh", "min_area_px")
MAP_FIELDS = ("kind",)
DEFAULT_CLASS = "precipitate"
MIN_ERASE_RADIUS = 6.0  # px: removing examples with a thinner eraser misses the dot


class Event:
    """A Qt-free signal: views connect callbacks, the model emits after each change."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def connect(self, callback: Callable[..., None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: object) -> None:
        for callback in list(self._callbacks):
            callback(*args)


@dataclass(frozen=True)
class WorkbenchEvents:
    """What a view can follow; each is emitted after the change."""

    image: Event = field(default_factory=Event)  # another image is open (LoadedImage)
    clicks: Event = field(default_factory=Event)  # clicks became possible, or not (bool)
    prompts: Event = field(default_factory=Event)  # the points or box of the object changed
    candidates: Event = field(default_factory=Event)  # SAM's answers, or the one shown, changed
    objects: Event = field(default_factory=Event)  # objects added, removed or changed
    classes: Event = field(default_factory=Event)
    calibration: Event = field(default_factory=Event)
    examples: Event = field(default_factory=Event)  # phase examples changed
    phase_preview: Event = field(default_factory=Event)  # PhasePreview | None


@dataclass(frozen=True)
class AutomaticSettings:
    """What the Automatic tools are set to: the tool shown, its parameters, what happens to the
    objects already there (`merging.Policy`) and the smallest phase region kept."""

    mode: Mode = "auto"
    auto: AutoParams = field(default_factory=AutoParams)
    map: MapParams = field(default_factory=MapParams)
    policy: Policy = "keep"
    phase_min_area: int = MIN_REGION_PX


@dataclass(frozen=True)
class StrokeEdit:
    """What a brush or eraser stroke does: add a new object, replace one, remove one, nothing."""

    kind: Literal["add", "replace", "remove", "none"]
    obj: AnnotatedObject | None = None  # the new object or version; the removed one


class MicrographWorkbench:
    """One image and everything made for it (see the module docstring)."""

    def __init__(self, models: SamModels | None = None, model_id: str = "mobile_sam") -> None:
        self.events = WorkbenchEvents()
        self.models = models or PROCESS_SAM_MODELS
        self.model_id = model_id
        self.image: LoadedImage | None = None
        self.prompts: PromptState | None = None
        self.clicks: ClickSession | None = None
        self.examples: dict[str, list[tuple[float, float]]] = {}
        self.auto_masks: AutoMasks | None = None  # the last segment-everything, for the map
        self.features = None  # PhaseFeatures of this image, once computed
        self.phase_preview: PhasePreview | None = None
        self.settings = AutomaticSettings()

    # --- the image and the model ----------------------------------------------------------------
    @property
    def annotations(self) -> AnnotationSet | None:
        return self.image.annotations if self.image is not None else None

    @property
    def model(self) -> SamModel:
        """The SAM model chosen (its sessions open on first use, in a worker)."""
        return self.models.get(self.model_id)

    @property
    def ready(self) -> bool:
        """Clicks are answered: the click session of this image is there."""
        return self.clicks is not None

    def open(self, loaded: LoadedImage) -> None:
        """Work on another image: everything made for the previous one is dropped; the phase
        examples saved with its annotations come back."""
        self.image = loaded
        self.prompts = PromptState(loaded.shape)
        self.clicks = self.auto_masks = self.features = self.phase_preview = None
        self.examples = {e.class_name: list(e.points) for e in loaded.annotations.phase_examples}
        self.events.image.emit(loaded)
        self.events.examples.emit()

    def set_model(self, model_id: str) -> None:
        """Another SAM model: the click session and features made with the old one go."""
        if model_id == self.model_id:
            return
        self.model_id = model_id
        self.clicks = self.auto_masks = self.features = None
        self.events.clicks.emit(False)

    def set_clicks(self, clicks: ClickSession | None) -> None:
        self.clicks = clicks
        self.events.clicks.emit(clicks is not None)

    # --- the object being made ------------------------------------------------------------------
    def _prompts(self) -> PromptState:
        if self.prompts is None:
            raise MatLensError("Open a micrograph first.")
        return self.prompts

    def add_point(self, x: float, y: float, label: int) -> None:
        """A click (label 1 object, 0 background); one line when it lies outside the image."""
        self._prompts().add_point(x, y, label)
        self.events.prompts.emit()

    def set_box(self, box: Box) -> None:
        self._prompts().set_box(box)
        self.events.prompts.emit()

    def undo_point(self) -> bool:
        done = self.prompts is not None and self.prompts.undo_point()
        if done:
            self.events.prompts.emit()
        return done

    def clear_prompts(self) -> None:
        if self.prompts is not None:
            self.prompts.clear()
        self.events.prompts.emit()
        self.events.candidates.emit()

    def set_candidates(self, candidates: Sequence[RefinedCandidate]) -> None:
        self._prompts().set_candidates(list(candidates))
        self.events.candidates.emit()

    def next_candidate(self) -> None:
        if self.prompts is not None and self.prompts.candidates:
            self.prompts.cycle()
            self.events.candidates.emit()

    @property
    def candidate(self) -> RefinedCandidate | None:
        """The candidate on screen."""
        return self.prompts.current if self.prompts is not None else None

    def candidate_object(self, class_name: str) -> AnnotatedObject | None:
        """The candidate on screen as a new object of `class_name` (what Enter adds); None
        when there is none, or when its mask is empty (an object with no pixels would count)."""
        cand, annotations, prompts = self.candidate, self.annotations, self.prompts
        if cand is None or annotations is None or prompts is None:
            return None
        crop, offset = cand.mask_crop()  # not the full mask: 64 MB at 8192²
        if not crop.any():
            return None
        return AnnotatedObject(
            annotations.next_id(),
            class_name,
            crop,
            offset,
            score=cand.score,
            points=tuple(prompts.points),
            box=prompts.box,
            source=cand.source,
        )

    # --- edits: undo commands call these ----------------------------------------------------------
    def _annotations(self) -> AnnotationSet:
        if self.annotations is None:
            raise MatLensError("Open a micrograph first.")
        return self.annotations

    def add_objects(self, objects: Sequence[AnnotatedObject], index: int | None = None) -> None:
        annotations = self._annotations()
        for k, obj in enumerate(objects):
            annotations.add(obj, None if index is None else index + k)
        self.events.objects.emit()

    def remove_object(self, obj_id: int) -> tuple[int, AnnotatedObject]:
        """Returns (position, object), so `add_objects([obj], position)` restores the order."""
        removed = self._annotations().remove(obj_id)
        self.events.objects.emit()
        return removed

    def remove_objects(self, ids: Sequence[int]) -> None:
        annotations = self._annotations()
        for obj_id in reversed(ids):
            annotations.remove(obj_id)
        self.events.objects.emit()

    def exchange_objects(
        self,
        remove_ids: Sequence[int],
        add: Sequence[AnnotatedObject] = (),
        restore: Sequence[tuple[int, AnnotatedObject]] = (),
    ) -> tuple[tuple[int, AnnotatedObject], ...]:
        """Remove objects by id, put back `restore` (what an earlier call returned) where they
        were, add `add` on top; one event. Returns the removed objects with their positions.
        A merge is `exchange_objects(removed ids, added)`, its undo
        `exchange_objects(added ids, restore=what the merge returned)`."""
        annotations = self._annotations()
        removed = tuple(annotations.remove(obj_id) for obj_id in remove_ids)
        for position, obj in reversed(restore):
            annotations.add(obj, position)
        for obj in add:
            annotations.add(obj)
        self.events.objects.emit()
        return removed

    def replace_object(self, new: AnnotatedObject) -> AnnotatedObject:
        """Swap in a new version (same id, same place); returns the old one."""
        old = self._annotations().replace(new)
        self.events.objects.emit()
        return old

    def add_class(
        self, name: str, existing: ObjectClass | None = None, index: int | None = None
    ) -> ObjectClass:
        """A new class (one line when the name is empty or taken); `existing` puts a removed
        class back (redo), at `index` when given."""
        annotations = self._annotations()
        if existing is not None:
            where = len(annotations.classes) if index is None else index
            annotations.classes.insert(where, existing)
            cls = existing
        else:
            name = name.strip()
            if not name or any(c.name == name for c in annotations.classes):
                raise MatLensError(
                    f"A class needs a new, non-empty name ('{name}' is taken or empty)."
                )
            cls = annotations.add_class(name)
        self.events.classes.emit()
        return cls

    def remove_class(self, cls: ObjectClass) -> None:
        self._annotations().classes.remove(cls)
        self.events.classes.emit()

    def rename_class(self, old: str, new: str) -> None:
        """Give class `old` the name `new`: its objects, colour, place in the list and phase
        examples go with it (a mistyped name stayed in the sidecar for good)."""
        annotations = self._annotations()
        new = new.strip()
        if not new or any(c.name == new for c in annotations.classes):
            raise MatLensError(f"A class needs a new, non-empty name ('{new}' is taken or empty).")
        index = next(i for i, c in enumerate(annotations.classes) if c.name == old)
        annotations.classes[index] = ObjectClass(new, annotations.classes[index].colour)
        for obj in list(annotations.objects):
            if obj.class_name == old:
                annotations.replace(renamed(obj, new))
        annotations.set_phase_examples(
            SavedExample(new if e.class_name == old else e.class_name, e.points)
            for e in annotations.phase_examples
        )
        self.examples = {new if k == old else k: v for k, v in self.examples.items()}
        self.events.classes.emit()
        self.events.objects.emit()
        self.events.examples.emit()

    def set_calibration(self, calibration: Calibration) -> Calibration:
        """Returns the calibration before, for undo."""
        annotations = self._annotations()
        old, annotations.calibration = annotations.calibration, calibration
        self.events.calibration.emit()
        return old

    def stroke(
        self,
        path: Sequence[tuple[float, float]],
        erase: bool,
        radius: float,
        target: AnnotatedObject | None,
        class_name: str,
    ) -> StrokeEdit:
        """What a brush or eraser stroke does to `target` (the selected object), else to the
        object under the stroke's start, else (brush) to a new object of `class_name`."""
        annotations = self._annotations()
        if target is None and path:
            x, y = path[0]
            target = annotations.object_at(int(x), int(y))
        shape = annotations.shape
        if target is None:
            if erase:
                return StrokeEdit("none")
            new = paint_stroke(
                None,
                path,
                radius,
                False,
                shape,
                new_id=annotations.next_id(),
                class_name=class_name,
            )
            return StrokeEdit("add", new) if new is not None else StrokeEdit("none")
        new = paint_stroke(target, path, radius, erase, shape)
        if new is None:
            return StrokeEdit("remove", target)
        return StrokeEdit("replace", new) if new is not target else StrokeEdit("none")

    # --- automatic tools --------------------------------------------------------------------------
    def set_settings(self, settings: AutomaticSettings) -> None:
        self.settings = settings

    def set_auto_masks(self, masks: AutoMasks) -> None:
        self.auto_masks = masks

    def reusable_masks(self, params: AutoParams) -> AutoMasks | None:
        """The last segment-everything of this image, when it used these settings."""
        masks = self.auto_masks
        return masks if masks is not None and masks.params == params else None

    # --- phases by example ------------------------------------------------------------------------
    def paint_examples(
        self, class_name: str, path: Sequence[tuple[float, float]], erase: bool, radius: float
    ) -> None:
        """A stroke adds examples of `class_name` on the image; an eraser removes those near."""
        annotations = self._annotations()
        if erase:
            r2 = max(radius, MIN_ERASE_RADIUS) ** 2
            for name, pts in self.examples.items():
                self.examples[name] = [
                    p for p in pts if all((p[0] - x) ** 2 + (p[1] - y) ** 2 > r2 for x, y in path)
                ]
        else:
            h, w = annotations.shape
            inside = [(float(x), float(y)) for x, y in path if 0 <= x < w and 0 <= y < h]
            self.examples.setdefault(class_name, []).extend(inside)
        self.examples = {k: v for k, v in self.examples.items() if v}
        self.events.examples.emit()

    def clear_examples(self) -> None:
        self.set_examples({})

    def set_examples(self, examples: dict[str, list[tuple[float, float]]]) -> None:
        """Put back examples as they were (undo, redo); none left: no preview either."""
        self.examples = {k: list(v) for k, v in examples.items() if v}
        self.events.examples.emit()
        if not self.examples:
            self.set_phase_preview(None)

    def phase_examples(self) -> list[PhaseExample]:
        return [PhaseExample(name, tuple(pts)) for name, pts in self.examples.items()]

    def examples_to_keep(self) -> tuple[SavedExample, ...]:
        """The examples painted now, in the form the annotations save."""
        return examples_by_class(self.examples)

    def keep_phase_examples(self, examples: Sequence[SavedExample]) -> tuple[SavedExample, ...]:
        """Save examples with the annotations (sidecar, recipe); returns the previous ones."""
        return self._annotations().set_phase_examples(examples)

    def class_colours(self) -> dict[str, tuple[int, int, int]]:
        annotations = self.annotations
        return {c.name: c.colour for c in annotations.classes} if annotations is not None else {}

    def example_marks(self) -> list[tuple[float, float, tuple[int, int, int]]]:
        """Every example point with its class's colour, for drawing."""
        colours = self.class_colours()
        return [
            (x, y, colours.get(name, (255, 255, 255)))
            for name, pts in self.examples.items()
            for x, y in pts
        ]

    def set_features(self, features) -> None:
        self.features = features

    def set_phase_preview(self, preview: PhasePreview | None) -> None:
        self.phase_preview = preview
        self.events.phase_preview.emit(preview)

    # --- batch --------------------------------------------------------------------------------------
    def recipe(self, first_class: str, mode: Mode | None = None) -> Recipe:
        """The recipe that repeats on a folder what the automatic tools do here; one line when
        it cannot (phases without examples)."""
        from inference.segmentation.summary import CRACK_CLASS, GRAIN_CLASS

        image, annotations = self.image, self.annotations
        if image is None or annotations is None:
            raise MatLensError("Open a micrograph first: the recipe is taken from its settings.")
        settings = self.settings
        mode = mode or settings.mode
        parameters = {
            "auto": {f: getattr(settings.auto, f) for f in AUTO_FIELDS},
            "map": {f: getattr(settings.map, f) for f in MAP_FIELDS},
            "measure": {
                "grain_class": GRAIN_CLASS,
                "crack_class": CRACK_CLASS,
                "min_area": settings.phase_min_area,
            },
        }
        classes = sorted(annotations.classes, key=lambda c: c.name != first_class)
        examples: tuple[dict, ...] = ()
        reference = None
        if mode == "phases":  # those painted now, else those the phases were applied with
            saved = self.examples_to_keep() or annotations.phase_examples
            examples = tuple(examples_to_json(saved))
            reference = str(image.path)
        cal = annotations.calibration
        return Recipe(
            mode=mode,
            classes=tuple(classes),
            model=self.model_id,
            parameters=parameters,
            calibration=default_rule(cal),
            unit=table_unit(cal),
            examples=examples,
            reference_image=reference,
            name=image.path.parent.name,
        )


def renamed(obj: AnnotatedObject, class_name: str) -> AnnotatedObject:
    return dataclasses.replace(obj, class_name=class_name)


def shown(obj: AnnotatedObject, visible: bool) -> AnnotatedObject:
    return dataclasses.replace(obj, visible=visible)
