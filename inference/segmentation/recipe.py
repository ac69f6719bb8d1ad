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

`measure.min_area` (px, default `phase_objects.MIN_REGION_PX`) is the smallest region of a
phase map kept as an object (`Recipe.min_region_px`).

Phases mode: the example points are used at the same pixel positions in every image, so it
suits a series framed alike (the same layers of a coating cross-section at the same place).
Training once and applying the classifier to other images needs `phases` to keep a trained
model with a feature basis shared across images, which it does not do yet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from inference.errors import MatLensError, UnreadableFile
from inference.imaging.calibration import Calibration, normalise_unit
from inference.segmentation.annotations import RGB, ObjectClass
from inference.segmentation.labels import classes_for

FORMAT = "matlens-recipe"
VERSION = 1
MODES = ("auto", "map", "phases")
RULES = ("metadata", "fixed", "none")
TABLE_UNITS = ("nm", "µm", "mm")  # length units a batch's tables are offered in
Mode = Literal["auto", "map", "phases"]
Rule = Literal["metadata", "fixed", "none"]


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
        given = self.pixel_size is not None or self.unit is not None
        if self.rule == "fixed" or (self.rule == "metadata" and given):
            if not (isinstance(self.pixel_size, int | float) and self.pixel_size > 0):
                raise MatLensError("a fixed calibration needs a positive pixel_size")
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
        if not Calibration.known_unit(self.unit):
            raise MatLensError(f"unknown length unit '{self.unit}' for the batch tables")
        object.__setattr__(self, "unit", normalise_unit(self.unit))
        for key, value in self.parameters.items():
            if not isinstance(value, dict):
                raise MatLensError(f"recipe parameters '{key}' must be an object of name: value")
        if self.mode == "phases" and not self.examples:
            raise MatLensError("a phases recipe needs examples (points per class)")

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
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MatLensError(f'not a MatLens recipe (expected "format": "{FORMAT}")')
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise MatLensError("the recipe has no valid version number")
    if version > VERSION:
        raise MatLensError(f"this recipe was saved by a newer MatLens (version {version})")
    unknown = sorted(set(data) - _KEYS)
    if unknown:  # "params" for "parameters" ran every image with the default settings
        raise MatLensError(
            f"unknown key {', '.join(repr(k) for k in unknown)} (a recipe has "
            f"{', '.join(sorted(_KEYS))})"
        )
    if isinstance(data.get("classes"), str):  # "classes": "abc" would be classes a, b and c
        raise MatLensError('"classes" is a list of class names, not one string')
    try:
        classes = [
            ObjectClass(str(c["name"]), cast("RGB", tuple(int(v) for v in c["colour"])))
            if isinstance(c, dict) and "colour" in c
            else classes_for([str(c["name"] if isinstance(c, dict) else c)])[0]
            for c in data.get("classes") or []
        ]
        cal: dict[str, Any] = data.get("calibration") or {"rule": "metadata"}
        return Recipe(
            mode=data.get("mode", ""),
            classes=tuple(classes),
            model=str(data.get("model", "mobile_sam")),
            parameters=dict(data.get("parameters") or {}),
            calibration=CalibrationRule(
                cast("Rule", str(cal.get("rule", "metadata"))),
                cal.get("pixel_size"),
                cal.get("unit"),
            ),
            unit=str(data.get("unit", "µm")),
            examples=tuple(data.get("examples") or ()),
            reference_image=data.get("reference_image"),
            name=str(data.get("name", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MatLensError(f"the recipe is malformed: {exc}") from exc


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe file; every problem is one line naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        return recipe_from_dict(data)
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
