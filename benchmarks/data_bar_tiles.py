"""What leaving an FEI data bar out costs Segment everything on a large image in the pane.

Above 2048 px the pane's click session holds SAM embeddings of tiles of the whole image. With a
data bar, `workflows.auto_masks` segments the rows above it (`data_bar.specimen`), whose tile
layout differs from the whole image's (the tiles are spread evenly over fewer rows), so the
click session's tiles are not handed over: every tile of the crop goes through
`SamModel.embed`. A tile whose window and pixels are the same as a click tile's (the first tile
row, when both layouts have as many rows) comes from the embedding disk cache the click session
filled; the others are new pixels, and only a different tile layout (different masks) could
reuse anything for them.

This script measures that on a synthetic 4096 × 3072 FEI-like file: the real FEI Helios
file's tags (rosettasciio's test file in shared/data; `tests/fei_like.py`) with the superalloy
sample mirrored out to the specimen's size (plus faint noise, so no two tiles are the same
pixels), and the Helios data bar stretched to 232 rows (29 rows at 512 px wide, × 8). Steps, as
the pane runs them, with a fresh embedding cache:

1. the click session (whole image + every tile embedded, as on opening),
2. Segment everything with the data bar left out (today's path), counting encoder runs and
   their time (`SamModel.embed` calls not answered from the cache),
3. for reference, Segment everything on the whole image reusing the click session (no encoder
   run; other masks, since it also segments the bar): the decoding and stitching alone.

On the 2-core build machine, shared with other jobs (2026-12-07, default AutoParams): 20 tiles
(4 × 5) both ways, 5 of them (the top row) the same windows. 1: 21 encoder runs, 21.4 s.
2: 151.7 s, 2143 masks, 15 encoder runs taking 17.0 s (11 %, 1.13 s each; the 5 top tiles came
from the cache). 3: 102.6 s, 1769 masks. So reusing every embedding would make step 2 at most
1.13× faster, and the only tiles that give today's masks from the click session's embeddings
(the same windows) are already reused, through the disk cache.

    nice -n 10 .venv/bin/python benchmarks/data_bar_tiles.py [--width 4096 --height 3072]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def specimen(rows: int, columns: int) -> np.ndarray:
    """The superalloy sample (512² px, grey) mirrored out to rows × columns, with a little
    noise (σ 2 grey levels) so that no two tiles have the same pixels (the cache would answer)."""
    import tifffile

    from inference.runtime.paths import samples_dir

    grey = tifffile.imread(samples_dir() / "superalloy_precipitates.tif").mean(axis=2)
    reps = (-(-rows // grey.shape[0]), -(-columns // grey.shape[1]))
    tiles = [
        [grey[:: 1 - 2 * (r % 2), :: 1 - 2 * (c % 2)] for c in range(reps[1])]
        for r in range(reps[0])
    ]
    noise = np.random.default_rng(0).normal(0, 2, (rows, columns))
    return np.clip(np.block(tiles)[:rows, :columns] + noise, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--height", type=int, default=3072)
    parser.add_argument("--bar", type=int, default=232, help="data bar rows")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ["MATLENS_CACHE"] = str(Path(folder) / "cache")  # fresh: every tile is new
        from fei_like import HELIOS_PARTS, write_fei_like

        from inference.jobs import no_progress
        from inference.segmentation.automatic import AutoParams
        from inference.segmentation.sam import SamModel
        from inference.segmentation.tiling import TileLayout
        from inference.segmentation.workflows import auto_masks, embed_for_clicks, load_image

        shared = Path(os.environ.get("MATLENS_SHARED_DATA", ROOT.parent / "shared" / "data"))
        path = write_fei_like(
            shared.joinpath(*HELIOS_PARTS),
            Path(folder) / "fei_like.tif",
            specimen(args.height - args.bar, args.width),
            args.bar,
        )
        loaded = load_image(path, saved=False)
        bar = loaded.micrograph.data_bar_rows
        assert bar == args.bar, bar
        h, w = loaded.shape
        whole = TileLayout.for_image((h, w))
        crop = TileLayout.for_image((h - bar, w))
        same = {t.window for t in whole.tiles} & {t.window for t in crop.tiles}
        print(f"{w} × {h} px, data bar {bar} rows; tiles: whole image {whole.grid} =", end=" ")
        print(f"{len(whole.tiles)}, specimen {crop.grid} = {len(crop.tiles)},", end=" ")
        print(f"{len(same)} of them the same window (and pixels) as a click tile")

        model = SamModel()
        encoder_runs: list[float] = []
        embed = model.embed

        def timed_embed(image, progress=no_progress, cancel=None):
            start = time.perf_counter()
            out = embed(image, progress, cancel)
            if not out.from_cache:
                encoder_runs.append(time.perf_counter() - start)
            return out

        model.embed = timed_embed  # type: ignore[method-assign]
        model.device  # noqa: B018 - opens the sessions: not part of the image's cost

        start = time.perf_counter()
        clicks = embed_for_clicks(model, loaded.rgb)
        opened = time.perf_counter() - start
        print(f"1. click session: {len(encoder_runs)} encoder runs, {opened:.1f} s")

        params = AutoParams()
        encoder_runs.clear()
        start = time.perf_counter()
        with_bar = auto_masks(model, loaded.rgb, params, clicks, data_bar_rows=bar)
        today = time.perf_counter() - start
        encoding = sum(encoder_runs)
        print(
            f"2. Segment everything, data bar left out (today): {today:.1f} s, "
            f"{len(with_bar.masks)} masks; {len(encoder_runs)} encoder runs, {encoding:.1f} s "
            f"({encoding / today:.0%} of it, {encoding / max(len(encoder_runs), 1):.2f} s each)"
        )

        encoder_runs.clear()
        start = time.perf_counter()
        reused = auto_masks(model, loaded.rgb, params, clicks)
        reference = time.perf_counter() - start
        print(
            f"3. reference, whole image reusing the click tiles: {reference:.1f} s, "
            f"{len(reused.masks)} masks, {len(encoder_runs)} encoder runs"
        )
        print(
            f"today / (today - encoder time) = {today / max(today - encoding, 1e-9):.2f}: "
            "the most any reuse of embeddings could speed up step 2"
        )


if __name__ == "__main__":
    main()
