"""The log file: where library warnings and error details go instead of the user's terminal.

A command that fails prints exactly one line; what tifffile, numpy or rosettasciio had to say on
the way (warnings, their own log records) and the full traceback belong in `matlens.log`.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from inference.runtime.paths import log_dir

LOG_NAME = "matlens.log"


def log_file() -> Path:
    return log_dir() / LOG_NAME


def send_to_log_file() -> Path | None:
    """Route logging and `warnings` to matlens.log (once); None when no log folder is writable.

    Without a writable log, records are dropped rather than printed: the terminal gets only
    the command's own output.
    """
    root = logging.getLogger()
    try:
        path = log_file().resolve()
    except OSError:
        path = None
    for old in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
        if path is not None and Path(old.baseFilename) == path:
            return path
        root.removeHandler(old)
        old.close()
    handler: logging.Handler
    try:
        if path is None:
            raise OSError("no log folder")
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler, path = logging.NullHandler(), None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return path
