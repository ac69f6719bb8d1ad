"""An output never replaces a file the same job reads.

`matlens segment X.tif --out X.tif` wrote a 741-byte mask over the micrograph, `measure
--report` replaced the image with HTML and `extract --csv` the PDF with CSV, each exiting 0.
Every command and every pane export asks here first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from inference.errors import MatLensError

if TYPE_CHECKING:
    from collections.abc import Iterable


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (also through links and relative paths)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def refuse_writing_over(
    out: str | Path, reads: Iterable[str | Path | None], what: str = ""
) -> None:
    """Refuse, in one line, to write `out` (named `what`, e.g. "--csv") over a file in `reads`."""
    out = Path(out)
    for read in reads:
        if read is not None and same_file(out, Path(read)):
            name = f"{what} {out.name}" if what else out.name
            raise MatLensError(
                f"{name} is the input file itself: write to another file (it would be replaced)"
            )


def refuse_missing_folder(out: str | Path, what: str = "") -> None:
    """Refuse, in one line, an output whose folder is missing or is a file: "File not found:
    nodir/m.csv" named the file to be made as if it were wanted, and a file in the folder's
    place gave a Python error."""
    folder = Path(out).parent
    name = f"{what} {out}" if what else str(out)
    if folder.is_file():
        raise MatLensError(f"{name}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise MatLensError(f"{name}: folder not found: {folder} (make it first)")
