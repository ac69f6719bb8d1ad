"""What a batch run has done so far: counts per state, the manifest, and throttled reports.

Shared by the driver (`_run`) and the cluster loop (`_cluster`), which both record into it.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from inference.batch._model import (
    BatchProgress,
    Item,
    ItemEvent,
    ItemFailure,
    ItemResult,
    ItemRetry,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from inference.batch._store import OutputStore
    from inference.jobs import ProgressCallback

MANIFEST_EVERY = 2.0  # seconds between manifest writes (and lock refreshes) during a run
PROGRESS_EVERY = 0.1


class Tally:
    """What happened so far; tells the callers, throttled."""

    def __init__(
        self,
        items: list[Item],
        store: OutputStore,
        manifest: dict[str, Any],
        progress: ProgressCallback,
        on_progress: Callable[[BatchProgress], None] | None,
        on_item: Callable[[ItemEvent], None] | None,
    ) -> None:
        self.items = items
        self.store = store
        self.manifest = manifest
        self.states: dict[str, dict[str, Any]] = {i.name: {"state": "pending"} for i in items}
        self.done: list[str] = []
        self.skipped: list[str] = []
        self.failures: dict[str, ItemFailure] = {}
        self.retried: list[ItemRetry] = []
        self.models: dict[str, dict[str, int]] = {}  # worker: model: times loaded
        self.current = 0.0
        self.workers = 1
        self.started = time.perf_counter()
        self._progress, self._on_progress, self._on_item = progress, on_progress, on_item
        self._told = 0.0
        self._saved = 0.0
        self.by_name = {i.name: i for i in items}

    def skip(self, item: Item) -> None:
        self.skipped.append(item.label)
        self.states[item.name] = {"state": "done", "earlier": True}
        if self._on_item:
            self._on_item(ItemEvent(item.name, item.label, "skipped"))

    def record(self, item: Item, result: ItemResult) -> None:
        self.current = 0.0
        if result.models:
            self.models[result.worker] = dict(result.models)
        if result.state == "done":
            self.done.append(item.label)
            if result.tries > 1:
                self.retried.append(ItemRetry(item.label, result.tries))
            self.states[item.name] = {"state": "done", "tries": result.tries}
        elif result.state == "failed":
            self.failures[item.name] = ItemFailure(item.label, result.error, result.tries)
            self.states[item.name] = {"state": "failed", "error": result.error}
            if result.tries > 1:
                self.states[item.name]["tries"] = result.tries
        else:
            return
        if self._on_item:
            state = "done" if result.state == "done" else "failed"
            self._on_item(
                ItemEvent(item.name, item.label, state, result.error, result.tries, result.worker)
            )
        self.tell(force=True)

    def start_clock(self) -> None:
        """The rate counts from when the items are handed out (not from a cluster's start)."""
        self.started = time.perf_counter()

    def figures(self) -> BatchProgress:
        return BatchProgress(
            total=len(self.items),
            done=len(self.done),
            skipped=len(self.skipped),
            failed=len(self.failures),
            elapsed=time.perf_counter() - self.started,
            current=self.current,
            workers=self.workers,
        )

    def tell(self, message: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if force or now - self._told >= PROGRESS_EVERY:
            self._told = now
            figures = self.figures()
            self._progress(figures.fraction, message or figures.message)
            if self._on_progress:
                self._on_progress(figures)
        if now - self._saved >= MANIFEST_EVERY:
            self.save()

    def save(self, final: bool = False) -> None:
        self._saved = time.perf_counter()
        self.manifest["items"] = [
            {"name": i.name, "label": i.label, **self.states[i.name]} for i in self.items
        ]
        self.manifest["updated"] = dt.datetime.now().isoformat(timespec="seconds")
        self.manifest["running"] = not final
        self.store.write_manifest(self.manifest)
        self.store.refresh_lock()
