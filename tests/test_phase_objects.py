"""Phases become measurable objects (`phase_objects`): one object per connected region, specks
dropped, the phase fraction still exact; the examples are saved with the annotations and go
into a recipe as they are.

Real maps: the phase classifier's map of the superalloy micrograph (Super1/spot2_0d_0, three
clicks per class inside the ground truth, as tests/test_phases.py), and the metallographers'
oxide/crack map of an EBC1 coating cross-section.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

import numpy as np
import pytest
import tifffile
from conftest import shared
from scipy import ndimage as ndi
from test_annotations import CAL, blank_set, square

from inference.segmentation import sidecar
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet, ImageIdentity
from inference.segmentation.histogram import size_histogram
from inference.segmentation.labels import classes_for
from inference.segmentation.measure import measure, summarise
from inference.segmentation.merging import apply_merge, merge_objects
from inference.segmentation.phase_objects import MIN_REGION_PX, phase_objects
from inference.segmentation.recipe import Recipe, recipe_from_dict
from inference.segmentation.saved_examples import (
    SavedExample,
    examples_by_class,
    examples_from_json,
    examples_to_json,
)

if TYPE_CHECKING:
    from inference.segmentation.sam import SamModel

SUPER1 = ("segmentation", "nasa_micronet", "Super1")
CLASSES = ("matrix", "secondary", "tertiary")
EIGHT = np.ones((3, 3), bool)


@pytest.fixture(scope="module")
def classified(sam_model):
    """The classifier's map of Super1/spot2_0d_0 from three interior clicks per class."""
    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph
    from inference.segmentation.features import compute_features
    from inference.segmentation.phases import PhaseExample, classify

    rgba = tifffile.imread(shared(*SUPER1, "test_annot", "spot2_0d_0_mask.tif"), key=0)
    rgb_truth = rgba[..., :3].astype(int)
    truth = np.zeros(rgb_truth.shape[:2], np.uint8)
    truth[(rgb_truth == (255, 0, 0)).all(axis=2)] = 1
    truth[(rgb_truth == (0, 0, 255)).all(axis=2)] = 2
    rng = np.random.default_rng(0)
    examples = []
    for k, name in enumerate(CLASSES):
        depth = cast("np.ndarray", ndi.distance_transform_edt(np.pad(truth == k, 1)))[1:-1, 1:-1]
        ys, xs = np.nonzero(depth >= max(1.0, min(8.0, depth.max() / 2)))
        pick = rng.choice(ys.size, 3, replace=False)
        examples.append(PhaseExample(name, tuple((float(xs[i]), float(ys[i])) for i in pick)))
    rgb = to_rgb(read_micrograph(shared(*SUPER1, "test", "spot2_0d_0.tif")))
    return classify(compute_features(sam_model, rgb), examples), examples


def test_each_region_of_each_phase_is_an_object(classified):
    result, _ = classified
    made = phase_objects(result.labels, result.classes, min_area_px=10)
    counts = made.counts()
    # one object per region, not one per class: the precipitates can be counted
    assert counts["secondary"] > 20 and counts["tertiary"] > 5
    for name in CLASSES:
        k = CLASSES.index(name) + 1
        _, regions = cast("tuple[np.ndarray, int]", ndi.label(result.labels == k, EIGHT))
        assert made.regions[k - 1] == regions
    for obj in made.objects:
        _, parts = cast("tuple[np.ndarray, int]", ndi.label(obj.mask, EIGHT))
        assert parts == 1 and obj.area >= 10 and obj.source == "phases"
    assert [o.id for o in made.objects] == list(range(1, len(made.objects) + 1))
    # no pixel in two objects, and each object lies on its own class in the map
    held = np.zeros(result.labels.shape, np.int32)
    for obj in made.objects:
        held[obj.slices] += obj.mask
        assert (result.labels[obj.slices][obj.mask] == CLASSES.index(obj.class_name) + 1).all()
    assert held.max() == 1


def test_the_phase_fraction_stays_exact(classified):
    result, _ = classified
    made = phase_objects(result.labels, result.classes, min_area_px=50)
    assert made.fractions() == result.fractions()  # from the map: every pixel counted
    total = result.labels.size
    s = AnnotationSet(result.labels.shape, ImageIdentity("spot2_0d_0.tif", "0" * 64), CAL)
    s.classes = classes_for(CLASSES)
    for obj in made.objects:
        s.add(obj)
    measured = {c.class_name: c for c in summarise(s)}
    for name in CLASSES:
        dropped = made.dropped_pixels(name)
        kept = made.kept_fractions()[name]
        # the measured fraction is the kept objects', short of the map's by the specks alone
        assert measured[name].area_fraction == pytest.approx(kept, abs=1e-12)
        assert made.fractions()[name] - kept == pytest.approx(dropped / total, abs=1e-12)
        assert dropped < 0.01 * total
    assert sum(made.dropped_regions) > 0  # specks there were, and they went
    assert size_histogram(measure(s), "tertiary").total > 1  # a histogram, not one bar


def test_a_phase_map_merged_across_classes_keeps_what_was_clicked(classified):
    result, _ = classified
    s = AnnotationSet(result.labels.shape, ImageIdentity("spot2_0d_0.tif", "0" * 64), CAL)
    s.classes = classes_for(CLASSES)
    clicked = AnnotatedObject(s.next_id(), "secondary", np.ones((40, 40), bool), (200, 200))
    s.add(clicked)  # a square "precipitate" drawn by hand, across several phases of the map
    made = phase_objects(result.labels, result.classes, min_area_px=10)
    apply_merge(s, merge_objects(s, made.objects, across_classes=True))
    labels = s.label_image()
    assert (labels[clicked.slices][clicked.mask] == clicked.id).all()
    held = np.zeros(s.shape, np.int32)
    for obj in s.objects:
        held[obj.slices] += obj.mask
    assert held.max() == 1


def test_a_metallographers_oxide_and_crack_map():
    stem = "070516_1_S1160030"
    classes = tifffile.imread(
        shared("segmentation", "nasa_micronet", "EBC1", "test_annot", f"{stem}.tif")
    )
    everything = phase_objects(classes, ["oxide", "crack"], min_area_px=1)
    fewer = phase_objects(classes, ["oxide", "crack"], min_area_px=200)
    for k, name in enumerate(["oxide", "crack"], start=1):
        regions, n = cast("tuple[np.ndarray, int]", ndi.label(classes == k, EIGHT))
        sizes = np.bincount(regions.ravel())[1:]
        assert everything.counts()[name] == n
        assert fewer.counts()[name] == int((sizes >= 200).sum())
        assert fewer.dropped_pixels(name) == int(sizes[sizes < 200].sum())
        assert fewer.fractions()[name] == pytest.approx((classes == k).mean())
    assert MIN_REGION_PX == 10


def test_the_minimum_area_is_saved_with_the_recipe():
    classes = classes_for(["matrix", "pore"])
    examples = examples_to_json(
        [SavedExample("matrix", ((1, 2),)), SavedExample("pore", ((5, 5),))]
    )
    plain = Recipe(mode="phases", classes=tuple(classes), examples=tuple(examples))
    assert plain.min_region_px == MIN_REGION_PX
    chosen = Recipe(
        mode="phases",
        classes=tuple(classes),
        examples=tuple(examples),
        parameters={"measure": {"min_area": 40}},
    )
    assert recipe_from_dict(json.loads(json.dumps(chosen.to_dict()))).min_region_px == 40
    assert chosen.digest != plain.digest  # a changed minimum redoes the batch


# --- examples saved with the annotations -------------------------------------------------------
def test_the_examples_are_saved_with_the_annotations_and_go_into_a_recipe(tmp_path):
    s = blank_set()
    s.add(square(1, 0, 0, 4, "pore"))
    examples = examples_by_class(
        {"matrix": [(10.5, 20.0), (30, 31)], "pore": [(1, 1)], "crack": []}
    )
    assert s.set_phase_examples(examples) == ()  # the previous ones, for undo
    path = tmp_path / "a.tif.matlens.json"
    sidecar.save(s, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == 2
    assert data["phase_examples"] == [
        {"class": "matrix", "points": [[10.5, 20.0], [30.0, 31.0]]},
        {"class": "pore", "points": [[1.0, 1.0]]},
    ]
    back = sidecar.load(path)
    assert back.phase_examples == examples
    assert back.copy().phase_examples == examples
    recipe = Recipe(
        mode="phases",
        classes=tuple(classes_for(["matrix", "pore"])),
        examples=tuple(examples_to_json(back.phase_examples)),
    )
    from inference.segmentation.batch import segmenter

    segmenter(recipe, _no_model)  # the batch reads these examples (no model is loaded yet)


def test_a_version_1_sidecar_still_loads(tmp_path):
    s = blank_set()
    s.add(square(1, 0, 0, 4, "pore"))
    data = sidecar.to_dict(s)
    data["format_version"] = 1
    del data["phase_examples"]
    path = tmp_path / "old.matlens.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    back = sidecar.load(path)
    assert len(back) == 1 and back.phase_examples == ()


def test_bad_examples_in_a_sidecar_are_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="example 1"):
        examples_from_json([{"points": [[1, 2]]}])
    with pytest.raises(ValueError, match=r"\[\[x, y\]"):
        examples_from_json([{"class": "pore", "points": [[1, 2, 3]]}])
    s = blank_set()
    data = sidecar.to_dict(s)
    data["phase_examples"] = [{"class": "pore", "points": "here"}]
    path = tmp_path / "bad.matlens.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from inference.errors import UnreadableFile

    with pytest.raises(UnreadableFile, match="corrupt"):
        sidecar.load(path)


def _no_model() -> SamModel:
    raise AssertionError("building a segmenter loads no model")
