"""Batches of micrographs, papers and structures, in this process or on a dask cluster.

One runner, three workloads. Each item (a file, or a slice of a CSV) is one task; its outputs
are committed atomically under a name derived from the item, so a rerun skips what is done
and a worker that dies loses nothing. The merged files (summary.csv, records.json/.csv,
predictions.json/.csv) are built from the per-item outputs, in input order, so they are the
same wherever the items ran.

    from inference.batch import Where, micrographs, run_workload
    report = run_workload(micrographs(recipe, "in/"), "out/", Where.local_workers(2))

`Where()` runs in this process (nothing to start), `Where.local_workers(n)` on n processes of
this machine, `Where.cluster("tcp://host:8786")` on a running `dask scheduler` with workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inference.batch._cache import keep_model, model_loads
from inference.batch._cluster import each_on_workers, papers_on_workers
from inference.batch._model import (
    MAX_TRIES,
    THIS_PROCESS,
    BatchProgress,
    BatchReport,
    Item,
    ItemEvent,
    ItemFailure,
    ItemOutput,
    ItemRetry,
    MergeResult,
    Where,
    Workload,
)
from inference.batch._papers import Papers
from inference.batch._predictions import Predictions, is_table
from inference.batch._run import run_workload
from inference.jobs import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:  # the segmentation stack loads only when a micrograph batch runs
    from collections.abc import Callable
    from pathlib import Path

    from inference.batch._micrographs import Micrographs
    from inference.segmentation.recipe import Recipe

__all__ = [
    "MAX_TRIES",
    "BatchProgress",
    "BatchReport",
    "Item",
    "ItemEvent",
    "ItemFailure",
    "ItemOutput",
    "ItemRetry",
    "MergeResult",
    "Where",
    "Workload",
    "each_on_workers",
    "papers_on_workers",
    "is_table",
    "micrographs",
    "model_loads",
    "papers",
    "predictions",
    "run_micrograph_batch",
    "run_workload",
]


def micrographs(recipe: Recipe, input_dir: str | Path) -> Micrographs:
    """A recipe over the micrographs of a folder (not its subfolders)."""
    from inference.batch._micrographs import Micrographs

    return Micrographs(recipe, str(input_dir))


def papers(folder: str | Path, *, ner: bool = False) -> Papers:
    """Every PDF of a folder and its subfolders: records, and the library's search index."""
    return Papers(str(folder), ner=ner)


def predictions(
    target: str | Path, *, relax: bool = False, eos: bool = False, rows_per_item: int = 500
) -> Predictions:
    """A folder of structures (CHGNet), or a CSV of compositions (the composition models)."""
    return Predictions(str(target), relax=relax, eos=eos, rows_per_item=rows_per_item)


def run_micrograph_batch(
    recipe: Recipe,
    input_dir: str | Path,
    out_dir: str | Path,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    where: Where = THIS_PROCESS,
    on_progress: Callable[[BatchProgress], None] | None = None,
    on_item: Callable[[ItemEvent], None] | None = None,
    model=None,
) -> BatchReport:
    """The Batch dialog's job: `recipe` over `input_dir` on this computer or a cluster.

    `model` is the pane's loaded SamModel, used when the items run in this process. The
    report has `.message`, `.failures` (each `.file`, `.reason`), `.cancelled` and `.outputs`
    (summary.csv first).
    """
    from inference.batch._micrographs import sam_model_id

    if model is not None and where.embedded:
        keep_model(sam_model_id(recipe), model)
    return run_workload(
        micrographs(recipe, input_dir),
        out_dir,
        where,
        progress,
        cancel,
        on_progress=on_progress,
        on_item=on_item,
    )
