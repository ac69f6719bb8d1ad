"""Exports of an AnnotationSet: label image, class masks, COCO JSON, ImageJ ROIs and CSV.

Conventions shared by all exports:
- Every object is exported, hidden or not: hiding is only a view setting.
- One number per object everywhere: its id. The label image's value, the COCO annotation id,
  the ImageJ ROI name (`<class>-<id>`) and the CSV's `id` column are the same number, and an
  undo or a deletion never renumbers the others (ids are not reused in a session, so they may
  have gaps). Ids up to 65535 give a 16-bit label image; above that the TIFF is 32-bit and PNG
  (16-bit at most) is refused with a message.
- Where objects overlap (objects of different classes may), the later object wins in the label
  image and the class masks; COCO, the ROIs and the CSV keep each object whole.
- Polygons (COCO, ImageJ) run along pixel edges in pixel-corner coordinates ((0, 0) is the
  top-left corner of the first pixel), so pycocotools and ImageJ rasterise them back to exactly
  the object's pixels (`outlines`). COCO polygons cannot hold a hole (pycocotools unites the
  polygons of an annotation), so an object with holes is written as an RLE mask, which is
  exact; several parts are several polygons. ImageJ gets a traced polygon ROI for a one-part
  object without holes and a composite (shape) ROI otherwise.
- Only classes with objects are written (class masks, summary rows, COCO categories keep every
  class so category ids stay stable).
- The label TIFF carries the calibration as ImageJ reads it (pixel size and unit), so Fiji
  measures in µm; PNG has no place for it.
- Memory: work is done per object crop; the only image-sized arrays are the one being written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from inference import __version__
from inference.errors import MatLensError
from inference.segmentation.annotations import MAX_LABEL, AnnotatedObject, AnnotationSet
from inference.segmentation.measure import (
    ObjectMeasurement,
    measure,
    summarise,
    summary_rows,
    to_rows,
)
from inference.segmentation.outlines import has_holes, pixel_outlines

if TYPE_CHECKING:
    from collections.abc import Sequence

    from inference.imaging.calibration import Calibration

# Excel on Windows reads a CSV without a BOM in the ANSI code page (µ becomes "Âµ"); with a
# UTF-8 BOM it reads UTF-8. pandas, R and Python's csv read "utf-8-sig" files fine.
CSV_ENCODING = "utf-8-sig"

# ImageJ's TIFF description is ASCII; ImageJ turns "um" into µm and "A" into Å.
_IMAGEJ_UNITS = {"µm": "um", "Å": "A"}


# --- rasters ----------------------------------------------------------------------------------
def write_raster(
    path: str | Path, image: np.ndarray, calibration: Calibration | None = None
) -> Path:
    """A label or mask image as PNG or (zlib-compressed) TIFF, chosen by the extension.

    8- and 16-bit TIFFs are ImageJ TIFFs carrying `calibration` (pixel size and unit), which
    Fiji and tifffile read back; 32-bit label images (ids above 65535) are TIFF only.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        if image.dtype.itemsize > 2:
            raise MatLensError(
                f"Object ids go up to {int(image.max())}, more than a 16-bit PNG holds "
                f"({MAX_LABEL}); save the label image as .tif"
            )
        import imageio.v3 as iio

        iio.imwrite(path, image)
    elif suffix in (".tif", ".tiff"):
        _write_tiff(path, image, calibration)
    else:
        raise MatLensError(f"Label images are saved as .png or .tif, not '{path.suffix}'")
    return path


def _write_tiff(path: Path, image: np.ndarray, calibration: Calibration | None) -> None:
    import tifffile

    cal = calibration if calibration is not None and calibration.calibrated else None
    if image.dtype in (np.uint8, np.uint16):
        extra: dict = {"imagej": True}
        if cal is not None:
            extra["resolution"] = (1.0 / cal.pixel_size, 1.0 / cal.pixel_size)
            extra["metadata"] = {"unit": _IMAGEJ_UNITS.get(cal.unit, cal.unit)}
    else:  # ImageJ TIFFs hold no 32-bit integers: a plain TIFF, resolution in centimetres
        extra = {"photometric": "minisblack"}
        if cal is not None:
            per_cm = 1.0 / cal.to("cm").pixel_size
            extra.update(resolution=(per_cm, per_cm), resolutionunit="CENTIMETER")
    tifffile.imwrite(path, image, compression="zlib", **extra)


def label_image_suffix(calibration: Calibration | None) -> str:
    """The file type to suggest for a label image: TIFF when the image is calibrated (it
    carries the pixel size, which a PNG would drop), PNG otherwise."""
    return ".tif" if calibration is not None and calibration.calibrated else ".png"


def write_label_image(annotations: AnnotationSet, path: str | Path) -> Path:
    """Label image, each object's pixels set to its id (16-bit, or 32-bit TIFF above 65535).

    PNG or TIFF by extension; the TIFF carries the calibration.
    """
    return write_raster(path, annotations.label_image(), annotations.calibration)


def write_class_masks(
    annotations: AnnotationSet, folder: str | Path, prefix: str = ""
) -> list[Path]:
    """One 8-bit PNG (0 or 255) per class that has objects, named `<prefix><class>.png`.

    Masks follow `class_image()` (the later object wins where classes overlap), so they do not
    overlap each other.
    """
    import imageio.v3 as iio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    used = {o.class_name for o in annotations.objects}
    if not used:
        return []
    classes = annotations.class_image()
    written = []
    for k, cls in enumerate(annotations.classes, start=1):
        if cls.name not in used:
            continue
        path = folder / f"{prefix}{safe_file_name(cls.name)}.png"
        mask = np.equal(classes, k)
        iio.imwrite(path, np.multiply(mask, 255, dtype=np.uint8))
        del mask
        written.append(path)
    return written


def safe_file_name(name: str) -> str:
    """Class names are typed by users: keep them portable as file names."""
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("._") or "class"


# --- COCO -------------------------------------------------------------------------------------
def coco_polygons(obj: AnnotatedObject) -> list[list[int]]:
    """COCO polygons of an object without holes: one flat [x0, y0, x1, y1, ...] per part, along
    pixel edges in pixel-corner coordinates (all integers)."""
    return [
        ring.xy.astype(np.int64).ravel().tolist() for ring in pixel_outlines(obj.mask, obj.offset)
    ]


def coco_rle(obj: AnnotatedObject, shape: tuple[int, int]) -> dict:
    """COCO uncompressed RLE of the object over the whole image (column-major, from False).

    Built from the cropped mask: the gap between two columns of the crop is one weighted run.
    """
    height, width = shape
    h, w = obj.mask.shape
    y0, x0 = obj.offset
    values = np.concatenate([obj.mask.T, np.zeros((w, 1), dtype=bool)], axis=1).ravel()[:-1]
    weights = np.ones((w, h + 1), dtype=np.int64)
    weights[:, h] = height - h
    weights = weights.ravel()[:-1]
    lead, trail = x0 * height + y0, (height - y0 - h) + (width - x0 - w) * height
    values = np.concatenate(([False], values, [False]))
    weights = np.concatenate(([lead], weights, [trail]))
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    counts = np.add.reduceat(weights, starts).tolist()
    if values[0]:
        counts = [0, *counts]
    return {"size": [height, width], "counts": counts}


def coco_annotation(
    annotations: AnnotationSet,
    obj: AnnotatedObject,
    segmentation: Literal["polygon", "rle"] = "polygon",
) -> dict:
    """One COCO annotation record: id = the object's id, category = its class's position."""
    classes = [c.name for c in annotations.classes]
    x0, y0, x1, y1 = obj.bbox
    if segmentation == "rle" or has_holes(obj.mask):
        segm: list | dict = coco_rle(obj, annotations.shape)
    else:
        segm = coco_polygons(obj)
    record = {
        "id": obj.id,
        "image_id": 1,
        "category_id": classes.index(obj.class_name) + 1,
        "segmentation": segm,
        "area": float(obj.area),
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "iscrowd": 0,
    }
    if obj.score is not None:
        record["score"] = obj.score
    return record


def write_coco(
    annotations: AnnotationSet,
    path: str | Path,
    image_file_name: str,
    segmentation: Literal["polygon", "rle"] = "polygon",
) -> Path:
    """COCO instance segmentation JSON for one image (readable by pycocotools, CVAT, ...).

    "polygon": pixel-edge polygons, and RLE for objects with holes; "rle": RLE for every object.
    Either way pycocotools' `annToMask` gives back exactly each object's pixels.
    """
    path = Path(path)
    height, width = annotations.shape
    category = {c.name: i for i, c in enumerate(annotations.classes, start=1)}
    records = [coco_annotation(annotations, obj, segmentation) for obj in annotations.objects]
    cal = annotations.calibration
    coco = {
        "info": {
            "description": f"MatLens annotations of {image_file_name}",
            "version": __version__,
            "date_created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": [
            {
                "id": 1,
                "file_name": image_file_name,
                "width": width,
                "height": height,
                "pixel_size": cal.pixel_size,
                "unit": cal.unit,
            }
        ],
        "categories": [
            {"id": i, "name": c.name, "supercategory": "microstructure"}
            for c, i in zip(annotations.classes, category.values(), strict=True)
        ],
        "annotations": records,
    }
    path.write_text(json.dumps(coco, ensure_ascii=False), encoding="utf-8")
    return path


# --- ImageJ -----------------------------------------------------------------------------------
_MOVETO, _LINETO, _CLOSE = 0.0, 1.0, 4.0  # java.awt.geom.PathIterator segment types


def imagej_roi(obj: AnnotatedObject, colour: tuple[int, int, int] = (255, 255, 0)):
    """The object as an ImageJ ROI named `<class>-<id>`: a traced polygon (what Fiji's wand
    makes) for one part without holes, else a composite ROI holding every part and hole."""
    from roifile import ROI_TYPE, ImagejRoi

    rings = pixel_outlines(obj.mask, obj.offset)
    name = f"{obj.class_name}-{obj.id:04d}"
    if len(rings) == 1:
        roi = ImagejRoi.frompoints(rings[0].xy.astype(np.int32), name=name)
        roi.roitype = ROI_TYPE.TRACED
    else:
        path: list[float] = []
        for ring in rings:
            (x, y), rest = ring.xy[0], ring.xy[1:]
            path += [_MOVETO, x, y]
            for x, y in rest:
                path += [_LINETO, x, y]
            path.append(_CLOSE)
        roi = ImagejRoi(name=name)
        roi.roitype = ROI_TYPE.RECT
        roi.multi_coordinates = np.asarray(path, dtype=np.float32)
        roi.shape_roi_size = len(path)
    x0, y0, x1, y1 = obj.bbox
    roi.left, roi.top, roi.right, roi.bottom = x0, y0, x1, y1
    r, g, b = colour
    roi.stroke_color = bytes((255, r, g, b))  # ARGB
    return roi


def write_imagej_rois(annotations: AnnotationSet, path: str | Path) -> Path:
    """An ImageJ/Fiji ROI-Manager .zip: one ROI per object (`imagej_roi`), in its class colour."""
    from roifile import roiwrite

    path = Path(path)
    colours = {c.name: c.colour for c in annotations.classes}
    rois = [imagej_roi(obj, colours[obj.class_name]) for obj in annotations.objects]
    path.unlink(missing_ok=True)  # roiwrite appends to an existing zip
    roiwrite(path, rois, mode="w")
    return path


# --- tables -----------------------------------------------------------------------------------
def write_csv(
    annotations: AnnotationSet,
    path: str | Path,
    delimiter: str = ",",
    measurements: Sequence[ObjectMeasurement] | None = None,
) -> Path:
    """One row per object, units in the header ("area_µm²", or "area_px²" when uncalibrated).

    UTF-8 with a BOM so that Excel on Windows shows µ and ² (see CSV_ENCODING). Numbers use a
    decimal point; pass delimiter=";" for Excel in locales with a decimal comma. Pass
    `measurements` when they are already computed.
    """
    if measurements is None:
        measurements = measure(annotations)
    return _write_rows(to_rows(measurements, annotations.calibration), path, delimiter)


def write_table(rows: Sequence[Sequence[object]], path: str | Path, delimiter: str = ",") -> Path:
    """Any table (header row first) with the conventions of these CSVs: BOM, blanks for NaN."""
    return _write_rows(rows, path, delimiter)


def write_summary_csv(annotations: AnnotationSet, path: str | Path, delimiter: str = ",") -> Path:
    """One row per class with objects: count, area, phase (area) fraction, number density."""
    used = [s for s in summarise(annotations) if s.count]
    rows = summary_rows(used, annotations.calibration)
    return _write_rows(rows, path, delimiter)


def _write_rows(rows: Sequence[Sequence[object]], path: str | Path, delimiter: str) -> Path:
    path = Path(path)
    with path.open("w", encoding=CSV_ENCODING, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerows([_cell(v) for v in row] for row in rows)
    return path


def _cell(value: object) -> object:
    """Blank for missing values (None, NaN): Excel and pandas both read that as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.10g}"
    return value
