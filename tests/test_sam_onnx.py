"""MobileSAM through onnxruntime: same masks as torch, prompts, cache, errors, and the geometry.

The model tests need the exported ONNX files (`make models`, or
`python -m inference.export.sam --out <models dir>`); without them they skip and say so.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest
from conftest import shared

from inference.errors import MatLensError, ModelUnavailable
from inference.segmentation import _sam_image
from inference.segmentation.sam import SamModel, raster

IMAGE = ("segmentation", "nasa_micronet", "Super1", "test", "spot2_0d_0.tif")
ANNOTATION = ("segmentation", "nasa_micronet", "Super1", "test_annot", "spot2_0d_0_mask.tif")
PRECIPITATE = (264, 162)  # a small γ' precipitate (red in the annotation), 320 px
LARGE_PRECIPITATE = (266, 323)  # a large one (blue), 6463 px
CLICKS = [(264, 162), (266, 323), (165, 212), (100, 100), (400, 400), (480, 250)]


def _read(parts) -> np.ndarray:
    tifffile = pytest.importorskip("tifffile")
    return tifffile.imread(shared(*parts))


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return _read(IMAGE)[..., :3]


@pytest.fixture(scope="module")
def model(sam_model) -> SamModel:
    return sam_model


@pytest.fixture(scope="module")
def embedding(model, image):
    return model.embed(image)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def sam_postprocess(candidate, embedding) -> np.ndarray:
    """The candidate's mask as SamPredictor makes it from the same logits: MatLens moves
    MobileSAM's masks down half a pixel of the 1024 frame (`sam.MASK_ROW_SHIFT`), the graphs
    themselves are SAM's."""
    mapper = _sam_image.MaskMapper(embedding.original_size, embedding.input_size)
    return mapper.mask(candidate.logits_lowres)


# --- (a) ONNX against torch ------------------------------------------------------------------


@pytest.mark.slow
def test_onnx_masks_match_torch_mobile_sam(model, embedding, image):
    torch = pytest.importorskip("torch", reason="torch is not installed (set-up extra 'export')")
    from inference.export import _stubs, sam

    _stubs.install()
    mobile_sam = pytest.importorskip("mobile_sam", reason="mobilesam-mirror is not installed")
    try:
        weights = sam.default_checkpoint()
    except MatLensError as exc:
        pytest.skip(str(exc))
    net = sam.build_sam("vit_t", sam.extract_state_dict(sam._load_checkpoint(weights)))
    predictor = mobile_sam.SamPredictor(net)
    with torch.no_grad():
        predictor.set_image(image)
    ref = predictor.features.numpy().transpose(0, 2, 3, 1)
    assert np.abs(ref - embedding.features).max() < 1e-4

    for x, y in CLICKS:
        for multimask in (True, False):
            with torch.no_grad():
                masks, scores, _ = predictor.predict(
                    np.array([[x, y]]), np.array([1]), multimask_output=multimask
                )
            ours = sorted(
                model.predict(embedding, [(x, y, 1)], multimask=multimask), key=lambda c: c.index
            )
            assert len(ours) == len(masks)
            for k, cand in enumerate(ours):
                assert iou(masks[k], sam_postprocess(cand, embedding)) >= 0.99, (x, y, multimask, k)
                assert cand.score == pytest.approx(float(np.clip(scores[k], 0, 1)), abs=1e-3)

    with torch.no_grad():  # points + box, then the refinement with the previous low-res mask
        masks, _, low = predictor.predict(
            np.array([[225, 144], [100, 100]]),
            np.array([1, 0]),
            box=np.array([150, 80, 300, 200]),
            multimask_output=False,
        )
        refined, _, _ = predictor.predict(
            np.array([[225, 144]]), np.array([1]), mask_input=low, multimask_output=False
        )
    cand = model.predict(
        embedding, [(225, 144, 1), (100, 100, 0)], box=(150, 80, 300, 200), multimask=False
    )[0]
    assert iou(masks[0], sam_postprocess(cand, embedding)) >= 0.99
    again = model.predict(
        embedding, [(225, 144, 1)], multimask=False, mask_input=cand.logits_lowres
    )[0]
    assert iou(refined[0], sam_postprocess(again, embedding)) >= 0.99

    tall = np.ascontiguousarray(image[:, :384])  # not square: the graph pads to 1024² itself
    with torch.no_grad():
        predictor.set_image(tall)
        masks, _, _ = predictor.predict(np.array([[264, 162]]), np.array([1]))
    ours = model.embed(tall)
    assert ours.input_size == (1024, 768)
    assert np.abs(predictor.features.numpy().transpose(0, 2, 3, 1) - ours.features).max() < 1e-4
    cands = sorted(model.predict(ours, [(264, 162, 1)]), key=lambda c: c.index)
    assert all(iou(m, sam_postprocess(c, ours)) >= 0.99 for m, c in zip(masks, cands, strict=True))


# --- (b) prompts → candidates -----------------------------------------------------------------


def test_click_gives_up_to_three_ranked_candidates(model, embedding, image):
    candidates = model.predict(embedding, [(*PRECIPITATE, 1)])
    assert 1 <= len(candidates) <= 3
    scores = [c.score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    for cand in candidates:
        assert 0.0 <= cand.score <= 1.0
        assert cand.mask.shape == image.shape[:2] and cand.mask.dtype == bool
        assert cand.logits_lowres.shape == (256, 256)
    assert len(model.predict(embedding, [(*PRECIPITATE, 1)], multimask=False)) == 1


def test_click_on_a_precipitate_segments_it(model, embedding):
    x, y = PRECIPITATE
    best = model.predict(embedding, [(x, y, 1)])[0]
    assert best.mask[y, x]
    annotation = _read(ANNOTATION)
    red = (annotation[..., 0] > 200) & (annotation[..., 2] < 50)
    from scipy import ndimage

    labels, _ = cast("tuple[np.ndarray, int]", ndimage.label(red))
    particle = labels == labels[y, x]
    assert iou(best.mask, particle) > 0.7  # the annotated precipitate, not the matrix


def test_negative_point_removes_area(model, embedding):
    x, y = LARGE_PRECIPITATE
    first = model.predict(embedding, [(x, y, 1)], multimask=False)[0]
    ys, xs = np.nonzero(first.mask)
    far = np.argmax((xs - x) ** 2 + (ys - y) ** 2)  # inside the mask, far from the click
    nx, ny = int(xs[far]), int(ys[far])
    second = model.predict(embedding, [(x, y, 1), (nx, ny, 0)], multimask=False)[0]
    assert second.mask.sum() < first.mask.sum()
    assert second.mask[y, x] and not second.mask[ny, nx]


def test_mask_crop_matches_the_full_mask(model, embedding):
    cand = model.predict(embedding, [(*PRECIPITATE, 1)])[0]
    crop, (y0, x0) = cand.mask_crop()
    assert crop.sum() == cand.mask.sum()
    assert np.array_equal(cand.mask[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]], crop)


def test_first_click_path_gives_the_click_decoders_masks(model, embedding):
    """A first click runs through the segment-everything decoder (per-image products made
    once); its three candidates are the click decoder's, mask for mask, in the same order."""
    assert model.has_first_click_decoder
    for x, y in CLICKS:
        fast = model.predict(embedding, [(x, y, 1)])
        tiles, iou_pred = model.decode(embedding, [(x, y, 1)])  # the full click decoder
        assert [c.index for c in fast] == sorted((1, 2, 3), key=lambda k: -iou_pred[0, k])
        for cand in fast:
            full = model.mapper(embedding).mask(raster(tiles, cand.index))
            assert cand.mask.any() == full.any()
            assert iou(cand.mask, full) >= 0.99, (x, y, cand.index)
            assert abs(cand.score - float(np.clip(iou_pred[0, cand.index], 0, 1))) < 1e-3


def test_a_card_without_the_batch_decoder_answers_with_the_click_decoder(model, embedding):
    """Checkpoints imported before the batch decoder existed have only the click decoder."""
    from dataclasses import replace

    files = tuple(f for f in model.card.files if not f.role.startswith("decoder_batch"))
    older = SamModel(use_cache=False)
    older._card = replace(model.card, files=files)
    assert not older.has_first_click_decoder
    old = older.predict(embedding, [(*PRECIPITATE, 1)])
    new = model.predict(embedding, [(*PRECIPITATE, 1)])
    assert older._decoder_batch is None and older._decoder is not None
    assert [c.index for c in old] == [c.index for c in new]
    assert all(iou(a.mask, b.mask) >= 0.99 for a, b in zip(old, new, strict=True))


# --- (c) embedding cache ----------------------------------------------------------------------


def test_second_embed_comes_from_the_disk_cache(model, image):
    from inference.runtime.paths import cache_dir

    first = SamModel().embed(image)
    path = cache_dir() / "embeddings" / "mobile_sam" / f"{first.image_hash}.npy"
    assert path.is_file() and not first.from_cache
    second = SamModel().embed(image)
    assert second.from_cache
    assert np.array_equal(first.features, second.features)
    assert second.original_size == (512, 512) and second.input_size == (1024, 1024)
    grey = SamModel().embed(image[..., 0])  # another image, another cache entry
    assert grey.image_hash != first.image_hash and not grey.from_cache


# --- (d) errors are one line ------------------------------------------------------------------


@pytest.mark.parametrize(
    "points, box",
    [
        ([(600, 10, 1)], None),  # right of the image
        ([(-1, 10, 1)], None),
        ([(10, 512, 1)], None),  # y == height is outside
        ([], None),  # nothing to go on
        ([], (600, 600, 700, 700)),  # box outside
        ([(10, 10, 2)], None),  # bad label
    ],
)
def test_bad_prompts_give_a_one_line_error(model, embedding, points, box):
    with pytest.raises(MatLensError) as err:
        model.predict(embedding, points, box=box)
    message = str(err.value)
    assert message and "\n" not in message


def test_missing_model_says_how_to_fix_it():
    with pytest.raises(ModelUnavailable) as err:
        SamModel("no_such_model").card  # noqa: B018
    assert "\n" not in str(err.value)


# --- geometry without a model ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(512, 512, 3), (300, 700, 3), (2000, 1500), (123, 45, 3)])
def test_resize_is_bit_identical_to_pil(shape):
    pil = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    new_h, new_w = _sam_image.preprocess_shape(*shape[:2])
    ref = np.asarray(pil.fromarray(pixels).resize((new_w, new_h), pil.BILINEAR))
    assert np.array_equal(_sam_image.resize_longest_side(pixels), ref)


@pytest.mark.parametrize("size", [(512, 512), (300, 700), (1023, 1025), (2048, 1536)])
def test_mask_upscale_matches_dense_bilinear(size):
    h, w = size
    rh, rw = _sam_image.preprocess_shape(h, w)
    rows = (_sam_image._bilinear(rh, h) @ _sam_image._bilinear(256, 1024)[:rh]).toarray()
    cols = (_sam_image._bilinear(rw, w) @ _sam_image._bilinear(256, 1024)[:rw]).toarray()
    logits = np.random.default_rng(1).normal(0.3, 1.0, (256, 256)).astype(np.float32)
    dense = rows @ logits.astype(np.float64) @ cols.T > 0
    ours = _sam_image.MaskMapper(size, (rh, rw)).mask(logits)
    assert (dense != ours).sum() <= 2  # float32 against float64 at exactly zero


@pytest.mark.parametrize("size", [(512, 512), (300, 700)])
def test_mask_upscale_matches_sam_reference_postprocess(size):
    """SamPredictor.postprocess_masks itself (torch, as segment_anything runs it): bilinear to
    1024 with align_corners=False, the padding cropped, bilinear to the image size. A half-cell
    shift here would cost a small precipitate most of its IoU."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    h, w = size
    rh, rw = _sam_image.preprocess_shape(h, w)
    logits = np.random.default_rng(2).normal(0.3, 1.0, (256, 256)).astype(np.float32)
    up = functional.interpolate(
        torch.from_numpy(logits)[None, None], (1024, 1024), mode="bilinear", align_corners=False
    )[..., :rh, :rw]
    reference = functional.interpolate(up, (h, w), mode="bilinear", align_corners=False)
    ours = _sam_image.MaskMapper(size, (rh, rw)).mask(logits)
    assert (reference[0, 0].numpy() > 0).sum() > 1000
    assert (ours != (reference[0, 0].numpy() > 0)).sum() <= 2  # float32 rounding at zero


def test_a_row_shift_moves_the_mask_down_in_the_1024_frame():
    """`row_shift` is in pixels of the 1024 frame: 4 of them are one low-res cell, so the mask
    is that of the logits moved down one row (away from the top and bottom, where they clamp)."""
    logits = np.random.default_rng(3).normal(0.3, 1.0, (256, 256)).astype(np.float32)
    moved = np.concatenate([logits[:1], logits[:-1]])
    plain = _sam_image.MaskMapper((1024, 1024), (1024, 1024))
    shifted = _sam_image.MaskMapper((1024, 1024), (1024, 1024), row_shift=4.0)
    differ = shifted.mask(logits)[8:-8] != plain.mask(moved)[8:-8]
    assert np.count_nonzero(differ) <= 2  # float32 rounding at zero
    assert not np.array_equal(shifted.mask(logits), plain.mask(logits))


def test_mobile_sam_masks_sit_where_the_upside_down_image_puts_them(model):
    """MobileSAM's masks sit half a pixel of its 1024 frame above the objects, whatever the
    image: the mask for a click on the image turned upside down, turned back, lies a whole
    pixel of the frame below the upright one's (here 512² pixels: half an image pixel).
    Moved down by `sam.MASK_ROW_SHIFT`, the two agree. A Super1 train image (the shift was
    chosen on the train splits), its precipitates clicked at their interior-most points."""
    tifffile = pytest.importorskip("tifffile")
    super1 = ("segmentation", "nasa_micronet", "Super1")
    upright = tifffile.imread(shared(*super1, "train", "spot6_180d_7.tif"))[..., :3]
    rgba = tifffile.imread(shared(*super1, "train_annot", "spot6_180d_7_mask.tif"), key=0)
    from scipy import ndimage

    annotated = (rgba[..., :3] == (255, 0, 0)).all(axis=2) | (rgba[..., :3] == (0, 0, 255)).all(
        axis=2
    )
    labels, count = cast("tuple[np.ndarray, int]", ndimage.label(annotated, np.ones((3, 3))))
    flipped = np.ascontiguousarray(upright[::-1])
    one, other = model.embed(upright), model.embed(flipped)
    plain = _sam_image.MaskMapper(one.original_size, one.input_size)
    h = upright.shape[0]
    moved, unmoved = [], []
    for k in range(1, count + 1):
        part = labels == k
        if not 100 <= part.sum() <= 5000:
            continue
        depth = cast("np.ndarray", ndimage.distance_transform_edt(part))
        y, x = np.unravel_index(int(np.argmax(depth)), part.shape)
        a = next(c for c in model.predict(one, [(x, y, 1)]) if c.index == 1)
        b = next(c for c in model.predict(other, [(x, h - 1 - y, 1)]) if c.index == 1)
        if iou(a.mask, b.mask[::-1]) < 0.6:
            continue  # not the same object both ways up
        for masks, out in (
            ((a.mask, b.mask), moved),
            ((plain.mask(a.logits_lowres), plain.mask(b.logits_lowres)), unmoved),
        ):
            rows_up, rows_down = np.nonzero(masks[0])[0], h - 1 - np.nonzero(masks[1])[0]
            out.append(rows_down.mean() - rows_up.mean())
    assert len(moved) >= 15
    assert abs(float(np.median(moved))) < 0.15, np.median(moved)
    assert float(np.median(unmoved)) > 0.35, np.median(unmoved)


def test_display_images_of_other_types_are_accepted_or_refused_in_one_line():
    assert _sam_image.as_uint8(np.full((4, 4), 200.4)).dtype == np.uint8
    assert _sam_image.as_uint8(np.ones((4, 4, 4), np.uint8)).shape == (4, 4, 3)
    for bad in (np.full((4, 4), 0.5), np.full((4, 4), 4000, np.uint16), np.zeros((4,))):
        with pytest.raises(MatLensError):
            _sam_image.as_uint8(bad)


# --- importing a user's checkpoint ------------------------------------------------------------


@pytest.mark.slow
def test_import_checkpoint_handles_micro_sam_layout(tmp_path):
    torch = pytest.importorskip("torch", reason="torch is not installed (set-up extra 'export')")
    from inference.export import sam

    try:
        weights = sam.default_checkpoint()
    except MatLensError as exc:
        pytest.skip(str(exc))
    state = torch.load(weights, map_location="cpu", weights_only=True)
    wrapped = tmp_path / "finetune.pt"  # micro-sam style: nested, prefixed, with extras
    torch.save(
        {
            "model_state": {f"sam.{k}": v for k, v in state.items()},
            "decoder_state": {"x": torch.zeros(1)},
            "epoch": 3,
        },
        wrapped,
    )
    card = sam.import_checkpoint(wrapped, "auto", tmp_path / "models", name="My Fine-tune")
    assert card.id == "user_my_fine_tune" and not card.bundled
    assert card.extra["model_type"] == "vit_t" and card.extra["ignored_entries"] == [
        "decoder_state"
    ]
    for f in card.files:
        assert sam.sha256_file(tmp_path / "models" / f.name) == f.sha256
    assert {f.role for f in card.files} == set(sam.ROLES)

    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(MatLensError) as err:
        sam.import_checkpoint(junk, "vit_b", tmp_path / "models")
    assert "\n" not in str(err.value)
    with pytest.raises(MatLensError, match="vit_t model, not vit_b"):
        sam.import_checkpoint(wrapped, "vit_b", tmp_path / "models")
