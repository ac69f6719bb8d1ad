"""What `matlens batch`, `matlens extract FOLDER` and `matlens predict FOLDER_OR_CSV` share:
the --workers/--scheduler options, a progress bar on stderr, the report and the exit code
(0: every item done; 1: some failed or were left; 2: bad input, one line)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from inference.batch._model import BatchProgress, BatchReport, Where, Workload

BAR_WIDTH = 24


def add_where_options(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run on N worker processes of this computer (a local dask cluster)",
    )
    group.add_argument(
        "--scheduler",
        metavar="URL",
        help="run on a dask cluster: the address of its scheduler (tcp://HOST:8786)",
    )


def where_from(args) -> Where:
    from inference.errors import MatLensError

    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise MatLensError("--workers must be at least 1")
    return Where(workers=workers or 0, scheduler=getattr(args, "scheduler", None) or "")


class ProgressBar:
    """`[#####-----]  12/100 done · 1 failed · 3.2 items/s · 0:27 left` on stderr: redrawn in
    place on a terminal, a line every 10 % (or 30 s) otherwise."""

    def __init__(self, title: str, stream=None) -> None:
        self.title = title
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line = 0.0
        self._last_step = -1
        self._drawn = False

    def __call__(self, figures: BatchProgress) -> None:
        now = time.monotonic()
        line = self.render(figures)
        if self.tty:
            if now - self._last_line >= 0.2 or figures.finished == figures.total:
                self._last_line = now
                self.stream.write("\r" + line + "\x1b[K")
                self.stream.flush()
                self._drawn = True
            return
        step = int(figures.fraction * 10)
        if step != self._last_step or now - self._last_line >= 30:
            self._last_step, self._last_line = step, now
            self.stream.write(line + "\n")
            self.stream.flush()

    def render(self, figures: BatchProgress) -> str:
        filled = int(round(BAR_WIDTH * figures.fraction))
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{self.title} [{bar}] {figures.message}"

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def run_from_cli(workload: Workload, out_dir: str | Path, args, title: str) -> int:
    """Run `workload` as the command line asked; print the report; the exit code."""
    from inference.batch._run import run_workload
    from inference.cli import print_json

    where = where_from(args)
    bar = ProgressBar(title)  # on stderr: --json output on stdout stays clean
    try:
        report = run_workload(workload, out_dir, where, on_progress=bar)
    finally:
        bar.close()
    if getattr(args, "json", False):
        print_json(report.to_dict())
    else:
        print_report(report)
    return exit_code(report)


def print_report(report: BatchReport) -> None:
    print(report.message)
    for note in report.notes:
        print(f"  note: {note}")
    for retry in report.retried:
        print(
            f"  retried: {retry.file} (done on try {retry.tries}; the earlier tries' workers died)"
        )
    for failure in report.failures:
        # most reasons name their file already ("scan.pdf: no text layer …", "cut.tif is a
        # damaged TIFF file …"): not twice
        said = failure.reason.startswith(Path(failure.file).name)
        print(f"  failed: {failure.reason if said else f'{failure.file}: {failure.reason}'}")


def exit_code(report: BatchReport) -> int:
    return 0 if report.ok else 1


# --- the commands' batch forms ------------------------------------------------------------------
def extract_folder(args) -> int:
    """`matlens extract FOLDER --out OUT`: every PDF of the folder."""
    from inference.batch import papers
    from inference.errors import MatLensError

    if not args.out:
        raise MatLensError("a folder of papers needs --out OUT_DIR for the records and the index")
    if args.property or args.material or args.csv:
        raise MatLensError(
            "--property, --material and --csv are for one paper; a folder writes "
            "records.csv in --out (filter that)"
        )
    return run_from_cli(papers(args.paper, ner=args.ner), args.out, args, "extract")


def is_batch(args) -> bool:
    """`matlens predict` runs as a batch with --out, --workers or --scheduler, or for a CSV."""
    from inference.batch import is_table

    return bool(args.out or args.workers or args.scheduler or is_table(args.target))


def predict_batch(args) -> int:
    """`matlens predict FOLDER_OR_CSV --out OUT`: a folder of structures or a CSV."""
    from inference.batch import is_table, predictions
    from inference.errors import MatLensError

    if not args.out:
        what = "a CSV of compositions" if is_table(args.target) else "a batch"
        raise MatLensError(f"{what} needs --out OUT_DIR for the predictions")
    target = Path(args.target)
    if not (target.is_dir() or (is_table(target) and target.is_file())):
        if is_table(target):
            raise MatLensError(f"File not found: {target}")
        raise MatLensError(f"{target}: --out needs a folder of structures or a CSV of compositions")
    if is_table(target) and (args.relax or args.eos):
        raise MatLensError("--relax and --eos are for structures, not compositions")
    workload = predictions(target, relax=args.relax, eos=args.eos)
    return run_from_cli(workload, args.out, args, "predict")
