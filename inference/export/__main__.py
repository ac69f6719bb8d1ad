"""`python -m inference.export`: make the ONNX models MatLens needs (set-up time only).

python -m inference.export                 export shipped models that are missing or corrupt
python -m inference.export --all           export them all again
python -m inference.export import-sam CHECKPOINT --type vit_b --name "My SAM"
--json                                     progress as JSON lines (used by the model manager)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from inference.errors import MatLensError, describe
from inference.runtime.paths import models_dir
from inference.runtime.registry import (
    FileStatus,
    card_status,
    file_status,
    load_cards,
    save_user_card,
)


def _reporter(as_json: bool):
    def progress(fraction: float, message: str = "") -> None:
        if as_json:
            print(json.dumps({"progress": fraction, "message": message}), flush=True)
        else:
            print(f"  {fraction * 100:5.1f}%  {message}", flush=True)

    return progress


def export_shipped(force: bool, progress) -> dict:
    done, skipped = [], []
    cards = [c for c in load_cards() if c.bundled and c.exporter]
    for i, card in enumerate(cards):
        if not force and card_status(card) is FileStatus.OK:
            skipped.append(card.id)
            continue
        progress(i / max(1, len(cards)), f"exporting {card.name}")
        start = time.perf_counter()
        module = importlib.import_module(card.exporter)
        module.export(models_dir(), progress=progress)
        bad = [f.name for f in card.files if file_status(f) is not FileStatus.OK]
        if bad:
            raise MatLensError(
                f"{card.name}: exported {', '.join(bad)} does not match the model card's sha256 "
                "(different torch/onnx version?)"
            )
        done.append({"id": card.id, "seconds": round(time.perf_counter() - start, 1)})
    progress(1.0, "models ready")
    return {"exported": done, "already_present": skipped, "models_dir": str(models_dir())}


def import_sam(checkpoint: str, model_type: str, name: str, progress) -> dict:
    from pathlib import Path

    sam = importlib.import_module("inference.export.sam")
    card = sam.import_checkpoint(
        Path(checkpoint), model_type, models_dir(), name, progress=progress
    )
    save_user_card(card)
    return {"id": card.id, "name": card.name}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inference.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--all", action="store_true", help="export every shipped model again")
    parser.add_argument("--json", action="store_true", help="JSON-lines progress and result")
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import-sam", help="import a segment-anything checkpoint")
    imp.add_argument("checkpoint")
    imp.add_argument("--type", default="vit_b", choices=["vit_t", "vit_b", "vit_l", "vit_h"])
    imp.add_argument("--name", default="")
    args = parser.parse_args(argv)
    progress = _reporter(args.json)
    try:
        if args.command == "import-sam":
            result = import_sam(args.checkpoint, args.type, args.name, progress)
        else:
            result = export_shipped(args.all, progress)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        message = describe(exc).message
        if args.json:
            print(json.dumps({"error": message}), flush=True)
        else:
            print(f"matlens: {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"result": result}), flush=True)
    else:
        for item in result.get("exported", []):
            print(f"exported {item['id']} in {item['seconds']} s")
        for item in result.get("already_present", []):
            print(f"{item}: present, checksum ok")
        if "id" in result:
            print(f"imported {result['name']} as {result['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
