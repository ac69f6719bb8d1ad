"""Segment a list of prompted objects in one image: the CLI's `segment` and scripts use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from inference.imaging.micrograph import Micrograph


@dataclass(frozen=True)
class PromptedObject:
    index: int  # 0-based position in the prompts
    class_name: str
    mask: np.ndarray  # bool, image-sized
    score: float


def segment_objects(
    rgb: np.ndarray, objects: list[dict], model_id: str = "mobile_sam", model=None
) -> list[PromptedObject]:
    """Embed once, then decode each object's points and box; the best-scoring mask wins."""
    from inference.segmentation.prompts import PromptState
    from inference.segmentation.sam import SamModel

    model = model or SamModel(model_id)
    embedding = model.embed(rgb)
    results = []
    for i, obj in enumerate(objects):
        state = PromptState(rgb.shape[:2])
        for x, y, label in obj["points"]:
            state.add_point(x, y, label)  # one-line error for a point outside the image
        if obj.get("box") is not None:
            state.set_box(obj["box"])
        if state.empty:
            from inference.errors import MatLensError

            raise MatLensError(f"object {i + 1} has neither points nor a box")
        request = state.request()
        candidates = model.predict(
            embedding, list(request.points), box=request.box, multimask=request.multimask
        )
        best = max(candidates, key=lambda c: c.score)
        results.append(PromptedObject(i, obj.get("class", "object"), best.mask, float(best.score)))
    return results


def write_outputs(
    results: list[PromptedObject], micrograph: Micrograph, out: Path, labels: bool
) -> dict:
    """One object: a 0/255 mask PNG. Several (`labels`): uint16, object i has value i + 1."""
    out.parent.mkdir(parents=True, exist_ok=True)
    h, w = micrograph.shape
    if labels:
        image = np.zeros((h, w), dtype=np.uint16)
        for r in results:
            image[r.mask] = r.index + 1
    else:
        image = (results[0].mask.astype(np.uint8)) * np.uint8(255)
    if out.suffix.lower() in (".tif", ".tiff"):
        import tifffile

        tifffile.imwrite(out, image)
    else:
        iio.imwrite(out, image)
    cal = micrograph.calibration
    return {
        "image": str(micrograph.path) if micrograph.path else "",
        "out": str(out),
        "width": w,
        "height": h,
        "pixel_size": cal.pixel_size if cal.calibrated else None,
        "unit": cal.unit,
        "objects": [
            {
                "id": r.index + 1,
                "class": r.class_name,
                "area_px": int(r.mask.sum()),
                "area": float(cal.area(int(r.mask.sum()))),
                "area_unit": cal.area_unit,
                "score": round(r.score, 4),
            }
            for r in results
        ],
    }
