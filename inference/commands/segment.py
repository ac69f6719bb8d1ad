"""`matlens segment IMAGE --point X,Y[,1|0] ... [--box X0,Y0,X1,Y1] --out MASK.png [--json]`
and `matlens segment IMAGE --prompts PROMPTS.json --out LABELS.png --json`.

Coordinates are pixels of the original image, x to the right and y down.
"""

from __future__ import annotations

import json
from pathlib import Path

from inference.errors import MatLensError


def register(sub) -> None:
    p = sub.add_parser("segment", help="segment objects with point and box prompts (SAM)")
    p.add_argument("image")
    p.add_argument(
        "--point",
        action="append",
        default=[],
        metavar="X,Y[,1|0]",
        help="a prompt point; label 1 (object, default) or 0 (background); repeatable",
    )
    p.add_argument("--box", metavar="X0,Y0,X1,Y1", help="a box around the object")
    p.add_argument(
        "--prompts",
        metavar="PROMPTS.json",
        help='several objects: {"objects": [{"points": [[x, y, 1]], "box": null, "class": "pore"}]}',
    )
    p.add_argument("--out", required=True, help="mask PNG (one object) or label image (--prompts)")
    p.add_argument("--frame", type=int, default=0, help="frame of a stack")
    p.add_argument("--model", default="mobile_sam", help="model id (see `matlens models list`)")
    p.add_argument("--json", action="store_true", help="print area and score per object as JSON")
    p.set_defaults(handler=run)


def _numbers(text: str, what: str, count: tuple[int, ...]) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in count:
        raise MatLensError(
            f"bad {what} '{text}': expected {' or '.join(map(str, count))} numbers separated by commas"
        )
    return values


def parse_point(text: str) -> tuple[float, float, int]:
    values = _numbers(text, "--point", (2, 3))
    label = int(values[2]) if len(values) == 3 else 1
    if label not in (0, 1):
        raise MatLensError(f"bad --point '{text}': the label must be 1 (object) or 0 (background)")
    return values[0], values[1], label


def parse_box(text: str) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = _numbers(text, "--box", (4,))
    return x0, y0, x1, y1


def read_prompts(path: Path) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        objects = data["objects"]
        assert isinstance(objects, list)
    except FileNotFoundError:
        raise MatLensError(f"prompts file not found: {path}") from None
    except (ValueError, KeyError, TypeError, AssertionError):
        raise MatLensError(
            f'{path}: expected {{"objects": [{{"points": [[x, y, 1]], "box": null}}]}}'
        ) from None
    parsed = []
    for i, obj in enumerate(objects, start=1):
        try:
            points = [
                (float(p[0]), float(p[1]), int(p[2]) if len(p) > 2 else 1)
                for p in obj.get("points") or []
            ]
            box = obj.get("box")
            box = tuple(float(v) for v in box) if box else None
            if box is not None and len(box) != 4:
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise MatLensError(f"{path}: object {i} has malformed points or box") from None
        parsed.append({"points": points, "box": box, "class": str(obj.get("class") or "object")})
    return parsed


def run(args) -> int:
    from inference.cli import print_json
    from inference.imaging.display import to_rgb
    from inference.imaging.io import read_micrograph
    from inference.segmentation.prompted import segment_objects, write_outputs

    if args.prompts and (args.point or args.box):
        raise MatLensError("use either --prompts or --point/--box, not both")
    if args.prompts:
        objects = read_prompts(Path(args.prompts))
    else:
        points = [parse_point(p) for p in args.point]
        box = parse_box(args.box) if args.box else None
        if not points and box is None:
            raise MatLensError("give at least one --point or a --box (or --prompts FILE)")
        objects = [{"points": points, "box": box, "class": "object"}]
    micrograph = read_micrograph(Path(args.image), frame=args.frame)
    results = segment_objects(to_rgb(micrograph), objects, args.model)
    summary = write_outputs(results, micrograph, Path(args.out), labels=bool(args.prompts))
    if args.json:
        print_json(summary)
    else:
        for obj in summary["objects"]:
            print(f"object {obj['id']}: {obj['area_px']} px, score {obj['score']:.3f}")
        print(f"wrote {summary['out']}")
    return 0
