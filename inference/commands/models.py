"""`matlens models list|export|import`."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("models", help="list, export or import models")
    msub = p.add_subparsers(dest="models_command", required=True)
    ls = msub.add_parser("list", help="list known models and whether their files are intact")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    ex = msub.add_parser(
        "export", help="export shipped models to ONNX (needs the set-up environment)"
    )
    ex.add_argument("--all", action="store_true", help="export again even if present")
    ex.set_defaults(handler=run_export)
    im = msub.add_parser(
        "import", help="import a segment-anything checkpoint (ViT-B/L/H, micro-sam)"
    )
    im.add_argument("checkpoint")
    im.add_argument("--type", default="vit_b", choices=["vit_t", "vit_b", "vit_l", "vit_h"])
    im.add_argument("--name", default="")
    im.set_defaults(handler=run_import)


def run_list(args) -> int:
    from inference.cli import print_json
    from inference.runtime.registry import card_state, file_path, load_cards

    rows = []
    for c in load_cards():
        rows.append(
            {
                "id": c.id,
                "name": c.name,
                "task": c.task,
                "licence": c.licence,
                "source": f"{c.source_package} {c.source_version}".strip(),
                "status": card_state(c),
                "bundled": c.bundled,
                "files": [str(file_path(f)) for f in c.files],
            }
        )
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:<20} {r['status']:<18} {r['licence']:<12} {r['name']}")
    return 0


def _progress(fraction: float, message: str = "") -> None:
    """Progress for a person at a terminal; scripts get only the result (and one-line errors)."""
    if not sys.stderr.isatty():
        return
    print(f"  {fraction * 100:5.1f}%  {message}", file=sys.stderr, flush=True)


def run_export(args) -> int:
    from inference.runtime.exporting import run_export as export

    result = export(*(["--all"] if args.all else []), progress=_progress)
    for item in result.get("exported", []):
        print(f"exported {item['id']} in {item['seconds']} s")
    for item in result.get("already_present", []):
        print(f"{item}: present, checksum ok")
    return 0


def run_import(args) -> int:
    from inference.runtime.exporting import run_export as export

    result = export(
        "import-sam",
        args.checkpoint,
        "--type",
        args.type,
        "--name",
        args.name or "",
        progress=_progress,
    )
    print(f"imported {result['name']} as {result['id']}")
    return 0
