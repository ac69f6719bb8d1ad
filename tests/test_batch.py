"""Recipes and `matlens batch`: a folder of real micrographs with a bad file among them is
processed, the bad file reported and skipped, and a second run resumes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from conftest import shared
from scipy import ndimage

from inference import cli
from inference.errors import MatLensError, UnreadableFile
from inference.imaging.calibration import Calibration
from inference.jobs import CancelToken
from inference.runtime.paths import samples_dir
from inference.segmentation.batch import output_names, run_batch
from inference.segmentation.labels import classes_for
from inference.segmentation.recipe import (
    CalibrationRule,
    Recipe,
    load_recipe,
    recipe_from_dict,
    save_recipe,
)

SAMPLE = samples_dir() / "superalloy_precipitates.tif"
SUPER1_GT = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
FAST_AUTO = {"points_per_side": 8}  # a coarse grid keeps the test to seconds


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def auto_recipe(**changes) -> Recipe:
    fields = {
        "mode": "auto",
        "classes": recipe_from_dict(
            {"format": "matlens-recipe", "version": 1, "mode": "auto", "classes": ["precipitate"]}
        ).classes,
        "parameters": {"auto": dict(FAST_AUTO)},
        "calibration": CalibrationRule("fixed", 0.05, "um"),
        "name": "precipitates",
    }
    return Recipe(**{**fields, **changes})


# --- recipes ------------------------------------------------------------------------------------
def test_recipe_round_trip_and_digest(tmp_path):
    recipe = auto_recipe()
    path = save_recipe(recipe, tmp_path / "r.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "matlens-recipe" and data["version"] == 1
    assert data["calibration"] == {"rule": "fixed", "pixel_size": 0.05, "unit": "µm"}
    assert data["classes"] == [{"name": "precipitate", "colour": [230, 159, 0]}]
    back = load_recipe(path)
    assert back == recipe and back.digest == recipe.digest
    renamed = Recipe(**{**back.__dict__, "name": "other name"})
    assert renamed.digest == recipe.digest  # the name is not part of what is computed
    changed = auto_recipe(parameters={"auto": {"points_per_side": 16}})
    assert changed.digest != recipe.digest


def test_calibration_rules():
    from_file = Calibration(2.0, "nm", "FEI tags")
    assert CalibrationRule("metadata").resolve(from_file) == from_file
    assert not CalibrationRule("metadata").resolve(Calibration()).calibrated
    fallback = CalibrationRule("metadata", 0.5, "µm")
    assert fallback.resolve(Calibration()) == Calibration(0.5, "µm", "recipe")
    assert fallback.resolve(from_file) == from_file
    # a scale refused (pixels not square, reciprocal space): no fallback square pixel; fixed wins
    assert not fallback.resolve(Calibration(), scale_refused=True).calibrated
    fixed = CalibrationRule("fixed", 0.5, "um")
    assert fixed.resolve(Calibration(), scale_refused=True).pixel_size == 0.5
    assert CalibrationRule("fixed", 0.5, "um").resolve(from_file).pixel_size == 0.5
    assert not CalibrationRule("none").resolve(from_file).calibrated


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": "something else"}, "not a MatLens recipe"),
        ({"version": 9, "mode": "auto", "classes": ["a"]}, "newer MatLens"),
        ({"version": 1, "mode": "magic", "classes": ["a"]}, "unknown mode 'magic'"),
        ({"version": 1, "mode": "auto", "classes": []}, "at least one class"),
        (
            {"version": 1, "mode": "auto", "classes": ["a"], "calibration": {"rule": "fixed"}},
            "positive pixel_size",
        ),
        (
            {
                "version": 1,
                "mode": "auto",
                "classes": ["a"],
                "calibration": {"rule": "fixed", "pixel_size": 1, "unit": "furlong"},
            },
            "unknown length unit 'furlong'",
        ),
        ({"version": 1, "mode": "phases", "classes": ["a"]}, "needs examples"),
        (  # a recipe edited by hand: "params" ran every image with the default settings
            {"version": 1, "mode": "auto", "classes": ["a"], "params": {"auto": {}}},
            "unknown key 'params' \\(a recipe has calibration, classes, examples",
        ),
    ],
)
def test_bad_recipes_are_one_line(tmp_path, data, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"format": "matlens-recipe", **data}), encoding="utf-8")
    with pytest.raises(UnreadableFile, match=message) as err:
        load_recipe(path)
    assert "r.json" in str(err.value) and "\n" not in str(err.value)


def test_missing_and_broken_recipe_files(tmp_path):
    with pytest.raises(UnreadableFile, match="recipe not found"):
        load_recipe(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        load_recipe(tmp_path / "bad.json")
    # another file chosen by mistake: a NORDIF settings file (Latin-1 text), renamed .json
    latin = tmp_path / "settings.json"
    shutil.copy(shared("microscope_formats", "kikuchipy_ebsd", "nordif", "Setting.txt"), latin)
    with pytest.raises(UnreadableFile, match="settings.json is not a MatLens recipe: not UTF-8"):
        load_recipe(latin)
    one_string = {"format": "matlens-recipe", "version": 1, "mode": "map", "classes": "abc"}
    (tmp_path / "string.json").write_text(json.dumps(one_string), encoding="utf-8")
    with pytest.raises(UnreadableFile, match='"classes" is a list of class names'):
        load_recipe(tmp_path / "string.json")


def test_output_names_stay_unique(tmp_path):
    a, b, c = tmp_path / "a.tif", tmp_path / "a.png", tmp_path / "b.tif"
    assert output_names([a, b, c]) == {a: "a_tif", b: "a_png", c: "b"}


# --- the batch ----------------------------------------------------------------------------------
CROPS = {"crop_a.png": (0, 0), "crop_b.png": (256, 256), "crop_c.tif": (0, 256)}  # (row, col)


def ground_truth():
    """Super1 classes of the sample: blue ("tertiary") and the rest ("gamma")."""
    rgba = tifffile.imread(shared(*SUPER1_GT), is_shaped=False)
    blue = (rgba[..., 0] == 0) & (rgba[..., 1] == 0) & (rgba[..., 2] == 255)
    return blue


def phase_recipe(**changes) -> Recipe:
    """Three clicks per class, at places that are that class in every crop."""
    blue = ground_truth()
    crops = [blue[r : r + 256, c : c + 256] for r, c in CROPS.values()]
    examples = []
    for name, inside in (("tertiary", True), ("gamma", False)):
        agree = np.logical_and.reduce(
            [ndimage.binary_erosion(m == inside, iterations=3) for m in crops]
        )
        ys, xs = np.nonzero(agree)
        picks = [len(xs) // 4, len(xs) // 2, 3 * len(xs) // 4]
        examples.append({"class": name, "points": [[int(xs[i]), int(ys[i])] for i in picks]})
    fields = {
        "mode": "phases",
        "classes": tuple(classes_for(["tertiary", "gamma"])),
        "examples": tuple(examples),
        "parameters": {
            "phases": {"trees": 8, "sam_examples": False},  # quick: the batch is under test
            "measure": {"min_area": 20},
        },
        "calibration": CalibrationRule("fixed", 0.05, "um"),
    }
    return Recipe(**{**fields, **changes})


@pytest.fixture
def folder(tmp_path):
    """Three real crops of the sample (one 16-bit), a corrupt TIFF and a text file."""
    image = tifffile.imread(SAMPLE)
    src = tmp_path / "in"
    src.mkdir()
    for name, (r, c) in CROPS.items():
        crop = image[r : r + 256, c : c + 256]
        if name.endswith(".tif"):
            tifffile.imwrite(src / name, crop.astype(np.uint16) * 257)
        else:
            iio.imwrite(src / name, crop)
    (src / "broken.tif").write_bytes(b"II*\x00" + b"\x00garbage" * 20)
    (src / "notes.txt").write_text("not an image", encoding="utf-8")
    return src


def test_batch_cancels_resumes_and_skips_a_bad_file(folder, tmp_path, sam_model):
    recipe, out = phase_recipe(), tmp_path / "out"
    token, seen = CancelToken(), []

    def progress(fraction, message=""):
        seen.append(fraction)
        if message.startswith("crop_a.png: writing"):
            token.cancel()  # stop after the first image

    first = run_batch(recipe, folder, out, progress, token, model=sam_model)
    assert first.cancelled and first.done == ("crop_a.png",) and first.images == 4
    assert "run again to resume" in first.message
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert [r["image"] for r in read_csv(out / "summary.csv")] == ["crop_a.png"]

    second = run_batch(recipe, folder, out, model=sam_model)
    assert second.skipped == ("crop_a.png",) and second.done == ("crop_b.png", "crop_c.tif")
    assert [f.file for f in second.failures] == ["broken.tif"]  # notes.txt is no micrograph
    assert "broken.tif" in second.failures[0].reason and "\n" not in second.failures[0].reason
    assert "1 failed" in second.message and not second.cancelled
    assert [r["file"] for r in read_csv(out / "failures.csv")] == ["broken.tif"]

    summary = read_csv(out / "summary.csv")
    assert [r["image"] for r in summary] == list(CROPS)
    for row in summary:
        stem = row["image"].rsplit(".", 1)[0]
        objects = read_csv(out / f"{stem}.csv")
        assert "area_µm²" in objects[0] and {o["class"] for o in objects} <= {"tertiary", "gamma"}
        tertiary = [o for o in objects if o["class"] == "tertiary"]
        assert row["pixel_size_µm"] == "0.05" and int(row["tertiary_count"]) == len(tertiary)
        area = sum(int(o["area_px"]) for o in tertiary)  # the regions do not overlap
        assert float(row["tertiary_area_fraction"]) == pytest.approx(area / 256**2)
        assert 0.05 < area / 256**2 < 0.95
        inner = [o for o in tertiary if o["touches_border"] == "0"]
        if inner:  # size statistics leave out objects cut by the image border
            assert float(row["tertiary_mean_diameter_µm"]) > 0
        else:
            assert row["tertiary_mean_diameter_µm"] == ""
        assert iio.imread(out / f"{stem}.overlay.png").shape == (256, 256, 3)
        # the label image is an ImageJ TIFF in the recipe's calibration, as Fiji reads it
        with tifffile.TiffFile(out / f"{stem}.labels.tif") as tif:
            labels = tif.asarray()
            numerator, denominator = tif.pages[0].tags["XResolution"].value  # type: ignore[union-attr]
            assert (tif.imagej_metadata or {}).get("unit") == "um"
        assert denominator / numerator == pytest.approx(0.05)
        assert labels.dtype == np.uint16 and labels.max() == len(objects)
        assert np.count_nonzero(labels) == sum(int(o["area_px"]) for o in objects)

    # nothing left to do: every image is skipped and the summary stays whole
    (folder / "broken.tif").unlink()
    third = run_batch(recipe, folder, out, model=sam_model)
    assert third.done == () and len(third.skipped) == 3 and third.failures == ()
    assert read_csv(out / "failures.csv") == [] and read_csv(out / "summary.csv") == summary

    # a changed recipe redoes the images (two of them removed to keep this quick)
    (folder / "crop_b.png").unlink()
    (folder / "crop_c.tif").unlink()
    fourth = run_batch(
        phase_recipe(calibration=CalibrationRule("none")), folder, out, model=sam_model
    )
    assert fourth.done == ("crop_a.png",)
    assert "tertiary_mean_diameter_px" in read_csv(out / "summary.csv")[0]


def test_batch_cli_reports_failures_and_bad_recipes(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "broken.tif").write_bytes(b"II*\x00" + b"\x00garbage" * 20)
    recipe = save_recipe(phase_recipe(), tmp_path / "recipe.json")
    code = cli.main(["batch", str(recipe), str(src), str(tmp_path / "out"), "--json"])
    out = capsys.readouterr()
    assert code == 1, out.err  # some images failed
    report = json.loads(out.out)
    assert report["done"] == [] and report["failures"][0]["file"] == "broken.tif"
    assert report["notes"] == []  # nothing else in the folder
    assert (tmp_path / "out" / "recipe.json").is_file()
    # a TIFF cut short: its reason starts with its name, which the text report gives once;
    # a subfolder and a text file are not measured, and the report says so
    (src / "cut.tif").write_bytes(SAMPLE.read_bytes()[:3000])
    (src / "day2").mkdir()
    (src / "notes.txt").write_text("furnace log", encoding="utf-8")
    code = cli.main(["batch", str(recipe), str(src), str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    assert "  note: subfolders not read (the batch reads one folder): day2/" in lines
    assert "  note: files not in a micrograph format, left out: notes.txt" in lines
    failed = [x for x in lines if x.startswith("  failed: cut")]
    assert code == 1 and failed == [failed[0]] and failed[0].count("cut.tif") == 1, failed
    assert failed[0].startswith("  failed: cut.tif is a damaged TIFF file")
    code = cli.main(["batch", str(tmp_path / "none.json"), str(src), str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "recipe not found" in err and len(err.strip().splitlines()) == 1


def test_a_folder_without_micrographs_is_one_line_naming_its_subfolders(tmp_path, capsys):
    """A lab folder whose images sit in per-sample subfolders: the batch reads one folder, so it
    says there is nothing to measure and where the images may be, instead of "0 items ... 0 done;
    results in summary.csv" with exit 0 and an empty summary."""
    src = tmp_path / "campaign"
    (src / "sample_A").mkdir(parents=True)
    shutil.copy(SAMPLE, src / "sample_A" / "a.tif")
    (src / "notes.txt").write_text("furnace log", encoding="utf-8")
    recipe = save_recipe(auto_recipe(), tmp_path / "recipe.json")
    out = tmp_path / "out"
    code = cli.main(["batch", str(recipe), str(src), str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"no micrographs in {src}" in err and "run the batch on sample_A/" in err
    assert not out.exists()  # nothing written for a run that had nothing to do

    # an image given for the input folder, a file for the output folder: each says so
    image = src / "sample_A" / "a.tif"
    assert cli.main(["batch", str(recipe), str(image), str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"matlens: {image} is a file: the batch takes the folder that holds the images\n"
    assert cli.main(["batch", str(recipe), str(src / "sample_A"), str(src / "notes.txt")]) == 2
    err = capsys.readouterr().err
    assert err == f"matlens: {src / 'notes.txt'} is a file: choose a folder for the outputs\n"


def test_output_folder_must_differ_from_the_input(tmp_path):
    with pytest.raises(MatLensError, match="other than the input"):
        run_batch(auto_recipe(), tmp_path, tmp_path)


@pytest.mark.parametrize("mode", ["auto", "map"])
def test_automatic_modes_on_one_image(mode, tmp_path, sam_model):
    module = {"auto": "automatic", "map": "microstructure"}[mode]
    pytest.importorskip(f"inference.segmentation.{module}", reason=f"{module} segmentation")
    src = tmp_path / "in"
    src.mkdir()
    iio.imwrite(src / "crop.png", tifffile.imread(SAMPLE)[:256, :256])
    params = {"auto": dict(FAST_AUTO)}
    if mode == "map":  # 8 × 8 masks are too few to close regions on this crop
        params = {"auto": {"points_per_side": 16}, "map": {"kind": "phase"}}
    recipe = auto_recipe(mode=mode, parameters=params)
    report = run_batch(recipe, src, tmp_path / "out", model=sam_model)
    assert report.done == ("crop.png",) and report.failures == ()
    rows = read_csv(tmp_path / "out" / "crop.csv")
    assert rows and {r["class"] for r in rows} == {"precipitate"}
    row = read_csv(tmp_path / "out" / "summary.csv")[0]
    assert int(row["precipitate_count"]) == len(rows)


def test_a_recipe_error_stops_the_batch_before_any_image():
    # refused when the recipe is made (`test_recipe_checks`), so no batch starts with it
    with pytest.raises(MatLensError, match="unknown setting 'colour' in parameters.phases"):
        phase_recipe(parameters={"phases": {"colour": "red"}})


def test_the_fallback_pixel_size_is_not_given_to_pixels_that_are_not_square(tmp_path, capsys):
    """ "Metadata, else 0.05 µm": a file with no scale gets 0.05 µm, a file with its own gets its
    own, and the DM stack whose pixels are 0.16867 µm wide and 1.6867 µm high stays in pixels
    (a square 0.05 µm pixel would be wrong for it), with the reason in the report and in
    summary.csv."""
    import shutil

    tiffs = ("microscope_formats", "rosettasciio", "tiff")
    src = tmp_path / "in"
    src.mkdir()
    stack = shutil.copy(shared(*tiffs, "test_loading_image_saved_with_DM_stack.tif"), src)
    shutil.copy(shared(*tiffs, "test_loading_image_saved_with_imageJ.tif"), src)
    iio.imwrite(src / "no_scale.png", tifffile.imread(SAMPLE)[:68, :68])  # as large: one recipe
    recipe = phase_recipe(
        examples=(
            {"class": "tertiary", "points": [[6, 6], [12, 12], [18, 18]]},
            {"class": "gamma", "points": [[50, 50], [56, 56], [62, 62]]},
        ),
        calibration=CalibrationRule("metadata", 0.05, "um"),
    )
    recipe_path = save_recipe(recipe, tmp_path / "recipe.json")
    out = tmp_path / "out"
    code = cli.main(["batch", str(recipe_path), str(src), str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["failures"] == [] and len(report["done"]) == 3

    rows = {r["image"]: r for r in read_csv(out / "summary.csv")}
    dm = rows["test_loading_image_saved_with_DM_stack.tif"]
    assert dm["pixel_size_µm"] == "" and dm["calibration"] == "none (pixels not square)"
    assert rows["no_scale.png"]["pixel_size_µm"] == "0.05"
    assert rows["no_scale.png"]["calibration"] == "recipe"
    imagej = rows["test_loading_image_saved_with_imageJ.tif"]
    assert float(imagej["pixel_size_µm"]) == pytest.approx(0.168675, rel=1e-4)
    objects = read_csv(out / "test_loading_image_saved_with_DM_stack.csv")
    assert objects and "area_px" in objects[0] and "area_µm²" not in objects[0]

    (note,) = [n for n in report["notes"] if n.startswith(f"{Path(stack).name}:")]
    assert "0.16867 µm wide, 1.6867 µm high" in note and "0.05 µm" in note and "not used" in note
    assert not any("no_scale.png" in n or "imageJ" in n for n in report["notes"])
