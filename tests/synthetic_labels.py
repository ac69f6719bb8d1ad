"""Large synthetic label images for memory tests and benchmarks, made in row-free windows.

Objects are discs of 6 to 40 px radius, one per 40,000 px², numbered 1..N in a uint16 image;
every 7th has a hole and every 11th a second, detached part, so exports meet holes and
several parts. The micrograph beside it is a plain uint8 image of the same size (`matlens
measure` needs one for its size and calibration).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PER_OBJECT_PX = 40_000


def label_image(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = min(size * size // PER_OBJECT_PX, 65535)
    labels = np.zeros((size, size), np.uint16)
    centres = rng.uniform(0, size, (n, 2))
    radii = rng.uniform(6, 40, n)
    for k, ((cy, cx), r) in enumerate(zip(centres, radii, strict=True), start=1):
        y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, size)
        x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, size)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        disc = d2 <= r * r
        if k % 7 == 0:
            disc &= d2 > (r / 3) ** 2  # a hole in the middle
        labels[y0:y1, x0:x1][disc] = k
        if k % 11 == 0 and x1 + 12 < size:  # a detached second part to the right
            labels[y0 : y0 + 4, x1 + 4 : x1 + 12] = k
    return labels


def write_pair(folder: Path, size: int, seed: int = 0) -> tuple[Path, Path]:
    """(micrograph.tif, labels.tif) of `size` × `size` pixels in `folder`."""
    import tifffile

    labels = label_image(size, seed)
    image = np.where(labels > 0, 200, 60).astype(np.uint8)
    micrograph, label_path = folder / f"micrograph_{size}.tif", folder / f"labels_{size}.tif"
    tifffile.imwrite(micrograph, image, compression="zlib")
    del image
    tifffile.imwrite(label_path, labels, compression="zlib")
    return micrograph, label_path


if __name__ == "__main__":
    import sys

    write_pair(Path(sys.argv[1]), int(sys.argv[2]))
