"""Every value of a batch recipe is checked when the recipe loads: a bad one is refused before
any image runs, in one line naming the field and what it must be, the same line in
`matlens batch` (exit 2, nothing written) and in the Batch dialog. Before, duplicate class
names doubled the object counts, `[1, null]` made a class "None", and a wrong type or an
infinite pixel size failed every image with a Python error."""

from __future__ import annotations

import dataclasses

import imageio.v3 as iio
import pytest
import tifffile

from inference import cli
from inference.errors import MatLensError
from inference.runtime.paths import samples_dir
from inference.segmentation.annotations import ObjectClass
from inference.segmentation.labels import classes_for
from inference.segmentation.recipe import Recipe

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
HEAD = '"format": "matlens-recipe", "version": 1'
AUTO = f'{HEAD}, "mode": "auto", "classes": ["precipitate"]'
PHASES = f'{HEAD}, "mode": "phases", "classes": ["gamma", "tertiary"]'

# (the recipe as a person wrote it, the line that refuses it); NaN and Infinity are written as
# Python's json (and so MatLens) reads them
BAD_RECIPES = {
    # an unknown model failed each image after a progress bar had started
    "unknown_model": (
        f'{{{HEAD}, "mode": "auto", "classes": ["a"], "model": "nosuch"}}',
        "Unknown model 'nosuch'. See Models ▸ Model manager or `matlens models list`.",
    ),
    "duplicate_classes": (
        f'{{{HEAD}, "mode": "auto", "classes": ["a", "a"]}}',
        'class names must be distinct, non-empty text: class 2 is "a" again',
    ),
    "number_and_null_classes": (
        f'{{{HEAD}, "mode": "auto", "classes": [1, null]}}',
        "class names must be distinct, non-empty text: class 1 is 1",
    ),
    "null_class": (
        f'{{{HEAD}, "mode": "auto", "classes": ["precipitate", null]}}',
        "class names must be distinct, non-empty text: class 2 is null",
    ),
    "blank_class": (
        f'{{{HEAD}, "mode": "auto", "classes": [{{"name": " ", "colour": [1, 2, 3]}}]}}',
        'class names must be distinct, non-empty text: class 1 is " "',
    ),
    "bad_colour": (
        f'{{{HEAD}, "mode": "auto", "classes": [{{"name": "a", "colour": [300, 0, 0]}}]}}',
        "the colour of class 1 (a) must be [red, green, blue], each a whole number from 0 to "
        "255, not [300, 0, 0]",
    ),
    "points_per_side_text": (
        f'{{{AUTO}, "parameters": {{"auto": {{"points_per_side": "four"}}}}}}',
        'parameters.auto.points_per_side must be a whole number from 1 to 256, not "four"',
    ),
    "points_per_side_nan": (
        f'{{{AUTO}, "parameters": {{"auto": {{"points_per_side": NaN}}}}}}',
        "parameters.auto.points_per_side must be a whole number from 1 to 256, not NaN",
    ),
    "points_per_side_huge": (
        f'{{{AUTO}, "parameters": {{"auto": {{"points_per_side": 1000000000}}}}}}',
        "parameters.auto.points_per_side must be a whole number from 1 to 256, not 1000000000",
    ),
    "iou_above_one": (
        f'{{{AUTO}, "parameters": {{"auto": {{"pred_iou_thresh": 1.5}}}}}}',
        "parameters.auto.pred_iou_thresh must be a number from 0 to 1, not 1.5",
    ),
    "flag_as_text": (
        f'{{{AUTO}, "parameters": {{"auto": {{"skip_covered": "yes"}}}}}}',
        'parameters.auto.skip_covered must be true or false, not "yes"',
    ),
    "negative_min_area": (
        f'{{{AUTO}, "parameters": {{"measure": {{"min_area": -5}}}}}}',
        "parameters.measure.min_area must be a whole number, 0 or more, not -5",
    ),
    "map_kind": (
        f'{{{HEAD}, "mode": "map", "classes": ["p"], "parameters": {{"map": {{"kind": "x"}}}}}}',
        'parameters.map.kind must be one of "phase", "grains", "cracks", not "x"',
    ),
    "parameters_list": (
        f'{{{AUTO}, "parameters": [1, 2]}}',
        '"parameters" must be an object of component: settings, not [1, 2]',
    ),
    "misspelt_component": (  # "mesure" ran every image with the default minimum area
        f'{{{AUTO}, "parameters": {{"mesure": {{"min_area": 40}}}}}}',
        "unknown parameters 'mesure' (a recipe has parameters for auto, map, phases, measure)",
    ),
    "infinite_pixel_size": (
        f'{{{AUTO}, "calibration": {{"rule": "fixed", "pixel_size": Infinity, "unit": "nm"}}}}',
        "calibration.pixel_size must be a positive, finite number, not Infinity",
    ),
    "pixel_size_text": (
        f'{{{AUTO}, "calibration": {{"rule": "fixed", "pixel_size": "0.05", "unit": "nm"}}}}',
        'calibration.pixel_size must be a positive, finite number, not "0.05"',
    ),
    "misspelt_pixel_size": (  # "pixelsize" left every image in pixels
        f'{{{AUTO}, "calibration": {{"rule": "metadata", "pixelsize": 0.05, "unit": "nm"}}}}',
        "unknown key 'pixelsize' in the calibration (it has rule, pixel_size, unit)",
    ),
    "examples_text": (
        f'{{{PHASES}, "examples": "abc"}}',
        '"examples" must be [{"class": name, "points": [[x, y], ...]}, ...], not "abc"',
    ),
    "one_phase": (
        f'{{{PHASES}, "examples": [{{"class": "gamma", "points": [[5, 5]]}}]}}',
        "a phases recipe needs examples of at least two classes",
    ),
    "negative_point": (
        f'{{{PHASES}, "examples": [{{"class": "gamma", "points": [[5, 5]]}}, '
        f'{{"class": "tertiary", "points": [[-1, 5]]}}]}}',
        "a point of example 2 (tertiary) must be [x, y], pixels 0 or more, not [-1, 5]",
    ),
}


@pytest.fixture
def micrographs(tmp_path):
    """A folder of two small real micrographs."""
    src = tmp_path / "in"
    src.mkdir()
    image = tifffile.imread(SAMPLE)
    iio.imwrite(src / "a.png", image[:128, :128])
    iio.imwrite(src / "b.png", image[128:256, 128:256])
    return src


@pytest.mark.parametrize("case", list(BAD_RECIPES))
def test_matlens_batch_refuses_a_bad_recipe_before_any_image(case, micrographs, tmp_path, capsys):
    text, line = BAD_RECIPES[case]
    recipe = tmp_path / "r.json"
    recipe.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(["batch", str(recipe), str(micrographs), str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.err == f"matlens: recipe r.json: {line}\n"
    assert not out.exists()  # no summary, no overlay, no label image


def test_the_batch_dialog_refuses_a_bad_recipe_with_the_same_line(qtbot, tmp_path):
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QUndoStack

    from desktop.panes.base import AppContext
    from desktop.panes.micrograph.batch_dialog import BatchDialog
    from desktop.panes.micrograph.state import MicrographState
    from desktop.workers import JobRunner

    jobs, owner = JobRunner(), QObject()
    state = MicrographState(AppContext(jobs, lambda r: None, lambda s: None), QUndoStack(), owner)
    dialog = BatchDialog(state)
    qtbot.addWidget(dialog)
    try:
        for case in ("duplicate_classes", "points_per_side_text", "infinite_pixel_size"):
            text, line = BAD_RECIPES[case]
            recipe = tmp_path / f"{case}.json"
            recipe.write_text(text, encoding="utf-8")
            dialog.load_recipe(recipe)
            expected = f"recipe {case}.json: {line}"
            qtbot.waitUntil(lambda e=expected: dialog.summary_label.text() == e, timeout=5000)
            assert dialog.base is None  # nothing was taken from the bad recipe
    finally:
        jobs.wait(10000)


def test_a_recipe_made_in_code_is_checked_as_a_loaded_one():
    """The pane builds recipes as `Recipe(...)` and the dialog with `dataclasses.replace`: the
    same checks refuse the same values there."""
    with pytest.raises(MatLensError, match='class 2 is "a" again'):
        Recipe(mode="auto", classes=(ObjectClass("a", (1, 2, 3)), ObjectClass("a", (4, 5, 6))))
    good = Recipe(mode="auto", classes=tuple(classes_for(["a"])))
    with pytest.raises(MatLensError, match="points_per_side must be a whole number from 1"):
        dataclasses.replace(good, parameters={"auto": {"points_per_side": 8.5}})
    with pytest.raises(MatLensError, match="min_area must be a whole number, 0 or more, not -5"):
        dataclasses.replace(good, parameters={"measure": {"min_area": -5}})
