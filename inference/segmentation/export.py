"""Exports of an AnnotationSet: label image, class masks, COCO JSON, ImageJ ROIs and CSV.

Conventions shared by all exports:
- Every object is exported, hidden or not: hiding is only a view setting.
- Label images number objects by their 1-based position in `objects` (1..N, no gaps), not by id;
  the CSV's `label` column gives that number next to the id. Overlaps: the later object wins.
- Polygon coordinates (COCO) are pixel coordinates (x, y) with the centre of pixel (row 0,
  column 0) at (0, 0), as in scikit-image: the contour at level 0.5 runs half-way between inside
  and outside pixel centres. COCO bboxes are [x, y, width, height] in whole pixels (edges).
  ImageJ ROIs add 0.5, because ImageJ puts (0, 0) at the top-left corner of the first pixel.
- Polygons give the outer boundary of each 8-connected part; holes are filled. COCO can use
  exact RLE instead (`segmentation="rle"`); the label image is always exact.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from scipy import ndimage
from skimage.measure import approximate_polygon, find_contours

from inference import __version__
from inference.errors import MatLensError
from inference.segmentation.annotations import AnnotatedObject, AnnotationSet
from inference.segmentation.measure import (
    ObjectMeasurement,
    measure,
    summarise,
    summary_rows,
    to_rows,
)

# Excel on Windows reads a CSV without a BOM in the ANSI code page (µ becomes "Âµ"); with a
# UTF-8 BOM it reads UTF-8. pandas, R and Python's csv read "utf-8-sig" files fine.
CSV_ENCODING = "utf-8-sig"


# --- rasters ----------------------------------------------------------------------------------
def write_raster(path: str | Path, image: np.ndarray) -> Path:
    """A label or mask image as PNG or (zlib-compressed) TIFF, chosen by the extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        import imageio.v3 as iio

        iio.imwrite(path, image)
    elif suffix in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(path, image, compression="zlib", photometric="minisblack")
    else:
        raise MatLensError(f"Label images are saved as .png or .tif, not '{path.suffix}'")
    return path


def write_label_image(annotations: AnnotationSet, path: str | Path) -> Path:
    """uint16 label image; object i (1-based position) has value i. PNG or TIFF by extension."""
    return write_raster(path, annotations.label_image(values="position"))


def write_class_masks(
    annotations: AnnotationSet, folder: str | Path, prefix: str = ""
) -> list[Path]:
    """One 8-bit PNG (0 or 255) per class, named `<prefix><class>.png`, for every class.

    Classes without objects get an empty mask, so batch scripts find the same files every time.
    Masks follow `class_image()`, so they do not overlap.
    """
    import imageio.v3 as iio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    classes = annotations.class_image()
    written = []
    for k, cls in enumerate(annotations.classes, start=1):
        path = folder / f"{prefix}{safe_file_name(cls.name)}.png"
        iio.imwrite(path, np.where(classes == k, 255, 0).astype(np.uint8))
        written.append(path)
    return written


def safe_file_name(name: str) -> str:
    """Class names are typed by users: keep them portable as file names."""
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("._") or "class"


# --- polygons ---------------------------------------------------------------------------------
def outer_contours(obj: AnnotatedObject, tolerance: float = 0.0) -> list[np.ndarray]:
    """The outer boundary of each 8-connected part as an (n, 2) array of image (x, y), largest
    first. Holes are filled.

    With `tolerance` 0 only collinear points are dropped (about two thirds of them), so the
    polygon rasterises back to exactly the same pixels. A positive `tolerance` (pixels)
    simplifies further (Douglas-Peucker; slow, and shaves pixels off objects of a few pixels).
    """
    parts, _ = ndimage.label(obj.mask, structure=np.ones((3, 3), dtype=bool))
    y0, x0 = obj.offset
    contours = []
    for value, found in enumerate(ndimage.find_objects(parts), start=1):
        part = ndimage.binary_fill_holes(parts[found] == value)
        # foreground 8-connected ("high"), background 4-connected, as binary_fill_holes assumes
        traced = find_contours(np.pad(part, 1), 0.5, fully_connected="high")
        closed = max(traced, key=len)  # the last point repeats the first
        rc = _drop_collinear(closed[:-1])
        if tolerance > 0:
            simple = approximate_polygon(closed, tolerance)[:-1]
            rc = simple if len(simple) >= 3 else rc
        # back to image coordinates: undo the pad, add the crop offsets
        xy = np.column_stack(
            (rc[:, 1] - 1 + found[1].start + x0, rc[:, 0] - 1 + found[0].start + y0)
        )
        contours.append(xy)
    return sorted(contours, key=lambda c: -_polygon_area(c))


def _drop_collinear(ring: np.ndarray) -> np.ndarray:
    """Remove vertices in the middle of straight runs of a closed ring (exact on the half-pixel
    grid of marching squares). Tips of one-pixel spurs, where the path turns back, stay.
    """
    before = ring - np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0) - ring
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    dot = (before * after).sum(axis=1)
    keep = (cross != 0) | (dot <= 0)
    return ring[keep] if keep.sum() >= 3 else ring


def _polygon_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


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


def write_coco(
    annotations: AnnotationSet,
    path: str | Path,
    image_file_name: str,
    segmentation: Literal["polygon", "rle"] = "polygon",
) -> Path:
    """COCO instance segmentation JSON for one image (readable by pycocotools, CVAT, ...)."""
    path = Path(path)
    height, width = annotations.shape
    category = {c.name: i for i, c in enumerate(annotations.classes, start=1)}
    records = []
    for obj in annotations.objects:
        x0, y0, x1, y1 = obj.bbox
        if segmentation == "rle":
            segm: list | dict = coco_rle(obj, annotations.shape)
        else:
            segm = [[round(float(v), 2) for v in c.ravel()] for c in outer_contours(obj)]
        record = {
            "id": obj.id,
            "image_id": 1,
            "category_id": category[obj.class_name],
            "segmentation": segm,
            "area": float(obj.area),
            "bbox": [x0, y0, x1 - x0, y1 - y0],
            "iscrowd": 0,
        }
        if obj.score is not None:
            record["score"] = obj.score
        records.append(record)
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


def write_imagej_rois(annotations: AnnotationSet, path: str | Path) -> Path:
    """An ImageJ/Fiji ROI-Manager .zip: one polygon per object, named `<class>-<id>`, drawn in
    the class colour. Each ROI is the outer contour of the object's largest part.
    """
    from roifile import ROI_TYPE, ImagejRoi, roiwrite

    path = Path(path)
    colours = {c.name: c.colour for c in annotations.classes}
    rois = []
    for obj in annotations.objects:
        xy = outer_contours(obj)[0] + 0.5  # ImageJ: (0, 0) is a pixel corner
        roi = ImagejRoi.frompoints(xy.astype(np.float32), name=f"{obj.class_name}-{obj.id:04d}")
        roi.roitype = ROI_TYPE.POLYGON
        r, g, b = colours[obj.class_name]
        roi.stroke_color = bytes((255, r, g, b))  # ARGB
        rois.append(roi)
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
    """One row per class: count, area, phase (area) fraction and number density."""
    rows = summary_rows(summarise(annotations), annotations.calibration)
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
