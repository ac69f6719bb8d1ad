"""`matlens segment IMAGE --point X,Y[,1|0] ... [--box X0,Y0,X1,Y1] --out MASK.png [--json]`
and `matlens segment IMAGE --prompts PROMPTS.json [--out LABELS.png] [--coco OUT.json] [--json]`.

Coordinates are pixels of the original image, x to the right and y down. The clicks take the
Micrographs pane's path exactly (`workflows.segment_prompts`): one click session per image (tiled
above 2048 px), and each object made as a person makes it there, the box first, then each point
refining the mask shown; the object is the first candidate, as the pane shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from inference.errors import MatLensError
from inference.segmentation.prompted import ObjectPrompt

OVERLAP_RULE = "where objects overlap, a pixel belongs to the FIRST object that claims it"


def register(sub) -> None:
    p = sub.add_parser(
        "segment",
        help="segment objects with point and box prompts (SAM), as the pane's clicks do",
        description=f"Label images number the objects 1..N in prompt order; {OVERLAP_RULE}. "
        "The COCO file keeps every object whole (overlaps kept).",
    )
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
    p.add_argument(
        "--out",
        help="0/255 mask PNG (one object), or with --prompts a 16-bit label image, object i = "
        f"value i (1..N); {OVERLAP_RULE}",
    )
    p.add_argument(
        "--coco",
        metavar="OUT.json",
        help="COCO JSON: one annotation per object in prompt order (ids 1..N, uncompressed RLE), "
        "overlaps kept",
    )
    p.add_argument("--frame", type=int, default=0, help="frame of a stack, 0 = the first")
    p.add_argument("--model", default="mobile_sam", help="model id (see `matlens models list`)")
    p.add_argument("--json", action="store_true", help="print area and score per object as JSON")
    p.set_defaults(handler=run, reads=("image", "prompts"), writes=("out", "coco"))


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


def read_prompts(path: Path) -> list[ObjectPrompt]:
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
            points = tuple(
                (float(p[0]), float(p[1]), int(p[2]) if len(p) > 2 else 1)
                for p in obj.get("points") or []
            )
            values = obj.get("box")
            box = None
            if values:
                x0, y0, x1, y1 = (float(v) for v in values)  # ValueError unless 4 numbers
                box = (x0, y0, x1, y1)
        except (TypeError, ValueError, IndexError, AttributeError):
            raise MatLensError(f"{path}: object {i} has malformed points or box") from None
        name = str(obj.get("class") or "object")
        parsed.append(ObjectPrompt(points, box, name))
    return parsed


def run(args) -> int:
    from inference.cli import print_json
    from inference.segmentation.prompted import check_prompts, segment_prompts
    from inference.segmentation.workflows import embed_for_clicks, load_image

    if args.prompts and (args.point or args.box):
        raise MatLensError("use either --prompts or --point/--box, not both")
    if not args.out and not args.coco:
        raise MatLensError("give --out (mask or label image) or --coco (COCO JSON), or both")
    if args.out and Path(args.out).suffix.lower() not in (".png", ".tif", ".tiff"):
        raise MatLensError(f"--out must end in .png or .tif, not '{Path(args.out).name}'")
    if args.prompts:
        prompts = read_prompts(Path(args.prompts))
    else:
        points = tuple(parse_point(p) for p in args.point)
        box = parse_box(args.box) if args.box else None
        if not points and box is None:
            raise MatLensError("give at least one --point or a --box (or --prompts FILE)")
        prompts = [ObjectPrompt(points, box)]
    image = load_image(Path(args.image), args.frame, saved=False)
    check_prompts(image.shape, prompts)  # one line before the model loads
    from inference.segmentation.sam import SamModel

    bar = image.micrograph.data_bar_rows
    clicks = embed_for_clicks(
        SamModel(args.model), image.rgb, tiles_on_demand=True, data_bar_rows=bar
    )
    results = segment_prompts(clicks, prompts)
    written = _write(results, image, args)
    summary = _summary(results, image, written)
    if args.json:
        print_json(summary)
    else:
        for obj in summary["objects"]:
            score = "local contrast" if obj["score"] is None else f"score {obj['score']:.3f}"
            print(f"object {obj['id']}: {obj['area_px']} px, {score}")
        for path in written.values():
            print(f"wrote {path}")
    return 0


def _write(results, image, args) -> dict[str, str]:
    from inference.segmentation.export import write_coco, write_raster
    from inference.segmentation.prompted import first_claim_labels, prompted_annotations

    written = {}
    if args.coco:
        cal = image.micrograph.calibration  # one line below for an empty mask
        annotations = prompted_annotations(results, image.shape, image.annotations.image, cal)
        coco = Path(args.coco)
        coco.parent.mkdir(parents=True, exist_ok=True)
        written["coco"] = str(write_coco(annotations, coco, image.path.name, segmentation="rle"))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        labels = first_claim_labels(image.shape, results)
        if not args.prompts:  # one object: a 0/255 mask
            labels = (labels > 0).astype(np.uint8) * np.uint8(255)
        # a TIFF carries the pixel size, as the pane's label export does, so Fiji measures in µm
        written["out"] = str(write_raster(out, labels, image.micrograph.calibration))
    return written


def _summary(results, image, written: dict[str, str]) -> dict:
    cal = image.micrograph.calibration
    h, w = image.shape
    return {
        "image": str(image.path),
        "out": written.get("out"),
        "coco": written.get("coco"),
        "width": w,
        "height": h,
        "pixel_size": cal.pixel_size if cal.calibrated else None,
        "unit": cal.unit,
        "objects": [
            {
                "id": r.index + 1,
                "class": r.class_name,
                "area_px": r.area,
                "area": float(cal.area(r.area)),
                "area_unit": cal.area_unit,
                "score": None if r.score is None else round(r.score, 4),
            }
            for r in results
        ],
    }
