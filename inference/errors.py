"""Errors a person can read: one line that says what went wrong and what to do."""

from __future__ import annotations

import errno
import traceback
from dataclasses import dataclass


class MatLensError(Exception):
    """An expected failure with a one-line message for the user (bad file, missing model...)."""


class ModelUnavailable(MatLensError):  # noqa: N818 - a public name the whole app uses
    """A model file is missing or does not match its checksum."""


class UnreadableFile(MatLensError):  # noqa: N818 - a public name the whole app uses
    """A file could not be opened or parsed."""


class UnsupportedFormat(UnreadableFile):
    """Neither the file's first bytes nor its extension name a format the reader knows."""


class JobCancelled(Exception):  # noqa: N818 - a cancel is not an error
    """Raised inside a long job when the user pressed Cancel."""


@dataclass(frozen=True)
class ErrorReport:
    """What the GUI and the CLI show: a one-line message, plus details for the log."""

    message: str
    details: str


# Operating-system failures with a cause the user can act on (the rest stay "Unexpected").
_OS_MESSAGES = {
    errno.EROFS: "Cannot write {path}: it is on a read-only disk or share; choose another folder",
    errno.ENOSPC: "The disk is full: could not write {path}; free some space or choose another disk",
    errno.EDQUOT: "Your disk quota is used up: could not write {path}; free some space",
    errno.ENAMETOOLONG: "The file name is too long for this disk: {path}",
    errno.EISDIR: "{path} is a folder, not a file",
    errno.ENOTDIR: "A part of {path} is a file, not a folder",
    errno.EACCES: "Permission denied: {path}",
    errno.EPERM: "Permission denied: {path}",
}


def describe(exc: BaseException) -> ErrorReport:
    """Turn any exception into a one-line message (never a traceback) plus details."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, MatLensError):
        message = str(exc)
    elif isinstance(exc, FileNotFoundError):
        message = f"File not found: {exc.filename or exc}"
    elif isinstance(exc, PermissionError):
        message = f"Permission denied: {exc.filename or exc}"
    elif isinstance(exc, OSError) and exc.errno in _OS_MESSAGES:
        message = _OS_MESSAGES[exc.errno].format(path=exc.filename or exc.filename2 or "a file")
    elif isinstance(exc, MemoryError):
        message = "Not enough memory for this job. Try a smaller image or close other programs."
    else:
        text = str(exc).strip().splitlines()
        first = text[0] if text else ""
        message = (
            f"Unexpected error ({type(exc).__name__}): {first}"
            if first
            else (f"Unexpected error ({type(exc).__name__})")
        )
    return ErrorReport(message=" ".join(message.split())[:400], details=details)
