"""Peak memory of Measure and of every export on a large label image (issue: ≤ 4 GB at 16000²).

Each step runs in its own child process and its peak RSS comes from wait4 (that process
alone), so the steps do not hide each other. The synthetic image (tests/synthetic_labels.py:
discs of 6-40 px radius, one per 40,000 px², some with holes or a second part) is made by a
child too.

    nice .venv/bin/python benchmarks/measure_memory.py [--size 16000] [--code DIR]

`--code DIR` runs the steps on another checkout's code (e.g. main, for the figures before a
change); keep `--size` ≤ 8000 for code that is known to need more than a few GB.

Steps: `matlens measure` plain, with `--report`, with `--class grain` (ASTM grain size) and
with `--classes` on a phase map of the same size; then, each from the label image read back
into annotations: the label PNG and TIFF, the class masks, COCO (polygons), the ImageJ ROI
set, the CSV, the report and the batch overlay PNG. The "read labels only" row is the floor
every export step stands on.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

EXPORTS = ("read labels only", "label png", "label tif", "class masks", "coco", "rois", "csv")
EXPORTS += ("report", "batch overlay")


def _export(kind: str, folder: Path, size: int) -> None:
    """The child's job: read the label image into annotations and write one export."""
    from inference.imaging.calibration import Calibration
    from inference.segmentation import export
    from inference.segmentation.annotations import ImageIdentity
    from inference.segmentation.labels import annotations_from_labels, read_label_image

    labels = read_label_image(folder / f"labels_{size}.tif")
    ident = ImageIdentity("labels.tif", "0" * 64)
    annotations = annotations_from_labels(labels, ident, Calibration(0.05, "µm", "benchmark"))
    del labels
    out = folder / "out"
    out.mkdir(exist_ok=True)
    if kind == "label png":
        export.write_label_image(annotations, out / "labels.png")
    elif kind == "label tif":
        export.write_label_image(annotations, out / "labels.tif")
    elif kind == "class masks":
        export.write_class_masks(annotations, out / "masks")
    elif kind == "coco":
        export.write_coco(annotations, out / "coco.json", "micrograph.tif")
    elif kind == "rois":
        export.write_imagej_rois(annotations, out / "rois.zip")
    elif kind == "csv":
        export.write_csv(annotations, out / "objects.csv")
    elif kind in ("report", "batch overlay"):
        import tifffile

        from inference.segmentation.report import overlay_image, png_bytes, write_report

        grey = tifffile.imread(folder / f"micrograph_{size}.tif")
        if kind == "report":
            write_report(annotations, grey, out / "report.html")
        else:  # what the batch writes beside each image: the overlay at full resolution
            (out / "overlay.png").write_bytes(
                png_bytes(overlay_image(grey, annotations), max_side=None)
            )


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, peak RSS in MB, seconds, stderr tail) of one child."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:]
    seconds = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, seconds, " ".join(tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=16000)
    parser.add_argument("--code", type=Path, default=REPO, help="checkout whose code to run")
    parser.add_argument("--export", help=argparse.SUPPRESS)  # a child's job
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        _export(args.export, args.folder, args.size)
        return

    code = args.code.resolve()
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONIOENCODING": "utf-8"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run(
            [sys.executable, str(REPO / "tests" / "synthetic_labels.py"), tmp, str(args.size)],
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        _phase_map(folder, args.size)
        image, labels = folder / f"micrograph_{args.size}.tif", folder / f"labels_{args.size}.tif"
        print(f"{args.size} × {args.size} label image; code: {code}")
        print(f"{'step':40s} {'exit':>4s} {'peak RSS MB':>12s} {'s':>7s}")
        matlens = [sys.executable, "-m", "desktop.launcher", "measure", str(image)]
        common = ["--pixel-size", "0.05", "µm", "--csv", str(folder / "o.csv")]
        steps = [
            ("matlens measure", [*matlens, str(labels), *common]),
            (
                "matlens measure --report",
                [*matlens, str(labels), *common, "--report", str(folder / "r.html")],
            ),
            ("matlens measure --class grain", [*matlens, str(labels), *common, "--class", "grain"]),
            (
                "matlens measure --classes (phase map)",
                [*matlens, str(folder / f"phases_{args.size}.tif"), *common, "--classes", "a,b"],
            ),
        ]
        for kind in EXPORTS:
            argv = [sys.executable, str(Path(__file__).resolve()), "--export", kind]
            steps.append((f"export: {kind}", [*argv, "--folder", tmp, "--size", str(args.size)]))
        for name, argv in steps:
            rc, peak, seconds, err = _run(argv, code, env)
            note = f"  {err[:90]}" if rc else ""
            print(f"{name:40s} {rc:4d} {peak:12.0f} {seconds:7.1f}{note}", flush=True)
    print(f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


def _phase_map(folder: Path, size: int) -> None:
    """A two-phase map of the same size: the objects' parity as the phase (made in a child)."""
    script = (
        "import sys, tifffile, numpy as np; f, s = sys.argv[1], sys.argv[2];"
        "l = tifffile.imread(f'{f}/labels_{s}.tif');"
        "p = np.where(l > 0, (l % 2 + 1).astype(np.uint8), np.uint8(0));"
        "tifffile.imwrite(f'{f}/phases_{s}.tif', p, compression='zlib')"
    )
    subprocess.run([sys.executable, "-c", script, str(folder), str(size)], check=True)


if __name__ == "__main__":
    main()
