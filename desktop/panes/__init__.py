"""The panes of the main window. Each pane issue adds its class to `pane_types()`."""

from __future__ import annotations


def pane_types() -> list[type]:
    """Pane classes in tab order; imported here so the main window needs no pane knowledge."""
    from desktop.panes.literature.pane import LiteraturePane
    from desktop.panes.micrograph.pane import MicrographPane
    from desktop.panes.prediction.pane import PredictionPane
    from desktop.panes.structure.pane import StructurePane

    return [MicrographPane, StructurePane, LiteraturePane, PredictionPane]
