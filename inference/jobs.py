"""What a long job receives: a progress callback and a cancel token. No Qt here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from inference.errors import JobCancelled


class ProgressCallback(Protocol):
    def __call__(self, fraction: float, message: str = "", /) -> None: ...


def no_progress(fraction: float, message: str = "") -> None:
    """Default progress sink for scripts and tests."""


class CancelToken:
    """Set by the GUI thread, checked by the job between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


JobFunction = Callable[..., object]
