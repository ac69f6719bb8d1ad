"""A batch recipe: how to segment and measure every image of a folder, saved as JSON.

Format (``version`` 1)::

    {"format": "matlens-recipe", "version": 1, "name": "precipitates, 20 kx",
     "model": "mobile_sam",
     "mode": "auto" | "map" | "phases",
     "parameters": {"auto": {...AutoParams fields...}, "map": {...MapParams fields...},
                    "phases": {...}, "measure": {"grain_class": "grain", "crack_class": "crack",
                                                 "min_area": 10}},
     "classes": [{"name": "precipitate", "colour": [230, 159, 0]}],
     "calibration": {"rule": "metadata"}                      pixel size from each file,
                  | {"rule": "metadata", "pixel_size": 0.05, "unit": "µm"}   ... else this one,
                  | {"rule": "fixed", "pixel_size": 0.05, "unit": "µm"}      the same for all,
                  | {"rule": "none"},                                        pixels,
     "unit": "µm",
     "examples": [{"class": "matrix", "points": [[x, y], ...]}],   (phases mode only:
     "reference_image": "/data/ref.tif"}                           clicked on this image)

`unit` is the length unit of the batch's tables: every calibrated image is converted to it, so
one summary column never mixes µm and nm. Mode parameters are passed by name to the mode's
parameter dataclass, so the GUI saves exactly the fields it shows. The recipe hash (`digest`)
covers everything but the name: the batch redoes an image when the recipe changed.

Every value is checked when a recipe is made, from a file or from the pane (types, ranges,
finiteness, distinct class names; `Recipe.__post_init__`): a bad one is one line naming it,
before any image runs.

`measure.min_area` (px, default `phase_objects.MIN_REGION_PX`) is the smallest region of a
phase map kept as an object (`Recipe.min_region_px`).

Phases mode: the example points are used at the same pixel positions in every image, so it
suits a series framed alike (the same layers of a coating cross-section at the same place).
Training once and applying the classifier to other images needs `phases` to keep a trained
model with a feature basis shared across images, which it does not do yet.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from inference.errors import MatLensError, UnreadableFile
from inference.imaging.calibration import Calibration, normalise_unit
from inference.runtime.registry import get_card
from inference.segmentation.annotations import RGB, ObjectClass
from inference.segmentation.labels import classes_for

FORMAT = "matlens-recipe"
VERSION = 1
MODES = ("auto", "map", "phases")
RULES = ("metadata", "fixed", "none")
TABLE_UNITS = ("nm", "µm", "mm")  # length units a batch's tables are offered in
Mode = Literal["auto", "map", "phases"]
Rule = Literal["metadata", "fixed", "none"]


# --- what each field may hold -------------------------------------------------------------------
# Every value of a recipe is checked when it is made (loaded from a file or taken from the pane),
# so a bad one is one line naming it before any image runs, the same in `matlens batch` and in
# the Batch dialog, instead of a Python error for every image.


def _shown(value: object) -> str:
    """A value as the recipe file writes it: "text" quoted, null, true, Infinity, NaN."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value: object, low: float | None = None, *, open_low: bool = False) -> bool:
    """A finite int or float (not true/false) at least `low` (above it when `open_low`)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return low is None or (value > low if open_low else value >= low)


@dataclass(frozen=True)
class _Setting:
    """What one saved parameter must be: `kind` "int" (a whole number), "number" (finite),
    "bool" or "text", in `low`..`high` or one of `choices` (for text, `prefixes`: text starting
    with one of them, or empty)."""

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    nonempty: bool = False

    def allows(self, value: object) -> bool:
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "text":
            if not isinstance(value, str) or (self.nonempty and not value.strip()):
                return False
            if self.choices:
                return value in self.choices
            return not self.prefixes or not value or value.startswith(self.prefixes)
        if self.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            return False
        if not _is_number(value, self.low):
            return False
        return self.high is None or cast("float", value) <= self.high

    @property
    def text(self) -> str:
        """What the value must be, for the line that refuses it."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            if self.choices:
                return "one of " + ", ".join(f'"{c}"' for c in self.choices)
            if self.prefixes:
                starts = " or ".join(f'"{p}"' for p in self.prefixes)
                return f'"" (every feature) or a feature name start: {starts}'
            return "non-empty text" if self.nonempty else "text"
        what = "a whole number" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{what}, {self.low:g} or more"
        return what


def _whole(low: float, high: float | None = None) -> _Setting:
    return _Setting("int", low, high)


def _number(low: float, high: float | None = None) -> _Setting:
    return _Setting("number", low, high)


_FRACTION = _number(0, 1)
_BYTE = _whole(0, 255)  # a colour channel

# Ranges of the settings that have one; the others are checked for their kind (that of their
# default) only. The "measure" settings are read by the batch itself (`Recipe.min_region_px`,
# `batch.process_image`), not by a parameter class.
_RANGES: dict[str, dict[str, _Setting]] = {
    "auto": {
        "points_per_side": _whole(1, 256),
        "points_per_batch": _whole(1),
        "pred_iou_thresh": _FRACTION,
        "stability_thresh": _FRACTION,
        "nms_iou_thresh": _FRACTION,
        "min_area_px": _whole(0),
        "stability_offset": _number(0),
        "max_area_fraction": _FRACTION,
        "cover_stability": _FRACTION,
        "cover_area_fraction": _FRACTION,
        "blob_threshold": _number(0),
        "max_object_prompts": _whole(0),
    },
    "map": {
        "intensity_delta": _number(0),
        "min_region_px": _whole(0),
        "gap_px": _whole(0),
        "crack_width_px": _whole(0),
        "crack_min_length_px": _whole(0),
        "crack_contrast": _number(0),
        "phase": _Setting("text", choices=("auto", "dark", "bright")),
    },
    "phases": {
        "radius": _number(0),
        "mask_samples": _whole(0),
        "trees": _whole(1),
        "seed": _whole(0, 2**32 - 1),  # a random-forest seed
        "cv_trees": _whole(1),
        "features": _Setting("text", prefixes=("sam", "filter")),
    },
    "measure": {
        "grain_class": _Setting("text", nonempty=True),
        "crack_class": _Setting("text", nonempty=True),
        "min_area": _whole(0),
    },
}


def _settings(component: str) -> dict[str, _Setting] | None:
    """The settings of a parameters component by name, or None for an unknown component."""
    from inference.segmentation.automatic import AutoParams
    from inference.segmentation.microstructure import KINDS, MERGE_RULES, MapParams
    from inference.segmentation.phases import PhaseParams

    classes: dict[str, Any] = {"auto": AutoParams, "map": MapParams, "phases": PhaseParams}
    ranges = dict(_RANGES.get(component, {}))
    if component == "map":
        ranges.update(
            kind=_Setting("text", choices=KINDS), merge=_Setting("text", choices=MERGE_RULES)
        )
    if component == "measure":
        return ranges
    if component not in classes:
        return None
    kinds = {bool: "bool", int: "int", float: "number", str: "text"}
    out = {}
    for f in dataclasses.fields(classes[component]):
        kind = kinds.get(type(f.default))
        if f.name in ranges:
            out[f.name] = ranges[f.name]
        elif kind is not None:
            out[f.name] = _Setting(kind)
        else:  # a kind the recipe's JSON has no check for: left to the parameter class
            out[f.name] = _Setting("any")
    return out


def _check_parameters(parameters: object) -> None:
    """Each component an object of its own settings, each setting of its kind and range."""
    if not isinstance(parameters, dict):
        raise MatLensError(
            f'"parameters" must be an object of component: settings, not {_shown(parameters)}'
        )
    components = ("auto", "map", "phases", "measure")
    for key, values in parameters.items():
        settings = _settings(key) if isinstance(key, str) else None
        if settings is None:
            raise MatLensError(
                f"unknown parameters {key!r} (a recipe has parameters for {', '.join(components)})"
            )
        if not isinstance(values, dict):
            raise MatLensError(
                f"parameters.{key} must be an object of setting: value, not {_shown(values)}"
            )
        unknown = sorted(set(values) - set(settings))
        if unknown:
            raise MatLensError(
                f"unknown setting {', '.join(repr(k) for k in unknown)} in parameters.{key} "
                f"(its settings are {', '.join(sorted(settings))})"
            )
        for name, value in values.items():
            rule = settings[name]
            if rule.kind != "any" and not rule.allows(value):
                raise MatLensError(
                    f"parameters.{key}.{name} must be {rule.text}, not {_shown(value)}"
                )


def _check_classes(classes: tuple[ObjectClass, ...]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(classes, start=1):
        name = c.name
        if not isinstance(name, str) or not name.strip() or name in seen:
            again = " again" if isinstance(name, str) and name in seen else ""
            raise MatLensError(
                f"class names must be distinct, non-empty text: class {i} is {_shown(name)}{again}"
            )
        seen.add(name)
        colour = c.colour
        if not (
            isinstance(colour, tuple | list)
            and len(colour) == 3
            and all(_BYTE.allows(v) for v in colour)
        ):
            raise MatLensError(
                f"the colour of class {i} ({name}) must be [red, green, blue], each a whole "
                f"number from 0 to 255, not {_shown(colour)}"
            )


_EXAMPLE = '[{"class": name, "points": [[x, y], ...]}, ...]'


def _check_examples(examples: tuple[Any, ...], mode: str) -> None:
    """Phase examples: a class name and its points, each [x, y] pixels (0 or more)."""
    for i, example in enumerate(examples, start=1):
        if not isinstance(example, dict) or set(example) != {"class", "points"}:
            raise MatLensError(f'"examples" must be {_EXAMPLE}: example {i} is {_shown(example)}')
        name, points = example["class"], example["points"]
        if not isinstance(name, str) or not name.strip():
            raise MatLensError(
                f"example {i} needs a class name (non-empty text), not {_shown(name)}"
            )
        if not isinstance(points, list | tuple) or not points:
            raise MatLensError(
                f"the points of example {i} ({name}) must be [[x, y], ...], not {_shown(points)}"
            )
        for point in points:
            if not (
                isinstance(point, list | tuple)
                and len(point) == 2
                and all(_is_number(v, 0) for v in point)
            ):
                raise MatLensError(
                    f"a point of example {i} ({name}) must be [x, y], pixels 0 or more, "
                    f"not {_shown(point)}"
                )
    if mode == "phases" and len({e["class"].strip() for e in examples}) < 2:
        raise MatLensError("a phases recipe needs examples of at least two classes")


@dataclass(frozen=True)
class CalibrationRule:
    """Where each image's pixel size comes from; `pixel_size`/`unit` are the fixed value or,
    with the "metadata" rule, the fallback for files without one."""

    rule: Rule = "metadata"
    pixel_size: float | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise MatLensError(f"unknown calibration rule '{self.rule}' ({', '.join(RULES)})")
        if self.pixel_size is not None and not _is_number(self.pixel_size, low=0, open_low=True):
            raise MatLensError(
                "calibration.pixel_size must be a positive, finite number, "
                f"not {_shown(self.pixel_size)}"
            )
        given = self.pixel_size is not None or self.unit is not None
        if self.rule == "fixed" or (self.rule == "metadata" and given):
            if self.pixel_size is None:
                raise MatLensError("a fixed calibration needs a positive pixel_size")
            if not isinstance(self.unit, str):
                raise MatLensError(
                    f"calibration.unit must be a length unit (nm, µm, mm), not {_shown(self.unit)}"
                )
            if not Calibration.known_unit(str(self.unit)):
                raise MatLensError(f"unknown length unit '{self.unit}' in the calibration")
            object.__setattr__(self, "unit", normalise_unit(str(self.unit)))

    @property
    def fixed(self) -> Calibration | None:
        if self.pixel_size is None:
            return None
        return Calibration(float(self.pixel_size), str(self.unit), "recipe")

    def resolve(self, from_file: Calibration, *, scale_refused: bool = False) -> Calibration:
        """The calibration to use for an image whose metadata gave `from_file`.

        `scale_refused`: the file has a scale that was not used (pixels not square, reciprocal
        space; `calibration.SCALE_REFUSED`). The "metadata" rule's fallback is for files
        without a scale: given to such an image it would be a wrong square pixel, so the image
        stays in pixels. "fixed" is the user's word for every image and still wins."""
        if self.rule == "none":
            return Calibration()
        if self.rule == "fixed":
            return self.fixed or Calibration()
        if from_file.calibrated:
            return from_file
        return Calibration() if scale_refused else self.fixed or Calibration()

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"rule": self.rule}
        if self.pixel_size is not None:
            out.update(pixel_size=self.pixel_size, unit=self.unit)
        return out


def default_rule(calibration: Calibration) -> CalibrationRule:
    """Drawn by hand: the same for every image (one microscope setting); else the metadata."""
    if calibration.calibrated and calibration.source == "manual":
        return CalibrationRule("fixed", calibration.pixel_size, calibration.unit)
    return CalibrationRule("metadata")


def table_unit(calibration: Calibration) -> str:
    """The unit of the image's calibration when tables are offered in it, else µm."""
    return calibration.unit if calibration.calibrated and calibration.unit in TABLE_UNITS else "µm"


@dataclass(frozen=True)
class Recipe:
    mode: Mode
    classes: tuple[ObjectClass, ...]
    model: str = "mobile_sam"
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    calibration: CalibrationRule = field(default_factory=CalibrationRule)
    unit: str = "µm"
    examples: tuple[dict[str, Any], ...] = ()
    reference_image: str | None = None  # where the examples were clicked (for the record)
    name: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise MatLensError(f"unknown mode '{self.mode}' (use {', '.join(MODES)})")
        if not self.classes:
            raise MatLensError("a recipe needs at least one class")
        if not isinstance(self.unit, str) or not Calibration.known_unit(self.unit):
            shown = f"'{self.unit}'" if isinstance(self.unit, str) else _shown(self.unit)
            raise MatLensError(f"unknown length unit {shown} for the batch tables")
        object.__setattr__(self, "unit", normalise_unit(self.unit))
        if not isinstance(self.model, str) or not self.model.strip():
            raise MatLensError(f'"model" must be a model name, not {_shown(self.model)}')
        if not isinstance(self.name, str):
            raise MatLensError(f'"name" must be text, not {_shown(self.name)}')
        if self.reference_image is not None and not isinstance(self.reference_image, str):
            raise MatLensError(
                f'"reference_image" must be a file path, not {_shown(self.reference_image)}'
            )
        _check_classes(self.classes)
        _check_parameters(self.parameters)
        if self.mode == "phases" and not self.examples:
            raise MatLensError("a phases recipe needs examples (points per class)")
        _check_examples(self.examples, self.mode)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def min_region_px(self) -> int:
        """The smallest phase region kept as an object, in pixels."""
        from inference.segmentation.phase_objects import MIN_REGION_PX

        return int(self.params("measure").get("min_area", MIN_REGION_PX))

    def params(self, component: str) -> dict[str, Any]:
        """The saved parameters of one component ("auto", "map", "phases", "measure")."""
        return dict(self.parameters.get(component, {}))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "model": self.model,
            "mode": self.mode,
            "parameters": self.parameters,
            "classes": [{"name": c.name, "colour": list(c.colour)} for c in self.classes],
            "calibration": self.calibration.to_dict(),
            "unit": self.unit,
        }
        if self.examples:
            out["examples"] = list(self.examples)
        if self.reference_image:
            out["reference_image"] = self.reference_image
        return out

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON, name left out: equal digests make equal outputs."""
        data = {k: v for k, v in self.to_dict().items() if k != "name"}
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


_KEYS = frozenset(
    {
        "format",
        "version",
        "name",
        "model",
        "mode",
        "parameters",
        "classes",
        "calibration",
        "unit",
        "examples",
        "reference_image",
    }
)


def recipe_from_dict(data: dict) -> Recipe:
    """A recipe from its JSON form; MatLensError (one line naming the field) when any value is
    not what it must be. The values themselves are checked by `Recipe` and `CalibrationRule`,
    here only the shape of the JSON."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MatLensError(f'not a MatLens recipe (expected "format": "{FORMAT}")')
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MatLensError("the recipe has no valid version number")
    if version > VERSION:
        raise MatLensError(f"this recipe was saved by a newer MatLens (version {version})")
    unknown = sorted(set(data) - _KEYS)
    if unknown:  # "params" for "parameters" ran every image with the default settings
        raise MatLensError(
            f"unknown key {', '.join(repr(k) for k in unknown)} (a recipe has "
            f"{', '.join(sorted(_KEYS))})"
        )

    def given(key: str, default: Any) -> Any:  # null is the same as left out
        value = data.get(key)
        return default if value is None else value

    if isinstance(data.get("classes"), str):  # "classes": "abc" would be classes a, b and c
        raise MatLensError('"classes" is a list of class names, not one string')
    entries = given("classes", [])
    if not isinstance(entries, list):
        raise MatLensError(f'"classes" is a list of class names, not {_shown(entries)}')
    cal = given("calibration", {"rule": "metadata"})
    if not isinstance(cal, dict):
        raise MatLensError(
            f'"calibration" must be an object such as {{"rule": "metadata"}}, not {_shown(cal)}'
        )
    extra = sorted(set(cal) - {"rule", "pixel_size", "unit"})
    if extra:
        raise MatLensError(
            f"unknown key {', '.join(repr(k) for k in extra)} in the calibration "
            "(it has rule, pixel_size, unit)"
        )
    examples = given("examples", [])
    if not isinstance(examples, list):
        raise MatLensError(f'"examples" must be {_EXAMPLE}, not {_shown(examples)}')
    try:
        return Recipe(
            mode=data.get("mode", ""),
            classes=tuple(_class_from_json(i, c) for i, c in enumerate(entries, start=1)),
            model=given("model", "mobile_sam"),
            parameters=given("parameters", {}),
            calibration=CalibrationRule(
                cal.get("rule", "metadata"), cal.get("pixel_size"), cal.get("unit")
            ),
            unit=given("unit", "µm"),
            examples=tuple(examples),
            reference_image=data.get("reference_image"),
            name=given("name", ""),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MatLensError(f"the recipe is malformed: {exc}") from exc


def _class_from_json(i: int, entry: object) -> ObjectClass:
    """A class of the recipe: its name, or {"name": name, "colour": [r, g, b]}."""
    if isinstance(entry, dict):
        extra = sorted(set(entry) - {"name", "colour"})
        if extra:
            raise MatLensError(
                f"unknown key {', '.join(repr(k) for k in extra)} in class {i} "
                "(a class has name, colour)"
            )
        name = entry.get("name")
    else:
        name = entry
    if not isinstance(name, str) or not name.strip():
        raise MatLensError(
            f"class names must be distinct, non-empty text: class {i} is {_shown(name)}"
        )
    if isinstance(entry, dict) and "colour" in entry:
        colour = entry["colour"]
        return ObjectClass(name, cast("RGB", tuple(colour) if isinstance(colour, list) else colour))
    return classes_for([name])[0]


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe file; every problem is one line naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        recipe = recipe_from_dict(data)
        if recipe.model:  # an unknown model failed each image, after a progress bar
            get_card(recipe.model)
        return recipe
    except FileNotFoundError:
        raise UnreadableFile(f"recipe not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"recipe {path.name} is not valid JSON (line {exc.lineno})") from None
    except UnicodeDecodeError:  # another file chosen by mistake (a text in Latin-1, an image)
        raise UnreadableFile(
            f"recipe {path.name} is not a MatLens recipe: not UTF-8 JSON text"
        ) from None
    except MatLensError as exc:
        raise UnreadableFile(f"recipe {path.name}: {exc}") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read recipe {path.name}: {exc.strerror}") from None


def save_recipe(recipe: Recipe, path: str | Path) -> Path:
    """Write the recipe as indented UTF-8 JSON (people read and edit these)."""
    path = Path(path)
    text = json.dumps(recipe.to_dict(), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
