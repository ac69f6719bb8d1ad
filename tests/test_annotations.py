"""The annotation model, the brush and the JSON sidecar, on NASA MicroNet Super1 ground truth."""

from __future__ import annotations

import json
import os
from typing import cast

import numpy as np
import pytest
import tifffile
from conftest import shared
from skimage.measure import label

from inference.errors import MatLensError, UnreadableFile
from inference.imaging.calibration import Calibration
from inference.segmentation import sidecar
from inference.segmentation.annotations import (
    DEFAULT_CLASSES,
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
    objects_from_labels,
    paint,
    paint_stroke,
)
from inference.segmentation.overlay import crop_rgba, objects_rgba

MASK = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
CAL = Calibration(0.05, "µm", "test")


def ground_truth() -> tuple[np.ndarray, np.ndarray]:
    """The red and the blue class of a Super1 mask (RGBA: pure red and pure blue are classes)."""
    rgba = tifffile.imread(shared(*MASK), is_shaped=False)
    r, g, b = rgba[..., 0], rgba[..., 1], rgba[..., 2]
    red = (r == 255) & (g == 0) & (b == 0)
    blue = (r == 0) & (g == 0) & (b == 255)
    return red, blue


def super1_set(calibration: Calibration = CAL) -> AnnotationSet:
    red, blue = ground_truth()
    matrix = objects_from_labels(cast("np.ndarray", label(blue)), "matrix", source="auto")
    precipitates = objects_from_labels(
        cast("np.ndarray", label(red)),
        "precipitate",
        first_id=len(matrix) + 1,
        source="auto",
        score=0.9,
    )
    image = ImageIdentity.of_file(shared(*MASK))
    return AnnotationSet(red.shape, image, calibration, objects=matrix + precipitates)


@pytest.fixture(scope="module")
def annotated() -> AnnotationSet:
    return super1_set()


def square(obj_id: int, y: int, x: int, size: int, cls: str = "grain") -> AnnotatedObject:
    return AnnotatedObject(obj_id, cls, np.ones((size, size), bool), (y, x))


def blank_set(shape=(64, 64)) -> AnnotationSet:
    return AnnotationSet(shape, ImageIdentity("blank.tif", "0" * 64))


# --- the model ---------------------------------------------------------------------------------
def test_objects_are_connected_components_cropped_to_their_boxes(annotated):
    red, blue = ground_truth()
    assert (
        len(annotated)
        == cast("np.ndarray", label(red)).max() + cast("np.ndarray", label(blue)).max()
    )
    for obj in annotated.objects[:20]:
        x0, y0, x1, y1 = obj.bbox
        assert obj.mask.shape == (y1 - y0, x1 - x0)
        assert obj.mask[0].any() and obj.mask[-1].any()
        assert obj.mask[:, 0].any() and obj.mask[:, -1].any()
    precipitates = [o for o in annotated.objects if o.class_name == "precipitate"]
    assert sum(o.area for o in precipitates) == red.sum()
    union = np.zeros(red.shape, bool)
    for o in precipitates:
        union |= o.full_mask(red.shape)
    assert np.array_equal(union, red)


def test_from_full_mask_round_trip_and_the_mask_is_frozen():
    full = np.zeros((50, 60), bool)
    full[10:20, 30:35] = True
    full[15, 40] = True
    obj = AnnotatedObject.from_full_mask(full, 1, "pore")
    assert obj.offset == (10, 30)
    assert obj.bbox == (30, 10, 41, 20)
    assert obj.area == 51
    assert np.array_equal(obj.full_mask(full.shape), full)
    full[:] = False  # the caller's array is not shared
    assert obj.area == 51
    with pytest.raises(ValueError):
        obj.mask[0, 0] = False
    with pytest.raises(ValueError, match="no pixels"):
        AnnotatedObject.from_full_mask(full, 2, "pore")


def test_a_loose_crop_is_trimmed_to_the_tight_box():
    mask = np.zeros((10, 10), bool)
    mask[3:5, 6:9] = True
    obj = AnnotatedObject(1, "grain", mask, (100, 200))
    assert obj.offset == (103, 206)
    assert obj.mask.shape == (2, 3)


def test_label_image_later_objects_win_and_class_image_follows():
    s = blank_set()
    s.add(square(1, 0, 0, 20, "grain"))
    s.add(square(2, 10, 10, 20, "pore"))
    labels = s.label_image()
    assert labels.dtype == np.uint16
    assert labels[15, 15] == 2  # overlap: the later object is on top
    assert labels[5, 5] == 1 and labels[25, 25] == 2 and labels[50, 50] == 0
    classes = s.class_image()
    names = [c.name for c in s.classes]
    assert classes[15, 15] == names.index("pore") + 1
    assert classes[5, 5] == names.index("grain") + 1
    s.set_visible(2, False)
    assert s.label_image(visible_only=True)[15, 15] == 1
    assert s.label_image()[15, 15] == 2
    picked = s.object_at(15, 15)
    assert picked is not None and picked.id == 1  # hidden objects cannot be picked
    assert s.object_at(60, 60) is None


def test_every_edit_returns_what_its_undo_needs():
    s = blank_set()
    a, b, c = square(1, 0, 0, 5), square(2, 10, 10, 5), square(3, 20, 20, 5)
    for obj in (a, b, c):
        assert s.add(obj) is obj
    order = [o.id for o in s.objects]

    index, gone = s.remove(2)
    assert (index, gone) == (1, b) and len(s) == 2
    s.add(gone, index)  # undo
    assert [o.id for o in s.objects] == order

    before = s.reclass(3, "crack")
    assert s.get(3).class_name == "crack" and before is c
    s.replace(before)  # undo
    assert s.get(3) is c

    before = s.set_visible(1, False)
    assert not s.get(1).visible and before.visible
    s.replace(before)
    assert s.get(1) is a

    edited = paint(b, (30, 30), 3, erase=False, shape=s.shape)
    assert edited is not None
    before = s.replace(edited)
    assert before is b and s.get(2) is edited
    s.replace(before)
    assert s.get(2) is b

    with pytest.raises(ValueError, match="unknown class"):
        s.reclass(1, "unobtainium")
    with pytest.raises(ValueError, match="already exists"):
        s.add(square(1, 0, 0, 2))
    with pytest.raises(ValueError, match="outside"):
        s.add(square(9, 60, 60, 10))


def test_ids_are_never_reused():
    s = blank_set()
    s.add(square(s.next_id(), 0, 0, 3))
    s.add(square(s.next_id(), 5, 5, 3))
    assert s.next_id() == 3
    s.remove(2)
    assert s.next_id() == 3


def test_user_classes_get_an_unused_colour():
    s = blank_set()
    cls = s.add_class("twin boundary")
    assert cls.colour not in {c.colour for c in DEFAULT_CLASSES}
    assert len({c.colour for c in DEFAULT_CLASSES}) == len(DEFAULT_CLASSES)
    s.add(square(1, 0, 0, 3, "twin boundary"))
    with pytest.raises(ValueError):
        s.add_class("twin boundary")


# --- brush and eraser --------------------------------------------------------------------------
def disk(shape, cx, cy, r) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_brush_adds_a_disk_and_recrops():
    shape = (100, 100)
    obj = square(1, 10, 10, 10)
    grown = paint(obj, (60, 70), 5, erase=False, shape=shape)
    assert grown is not None
    expected = obj.full_mask(shape) | disk(shape, 60, 70, 5)
    assert np.array_equal(grown.full_mask(shape), expected)
    assert grown.bbox == (10, 10, 66, 76)
    assert grown.id == obj.id and grown.class_name == obj.class_name
    assert obj.area == 100  # the original is untouched, for undo


def test_brush_is_clipped_at_the_image_edge():
    shape = (40, 40)
    grown = paint(square(1, 0, 0, 4), (0, 0), 6, erase=False, shape=shape)
    assert grown is not None
    assert grown.offset == (0, 0)
    assert np.array_equal(
        grown.full_mask(shape), square(1, 0, 0, 4).full_mask(shape) | disk(shape, 0, 0, 6)
    )


def test_eraser_removes_a_disk_and_to_nothing_returns_none():
    shape = (100, 100)
    obj = square(1, 10, 10, 30)
    bitten = paint(obj, (10, 10), 8, erase=True, shape=shape)
    assert bitten is not None
    assert np.array_equal(bitten.full_mask(shape), obj.full_mask(shape) & ~disk(shape, 10, 10, 8))
    assert paint(obj, (90, 90), 3, erase=True, shape=shape) is obj  # missed
    assert paint(obj, (25, 25), 30, erase=True, shape=shape) is None


def test_a_fast_stroke_leaves_no_gaps_and_can_start_an_object():
    shape = (50, 200)
    line = paint_stroke(None, [(10, 25), (190, 25)], 2, False, shape, new_id=7, class_name="crack")
    assert line is not None
    assert line.id == 7 and line.class_name == "crack"
    assert line.full_mask(shape)[25, 10:191].all()
    assert line.bbox == (8, 23, 193, 28)


def test_editing_an_8k_image_never_allocates_the_whole_image():
    shape = (8192, 8192)
    obj = paint_stroke(None, [(4000, 4000)], 10, False, shape, new_id=1, class_name="pore")
    assert obj is not None
    obj = paint(obj, (4015, 4000), 10, erase=False, shape=shape)
    assert obj is not None
    assert obj.mask.nbytes < 2000
    s = AnnotationSet(shape, ImageIdentity("big.tif", "0" * 64), objects=[obj])
    assert s.object_at(4010, 4000) is obj


# --- sidecar -----------------------------------------------------------------------------------
def test_sidecar_round_trip_preserves_every_mask_and_the_calibration(annotated, tmp_path):
    s = super1_set()
    s.add_class("dendrite", (10, 20, 30))
    s.add(
        AnnotatedObject(
            s.next_id(),
            "dendrite",
            np.array([[1, 0, 1], [1, 1, 1]], bool),
            (3, 4),
            score=0.5,
            points=((4.0, 3.0, 1), (9.5, 2.0, 0)),
            box=(1, 2, 30, 40),
            visible=False,
            source="sam",
        )
    )
    path = tmp_path / "a.tif.matlens.json"
    sidecar.save(s, path)
    back = sidecar.load(path)
    assert back.shape == s.shape and back.image == s.image
    assert back.calibration == CAL
    assert back.classes == s.classes
    assert back.next_id() == s.next_id()
    assert len(back) == len(s)
    for mine, theirs in zip(s.objects, back.objects, strict=True):
        assert theirs.same_pixels(mine)
        assert (theirs.id, theirs.class_name, theirs.score, theirs.points, theirs.box) == (
            mine.id,
            mine.class_name,
            mine.score,
            mine.points,
            mine.box,
        )
        assert (theirs.visible, theirs.source) == (mine.visible, mine.source)
    assert np.array_equal(back.label_image(), s.label_image())
    assert json.loads(path.read_text(encoding="utf-8"))["format_version"] == sidecar.FORMAT_VERSION


def test_rle_round_trip_edge_cases():
    for mask in (
        np.ones((3, 4), bool),
        np.eye(5, dtype=bool),
        np.array([[True]]),
        np.array([[False, True], [True, False]]),
    ):
        runs = sidecar.rle_encode(mask)
        assert np.array_equal(sidecar.rle_decode(runs, mask.shape), mask)
    assert sidecar.rle_encode(np.ones((2, 2), bool)) == [0, 4]


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated by a crash
        lambda text: "",
        lambda text: "\x00\x00\x00",
        lambda text: json.dumps({"hello": "world"}),
        lambda text: text.replace('"rle":[', '"rle":[1,'),  # runs no longer add up
        lambda text: text.replace('"class":"matrix"', '"class":"unobtainium"'),
    ],
)
def test_a_corrupt_sidecar_is_one_line_unreadable_file(tmp_path, damage):
    s = blank_set()
    s.add(square(1, 0, 0, 5, "matrix"))
    path = tmp_path / "img.tif.matlens.json"
    sidecar.save(s, path)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(UnreadableFile) as info:
        sidecar.load(path)
    message = str(info.value)
    assert "\n" not in message and path.name in message and len(message) < 300


def test_a_newer_format_asks_for_an_update(tmp_path):
    path = tmp_path / "x.matlens.json"
    sidecar.save(blank_set(), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UnreadableFile, match="newer MatLens"):
        sidecar.load(path)


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "img.tif.matlens.json"
    old = blank_set()
    old.add(square(1, 0, 0, 5))
    sidecar.save(old, path)
    before = path.read_bytes()

    new = blank_set()
    new.add(square(1, 10, 10, 20))

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # after the data is written, before the rename
    with pytest.raises(MatLensError, match="No space left"):
        sidecar.save(new, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left
    monkeypatch.undo()
    sidecar.save(new, path)
    assert sidecar.load(path).get(1).same_pixels(new.get(1))


def test_sidecar_path_beside_the_image_or_in_the_user_folder(tmp_path, monkeypatch):
    image = tmp_path / "steel.tif"
    image.write_bytes(b"II*\x00")
    assert sidecar.sidecar_path(image) == tmp_path / "steel.tif.matlens.json"
    monkeypatch.setattr(sidecar, "_can_create_in", lambda folder: False)  # a read-only share
    fallback = sidecar.sidecar_path(image)
    assert fallback.name.endswith(".matlens.json") and len(fallback.name) == 64 + 13
    assert fallback.parent == sidecar.user_data_dir() / "annotations"
    assert fallback == sidecar.fallback_path(image)
    assert fallback != sidecar.fallback_path(tmp_path / "other.tif")


def test_find_sidecar_prefers_the_newest(tmp_path):
    image = tmp_path / "steel.tif"
    assert sidecar.find_sidecar(image) is None
    beside = tmp_path / "steel.tif.matlens.json"
    sidecar.save(blank_set(), beside)
    assert sidecar.find_sidecar(image) == beside
    elsewhere = sidecar.fallback_path(image)
    sidecar.save(blank_set(), elsewhere)
    os.utime(beside, ns=(1, 1))
    assert sidecar.find_sidecar(image) == elsewhere


def test_open_for_image_keeps_a_corrupt_sidecar_aside(tmp_path):
    image = tmp_path / "steel.tif"
    ident = ImageIdentity("steel.tif", "a" * 64)
    path = tmp_path / "steel.tif.matlens.json"
    path.write_text('{"format_version": 1, "objects": [', encoding="utf-8")

    opened = sidecar.open_for_image(image, ident, (64, 64), CAL)
    assert len(opened.annotations) == 0 and opened.annotations.calibration == CAL
    assert "steel.tif.matlens.json.corrupt" in (opened.notice or "")
    kept = tmp_path / "steel.tif.matlens.json.corrupt"
    assert kept.read_text(encoding="utf-8").startswith('{"format_version"')
    assert not path.exists()

    path.write_text("garbage", encoding="utf-8")  # a second corrupt file does not overwrite
    sidecar.open_for_image(image, ident, (64, 64))
    assert (tmp_path / "steel.tif.matlens.json.corrupt-2").exists()
    assert kept.read_text(encoding="utf-8").startswith('{"format_version"')


def test_open_for_image_loads_and_flags_a_changed_image(tmp_path):
    image = tmp_path / "steel.tif"
    s = AnnotationSet((64, 64), ImageIdentity("steel.tif", "a" * 64), CAL)
    s.add(square(1, 0, 0, 5))
    sidecar.save(s, sidecar.sidecar_path(image))

    same = sidecar.open_for_image(image, s.image, (64, 64), CAL)
    assert same.notice is None and len(same.annotations) == 1
    assert same.annotations.calibration == CAL

    changed = sidecar.open_for_image(image, ImageIdentity("steel.tif", "b" * 64), (64, 64))
    assert "changed" in (changed.notice or "") and len(changed.annotations) == 1

    resized = sidecar.open_for_image(image, s.image, (128, 128))
    assert len(resized.annotations) == 0 and "mismatch" in (resized.notice or "")


def test_label_values_are_ids_in_16_bits_or_32_above_65535():
    s = blank_set()
    s.add(square(7, 10, 10, 3))
    assert s.label_image().dtype == np.uint16 and s.label_image()[10, 10] == 7
    s.add(square(70000, 0, 0, 3))
    labels = s.label_image()
    assert labels.dtype == np.uint32 and labels[0, 0] == 70000 and labels[10, 10] == 7
    assert s.label_image(values="position").dtype == np.uint16


def test_image_identity_of_pixels_tracks_content_and_shape():
    a = np.zeros((4, 6), np.uint16)
    ident = ImageIdentity.of_pixels("crop", a)
    assert ident == ImageIdentity.of_pixels("crop", a.copy())
    assert ident != ImageIdentity.of_pixels("crop", a.reshape(6, 4))
    b = a.copy()
    b[0, 0] = 1
    assert ident.sha256 != ImageIdentity.of_pixels("crop", b).sha256


def test_a_copy_is_a_snapshot():
    s = blank_set()
    s.add(square(1, 0, 0, 3))
    snap = s.copy()
    s.add(square(2, 5, 5, 3))
    s.add_class("twin")
    assert len(snap) == 1 and snap.next_id() == 2 and len(snap.classes) == len(DEFAULT_CLASSES)
    assert snap.get(1) is s.get(1)


def test_a_scale_drawn_by_hand_beats_the_metadata_but_a_copy_of_old_metadata_does_not(tmp_path):
    """A sidecar keeps the calibration in use when it was saved. Drawn by hand, it wins over
    the file's metadata; copied from the metadata, it gives way when the metadata now reads
    otherwise (a reader mended since), and the user is told. The objects stay either way."""
    image = tmp_path / "steel.tif"
    metadata_now = Calibration(0.16867, "µm", "DM tags")
    for saved, expect, told in (
        (Calibration(0.5, "µm", "manual"), Calibration(0.5, "µm", "manual"), False),
        (Calibration(1.6867, "µm", "DM tags"), metadata_now, True),
        (Calibration(), metadata_now, True),  # saved before the file's scale could be read
        (metadata_now, metadata_now, False),
    ):
        s = AnnotationSet((64, 64), ImageIdentity("steel.tif", "a" * 64), saved)
        s.add(square(1, 0, 0, 5))
        sidecar.save(s, sidecar.sidecar_path(image))
        opened = sidecar.open_for_image(image, s.image, (64, 64), metadata_now)
        assert opened.annotations.calibration == expect and len(opened.annotations) == 1
        assert ("metadata says now (0.1687 µm/px, DM tags)" in (opened.notice or "")) is told


def test_the_overlays_the_pane_draws_have_each_object_in_its_class_colour(annotated):
    """The objects overlay and a candidate's crop, as the canvas uploads them (one uint32 per
    pixel inside): every pixel of a visible object in its class colour, the rest transparent."""
    rgba = objects_rgba(annotated, alpha=200)
    classes = annotated.class_image(visible_only=True)
    for index, cls in enumerate(annotated.classes, start=1):
        inside = rgba[classes == index]
        assert (inside == (*cls.colour, 200)).all(), cls.name
    assert not rgba[classes == 0].any()
    red, _ = ground_truth()
    crop = red[100:300, 50:420]
    shown = crop_rgba(crop, (255, 0, 255), 140)
    assert shown.shape == (*crop.shape, 4)
    assert (shown[crop] == (255, 0, 255, 140)).all() and not shown[~crop].any()
