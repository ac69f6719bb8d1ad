"""`matlens measure IMAGE LABELS.png [--pixel-size VALUE UNIT] --csv OUT.csv
[--summary SUMMARY.csv] [--report REPORT.html] [--json]`

LABELS is a label image of IMAGE's size: 0 is background and each value one object (what
`matlens segment --prompts` writes), or, with --classes A,B,..., value k is the k-th class
(what `matlens phases` writes). The calibration comes from --pixel-size, else from IMAGE's
metadata; without either, every length is in pixels and the grain size G is not given.
A microscope's data bar (FEI/Thermo, named in a `note:` line) is left out of the image area:
area fractions and densities are over the rows above it.
"""

from __future__ import annotations

from pathlib import Path

from inference.errors import MatLensError


def register(sub) -> None:
    p = sub.add_parser("measure", help="measure the objects of a label image (CSV, report)")
    p.add_argument("image", help="the micrograph (for its size, calibration and the overlay)")
    p.add_argument("labels", help="16-bit label image: 0 background, each value one object")
    p.add_argument(
        "--pixel-size",
        nargs=2,
        metavar=("VALUE", "UNIT"),
        help="size of one pixel, e.g. `--pixel-size 0.05 µm` (overrides the metadata)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--class",
        dest="class_name",
        default="object",
        help="class of every object (default: object; 'grain' gives the ASTM grain size, "
        "'crack' the crack length)",
    )
    group.add_argument(
        "--classes",
        metavar="A,B,...",
        help="read the values as classes (value k = k-th name); each region is an object",
    )
    p.add_argument("--csv", required=True, help="one row per object")
    p.add_argument("--summary", metavar="SUMMARY.csv", help="one row for the image")
    p.add_argument("--report", metavar="REPORT.html", help="one-page HTML report")
    p.add_argument("--frame", type=int, default=0, help="frame of a stack, 0 = the first")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run, reads=("image", "labels"), writes=("csv", "summary", "report"))


def parse_pixel_size(value: str, unit: str):
    from inference.imaging.calibration import Calibration, normalise_unit

    try:
        size = float(value)
    except ValueError:
        size = float("nan")
    if not size > 0 or size == float("inf"):
        raise MatLensError(f"bad --pixel-size '{value}': expected a positive number")
    if not Calibration.known_unit(unit):
        raise MatLensError(f"unknown length unit '{unit}' (use pm, Å, nm, µm or um, mm, cm, m)")
    return Calibration(size, normalise_unit(unit), "command line")


def _pane_calibration(image: Path, frame: int, micrograph, labels: str):
    """The scale the Micrographs pane measures this image with: one set there (its sidecar),
    else the file's own, else the one the pane's label-image export carries (an ImageJ TIFF);
    with a line saying where it came from when not the file's. A calibration set by hand in the
    pane was left out, and its objects measured in px²."""
    from inference.imaging.io import read_micrograph
    from inference.segmentation.workflows import scale_chosen_in_pane

    chosen = scale_chosen_in_pane(image, frame, micrograph.n_frames)
    if chosen is not None:
        return chosen[0], f"calibration set in the Micrographs pane: {chosen[1]}"
    if micrograph.calibration.calibrated:
        return micrograph.calibration, ""
    try:
        carried = read_micrograph(Path(labels)).calibration
    except Exception:  # noqa: BLE001 - a label image the reader cannot calibrate carries none
        return micrograph.calibration, ""
    if carried.calibrated:
        said = (
            f"calibration carried by {Path(labels).name}: {carried.pixel_size:g} {carried.unit}/px"
        )
        return carried, said
    return micrograph.calibration, ""


def run(args) -> int:
    from inference.cli import print_json
    from inference.imaging.calibration import CALIBRATION_NOTE
    from inference.imaging.io import read_micrograph
    from inference.segmentation.annotations import ImageIdentity
    from inference.segmentation.export import write_csv
    from inference.segmentation.labels import annotations_from_labels, read_label_image
    from inference.segmentation.summary import summary_row, write_summary_rows
    from inference.segmentation.workflows import measure_image

    calibration = parse_pixel_size(*args.pixel_size) if args.pixel_size else None
    micrograph = read_micrograph(Path(args.image), frame=args.frame)
    labels = read_label_image(args.labels)
    if labels.shape != micrograph.shape:
        (h, w), (ih, iw) = labels.shape, micrograph.shape
        raise MatLensError(
            f"{Path(args.labels).name} is {w}×{h} px but {Path(args.image).name} is {iw}×{ih} px"
        )
    # What the Image box says before measuring (data bar, signals not opened, and why the
    # file's scale was not used: moot once --pixel-size gives one).
    dropped = micrograph.metadata.get(CALIBRATION_NOTE) if calibration else None
    notes = [n for n in micrograph.notes if n != dropped]
    if calibration is None:
        calibration, said = _pane_calibration(Path(args.image), args.frame, micrograph, args.labels)
        notes += [said] if said else []
    names = _class_names(args.classes) if args.classes else None
    annotations = annotations_from_labels(
        labels,
        ImageIdentity.of_file(args.image),
        calibration,
        class_name=args.class_name,
        class_names=names,
    )
    annotations.data_bar_rows = micrograph.data_bar_rows
    measured = measure_image(annotations)
    measurements, summary = measured.measurements, measured.summary
    written = {"csv": str(write_csv(annotations, args.csv, measurements=measurements))}
    if args.summary:
        written["summary"] = str(write_summary_rows([summary_row(summary)], args.summary))
    if args.report:
        from inference.imaging.display import to_rgb
        from inference.segmentation.report import write_report

        path = write_report(
            annotations,
            to_rgb(micrograph),
            args.report,
            summary,
            measurements,
            data_bar_rows=micrograph.data_bar_rows,
        )
        written["report"] = str(path)
    if args.json:
        print_json({**summary.to_dict(), "image_notes": notes, "written": written})
    else:
        _print_text(summary, notes, written)
    return 0


def _print_text(summary, notes: list[str], written: dict[str, str]) -> None:
    from inference.wording import counted

    a, cal = summary.area_unit, summary.calibration
    scale = f"{cal.pixel_size:g} {cal.unit}/px ({cal.source})" if cal.calibrated else "uncalibrated"
    print(f"{summary.image}: {counted(summary.object_count, 'object')}, {scale}")
    for note in notes:
        print(f"  note: {note}")
    for c in summary.classes:
        s = c.summary
        print(
            f"  {s.class_name}: {counted(s.count, 'object')}, area fraction {s.area_fraction:.4f}, "
            f"{s.number_density:.4g} per {a}"
        )
    g = summary.grain_size
    if g is not None:
        if g.calibrated:
            print(
                f"  ASTM E112 G = {_g(g.planimetric.g)} (planimetric, "
                f"{g.planimetric.n_equivalent:g} grains), {_g(g.intercept.g)} (intercept, "
                f"{g.intercept.n_intersections} intersections)"
            )
        else:
            print("  grain size: ASTM E112 G needs a calibrated image (use --pixel-size)")
    if summary.cracks is not None:
        k = summary.cracks
        print(f"  crack length: {k.total_length:.4g} {k.unit} in {k.count} cracks")
    for what, path in written.items():
        print(f"wrote {what}: {path}")


def _g(value: float | None) -> str:
    """G to two decimals; "–" when there was nothing to count (no boundary crossed)."""
    return "–" if value is None else f"{value:.2f}"


def _class_names(text: str) -> list[str]:
    """--classes "matrix,pore": value k is the k-th name. An empty or repeated name is refused:
    the first left a class unnamed in the CSV, the second merged two classes into one."""
    names = [n.strip() for n in text.split(",")]
    for k, name in enumerate(names, start=1):
        if not name:
            raise MatLensError(f"--classes: class {k} (value {k}) has no name")
        if names.index(name) < k - 1:
            raise MatLensError(
                f"--classes: '{name}' names both value {names.index(name) + 1} and value {k}; "
                "give each class its own name"
            )
    return names
