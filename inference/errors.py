"""Errors a person can read: one line that says what went wrong and what to do."""

from __future__ import annotations

import traceback
from dataclasses import dataclass


class MatLensError(Exception):
    """An expected failure with a one-line message for the user (bad file, missing model...)."""


class ModelUnavailable(MatLensError):
    """A model file is missing or does not match its checksum."""


class UnreadableFile(MatLensError):
    """A file could not be opened or parsed."""


class JobCancelled(Exception):
    """Raised inside a long job when the user pressed Cancel."""


@dataclass(frozen=True)
class ErrorReport:
    """What the GUI and the CLI show: a one-line message, plus details for the log."""

    message: str
    details: str


def describe(exc: BaseException) -> ErrorReport:
    """Turn any exception into a one-line message (never a traceback) plus details."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, MatLensError):
        message = str(exc)
    elif isinstance(exc, FileNotFoundError):
        message = f"File not found: {exc.filename or exc}"
    elif isinstance(exc, PermissionError):
        message = f"Permission denied: {exc.filename or exc}"
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
