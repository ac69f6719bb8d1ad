"""`matlens auto IMAGE --out LABELS.png [--map binary|labels] [--kind phase|grains|cracks]
[--points-per-side N] [--model ID] [--json]`

Segment everything in IMAGE. Without --map, LABELS.png is a 16-bit label image with one value per
object, the objects the Micrographs pane's Segment everything adds to an image with none: a mask
that mostly repeats another is left out, and where two overlap the first keeps the pixels. With
--map, the masks become a microstructure map of --kind: `labels` writes one value per particle,
grain or crack (0 = matrix or boundary), `binary` a 0/255 mask of the phase, the grain boundaries
or the cracks. --json prints counts, areas and area fractions (calibrated when IMAGE says its
pixel size). A microscope's data bar (FEI/Thermo) is left out: no mask lies in it, area
fractions are over the rows above it, and a `note:` line (`image_notes` in --json) says so; the
label image keeps the image's size.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError

if TYPE_CHECKING:
    from inference.imaging.calibration import Calibration

MAX_LABEL = 65535


def register(sub) -> None:
    from inference.segmentation.microstructure import KINDS

    p = sub.add_parser("auto", help="segment everything (SAM), or a microstructure map")
    p.add_argument("image")
    p.add_argument("--out", required=True, help="label image (.png or .tif)")
    p.add_argument(
        "--map", choices=("binary", "labels"), help="write a microstructure map, not the masks"
    )
    p.add_argument("--kind", choices=KINDS, default="phase", help="what the map shows")
    p.add_argument("--points-per-side", type=int, default=None, metavar="N", help="N x N grid")
    p.add_argument("--model", default="mobile_sam", help="model id (see `matlens models list`)")
    p.add_argument("--frame", type=int, default=0, help="frame of a stack, 0 = the first")
    p.add_argument("--json", action="store_true", help="print counts, areas and fractions")
    p.set_defaults(handler=run, reads=("image",), writes=("out",))


def write_image(path: Path, image: np.ndarray, calibration: Calibration) -> None:
    """PNG, or an ImageJ TIFF that carries the pixel size (as the pane's label export)."""
    from inference.segmentation.export import write_raster

    path.parent.mkdir(parents=True, exist_ok=True)
    write_raster(path, image, calibration)


def _uint16(labels: np.ndarray, what: str) -> np.ndarray:
    top = int(labels.max()) if labels.size else 0
    if top > MAX_LABEL:
        raise MatLensError(f"{top} {what} do not fit a 16-bit label image (at most {MAX_LABEL})")
    return labels.astype(np.uint16)


def run(args) -> int:
    from inference.cli import print_json
    from inference.segmentation.automatic import AutoParams
    from inference.segmentation.merging import apply_merge
    from inference.segmentation.microstructure import MapParams
    from inference.segmentation.sam import SamModel
    from inference.segmentation.workflows import everything_into, load_image, microstructure_map

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".tif", ".tiff"):
        raise MatLensError(f"--out must end in .png or .tif, not '{out.suffix or out.name}'")
    params = AutoParams()
    if args.points_per_side is not None:
        params = AutoParams(points_per_side=args.points_per_side)
    params.check()
    image = load_image(Path(args.image), args.frame, saved=False)
    calibration = image.micrograph.calibration
    bar = image.micrograph.data_bar_rows
    model = SamModel(args.model)
    if args.map:
        built = microstructure_map(
            model, image.rgb, image.display, params, MapParams(kind=args.kind), data_bar_rows=bar
        )
        masks, labels, binary = built.masks.masks, built.map.labels, built.map.binary
        if args.map == "binary":
            write_image(out, binary.astype(np.uint8) * np.uint8(255), calibration)
        else:
            write_image(out, _uint16(labels, "map regions"), calibration)
    else:
        # the pane's Segment everything, to the object: duplicates left out, overlaps trimmed
        image.annotations.add_class("object")
        found = everything_into(image.annotations, "object", model, image.rgb, params)
        apply_merge(image.annotations, found.merged.merge)
        masks = found.made.masks
        labels = image.annotations.label_image()
        binary = labels > 0
        write_image(out, _uint16(labels, "objects"), calibration)
    summary = _summary(image.micrograph, out, masks, labels, binary, args)
    if args.json:
        print_json(summary)
    else:
        for note in summary["image_notes"]:
            print(f"note: {note}")
        what = f"{args.kind} map" if args.map else "masks"
        print(
            f"{summary['count']} objects ({what}), area fraction {summary['area_fraction']:.4f}; "
            f"wrote {out}"
        )
    return 0


def _summary(micrograph, out: Path, masks, labels, binary, args) -> dict:
    """The numbers of the run; the area fraction is over the specimen (above a data bar)."""
    from inference.segmentation.data_bar import specimen

    cal = micrograph.calibration
    areas = np.bincount(labels.ravel())[1:]
    areas = areas[areas > 0]
    return {
        "image": str(micrograph.path) if micrograph.path else "",
        "out": str(out),
        "width": int(labels.shape[1]),
        "height": int(labels.shape[0]),
        "map": args.kind if args.map else None,
        "masks": len(masks),
        "count": int(areas.size),
        "area_fraction": round(float(specimen(binary, micrograph.data_bar_rows).mean()), 6),
        "data_bar_rows": micrograph.data_bar_rows,
        "image_notes": list(micrograph.notes),
        "pixel_size": cal.pixel_size if cal.calibrated else None,
        "unit": cal.unit,
        "area_unit": cal.area_unit,
        "areas_px": [int(a) for a in areas],
        "areas": [float(cal.area(int(a))) for a in areas],
    }
