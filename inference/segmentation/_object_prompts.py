"""Object-aware prompts for segment everything: where a cheap detector says objects are.

MobileSAMv2's idea (prompt where objects are instead of everywhere) with a detector that needs no
model: scale-normalised Laplacian-of-Gaussian blobs (Lindeberg) on the grey image shrunk to at
most `work` px, bright and dark alike. Each blob's centre is one prompt; blobs closer than
`spacing` x their scale to a stronger one are dropped. On SEM micrographs the blobs sit on the
precipitates, pores and oxide islands that a blind grid hits only by chance. Costs ~0.1 s.
"""

from __future__ import annotations

import numpy as np

SIGMAS = (2.0, 4.0, 8.0)  # blob scales in `work`-sized pixels: objects ~6-30 px across there


def blob_prompts(
    image: np.ndarray,
    threshold: float = 0.2,
    sigmas: tuple[float, ...] = SIGMAS,
    work: int = 512,
    spacing: float = 1.5,
    limit: int | None = None,
) -> np.ndarray:
    """Blob centres of a grey or RGB image as (x, y) image pixels, [n, 2] float, strongest
    first, at most `limit`. `threshold` is the scale-normalised LoG response on the image
    stretched to 0..1 (1st to 99th percentile)."""
    from scipy import ndimage as ndi
    from scipy.spatial import KDTree

    grey = np.asarray(image, np.float32)
    if grey.ndim == 3:
        grey = grey[:, :, :3].mean(axis=2)
    if min(grey.shape) < 2:
        return np.zeros((0, 2))
    factor = min(1.0, work / max(grey.shape))
    if factor < 1.0:
        grey = np.asarray(ndi.zoom(grey, factor, order=1), np.float32)
    lo, hi = np.percentile(grey, [1.0, 99.0])
    grey = (grey - lo) / max(float(hi - lo), 1e-6)
    response = np.abs(np.stack([-(s * s) * ndi.gaussian_laplace(grey, s) for s in sigmas]))
    window = (2 * len(sigmas) + 1, 5, 5)  # a peak over its scale neighbours and 5x5 pixels
    peaks = (response == ndi.maximum_filter(response, size=window, mode="nearest")) & (
        response > threshold
    )
    scale, y, x = np.nonzero(peaks)
    order = np.argsort(-response[scale, y, x], kind="stable")
    scale, y, x = scale[order], y[order], x[order]
    if x.size:
        xy = np.stack([x, y], axis=1).astype(np.float64)
        tree = KDTree(xy)
        radius = spacing * np.asarray(sigmas)[scale]
        keep = np.ones(len(xy), bool)
        for i in range(len(xy)):
            if keep[i]:
                for j in tree.query_ball_point(xy[i], radius[i]):
                    if j > i:
                        keep[j] = False
        x, y = x[keep][:limit], y[keep][:limit]
    return (np.stack([x, y], axis=1).astype(np.float64) + 0.5) / factor
