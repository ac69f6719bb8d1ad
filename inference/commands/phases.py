"""`matlens phases IMAGE --examples EX.json --out LABELS.png [--json]`: phase segmentation by
example. EX.json is {"examples": [{"class": "matrix", "points": [[x, y], ...]}, ...]} with
points in image pixels (x to the right, y down); pixel value k+1 in LABELS.png is the k-th
class, in order of first appearance in the file. A microscope's data bar (FEI/Thermo) gets no
phase (value 0) and the fractions are over the rows above it; a `note:` line (`image_notes` in
--json) says so. Example points in the data bar are not trained on; a `note:` line
(`example_notes` in --json) says how many were left out.
"""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("phases", help="classify every pixel from a few examples per class")
    p.add_argument("image")
    p.add_argument(
        "--examples",
        required=True,
        metavar="EX.json",
        help='{"examples": [{"class": "matrix", "points": [[x, y], ...]}, ...]}',
    )
    p.add_argument("--out", required=True, help="label image (PNG or TIFF): value k+1 = class k")
    p.add_argument("--frame", type=int, default=0, help="frame of a stack, 0 = the first")
    p.add_argument("--model", default="mobile_sam", help="model id (see `matlens models list`)")
    p.add_argument("--json", action="store_true", help="print each class's pixel fraction as JSON")
    p.set_defaults(handler=run, reads=("image", "examples"), writes=("out",))


def run(args) -> int:
    import imageio.v3 as iio

    from inference.cli import print_json
    from inference.segmentation.phases import read_examples
    from inference.segmentation.sam import SamModel
    from inference.segmentation.workflows import load_image, segment_phases

    examples = read_examples(Path(args.examples))  # bad files fail before the model loads
    image = load_image(Path(args.image), args.frame, saved=False)
    micrograph = image.micrograph
    bar = micrograph.data_bar_rows
    result = segment_phases(SamModel(args.model), image.rgb, examples, data_bar_rows=bar)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".tif", ".tiff"):
        from inference.segmentation.export import write_raster

        write_raster(out, result.labels, micrograph.calibration)  # with the pixel size, for Fiji
    else:
        iio.imwrite(out, result.labels)
    cal = micrograph.calibration
    counts = {name: int((result.labels == k).sum()) for k, name in enumerate(result.classes, 1)}
    fractions = result.fractions()
    if args.json:
        print_json(
            {
                "image": str(args.image),
                "out": str(out),
                "width": int(result.labels.shape[1]),
                "height": int(result.labels.shape[0]),
                "data_bar_rows": bar,
                "image_notes": list(micrograph.notes),
                "example_notes": [result.examples_note] if result.examples_note else [],
                "classes": [
                    {
                        "value": k,
                        "class": name,
                        "pixels": counts[name],
                        "fraction": round(fractions[name], 6),
                        "area": float(cal.area(counts[name])),
                        "area_unit": cal.area_unit,
                    }
                    for k, name in enumerate(result.classes, start=1)
                ],
            }
        )
    else:
        for note in (*micrograph.notes, result.examples_note):
            if note:
                print(f"note: {note}")
        for k, name in enumerate(result.classes, start=1):
            print(f"{k} {name}: {100 * fractions[name]:.2f} % ({counts[name]} px)")
        print(f"wrote {out}")
    return 0
