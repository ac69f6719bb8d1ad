"""Models kept per process: a worker loads each ONNX model once, on its first item, and keeps it
for every later item (a dask worker is a long-lived process; so is the GUI)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

_lock = threading.Lock()
_models: dict[str, Any] = {}
_loads: Counter[str] = Counter()


def cached_model(model_id: str, load: Callable[[], T]) -> T:
    """The process's model `model_id`, loaded by `load()` the first time only."""
    with _lock:  # held while loading: two threads of one worker never load a model twice
        if model_id not in _models:
            _models[model_id] = load()
            _loads[model_id] += 1
        return _models[model_id]


def keep_model(model_id: str, model: Any) -> None:
    """Use an already loaded model (the GUI's) for `model_id` in this process."""
    with _lock:
        _models[model_id] = model


def model_loads() -> dict[str, int]:
    """How many times each model was loaded in this process (1 each, after any number of items)."""
    with _lock:
        return dict(_loads)
